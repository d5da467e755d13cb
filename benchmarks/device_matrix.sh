#!/usr/bin/env bash
# The benchmark matrix on a lent GPU machine (see docs/benchmarks.md for how it is run):
#   bandwidth, then rwkv-gpu-bench model (pp512 / tg128, median of 5) for random models at the
#   0.1B, 1.5B and 2.9B shapes in F16, Q8_0 and Q4_K. Results: one JSON line each in $OUT/results.jsonl.
# Needs, carried with the call: .gl (libvulkan1 .deb), .whl (the gguf wheel), .bench/rwkv-gpu-bench.
set -euo pipefail
OUT=${OUT:-/tmp/out}
SIZES=${SIZES:-"0.1b 1.5b 2.9b"}
DTYPES=${DTYPES:-"f16 q8_0 q4_k"}
REPS=${REPS:-5}
source benchmarks/device_setup.sh
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.memory --format=csv | tee "$OUT/gpu.txt"
BENCH=.bench/rwkv-gpu-bench
$BENCH devices | tee "$OUT/devices.json"
$BENCH bandwidth 2048 | tee -a "$OUT/results.jsonl"
for size in $SIZES; do
  for dtype in $DTYPES; do
    python3 benchmarks/make_model.py --size "$size" --dtype "$dtype" --out /tmp/m.gguf
    $BENCH model /tmp/m.gguf -p 512 -n 128 -r "$REPS" | sed "s|\"/tmp/m.gguf\"|\"$size-$dtype\"|" | tee -a "$OUT/results.jsonl"
    rm -f /tmp/m.gguf
  done
done
$BENCH bandwidth 2048 | tee -a "$OUT/results.jsonl"
