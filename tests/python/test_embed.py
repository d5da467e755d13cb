"""Embeddings and states against the NumPy float64 reference (tests/reference)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import rwkv_gpu
from rwkv_gpu.testing import random_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from reference.rwkv7_ref import Rwkv7Reference  # noqa: E402
from threads import run_in_threads  # noqa: E402


@pytest.fixture(scope="module")
def multi_head(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "m.gguf"
    random_model(path, n_layer=2, n_embd=128, head_size=32, vocab=1000, dtype="f32", lora_dtype="f32", seed=11)
    return path


@pytest.fixture(scope="module")
def model(multi_head):
    return rwkv_gpu.Model(multi_head, chunk_tokens=64)


@pytest.fixture(scope="module")
def ref(multi_head):
    return Rwkv7Reference(multi_head)


def tokens(n, seed):
    return np.random.default_rng(seed).integers(0, 1000, n)


@pytest.mark.parametrize("pooling", ["last", "mean", "state"])
def test_embed_matches_reference(model, ref, pooling):
    toks = tokens(37, 1)
    _, emb, st = ref.forward(toks)
    expected = {"last": emb[-1], "mean": emb.mean(axis=0), "state": st[-1]["wkv"].mean(axis=2).reshape(-1)}[pooling]
    got = model.embed(toks, pooling=pooling)
    assert got.shape == (model.n_embd,) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    unit = model.embed(toks, pooling=pooling, normalize=True)
    np.testing.assert_allclose(unit, expected / np.linalg.norm(expected), rtol=0, atol=1e-5)


def test_tiny_model_embedding(tiny_gguf):
    model = rwkv_gpu.Model(tiny_gguf)
    _, emb, _ = Rwkv7Reference(tiny_gguf).forward([34, 105, 110])
    np.testing.assert_allclose(model.embed('"in'), emb[-1], rtol=0, atol=1e-5)


@pytest.mark.parametrize("pooling", ["last", "mean", "state"])
def test_embed_batch_equals_embed_loop(model, pooling):
    # Very different lengths; with 64-token chunks the long ones span several chunks.
    items = [tokens(n, 100 + i) for i, n in enumerate([1, 5, 150, 2, 63, 64, 65, 300, 7])]
    batch = model.embed_batch(items, pooling=pooling)
    loop = np.stack([model.embed(t, pooling=pooling) for t in items])
    np.testing.assert_allclose(batch, loop, rtol=0, atol=1e-5)
    np.testing.assert_allclose(model.embed_batch(items[:1], pooling=pooling), loop[:1], rtol=0, atol=1e-5)
    np.testing.assert_allclose(model.embed_batch(items, pooling=pooling, batch_size=4), loop, rtol=0, atol=1e-5)


def test_embed_does_no_head_work(model):
    core = model._core
    core.set_profiling(True)
    try:
        model.embed(tokens(20, 3))
        embed_ops = [name for name, _ in core.last_timings()]
        model.run(tokens(20, 3), logits=None)
        layer_ops = [name for name, _ in core.last_timings()]
        model.run(tokens(20, 3), logits="last")
        logits_ops = [name for name, _ in core.last_timings()]
    finally:
        core.set_profiling(False)
    # The layers, ln_out and its pooling on the GPU: nothing vocabulary-sized. Logits: ln_out and the head.
    assert embed_ops == layer_ops + ["layer_norm", "pool_rows"]
    assert logits_ops == layer_ops + ["layer_norm", "matvec_f32"]


def test_back_state_is_zero_copy(model, ref):
    state = model.new_state()
    toks = tokens(10, 4)
    model.run(toks, state, logits=None)
    a = model.back_state(state)
    b = model.back_state(state)
    assert np.shares_memory(a, b) and not a.flags.owndata and a.dtype == np.float32
    assert a.size == model.info["state_floats"]
    _, _, st = ref.forward(toks)
    layers = model.state_layers(a)
    assert np.shares_memory(layers[1]["wkv"], a)
    for got, exp in zip(layers, st):
        np.testing.assert_allclose(got["att_shift"], exp["att"], atol=1e-5)
        np.testing.assert_allclose(got["wkv"], exp["wkv"], atol=1e-5)
        np.testing.assert_allclose(got["ffn_shift"], exp["ffn"], atol=1e-5)
    # The view outlives the State object.
    del state
    assert np.isfinite(a).all() and np.abs(a).sum() > 0


def test_prompt_without_logits_over_overlapped_chunks(model, ref):
    """150 tokens in chunks of 64 without logits: each chunk is recorded while the one before runs
    (two sets of chunk inputs); the state after them is the reference's."""
    state = model.new_state()
    toks = tokens(150, 8)
    model.run(toks, state, logits=None)
    _, _, st = ref.forward(toks)
    for got, exp in zip(model.state_layers(model.back_state(state)), st):
        for name, key in (("att_shift", "att"), ("wkv", "wkv"), ("ffn_shift", "ffn")):
            np.testing.assert_allclose(got[name], exp[key], atol=1e-5 * np.abs(exp[key]).max())  # of its scale
    # A decode step after it (its recording binds the first set of inputs) continues the reference.
    logits, _, _ = ref.forward(np.append(toks, 3))
    np.testing.assert_allclose(model.run([3], state), logits[-1], atol=1e-5 * np.abs(logits[-1]).max())


def test_write_through_view_and_load_state(model):
    toks, more = tokens(12, 5), tokens(6, 6)
    s1 = model.new_state()
    model.run(toks, s1, logits=None)
    s2 = model.new_state()
    view = model.back_state(s2)
    view[:] = model.back_state(s1)  # write through s2's view...
    model.load_state(s2, view)       # ...and make it the GPU state
    np.testing.assert_array_equal(model.run(more, s2), model.run(more, s1))
    with pytest.raises(ValueError, match="float32"):
        model.load_state(s2, np.zeros(3, np.float32))


def test_load_state_from_another_view_of_the_mirror(model):
    """A reversed view of the state's own mirror overlaps it but is another layout: it is loaded,
    not skipped as if it were the mirror itself."""
    s = model.new_state()
    model.run(tokens(12, 5), s, logits=None)
    before = model.back_state(s).copy()
    model.load_state(s, model.back_state(s)[::-1])
    np.testing.assert_array_equal(model.back_state(s), before[::-1])  # read back from the GPU


def test_clone_save_load(model, tmp_path, tiny_gguf):
    s = model.new_state()
    model.run(tokens(9, 7), s, logits=None)
    c = s.clone()
    expected = model.run([5], s)
    np.testing.assert_array_equal(model.run([5], c), expected)  # the clone continued independently
    s.save(tmp_path / "s.npz")
    fresh = model.new_state()
    fresh.load(tmp_path / "s.npz")
    np.testing.assert_array_equal(model.back_state(fresh), model.back_state(s))
    other = rwkv_gpu.Model(tiny_gguf)
    with pytest.raises(ValueError, match="another model"):
        other.new_state().load(tmp_path / "s.npz")


def test_prefix_state(model):
    prefix, suffixes = tokens(20, 8), [tokens(n, 9 + n) for n in (3, 11, 1)]
    pstate = model.prefix_state(prefix)
    before = model.back_state(pstate).copy()
    got = model.embed_batch(suffixes, state=pstate)
    want = np.stack([model.embed(np.concatenate([prefix, s])) for s in suffixes])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(model.back_state(pstate), before)  # the prefix state is unchanged


def test_threads_share_one_model(model):
    items = [tokens(n, 50 + n) for n in (4, 9, 17, 33)]
    want = model.embed_batch(items)
    for r in run_in_threads(lambda i: model.embed_batch(items), 8):
        np.testing.assert_allclose(r, want, rtol=0, atol=1e-6)


def test_bad_inputs(model):
    with pytest.raises(ValueError, match="no tokens"):
        model.embed("")
    with pytest.raises(ValueError, match="pooling"):
        model.embed([1, 2], pooling="max")
    with pytest.raises(ValueError, match="out of range"):
        model.embed_batch([[1], [5000]])
    assert model.embed_batch([]).shape == (0, model.n_embd)
    with pytest.raises(ValueError, match="needs the state"):
        model.embed([1, 2], advance=True)


def test_a_state_holds_what_one_binding_holds():
    """The shaders bind a state whole: its slots must fit the device's maxStorageBufferRange. A
    larger embed_batch runs as several batches; a larger state is a clear error."""
    m = rwkv_gpu.Model(rwkv_gpu.default_model_path())
    device = next(d for d in rwkv_gpu.devices() if d.selected)
    most = device.max_storage_buffer_range // (m.info["state_floats"] * 4)
    assert m.info["max_state_slots"] == most and m.info["max_batch"] <= most
    with pytest.raises(ValueError, match="largest storage binding"):
        m._core.new_state(most + 1)
    items = [[int(t)] for t in np.random.default_rng(5).integers(1, 256, most + 9)]
    got = m.embed_batch(items, batch_size=most + 100)
    # Another batch size takes other kernels (tiles instead of the batched one), each within the
    # exact path's 1e-5 of the reference: within twice that of each other.
    np.testing.assert_allclose(got[[0, most - 1, most, most + 8]],
                               m.embed_batch([items[i] for i in (0, most - 1, most, most + 8)]), atol=2e-5, rtol=0)
