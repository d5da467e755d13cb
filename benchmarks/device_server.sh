#!/usr/bin/env bash
# rwkv-gpu serve under load (benchmarks/server_load.py: streaming completions from many clients at
# once, loopback) on a lent GPU machine, on random models at the SIZES shapes. LOADS: requests:clients
# pairs; TOKENS: max_tokens of each request. Carry: .gl .vkdev .whl .srv (the server's and the
# openai client's wheels, benchmarks/device_carry.sh). Model files: BENCH_MODEL_DIR/random-SIZE-DTYPE.gguf,
# written here unless another script of the call writes them (device_backends.sh: then waited for).
# Results: $OUT/server_load.jsonl.
set -euo pipefail
OUT=${OUT:-/tmp/out}
SIZES=${SIZES:-"0.1b 2.9b"}
DTYPE=${DTYPE:-f16}
LOADS=${LOADS:-"64:16 256:64"}
TOKENS=${TOKENS:-128}
BUILD_PACKAGE=1 source benchmarks/device_setup.sh
python3 -m pip install -q --upgrade --no-index --no-deps --no-compile --target /tmp/site .srv/*.whl
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
