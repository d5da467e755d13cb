"""Runs each workload of the backend suite once through rwkv_gpu (both precisions: the suite's
engine and its reference) and fla on the given GGUF files, then exits.

    python benchmarks/warmup.py MODEL.gguf [...] [--engine fla] [--step embed_batch]

What the engines compile on first use stays on disk: rwkv_gpu's Vulkan pipelines (its pipeline
cache, and the driver's), fla's Triton kernels with their autotuning (dozens of configurations
each: minutes in all on a fresh machine). A device call runs this while other work
(llama-cpp-python's build) keeps the CPUs busy and the GPU idle, so the suite's own first calls
find them ready. Timings do not depend on it: pytest-benchmark's first (calibration) call of each
test is not timed either.

``--engine`` / ``--step`` (repeatable) select a part: device_backends.sh runs fla's steps as
separate processes side by side, since Triton compiles one configuration at a time per process
and the machine has 16 cores (the processes share the on-disk cache).
"""

import argparse
import time
from pathlib import Path

import rwkv_gpu
import test_backends_bench as suite
from backends import BACKENDS, MODELS, RwkvGpu, Unsupported

ENGINES = {"rwkv_gpu fast": lambda stem: RwkvGpu(stem), "rwkv_gpu exact": lambda stem: RwkvGpu(stem, "exact"),
           "fla": lambda stem: BACKENDS["flash-linear-attention"](stem)}
STEPS = ["doc_state", "field_analysis", "embed_batch", "prefill", "decode", "generate_sampled", "all_logits"]

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("models", nargs="+", type=Path, help="GGUF files")
parser.add_argument("--engine", action="append", choices=["rwkv_gpu", "fla"], help="only these engines (default: all)")
parser.add_argument("--step", action="append", choices=STEPS, help="only these workloads (default: all)")
args = parser.parse_args()

for path in args.models:
    MODELS[path.stem] = path
    tokenizer = rwkv_gpu.Tokenizer.from_gguf(path)
    email, prompt = tokenizer.encode(suite.EMAIL), tokenizer.encode(suite.PROMPT)
    for name, make in ENGINES.items():
        if args.engine and name.split()[0] not in args.engine:
            continue
        t0 = time.perf_counter()
        try:
            eng = make(path.stem)
        except Unsupported as e:
            print(f"warm-up {name} {path.name}: skipped ({e})", flush=True)
            continue
        print(f"warm-up {name} {path.name}: loaded in {time.perf_counter() - t0:.1f} s", flush=True)
        steps = {"doc_state": lambda: eng.doc_state(suite.DOC),
                 "field_analysis": lambda: eng.field_analysis(suite.DOC, suite.SCHEMA),
                 "embed_batch": lambda: eng.embed_batch(suite.DOCS), "prefill": lambda: eng.prefill(email),
                 "decode": lambda: eng.greedy(prompt, 2), "generate_sampled": lambda: eng.sample(prompt, 2)}
        if name == "rwkv_gpu exact":
            steps["all_logits"] = lambda: eng.all_logits(prompt)  # the reference's check of sampled tokens
        for step, run in steps.items():  # each timed: where a first use costs (fla: Triton autotuning)
            if args.step and step not in args.step:
                continue
            t0 = time.perf_counter()
            run()
            print(f"  {name} {path.name} {step}: {time.perf_counter() - t0:.1f} s", flush=True)
        del eng
