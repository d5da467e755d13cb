"""The default model against the official RWKV package (PyPI `rwkv`, its RWKV-7 mode switched on by
RWKV_V7_ON=1, strategy "cpu fp32") on the training script's own .pth: logits and states on several
prompts, whole and in pieces, within 1e-4 relative. The .pth is the source of the packaged GGUF:
converting it must give the packaged file byte for byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rwkv_gpu

DATA = Path(__file__).resolve().parents[1] / "data"
PTH = DATA / "rwkv7-kjv-4x192.pth"  # tools/train_default_model.py's model.pth

PROMPTS = [
    "In the beginning God created",
    "\n",
    "And it came to pass, when Jesus had finished these sayings, that he departed from Galilee, and came "
    "into the coasts of Judaea beyond Jordan; and great multitudes followed him; and he healed them there.",
    "Thou shalt love thy neighbour as thyself. 3:16 {[<>]} ~ naive caf\u00e9",
]
SPLIT = ("The LORD is my shepherd", "; I shall not want.")  # a second piece continues the state

OFFICIAL = r"""
import json, os, sys
os.environ["RWKV_V7_ON"] = "1"
import numpy as np, torch
from rwkv.model import RWKV
model = RWKV(model=sys.argv[1], strategy="cpu fp32")
prompts, split = json.loads(sys.argv[2]), json.loads(sys.argv[3])
out = {}
def flat(state):
    return np.concatenate([s.float().numpy().reshape(-1) for s in state])
for i, p in enumerate(prompts):
    logits, state = model.forward(list(p.encode()), None)
    out[f"logits{i}"], out[f"state{i}"] = logits.float().numpy(), flat(state)
state = None
for piece in split:
    for b in piece.encode():  # token by token: the official one-token path
        logits, state = model.forward([b], state)
out["split_logits"], out["split_state"] = logits.float().numpy(), flat(state)
np.savez(sys.argv[4], **out)
"""


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    assert PTH.exists(), f"missing {PTH}: the training script's .pth of the default model"
    out = tmp_path_factory.mktemp("official") / "official.npz"
    env = dict(os.environ, RWKV_V7_ON="1", RWKV_JIT_ON="1", RWKV_CUDA_ON="0")
    proc = subprocess.run([sys.executable, "-c", OFFICIAL, str(PTH.with_suffix("")), json.dumps(PROMPTS),
                           json.dumps(list(SPLIT)), str(out)], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(np.load(out))


@pytest.fixture(scope="module")
def model():
    return rwkv_gpu.Model(rwkv_gpu.default_model_path())


def close(got, want, what):
    scale = max(1.0, float(np.abs(want).max()))
    err = float(np.abs(np.asarray(got, np.float64) - want).max())
    assert err <= 1e-4 * scale, f"{what}: max |diff| {err:.3g} > 1e-4 x {scale:.3g}"


def test_default_model_is_multi_head(model):
    assert model.info["n_head"] >= 2 and model.info["head_size"] == 64
    assert model.info["vocab"] == 256


@pytest.mark.parametrize("i", range(len(PROMPTS)))
def test_logits_and_state_match_official_package(model, official, i):
    state = model.new_state()
    logits = model.run(PROMPTS[i].encode(), state)
    close(logits, official[f"logits{i}"], f"prompt {i} logits")
    close(model.back_state(state), official[f"state{i}"], f"prompt {i} state")


def test_pieces_match_official_token_by_token(model, official):
    state = model.new_state()
    model.run(SPLIT[0].encode(), state, logits=None)
    logits = model.run(SPLIT[1].encode(), state)
    close(logits, official["split_logits"], "split logits")
    close(model.back_state(state), official["split_state"], "split state")


def test_packaged_gguf_is_the_converted_pth(tmp_path):
    from rwkv_gpu.convert import convert

    out = convert(PTH, tmp_path / "again.gguf", "f16", name=rwkv_gpu.DEFAULT_MODEL.removesuffix("-F16.gguf"))
    assert out.read_bytes() == rwkv_gpu.default_model_path().read_bytes()
