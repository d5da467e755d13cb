"""Writes a random-weight RWKV-7 GGUF at real shapes for benchmarks:

    python benchmarks/make_model.py --size 2.9b --dtype q4_k --out /tmp/m.gguf

Loads python/rwkv_gpu/testing.py on its own, so it runs where only numpy and gguf are installed
(the lent GPU machine), and writes quantized matrices as random valid blocks (fast).
"""

import argparse
import importlib
import sys
import time
import types
from pathlib import Path

# The package's sources as a bare package (its __init__, which loads the compiled engine, does not
# run): testing.py and the modules it imports relatively.
sources = types.ModuleType("rwkv_gpu_sources")
sources.__path__ = [str(Path(__file__).resolve().parents[1] / "python" / "rwkv_gpu")]
sys.modules[sources.__name__] = sources
testing = importlib.import_module("rwkv_gpu_sources.testing")

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--size", required=True, choices=sorted(testing.SIZES))
ap.add_argument("--dtype", required=True, choices=testing.DTYPES)
ap.add_argument("--out", required=True)
args = ap.parse_args()
t0 = time.time()
testing.random_model(args.out, size=args.size, dtype=args.dtype, fast=True)
print(f"wrote {args.out} ({args.size} {args.dtype}) in {time.time() - t0:.1f} s", file=sys.stderr)
