"""rwkv_gpu: RWKV-7 language models from GGUF files on any Vulkan GPU.

Start with :func:`devices`, :class:`GGUFFile` and :class:`Tokenizer`; errors are subclasses of
:class:`rwkv_gpu.Error` (see :mod:`rwkv_gpu.errors`).
"""

import importlib
import importlib.metadata
from pathlib import Path

from . import _core, errors
from .devices import DeviceInfo, MemoryHeap, devices
from .errors import *  # noqa: F403  (the exception classes, listed in errors.__all__)
from .gguf_file import GGUFFile, TensorInfo, dequantize
from . import similarity, workloads
from .cache import CacheStats, EmbeddingCache
from .generation import DEFAULT_MAX_TOKENS, FINISH_REASONS, Batcher, Generation, GenerationStream, Request, SamplingParams
from ._core import DEFAULT_STOP_TOKENS
from .model import Model, State
from .similarity import cos_sim, cosine_similarity, semantic_search, similarity_matrix, top_k
from .chat import CHAT_TEMPLATES, ChatTemplate
from .tokenizer import StreamDecoder, Tokenizer, world_vocab_path

try:  # pyproject.toml's [project] version, as installed: one place to change it
    __version__ = importlib.metadata.version("rwkv_gpu")
except importlib.metadata.PackageNotFoundError:  # imported from a source tree that pip never installed
    __version__ = "0+unknown"

# Submodules imported on first use (`rwkv_gpu.testing.random_model(...)` after `import rwkv_gpu`):
# they import packages (gguf, safetensors, pyarrow) that loading and running a model never needs.
_LAZY_SUBMODULES = ("convert", "testing", "vector_files")


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name == "OpenAIError":  # with pydantic, which only the OpenAI-shaped API needs
        from .openai_types import OpenAIError

        return OpenAIError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY_SUBMODULES])


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
    "SamplingParams",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_STOP_TOKENS",
    "FINISH_REASONS",
    "EmbeddingCache",
    "CacheStats",
    "cosine_similarity",
    "similarity_matrix",
    "top_k",
    "cos_sim",
    "semantic_search",
    "ChatTemplate",
    "CHAT_TEMPLATES",
    "OpenAIError",
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
