#!/usr/bin/env bash
# rwkv-gpu serve under load (benchmarks/server_load.py: streaming completions from many clients at
# once, loopback) on a lent GPU machine, on random models at the SIZES shapes. LOADS: requests:clients
# pairs; TOKENS: max_tokens of each request. Carry: .gl .vkdev .whl .srv (the server's and the
# openai client's wheels, benchmarks/device_carry.sh). Model files: BENCH_MODEL_DIR/random-SIZE-DTYPE.gguf,
# written here unless another script of the call writes them (device_backends.sh: then waited for).
# PEER=llama-cpp-python also builds llama-cpp-python (CUDA; carry .llcpp) while ours runs and then
# puts its server (python -m llama_cpp.server, all layers offloaded; --interrupt_requests False:
# by default each new request cuts the one streaming, so most ended after a few tokens) under the
# same loads.
# Results: $OUT/server_load.jsonl.
set -euo pipefail
OUT=${OUT:-/tmp/out}
SIZES=${SIZES:-"0.1b 2.9b"}
DTYPE=${DTYPE:-f16}
LOADS=${LOADS:-"64:16 256:64"}
TOKENS=${TOKENS:-128}
PEER=${PEER:-}
BUILD_PACKAGE=1 source benchmarks/device_setup.sh
python3 -m pip install -q --upgrade --no-index --no-deps --no-compile --target /tmp/site .srv/*.whl
if [ "$PEER" = llama-cpp-python ]; then
  ( renice -n 15 -p $BASHPID >/dev/null; build_llama_cpp_python ) >"$OUT/llama_build.log" 2>&1 &
  llama_build=$!
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt" || true
dir=${BENCH_MODEL_DIR:-/tmp/models}
mkdir -p "$dir"
for size in $SIZES; do
  f=$dir/random-$size-$DTYPE.gguf
  for _ in $(seq 300); do [ -f "$f.part" ] || break; sleep 1; done
  [ -f "$f" ] || python3 benchmarks/make_model.py --size "$size" --dtype "$DTYPE" --out "$f"
  for load in $LOADS; do
    python3 benchmarks/server_load.py --model "$f" --label "rwkv_gpu-$size-$DTYPE" --requests "${load%%:*}" \
      --concurrency "${load##*:}" --max-tokens "$TOKENS" --timeout 240 | tee -a "$OUT/server_load.jsonl"
  done
done
if [ "$PEER" = llama-cpp-python ] && wait $llama_build; then
  for size in $SIZES; do
    f=$dir/random-$size-$DTYPE.gguf
    PYTHONPATH=/tmp/site-llama:$PYTHONPATH python3 -m llama_cpp.server --model "$f" --n_gpu_layers -1 --n_ctx 4096 \
      --interrupt_requests False --port 8081 >"$OUT/llama_server-$size.log" 2>&1 &
    peer=$!
    for _ in $(seq 120); do curl -sf http://127.0.0.1:8081/v1/models >/dev/null && break; sleep 1; done
    for load in $LOADS; do
      python3 benchmarks/server_load.py --base-url http://127.0.0.1:8081/v1 --label "llama-cpp-python-$size-$DTYPE" \
        --requests "${load%%:*}" --concurrency "${load##*:}" --max-tokens "$TOKENS" --timeout 240 | tee -a "$OUT/server_load.jsonl"
    done
    kill $peer; wait $peer 2>/dev/null || true
  done
fi
