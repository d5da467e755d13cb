#!/usr/bin/env bash
# The benchmark matrix on a lent GPU machine (see docs/benchmarks.md for how it is run):
#   bandwidth, then rwkv-gpu-bench model (pp512 / tg128, median of 5) for random models at the
#   0.1B, 1.5B and 2.9B shapes in F16, Q8_0 and Q4_K, in each precision of PRECISIONS, and with
#   each RWKV_GPU_MATMUL value of KERNELS ("" = the selection table; e.g. "coopmat:64x64x32x32"
#   to time a tile) and each RWKV_GPU_WKV value of WKVS ("" = the table; "sequential" or
#   "chunked"), for each benchmark binary of BENCHES (default .bench/rwkv-gpu-bench; several
#   compare kernel versions on the same files in one call). BENCH_ARGS: more arguments for
#   each run (e.g. "--dispatches": every dispatch of the profiled prompt in order). Results: one
#   JSON line each in $OUT/results.jsonl ("bench": the binary's name).
# LLAMA=1 also builds llama.cpp's llama-bench (CUDA, sm_90) from .llcpp first and runs it on each
#   model file right after our rows (same -p/-n/-r): its JSON lines go to results.jsonl too, with
#   "benchmark": "llama-bench", "engine": "llama.cpp" and "model": size-dtype added (report.py puts
#   them beside ours). If that build fails or runs past LLAMA_BUILD_TIMEOUT, only our engine runs.
#   A build left in /tmp/llbuild by an earlier call on the same (still warm) machine is reused, so
#   LLAMA=1 SIZES=" " can build in one call and the matrix run in the next.
# Needs, carried with the call: .gl, .whl, .bench (benchmarks/device_carry.sh fills them); with
#   LLAMA=1 also .llcpp.
set -euo pipefail
OUT=${OUT:-/tmp/out}
SIZES=${SIZES:-"0.1b 1.5b 2.9b"}
DTYPES=${DTYPES:-"f16 q8_0 q4_k"}
REPS=${REPS:-5}
PP=${PP:-512}
TG=${TG:-128}
PRECISIONS=${PRECISIONS:-"fast exact"}
KERNELS=${KERNELS:-""}
WKVS=${WKVS:-""}
BENCHES=${BENCHES:-.bench/rwkv-gpu-bench}
LLAMA=${LLAMA:-0}
LLAMA_BUILD_TIMEOUT=${LLAMA_BUILD_TIMEOUT:-420}
source benchmarks/device_setup.sh
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.memory --format=csv | tee "$OUT/gpu.txt"
LLAMA_BENCH=""
build_llama_bench() {  # builds /tmp/llbuild/bin/llama-bench; log in $OUT/llama_build.log
  local src=/tmp/llsrc/llama_cpp_python-0.3.36/vendor/llama.cpp t0=$SECONDS gen=() rc
  rm -rf /tmp/llsrc /tmp/llbuild && mkdir -p /tmp/llsrc && tar xzf .llcpp/llama.cpp-src.tgz -C /tmp/llsrc || return 1
  [ -x /usr/local/cuda/bin/nvcc ] && export PATH=/usr/local/cuda/bin:$PATH
  command -v ninja >/dev/null && gen=(-G Ninja)
  # GGML_CUDA_FA=OFF compiles the FlashAttention kernels out (RWKV has no attention), the
  # biggest cut in CUDA compile time; one FA vector type pair keeps that file count small too.
  # GGML_NATIVE=OFF: x86-64-v3 CPU code without AMX (with -march=native on an AMX Xeon, this
  # version's AMX matmul segfaulted on our Q8_0 and Q4_K files; -ngl 99 leaves the CPU no matmuls).
  cmake -S "$src" -B /tmp/llbuild "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_BUILD_COMMIT="$(head -c 12 "$src/BUILD_COMMIT" 2>/dev/null || echo unknown)" \
    -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DGGML_CUDA_FA=OFF -DGGML_CUDA_FA_QUANTS=f16-f16 \
    -DGGML_CUDA_NCCL=OFF -DGGML_CUDA_COMPRESSION_MODE=speed -DGGML_CCACHE=OFF -DGGML_NATIVE=OFF \
    -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_TOOLS=ON >"$OUT/llama_build.log" 2>&1 &&
  timeout "$LLAMA_BUILD_TIMEOUT" cmake --build /tmp/llbuild --target llama-bench -j 16 >>"$OUT/llama_build.log" 2>&1
  rc=$?
  echo "llama-bench build: exit $rc after $((SECONDS - t0)) s (timeout ${LLAMA_BUILD_TIMEOUT} s; log: llama_build.log)"
  [ $rc = 0 ] && [ -x /tmp/llbuild/bin/llama-bench ]
}
if [ "$LLAMA" = 1 ]; then
  if [ -x /tmp/llbuild/bin/llama-bench ] && [ "${LLAMA_REBUILD:-0}" != 1 ]; then
    echo "llama-bench: reusing /tmp/llbuild/bin/llama-bench from an earlier call on this machine (LLAMA_REBUILD=1 rebuilds)"
    LLAMA_BENCH=/tmp/llbuild/bin/llama-bench
  elif build_llama_bench; then
    LLAMA_BENCH=/tmp/llbuild/bin/llama-bench
  else
    tail -20 "$OUT/llama_build.log" || true
    echo "LLAMA=1: llama-bench did not build (failed or timed out): llama.cpp is left out, our engine only" | tee "$OUT/llama_skipped.txt"
  fi
fi
BENCH=.bench/rwkv-gpu-bench
$BENCH devices | tee "$OUT/devices.json"
$BENCH bandwidth 2048 | tee -a "$OUT/results.jsonl"
for size in $SIZES; do
  for dtype in $DTYPES; do
    python3 benchmarks/make_model.py --size "$size" --dtype "$dtype" --out /tmp/m.gguf
    for precision in $PRECISIONS; do
      for kernel in ${KERNELS:-table}; do
        for wkv in ${WKVS:-table}; do
          for pp in $PP; do
            for bench in $BENCHES; do
              [ "$precision" = exact ] && [ "$kernel" != table ] && continue  # forced kernels are timed in fast
              [ "$kernel" = table ] && unset RWKV_GPU_MATMUL || export RWKV_GPU_MATMUL=$kernel
              [ "$wkv" = table ] && unset RWKV_GPU_WKV || export RWKV_GPU_WKV=$wkv
              $bench model /tmp/m.gguf -p "$pp" -n "$TG" -r "$REPS" --precision "$precision" ${BENCH_ARGS:-} |
                sed "s|\"/tmp/m.gguf\"|\"$size-$dtype\", \"matmul\": \"$kernel\", \"wkv\": \"$wkv\", \"bench\": \"$(basename "$bench")\"|" |
                tee -a "$OUT/results.jsonl"
            done
          done
        done
      done
    done
    unset RWKV_GPU_MATMUL RWKV_GPU_WKV
    if [ -n "$LLAMA_BENCH" ]; then  # one run per model: llama.cpp has no precision setting
      timeout 300 "$LLAMA_BENCH" -m /tmp/m.gguf -ngl 99 -p "$(echo $PP | tr " " ,)" -n "$TG" -r "$REPS" -o jsonl 2>>"$OUT/llama_bench.log" |
        grep '^{' | sed "s|^{|{\"benchmark\": \"llama-bench\", \"engine\": \"llama.cpp\", \"model\": \"$size-$dtype\", |" |
        tee -a "$OUT/results.jsonl" || echo "llama-bench failed on $size-$dtype (see llama_bench.log)"
    fi
    rm -f /tmp/m.gguf
  done
done
$BENCH bandwidth 2048 | tee -a "$OUT/results.jsonl"
