#!/usr/bin/env bash
# Builds the Python package on a lent GPU machine and runs benchmarks/generate_bench.py (flat
# per-token decode over 2000 tokens, generate_batch throughput at B = 1, 8, 64) on random models at
# the 0.1B, 1.5B and 2.9B shapes (GEN_ARGS: more arguments, e.g. "--tokens 128 --batches 64").
# Carry: .gl, .vkdev, .whl (see device_setup.sh).
# Results: $OUT/generate.jsonl.
set -euo pipefail
OUT=${OUT:-/tmp/out}
SIZES=${SIZES:-"0.1b 1.5b 2.9b"}
DTYPE=${DTYPE:-f16}
BUILD_PACKAGE=1 source benchmarks/device_setup.sh
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$OUT/gpu.txt" || true
for size in $SIZES; do
  python3 benchmarks/make_model.py --size "$size" --dtype "$DTYPE" --out "/tmp/$size.gguf"
  python3 benchmarks/generate_bench.py "/tmp/$size.gguf" --label "$size-$DTYPE" ${GEN_ARGS:-} | tee -a "$OUT/generate.jsonl"
done
