#!/usr/bin/env bash
# Builds the Python package on a lent GPU machine and runs benchmarks/embed_bench.py on random
# models at the 0.1B and 2.9B shapes. Carry: .gl (loader .debs), .vkdev (glslc, libshaderc1,
# libvulkan-dev .debs), .whl (gguf wheel). Results: $OUT/embed.jsonl.
set -euo pipefail
OUT=${OUT:-/tmp/out}
SIZES=${SIZES:-"0.1b 2.9b"}
DTYPE=${DTYPE:-f16}
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
for size in $SIZES; do
  python3 benchmarks/make_model.py --size "$size" --dtype "$DTYPE" --out "/tmp/$size.gguf"
  python3 benchmarks/embed_bench.py "/tmp/$size.gguf" | sed "s|/tmp/$size.gguf|$size-$DTYPE|" | tee -a "$OUT/embed.jsonl"
done
