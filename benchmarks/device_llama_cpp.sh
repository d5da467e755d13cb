#!/usr/bin/env bash
# llama-cpp-python (CUDA build for sm_90: device_setup.sh's build_llama_cpp_python) on a lent GPU
# machine, running the embedding workloads of benchmarks/embed_bench.py on random models at the
# 0.1B and 2.9B shapes (same generator and seed as device_embed.sh, so the same weights). Carry:
# .llcpp (llama.cpp-src.tgz: the llama-cpp-python 0.3.36 sdist cut down by device_carry.sh to the
# package, ggml's CPU and CUDA backends and llama-bench, to fit the transfer limit), .whl (gguf and
# diskcache wheels), .gl. Results: $OUT/llama_cpp.jsonl, $OUT/llama_build.log.
# (The pytest-benchmark suite runs llama-cpp-python beside the other backends: device_backends.sh.)
set -euo pipefail
OUT=${OUT:-/tmp/out}
SIZES=${SIZES:-"0.1b 2.9b"}
DTYPE=${DTYPE:-f16}
source benchmarks/device_setup.sh
build_llama_cpp_python >"$OUT/llama_build.log" 2>&1 || { tail -20 "$OUT/llama_build.log"; exit 1; }
export PYTHONPATH=/tmp/site-llama:$PYTHONPATH
python3 -c "import llama_cpp; print('llama_cpp', llama_cpp.__version__)"
for size in $SIZES; do
  python3 benchmarks/make_model.py --size "$size" --dtype "$DTYPE" --out "/tmp/$size.gguf"
  python3 - "$size" "$DTYPE" <<'PY' | tee -a "$OUT/llama_cpp.jsonl"
import sys
sys.path.insert(0, "benchmarks")
import embed_bench
size, dtype = sys.argv[1], sys.argv[2]
embed_bench.bench_llama_cpp(f"/tmp/{size}.gguf", 10, label=f"{size}-{dtype}")
PY
done
