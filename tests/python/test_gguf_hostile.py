"""Malformed GGUF files raise rwkv_gpu.GGUFError (a rwkv_gpu.Error); nothing crashes or over-reads."""

import random
import struct

import pytest

import rwkv_gpu


def s(text: str | bytes) -> bytes:
    b = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype: int, payload: bytes) -> bytes:
    return s(key) + struct.pack("<I", vtype) + payload


def tensor(name, ne, gtype=0, offset=0) -> bytes:
    return s(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<q", n) for n in ne) + struct.pack("<IQ", gtype, offset)


def gguf_file(kvs=(), tensors=(), data=b"", version=3, n_tensors=None, n_kv=None, align=32, magic=b"GGUF"):
    head = magic + struct.pack("<IQQ", version, len(tensors) if n_tensors is None else n_tensors,
                               len(kvs) if n_kv is None else n_kv)
    head += b"".join(kvs) + b"".join(tensors)
    head += b"\0" * (-len(head) % align)
    return head + data


ARCH = kv("general.architecture", 8, s("rwkv7"))
ONE_TENSOR = tensor("w", [8], 0, 0)
GOOD = gguf_file([ARCH], [ONE_TENSOR], b"\0" * 32)


def write(tmp_path, data: bytes, name="x.gguf"):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_hand_built_file_is_valid(tmp_path):
    f = rwkv_gpu.GGUFFile(write(tmp_path, GOOD))
    assert f.tensors["w"].ne == (8,) and f.metadata["general.architecture"] == "rwkv7"


HOSTILE = {
    "bad magic": gguf_file([ARCH], magic=b"GGUG"),
    "version 1": gguf_file([ARCH], version=1),
    "version 4": gguf_file([ARCH], version=4),
    "huge tensor count": gguf_file([ARCH], n_tensors=2**62),
    "huge kv count": gguf_file([ARCH], n_kv=2**62),
    "kv count past the end": gguf_file([ARCH], n_kv=3),
    "huge key length": struct.pack("<4sIQQ", b"GGUF", 3, 0, 1) + struct.pack("<Q", 2**63) + b"abc",
    "string past the end": gguf_file([kv("k", 8, struct.pack("<Q", 1000) + b"short")]),
    "empty key": gguf_file([kv("", 4, struct.pack("<I", 1))]),
    "duplicate key": gguf_file([ARCH, ARCH]),
    "unknown value type": gguf_file([kv("k", 13, b"\0" * 8)]),
    "nested array": gguf_file([kv("k", 9, struct.pack("<IQ", 9, 1) + struct.pack("<IQ", 4, 0))]),
    "huge array": gguf_file([kv("k", 9, struct.pack("<IQ", 4, 2**61))]),
    "array of strings past the end": gguf_file([kv("k", 9, struct.pack("<IQ", 8, 3) + s("a") + struct.pack("<Q", 99))]),
    "alignment not a power of two": gguf_file([kv("general.alignment", 4, struct.pack("<I", 24))], [ONE_TENSOR], b"\0" * 64),
    "alignment zero": gguf_file([kv("general.alignment", 4, struct.pack("<I", 0))]),
    "alignment of the wrong type": gguf_file([kv("general.alignment", 5, struct.pack("<i", 32))]),
    "five dimensions": gguf_file([ARCH], [tensor("w", [1, 1, 1, 1, 8])], b"\0" * 32),
    "negative dimension": gguf_file([ARCH], [tensor("w", [-8])], b"\0" * 32),
    "element count overflow": gguf_file([ARCH], [tensor("w", [2**40, 2**40])], b"\0" * 32),
    "unknown ggml type": gguf_file([ARCH], [tensor("w", [8], 99)], b"\0" * 32),
    "removed ggml type 4": gguf_file([ARCH], [tensor("w", [32], 4)], b"\0" * 32),
    "row not a whole block": gguf_file([ARCH], [tensor("w", [33], 8)], b"\0" * 64),
    "duplicate tensor name": gguf_file([ARCH], [ONE_TENSOR, tensor("w", [8], 0, 32)], b"\0" * 64),
    "tensor name too long": gguf_file([ARCH], [tensor("n" * 64, [8])], b"\0" * 32),
    "offset not where llama.cpp expects": gguf_file([ARCH], [tensor("w", [8], 0, 32)], b"\0" * 64),
    "overlapping tensors": gguf_file([ARCH], [ONE_TENSOR, tensor("v", [8], 0, 0)], b"\0" * 64),
    "offset past the end": gguf_file([ARCH], [tensor("w", [8], 0, 2**62)], b"\0" * 32),
    "data past the end": gguf_file([ARCH], [tensor("w", [1024])], b"\0" * 32),
    "empty file": b"",
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_file_raises_gguf_error(tmp_path, case):
    with pytest.raises(rwkv_gpu.GGUFError):
        rwkv_gpu.GGUFFile(write(tmp_path, HOSTILE[case]))


def test_gguf_error_is_a_rwkv_gpu_error(tmp_path):
    with pytest.raises(rwkv_gpu.Error, match="bad magic"):
        rwkv_gpu.GGUFFile(write(tmp_path, HOSTILE["bad magic"]))
    with pytest.raises(rwkv_gpu.GGUFError, match="cannot open"):
        rwkv_gpu.GGUFFile(tmp_path / "missing.gguf")
    with pytest.raises(rwkv_gpu.GGUFError):
        rwkv_gpu.GGUFFile(tmp_path)  # a directory


def test_tiny_model_truncated_at_many_points(tmp_path, tiny_gguf):
    data = tiny_gguf.read_bytes()
    f = rwkv_gpu.GGUFFile(tiny_gguf)
    header_end = min(t.offset for t in f.tensors.values())
    cuts = sorted({*range(0, 64), *range(64, header_end, 97), *range(header_end, len(data), 4099), len(data) - 1})
    for cut in cuts:
        with pytest.raises(rwkv_gpu.GGUFError):
            rwkv_gpu.GGUFFile(write(tmp_path, data[:cut]))


def test_tiny_model_header_bytes_flipped(tmp_path, tiny_gguf):
    """Every flip either still parses into a consistent table or raises GGUFError; never a crash."""
    data = bytearray(tiny_gguf.read_bytes())
    header_end = min(t.offset for t in rwkv_gpu.GGUFFile(tiny_gguf).tensors.values())
    rng = random.Random(1234)
    positions = list(range(0, 24)) + [rng.randrange(24, header_end) for _ in range(400)]
    raised = 0
    for pos in positions:
        bad = bytearray(data)
        bad[pos] ^= 1 << rng.randrange(8) if pos >= 24 else 0xFF
        try:
            f = rwkv_gpu.GGUFFile(write(tmp_path, bytes(bad)))
        except rwkv_gpu.GGUFError:
            raised += 1
            continue
        for t in f.tensors.values():
            assert t.offset + t.n_bytes <= len(bad)
    assert raised >= 24  # at least every flip of the fixed header fields is caught


def test_tiny_model_counts_set_huge(tmp_path, tiny_gguf):
    data = bytearray(tiny_gguf.read_bytes())
    for field_offset in (8, 16):  # tensor count, kv count
        for value in (2**63 - 1, 2**40, 10**6):
            bad = bytearray(data)
            bad[field_offset:field_offset + 8] = struct.pack("<Q", value)
            with pytest.raises(rwkv_gpu.GGUFError):
                rwkv_gpu.GGUFFile(write(tmp_path, bytes(bad)))
