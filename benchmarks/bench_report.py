"""A report of pytest-benchmark runs of the backend suite (``pytest benchmarks/ --benchmark-only
--benchmark-json=run.json``): per workload, one Markdown table (models x backends: median, rounds,
throughput, time against rwkv_gpu's, the agreement check) and one bar chart.

    python benchmarks/bench_report.py run.json [more.json ...] --out docs/bench-report [--merged all.json]

Several JSON files (e.g. one per model, from separate pytest runs of one device call) are reported
together; ``--merged`` also writes them as one JSON file. ``--out`` gets ``README.md`` and
``<workload>.png``. Times are medians in milliseconds; "x rwkv_gpu" is the backend's median over
rwkv_gpu's on the same workload and model (above 1: slower). "error" is the largest
max |diff| / max(1, max |reference|) of the test's agreement checks against rwkv_gpu "exact"
(benchmarks/test_backends_bench.py), beside the backend's tolerance; skips and failed checks that
the suite recorded in the JSON are listed with their reasons.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

BACKEND_ORDER = ["rwkv_gpu", "llama-cpp-python", "flash-linear-attention", "rwkv"]
COLORS = {"rwkv_gpu": "#4c72b0", "llama-cpp-python": "#dd8452", "flash-linear-attention": "#55a868", "rwkv": "#8172b3"}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def merge(runs: list[dict], names: list[str]) -> dict:
    """One run of several: their benchmarks, skips and failures together; the first's machine."""
    out = dict(runs[0], benchmarks=[], skipped=[], failed=[])
    out["runs"] = [{"file": n, "datetime": r.get("datetime"), "commit_info": r.get("commit_info")} for r, n in zip(runs, names)]
    for r in runs:
        for key in ("benchmarks", "skipped", "failed"):
            out[key] += r.get(key, [])
    return out


def backend(b: dict) -> str:
    return b.get("extra_info", {}).get("backend") or b.get("params", {}).get("backend") or b["name"]


def workload_and_model(b: dict) -> tuple[str, str]:
    info = b.get("extra_info", {})
    if "workload" in info:
        return info["workload"], str(info.get("model", ""))
    workload, _, model = (b.get("group") or b["name"]).partition(" / ")
    return workload, model


def by_workload(run: dict) -> dict[str, dict[str, dict[str, dict]]]:
    """workload -> model -> backend -> benchmark."""
    out: dict = {}
    for b in run["benchmarks"]:
        workload, model = workload_and_model(b)
        out.setdefault(workload, {}).setdefault(model, {})[backend(b)] = b
    return out


def ordered(names) -> list[str]:
    return sorted(names, key=lambda n: (BACKEND_ORDER.index(n) if n in BACKEND_ORDER else len(BACKEND_ORDER), n))


def throughput(b: dict) -> str:
    info, median = b.get("extra_info", {}), b["stats"]["median"]
    if info.get("workload") == "tokenization" and "bytes" in info:
        return f"{info['bytes'] / median / 1e6:,.1f} MB/s"
    if info.get("workload") == "embed_batch" and "documents" in info:
        return f"{info['documents'] / median:,.0f} docs/s"
    if "tokens" in info:
        return f"{info['tokens'] / median:,.0f} tok/s"
    return ""


def failed_tests(run: dict) -> dict[str, str]:
    return {f["test"].rsplit("::", 1)[-1]: f["message"] for f in run.get("failed", [])}


def table(models: dict[str, dict[str, dict]], failed: dict[str, str]) -> list[str]:
    lines = ["| model | backend | median ms | rounds | throughput | x rwkv_gpu | error (tolerance) | check | device |",
             "|---|---|---:|---:|---:|---:|---|---|---|"]
    for model, rows in models.items():
        ours = rows.get("rwkv_gpu")
        for name in ordered(rows):
            b = rows[name]
            s, info = b["stats"], b.get("extra_info", {})
            ratio = f"{s['median'] / ours['stats']['median']:.2f}" if ours else ""
            err = "; ".join(([f"{info['error']:.2g} ({info['tolerance']:g})"] if "error" in info else [])
                            + ([f"same greedy tokens: {info['same_tokens']}"] if "same_tokens" in info else []))
            check = "FAILED: " + failed[b["name"]] if b["name"] in failed else "ok"
            lines.append(f"| {model} | {name} | {1e3 * s['median']:,.3f} | {s['rounds']} | {throughput(b)} | {ratio} | "
                         f"{err} | {check} | {info.get('device', '')} |")
    return lines


def chart(workload: str, models: dict[str, dict[str, dict]], path: Path) -> None:
    """Horizontal bars: one group per model, one bar per backend; log scale where times span 100x."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    names = ordered({n for rows in models.values() for n in rows})
    height = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(9, 0.8 + 0.35 * len(models) * len(names) + 0.3 * len(models)))
    medians = []
    for i, name in enumerate(names):
        ys, xs = [], []
        for j, rows in enumerate(models.values()):
            if name in rows:
                ys.append(j + i * height)
                xs.append(1e3 * rows[name]["stats"]["median"])
        medians += xs
        bars = ax.barh(ys, xs, height=height, color=COLORS.get(name, "#999999"), label=name)
        ax.bar_label(bars, [f"{x:,.0f}" if x >= 100 else f"{x:.3g}" for x in xs], padding=2, fontsize=7)
    ax.set_yticks([j + height * (len(names) - 1) / 2 for j in range(len(models))], list(models))
    ax.invert_yaxis()
    if medians and max(medians) > 100 * min(medians):
        ax.set_xscale("log")
    ax.set_xlabel("median ms (lower is better)")
    ax.set_title(workload)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", type=Path, nargs="+", help="--benchmark-json files")
    ap.add_argument("--out", type=Path, required=True, help="folder for README.md and the charts")
    ap.add_argument("--merged", type=Path, help="also write the runs as one JSON file here")
    ap.add_argument("--title", default=None, help="the report's heading")
    args = ap.parse_args()
    run = merge([json.loads(p.read_text()) for p in args.runs], [p.name for p in args.runs])
    if args.merged:
        args.merged.write_text(json.dumps(run, indent=1))
    args.out.mkdir(parents=True, exist_ok=True)
    machine = run.get("machine_info", {})
    lines = [f"# {args.title or 'Benchmark report: ' + ', '.join(p.name for p in args.runs)}", "",
             f"Machine: {machine.get('node', '?')}, {machine.get('cpu', {}).get('brand_raw', '?')}"
             + (f", {machine['gpu']}" if machine.get("gpu") else "") + f", Python {machine.get('python_version', '?')}.",
             "Versions: " + ", ".join(f"{k} {v}" for k, v in machine.get("versions", {}).items()) + ".",
             "Runs: " + ", ".join(f"{r['file']} ({r['datetime']})" for r in run["runs"]) + ".", ""]
    failed = failed_tests(run)
    workloads = by_workload(run)
    for workload, models in workloads.items():
        chart(workload, models, args.out / f"{slug(workload)}.png")
        lines += [f"## {workload}", "", *table(models, failed), "", f"![{workload}]({slug(workload)}.png)", ""]
    if run["skipped"]:
        lines += ["## Skipped", "", "| reason | tests |", "|---|---|"]
        reasons: dict[str, list[str]] = {}
        for s in run["skipped"]:
            reasons.setdefault(s["reason"], []).append(s["test"].rsplit("::", 1)[-1])
        lines += [f"| {reason} | {len(tests)}: {', '.join(tests)} |" for reason, tests in reasons.items()]
        lines.append("")
    (args.out / "README.md").write_text("\n".join(lines))
    print(f"{args.out / 'README.md'}: {len(workloads)} workloads, {len(run['benchmarks'])} timings, "
          f"{len(run['skipped'])} skipped, {len(failed)} failed checks")


if __name__ == "__main__":
    main()
