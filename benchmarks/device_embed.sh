#!/usr/bin/env bash
# Builds the Python package on a lent GPU machine and runs benchmarks/embed_bench.py on random
# models at the 0.1B and 2.9B shapes (EMBED_ARGS: more arguments, e.g. "--chunk-tokens 512,default").
# FLA=1: flash-linear-attention runs the same workloads on the same files in the same call
# (embed_bench.py --fla); its Triton cache comes from .triton when carried and goes back as
# $OUT/triton-cache.tar.xz.partNN.
# Carry: .gl, .vkdev, .whl (see device_setup.sh); with FLA=1 also .triton.
# Results: $OUT/embed.jsonl.
set -euo pipefail
OUT=${OUT:-/tmp/out}
SIZES=${SIZES:-"0.1b 2.9b"}
DTYPE=${DTYPE:-f16}
FLA=${FLA:-0}
BUILD_PACKAGE=1 source benchmarks/device_setup.sh
args=(${EMBED_ARGS:-})
if [ "$FLA" = 1 ]; then
  args+=(--fla)
  if ls .triton/triton-cache.tar.xz.part* >/dev/null 2>&1; then triton_cache unpack .triton/triton-cache.tar.xz "$KERNEL_CACHE"; fi
  trap save_triton_cache EXIT
fi
for size in $SIZES; do
  python3 benchmarks/make_model.py --size "$size" --dtype "$DTYPE" --out "/tmp/$size.gguf"
  python3 benchmarks/embed_bench.py "/tmp/$size.gguf" "${args[@]}" | sed "s|/tmp/$size.gguf|$size-$DTYPE|" | tee -a "$OUT/embed.jsonl"
done
