"""A machine without a Vulkan loader or without a driver gets a clear rwkv_gpu error, not a crash.
Each case runs in a fresh interpreter: the loader is opened once per process."""

import os
import subprocess
import sys

PROBE = """
import rwkv_gpu
try:
    rwkv_gpu.devices()
    print("NO ERROR")
except rwkv_gpu.{cls} as e:
    print("OK", type(e).__name__, e)
"""


def run_probe(cls: str, **env) -> str:
    full_env = {**os.environ, **env}
    full_env.pop("RWKV_GPU_VALIDATION", None)  # the layers need a loader too
    out = subprocess.run([sys.executable, "-c", PROBE.format(cls=cls)], env=full_env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_missing_loader_raises_no_vulkan_loader_error():
    out = run_probe("NoVulkanLoaderError", RWKV_GPU_VULKAN_LIBRARY="/nonexistent/libvulkan.so.1")
    assert out.startswith("OK NoVulkanLoaderError") and "apt-get install libvulkan1" in out


def test_no_driver_raises_no_device_error():
    out = run_probe("NoDeviceError", VK_DRIVER_FILES="/nonexistent/icd.json", VK_ICD_FILENAMES="/nonexistent/icd.json")
    assert out.startswith("OK NoDeviceError"), out
