"""A report of a pytest-benchmark run (``pytest benchmarks/ --benchmark-only --benchmark-json=run.json``):
one Markdown table and one bar chart per group (workload / model), backends side by side.

    python benchmarks/bench_report.py run.json --out docs/bench-report

writes ``README.md`` (the machine, the tables) and ``<group>.png`` per group into ``--out``.
Times are medians in milliseconds; "x fastest" is each backend's median over the group's best.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path


def slug(group: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", group.lower()).strip("-")


def groups_of(run: dict) -> dict[str, list[dict]]:
    """Benchmarks by group, each group's rows sorted by median, fastest first."""
    out: dict[str, list[dict]] = {}
    for b in run["benchmarks"]:
        out.setdefault(b.get("group") or b["name"], []).append(b)
    return {g: sorted(rows, key=lambda b: b["stats"]["median"]) for g, rows in sorted(out.items())}


def backend(b: dict) -> str:
    return b.get("extra_info", {}).get("backend") or b.get("params", {}).get("backend") or b["name"]


def table(rows: list[dict]) -> list[str]:
    best = rows[0]["stats"]["median"]
    lines = ["| backend | median ms | min ms | rounds | x fastest | device |", "|---|---:|---:|---:|---:|---|"]
    for b in rows:
        s = b["stats"]
        lines.append(f"| {backend(b)} | {1e3 * s['median']:,.3f} | {1e3 * s['min']:,.3f} | {s['rounds']} | "
                     f"{s['median'] / best:.2f} | {b.get('extra_info', {}).get('device', '')} |")
    return lines


def chart(group: str, rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    medians = [1e3 * b["stats"]["median"] for b in rows]
    fig, ax = plt.subplots(figsize=(6, 0.6 + 0.5 * len(rows)))
    ax.barh([backend(b) for b in rows], medians, color="#4c72b0")
    ax.invert_yaxis()  # fastest on top
    if max(medians) > 100 * min(medians):
        ax.set_xscale("log")
    ax.set_xlabel("median ms (lower is better)")
    ax.set_title(group)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", type=Path, help="a --benchmark-json file")
    ap.add_argument("--out", type=Path, required=True, help="folder for README.md and the charts")
    args = ap.parse_args()
    run = json.loads(args.run.read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    machine = run.get("machine_info", {})
    lines = [f"# Benchmark report: {args.run.name}", "",
             f"Machine: {machine.get('node', '?')}, {machine.get('cpu', {}).get('brand_raw', '?')}, "
             f"Python {machine.get('python_version', '?')}; run {run.get('datetime', '?')}.", ""]
    for group, rows in groups_of(run).items():
        chart(group, rows, args.out / f"{slug(group)}.png")
        lines += [f"## {group}", "", *table(rows), "", f"![{group}]({slug(group)}.png)", ""]
    (args.out / "README.md").write_text("\n".join(lines))
    print(f"{args.out / 'README.md'}: {len(groups_of(run))} groups")


if __name__ == "__main__":
    main()
