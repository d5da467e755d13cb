"""World tokenizer encode throughput: rwkv_gpu (C++) against the official Python implementation
(PyPI rwkv, rwkv.rwkv_tokenizer.TRIE_TOKENIZER), on the multilingual test corpus repeated to ~1 MB.

    python benchmarks/tokenizer_bench.py [--mb 1.0] [--repeats 5] [--json out.json]

Reports medians of `repeats` timed runs after one warm-up, MB/s (1 MB = 1e6 bytes of UTF-8), and
the speed ratio. This is CPU work: numbers depend on the machine that ran it (recorded in the JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

import rwkv as rwkv_pkg
from rwkv.rwkv_tokenizer import TRIE_TOKENIZER

import rwkv_gpu

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "python"))
from corpus import TEXTS  # noqa: E402
from timing import median_seconds  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=1.0, help="corpus size in MB")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", help="write the results here too")
    args = ap.parse_args()

    unit = "\n".join(TEXTS)
    text = unit * max(1, int(args.mb * 1e6 / len(unit.encode())))
    n_bytes = len(text.encode())
    ours = rwkv_gpu.Tokenizer.world()
    ref = TRIE_TOKENIZER(os.path.join(os.path.dirname(rwkv_pkg.__file__), "rwkv_vocab_v20230424.txt"))
    assert ours.encode(text) == ref.encode(text), "tokenizers disagree: run the parity tests"

    t_ours = median_seconds(lambda: ours.encode(text), args.repeats)
    t_ref = median_seconds(lambda: ref.encode(text), args.repeats)
    result = {
        "benchmark": "world_tokenizer_encode",
        "machine": f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores".strip(),
        "python": platform.python_version(),
        "bytes": n_bytes,
        "tokens": len(ours.encode(text)),
        "repeats": args.repeats,
        "rwkv_gpu_median_s": t_ours,
        "reference_median_s": t_ref,
        "rwkv_gpu_mb_per_s": n_bytes / t_ours / 1e6,
        "reference_mb_per_s": n_bytes / t_ref / 1e6,
        "speedup": t_ref / t_ours,
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    print(f"World tokenizer encode, {n_bytes / 1e6:.2f} MB multilingual text, median of {args.repeats}:")
    print(f"  rwkv_gpu (C++)         {result['rwkv_gpu_mb_per_s']:8.2f} MB/s")
    print(f"  rwkv TRIE_TOKENIZER    {result['reference_mb_per_s']:8.2f} MB/s")
    print(f"  speedup                {result['speedup']:8.1f}x")


if __name__ == "__main__":
    main()
