"""Short, informative reprs (issue 14, item 12): one line each, no ``<... object at 0x...>``, no
printed arrays, and the numbers in them agree with what the gguf package reads from the file."""

from __future__ import annotations

import pytest
from gguf import GGUFReader

import rwkv_gpu
from rwkv_gpu import workloads


@pytest.fixture(scope="module")
def model():
    return rwkv_gpu.Model(rwkv_gpu.default_model_path())


@pytest.fixture(scope="module")
def meta():
    fields = GGUFReader(rwkv_gpu.default_model_path()).fields
    scalar = lambda key: int(fields[key].parts[-1][0])  # noqa: E731
    return {"n_layer": scalar("rwkv7.block_count"), "n_embd": scalar("rwkv7.embedding_length"),
            "head_size": scalar("rwkv7.wkv.head_size"), "vocab": len(fields["tokenizer.ggml.tokens"].data)}


def short(obj, limit=300) -> str:
    text = repr(obj)
    assert "object at 0x" not in text and "\n" not in text and "array(" not in text, text
    assert len(text) <= limit, text
    return text


def test_state(model, meta):
    C, N = meta["n_embd"], meta["head_size"]
    H = C // N
    floats = meta["n_layer"] * (2 * C + H * N * N)
    text = short(model.new_state())
    assert text.startswith("State('rwkv7-kjv-4x192-F16.gguf'")
    assert f"{floats:,d} float32" in text and f"{meta['n_layer']} layers" in text
    assert f"wkv [{H}, {N}, {N}]" in text and f"att_shift [{C}]" in text


def test_tokenizers(model, meta):
    vocab_lines = sum(1 for _ in open(rwkv_gpu.world_vocab_path(), encoding="utf-8"))
    assert short(rwkv_gpu.Tokenizer.world()) == f"Tokenizer(the World vocab, {vocab_lines + 1:,d} tokens)"  # + id 0
    assert short(model.tokenizer) == f"Tokenizer('rwkv7-kjv-4x192-F16.gguf', {meta['vocab']} tokens)"
    assert short(rwkv_gpu.Tokenizer.from_gguf(rwkv_gpu.default_model_path())) == short(model.tokenizer)


def test_model_and_cache(model, meta):
    text = short(model)
    assert f"{meta['n_layer']} layers, n_embd {meta['n_embd']}, vocab {meta['vocab']}" in text
    assert model.info["device"] in text and "precision" in text
    cache = rwkv_gpu.EmbeddingCache(model, max_entries=100, max_bytes=1 << 20)
    cache.embed("In the beginning")
    cache.embed("In the beginning")
    text = short(cache)
    assert f"1 of 100 entries, {meta['n_embd'] * 4} B of 1.0 MiB, hits 1, misses 1, evictions 0" in text


def test_workload_results_show_shapes_not_values(model, meta):
    verse = "And God said, Let there be light: and there was light."
    doc = workloads.doc_state(model, verse)
    fields = {f"field_{i}": f"description number {i}" for i in range(12)}
    fa = workloads.field_analysis(model, doc, fields)
    text = short(fa, limit=400)
    assert f"document_vector=float32[{meta['n_embd']}]" in text
    assert f"field_vectors=float32[12, {meta['n_embd']}]" in text
    best, score = fa.ranking[0]
    assert f"({best!r}, {round(score, 4)!r})" in text and "(12 in all)" in text
    assert f"n_tokens={len(verse.encode())}" in short(doc, limit=400)  # byte-level: a token per byte
    assert f"vector=float32[{meta['n_embd']}]" in repr(doc) and "State(" in repr(doc)


def test_generation_requests_and_batcher(model, meta):
    g = model.generate("In the beginning", 40, temperature=0, return_logits=True)
    text = short(g)
    assert f"logits=float32[40, {meta['vocab']}]" in text and "(40 in all)" in text and "'length'" in text
    b = model.batcher(max_batch=2)
    req = b.submit("And", 3, temperature=0)
    assert short(b) == "Batcher(max_batch=2, requests not done: 1)"
    assert "running" in short(req)
    for _ in b:
        pass
    assert short(b) == "Batcher(max_batch=2, requests not done: 0)"
    assert "length" in short(req) and "tokens=3" in repr(req)
