"""CPU dequantization of every supported ggml type against the PyPI gguf package (the oracle)."""

import numpy as np
import pytest
from gguf import GGMLQuantizationType as T
from gguf import quants

import rwkv_gpu

QUANTIZABLE = [T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0]
K_QUANTS = [T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K]
# Byte offsets of the f16 scale fields of each K-quant block (d, dmin): randomized blocks get
# finite scales there, random bits everywhere else.
K_SCALE_FIELDS = {T.Q2_K: (80, 82), T.Q3_K: (108,), T.Q4_K: (0, 2), T.Q5_K: (0, 2), T.Q6_K: (208,)}


def _compare(qtype, raw: np.ndarray, n: int):
    ref = quants.dequantize(raw, qtype).astype(np.float32).reshape(-1)
    got = rwkv_gpu.dequantize(qtype.name, raw.reshape(-1).view(np.uint8), n)
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("qtype", QUANTIZABLE, ids=lambda t: t.name)
@pytest.mark.parametrize("rows,cols", [(1, 32), (7, 96), (33, 256 + 32)])
def test_quantized_by_gguf(qtype, rows, cols):
    rng = np.random.default_rng(rows * 1000 + cols + int(qtype))
    x = (rng.standard_normal((rows, cols)) * rng.uniform(0.01, 3)).astype(np.float32)
    raw = quants.quantize(x, qtype)
    _compare(qtype, np.asarray(raw), rows * cols)


@pytest.mark.parametrize("qtype", K_QUANTS, ids=lambda t: t.name)
@pytest.mark.parametrize("n_blocks", [1, 5, 64])
def test_random_k_quant_blocks(qtype, n_blocks):
    rng = np.random.default_rng(n_blocks * 31 + int(qtype))
    block_size, type_size = quants.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    for off in K_SCALE_FIELDS[qtype]:
        raw[:, off:off + 2] = (rng.standard_normal(n_blocks) * 0.05).astype(np.float16).view(np.uint8).reshape(n_blocks, 2)
    _compare(qtype, raw, n_blocks * block_size)


def test_f32_is_identity():
    x = np.random.default_rng(0).standard_normal(100).astype(np.float32)
    np.testing.assert_array_equal(rwkv_gpu.dequantize("F32", x.view(np.uint8), 100), x)


def test_bad_arguments():
    with pytest.raises(ValueError, match="block size"):
        rwkv_gpu.dequantize("Q8_0", np.zeros(34, np.uint8), 31)
    with pytest.raises(ValueError, match="bytes"):
        rwkv_gpu.dequantize("Q8_0", np.zeros(33, np.uint8), 32)
    with pytest.raises(ValueError, match="unknown ggml type"):
        rwkv_gpu.dequantize("Q9_9", np.zeros(34, np.uint8), 32)
