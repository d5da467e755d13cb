"""Converting RWKV-7 checkpoints to GGUF as llama.cpp's converter writes them.

    python -m rwkv_gpu convert rwkv7.pth -o model.gguf --type f16

Inputs: BlinkDL ``.pth`` (read without torch) or ``.safetensors`` with BlinkDL names
(``blocks.N.att.x_r``...) or the Hugging Face / flash-linear-attention names
(``model.layers.N.attn.r_proj.weight``...). Output: rwkv7 GGUF with llama.cpp's tensor names,
layouts and dtypes (vectors, norms, lerps, w1/w2 in F32; a/v/g LoRA in the conversion type, F16
for quantized types; big matrices in the chosen type; dummy layer-0 v0/v1/v2 copied from
a0/a1/a2) and the tokenizer metadata (the World vocab for 65536-token models, single bytes for
256-token ones).
"""

from __future__ import annotations

import json
import os
import pickle
import re
import struct
import zipfile
from pathlib import Path

import numpy as np

from .gguf_metadata import Shapes, add_rwkv7_metadata, world_token_list

TYPES = ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1")
# llama.cpp's llama_ftype numbers for general.file_type.
_FILE_TYPE = {"f32": 0, "f16": 1, "q4_0": 2, "q4_1": 3, "q8_0": 7, "q5_0": 8, "q5_1": 9, "bf16": 32}


def load_checkpoint(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Tensors of a .pth or .safetensors checkpoint, as float32 numpy arrays with BlinkDL names.

    Raises ValueError (naming the file) for anything that is not a readable checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: not a regular file")
    with open(path, "rb") as f:
        if f.read(4) == b"GGUF":
            raise ValueError(f"{path}: is already a GGUF file (convert reads .pth and .safetensors)")
    try:
        tensors = _read_checkpoint(path)
    except (zipfile.BadZipFile, pickle.UnpicklingError, EOFError, struct.error, UnicodeDecodeError,
            KeyError, IndexError, TypeError, AttributeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not a readable checkpoint ({type(e).__name__}: {e})") from e
    except Exception as e:  # safetensors' own SafetensorError
        if type(e).__name__ != "SafetensorError":
            raise
        raise ValueError(f"{path}: not a readable .safetensors file ({e})") from e
    with np.errstate(over="ignore"):  # values beyond float32 become infinity: refused below
        tensors = {k: np.asarray(v, dtype=np.float32) for k, v in tensors.items()}
    for name, t in tensors.items():
        if not np.isfinite(t).all():
            raise ValueError(f"{path}: tensor {name!r} holds NaN or infinity (or values beyond float32's range)")
    return _from_hf_names(tensors) if any(k.startswith("model.") for k in tensors) else tensors


def _read_checkpoint(path: Path) -> dict[str, np.ndarray]:
    if path.suffix == ".safetensors":
        try:
            from safetensors.numpy import load_file
        except ImportError:  # an optional package: the raw reader covers the float types of checkpoints
            return _load_safetensors_raw(path)
        try:
            return load_file(path)
        except (TypeError, ValueError):  # bfloat16 has no numpy dtype: read raw
            return _load_safetensors_raw(path)
    from .pth import load_pth

    return load_pth(path)


def _load_safetensors_raw(path: Path) -> dict[str, np.ndarray]:
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[8 + n + a: 8 + n + b]
        dtype = info["dtype"]
        if dtype == "BF16":
            arr = (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(raw, {"F32": np.float32, "F16": np.float16, "F64": np.float64}[dtype])
        out[name] = arr.reshape(info["shape"])
    return out


def _from_hf_names(t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """flash-linear-attention / Hugging Face RWKV-7 names to BlinkDL names (LoRA down/up transposed
    to BlinkDL's x @ w orientation; the up projection's bias is w0/a0/v0)."""
    out = {"emb.weight": t["model.embeddings.weight"], "head.weight": t["lm_head.weight"],
           "ln_out.weight": t["model.norm.weight"], "ln_out.bias": t["model.norm.bias"]}
    layers = sorted({int(m.group(1)) for k in t if (m := re.match(r"model\.layers\.(\d+)\.", k))})
    for i in layers:
        s, d = f"model.layers.{i}.", f"blocks.{i}."
        if i == 0:
            out[d + "ln0.weight"], out[d + "ln0.bias"] = t[s + "pre_norm.weight"], t[s + "pre_norm.bias"]
        for src, dst in (("attn_norm", "ln1"), ("ffn_norm", "ln2"), ("attn.g_norm", "att.ln_x")):
            out[d + dst + ".weight"], out[d + dst + ".bias"] = t[s + src + ".weight"], t[s + src + ".bias"]
        if s + "attn.x_x" in t:  # one fused [6, C] parameter
            for j, c in enumerate("rwkvag"):
                out[d + f"att.x_{c}"] = t[s + "attn.x_x"][j]
        else:
            for c in "rwkvag":
                out[d + f"att.x_{c}"] = t[s + f"attn.x_{c}"]
        for name in ("k_k", "k_a", "r_k"):
            out[d + "att." + name] = t[s + "attn." + name]
        for src, dst in (("r_proj", "receptance"), ("k_proj", "key"), ("v_proj", "value"), ("o_proj", "output")):
            out[d + f"att.{dst}.weight"] = t[s + f"attn.{src}.weight"]
        for lora in "wavg":
            key = s + f"attn.{lora}_lora.lora."
            if key + "0.weight" not in t:
                continue  # layer 0 has no value LoRA
            out[d + f"att.{lora}1"] = t[key + "0.weight"].T
            out[d + f"att.{lora}2"] = t[key + "2.weight"].T
            if key + "2.bias" in t:
                out[d + f"att.{lora}0"] = t[key + "2.bias"]
        out[d + "ffn.x_k"] = t[s + "ffn.x_k"]
        out[d + "ffn.key.weight"] = t[s + "ffn.key.weight"]
        out[d + "ffn.value.weight"] = t[s + "ffn.value.weight"]
    return out


def _tokens(vocab: int) -> tuple[list[str], list[int]]:
    if vocab == 256:  # byte-level models: token id = byte value
        return [repr(bytes([i]))[2:-1] for i in range(256)], [1] * 256
    return world_token_list(vocab)


def convert(src: str | os.PathLike, dst: str | os.PathLike, dtype: str = "f16", name: str | None = None,
            progress: bool = False) -> Path:
    """Converts a checkpoint to GGUF; returns the output path."""
    import gguf
    from gguf import GGMLQuantizationType as Q
    from gguf.quants import quantize

    if dtype not in TYPES:
        raise ValueError(f"--type must be one of {', '.join(TYPES)}, not {dtype!r}")
    t = load_checkpoint(src)
    if "emb.weight" not in t or "blocks.0.att.r_k" not in t:
        raise ValueError(f"{src}: not an RWKV-7 checkpoint (no emb.weight / blocks.0.att.r_k)")
    n_layer = 1 + max(int(k.split(".")[1]) for k in t if k.startswith("blocks."))
    V, C = t["emb.weight"].shape
    H, N = t["blocks.0.att.r_k"].reshape(-1, t["blocks.0.att.r_k"].shape[-1]).shape
    F = t["blocks.0.ffn.key.weight"].shape[0]
    rank = lambda k: t[k].shape[1]  # noqa: E731  (BlinkDL x @ w1: w1 is [C, D])
    ranks = (rank("blocks.0.att.w1"), rank("blocks.0.att.a1"),
             rank("blocks.1.att.v1") if n_layer > 1 else rank("blocks.0.att.a1"), rank("blocks.0.att.g1"))

    w = gguf.GGUFWriter(os.fspath(dst), "rwkv7")
    add_rwkv7_metadata(w, name or Path(src).stem, Shapes(n_layer, C, N, F, V, *(int(r) for r in ranks)), _tokens(V))
    w.add_uint32("general.file_type", _FILE_TYPE[dtype])

    def f32(name, a):
        w.add_tensor(name, np.ascontiguousarray(a, dtype=np.float32))

    def lora(name, a):  # keeps the conversion type; F16 when converting to a quantized type
        a = np.ascontiguousarray(a, dtype=np.float32)
        if dtype == "f32":
            w.add_tensor(name, a)
        elif dtype == "bf16":
            w.add_tensor(name, quantize(a, Q.BF16), raw_dtype=Q.BF16)
        else:
            w.add_tensor(name, a.astype(np.float16))

    def big(name, a):
        a = np.ascontiguousarray(a, dtype=np.float32)
        if dtype == "f32":
            w.add_tensor(name, a)
        elif dtype == "f16" or a.shape[-1] % 32:  # quantized types need whole 32-element blocks
            w.add_tensor(name, a.astype(np.float16))
        else:
            qtype = getattr(Q, dtype.upper())
            w.add_tensor(name, quantize(a, qtype), raw_dtype=qtype)

    big("token_embd.weight", t["emb.weight"])
    f32("token_embd_norm.weight", t["blocks.0.ln0.weight"])
    f32("token_embd_norm.bias", t["blocks.0.ln0.bias"])
    layers = range(n_layer)
    if progress:
        from tqdm import tqdm

        layers = tqdm(layers, desc="convert", unit="layer")
    for i in layers:
        s, p = f"blocks.{i}.", f"blk.{i}."
        for src_n, dst_n in (("ln1", "attn_norm"), ("ln2", "attn_norm_2"), ("att.ln_x", "time_mix_ln")):
            f32(p + dst_n + ".weight", t[s + src_n + ".weight"])
            f32(p + dst_n + ".bias", t[s + src_n + ".bias"])
        f32(p + "time_mix_lerp_fused.weight", np.stack([t[s + f"att.x_{c}"].reshape(1, 1, C) for c in "rwkvag"]))
        for v in ("w0", "a0", "k_k", "k_a", "r_k"):
            f32(p + f"time_mix_{v}.weight", t[s + "att." + v].reshape(-1))
        f32(p + "time_mix_w1.weight", t[s + "att.w1"].T)
        f32(p + "time_mix_w2.weight", t[s + "att.w2"].T)
        lora(p + "time_mix_a1.weight", t[s + "att.a1"].T)
        lora(p + "time_mix_a2.weight", t[s + "att.a2"].T)
        # Layer 0 has no value LoRA; llama.cpp's files carry a copy of a0/a1/a2 there.
        v = "a" if i == 0 else "v"
        f32(p + "time_mix_v0.weight", t[s + f"att.{v}0"].reshape(-1))
        lora(p + "time_mix_v1.weight", t[s + f"att.{v}1"].T)
        lora(p + "time_mix_v2.weight", t[s + f"att.{v}2"].T)
        lora(p + "time_mix_g1.weight", t[s + "att.g1"].T)
        lora(p + "time_mix_g2.weight", t[s + "att.g2"].T)
        for src_n, dst_n in (("receptance", "receptance"), ("key", "key"), ("value", "value"), ("output", "output")):
            big(p + f"time_mix_{dst_n}.weight", t[s + f"att.{src_n}.weight"])
        f32(p + "channel_mix_lerp_k.weight", t[s + "ffn.x_k"].reshape(1, 1, C))
        big(p + "channel_mix_key.weight", t[s + "ffn.key.weight"])
        big(p + "channel_mix_value.weight", t[s + "ffn.value.weight"])
    f32("output_norm.weight", t["ln_out.weight"])
    f32("output_norm.bias", t["ln_out.bias"])
    big("output.weight", t["head.weight"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return Path(dst)
