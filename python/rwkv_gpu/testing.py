"""Random-weight RWKV-7 GGUF files at real or custom shapes, for tests and benchmarks.

Example::

    from rwkv_gpu.testing import random_model
    random_model("/tmp/m.gguf", size="0.1b", dtype="q4_k")          # the 0.1B shapes, Q4_K matrices
    random_model("/tmp/t.gguf", n_layer=2, n_embd=160, head_size=32,  # custom shapes
                 vocab=1000, dtype="f16")

The big matrices (receptance, key, value, output, FFN, embedding, head) take ``dtype``; the LoRA
matrices are F16 and everything else F32, as llama.cpp's converter writes real files. Magnitudes
are like a trained model's (LayerNorm weights near 1, mus in [0, 1], matrices ~ 1/sqrt(fan_in)),
so activations stay finite over long sequences. K-quant matrices (q4_k, q5_k, q6_k) are random but
valid blocks whose scales give the same magnitudes; the gguf package's dequantizer gives their
reference values. Requires the PyPI ``gguf`` package.
"""

from __future__ import annotations

import os

import numpy as np

from .gguf_metadata import Shapes, add_rwkv7_metadata, world_token_list

# (n_layer, n_embd, decay, iclr, value, gate LoRA ranks) of the public models; head size 64,
# FFN 4 * n_embd, vocab 65536 (../shared/docs/rwkv7-spec.md).
SIZES = {
    "0.1b": (12, 768, 64, 64, 32, 128),
    "0.4b": (24, 1024, 64, 64, 32, 128),
    "1.5b": (24, 2048, 96, 96, 64, 256),
    "2.9b": (32, 2560, 96, 96, 64, 320),
    "7.2b": (32, 4096, 128, 128, 96, 480),
}
DTYPES = ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k", "q5_k", "q6_k")


def _k_quant_blocks(rng, qtype, rows: int, cols: int, std: float) -> np.ndarray:
    """Random valid K-quant blocks whose values have about the given std and mean ~0."""
    from gguf import GGMLQuantizationType as T
    from gguf.quants import GGML_QUANT_SIZES

    block, size = GGML_QUANT_SIZES[qtype]
    n = rows * cols // block
    raw = rng.integers(0, 256, size=(n, size), dtype=np.uint8)

    def put(off, values):
        raw[:, off:off + 2] = values.astype(np.float16).view(np.uint8).reshape(n, 2)

    jitter = rng.uniform(0.5, 1.5, n)
    if qtype == T.Q6_K:  # y = d * int8 scale * (q - 32), q in 0..63
        put(208, std / (74 * 18) * jitter)
    else:  # y = d * sc * q - dmin * mn, sc, mn in 0..63
        q_mean, q_std = (7.5, 4.6) if qtype == T.Q4_K else (15.5, 9.2)
        d = std / (31.5 * q_std) * jitter
        put(0, d)
        put(2, d * q_mean)
    return raw.reshape(rows, cols // block * size)


def _q8_0_blocks(rng, rows: int, cols: int, std: float) -> np.ndarray:
    """Random valid Q8_0 blocks (f16 scale, 32 int8) with values of about the given std."""
    n = rows * cols // 32
    raw = rng.integers(0, 256, size=(n, 34), dtype=np.uint8)
    raw[:, 0:2] = (np.full(n, std / 73.6, np.float32)).astype(np.float16).view(np.uint8).reshape(n, 2)
    return raw.reshape(rows, cols // 32 * 34)


def _matrix(rng, dtype: str, rows: int, cols: int, std: float, fast: bool = False):
    """(data for GGUFWriter.add_tensor, raw_dtype or None). fast: quantized types as random
    blocks instead of quantizing random floats (for multi-GB benchmark models)."""
    from gguf import GGMLQuantizationType as T
    from gguf.quants import quantize

    if fast and dtype == "q8_0":
        return _q8_0_blocks(rng, rows, cols, std), T.Q8_0
    if fast and dtype == "f16":
        return rng.standard_normal((rows, cols), dtype=np.float32).astype(np.float16) * np.float16(std), None
    if dtype in ("q4_k", "q5_k", "q6_k"):
        qtype = {"q4_k": T.Q4_K, "q5_k": T.Q5_K, "q6_k": T.Q6_K}[dtype]
        if cols % 256:
            raise ValueError(f"{dtype} needs rows of a multiple of 256 elements, got {cols}")
        return _k_quant_blocks(rng, qtype, rows, cols, std), qtype
    w = (rng.standard_normal((rows, cols)) * std).astype(np.float32)
    if dtype == "f32":
        return w, None
    if dtype == "f16":
        return w.astype(np.float16), None
    qtype = getattr(T, dtype.upper())
    if dtype != "bf16" and cols % 32:
        raise ValueError(f"{dtype} needs rows of a multiple of 32 elements, got {cols}")
    return quantize(w, qtype), qtype


def random_model(path: str | os.PathLike, size: str | None = None, dtype: str = "f16", *, seed: int = 0,
                 n_layer: int | None = None, n_embd: int | None = None, head_size: int = 64, vocab: int | None = None,
                 ffn: int | None = None, lora_ranks: tuple[int, int, int, int] | None = None,
                 lora_dtype: str = "f16", fast: bool = False) -> Shapes:
    """Writes a random-weight rwkv7 GGUF and returns its shapes.

    Args:
        size: "tiny" (2 layers, n_embd 128) or one of SIZES ("0.1b", ..., "7.2b"); explicit
            arguments override its numbers.
        dtype: type of the big matrices: one of DTYPES.
        lora_dtype: "f16" (as real files) or "f32".
        fast: write quantized matrices as random valid blocks (multi-GB benchmark models).
    """
    from gguf import GGUFWriter

    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, not {dtype!r}")
    if size == "tiny" or size is None:
        base = (2, 128, 32, 32, 32, 32)
    elif size in SIZES:
        base = SIZES[size]
    else:
        raise ValueError(f"size must be 'tiny' or one of {sorted(SIZES)}, not {size!r}")
    L = n_layer or base[0]
    C = n_embd or base[1]
    ranks = lora_ranks or base[2:]
    F = ffn or 4 * C
    V = vocab or (65536 if size in SIZES else 1000)
    if C % head_size:
        raise ValueError(f"n_embd {C} is not a multiple of head_size {head_size}")
    rng = np.random.default_rng(seed)
    shapes = Shapes(L, C, head_size, F, V, *ranks)

    w = GGUFWriter(os.fspath(path), "rwkv7")
    add_rwkv7_metadata(w, f"random-rwkv7-{size or 'custom'}-{dtype}", shapes, world_token_list(V))

    def vec(name, values):
        w.add_tensor(name, np.asarray(values, dtype=np.float32))

    def mat(name, rows, cols, std, kind=None):
        data, raw = _matrix(rng, kind or dtype, rows, cols, std, fast)
        w.add_tensor(name, data, raw_dtype=raw)

    def lora(name, rows, cols, std):
        data = (rng.standard_normal((rows, cols)) * std).astype(np.float32)
        w.add_tensor(name, data.astype(np.float16) if lora_dtype == "f16" else data)

    def norm(prefix):
        vec(prefix + ".weight", 1 + 0.1 * rng.standard_normal(C))
        vec(prefix + ".bias", 0.1 * rng.standard_normal(C))

    mat("token_embd.weight", V, C, 1.0)
    norm("token_embd_norm")
    for l in range(L):
        p = f"blk.{l}."
        norm(p + "attn_norm")
        norm(p + "attn_norm_2")
        w.add_tensor(p + "time_mix_lerp_fused.weight", rng.uniform(0, 1, (6, 1, 1, C)).astype(np.float32))
        vec(p + "time_mix_w0.weight", rng.uniform(-6, 1, C))
        vec(p + "time_mix_a0.weight", rng.normal(0, 0.5, C))
        vec(p + "time_mix_v0.weight", rng.normal(0, 0.5, C))
        vec(p + "time_mix_k_k.weight", rng.uniform(0.5, 1.5, C))
        vec(p + "time_mix_k_a.weight", rng.uniform(0.5, 1.5, C))
        vec(p + "time_mix_r_k.weight", rng.normal(0, 0.1, C))
        dw, da, dv, dg = ranks
        lora(p + "time_mix_w1.weight", dw, C, 1 / np.sqrt(C))
        lora(p + "time_mix_w2.weight", C, dw, 0.5 / np.sqrt(dw))
        lora(p + "time_mix_a1.weight", da, C, 1 / np.sqrt(C))
        lora(p + "time_mix_a2.weight", C, da, 0.5 / np.sqrt(da))
        # Layer 0 carries dummy value-LoRA tensors (copies of the iclr shapes), as llama.cpp's files do.
        vr = da if l == 0 else dv
        lora(p + "time_mix_v1.weight", vr, C, 1 / np.sqrt(C))
        lora(p + "time_mix_v2.weight", C, vr, 0.5 / np.sqrt(vr))
        lora(p + "time_mix_g1.weight", dg, C, 1 / np.sqrt(C))
        lora(p + "time_mix_g2.weight", C, dg, 1 / np.sqrt(dg))
        for m in ("receptance", "key", "value"):
            mat(p + f"time_mix_{m}.weight", C, C, 1 / np.sqrt(C))
        mat(p + "time_mix_output.weight", C, C, 0.5 / np.sqrt(C))
        norm(p + "time_mix_ln")
        vec(p + "channel_mix_lerp_k.weight", rng.uniform(0, 1, C))
        mat(p + "channel_mix_key.weight", F, C, 1 / np.sqrt(C))
        mat(p + "channel_mix_value.weight", C, F, 0.5 / np.sqrt(F))
    norm("output_norm")
    mat("output.weight", V, C, 1 / np.sqrt(C))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return shapes
