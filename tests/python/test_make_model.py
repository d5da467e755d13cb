"""benchmarks/make_model.py writes the benchmark models on the lent GPU machine, where only numpy and
gguf are installed: it must run without importing the rwkv_gpu package (shadowed here by one
that cannot be imported) and write a model with the real 0.1B shapes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import rwkv_gpu

REPO = Path(__file__).resolve().parents[2]


def test_make_model_runs_without_the_engine(tmp_path):
    fake = tmp_path / "shadow" / "rwkv_gpu"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("the engine is not installed here")\n')
    out = tmp_path / "m.gguf"
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "shadow"))
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "make_model.py"), "--size", "0.1b", "--dtype", "q4_k",
                        "--out", str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    f = rwkv_gpu.GGUFFile(out)
    assert f.metadata["rwkv7.block_count"] == 12 and f.metadata["rwkv7.embedding_length"] == 768
    assert f.tensors["blk.0.channel_mix_key.weight"].type == "Q4_K"
