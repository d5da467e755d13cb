"""Exceptions raised by rwkv_gpu.

Every error the engine raises is a subclass of :class:`Error` (itself a ``RuntimeError``); bad
arguments raise ``ValueError`` or ``TypeError`` as Python does::

    Error
    ├── VulkanError
    │   ├── NoVulkanLoaderError     libvulkan.so.1 is missing
    │   ├── NoDeviceError           no device, or none matching the selector
    │   ├── OutOfDeviceMemoryError
    │   ├── DeviceLostError
    │   └── DeviceTimeoutError      GPU work exceeded RWKV_GPU_TIMEOUT_S
    ├── GGUFError                   a malformed or unsupported GGUF file
    ├── TokenizerError
    └── NonFiniteError              NaN or infinity in logits or embeddings (weights or state)
"""

from ._core import (
    DeviceLostError,
    DeviceTimeoutError,
    Error,
    GGUFError,
    NoDeviceError,
    NonFiniteError,
    NoVulkanLoaderError,
    OutOfDeviceMemoryError,
    TokenizerError,
    VulkanError,
)

__all__ = [
    "Error",
    "VulkanError",
    "NoVulkanLoaderError",
    "NoDeviceError",
    "OutOfDeviceMemoryError",
    "DeviceLostError",
    "DeviceTimeoutError",
    "GGUFError",
    "TokenizerError",
    "NonFiniteError",
]
