"""benchmarks/bench_report.py on a hand-written pytest-benchmark JSON: one table per workload
(models x backends) with the medians in ms, the rounds and the time over rwkv_gpu's on the same
model, and a PNG chart written per workload."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPORT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_report.py"


def bench(group: str, backend: str, median_s: float, min_s: float, rounds: int) -> dict:
    return {"group": group, "name": f"test_x[{backend}]", "params": {"backend": backend},
            "extra_info": {"backend": backend, "device": "CPU"},
            "stats": {"median": median_s, "min": min_s, "rounds": rounds}}


def test_tables_and_charts(tmp_path):
    run = {"machine_info": {"node": "ci", "python_version": "3.11"}, "datetime": "2026-11-29",
           "benchmarks": [bench("prefill / tiny", "rwkv_gpu", 0.004, 0.0035, 9),
                          bench("prefill / tiny", "llama-cpp-python", 0.002, 0.0019, 12),
                          bench("decode / tiny", "rwkv", 1.5, 1.4, 3)]}
    src = tmp_path / "run.json"
    src.write_text(json.dumps(run))
    out = tmp_path / "report"
    subprocess.run([sys.executable, str(REPORT), str(src), "--out", str(out)], check=True)
    text = (out / "README.md").read_text()
    prefill = text[text.index("## prefill"):text.index("## decode")]
    assert "| tiny | rwkv_gpu | 4.000 | 9 |  | 1.00 |" in prefill
    assert "| tiny | llama-cpp-python | 2.000 | 12 |  | 0.50 |" in prefill  # 2 ms over rwkv_gpu's 4
    assert "| tiny | rwkv | 1,500.000 | 3 |  |  |" in text[text.index("## decode"):]  # no rwkv_gpu row to compare
    for name in ("prefill.png", "decode.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({name})" in text
