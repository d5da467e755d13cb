"""Markdown tables of a device_matrix.sh results file:

    python benchmarks/report.py benchmarks/results/2026-11-21-h200-model-matrix.jsonl

Prefill: per run (precision, RWKV_GPU_MATMUL, prompt length), tokens/s and the GPU time of the
matrix products (every matmul / matvec dispatch of the profiled prompt) and of wkv7.
"""

import json
import re
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1])]
bandwidth = [r for r in rows if r["benchmark"] == "bandwidth"]
read_bw = statistics.median(r["read_gb_per_s"] for r in bandwidth)
print(f"Device: {bandwidth[0]['device']}; measured read bandwidth {read_bw / 1000:.2f} TB/s "
      f"(median of {len(bandwidth)} measurements in the run).\n")
print("| model | pp512 tok/s | tg128 tok/s | decode weights / token | decode GB/s | % of read bandwidth | load GB/s |")
print("|---|---:|---:|---:|---:|---:|---:|")
for r in rows:
    if r["benchmark"] != "model":
        continue
    frac = 100 * r["decode_gb_per_s"] / read_bw
    print(f"| {r['model']} | {r['pp_tokens_per_s']:,.0f} | {r['tg_tokens_per_s']:.1f} | "
          f"{r['decode_bytes_per_token'] / 1e9:.2f} GB | {r['decode_gb_per_s']:.0f} | {frac:.0f}% | {r['load_gb_per_s']:.1f} |")
print("\n| model | precision | matmul | pp | tok/s | ms | products ms | wkv7 ms | GPU total ms |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|")
for r in rows:
    if r["benchmark"] != "model":
        continue
    prof = r["pp_gpu_profile"]
    products = sum(v for k, v in prof.items() if k.startswith(("matmul", "matvec")))
    print(f"| {r['model']} | {r.get('precision', 'exact')} | {r.get('matmul', 'table')} | {r['pp']} | "
          f"{r['pp_tokens_per_s']:,.0f} | {1000 * r['pp_median_s']:.1f} | {products:.1f} | {prof.get('wkv7', 0):.1f} | "
          f"{prof['total_ms']:.1f} |")
print("\nGPU time per op of one decode step (ms, timestamps around each dispatch; matvec = the big\n"
      "matrices in the model's type, matvec_f32 = the LoRA matrices):\n")


def family(op: str) -> str:
    """A shader name without its weight type (f32 kept: there it marks the LoRA products)."""
    return re.sub(r"_(f16|bf16|q[4-8]_[01k])$", "", op)


for r in rows:
    if r["benchmark"] == "model":
        merged = {}
        for k, v in r["tg_gpu_profile"].items():
            merged[family(k)] = merged.get(family(k), 0.0) + v
        r["tg_gpu_profile"] = merged
ops = sorted({k for r in rows if r["benchmark"] == "model" for k in r["tg_gpu_profile"] if k != "total_ms"})
print("| model | total | " + " | ".join(ops) + " |")
print("|---|---:|" + "---:|" * len(ops))
for r in rows:
    if r["benchmark"] == "model":
        p = r["tg_gpu_profile"]
        print(f"| {r['model']} | {p['total_ms']:.2f} | " + " | ".join(f"{p.get(o, 0):.2f}" for o in ops) + " |")
