"""What streaming a generated token costs on the Python side, and how often it crosses into C++.

    python benchmarks/stream_overhead.py [--model PATH] [--tokens 200] [--reps 5]

A greedy generation with a stop string that never matches is streamed through a ``Batcher``
(what ``generate(stream=True)`` and a server do). Reported per generated token, median of
``--reps`` runs:
  - ``python_us``: wall time outside the engine's ``Scheduler.step`` (the Python-side cost: event
    handling, text decoding, stop strings), in microseconds;
  - ``step_us``: time inside ``Scheduler.step`` (the engine: the GPU step and what C++ does);
  - ``crossings``: calls from Python into ``rwkv_gpu._core`` per token, counted with
    ``sys.setprofile`` in a separate run (the timed runs have no profiler attached).
One JSON line, with the device.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import rwkv_gpu


class _TimedCore:
    """Stands in for a Batcher's engine scheduler and times its ``step``."""

    def __init__(self, core):
        self._core, self.step_s = core, 0.0

    def step(self):
        t = time.perf_counter()
        try:
            return self._core.step()
        finally:
            self.step_s += time.perf_counter() - t

    def __getattr__(self, name):
        return getattr(self._core, name)


def _stream(model, tokens: int, timed: bool):
    batcher = model.batcher(max_batch=1)
    core = batcher._core = _TimedCore(batcher._core)
    req = batcher.submit("The quick brown fox", tokens, temperature=0, stop=["\x00never\x00"], stop_tokens=[])
    t = time.perf_counter()
    for _req, _piece in batcher:
        pass
    wall = time.perf_counter() - t
    n = len(req.tokens)
    return n, wall, core.step_s


def _crossings(model, tokens: int) -> float:
    calls = 0

    def hook(_frame, event, arg):
        nonlocal calls
        if event == "c_call" and getattr(arg, "__module__", "") in ("rwkv_gpu._core", "_core"):
            calls += 1
        elif event == "c_call" and type(getattr(arg, "__self__", None)).__module__ == "rwkv_gpu._core":
            calls += 1

    sys.setprofile(hook)
    try:
        n, _, _ = _stream(model, tokens, timed=False)
    finally:
        sys.setprofile(None)
    return calls / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=rwkv_gpu.default_model_path())
    ap.add_argument("--tokens", type=int, default=200)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    model = rwkv_gpu.Model(args.model)
    _stream(model, 8, timed=True)  # warm-up: pipelines, recorded steps
    python_us, step_us = [], []
    for _ in range(args.reps):
        n, wall, step = _stream(model, args.tokens, timed=True)
        python_us.append((wall - step) / n * 1e6)
        step_us.append(step / n * 1e6)
    print(json.dumps({"benchmark": "stream_overhead", "device": model.info["device"], "model": str(args.model),
                      "tokens": args.tokens, "reps": args.reps, "python_us": round(statistics.median(python_us), 2),
                      "step_us": round(statistics.median(step_us), 2),
                      "crossings": round(_crossings(model, args.tokens), 2)}))


if __name__ == "__main__":
    main()
