"""GPU suite (``pytest -m gpu``; needs a device with tensor cores, never CI's lavapipe): the whole
model with ``precision="fast"`` (fp16 tensor-core products) against the NumPy float64 reference on
random multi-head models and every weight type, and greedy tokens against ``precision="exact"``.

The bound is the issue's: 2e-3 of the logit scale (max |logit|). Each check appends its measured
error to ``$RWKV_GPU_ERROR_LOG`` (JSON lines) when set, for docs/precision.md.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

import rwkv_gpu
from rwkv_gpu.testing import DTYPES, random_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from reference.rwkv7_ref import Rwkv7Reference  # noqa: E402

pytestmark = pytest.mark.gpu
BOUND = 2e-3


def _record(**fields):
    path = os.environ.get("RWKV_GPU_ERROR_LOG")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(fields) + "\n")


def _fast(path, **kw) -> rwkv_gpu.Model:
    model = rwkv_gpu.Model(path, precision="fast", **kw)
    assert model.info["precision"] == "fast", f"{model.info['device']} runs no tensor-core products"
    return model


def _check(path, tokens, label):
    expected, _, _ = Rwkv7Reference(path).forward(tokens)
    got = _fast(path).run(tokens, logits="all")
    scale = max(1.0, float(np.abs(expected).max()))
    err = float(np.abs(got - expected).max()) / scale
    _record(test=label, tokens=len(tokens), max_error_over_logit_scale=err, logit_scale=scale)
    assert np.isfinite(got).all()
    assert err <= BOUND, f"{label}: max |fast - fp64 reference| = {err:.3g} of the logit scale"


@pytest.mark.parametrize("n_embd,head_size", [(160, 32), (192, 64)], ids=["5x32", "3x64"])
def test_random_multi_head_model(tmp_path, n_embd, head_size):
    path = tmp_path / "m.gguf"
    random_model(path, n_layer=3, n_embd=n_embd, head_size=head_size, vocab=1003, dtype="f32",
                 lora_ranks=(32, 32, 32, 64), lora_dtype="f32", seed=n_embd)
    _check(path, np.random.default_rng(0).integers(0, 1003, 317), f"random {n_embd // head_size}x{head_size} f32, 317 tokens")


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_weight_type(tmp_path, dtype):
    path = tmp_path / f"{dtype}.gguf"
    n_embd = 256 if dtype.endswith("_k") else 192
    random_model(path, n_layer=2, n_embd=n_embd, head_size=64, vocab=517, dtype=dtype, seed=7)
    tokens = np.random.default_rng(1).integers(0, 517, 300)
    _check(path, tokens, f"random 2-layer {dtype}, 300 tokens")
    _check(path, tokens[:17], f"random 2-layer {dtype}, 17 tokens")


def test_default_model_against_reference():
    text = ("And God said, Let the waters under the heaven be gathered together unto one place, and let the dry "
            "land appear: and it was so. And God called the dry land Earth; and the gathering together of the "
            "waters called he Seas: and God saw that it was good. And the evening and the morning were the third.")
    _check(rwkv_gpu.default_model_path(), list(text.encode()), "default model (trained), 300 bytes")


@pytest.mark.parametrize("which", ["default", "tiny"])
def test_greedy_tokens_equal_exact(which, tiny_gguf):
    """64 greedy steps after a prompt long enough for the tensor-core products, alone and as a batch
    of 8 (whose decode steps use them too)."""
    path = rwkv_gpu.default_model_path() if which == "default" else tiny_gguf
    prompts = ["And it came to pass, when the king heard the words of the law, that he rent his clothes. " * (i + 1)
               for i in range(8)]
    exact = rwkv_gpu.Model(path, precision="exact")
    fast = _fast(path)
    for p in prompts[:2]:
        assert fast.generate(p, 64, temperature=0).tokens == exact.generate(p, 64, temperature=0).tokens
    got = [o.tokens for o in fast.generate_batch(prompts, 64, temperature=0)]
    want = [o.tokens for o in exact.generate_batch(prompts, 64, temperature=0)]
    same = sum(g == w for g, w in zip(got, want))
    _record(test=f"greedy 64 steps, {which} model", sequences=len(prompts), identical=same)
    assert got == want
