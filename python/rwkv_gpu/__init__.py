"""rwkv_gpu: RWKV-7 language models from GGUF files on any Vulkan GPU.

Start with :func:`devices`, :class:`GGUFFile` and :class:`Tokenizer`; errors are subclasses of
:class:`rwkv_gpu.Error` (see :mod:`rwkv_gpu.errors`).
"""

from . import _core, errors
from .devices import DeviceInfo, MemoryHeap, devices
from .errors import *  # noqa: F403  (the exception classes, listed in errors.__all__)
from .gguf_file import GGUFFile, TensorInfo, dequantize
from .model import Model, State
from .tokenizer import StreamDecoder, Tokenizer, world_vocab_path

__version__ = "0.1.0"

__all__ = [
    "Model",
    "State",
    "DeviceInfo",
    "MemoryHeap",
    "devices",
    "GGUFFile",
    "TensorInfo",
    "dequantize",
    "Tokenizer",
    "StreamDecoder",
    "world_vocab_path",
    *errors.__all__,
]
