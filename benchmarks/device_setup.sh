# Sourced by the device_*.sh scripts on a lent GPU machine: unpacks the Vulkan loader (.gl) and
# installs the carried wheels (.whl) into /tmp/site (PYTHONPATH); with BUILD_PACKAGE=1 it also
# unpacks the shader toolchain (.vkdev) and builds the Python package there. Carry: .gl, .whl
# (and .vkdev to build). Creates $OUT, which may name a folder not made yet.
mkdir -p "${OUT:?}"
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd
python3 -m pip install -q --upgrade --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
export PYTHONPATH=/tmp/site
# A package built by an earlier script of the same call (same tree) is kept: /tmp/site/.built.
if [ "${BUILD_PACKAGE:-0}" = 1 ] && [ ! -f /tmp/site/.built ]; then
  mkdir -p /opt/vkdev
  for f in .vkdev/*.deb; do dpkg -x "$f" /opt/vkdev; done
  export LD_LIBRARY_PATH=/opt/vkdev/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
  CMAKE_BUILD_PARALLEL_LEVEL=16 python3 -m pip install -q --no-index --no-deps --no-build-isolation --target /tmp/site \
    -Ccmake.define.Vulkan_INCLUDE_DIR=/opt/vkdev/usr/include \
    -Ccmake.define.Vulkan_LIBRARY=/opt/vkdev/usr/lib/x86_64-linux-gnu/libvulkan.so.1 \
    -Ccmake.define.Vulkan_GLSLC_EXECUTABLE=/opt/vkdev/usr/bin/glslc . 2>&1 | tail -5
  python3 -c "import rwkv_gpu; print([d.name for d in rwkv_gpu.devices()])" && touch /tmp/site/.built
fi
