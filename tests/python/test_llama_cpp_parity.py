"""llama.cpp (through llama-cpp-python, CPU build) loads the same GGUF files and its last-token
logits agree with ours: top-10 ids identical. llama.cpp's CPU matmuls round activations to the
weight's dot-product type (F16, Q8_0, Q8_K), so its difference grows with quantization."""

import numpy as np
import pytest
import llama_cpp

import rwkv_gpu
from rwkv_gpu.testing import random_model


def llama_cpp_last_logits(path, tokens) -> np.ndarray:
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=512, n_batch=512, logits_all=True, verbose=False, n_threads=2)
    llm.eval([int(t) for t in tokens])
    return np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)


def compare(path, tokens):
    ours = rwkv_gpu.Model(path).run(tokens)
    theirs = llama_cpp_last_logits(path, tokens)
    diff = float(np.abs(ours - theirs).max())
    print(f"\n{path.name}: max |ours - llama.cpp| = {diff:.3g}")
    assert list(np.argsort(-ours)[:10]) == list(np.argsort(-theirs)[:10])
    return diff


def test_tiny_model(tiny_gguf):
    assert compare(tiny_gguf, [34, 105, 110]) < 1e-5


@pytest.mark.parametrize("dtype,bound", [("f16", 5e-3), ("q8_0", 0.1), ("q4_0", 0.1), ("q4_k", 0.3)])
def test_random_models(tmp_path, dtype, bound):
    path = tmp_path / f"random-{dtype}.gguf"
    random_model(path, n_layer=2, n_embd=256, head_size=64, vocab=1000, dtype=dtype, seed=5)
    assert compare(path, np.random.default_rng(3).integers(0, 1000, 24)) < bound
