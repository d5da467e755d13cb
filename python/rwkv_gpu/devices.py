"""Vulkan device discovery."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import _core


@dataclass(frozen=True)
class MemoryHeap:
    size: int
    device_local: bool


@dataclass(frozen=True)
class DeviceInfo:
    """What a Vulkan device offers the engine (see ``rwkv_gpu.devices()``)."""

    index: int
    name: str
    vendor: str
    vendor_id: int
    device_id: int
    type: str  # "discrete", "integrated", "virtual", "cpu" or "other"
    api_version: str
    driver_name: str
    driver_info: str
    memory_heaps: tuple[MemoryHeap, ...]
    subgroup_size: int
    min_subgroup_size: int
    max_subgroup_size: int
    subgroup_operations: tuple[str, ...]
    fp16: bool
    int8: bool
    storage_16bit: bool
    storage_8bit: bool
    integer_dot_product: bool
    integer_dot_product_4x8_accelerated: bool
    cooperative_matrix_khr: bool
    cooperative_matrix_nv: bool
    cooperative_matrix_shapes: tuple[str, ...]  # VK_KHR_cooperative_matrix: "f16 x f16 -> f32, 16x16x16, subgroup", ...
    tensor_cores: bool  # the cooperative-matrix matmul runs here (precision="fast" uses it)
    compute_units: int  # SMs / CUs where the driver reports them (NVIDIA, AMD), else 0
    max_storage_buffer_range: int
    min_storage_buffer_offset_alignment: int
    max_buffer_size: int
    max_memory_allocation_size: int
    max_compute_shared_memory_size: int
    max_workgroup_invocations: int
    max_workgroup_count: tuple[int, int, int]
    timestamps: bool
    timestamp_period_ns: float
    selected: bool = field(default=False)  # the device a Model would use by default

    @property
    def device_memory(self) -> int:
        """Bytes of device-local memory (the largest device-local heap)."""
        return max((h.size for h in self.memory_heaps if h.device_local), default=0)

    def summary(self) -> str:
        gib = self.device_memory / 2**30
        features = [f for f in ("fp16", "int8", "integer_dot_product", "cooperative_matrix_khr",
                                "cooperative_matrix_nv", "tensor_cores") if getattr(self, f)]
        return (f"[{self.index}] {self.name} ({self.type}, {self.vendor}, Vulkan {self.api_version}, "
                f"{gib:.1f} GiB, subgroup {self.subgroup_size}"
                + (", " + ", ".join(features) if features else "") + ")")


def devices() -> list[DeviceInfo]:
    """List every Vulkan device the loader reports.

    The device a :class:`Model` uses by default is marked ``selected``: ``$RWKV_GPU_DEVICE``
    (an index or a name substring) if set, else the best type (discrete > integrated > CPU).

    Raises:
        NoVulkanLoaderError: when libvulkan.so.1 cannot be loaded.
    """
    raw = _core.devices()
    try:
        chosen = _core.select_device("") if raw else -1
    except _core.NoDeviceError:
        chosen = -1
    out = []
    for d in raw:
        d = dict(d)
        d["memory_heaps"] = tuple(MemoryHeap(**h) for h in d["memory_heaps"])
        d["subgroup_operations"] = tuple(d["subgroup_operations"])
        d["cooperative_matrix_shapes"] = tuple(d["cooperative_matrix_shapes"])
        d["max_workgroup_count"] = tuple(d["max_workgroup_count"])
        out.append(DeviceInfo(**d, selected=d["index"] == chosen))
    return out
