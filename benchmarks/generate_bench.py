"""Generation speed from Python, end to end (GPU sampling, one host sync per step):

- flat: one sequence decodes N tokens greedily; the time of every step is recorded, and the
  medians over tokens 10-60 and the last 50 show that a token costs the same late as early (the
  state carries the history: nothing is re-run).
- batch: B prompts of 16 tokens generate 128 tokens each (sampled, seeded) through
  generate_batch; throughput = generated tokens over all sequences / wall time.

    python benchmarks/generate_bench.py MODEL.gguf [--tokens 2000] [--batches 1,8,64] >> results.jsonl

Prints one JSON object per measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np

import rwkv_gpu


def flat(model, n: int) -> dict:
    b = model.batcher(max_batch=1)
    req = b.submit([1, 2, 3, 4], n, temperature=0, stop_tokens=[])
    stamps = []
    while not req.done:
        b.step()
        stamps.append(time.perf_counter())
    steps = np.diff(stamps) * 1e3  # ms per token, from the second token on
    early, late = steps[9:59], steps[-50:]
    return {"bench": "flat_decode", "tokens": len(req.tokens), "early_ms_median_tok10_60": statistics.median(early),
            "late_ms_median_last50": statistics.median(late),
            "late_over_early": statistics.median(late) / statistics.median(early),
            "ms_by_500_token_window": [round(float(np.median(steps[i:i + 500])), 4) for i in range(0, len(steps), 500)]}


def batch(model, B: int, new_tokens: int = 128, prompt_tokens: int = 16, repeats: int = 3) -> dict:
    rng = np.random.default_rng(B)
    prompts = [rng.integers(1, model.vocab_size, prompt_tokens).tolist() for _ in range(B)]
    model.generate_batch(prompts, 4, seed=0, stop_tokens=[])  # warm-up: pipelines, recordings
    walls = []
    for r in range(repeats):
        t0 = time.perf_counter()
        out = model.generate_batch(prompts, new_tokens, seed=r, temperature=1.0, top_p=0.85, stop_tokens=[])
        walls.append(time.perf_counter() - t0)
        assert all(len(g.tokens) == new_tokens for g in out)
    wall = statistics.median(walls)
    return {"bench": "generate_batch", "B": B, "prompt_tokens": prompt_tokens, "new_tokens": new_tokens,
            "wall_s_median": wall, "tokens_per_s": B * new_tokens / wall, "per_sequence_tokens_per_s": new_tokens / wall}


def profile_step(model, B: int) -> dict:
    """GPU time per shader of one decode step of B sequences (timestamps around every dispatch)."""
    b = model.batcher(max_batch=B)
    for i in range(B):
        b.submit([1 + i, 2, 3], 8, temperature=1.0, top_p=0.85, seed=i, stop_tokens=[])
    b.step()  # the prompts
    model._core.set_profiling(True)
    b.step()  # one decode step, profiled
    timings = model._core.last_timings()
    model._core.set_profiling(False)
    for _ in b:
        pass
    per_shader: dict[str, float] = {}
    for name, ms in timings:
        per_shader[name] = per_shader.get(name, 0.0) + ms
    return {"bench": "decode_step_profile", "B": B, "total_gpu_ms": sum(per_shader.values()),
            "ms_by_shader": {k: round(v, 4) for k, v in sorted(per_shader.items(), key=lambda kv: -kv[1])}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--tokens", type=int, default=2000)
    ap.add_argument("--batches", default="1,8,64")
    ap.add_argument("--label", help="name in the output (default: the file name)")
    args = ap.parse_args()
    model = rwkv_gpu.Model(args.model)
    common = {"model": args.label or os.path.basename(args.model), "device": model.info["device"]}
    print(json.dumps({**common, **flat(model, args.tokens)}), flush=True)
    for B in (int(x) for x in args.batches.split(",")):
        print(json.dumps({**common, **batch(model, B)}), flush=True)
        print(json.dumps({**common, **profile_step(model, B)}), flush=True)


if __name__ == "__main__":
    main()
