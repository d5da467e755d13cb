"""The command line (python -m rwkv_gpu) as a user runs it."""

import subprocess
import sys


def rwkv_gpu_cli(*args):
    return subprocess.run([sys.executable, "-m", "rwkv_gpu", *args], capture_output=True, text=True, timeout=120)


def test_info_prints_devices_metadata_and_tensors(tiny_gguf):
    out = rwkv_gpu_cli("info", str(tiny_gguf))
    assert out.returncode == 0, out.stderr
    assert "Vulkan devices" in out.stdout
    assert "general.architecture" in out.stdout and "'rwkv7'" in out.stdout
    assert "blk.11.channel_mix_value.weight" in out.stdout
    assert "342 tensors" in out.stdout


def test_devices_subcommand():
    out = rwkv_gpu_cli("devices")
    assert out.returncode == 0 and "* [" in out.stdout


def test_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file at all")
    out = rwkv_gpu_cli("info", str(bad))
    assert out.returncode == 1
    assert out.stderr.startswith("rwkv-gpu: error:") and "bad magic" in out.stderr
    assert "Traceback" not in out.stderr
    assert "Traceback" in rwkv_gpu_cli("--debug", "info", str(bad)).stderr
