"""The converter against llama.cpp's own file (the shared GGUF was written by llama.cpp's writer),
the official logits, and the NumPy reference for every output type."""

import subprocess
import sys

import numpy as np
import pytest
from gguf import GGUFReader
from safetensors.numpy import load_file, save_file

import rwkv_gpu
from rwkv_gpu.convert import TYPES, convert

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
from reference.rwkv7_ref import Rwkv7Reference  # noqa: E402

PROMPT = [34, 105, 110]


@pytest.fixture(scope="module")
def tiny_st(tiny_gguf):
    return tiny_gguf.parent / "tiny-rwkv7-834K.safetensors"


def assert_same_tensors(a, b):
    ta = {t.name: t for t in GGUFReader(a).tensors}
    tb = {t.name: t for t in GGUFReader(b).tensors}
    assert ta.keys() == tb.keys()
    for name, t in tb.items():
        assert tuple(ta[name].shape) == tuple(t.shape), name
        assert ta[name].tensor_type == t.tensor_type, name
        np.testing.assert_array_equal(np.asarray(ta[name].data), np.asarray(t.data), err_msg=name)


def test_safetensors_to_f32_reproduces_llama_cpp_file(tmp_path, tiny_st, tiny_gguf):
    out = convert(tiny_st, tmp_path / "tiny.gguf", "f32")
    assert_same_tensors(out, tiny_gguf)
    expected = np.fromfile(tiny_gguf.parent / "tiny-rwkv7-834K-expected-logits.f32", dtype="<f4")
    np.testing.assert_allclose(rwkv_gpu.Model(out).run(PROMPT), expected, rtol=0, atol=1e-5)
    mine, theirs = rwkv_gpu.GGUFFile(out).metadata, rwkv_gpu.GGUFFile(tiny_gguf).metadata
    for key in theirs:
        if key != "general.name":
            assert mine[key] == pytest.approx(theirs[key]), key


@pytest.mark.parametrize("dtype", [t for t in TYPES if t != "f32"])
def test_every_type_runs_like_the_reference(tmp_path, tiny_st, dtype):
    out = convert(tiny_st, tmp_path / f"tiny-{dtype}.gguf", dtype)
    types = {t.tensor_type.name for t in GGUFReader(out).tensors}
    assert dtype.upper() in types
    expected, _, _ = Rwkv7Reference(out).forward(PROMPT)
    np.testing.assert_allclose(rwkv_gpu.Model(out).run(PROMPT), expected[-1], rtol=0, atol=1e-5)


def test_pth_is_read_without_torch(tmp_path, tiny_st, tiny_gguf):
    import torch  # only to write the fixture (installed by make test); the converter never imports it
    state = {k: torch.from_numpy(v.copy()) for k, v in load_file(tiny_st).items()}
    pth = tmp_path / "tiny.pth"
    torch.save(state, pth)
    bf16 = tmp_path / "tiny-bf16.pth"
    torch.save({k: v.to(torch.bfloat16) for k, v in state.items()}, bf16)
    # The converter runs in a fresh interpreter where importing torch fails.
    code = ("import sys; sys.modules['torch'] = None\n"
            "from rwkv_gpu.convert import convert\n"
            f"convert({str(pth)!r}, {str(tmp_path / 'a.gguf')!r}, 'f32')\n"
            f"convert({str(bf16)!r}, {str(tmp_path / 'b.gguf')!r}, 'f32')\n")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert_same_tensors(tmp_path / "a.gguf", tiny_gguf)
    # bf16 checkpoint: every weight is the bf16 rounding of the original (numpy's own rounding).
    ref = {t.name: np.asarray(t.data) for t in GGUFReader(tiny_gguf).tensors}
    for t in GGUFReader(tmp_path / "b.gguf").tensors:
        bits = ref[t.name].astype(np.float32).view(np.uint32)
        rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).view(np.float32)
        np.testing.assert_array_equal(np.asarray(t.data), rounded, err_msg=t.name)


def test_hugging_face_names(tmp_path, tiny_st, tiny_gguf):
    """The same weights under flash-linear-attention's names (Linear weights [out, in], LoRA as
    lora.0 / lora.2 with the up projection's bias holding w0/a0/v0) convert to the same file."""
    b = load_file(tiny_st)
    hf = {"model.embeddings.weight": b["emb.weight"], "lm_head.weight": b["head.weight"],
          "model.norm.weight": b["ln_out.weight"], "model.norm.bias": b["ln_out.bias"]}
    n_layer = 1 + max(int(k.split(".")[1]) for k in b if k.startswith("blocks."))
    for i in range(n_layer):
        s, d = f"blocks.{i}.", f"model.layers.{i}."
        if i == 0:
            hf[d + "pre_norm.weight"], hf[d + "pre_norm.bias"] = b[s + "ln0.weight"], b[s + "ln0.bias"]
        for src, dst in (("ln1", "attn_norm"), ("ln2", "ffn_norm"), ("att.ln_x", "attn.g_norm")):
            hf[d + dst + ".weight"], hf[d + dst + ".bias"] = b[s + src + ".weight"], b[s + src + ".bias"]
        for c in "rwkvag":
            hf[d + f"attn.x_{c}"] = b[s + f"att.x_{c}"].reshape(-1)
        for n in ("k_k", "k_a", "r_k"):
            hf[d + "attn." + n] = b[s + "att." + n]
        for src, dst in (("receptance", "r_proj"), ("key", "k_proj"), ("value", "v_proj"), ("output", "o_proj")):
            hf[d + f"attn.{dst}.weight"] = b[s + f"att.{src}.weight"]
        for lora in "wavg":
            if s + f"att.{lora}1" not in b:
                continue
            hf[d + f"attn.{lora}_lora.lora.0.weight"] = np.ascontiguousarray(b[s + f"att.{lora}1"].T)
            hf[d + f"attn.{lora}_lora.lora.2.weight"] = np.ascontiguousarray(b[s + f"att.{lora}2"].T)
            if lora != "g":
                hf[d + f"attn.{lora}_lora.lora.2.bias"] = b[s + f"att.{lora}0"].reshape(-1)
        hf[d + "ffn.x_k"] = b[s + "ffn.x_k"].reshape(-1)
        hf[d + "ffn.key.weight"], hf[d + "ffn.value.weight"] = b[s + "ffn.key.weight"], b[s + "ffn.value.weight"]
    save_file(hf, tmp_path / "hf.safetensors")
    assert_same_tensors(convert(tmp_path / "hf.safetensors", tmp_path / "hf.gguf", "f32"), tiny_gguf)


def test_cli_convert_and_errors(tmp_path, tiny_st):
    out = tmp_path / "cli.gguf"
    run = subprocess.run([sys.executable, "-m", "rwkv_gpu", "convert", str(tiny_st), "-o", str(out), "--type", "q8_0"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "Q8_0" in {t.tensor_type.name for t in GGUFReader(out).tensors}
    bad = tmp_path / "bad.safetensors"
    save_file({"x": np.zeros(3, np.float32)}, bad)
    run = subprocess.run([sys.executable, "-m", "rwkv_gpu", "convert", str(bad), "-o", str(tmp_path / "x.gguf")],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "not an RWKV-7 checkpoint" in run.stderr and "Traceback" not in run.stderr


def test_convert_of_a_gguf_says_so_in_one_line(tmp_path, tiny_gguf):
    """Issue 14, item 8: it printed a BadZipFile traceback."""
    for name in ("model.gguf", "renamed.pth"):  # by content, not by name
        src = tmp_path / name
        src.write_bytes(tiny_gguf.read_bytes())
        dst = tmp_path / "x.gguf"
        out = subprocess.run([sys.executable, "-m", "rwkv_gpu", "convert", str(src), "-o", str(dst)],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 1 and out.stdout == ""
        assert out.stderr.startswith("rwkv-gpu: error:") and out.stderr.count("\n") == 1
        assert "already a GGUF file" in out.stderr and "Traceback" not in out.stderr
        assert not dst.exists()


@pytest.mark.parametrize("bad", ["nan", "inf", "beyond-f32"])
def test_non_finite_weights_are_refused(tmp_path, tiny_st, bad):
    """A checkpoint whose weights hold NaN, infinity or float64 values past float32's range is a
    ValueError naming the tensor, not a model that runs to NaN (the fuzzer's overflow warning)."""
    tensors = load_file(tiny_st)
    name = next(k for k in tensors if k.endswith("att.key.weight"))
    t = tensors[name].astype(np.float64 if bad == "beyond-f32" else np.float32)
    t.flat[7] = {"nan": np.nan, "inf": np.inf, "beyond-f32": 1e300}[bad]
    tensors[name] = t
    path = tmp_path / "bad.safetensors"
    save_file(tensors, path)
    from rwkv_gpu.convert import load_checkpoint

    with pytest.raises(ValueError, match=f"{name}.*NaN or infinity"):
        load_checkpoint(path)
