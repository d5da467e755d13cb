# Sourced by the device_*.sh scripts on a lent GPU machine: unpacks the Vulkan loader (.gl) and
# installs the carried wheels (.whl) into /tmp/site (PYTHONPATH); with BUILD_PACKAGE=1 it also
# builds the Python package there (build_rwkv_gpu). Defines build_rwkv_gpu and
# build_llama_cpp_python for scripts that run the builds themselves (side by side). Carry: .gl,
# .whl (and .vkdev to build the package, .llcpp to build llama-cpp-python). Creates $OUT, which
# may name a folder not made yet. The device tool brings back at most 8 files from its $OUT: a call
# that runs several scripts gives each its own OUT under a local folder and packs that folder into
# one archive in the tool's $OUT after each script (tar czf "$OUT/all.tgz" -C /tmp/r .).
mkdir -p "${OUT:?}"
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd
# Once per machine: a second script of the same call (side by side) must not replace files that the
# first one's processes are importing.
[ -f /tmp/site/.wheels ] || { python3 -m pip install -q --upgrade --no-index --no-deps --no-compile --target /tmp/site \
  .whl/*.whl && touch /tmp/site/.wheels; }
export PYTHONPATH=/tmp/site

# fla's compiled kernels: Triton's (its autotune results too: fla passes cache_results) and
# torch.compile's (fla's fused_addcmul), under one folder that goes back and forth as .triton/
# (device_backends.sh, device_embed.sh FLA=1): a fresh cache costs minutes of compiling per size.
export KERNEL_CACHE=${KERNEL_CACHE:-/tmp/fla-kernels}
export TRITON_CACHE_DIR=$KERNEL_CACHE/triton TORCHINDUCTOR_CACHE_DIR=$KERNEL_CACHE/inductor
mkdir -p "$TRITON_CACHE_DIR" "$TORCHINDUCTOR_CACHE_DIR"
# The cache as xz-compressed tar parts of 15 MiB (a returned file may have 16, a call may return
# 8): triton_cache pack DIR PREFIX | unpack PREFIX DIR.
triton_cache() {
  python3 - "$@" <<'PY'
import glob, io, sys, tarfile
what, a, b = sys.argv[1:4]
part = 15 << 20
if what == "pack":
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz", preset=6) as t:
        t.add(a, arcname=".")
    data = buf.getvalue()
    for i in range(0, len(data), part):
        open(f"{b}.part{i // part:02d}", "wb").write(data[i:i + part])
    print(f"Triton cache returned: {len(data) >> 20} MiB in {(len(data) + part - 1) // part} parts")
else:
    data = b"".join(open(f, "rb").read() for f in sorted(glob.glob(f"{a}.part*")))
    tarfile.open(fileobj=io.BytesIO(data), mode="r:xz").extractall(b, filter="data")
    print(f"Triton cache carried in: {len(data) >> 20} MiB")
PY
}
save_triton_cache() { triton_cache pack "$KERNEL_CACHE" "$OUT/triton-cache.tar.xz"; }

# rwkv_gpu into /tmp/site with the carried Vulkan headers and this tree's compiled shaders (.vkdev,
# from device_carry.sh after `make build` here). A package built by an earlier script of the same
# call (same tree) is kept: /tmp/site/.built.
build_rwkv_gpu() {
  [ -f /tmp/site/.built ] && return 0
  mkdir -p /opt/vkdev/spirv
  for f in .vkdev/*.deb; do dpkg -x "$f" /opt/vkdev; done
  tar xzf .vkdev/spirv.tgz -C /opt/vkdev/spirv
  export LD_LIBRARY_PATH=/opt/vkdev/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
  CMAKE_BUILD_PARALLEL_LEVEL=16 python3 -m pip install -q --no-index --no-deps --no-build-isolation --target /tmp/site \
    -Ccmake.define.RWKV_SPIRV_DIR=/opt/vkdev/spirv \
    -Ccmake.define.Vulkan_INCLUDE_DIR=/opt/vkdev/usr/include \
    -Ccmake.define.Vulkan_LIBRARY=/opt/vkdev/usr/lib/x86_64-linux-gnu/libvulkan.so.1 \
    -Ccmake.define.Vulkan_GLSLC_EXECUTABLE=/opt/vkdev/usr/bin/glslc . 2>&1 | tail -5
  python3 -c "import rwkv_gpu; print([d.name for d in rwkv_gpu.devices()])" && touch /tmp/site/.built
}

# llama-cpp-python (CUDA, sm_90) into /tmp/site-llama (its own folder: it may build beside the
# package), from the sdist cut down by device_carry.sh (.llcpp). The CMake options are
# device_matrix.sh's llama-bench build's, whose binary loads and runs our files: GGML_NATIVE=OFF
# (x86-64-v3 CPU code without AMX: with -march=native on an AMX Xeon this version's AMX matmul
# segfaulted on our Q8_0 and Q4_K files; the sdist's default is native), FlashAttention kernels
# compiled out (RWKV has no attention; the biggest cut in CUDA compile time). Exit status: the build's.
build_llama_cpp_python() {
  local t0=$SECONDS rc
  [ -x /usr/local/cuda/bin/nvcc ] && export PATH=/usr/local/cuda/bin:$PATH
  # The image's first g++ (/opt/gcc, GCC 13.3) has only the static libstdc++ (-print-file-name=
  # libstdc++.so finds none), so each of the package's shared libraries (libggml-base, -cpu, -cuda,
  # libllama) got its own exported copy, and libllama's first iostream use (llama_model::print_info,
  # right after the tokenizer loads) ran in libggml-cuda.so's copy: a segfault, also with no layers
  # offloaded (2026-11-30, docs/benchmarks.md). llama-bench, one static program, has one copy. So
  # the system compiler, whose libstdc++ is shared, where there is one (untried on the device yet).
  if [ "$(/opt/gcc/bin/g++ -print-file-name=libstdc++.so 2>/dev/null)" = libstdc++.so ] && [ -x /usr/bin/g++ ]; then
    export CC=/usr/bin/gcc CXX=/usr/bin/g++ CUDAHOSTCXX=/usr/bin/g++
  fi
  rm -rf /tmp/llsrc && mkdir -p /tmp/llsrc && tar xzf .llcpp/llama.cpp-src.tgz -C /tmp/llsrc || return 1
  ( cd /tmp/llsrc/llama_cpp_python-0.3.36 && CMAKE_BUILD_PARALLEL_LEVEL=16 \
    CMAKE_ARGS="-DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DGGML_NATIVE=OFF -DGGML_CUDA_FA=OFF \
      -DGGML_CUDA_FA_QUANTS=f16-f16 -DGGML_CUDA_NCCL=OFF -DGGML_CUDA_COMPRESSION_MODE=speed -DGGML_CCACHE=OFF \
      -DLLAVA_BUILD=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
      -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF" \
    timeout "${LLAMA_BUILD_TIMEOUT:-420}" python3 -m pip install -v --no-index --no-deps --no-build-isolation \
      --target /tmp/site-llama . )
  rc=$?
  echo "llama-cpp-python build: exit $rc after $((SECONDS - t0)) s"
  return $rc
}

if [ "${BUILD_PACKAGE:-0}" = 1 ]; then
  build_rwkv_gpu
fi
