import dataclasses

import pytest

import rwkv_gpu


def test_devices_lists_lavapipe_or_a_gpu():
    found = rwkv_gpu.devices()
    assert found, "no Vulkan device"
    names = [d.name for d in found]
    # CI runs on Mesa's lavapipe; a machine with a GPU lists it too.
    assert any("llvmpipe" in n for n in names) or any(d.type in ("discrete", "integrated") for d in found), names
    assert sum(d.selected for d in found) == 1
    for d in found:
        assert isinstance(d, rwkv_gpu.DeviceInfo) and dataclasses.is_dataclass(d)
        assert d.subgroup_size > 0 and d.max_storage_buffer_range >= 2**27
        assert d.memory_heaps and all(h.size > 0 for h in d.memory_heaps)
        assert d.type in ("discrete", "integrated", "virtual", "cpu", "other")
        assert d.summary().startswith(f"[{d.index}] {d.name}")


def test_lavapipe_limits_are_reported_as_documented():
    lava = [d for d in rwkv_gpu.devices() if "llvmpipe" in d.name]
    if not lava:
        pytest.skip("no lavapipe device on this machine (CI always has one)")
    d = lava[0]
    assert d.type == "cpu"
    assert d.max_storage_buffer_range == 128 * 2**20
    assert not d.cooperative_matrix_khr and not d.cooperative_matrix_nv


def test_device_selection_by_env(monkeypatch):
    found = rwkv_gpu.devices()
    monkeypatch.setenv("RWKV_GPU_DEVICE", str(found[-1].index))
    assert [d.index for d in rwkv_gpu.devices() if d.selected] == [found[-1].index]
    monkeypatch.setenv("RWKV_GPU_DEVICE", found[0].name[:5].upper())
    assert any(d.selected for d in rwkv_gpu.devices())
    monkeypatch.setenv("RWKV_GPU_DEVICE", "no-such-device-name")
    with pytest.raises(rwkv_gpu.NoDeviceError, match="no-such-device-name"):
        rwkv_gpu._core.select_device("")


def test_error_hierarchy():
    assert issubclass(rwkv_gpu.GGUFError, rwkv_gpu.Error)
    assert issubclass(rwkv_gpu.NoDeviceError, rwkv_gpu.VulkanError)
    assert issubclass(rwkv_gpu.OutOfDeviceMemoryError, rwkv_gpu.VulkanError)
    assert issubclass(rwkv_gpu.DeviceLostError, rwkv_gpu.Error)
    assert issubclass(rwkv_gpu.Error, RuntimeError)
