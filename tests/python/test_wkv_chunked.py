"""The chunked WKV (shaders/wkv7_chunked.comp: chunks of 16 tokens in parallel, only the
chunk-to-chunk state pass sequential) against the NumPy float64 reference and the sequential
kernel, forced with RWKV_GPU_WKV=chunked (the selection table keeps CPU devices sequential):
lengths around chunk boundaries, prompts in pieces (the state carried across submissions),
ragged batches of many sequences, and decays at both ends of their range."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import rwkv_gpu
from rwkv_gpu.testing import random_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from reference.rwkv7_ref import Rwkv7Reference  # noqa: E402

TOL = 1e-5  # of the logit scale, as the sequential kernel's tests


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    out = {}
    for n_embd, head_size in [(160, 32), (192, 64)]:
        path = tmp_path_factory.mktemp("wkv") / f"{n_embd}x{head_size}.gguf"
        random_model(path, n_layer=2, n_embd=n_embd, head_size=head_size, vocab=311, dtype="f32",
                     lora_ranks=(32, 32, 32, 32), lora_dtype="f32", seed=head_size)
        out[f"{n_embd // head_size}x{head_size}"] = path
    return out


@pytest.fixture
def chunked(monkeypatch):
    monkeypatch.setenv("RWKV_GPU_WKV", "chunked")


def _close(got, want):
    scale = max(1.0, float(np.abs(want).max()))
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL * scale)


@pytest.mark.parametrize("which", ["5x32", "3x64"])
def test_lengths_around_chunk_boundaries(models, chunked, which):
    path = models[which]
    tokens = np.random.default_rng(1).integers(0, 311, 300)
    expected, _, _ = Rwkv7Reference(path).forward(tokens)
    model = rwkv_gpu.Model(path, chunk_tokens=300)
    model._core.set_profiling(True)
    for n in (1, 2, 15, 16, 17, 31, 32, 33, 100, 300):
        _close(model.run(tokens[:n], logits="all"), expected[:n])
        shaders = {name for name, _ in model._core.last_timings()}
        assert {"wkv7_chunk_prepare", "wkv7_chunk_state", "wkv7_chunk_output"} <= shaders and "wkv7" not in shaders


def test_pieces_carry_the_state(models, chunked, monkeypatch):
    """Submissions of 5, 40, 16, 100 and 139 tokens, each in internal chunks of at most 48: the
    state after each equals the sequential kernel's, and the logits the reference's."""
    path = models["3x64"]
    tokens = np.random.default_rng(2).integers(0, 311, 300)
    expected, _, _ = Rwkv7Reference(path).forward(tokens)
    model = rwkv_gpu.Model(path, chunk_tokens=48)
    state = model.new_state()
    monkeypatch.setenv("RWKV_GPU_WKV", "sequential")
    seq_state = model.new_state()
    at = 0
    for n in (5, 40, 16, 100, 139):
        monkeypatch.setenv("RWKV_GPU_WKV", "chunked")
        got = model.run(tokens[at:at + n], state, logits="all")
        monkeypatch.setenv("RWKV_GPU_WKV", "sequential")
        model.run(tokens[at:at + n], seq_state, logits=None)
        _close(got, expected[at:at + n])
        a, b = model.back_state(state), model.back_state(seq_state)
        np.testing.assert_allclose(a, b, rtol=0, atol=TOL * max(1.0, float(np.abs(b).max())))
        at += n


def test_ragged_batch_equals_sequential(models, chunked, monkeypatch):
    """60 sequences of 1-90 tokens packed in shared submissions (chunks never straddle them)."""
    path = models["5x32"]
    rng = np.random.default_rng(3)
    seqs = [list(rng.integers(0, 311, int(n))) for n in rng.integers(1, 91, 60)]
    model = rwkv_gpu.Model(path)
    got = model.embed_batch(seqs, pooling="mean")
    monkeypatch.setenv("RWKV_GPU_WKV", "sequential")
    want = model.embed_batch(seqs, pooling="mean")
    _close(got, want)


def _with_decay_bias(src: Path, dst: Path, w0: float) -> None:
    """A copy of src with every layer's w0 set to `w0`: +30 saturates the decay at its strongest
    (w = e^-0.606531), -30 makes w = 1 - 1e-13 (no decay)."""
    import shutil

    from gguf import GGUFReader

    shutil.copy(src, dst)
    reader = GGUFReader(dst, "r+")
    for t in reader.tensors:
        if t.name.endswith("time_mix_w0.weight"):
            t.data[...] = w0
    del reader


@pytest.mark.parametrize("w0", [30.0, -30.0], ids=["strongest-decay", "decay-near-1"])
def test_decays_at_both_ends(models, chunked, tmp_path, w0):
    path = tmp_path / "m.gguf"
    _with_decay_bias(models["3x64"], path, w0)
    from gguf import GGUFReader

    w0s = [t.data for t in GGUFReader(path).tensors if t.name.endswith("time_mix_w0.weight")]
    assert len(w0s) == 2 and all((w == w0).all() for w in w0s)
    tokens = np.random.default_rng(4).integers(0, 311, 200)
    expected, _, _ = Rwkv7Reference(path).forward(tokens)
    _close(rwkv_gpu.Model(path).run(tokens, logits="all"), expected)


def test_environment_value_is_checked(models, monkeypatch):
    monkeypatch.setenv("RWKV_GPU_WKV", "parallel")
    with pytest.raises(ValueError, match="RWKV_GPU_WKV"):
        rwkv_gpu.Model(models["5x32"]).run([1, 2, 3])
