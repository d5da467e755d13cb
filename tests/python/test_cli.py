"""The command line (python -m rwkv_gpu) as a user runs it."""

import subprocess
import sys


def rwkv_gpu_cli(*args):
    return subprocess.run([sys.executable, "-m", "rwkv_gpu", *args], capture_output=True, text=True, timeout=120)


def test_info_prints_devices_metadata_and_tensors(tiny_gguf):
    out = rwkv_gpu_cli("info", str(tiny_gguf))
    assert out.returncode == 0, out.stderr
    assert "Vulkan devices" in out.stdout
    assert "general.architecture" in out.stdout and "'rwkv7'" in out.stdout
    assert "blk.11.channel_mix_value.weight" in out.stdout
    assert "342 tensors" in out.stdout


def test_devices_subcommand():
    out = rwkv_gpu_cli("devices")
    assert out.returncode == 0 and "* [" in out.stdout


def test_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file at all")
    out = rwkv_gpu_cli("info", str(bad))
    assert out.returncode == 1
    assert out.stderr.startswith("rwkv-gpu: error:") and "bad magic" in out.stderr
    assert "Traceback" not in out.stderr
    assert "Traceback" in rwkv_gpu_cli("--debug", "info", str(bad)).stderr


def test_help_everywhere():
    for sub in ([], ["info"], ["generate"], ["chat"], ["embed"], ["bench"], ["convert"], ["demo"], ["devices"]):
        out = rwkv_gpu_cli(*sub, "--help")
        assert out.returncode == 0 and "usage: rwkv-gpu" in out.stdout, sub


def test_generate_streams_greedy_text(tiny_gguf):
    import rwkv_gpu

    expected = rwkv_gpu.Model(tiny_gguf).generate("In the", 24, temperature=0).text
    out = rwkv_gpu_cli("generate", "-m", str(tiny_gguf), "In the", "-n", "24", "--temperature", "0")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "In the" + expected + "\n"
    assert "tokens/s" in out.stderr


def test_generate_stop_string(tiny_gguf):
    out = rwkv_gpu_cli("generate", "-m", str(tiny_gguf), "In the", "-n", "40", "--temperature", "0",
                       "--stop", "the", "--no-echo")
    assert out.returncode == 0, out.stderr
    assert "the" not in out.stdout and "stop" in out.stderr


def test_chat_keeps_the_state_between_turns(tiny_gguf):
    import rwkv_gpu

    proc = subprocess.run([sys.executable, "-m", "rwkv_gpu", "chat", "-m", str(tiny_gguf), "-n", "12",
                           "--temperature", "0"], input="Hello there\nAnd again\n", capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("User:") == 2 and proc.stdout.count("Assistant:") == 2
    # The second answer continues the conversation: equal to greedy decoding over the whole text.
    m = rwkv_gpu.Model(tiny_gguf)
    state = m.new_state()
    first = m.generate("User: Hello there\n\nAssistant:", 12, temperature=0, stop="\n\n", state=state)
    if first.finish_reason != "stop":
        m.run("\n\n", state, logits=None)
    second = m.generate("User: And again\n\nAssistant:", 12, temperature=0, stop="\n\n", state=state)
    assert f"Assistant:{second.text}\n" in proc.stdout


def test_embed_lines_to_npy(tiny_gguf, tmp_path):
    import numpy as np

    import rwkv_gpu

    src = tmp_path / "lines.txt"
    src.write_text("first line\n\nsecond line here\nthird\n")
    dst = tmp_path / "out.npy"
    out = rwkv_gpu_cli("embed", "-m", str(tiny_gguf), str(src), "-o", str(dst), "--normalize")
    assert out.returncode == 0, out.stderr
    vecs = np.load(dst)
    expected = rwkv_gpu.Model(tiny_gguf).embed_batch(["first line", "second line here", "third"], normalize=True)
    assert vecs.shape == (4, 64) and np.isnan(vecs[1]).all()  # one row per line; the blank one is NaN
    np.testing.assert_allclose(vecs[[0, 2, 3]], expected, atol=1e-5)
    piped = subprocess.run([sys.executable, "-m", "rwkv_gpu", "embed", "-m", str(tiny_gguf), "-o",
                            str(tmp_path / "b.npy")], input="one\ntwo\n", capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0 and np.load(tmp_path / "b.npy").shape == (2, 64)


def test_bench_reports_speeds(tiny_gguf):
    out = rwkv_gpu_cli("bench", "-m", str(tiny_gguf), "-p", "32", "-n", "8", "-r", "1")
    assert out.returncode == 0, out.stderr
    assert "prefill pp32" in out.stdout and "decode  tg8" in out.stdout


def test_bad_model_argument_is_one_line(tmp_path):
    out = rwkv_gpu_cli("generate", "-m", str(tmp_path / "missing.gguf"), "hi")
    assert out.returncode == 1 and out.stderr.startswith("rwkv-gpu: error:") and "Traceback" not in out.stderr


def test_default_model_when_none_is_given():
    out = rwkv_gpu_cli("info")
    assert out.returncode == 0, out.stderr
    assert "rwkv7-kjv-4x192-F16.gguf" in out.stdout and "general.architecture" in out.stdout
    gen = rwkv_gpu_cli("generate", "And God said", "-n", "30", "--temperature", "0", "--no-echo")
    assert gen.returncode == 0, gen.stderr
    assert " " in gen.stdout and gen.stdout.isascii()  # byte-level KJV English, greedy
