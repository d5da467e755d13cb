#!/usr/bin/env bash
# Builds the Python package on a lent GPU machine and runs benchmarks/embed_bench.py on random
# models at the 0.1B and 2.9B shapes (EMBED_ARGS: more arguments, e.g. "--chunk-tokens 512,default").
# Carry: .gl, .vkdev, .whl (see device_setup.sh).
# Results: $OUT/embed.jsonl.
set -euo pipefail
OUT=${OUT:-/tmp/out}
SIZES=${SIZES:-"0.1b 2.9b"}
DTYPE=${DTYPE:-f16}
BUILD_PACKAGE=1 source benchmarks/device_setup.sh
for size in $SIZES; do
  python3 benchmarks/make_model.py --size "$size" --dtype "$DTYPE" --out "/tmp/$size.gguf"
  python3 benchmarks/embed_bench.py "/tmp/$size.gguf" ${EMBED_ARGS:-} | sed "s|/tmp/$size.gguf|$size-$DTYPE|" | tee -a "$OUT/embed.jsonl"
done
