"""Similarity helpers (against plain-Python loops), the LRU embedding cache (with a counting fake
model, so what reaches the "GPU" is visible), and the two workloads on the tiny model."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

import rwkv_gpu
from rwkv_gpu import EmbeddingCache, cosine_similarity, similarity_matrix, top_k, workloads
from threads import run_in_threads


def py_cosine(a, b):
    dot = sum(float(x) * float(y) for x, y in zip(a, b))
    return dot / (math.sqrt(sum(float(x) ** 2 for x in a)) * math.sqrt(sum(float(y) ** 2 for y in b)))


def test_similarity_against_loops():
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((5, 17)).astype(np.float32), rng.standard_normal((7, 17)).astype(np.float32)
    S = similarity_matrix(A, B)
    assert S.shape == (5, 7) and S.dtype == np.float32
    for i in range(5):
        for j in range(7):
            assert S[i, j] == pytest.approx(py_cosine(A[i], B[j]), abs=1e-6)
    assert cosine_similarity(A[0], B[0]) == pytest.approx(py_cosine(A[0], B[0]), abs=1e-6)
    np.testing.assert_allclose(cosine_similarity(A[:3], B[:3]), [py_cosine(A[i], B[i]) for i in range(3)], atol=1e-6)
    idx, scores = top_k(A[0], B, 3)
    brute = sorted(range(7), key=lambda j: -py_cosine(A[0], B[j]))[:3]
    assert list(idx) == brute and scores[0] >= scores[1] >= scores[2]
    assert len(top_k(A[0], B, 100)[0]) == 7


def test_similarity_errors():
    with pytest.raises(ValueError, match="differ"):
        similarity_matrix(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="differ"):
        cosine_similarity(np.zeros(3), np.zeros(4))
    with pytest.raises(TypeError, match="numeric"):
        similarity_matrix(np.array(["a", "b"]), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="2-D"):
        similarity_matrix(np.zeros((2, 2, 2)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="positive"):
        top_k(np.ones(3), np.ones((4, 3)), 0)


class FakeModel:
    """Embeds text as a deterministic vector and counts what it is asked for."""

    n_embd = 4
    info = {"fingerprint": 1234}

    def __init__(self):
        self.calls: list[list] = []
        self.lock = threading.Lock()

    def embed_batch(self, items, pooling="last", normalize=False, batch_size=None, progress=False):
        with self.lock:
            self.calls.append(list(items))
        return np.array([[len(str(t)), hash(str(t)) % 97, 1.0, 2.0] for t in items], dtype=np.float32)


def test_cache_sends_only_misses_in_one_batch():
    model = FakeModel()
    cache = EmbeddingCache(model, max_entries=100)
    first = cache.embed_batch(["a", "b", "a", "c"])
    assert model.calls == [["a", "b", "c"]]  # duplicates and hits never reach the model
    again = cache.embed_batch(["c", "d", "a"])
    assert model.calls[-1] == ["d"]
    np.testing.assert_array_equal(again[0], first[3])
    np.testing.assert_array_equal(again[2], first[0])
    st = cache.stats
    assert (st.hits, st.misses, st.entries) == (2, 5, 4)  # "a" twice in the first call: two misses


def test_cache_is_lru_bounded_by_entries_and_bytes():
    model = FakeModel()
    cache = EmbeddingCache(model, max_entries=3)
    cache.embed_batch(["a", "b", "c"])
    cache.get("a")                 # a becomes most recent
    cache.embed_batch(["d"])       # evicts b, the least recent
    assert cache.get("b") is None and cache.get("a") is not None
    assert cache.stats.evictions == 1 and len(cache) == 3
    small = EmbeddingCache(model, max_entries=100, max_bytes=2 * 16)  # two 4-float vectors
    small.embed_batch(["x", "y", "z"])
    assert len(small) == 2 and small.stats.bytes <= 32 and small.get("x") is None
    assert small.stats.evictions == 1
    # Options are part of the key.
    cache.embed("a", pooling="mean")
    assert model.calls[-1] == ["a"]


def test_cache_thread_safety():
    model = FakeModel()
    cache = EmbeddingCache(model, max_entries=50)
    texts = [f"t{i}" for i in range(200)]

    def work(seed):
        rng = np.random.default_rng(seed)
        for _ in range(50):
            batch = list(rng.choice(texts, 5))
            vecs = cache.embed_batch(batch)
            for t, v in zip(batch, vecs):
                assert v[0] == len(t)

    run_in_threads(work, 8)
    st = cache.stats
    assert len(cache) <= 50 and st.entries == len(cache)
    assert st.hits + st.misses == 8 * 50 * 5
    assert st.bytes == sum(v.nbytes for v in cache._entries.values())


EMAIL = ("Hi team, the invoice for October is attached. Please pay by Friday to the usual account; "
         "contact me if the amount looks wrong. Thanks, Maria (Accounts)")
SCHEMA = {
    "sender": "who wrote the message",
    "amount": "how much money is due",
    "deadline": "the date by which something must happen",
    "topic": "what the message is about",
    "greeting": "how the message opens",
    "attachment": "files sent with the message",
}


class BatchesOnly:
    """An embedder (as field_analysis's cache) that records each embed_batch call and fails on embed:
    a document run on its own."""

    def __init__(self, model):
        self.model, self.calls = model, []

    def embed(self, *args, **kwargs):
        raise AssertionError("the document ran on its own")

    def embed_batch(self, items, **kwargs):
        self.calls.append(list(items))
        return self.model.embed_batch(items, **kwargs)


@pytest.fixture(scope="module")
def tiny(tiny_gguf):
    return rwkv_gpu.Model(tiny_gguf)


def test_workloads_on_tiny_model(tiny):
    ds = workloads.doc_state(tiny, EMAIL)
    assert ds.vector.shape == (tiny.n_embd,) and abs(np.linalg.norm(ds.vector) - 1) < 1e-5
    np.testing.assert_allclose(ds.vector, tiny.embed(EMAIL, normalize=True), atol=1e-5)
    assert ds.n_tokens == len(EMAIL.encode()) and isinstance(ds.state, rwkv_gpu.State)
    fa = workloads.field_analysis(tiny, EMAIL, SCHEMA)
    assert sorted(n for n, _ in fa.ranking) == sorted(SCHEMA)
    scores = [s for _, s in fa.ranking]
    assert scores == sorted(scores, reverse=True) and all(-1 <= s <= 1 for s in scores)
    # The same ranking through the cache; the second time the fields are all hits.
    cache = EmbeddingCache(tiny)
    workloads.field_analysis(tiny, EMAIL, SCHEMA, cache=cache)
    fb = workloads.field_analysis(tiny, EMAIL, SCHEMA, cache=cache)
    assert [n for n, _ in fb.ranking] == [n for n, _ in fa.ranking]
    assert cache.stats.hits == 7
    assert set(fa.timings) == {"embed", "rank"}


def test_field_analysis_runs_document_and_fields_in_one_batch(tiny):
    """A text document goes through the model with the field prompts, in one embed_batch call
    (document first), and its vector equals embed's for the document alone."""
    spy = BatchesOnly(tiny)
    fa = workloads.field_analysis(tiny, EMAIL, SCHEMA, cache=spy)
    assert len(spy.calls) == 1 and spy.calls[0][0] == EMAIL and len(spy.calls[0]) == 1 + len(SCHEMA)
    np.testing.assert_allclose(fa.document_vector, tiny.embed(EMAIL, normalize=True), atol=1e-5)
    prompts = [f"{name}: {desc}" for name, desc in SCHEMA.items()]
    np.testing.assert_allclose(fa.field_vectors, tiny.embed_batch(prompts, normalize=True), atol=1e-5)


def test_field_analysis_reuses_a_doc_state(tiny):
    """Given the document's DocState, field analysis scores against its vector and never runs the
    document again: only the field prompts reach the model."""
    ds = workloads.doc_state(tiny, EMAIL)
    want = workloads.field_analysis(tiny, EMAIL, SCHEMA)

    spy = BatchesOnly(tiny)
    got = workloads.field_analysis(tiny, ds, SCHEMA, cache=spy)
    assert len(spy.calls) == 1 and len(spy.calls[0]) == len(SCHEMA)  # all fields in one batch
    assert [n for n, _ in got.ranking] == [n for n, _ in want.ranking]
    np.testing.assert_allclose([s for _, s in got.ranking], [s for _, s in want.ranking], atol=1e-5)
    with pytest.raises(ValueError, match="pooled with 'last'"):
        workloads.field_analysis(tiny, ds, SCHEMA, pooling="mean")


def test_doc_states_equal_doc_state_per_document(tiny):
    """Many documents in one batch (batch_size 2: across batches too): each vector, state and token
    count equals doc_state's for that document alone; the states then continue alike."""
    texts = [EMAIL, "Short note.", EMAIL[:300], "Another, longer message about the invoice and its total."]
    many = workloads.doc_states(tiny, texts, batch_size=2)
    assert len(many) == len(texts)
    for text, got in zip(texts, many):
        want = workloads.doc_state(tiny, text)
        assert got.n_tokens == want.n_tokens and got.pooling == "last"
        np.testing.assert_allclose(got.vector, want.vector, rtol=0, atol=1e-5)
        np.testing.assert_allclose(tiny.back_state(got.state), tiny.back_state(want.state), rtol=0, atol=1e-5)
        np.testing.assert_allclose(tiny.run([65], got.state), tiny.run([65], want.state), rtol=0, atol=1e-5)
    assert len({id(d.state) for d in many}) == len(texts)  # a state of its own each
    with pytest.raises(ValueError, match="item 1"):
        workloads.doc_states(tiny, [EMAIL, " "])
    assert workloads.doc_states(tiny, []) == []


def test_workload_errors(tiny):
    with pytest.raises(ValueError, match="non-empty"):
        workloads.doc_state(tiny, "   ")
    with pytest.raises(ValueError, match="non-empty dict"):
        workloads.field_analysis(tiny, EMAIL, {})
    with pytest.raises(TypeError):
        workloads.field_analysis(tiny, EMAIL, {"a": 3})
