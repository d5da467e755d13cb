# Sourced by the device_*.sh scripts on a lent GPU machine: unpacks the Vulkan loader (.gl) and the
# shader toolchain (.vkdev), installs the carried wheels (.whl) and builds the Python package into
# /tmp/site (PYTHONPATH). Carry: .gl, .vkdev, .whl.
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd
mkdir -p /opt/vkdev
for f in .vkdev/*.deb; do dpkg -x "$f" /opt/vkdev; done
export LD_LIBRARY_PATH=/opt/vkdev/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
python3 -m pip install -q --upgrade --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
export PYTHONPATH=/tmp/site
CMAKE_BUILD_PARALLEL_LEVEL=16 python3 -m pip install -q --no-index --no-deps --no-build-isolation --target /tmp/site \
  -Ccmake.define.Vulkan_INCLUDE_DIR=/opt/vkdev/usr/include \
  -Ccmake.define.Vulkan_LIBRARY=/opt/vkdev/usr/lib/x86_64-linux-gnu/libvulkan.so.1 \
  -Ccmake.define.Vulkan_GLSLC_EXECUTABLE=/opt/vkdev/usr/bin/glslc . 2>&1 | tail -5
python3 -c "import rwkv_gpu; print([d.name for d in rwkv_gpu.devices()])"
