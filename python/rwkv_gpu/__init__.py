"""rwkv_gpu: RWKV-7 language models from GGUF files on any Vulkan GPU.

Start with :func:`devices`, :class:`GGUFFile` and :class:`Tokenizer`; errors are subclasses of
:class:`rwkv_gpu.Error` (see :mod:`rwkv_gpu.errors`).
"""

from pathlib import Path

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

DEFAULT_MODEL = "rwkv7-kjv-4x192-F16.gguf"


def default_model_path() -> Path:
    """The embedded default model: a byte-level RWKV-7 (4 layers, n_embd 192, 3 heads of 64) that
    this project trained on the King James Bible (tools/train_default_model.py, docs/default-model.md).
    Small (4 MB) and real: it writes recognisable English, so demos and tests need no download."""
    path = Path(__file__).parent / "data" / DEFAULT_MODEL
    if not path.exists():
        raise FileNotFoundError(f"the default model is missing from the package: {path}")
    return path


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
    "default_model_path",
    "GGUFFile",
    "TensorInfo",
    "dequantize",
    "Tokenizer",
    "StreamDecoder",
    "world_vocab_path",
    *errors.__all__,
]
