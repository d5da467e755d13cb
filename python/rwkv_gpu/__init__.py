"""rwkv_gpu: RWKV-7 language models from GGUF files on any Vulkan GPU.

Start with :func:`devices`, :class:`GGUFFile` and :class:`Tokenizer`; errors are subclasses of
:class:`rwkv_gpu.Error` (see :mod:`rwkv_gpu.errors`).
"""

from . import _core, errors
from .devices import DeviceInfo, MemoryHeap, devices
from .errors import *  # noqa: F403  (the exception classes, listed in errors.__all__)
from .gguf_file import GGUFFile, TensorInfo, dequantize
from . import similarity, workloads
from .cache import CacheStats, EmbeddingCache
from .generation import Batcher, Generation, GenerationStream, Request, Sampling
from .model import Model, State
from .similarity import cosine_similarity, similarity_matrix, top_k
from .tokenizer import StreamDecoder, Tokenizer, world_vocab_path

__version__ = "0.1.0"

__all__ = [
    "Model",
    "State",
    "Generation",
    "GenerationStream",
    "Batcher",
    "Request",
    "Sampling",
    "EmbeddingCache",
    "CacheStats",
    "cosine_similarity",
    "similarity_matrix",
    "top_k",
    "similarity",
    "workloads",
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
