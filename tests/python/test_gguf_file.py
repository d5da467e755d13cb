"""rwkv_gpu.GGUFFile against the PyPI gguf package's reader (an independent implementation)."""

import gguf
import numpy as np
import pytest

import rwkv_gpu

# Shapes (numpy order) of one rwkv7 layer as ../shared/docs/rwkv7-spec.md lists them (ne reversed),
# for the tiny model: C = 64, F = 256, LoRA ranks 32.
C, F, D, V = 64, 256, 32, 256
LAYER_SHAPES = {
    "attn_norm.weight": (C,), "attn_norm.bias": (C,), "attn_norm_2.weight": (C,), "attn_norm_2.bias": (C,),
    "time_mix_lerp_fused.weight": (6, 1, 1, C),
    "time_mix_w0.weight": (C,), "time_mix_w1.weight": (D, C), "time_mix_w2.weight": (C, D),
    "time_mix_a0.weight": (C,), "time_mix_a1.weight": (D, C), "time_mix_a2.weight": (C, D),
    "time_mix_v0.weight": (C,), "time_mix_v1.weight": (D, C), "time_mix_v2.weight": (C, D),
    "time_mix_g1.weight": (D, C), "time_mix_g2.weight": (C, D),
    "time_mix_k_k.weight": (C,), "time_mix_k_a.weight": (C,), "time_mix_r_k.weight": (C,),
    "time_mix_receptance.weight": (C, C), "time_mix_key.weight": (C, C),
    "time_mix_value.weight": (C, C), "time_mix_output.weight": (C, C),
    "time_mix_ln.weight": (C,), "time_mix_ln.bias": (C,),
    "channel_mix_key.weight": (F, C), "channel_mix_value.weight": (C, F),
}


def test_tiny_model_table(tiny_gguf):
    f = rwkv_gpu.GGUFFile(tiny_gguf)
    assert f.metadata["general.architecture"] == "rwkv7"
    assert f.version == 3
    assert len(f.tensors) == 342
    assert f.tensors["token_embd.weight"].shape == (V, C)
    assert f.tensors["output.weight"].shape == (V, C)
    for name in ("token_embd_norm.weight", "token_embd_norm.bias", "output_norm.weight", "output_norm.bias"):
        assert f.tensors[name].shape == (C,)
    for layer in range(12):
        for suffix, shape in LAYER_SHAPES.items():
            t = f.tensors[f"blk.{layer}.{suffix}"]
            # channel_mix_lerp_k is [C] or [C,1,1] depending on the writer; all others as listed.
            assert t.shape == shape, (t.name, t.shape, shape)
        assert f.tensors[f"blk.{layer}.channel_mix_lerp_k.weight"].n_elements == C
    assert all(t.type == "F32" for t in f.tensors.values())


def test_matches_gguf_package_reader(tiny_gguf):
    ours = rwkv_gpu.GGUFFile(tiny_gguf)
    ref = gguf.GGUFReader(tiny_gguf)
    assert len(ours.tensors) == len(ref.tensors)
    for t in ref.tensors:
        mine = ours.tensors[t.name]
        assert mine.ne == tuple(int(x) for x in t.shape)
        assert mine.type == t.tensor_type.name
        assert mine.offset == t.data_offset
        np.testing.assert_array_equal(ours.tensor_bytes(t.name), np.asarray(t.data).view(np.uint8).reshape(-1))
        np.testing.assert_array_equal(ours.tensor(t.name).reshape(-1), np.asarray(t.data, dtype=np.float32).reshape(-1))
    for key, field in ref.fields.items():
        if key.startswith("GGUF."):
            continue
        value = field.contents()
        if isinstance(value, float):
            assert ours.metadata[key] == pytest.approx(value, rel=1e-7)
        else:
            assert ours.metadata[key] == value, key


def test_tensor_bytes_is_a_read_only_view(tiny_gguf):
    f = rwkv_gpu.GGUFFile(tiny_gguf)
    view = f.tensor_bytes("token_embd.weight")
    assert not view.flags.writeable and not view.flags.owndata
    del f  # the view keeps the mapping alive
    assert view.sum() != 0
    with pytest.raises(KeyError):
        rwkv_gpu.GGUFFile(tiny_gguf).tensor("nope")


def test_writer_round_trip_every_value_type(tmp_path):
    """Files written by the gguf package (all value types, arrays, v3) read back identically."""
    path = tmp_path / "kv.gguf"
    w = gguf.GGUFWriter(path, "rwkv7")
    w.add_uint8("t.u8", 200)
    w.add_int8("t.i8", -100)
    w.add_uint16("t.u16", 60000)
    w.add_int16("t.i16", -30000)
    w.add_uint32("t.u32", 4_000_000_000)
    w.add_int32("t.i32", -2_000_000_000)
    w.add_float32("t.f32", 1.5)
    w.add_bool("t.bool", True)
    w.add_string("t.str", "héllo")
    w.add_uint64("t.u64", 2**63 + 5)
    w.add_int64("t.i64", -(2**62))
    w.add_float64("t.f64", 2.0**-40)
    w.add_array("t.arr_i", [1, 2, 3])
    w.add_array("t.arr_s", ["a", "bc", ""])
    w.add_tensor("x", np.arange(10, dtype=np.float32))
    w.add_tensor("y", np.arange(96, dtype=np.float16).reshape(3, 32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    f = rwkv_gpu.GGUFFile(path)
    m = f.metadata
    assert (m["t.u8"], m["t.i8"], m["t.u16"], m["t.i16"]) == (200, -100, 60000, -30000)
    assert (m["t.u32"], m["t.i32"], m["t.u64"], m["t.i64"]) == (4_000_000_000, -2_000_000_000, 2**63 + 5, -(2**62))
    assert (m["t.f32"], m["t.bool"], m["t.str"], m["t.f64"]) == (1.5, True, "héllo", 2.0**-40)
    assert m["t.arr_i"] == [1, 2, 3] and m["t.arr_s"] == ["a", "bc", ""]
    assert f.metadata_types["t.arr_s"] == "array[string]"
    np.testing.assert_array_equal(f.tensor("x"), np.arange(10, dtype=np.float32))
    np.testing.assert_array_equal(f.tensor("y"), np.arange(96, dtype=np.float32).reshape(3, 32))
