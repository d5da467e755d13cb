"""Reading GGUF files (the files llama.cpp loads), memory-mapped and strictly validated."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core


@dataclass(frozen=True)
class TensorInfo:
    """One tensor of a GGUF file. ``shape`` is numpy order (GGUF's ``ne`` reversed)."""

    name: str
    ne: tuple[int, ...]
    type: str  # ggml type name, e.g. "F32", "Q4_K"
    type_id: int
    offset: int  # absolute byte offset in the file
    n_bytes: int

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(reversed(self.ne))

    @property
    def n_elements(self) -> int:
        return int(np.prod(self.ne, dtype=np.int64)) if self.ne else 1


class GGUFFile:
    """A GGUF file (versions 2 and 3).

    Example::

        f = rwkv_gpu.GGUFFile("model.gguf")
        f.metadata["general.architecture"]     # "rwkv7"
        f.tensors["token_embd.weight"].shape   # (65536, 2560)
        f.tensor("blk.0.attn_norm.weight")     # float32 numpy array (dequantized)

    Raises:
        GGUFError: for a missing, truncated or malformed file (bad magic, unsupported version,
            absurd counts, tensors out of bounds, unknown types, duplicate keys, ...).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self._file = _core.GGUFFile(self.path)
        self.metadata: dict[str, Any] = self._file.metadata()
        self.metadata_types: dict[str, str] = self._file.metadata_types()
        self.tensors: dict[str, TensorInfo] = {
            name: TensorInfo(name, tuple(ne), tname, tid, off, nbytes)
            for name, ne, tname, tid, off, nbytes in self._file.tensors()
        }

    @property
    def version(self) -> int:
        return self._file.version

    @property
    def alignment(self) -> int:
        return self._file.alignment

    def tensor_bytes(self, name: str) -> np.ndarray:
        """The raw bytes of a tensor as a read-only uint8 view of the mapped file (no copy)."""
        if name not in self.tensors:
            raise KeyError(f"no tensor named {name!r} in {self.path}")
        return self._file.tensor_bytes(name)

    def tensor(self, name: str) -> np.ndarray:
        """A tensor dequantized to float32, in numpy shape order."""
        info = self.tensors.get(name)
        if info is None:
            raise KeyError(f"no tensor named {name!r} in {self.path}")
        values = _core.dequantize(info.type, self.tensor_bytes(name), info.n_elements)
        return values.reshape(info.shape)

    def __repr__(self) -> str:
        arch = self.metadata.get("general.architecture", "?")
        return f"GGUFFile({self.path!r}, version={self.version}, architecture={arch!r}, tensors={len(self.tensors)})"


def dequantize(type: str | int, data: np.ndarray | bytes, n_elements: int) -> np.ndarray:
    """Dequantize ggml blocks of ``type`` (e.g. ``"Q4_K"``) to ``n_elements`` float32 values."""
    buf = np.frombuffer(data, dtype=np.uint8) if isinstance(data, (bytes, bytearray, memoryview)) else data
    return _core.dequantize(type, np.ascontiguousarray(buf, dtype=np.uint8), n_elements)
