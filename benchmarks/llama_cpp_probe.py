"""Loads a GGUF with llama-cpp-python the way the backend suite does (benchmarks/backends.py:
LlamaCpp: all layers offloaded, then an embedding context) and runs a few tokens, in a process of
its own: a crash here (an earlier CUDA build segfaulted right after loading the tokenizer of a
random rwkv7 file) is recorded by the device script instead of killing the suite.

    python -X faulthandler benchmarks/llama_cpp_probe.py MODEL.gguf [--cpu]

--cpu: no layers offloaded (the same build's CPU path), to tell the two apart. Prints each step
before it runs, llama.cpp's own log on (verbose).
"""

import sys

import numpy as np

import llama_cpp

path, gpu_layers = sys.argv[1], 0 if "--cpu" in sys.argv[2:] else -1


def step(what):
    print(f"probe: {what}", file=sys.stderr, flush=True)


step(f"llama_cpp {llama_cpp.__version__}, GPU offload supported: {llama_cpp.llama_supports_gpu_offload()}, "
     f"n_gpu_layers={gpu_layers}")
common = dict(n_ctx=4096, n_batch=2048, n_ubatch=2048, n_gpu_layers=gpu_layers, verbose=True)
step("Llama(model_path) ...")
llm = llama_cpp.Llama(model_path=path, **common)
ids = llm.tokenize(b"In the beginning God created the heaven and the earth.", add_bos=False)
step(f"tokenized: {ids}; eval ...")
llm.eval(ids)
logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(llm.n_vocab(),))
step(f"logits finite: {bool(np.isfinite(logits).all())}, argmax {int(logits.argmax())}; embedding context ...")
emb = llama_cpp.Llama(model_path=path, embedding=True, pooling_type=llama_cpp.LLAMA_POOLING_TYPE_LAST, **common)
vec = np.asarray(emb.embed("hello world", normalize=False))
step(f"embedding: {vec.shape}, finite: {bool(np.isfinite(vec).all())}")
print("probe: ok", file=sys.stderr, flush=True)
