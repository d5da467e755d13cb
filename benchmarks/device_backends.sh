#!/usr/bin/env bash
# The backend suite (benchmarks/test_backends_bench.py, pytest-benchmark) on a lent GPU machine:
# rwkv_gpu (built there), llama-cpp-python (CUDA build, sm_90, built there from .llcpp) and
# flash-linear-attention (fla wheels from .whl, on the image's torch and triton) side by side on
# the same random-weight GGUF files at the SIZES shapes (--random-model; make_model.py's writer).
#
# One call, in this order: llama-cpp-python's build (the longest step, niced) runs in the
# background while the model files are written and rwkv_gpu builds; rwkv_gpu and fla then compile
# their kernels on those files (warmup.py: Vulkan pipelines, Triton autotuning; fla's workloads
# FLA_STEPS in processes side by side) while the GPU is otherwise idle;
# then llama-cpp-python loads a file in a probe process (llama_cpp_probe.py): if that fails, the
# CPU-only path and a native backtrace (cuda-gdb) are tried and the suite skips llama-cpp-python
# with that reason (BENCH_SKIP) instead of dying with it. Then one pytest per size, on an idle
# machine; each stops starting tests at its share of DEADLINE (BENCH_DEADLINE), so it ends
# normally and writes its JSON.
#
# fla's first use compiles and autotunes its Triton kernels (more than 235 s per size on a fresh
# machine, 2026-11-30; the cache then was over 16 MiB compressed): the compiled kernels are returned
# as $OUT/triton-cache.tar.xz.partNN (xz, in parts of 15 MiB: a returned file may have 16, a call
# may return 8); copied here into .triton/ and carried, they are unpacked before the warm-ups, so
# the next call's fla starts warm.
# Carry: .gl .vkdev .whl .llcpp (+ .triton) (benchmarks/device_carry.sh fills them). Results in $OUT:
# backends-SIZE.json and pytest-SIZE.txt per size, setup.log (GPU, builds, models, warm-up, probe
# exit), llama_build.log, llama_probe.log. Then, here: python benchmarks/bench_report.py
# backends-*.json --merged benchmarks/results/DATE-h200-backends.json --out docs/...
set -uo pipefail
OUT=${OUT:-/tmp/out}
SIZES=${SIZES:-"0.1b 2.9b"}
DTYPE=${DTYPE:-f16}
DEADLINE=${DEADLINE:-575}   # seconds after the start by which every pytest has ended (the tool's limit: 600)
LAST_MIN=${LAST_MIN:-230}   # seconds of that kept for the last size's pytest
export LLAMA_BUILD_TIMEOUT=${LLAMA_BUILD_TIMEOUT:-330}  # past it, the suite runs without llama-cpp-python
PYTEST_ARGS=${PYTEST_ARGS:-"--benchmark-min-rounds=3 --benchmark-max-time=0.3"}
WARMUP_SIZES=${WARMUP_SIZES:-$SIZES}  # e.g. only the first: a size whose warm-up overlaps no build costs the same in pytest
LLAMA=${LLAMA:-1}  # 0: no llama-cpp-python build; the suite skips it with LLAMA_SKIP_REASON
WARMUP_TIMEOUT=${WARMUP_TIMEOUT:-180}  # per file; past it the suite skips fla (its first use did not end)
export BENCH_MODEL_DIR=/tmp/models PYTHONUNBUFFERED=1
source benchmarks/device_setup.sh
log=$OUT/setup.log
stamp() { echo "[${SECONDS}s] $*" | tee -a "$log"; }
if ls .triton/triton-cache.tar.xz.part* >/dev/null 2>&1; then
  stamp "$(triton_cache unpack .triton/triton-cache.tar.xz "$KERNEL_CACHE")"
fi
# Whatever Triton compiled by the end of the call (also when a step ran out of time) goes back.
trap 'save_triton_cache >>"$log" 2>&1' EXIT
skip_backend() { export BENCH_SKIP="${BENCH_SKIP:+$BENCH_SKIP;}$1=$2"; stamp "the suite skips $1: $2"; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$log"
date -u +%FT%TZ >>"$log"

if [ "$LLAMA" = 1 ]; then
  ( renice -n 15 -p $BASHPID >/dev/null; build_llama_cpp_python ) >"$OUT/llama_build.log" 2>&1 &
  llama_build=$!
fi
mkdir -p "$BENCH_MODEL_DIR"
( for size in $SIZES; do  # the file names --random-model looks for; whole files only (mv)
    f=$BENCH_MODEL_DIR/random-$size-$DTYPE.gguf
    python3 benchmarks/make_model.py --size "$size" --dtype "$DTYPE" --out "$f.part" && mv "$f.part" "$f"
  done ) >>"$log" 2>&1 &
build_rwkv_gpu >>"$log" 2>&1
stamp "rwkv_gpu build: $([ -f /tmp/site/.built ] && echo ok || echo FAILED)"

# Sizes side by side (fla's kernels take the head count as a compile-time constant, so a second
# size compiles its own), and fla's workloads side by side within a size: one process each, since
# Triton compiles and autotunes one configuration at a time per process (235 s were not enough
# for them in turn at 0.1B, 2026-11-30). Exit status: 124 if a step ran out of time.
FLA_STEPS=${FLA_STEPS:-"doc_state field_analysis embed_batch prefill decode generate_sampled"}
warm_size() {
  local f=$BENCH_MODEL_DIR/random-$1-$DTYPE.gguf pids=() rc=0 r pid step
  for _ in $(seq 240); do [ -f "$f" ] && break; sleep 1; done
  timeout 180 python3 benchmarks/warmup.py "$f" --engine rwkv_gpu >>"$log" 2>&1
  stamp "warm-up rwkv_gpu $1: exit $?"
  for step in $FLA_STEPS; do
    timeout "$WARMUP_TIMEOUT" python3 benchmarks/warmup.py "$f" --engine fla --step "$step" >>"$log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do
    wait "$pid"
    r=$?
    [ $r != 0 ] && [ $rc != 124 ] && rc=$r
  done
  stamp "warm-up fla $1: exit $rc"
  return $rc
}
warm_pids=()
for size in $WARMUP_SIZES; do warm_size "$size" & warm_pids+=($!); done
for pid in "${warm_pids[@]}"; do
  wait "$pid"
  # A warm-up cut short was in fla's load or first use (Triton compiles and autotunes its kernels
  # then), which the suite's first fla test would repeat in the time of the others.
  [ $? = 124 ] && skip_backend flash-linear-attention \
    "its load and first use did not end within the ${WARMUP_TIMEOUT} s warm-up (setup.log names the steps that ended)"
done

if [ "$LLAMA" = 1 ]; then
  wait $llama_build
  rc=$?
  stamp "llama-cpp-python build: exit $rc"
fi
if [ "$LLAMA" != 1 ]; then
  skip_backend llama-cpp-python "${LLAMA_SKIP_REASON:-not built in this call (LLAMA=0)}"
elif [ $rc != 0 ]; then
  tail -30 "$OUT/llama_build.log"
  skip_backend llama-cpp-python "its CUDA build failed on this machine (exit $rc, llama_build.log)"
else
  export PYTHONPATH=/tmp/site-llama:$PYTHONPATH
  f=$BENCH_MODEL_DIR/random-${SIZES%% *}-$DTYPE.gguf
  timeout 180 python3 -X faulthandler benchmarks/llama_cpp_probe.py "$f" >"$OUT/llama_probe.log" 2>&1
  rc=$?
  stamp "llama-cpp-python probe (all layers offloaded): exit $rc"
  grep "^probe" "$OUT/llama_probe.log"
  if [ $rc != 0 ]; then
    timeout 120 python3 -X faulthandler benchmarks/llama_cpp_probe.py "$f" --cpu >>"$OUT/llama_probe.log" 2>&1
    stamp "llama-cpp-python probe (no layers offloaded): exit $?"
    gdb=$(command -v cuda-gdb || echo /usr/local/cuda/bin/cuda-gdb)
    timeout 150 "$gdb" -batch -ex run -ex "bt 40" --args python3 benchmarks/llama_cpp_probe.py "$f" \
      >>"$OUT/llama_probe.log" 2>&1
    stamp "cuda-gdb backtrace: exit $? (llama_probe.log)"
    tail -60 "$OUT/llama_probe.log"
    skip_backend llama-cpp-python "did not load and run the model in a probe process (exit $rc, 139 is a segfault, llama_probe.log)"
  fi
fi

sizes=($SIZES)
for i in "${!sizes[@]}"; do
  size=${sizes[$i]}
  left=$((DEADLINE - SECONDS))
  [ $((i + 1)) -lt ${#sizes[@]} ] && left=$((left - LAST_MIN))
  if [ $left -lt 30 ]; then stamp "pytest $size: not run, $left s left"; continue; fi
  select="not default and not tiny"  # the CI models: not what this call is for
  [ "$i" -gt 0 ] && select="$select and not world"  # the World tokenizer test once
  stamp "pytest $size: up to $left s"
  BENCH_DEADLINE=$(($(date +%s) + left - 30)) timeout -k 10 "$left" python3 -m pytest benchmarks -q -p no:cacheprovider \
    --benchmark-only --random-model "$size-$DTYPE" -k "$select" --benchmark-json "$OUT/backends-$size.json" \
    --benchmark-columns=min,median,rounds $PYTEST_ARGS >"$OUT/pytest-$size.txt" 2>&1
  stamp "pytest $size: exit $?"
  grep -E "^(FAILED|ERROR|SKIPPED)|passed|failed" "$OUT/pytest-$size.txt" | tail -25
done
