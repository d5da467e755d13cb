"""Vectorized similarity helpers on float32 numpy arrays.

The shapes follow ``sentence_transformers.util``: a vector and a matrix broadcast (one score per
row), a matrix of queries gives one result per query.
"""

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


def _same_length(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"vectors differ in length: {a.shape[1]} vs {b.shape[1]}")


def _unit(a: np.ndarray) -> np.ndarray:
    # Scaled by each row's largest magnitude first: the norm of [1e30, 1e30] overflows float32.
    scale = np.max(np.abs(a), axis=1, keepdims=True)
    a = a / np.where(scale > 0, scale, 1)
    return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)


def similarity_matrix(A, B) -> np.ndarray:
    """Cosine similarities of every row of A with every row of B: float32 ``[len(A), len(B)]``."""
    a, b = _as_matrix(A, "A"), _as_matrix(B, "B")
    _same_length(a, b)
    return _unit(a) @ _unit(b).T


def cosine_similarity(a, b) -> float | np.ndarray:
    """Cosine similarity of paired vectors.

    - two vectors ``[d]``: a float;
    - a vector and a matrix ``[n, d]`` (either order): float32 ``[n]``, the vector against every row;
    - two matrices ``[n, d]``: float32 ``[n]``, row i against row i (a ``[1, d]`` matrix pairs with
      every row, as numpy broadcasts).

    ``similarity_matrix`` gives every row against every row.
    """
    A, B = _as_matrix(a, "a"), _as_matrix(b, "b")
    _same_length(A, B)
    if len(A) != len(B) and 1 not in (len(A), len(B)):
        raise ValueError(f"cannot pair {len(A)} rows with {len(B)} rows "
                         "(similarity_matrix(a, b) scores every row against every row)")
    sims = np.sum(_unit(A) * _unit(B), axis=1)
    return float(sims[0]) if np.ndim(a) == 1 and np.ndim(b) == 1 else sims


def top_k(query, corpus, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k rows of ``corpus`` most similar to ``query`` (cosine), best first (ties: lower index).

    A query vector ``[d]`` gives ``(indices [k], scores [k])``; a matrix of queries ``[q, d]`` gives
    ``(indices [q, k], scores [q, k])``, row i for query i. ``k`` larger than the corpus is cut to
    its size.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    scores = similarity_matrix(query, corpus)
    k = min(int(k), scores.shape[1])
    if 0 < k < scores.shape[1]:
        # argpartition picks the k best without sorting a large corpus; it breaks ties at the
        # k-th place arbitrarily, so rows with such ties take the full stable sort instead.
        idx = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        kth = np.take_along_axis(scores, idx, axis=1).min(axis=1, keepdims=True)
        tied = np.count_nonzero(scores >= kth, axis=1) > k
        idx[tied] = np.argsort(-scores[tied], axis=1, kind="stable")[:, :k]
        idx.sort(axis=1)  # index order first, so the stable sort by score keeps equal scores in it
        by_score = np.argsort(-np.take_along_axis(scores, idx, axis=1), axis=1, kind="stable")
        idx = np.take_along_axis(idx, by_score, axis=1)
    else:
        idx = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    best = np.take_along_axis(scores, idx, axis=1)
    if np.ndim(query) == 1:
        return idx[0], best[0]
    return idx, best


# sentence-transformers' names (``util.cos_sim``, ``util.semantic_search``), on numpy arrays.
_top_k = top_k  # semantic_search's parameter hides the function, as in sentence-transformers' signature


def cos_sim(a, b) -> np.ndarray:
    """``sentence_transformers.util.cos_sim``: every row of a against every row of b, float32
    ``[len(a), len(b)]`` (a vector counts as one row); the same as ``similarity_matrix``."""
    return similarity_matrix(a, b)


def semantic_search(query_embeddings, corpus_embeddings, top_k: int = 10) -> list[list[dict]]:
    """``sentence_transformers.util.semantic_search``: for each query (a vector or rows of a matrix),
    the ``top_k`` most similar corpus rows as ``{"corpus_id": int, "score": float}``, best first."""
    idx, scores = _top_k(np.atleast_2d(np.asarray(query_embeddings)), corpus_embeddings, top_k)
    return [[{"corpus_id": int(i), "score": float(s)} for i, s in zip(row_i, row_s)] for row_i, row_s in zip(idx, scores)]
