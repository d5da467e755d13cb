"""Markdown tables of a device_matrix.sh results file:

    python benchmarks/report.py benchmarks/results/2026-11-21-h200-model-matrix.jsonl

Prefill: per run (precision, RWKV_GPU_MATMUL, prompt length), tokens/s and the GPU time of the
matrix products (every matmul / matvec dispatch of the profiled prompt) and of the WKV (wkv7 or its
chunked steps), and (rows of rwkv-gpu-bench since 2026-12-07) the prompt's dispatches with the wall
time it spends beyond its dispatches' GPU time, per dispatch. Where the file
also holds llama-bench rows (device_matrix.sh LLAMA=1: "benchmark": "llama-bench", its JSONL fields
model, n_prompt, n_gen, n_depth, avg_ts, stddev_ts), the first table puts llama.cpp's tokens/s for
the same model label and pp / tg beside ours, with the ratio ours / llama.cpp.
"""

import json
import re
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
bandwidth = [r for r in rows if r["benchmark"] == "bandwidth"]
read_bw = statistics.median(r["read_gb_per_s"] for r in bandwidth) if bandwidth else None
if bandwidth:
    print(f"Device: {bandwidth[0]['device']}; measured read bandwidth {read_bw / 1000:.2f} TB/s "
          f"(median of {len(bandwidth)} measurements in the run).\n")

# llama-bench rows: a pp test has n_gen 0, a tg test n_prompt 0 (the key is model label, kind, tokens).
llama = {}
for r in rows:
    if r["benchmark"] == "llama-bench" and r.get("n_depth", 0) == 0:
        if r["n_gen"] == 0:
            llama[(r["model"], "pp", r["n_prompt"])] = r
        elif r["n_prompt"] == 0:
            llama[(r["model"], "tg", r["n_gen"])] = r


def label(r: dict) -> str:
    """The model label, with the benchmark binary and the WKV kernel where a run forced them."""
    out = r["model"]
    if r.get("bench", "rwkv-gpu-bench") != "rwkv-gpu-bench":
        out += f" [{r['bench']}]"
    if r.get("wkv", "table") != "table":
        out += f" (wkv {r['wkv']})"
    return out


def versus(r: dict, kind: str) -> str:
    """llama.cpp's tok/s and ours / llama.cpp for our row r's pp or tg, as two table cells."""
    other = llama.get((r["model"], kind, r[kind]))
    if other is None:
        return " - | - |"
    tok_s = f"{other['avg_ts']:,.0f}" if kind == "pp" else f"{other['avg_ts']:.1f}"
    return f" {tok_s} | {r[f'{kind}_tokens_per_s'] / other['avg_ts']:.2f}x |"


vs_head, vs_rule = (" llama.cpp | ours / llama.cpp |", "---:|---:|") if llama else ("", "")
print(f"| model | precision | matmul | pp | pp tok/s |{vs_head} tg | tg tok/s |{vs_head} decode weights / token | "
      "decode GB/s | % of read bandwidth | load GB/s |")
print(f"|---|---|---|---:|---:|{vs_rule}---:|---:|{vs_rule}---:|---:|---:|---:|")
for r in rows:
    if r["benchmark"] != "model":
        continue
    frac = f"{100 * r['decode_gb_per_s'] / read_bw:.0f}%" if read_bw else "-"
    print(f"| {label(r)} | {r.get('precision', 'exact')} | {r.get('matmul', 'table')} | {r['pp']} | "
          f"{r['pp_tokens_per_s']:,.0f} |{versus(r, 'pp') if llama else ''} {r['tg']} | {r['tg_tokens_per_s']:.1f} |"
          f"{versus(r, 'tg') if llama else ''} {r['decode_bytes_per_token'] / 1e9:.2f} GB | {r['decode_gb_per_s']:.0f} | "
          f"{frac} | {r['load_gb_per_s']:.1f} |")
if llama:
    first = next(iter(llama.values()))
    where = ", ".join(v for v in (first.get("backends"), first.get("gpu_info")) if v)
    if not first.get("gpu_info"):  # a CUDA build that found no GPU falls back to the CPU silently
        where += "; NO GPU found by llama.cpp: these are CPU numbers"
    print(f"\nllama.cpp: llama-bench, commit {first.get('build_commit', '?')} ({where}), "
          f"-ngl {first.get('n_gpu_layers', '?')}, mean of {len(first.get('samples_ts', [])) or '?'} runs:\n")
    print("| model | test | tok/s | stddev |")
    print("|---|---|---:|---:|")
    for (model, kind, n), r in llama.items():
        print(f"| {model} | {kind}{n} | {r['avg_ts']:,.1f} | {r['stddev_ts']:,.1f} |")
# "between dispatches": the prompt's wall time less its GPU time, per dispatch (the GPU's gaps for
# barriers and launches, and the host's recording, submission and wait), where the row counts them.
print("\n| model | precision | matmul | pp | tok/s | ms | products ms | wkv7 ms | GPU total ms | dispatches | "
      "between dispatches, us each |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    if r["benchmark"] != "model":
        continue
    prof = r["pp_gpu_profile"]
    products = sum(v for k, v in prof.items() if k.startswith(("matmul", "matvec")))
    wkv = sum(v for k, v in prof.items() if k.startswith("wkv7"))  # sequential, or the chunked steps
    n = r.get("pp_dispatches")
    gaps = f"{n} | {(1000 * r['pp_median_s'] - prof['total_ms']) * 1000 / n:.1f}" if n else " | "
    print(f"| {label(r)} | {r.get('precision', 'exact')} | {r.get('matmul', 'table')} | {r['pp']} | "
          f"{r['pp_tokens_per_s']:,.0f} | {1000 * r['pp_median_s']:.1f} | {products:.1f} | {wkv:.1f} | "
          f"{prof['total_ms']:.1f} | {gaps} |")
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
        print(f"| {label(r)} | {p['total_ms']:.2f} | " + " | ".join(f"{p.get(o, 0):.2f}" for o in ops) + " |")
