#!/usr/bin/env bash
# Installs what a fresh Debian 12 / Ubuntu machine lacks to build and test rwkv_gpu.
# Minimum versions: Vulkan headers 1.3.239, glslc 2023.2, Eigen 3.4, GoogleTest 1.12,
# CMake 3.24, Python 3.10, numpy 1.24, pybind11 2.11, scikit-build-core 0.10, pytest 7.4,
# gguf 0.10, rwkv 0.8.26 (its tokenizer is the reference in tests).
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
        "gguf": "0.10", "rwkv": "0.8.26", "tqdm": "4.60", "cmake": "3.24", "ninja": "1.10"}
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
