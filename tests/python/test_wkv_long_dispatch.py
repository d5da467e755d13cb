"""Long sequences in one chunk through the sequential WKV kernel, against the NumPy float64
reference. On lavapipe a single dispatch looping over more than about 26,500 / head size tokens of
a sequence came out wrong (from token 414 at head size 64, 210 at 128); ops/wkv7.cpp now runs such
sequences in windows of dispatches. Head sizes 64, 80 and 128 (whole and odd slabs)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import rwkv_gpu
from rwkv_gpu.testing import random_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from reference.rwkv7_ref import Rwkv7Reference  # noqa: E402


@pytest.mark.parametrize("n_embd,head_size", [(64, 64), (80, 80), (128, 128)])
def test_one_chunk_of_900_tokens_equals_the_reference(tmp_path, monkeypatch, n_embd, head_size):
    monkeypatch.setenv("RWKV_GPU_WKV", "sequential")
    path = tmp_path / "m.gguf"
    random_model(path, n_layer=2, n_embd=n_embd, head_size=head_size, vocab=100, dtype="f32", seed=head_size)
    tokens = np.random.default_rng(6).integers(0, 100, 900)
    expected, _, _ = Rwkv7Reference(path).forward(tokens)
    got = rwkv_gpu.Model(path, chunk_tokens=900).run(tokens, logits="all")
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * scale)
