#!/usr/bin/env bash
# The editable install `make` runs (pip install -e . through scikit-build-core): one CMake build
# tree, $BUILD_DIR, serves the Python package and, with --tests, the GoogleTest binaries and the
# C++ benchmark program rwkv-gpu-bench.
#
# pip shows a build's output only with -v, and then among many lines of its own: this prints
# scikit-build-core's stages (***) and Ninja's progress ([12/157] ...), keeps the whole log in
# $BUILD_DIR/build.log, and shows the log's end if the build fails.
#   PYTHON (python3), BUILD_DIR (build), JOBS (all cores)
set -euo pipefail

case "${1:-}" in
  "") TESTS=OFF ;;
  --tests) TESTS=ON ;;
  *) echo "usage: $0 [--tests]   (--tests: also the GoogleTest binaries and rwkv-gpu-bench)" >&2; exit 2 ;;
esac
PYTHON="${PYTHON:-python3}"
BUILD_DIR="${BUILD_DIR:-build}"
mkdir -p "$BUILD_DIR"
LOG="$BUILD_DIR/build.log"
start=$SECONDS

echo "build: pip install -e . into $("$PYTHON" -c 'import sys; print(sys.prefix)'), build tree $BUILD_DIR/" \
  "(tests $TESTS; a first build takes minutes)"
set +e  # the status wanted is pip's, not the filter's
CMAKE_BUILD_PARALLEL_LEVEL="${JOBS:-$(nproc)}" \
  "$PYTHON" -m pip install -v --disable-pip-version-check --root-user-action=ignore --no-build-isolation -e . \
    -Cbuild-dir="$BUILD_DIR" -Ccmake.build-type=Release -Cbuild.verbose=false \
    -Ccmake.define.RWKV_GPU_BUILD_TESTS=$TESTS -Ccmake.define.RWKV_GPU_BUILD_CLI=$TESTS 2>&1 \
  | tee "$LOG" | grep --line-buffered -E '^ *(\*\*\* |\[[0-9]+/[0-9]+\] )' | sed -u 's/^ *//'
status=${PIPESTATUS[0]}
set -e
if ((status)); then
  echo "build: FAILED; the end of $LOG:" >&2
  tail -n 40 "$LOG" >&2
  exit "$status"
fi
echo "build: done in $(((SECONDS - start) / 60))m$(printf %02d $(((SECONDS - start) % 60)))s (full log: $LOG)"
