"""Model.run against independent references: the shared tiny model's official logits, and a NumPy
float64 implementation of the spec (tests/reference) on random multi-head models of every weight
type."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import rwkv_gpu
from rwkv_gpu.testing import random_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from reference.rwkv7_ref import Rwkv7Reference  # noqa: E402

PROMPT = [34, 105, 110]  # the bytes '"', 'i', 'n'


@pytest.fixture(scope="module")
def tiny(tiny_gguf):
    return rwkv_gpu.Model(tiny_gguf)


@pytest.fixture(scope="module")
def expected(tiny_gguf):
    return np.fromfile(tiny_gguf.parent / "tiny-rwkv7-834K-expected-logits.f32", dtype="<f4")


def test_tiny_model_one_sequence(tiny, expected):
    got = tiny.run(PROMPT)
    assert got.shape == (256,) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    assert list(np.argsort(-got)[:3]) == [ord(" "), ord("t"), ord("e")]


@pytest.mark.parametrize("split", [[1, 1, 1], [2, 1], [1, 2], [3]], ids=lambda s: "+".join(map(str, s)))
def test_tiny_model_in_pieces(tiny, expected, split):
    state = tiny.new_state()
    at = 0
    for n in split:
        got = tiny.run(PROMPT[at:at + n], state)
        at += n
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("chunk_tokens", [1, 2, 3])
def test_tiny_model_internal_chunks(tiny_gguf, expected, chunk_tokens):
    model = rwkv_gpu.Model(tiny_gguf, chunk_tokens=chunk_tokens)
    np.testing.assert_allclose(model.run(PROMPT), expected, rtol=0, atol=1e-5)


def test_chunks_past_the_logit_rows(tiny_gguf):
    """A model holds 512 rows of logits: with 600-token chunks, logits of all 700 tokens come back
    in pieces of 512 and equal the reference; 512 sequences is the most a step samples."""
    model = rwkv_gpu.Model(tiny_gguf, chunk_tokens=600)
    assert model.chunk_tokens == 600 and model.info["max_batch"] == 512
    tokens = np.random.default_rng(5).integers(0, 256, 700)
    ref_logits, _, _ = Rwkv7Reference(tiny_gguf).forward(tokens)
    np.testing.assert_allclose(model.run(tokens, logits="all"), ref_logits, rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="max_batch"):
        model.batcher(max_batch=513)


def test_default_chunk_tokens_is_the_engines(tiny_gguf):
    """None asks the engine (256 on CPU devices); anything but a positive int is refused."""
    model = rwkv_gpu.Model(tiny_gguf)
    cpu = next(d for d in rwkv_gpu.devices() if d.selected).type == "cpu"
    assert model.chunk_tokens == model.info["chunk_tokens"] and (model.chunk_tokens == 256 or not cpu)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="chunk_tokens"):
            rwkv_gpu.Model(tiny_gguf, chunk_tokens=bad)


def test_logits_modes(tiny, tiny_gguf):
    ref_logits, _, _ = Rwkv7Reference(tiny_gguf).forward(PROMPT)
    allv = tiny.run(PROMPT, logits="all")
    assert allv.shape == (3, 256)
    np.testing.assert_allclose(allv, ref_logits, rtol=0, atol=1e-5)
    state = tiny.new_state()
    assert tiny.run(PROMPT[:2], state, logits=None) is None  # prefill only
    np.testing.assert_allclose(tiny.run(PROMPT[2:], state), ref_logits[-1], rtol=0, atol=1e-5)


def _check(model_path, tokens, tol_scale=1e-5):
    ref = Rwkv7Reference(model_path)
    expected, _, _ = ref.forward(tokens)
    got = rwkv_gpu.Model(model_path).run(tokens, logits="all")
    tol = tol_scale * max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(got, expected, rtol=0, atol=tol)
    return got


@pytest.mark.parametrize("n_embd,head_size", [(160, 32), (192, 64)], ids=["5x32", "3x64"])
def test_random_multi_head_model_long_sequence(tmp_path, n_embd, head_size):
    """H >= 2, n_embd not a multiple of 256, vocab not a power of two, 300+ tokens (two chunks),
    and prefill equal to token-by-token decoding."""
    path = tmp_path / "m.gguf"
    shapes = random_model(path, n_layer=3, n_embd=n_embd, head_size=head_size, vocab=1003, dtype="f32",
                          lora_ranks=(32, 32, 32, 64), lora_dtype="f32", seed=n_embd)
    assert shapes.n_embd // shapes.head_size >= 3
    tokens = np.random.default_rng(0).integers(0, 1003, 317)
    prefill = _check(path, tokens)
    model = rwkv_gpu.Model(path)
    state = model.new_state()
    stepped = np.stack([model.run([t], state) for t in tokens])
    np.testing.assert_allclose(stepped, prefill, rtol=0, atol=1e-5)


def test_a_head_of_512_matches_reference(tmp_path):
    """One head of 512 channels: the sequential WKV kernel holds a row of 512 state floats per
    invocation (and on GPUs 2 invocations per row: ops/wkv7.cpp halves its 8 to fit 1,024); prefill
    and decode steps against the reference."""
    path = tmp_path / "head512.gguf"
    random_model(path, n_layer=1, n_embd=512, head_size=512, vocab=100, dtype="f32", seed=5)
    tokens = np.random.default_rng(2).integers(0, 100, 9)
    prefill = _check(path, tokens)
    model = rwkv_gpu.Model(path)
    state = model.new_state()
    stepped = np.stack([model.run([t], state) for t in tokens])
    np.testing.assert_allclose(stepped, prefill, rtol=0, atol=1e-5 * max(1.0, float(np.abs(prefill).max())))


def test_a_prompt_in_several_submissions_matches_reference(tmp_path):
    """A chunk of at least 2^18 tokens x n_embd goes to the GPU in several submissions (the GPU
    runs the first layers while the host records the next: runtime::submission_layers, whose
    split the C++ tests check); the logits still equal the reference's, and a state continued
    after it as well."""
    path = tmp_path / "m.gguf"
    random_model(path, n_layer=2, n_embd=1024, head_size=64, vocab=300, dtype="f32", seed=13)
    tokens = np.random.default_rng(1).integers(0, 300, 257)
    ref = Rwkv7Reference(path)
    expected, _, _ = ref.forward(tokens)
    model = rwkv_gpu.Model(path)
    state = model.new_state()
    got = np.concatenate([model.run(tokens[:256], state, logits="all"), model.run(tokens[256:], state, logits="all")])
    tol = 1e-5 * max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(got, expected, rtol=0, atol=tol)


@pytest.mark.parametrize("dtype", rwkv_gpu.testing.DTYPES)
def test_every_weight_type_matches_reference_on_dequantized_weights(tmp_path, dtype):
    """The reference runs on the gguf package's dequantization of the same file, so only the
    engine's own error is measured, not the quantization error."""
    path = tmp_path / f"{dtype}.gguf"
    n_embd = 256 if dtype.endswith("_k") else 192
    random_model(path, n_layer=2, n_embd=n_embd, head_size=64, vocab=517, dtype=dtype, seed=7)
    tokens = np.random.default_rng(1).integers(0, 517, 37)  # 37 tokens: the tiled (prefill) kernels
    _check(path, tokens)
    _check(path, tokens[:5])  # 5 tokens: the matrix-vector kernels


def test_mixed_types_like_q4_k_m(tmp_path):
    """Real Q4_K_M files mix Q4_K and Q6_K matrices with F16 LoRA and F32 vectors."""
    from gguf import GGUFReader

    a, b = tmp_path / "a.gguf", tmp_path / "b.gguf"
    random_model(a, n_layer=2, n_embd=256, vocab=300, dtype="q4_k", seed=3)
    random_model(b, n_layer=2, n_embd=256, vocab=300, dtype="q6_k", seed=3)
    # Splice: b's value and FFN-value matrices into a (same shapes, other type).
    import gguf

    ra, rb = GGUFReader(a), GGUFReader(b)
    mixed = tmp_path / "mixed.gguf"
    w = gguf.GGUFWriter(mixed, "rwkv7")
    for key, field in ra.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        value = field.contents()
        vtype = field.types[0]
        if vtype == gguf.GGUFValueType.ARRAY:
            w.add_array(key, value)
        else:
            w.add_key_value(key, value, vtype)
    tb = {t.name: t for t in rb.tensors}
    for t in ra.tensors:
        src = tb[t.name] if t.name.endswith(("time_mix_value.weight", "channel_mix_value.weight")) else t
        w.add_tensor(src.name, np.asarray(src.data), raw_shape=tuple(int(x) for x in reversed(src.shape)) if src.tensor_type.name in ("F32", "F16") else None,
                     raw_dtype=src.tensor_type)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    types = {t.tensor_type.name for t in GGUFReader(mixed).tensors}
    assert {"Q4_K", "Q6_K", "F16", "F32"} <= types
    _check(mixed, np.random.default_rng(2).integers(0, 300, 20))


def test_bad_inputs(tiny, tiny_gguf, tmp_path):
    with pytest.raises(ValueError, match="empty"):
        tiny.run([])
    with pytest.raises(ValueError, match="out of range"):
        tiny.run([1, 256])
    with pytest.raises(ValueError, match="out of range"):
        tiny.run([-1])
    with pytest.raises(ValueError, match="logits"):
        tiny.run([1], logits="first")
    other = rwkv_gpu.Model(tiny_gguf)
    with pytest.raises(ValueError, match="another model"):
        tiny.run([1], other.new_state())
    with pytest.raises(ValueError, match="1-D"):
        tiny.run([[1, 2]])


def test_other_architectures_are_rejected_by_name(tmp_path):
    import gguf

    for arch in ("llama", "arwkv7", "rwkv6"):
        path = tmp_path / f"{arch}.gguf"
        w = gguf.GGUFWriter(path, arch)
        w.add_tensor("token_embd.weight", np.zeros((4, 32), np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        with pytest.raises(rwkv_gpu.GGUFError, match=f"'{arch}'"):
            rwkv_gpu.Model(path)


def test_info(tiny):
    info = tiny.info
    assert (info["n_layer"], info["n_embd"], info["n_head"], info["head_size"], info["vocab"]) == (12, 64, 1, 64, 256)
    assert info["lora_ranks"] == {"decay": 32, "iclr": 32, "value": 32, "gate": 32}
    assert info["weight_types"] == [("F32", 342)]
    assert info["gpu_bytes"] > 3_000_000


def test_default_model_multi_head_against_reference():
    """The embedded default model (3 heads of 64, trained: real activations, not random ones):
    300 bytes as one prefill (two 256-token chunks) and token by token."""
    path = rwkv_gpu.default_model_path()
    text = ("And God said, Let the waters under the heaven be gathered together unto one place, and let the dry "
            "land appear: and it was so. And God called the dry land Earth; and the gathering together of the "
            "waters called he Seas: and God saw that it was good. And the evening and the morning were the third.")
    tokens = list(text.encode())
    assert len(tokens) > 256
    model = rwkv_gpu.Model(path)
    assert model.info["n_head"] >= 2
    prefill = _check(path, tokens)
    state = model.new_state()
    stepped = np.stack([model.run([t], state) for t in tokens[:40]])
    np.testing.assert_allclose(stepped, prefill[:40], rtol=0, atol=1e-5 * max(1.0, float(np.abs(prefill).max())))


def test_close_and_context_manager(tiny_gguf):
    with rwkv_gpu.Model(tiny_gguf) as model:
        state = model.new_state()
        first = model.run(PROMPT, state)
        assert not model.closed
    assert model.closed and "closed" in repr(model)
    assert np.isfinite(model.back_state(state)).all()  # a state outlives its closed model
    for call in (lambda: model.run(PROMPT), lambda: model.new_state(), lambda: model.embed("x"),
                 lambda: model.generate([1], 3)):
        with pytest.raises(ValueError, match="is closed"):
            call()
    model.close()  # twice is fine
    again = rwkv_gpu.Model(tiny_gguf)
    np.testing.assert_array_equal(again.run(PROMPT), first)
