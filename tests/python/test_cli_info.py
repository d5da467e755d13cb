"""``rwkv-gpu info`` (issue 14, item 13): tensor shapes in numpy order (checked against the gguf
package's reader), rwkv7's zero head_count explained, nothing printed before a file error, and a
checkpoint given where a GGUF belongs gets the ``convert`` command to run."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import zipfile

from gguf import GGUFReader


def rwkv_gpu_cli(*args):
    return subprocess.run([sys.executable, "-m", "rwkv_gpu", *args], capture_output=True, text=True, timeout=120)


def test_shapes_are_numpy_order(tiny_gguf):
    out = rwkv_gpu_cli("info", str(tiny_gguf))
    assert out.returncode == 0, out.stderr
    printed = {m.group(1): ast.literal_eval(m.group(2))
               for m in re.finditer(r"^  (\S+)\s+[A-Z0-9_]+\s+(\([\d, ]*\))\s+[\d,]+ B$", out.stdout, flags=re.M)}
    reader = GGUFReader(tiny_gguf)
    assert len(printed) == len(reader.tensors) == 342
    for t in reader.tensors:  # the gguf package gives ne order; numpy order is its reverse
        assert printed[t.name] == tuple(reversed([int(n) for n in t.shape])), t.name
    assert printed["token_embd.weight"] == (256, 64)


def test_zero_head_count_is_explained(tiny_gguf):
    fields = GGUFReader(tiny_gguf).fields
    n_embd = int(fields["rwkv7.embedding_length"].parts[-1][0])
    head_size = int(fields["rwkv7.wkv.head_size"].parts[-1][0])
    line = next(line for line in rwkv_gpu_cli("info", str(tiny_gguf)).stdout.splitlines()
                if "rwkv7.attention.head_count" in line)
    assert re.search(r"\b0\s", line)  # the stored value stays visible
    assert f"{n_embd} / {head_size} = {n_embd // head_size} heads" in line


def test_a_bad_file_prints_no_device_block(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00{\x00")  # truncated; byte 8 as in a safetensors header
    out = rwkv_gpu_cli("info", str(bad))
    assert out.returncode == 1 and out.stdout == "" and "Vulkan devices" not in out.stderr
    assert out.stderr.startswith("rwkv-gpu: error:") and "convert" not in out.stderr  # not a checkpoint


def test_checkpoints_get_the_convert_command(tmp_path, tiny_gguf):
    st = tiny_gguf.parent / "tiny-rwkv7-834K.safetensors"
    out = rwkv_gpu_cli("info", str(st))
    assert out.returncode == 1 and out.stdout == ""
    assert f"rwkv-gpu convert {st} -o model.gguf" in out.stderr and ".safetensors checkpoint" in out.stderr
    # torch.save's zip format, found by content under any name; and generate -m says the same.
    pth = tmp_path / "weights.bin"
    with zipfile.ZipFile(pth, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    out = rwkv_gpu_cli("generate", "-m", str(pth), "hello")
    assert out.returncode == 1 and ".pth checkpoint" in out.stderr and f"rwkv-gpu convert {pth}" in out.stderr
    assert out.stderr.count("\n") == 1
