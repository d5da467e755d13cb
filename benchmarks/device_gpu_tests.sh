#!/usr/bin/env bash
# The GPU suite on a lent GPU machine (benchmarks/device_carry.sh fills the carried folders):
# the cooperative-matrix kernel tests (.bench/rwkv_gpu_tests, built here: `ctest -L gpu`'s binary)
# and `pytest -m gpu` (the whole model in fast precision) on the package built there.
# Carry: .gl, .vkdev, .whl, .bench. Results: $OUT/gpu_tests.txt, $OUT/pytest_gpu.txt,
# $OUT/errors.jsonl (the measured errors), $OUT/gpu.txt.
set -uo pipefail
OUT=${OUT:-/tmp/out}
BUILD_PACKAGE=1 source benchmarks/device_setup.sh
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
date -u +%FT%TZ | tee -a "$OUT/gpu.txt"
RWKV_SHARED_MODELS=$PWD/.bench .bench/rwkv_gpu_tests >"$OUT/gpu_tests.txt" 2>&1
echo "rwkv_gpu_tests exit $?"
grep -E "^\[  (PASSED|FAILED) |tests? from .* ran|^\[  FAILED" "$OUT/gpu_tests.txt" | head -20
grep "coopmat max error" "$OUT/gpu_tests.txt" | awk '{print $NF, $0}' | sort -g | tail -3 | cut -d" " -f2-  # the largest three
# The WKV kernels against the float64 reference (every row width the GPU takes): the largest
# output and state errors over the cases.
grep "^\[wkv7 " "$OUT/gpu_tests.txt" | sed -n 's/.*worst out err \([^ ]*\) .*state err \([^ ]*\) .*/\1 \2/p' |
  awk '{o = $1 > o ? $1 : o; s = $2 > s ? $2 : s; n++} END {printf "[wkv7] %d cases: largest out err %.2e, state err %.2e (of their scales)\n", n, o, s}'
RWKV_SHARED_MODELS=$PWD/.bench RWKV_GPU_ERROR_LOG=$OUT/errors.jsonl \
  python3 -m pytest -m gpu -q -p no:cacheprovider tests/python/test_precision_fast.py 2>&1 | tee "$OUT/pytest_gpu.txt" | tail -15
