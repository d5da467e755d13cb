#!/usr/bin/env bash
# Run HERE (not on the device machine) before a device call: fills the ignored folders the
# benchmarks/device_*.sh scripts expect, for the `run` tool's `carry`:
#   .gl      the Vulkan loader and glvnd .debs (the device image has no loader)
#   .vkdev   glslc, libshaderc and the Vulkan headers .debs, and spirv.tgz: this tree's compiled
#            shaders (build/generated/shaders/*.spv.inc, from `make build`), so that the package
#            builds there without the shader compilers (cmake -DRWKV_SPIRV_DIR)
#   .whl     wheels the device image lacks: gguf;
#            fla-core + flash-linear-attention (device_backends.sh; the image has their torch,
#            triton, transformers and einops), diskcache (llama-cpp-python imports it), and
#            pydantic with its own needs (rwkv_gpu imports it since its OpenAI-compatible API)
#   .triton  (not filled here) triton-cache.tar.xz.part* as device_backends.sh returned them: fla's compiled kernels
#   .srv     the server's and the openai client's wheels the image lacks (device_server.sh)
#   .bench   rwkv-gpu-bench and the GPU test suite rwkv_gpu_tests, built here (make build first), and
#            the tiny shared model the suite's tests load
#   .llcpp   llama.cpp-src.tgz: the llama-cpp-python 0.3.36 sdist cut down to what building the
#            Python package (device_llama_cpp.sh) and llama.cpp's llama-bench with the CUDA
#            backend (device_matrix.sh LLAMA=1) need: llama_cpp/ and the package's CMake files,
#            and from vendor/llama.cpp only ggml (CPU + CUDA backends), src, include, common,
#            vendor and tools/llama-bench (tools/CMakeLists.txt rewritten to add only that).
#            Not carried by default: name it in carry only for those two scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
for d in .gl .vkdev .whl .srv .bench .llcpp .triton; do grep -qx "/$d/" .git/info/exclude 2>/dev/null || echo "/$d/" >>.git/info/exclude; done
mkdir -p .gl .vkdev .whl .srv .bench .llcpp /tmp/amd64/partial
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
[ -n "$(ls .gl/*.deb .vkdev/*.deb 2>/dev/null)" ] || apt-get $o update -qq
[ -n "$(ls .gl/*.deb 2>/dev/null)" ] || (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
[ -n "$(ls .vkdev/*.deb 2>/dev/null)" ] || (cd .vkdev && apt-get $o download glslc libshaderc1 libvulkan-dev libvulkan1)
py=(--python-version 3.12 --implementation cp --only-binary=:all: --no-deps --platform manylinux_2_28_x86_64
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any)
rm -f .whl/cmeel*.whl   # the shader compilers: no longer carried (spirv.tgz instead)
python3 -m pip download -q -d .whl "${py[@]}" gguf==0.19.0 \
  fla-core==0.6.0 flash-linear-attention==0.6.0 diskcache==5.6.3 \
  pydantic==2.13.4 pydantic-core==2.46.4 annotated-types==0.7.0 typing-inspection==0.4.2 typing-extensions==4.16.0
python3 -m pip download -q -d .srv "${py[@]}" fastapi==0.165.0 starlette==1.10.0 uvicorn==0.54.0 annotated-doc==0.0.7 \
  openai==3.57.0 httpx2==2.16.2 httpcore2==2.16.2 jiter==0.19.0 sniffio==1.3.1 truststore==0.10.5 distro==1.9.0 \
  anyio==4.16.0 idna==3.20 h11==0.16.0 opentelemetry-api==1.45.2 importlib-metadata==8.7.0 \
  sse-starlette==3.7.0 starlette-context==0.5.1 pydantic-settings==2.16.3 python-dotenv==1.2.4
cp build/cpp/rwkv-gpu-bench build/tests/cpp/rwkv_gpu_tests .bench/
cp ../shared/models/tiny-rwkv7-834K-F32.gguf .bench/   # the GPU suite's test model (RWKV_SHARED_MODELS=.bench there)
tar czf .vkdev/spirv.tgz -C build/generated/shaders $(cd build/generated/shaders && ls *.spv.inc)
if [ ! -s .llcpp/llama.cpp-src.tgz ]; then
  t=$(mktemp -d)
  # --no-build-isolation: without it pip builds cmake from source (--no-binary :all: applies to
  # the build requirements too) just to read the version; the local scikit-build-core does it.
  python3 -m pip download -q --no-binary :all: --no-deps --no-build-isolation -d "$t" llama-cpp-python==0.3.36
  tar xzf "$t"/llama_cpp_python-0.3.36.tar.gz -C "$t"
  p=$t/llama_cpp_python-0.3.36
  l=$p/vendor/llama.cpp
  cp "$p/.git/modules/vendor/llama.cpp/HEAD" "$l/BUILD_COMMIT"   # the vendored commit, for llama-bench's build_commit
  find "$p" -mindepth 1 -maxdepth 1 ! -name CMakeLists.txt ! -name pyproject.toml ! -name PKG-INFO \
    ! -name README.md ! -name LICENSE.md ! -name llama_cpp ! -name vendor -exec rm -rf {} +
  find "$l" -mindepth 1 -maxdepth 1 ! -name CMakeLists.txt ! -name LICENSE ! -name BUILD_COMMIT ! -name cmake \
    ! -name include ! -name src ! -name common ! -name ggml ! -name vendor ! -name tools ! -name licenses -exec rm -rf {} +
  find "$l/ggml/src" -mindepth 1 -maxdepth 1 -type d ! -name ggml-cpu ! -name ggml-cuda -exec rm -rf {} +
  rm -rf "$l/ggml/src/ggml-cpu/spacemit" "$l/ggml/src/ggml-cpu/kleidiai"   # RISC-V / Arm only
  find "$l/ggml/src/ggml-cpu/arch" -mindepth 1 -maxdepth 1 ! -name x86 -exec rm -rf {} +
  : >"$l/vendor/miniaudio/miniaudio.h"   # header-only, used by tools/mtmd alone (4 MB)
  find "$l/tools" -mindepth 1 -maxdepth 1 ! -name llama-bench -exec rm -rf {} +
  cat >"$l/tools/CMakeLists.txt" <<'CM'
# Cut down by rwkv_gpu's benchmarks/device_carry.sh: only llama-bench.
find_package(Threads REQUIRED)
llama_add_compile_flags()
add_subdirectory(llama-bench)
CM
  tar czf .llcpp/llama.cpp-src.tgz -C "$t" llama_cpp_python-0.3.36
  rm -rf "$t"
fi
du -sh .gl .vkdev .whl .srv .bench .llcpp
