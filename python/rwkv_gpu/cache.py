"""An LRU cache of embeddings in front of a Model."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from . import _repr


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    evictions: int = 0
    entries: int = 0
    bytes: int = 0


class EmbeddingCache:
    """Caches ``model.embed`` results: a true LRU (every hit refreshes recency) bounded by entry
    count and bytes, safe to share between threads. Keys are the model's fingerprint, the options
    (pooling, normalize) and the text (or token ids).

    Example::

        cache = rwkv_gpu.EmbeddingCache(model, max_entries=10_000, max_bytes=256 << 20)
        vecs = cache.embed_batch(texts)          # only the misses go to the GPU, as one batch
        cache.stats                              # hits, misses, evictions, entries, bytes
    """

    def __init__(self, model, max_entries: int = 10_000, max_bytes: int = 256 << 20):
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("max_entries and max_bytes must be positive")
        self.model = model
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._stats = CacheStats()

    def _key(self, item, pooling: str, normalize: bool) -> tuple:
        if isinstance(item, str):
            content = ("text", item)
        elif isinstance(item, bytes):
            content = ("bytes", item)
        else:
            content = ("ids", tuple(int(t) for t in item))
        return (self.model.info["fingerprint"], pooling, bool(normalize), content)

    def __repr__(self) -> str:
        st = self.stats
        name = os.path.basename(getattr(self.model, "path", "")) or type(self.model).__name__
        return (f"EmbeddingCache({name!r}, {st.entries:,d} of {self.max_entries:,d} entries, "
                f"{_repr.size(st.bytes)} of {_repr.size(self.max_bytes)}, hits {st.hits:,d}, misses {st.misses:,d}, "
                f"evictions {st.evictions:,d})")

    @property
    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(**vars(self._stats))

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, item, pooling: str = "last", normalize: bool = False) -> np.ndarray | None:
        """The cached embedding, or None (counted as a hit or a miss)."""
        key = self._key(item, pooling, normalize)
        with self._lock:
            vec = self._entries.get(key)
            if vec is None:
                self._stats.misses += 1
                return None
            self._entries.move_to_end(key)
            self._stats.hits += 1
            return vec

    def _put(self, key: tuple, vec: np.ndarray) -> None:
        vec = np.array(vec, dtype=np.float32)  # an owned copy: callers may modify theirs
        vec.setflags(write=False)
        if vec.nbytes > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._stats.bytes -= old.nbytes
            self._entries[key] = vec
            self._stats.bytes += vec.nbytes
            while len(self._entries) > self.max_entries or self._stats.bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._stats.bytes -= evicted.nbytes
                self._stats.evictions += 1
            self._stats.entries = len(self._entries)

    def embed(self, item, pooling: str = "last", normalize: bool = False) -> np.ndarray:
        return self.embed_batch([item], pooling=pooling, normalize=normalize)[0]

    def embed_batch(self, items: Iterable, pooling: str = "last", normalize: bool = False,
                    batch_size: int | None = None, progress: bool = False) -> np.ndarray:
        """Like ``Model.embed_batch``; the misses go to the model in one call."""
        items: Sequence = list(items)
        out = np.empty((len(items), self.model.n_embd), dtype=np.float32)
        missing: dict[tuple, list[int]] = {}
        for i, item in enumerate(items):
            vec = self.get(item, pooling, normalize)
            if vec is None:
                missing.setdefault(self._key(item, pooling, normalize), []).append(i)
            else:
                out[i] = vec
        if missing:
            first = [idx[0] for idx in missing.values()]
            vecs = self.model.embed_batch([items[i] for i in first], pooling=pooling, normalize=normalize,
                                          batch_size=batch_size, progress=progress)
            for (key, idx), vec in zip(missing.items(), vecs):
                self._put(key, vec)
                out[idx] = vec
        return out
