"""Hostile inputs that crashed, hung or misbehaved (the hardening issue's items 1, 3, 8, 9 and
some of 10), each a regression test: a clear typed error, never a signal or a hang."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import rwkv_gpu
from rwkv_gpu.testing import random_model


def _run_isolated(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """A child process, so that a crash (SIGSEGV, SIGFPE) fails the test instead of the run."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)


def _pth_with_tensor(path, size, stride, offset=0, storage_floats=1):
    """A torch.save-style zip whose state dict holds one FloatStorage tensor with the given view,
    written opcode by opcode (torch itself refuses out-of-range views)."""
    def i(v):
        return b"J" + struct.pack("<i", v)

    def tup(vals):
        return b"(" + b"".join(i(v) for v in vals) + b"t"

    pid = b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpu" + i(storage_floats) + b"tQ"
    pkl = (b"\x80\x02}X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n(" + pid + i(offset) + tup(size) + tup(stride)
           + b"tRs.")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/data/0", np.ones(storage_floats, np.float32).tobytes())


def test_pth_views_outside_their_storage_are_rejected(tmp_path):
    from rwkv_gpu.pth import load_pth

    ok = tmp_path / "ok.pth"
    _pth_with_tensor(ok, (2, 3), (3, 1), storage_floats=6)
    assert load_pth(ok)["w"].shape == (2, 3)
    for name, size, stride, offset in [("huge", (64, 10**6), (10**6, 1), 0), ("past-end", (2, 3), (3, 1), 1),
                                       ("negative", (2,), (-1,), 0)]:
        bad = tmp_path / f"{name}.pth"
        _pth_with_tensor(bad, size, stride, offset, storage_floats=6)
        with pytest.raises(ValueError, match="malformed tensor"):
            load_pth(bad)
    bad = tmp_path / "huge.pth"
    r = _run_isolated(f"import rwkv_gpu.cli as c, sys; sys.exit(c.main(['convert', {str(bad)!r}, '-o', {str(tmp_path / 'x.gguf')!r}]))")
    assert r.returncode == 1 and "malformed tensor" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("content,suffix", [(b"PK\x03\x04garbage", ".pth"), (b"", ".pth"), (os.urandom(300), ".pth"),
                                            (b"\xff" * 8 + b"{}", ".safetensors"), (b"GGUF\x03\x00\x00\x00", ".pth")],
                         ids=["corrupt-zip", "empty", "random", "corrupt-safetensors", "gguf-input"])
def test_cli_convert_of_garbage_is_one_line(tmp_path, content, suffix):
    src = tmp_path / f"in{suffix}"
    src.write_bytes(content)
    r = _run_isolated(f"import rwkv_gpu.cli as c, sys; sys.exit(c.main(['convert', {str(src)!r}, '-o', {str(tmp_path / 'x.gguf')!r}]))")
    assert r.returncode == 1, r.stderr
    assert r.stderr.startswith("rwkv-gpu: error:") and "Traceback" not in r.stderr and r.stderr.count("\n") == 1


def test_fifo_paths_are_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "model.gguf"
    os.mkfifo(fifo)
    r = _run_isolated(f"""
import rwkv_gpu
try:
    rwkv_gpu.Model({str(fifo)!r})
except rwkv_gpu.GGUFError as e:
    print("GGUFError", e)
""", timeout=30)
    assert "not a regular file" in r.stdout
    with pytest.raises(ValueError, match="not a regular file"):
        from rwkv_gpu.convert import load_checkpoint

        load_checkpoint(fifo)


def test_head_size_past_the_devices_shared_memory_is_a_value_error(tmp_path):
    """A head of 1024 needs 36 KiB of shared memory in the sequential WKV kernel (36 bytes per
    channel of the head: ops/wkv7.cpp); lavapipe allows 32 KiB: a clear error, not a validation
    message or a failed pipeline."""
    path = tmp_path / "head1024.gguf"
    random_model(path, n_layer=1, n_embd=1024, head_size=1024, vocab=100, dtype="f32")
    model = rwkv_gpu.Model(path)
    device = next(d for d in rwkv_gpu.devices() if d.selected)
    if device.max_compute_shared_memory_size >= 36 * 1024:
        pytest.skip(f"this device allows {device.max_compute_shared_memory_size} bytes of shared memory: a head of 1024 fits")
    with pytest.raises(ValueError, match="shared memory"):
        model.run([1, 2, 3])


def test_zero_lora_rank_is_a_gguf_error(tmp_path):
    path = tmp_path / "rank0.gguf"
    with np.errstate(divide="ignore"):
        random_model(path, n_layer=2, n_embd=64, head_size=32, vocab=100, dtype="f32", lora_ranks=(0, 32, 32, 32))
    r = _run_isolated(f"""
import rwkv_gpu
try:
    rwkv_gpu.Model({str(path)!r})
except rwkv_gpu.GGUFError as e:
    print("GGUFError", e)
""")
    assert r.returncode == 0 and "decay LoRA rank" in r.stdout, (r.returncode, r.stderr)


def _copy_with(src, dst, overrides=None, tokens=None):
    """src's tensors and metadata, with some metadata replaced (key -> (value, GGUFValueType))."""
    import gguf

    reader = gguf.GGUFReader(src)
    w = gguf.GGUFWriter(dst, "rwkv7")
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        if overrides and key in overrides:
            value, vtype = overrides[key]
            w.add_key_value(key, value, vtype)
        elif key == "tokenizer.ggml.tokens" and tokens is not None:
            w.add_array(key, tokens)
        elif key == "tokenizer.ggml.token_type" and tokens is not None:
            w.add_array(key, list(field.contents())[: len(tokens)])
        elif field.types[0] == gguf.GGUFValueType.ARRAY:
            w.add_array(key, field.contents())
        else:
            w.add_key_value(key, field.contents(), field.types[0])
    for t in reader.tensors:
        w.add_tensor(t.name, np.asarray(t.data), raw_dtype=t.tensor_type)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def test_counts_beyond_32_bits_and_short_token_lists(tmp_path):
    import gguf

    src = tmp_path / "m.gguf"
    random_model(src, n_layer=2, n_embd=64, head_size=32, vocab=300, dtype="f32")
    wrapped = tmp_path / "wrapped.gguf"
    _copy_with(src, wrapped, {"rwkv7.block_count": (2**32 + 2, gguf.GGUFValueType.UINT64)})
    with pytest.raises(rwkv_gpu.GGUFError, match="block_count = 4294967298 is out of range"):
        rwkv_gpu.Model(wrapped)
    short = tmp_path / "short.gguf"
    _copy_with(src, short, tokens=[f"t{i}" for i in range(100)])
    with pytest.raises(rwkv_gpu.GGUFError, match="100 tokens for a vocabulary of 300"):
        rwkv_gpu.Model(short)


def _nan_state(model):
    """A state of `model` whose every value is NaN (as a corrupted state file would load)."""
    state = model.new_state()
    values = model.back_state(state)
    values[:] = np.nan
    model.load_state(state, values)
    return state


@pytest.mark.parametrize("temperature", [0.0, 1.0], ids=["greedy", "sampled"])
def test_nan_state_gives_a_clear_error_when_sampling(tiny_gguf, temperature):
    model = rwkv_gpu.Model(tiny_gguf)
    state = _nan_state(model)
    with pytest.raises(rwkv_gpu.NonFiniteError, match="NaN or infinity"):
        model.generate([1, 2, 3], 5, temperature=temperature, state=state, stop_tokens=[], seed=1)
    # The model itself is fine: a finite state generates.
    assert len(model.generate([1, 2, 3], 5, temperature=temperature, stop_tokens=[], seed=1).tokens) == 5


@pytest.mark.parametrize("call", ["run last", "run all", "embed last", "embed mean", "embed_batch"])
def test_nan_state_gives_a_clear_error_from_run_and_embed(tiny_gguf, call):
    """Issue 13, item 4: run / embed outputs are checked too (they came back as NaN silently)."""
    model = rwkv_gpu.Model(tiny_gguf)
    state = _nan_state(model)
    kind, _, mode = call.partition(" ")
    with pytest.raises(rwkv_gpu.NonFiniteError, match="sequence 0, token 2 holds NaN or infinity|NaN or infinity"):
        if kind == "run":
            model.run([1, 2, 3], state, logits=mode)
        elif kind == "embed":
            model.embed([1, 2, 3], pooling=mode, state=state)
        else:
            model.embed_batch([[1, 2, 3], [4, 5]], state=state)
    # A finite state gives finite outputs (the check refuses nothing else).
    assert np.isfinite(model.run([1, 2, 3], logits="all")).all()
    assert np.isfinite(model.embed_batch([[1, 2, 3], [4, 5]], pooling="mean")).all()


def test_nan_or_negative_epsilon_is_refused(tmp_path):
    import gguf

    src = tmp_path / "m.gguf"
    random_model(src, n_layer=2, n_embd=64, head_size=32, vocab=300, dtype="f32")
    for eps in (float("nan"), -1e-5):
        bad = tmp_path / "eps.gguf"
        _copy_with(src, bad, {"rwkv7.attention.layer_norm_epsilon": (eps, gguf.GGUFValueType.FLOAT32)})
        with pytest.raises(rwkv_gpu.GGUFError, match="layer_norm_epsilon"):
            rwkv_gpu.Model(bad)


def test_states_of_another_models_weights_are_refused(tmp_path):
    """Same shapes, other weights (another seed): another fingerprint, so State.load refuses."""
    a, b = tmp_path / "a.gguf", tmp_path / "b.gguf"
    random_model(a, n_layer=2, n_embd=64, head_size=32, vocab=300, dtype="f32", seed=1)
    random_model(b, n_layer=2, n_embd=64, head_size=32, vocab=300, dtype="f32", seed=2)
    ma, mb = rwkv_gpu.Model(a), rwkv_gpu.Model(b)
    assert ma.info["fingerprint"] != mb.info["fingerprint"]
    assert rwkv_gpu.Model(a).info["fingerprint"] == ma.info["fingerprint"]
    state = ma.new_state()
    ma.run([1, 2, 3], state, logits=None)
    state.save(tmp_path / "s.npz")
    with pytest.raises(ValueError, match="another model"):
        mb.new_state().load(tmp_path / "s.npz")


def test_small_ones(tiny_gguf, tmp_path):
    model = rwkv_gpu.Model(tiny_gguf)
    with pytest.raises(TypeError, match="logits must be"):
        model.run([1, 2], logits=1)
    with pytest.raises(ValueError, match="max_tokens"):
        model.generate([1, 2], 2**40)
    with pytest.raises(TypeError, match="stop must be"):
        model.generate([1, 2], 5, stop=b"e")
    big = np.array([1e30, 1e30], np.float32)
    assert rwkv_gpu.cosine_similarity(big, big) == pytest.approx(1.0)
    assert rwkv_gpu.cosine_similarity(big, -big) == pytest.approx(-1.0)
    # A file cut right after its header: the message says so instead of "absurd tensor count".
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(Path(tiny_gguf).read_bytes()[:24])
    with pytest.raises(rwkv_gpu.GGUFError, match="cannot fit in the 0 bytes after the header"):
        rwkv_gpu.GGUFFile(cut)
    # An embedded NUL in a quoted value is shown as \0, not the end of the message.
    def gstr(b):
        return struct.pack("<Q", len(b)) + b

    nul = tmp_path / "nul.gguf"
    head = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + gstr(b"general.architecture") + struct.pack("<I", 8) + gstr(b"rw\0kv")
    nul.write_bytes(head + b"\0" * (-len(head) % 32))
    with pytest.raises(rwkv_gpu.GGUFError, match=r"'rw\\0kv'; rwkv_gpu runs RWKV-7"):
        rwkv_gpu.Model(nul)
    # Bytes that are not UTF-8 (a stray continuation byte, a truncated 3-byte sequence) come out
    # as U+FFFD; valid multi-byte characters stay.
    bad = tmp_path / "bad.gguf"
    head = (b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + gstr(b"general.architecture") + struct.pack("<I", 8)
            + gstr("r\u00e9".encode() + b"\x80w\xe4\xb8"))
    bad.write_bytes(head + b"\0" * (-len(head) % 32))
    with pytest.raises(rwkv_gpu.GGUFError, match="'r\u00e9\ufffdw\ufffd\ufffd'"):
        rwkv_gpu.Model(bad)


def test_a_timed_out_submission_is_abandoned_safely(tiny_gguf):
    """RWKV_GPU_TIMEOUT_S far below the work: DeviceTimeoutError, then (once the GPU caught up) the
    next call works and gives the right logits; no validation message, no crash at exit. (The
    timeout is read when the device opens: a child process.)"""
    code = f"""
import numpy as np, rwkv_gpu
m = rwkv_gpu.Model(rwkv_gpu.default_model_path())
try:
    m.run(np.arange(600) % 250 + 1)
    raise SystemExit("no timeout")
except rwkv_gpu.DeviceTimeoutError:
    pass
for _ in range(200):  # later calls time out too while the abandoned work still runs
    try:
        got = m.run([1, 2, 3])
        break
    except rwkv_gpu.DeviceTimeoutError:
        pass
print(repr(got[:4].tolist()))
"""
    env = dict(os.environ, RWKV_GPU_TIMEOUT_S="0.001", RWKV_GPU_VALIDATION="1")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert "validation" not in r.stderr, r.stderr
    want = rwkv_gpu.Model(rwkv_gpu.default_model_path()).run([1, 2, 3])[:4]
    np.testing.assert_allclose(eval(r.stdout.strip()), want, rtol=0, atol=1e-5)


def test_a_lost_device_gives_clear_errors_not_a_crash():
    """Fault injection (RWKV_GPU_FAULT=lose_device_after:N): the device is lost mid-way; that call
    and every later one raise DeviceLostError; the process exits cleanly, validation silent. N
    counts queue submissions: the load's, then the first run's (one per chunk: the default model's
    chunks are too small to be split, runtime::submission_layers), then the second run's, where
    the loss comes."""
    code = """
import numpy as np, rwkv_gpu
m = rwkv_gpu.Model(rwkv_gpu.default_model_path())
out = []
for _ in range(3):
    try:
        m.run(np.arange(300) % 250 + 1)
        out.append("ok")
    except rwkv_gpu.DeviceLostError:
        out.append("lost")
print(" ".join(out))
"""
    env = dict(os.environ, RWKV_GPU_FAULT="lose_device_after:6", RWKV_GPU_VALIDATION="1")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["ok", "lost", "lost"] and "validation" not in r.stderr
    env["RWKV_GPU_FAULT"] = "sometimes"
    r = subprocess.run([sys.executable, "-c", "import rwkv_gpu; rwkv_gpu.Model(rwkv_gpu.default_model_path())"],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 1 and "expected lose_device_after:N" in r.stderr
