"""Shapes of the similarity helpers as sentence_transformers.util has them (issue 14, items 5 and
6): a matrix of queries gives one top-k result per query, a vector broadcasts against a matrix.
The reference is plain Python over float64 (no numpy in the scoring)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rwkv_gpu import cosine_similarity, top_k


def py_cosine(a, b) -> float:
    dot = sum(float(x) * float(y) for x, y in zip(a, b))
    return dot / (math.sqrt(sum(float(x) ** 2 for x in a)) * math.sqrt(sum(float(y) ** 2 for y in b)))


def py_top_k(query, corpus, k):
    """Best first; equal scores in index order."""
    scores = [py_cosine(query, row) for row in corpus]
    order = sorted(range(len(corpus)), key=lambda j: (-scores[j], j))[:k]
    return order, [scores[j] for j in order]


def test_top_k_gives_one_result_per_query():
    rng = np.random.default_rng(1)
    queries = rng.standard_normal((4, 9)).astype(np.float32)
    corpus = rng.standard_normal((30, 9)).astype(np.float32)
    idx, scores = top_k(queries, corpus, k=5)
    assert idx.shape == (4, 5) and scores.shape == (4, 5)
    for q in range(4):  # before the fix every row was query 0's answer
        ref_idx, ref_scores = py_top_k(queries[q], corpus, 5)
        assert list(idx[q]) == ref_idx, q
        np.testing.assert_allclose(scores[q], ref_scores, atol=1e-6)
    one_idx, one_scores = top_k(queries[2], corpus, k=5)  # a vector query keeps its 1-D result
    assert one_idx.shape == (5,) and list(one_idx) == py_top_k(queries[2], corpus, 5)[0]


def test_top_k_ties_are_in_index_order_and_k_is_capped():
    # Corpora of repeated rows from a pool of 4: exact ties (bit-equal scores), some at the k-th place.
    rng = np.random.default_rng(2)
    for _ in range(200):
        pool = rng.standard_normal((4, 3)).astype(np.float32)
        queries = rng.standard_normal((3, 3)).astype(np.float32)
        corpus = pool[rng.integers(0, 4, int(rng.integers(1, 12)))]
        k = int(rng.integers(1, 14))
        idx, _ = top_k(queries, corpus, k)
        assert idx.shape == (3, min(k, len(corpus)))
        for q in range(3):
            assert list(idx[q]) == py_top_k(queries[q], corpus, k)[0]


def test_cosine_similarity_broadcasts_a_vector_against_a_matrix():
    rng = np.random.default_rng(3)
    q = rng.standard_normal((3, 8)).astype(np.float32)
    corpus = rng.standard_normal((6, 8)).astype(np.float32)
    expected = [py_cosine(q[0], row) for row in corpus]
    np.testing.assert_allclose(cosine_similarity(q[0], corpus), expected, atol=1e-6)
    np.testing.assert_allclose(cosine_similarity(corpus, q[0]), expected, atol=1e-6)
    np.testing.assert_allclose(cosine_similarity(q[:1], corpus), expected, atol=1e-6)  # [1, d] too
    paired = cosine_similarity(q, corpus[:3])  # equal shapes stay row by row
    np.testing.assert_allclose(paired, [py_cosine(q[i], corpus[i]) for i in range(3)], atol=1e-6)
    assert isinstance(cosine_similarity(q[0], q[1]), float)


def test_cosine_similarity_shape_errors_name_the_way_out():
    with pytest.raises(ValueError, match="similarity_matrix"):
        cosine_similarity(np.ones((3, 4)), np.ones((5, 4)))
    with pytest.raises(ValueError, match="differ in length"):
        cosine_similarity(np.ones(4), np.ones((5, 3)))
    with pytest.raises(ValueError, match="positive"):
        top_k(np.ones(3), np.ones((4, 3)), True)
