#!/usr/bin/env bash
# The benchmark matrix on a lent GPU machine (see docs/benchmarks.md for how it is run):
#   bandwidth, then rwkv-gpu-bench model (pp512 / tg128, median of 5) for random models at the
#   0.1B, 1.5B and 2.9B shapes in F16, Q8_0 and Q4_K, in each precision of PRECISIONS, and with
#   each RWKV_GPU_MATMUL value of KERNELS ("" = the selection table; e.g. "coopmat:64x64x32x32"
#   to time a tile). Results: one JSON line each in $OUT/results.jsonl.
# Needs, carried with the call: .gl, .whl, .bench (benchmarks/device_carry.sh fills them).
set -euo pipefail
OUT=${OUT:-/tmp/out}
SIZES=${SIZES:-"0.1b 1.5b 2.9b"}
DTYPES=${DTYPES:-"f16 q8_0 q4_k"}
REPS=${REPS:-5}
PP=${PP:-512}
TG=${TG:-128}
PRECISIONS=${PRECISIONS:-"fast exact"}
KERNELS=${KERNELS:-""}
source benchmarks/device_setup.sh
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.memory --format=csv | tee "$OUT/gpu.txt"
BENCH=.bench/rwkv-gpu-bench
$BENCH devices | tee "$OUT/devices.json"
$BENCH bandwidth 2048 | tee -a "$OUT/results.jsonl"
for size in $SIZES; do
  for dtype in $DTYPES; do
    python3 benchmarks/make_model.py --size "$size" --dtype "$dtype" --out /tmp/m.gguf
    for precision in $PRECISIONS; do
      for kernel in ${KERNELS:-table}; do
        for pp in $PP; do
          [ "$precision" = exact ] && [ "$kernel" != table ] && continue  # forced kernels are timed in fast
          [ "$kernel" = table ] && unset RWKV_GPU_MATMUL || export RWKV_GPU_MATMUL=$kernel
          $BENCH model /tmp/m.gguf -p "$pp" -n "$TG" -r "$REPS" --precision "$precision" |
            sed "s|\"/tmp/m.gguf\"|\"$size-$dtype\", \"matmul\": \"$kernel\"|" | tee -a "$OUT/results.jsonl"
        done
      done
    done
    unset RWKV_GPU_MATMUL
    rm -f /tmp/m.gguf
  done
done
$BENCH bandwidth 2048 | tee -a "$OUT/results.jsonl"
