"""Vectorized similarity helpers on float32 numpy arrays."""

from __future__ import annotations

import numpy as np


def _as_matrix(x, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be numeric, got dtype {a.dtype}")
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ValueError(f"{name} must be a vector or a 2-D matrix of vectors, got shape {a.shape}")
    if a.shape[1] == 0:
        raise ValueError(f"{name} has vectors of length 0")
    return a.astype(np.float32, copy=False)


def _unit(a: np.ndarray) -> np.ndarray:
    # Scaled by each row's largest magnitude first: the norm of [1e30, 1e30] overflows float32.
    scale = np.max(np.abs(a), axis=1, keepdims=True)
    a = a / np.where(scale > 0, scale, 1)
    return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)


def similarity_matrix(A, B) -> np.ndarray:
    """Cosine similarities of every row of A with every row of B: float32 ``[len(A), len(B)]``."""
    a, b = _as_matrix(A, "A"), _as_matrix(B, "B")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"vectors differ in length: {a.shape[1]} vs {b.shape[1]}")
    return _unit(a) @ _unit(b).T


def cosine_similarity(a, b) -> float | np.ndarray:
    """Cosine similarity of two vectors (a float), or row-wise of two equally shaped matrices."""
    va, vb = np.asarray(a), np.asarray(b)
    if va.shape != vb.shape:
        raise ValueError(f"shapes differ: {va.shape} vs {vb.shape}")
    A, B = _as_matrix(va, "a"), _as_matrix(vb, "b")
    sims = np.sum(_unit(A) * _unit(B), axis=1)
    return float(sims[0]) if va.ndim == 1 else sims


def top_k(query, corpus, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k rows of ``corpus`` most similar to ``query`` (cosine): ``(indices, scores)``, best first."""
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    scores = similarity_matrix(query, corpus)[0]
    k = min(int(k), scores.size)
    idx = np.argpartition(-scores, k - 1)[:k]
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    return idx, scores[idx]
