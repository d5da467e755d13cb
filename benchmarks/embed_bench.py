"""Embedding workloads from Python, end to end: doc state (a ~200-token email), field analysis
(6 fields), and embed_batch throughput (documents/s at 128 and 512 tokens, B = 1..64); the same
workloads through llama-cpp-python (``--llama-cpp``) and flash-linear-attention (``--fla``).

    python benchmarks/embed_bench.py MODEL.gguf [--repeats 10] [--llama-cpp] [--fla] >> results.jsonl

Prints one JSON object per measurement (medians after a warm-up).
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
from timing import median_seconds

EMAIL = (
    "Subject: Q3 supplier invoice and the delivery schedule\n\n"
    "Hi Daniel,\n\nThanks for sending the revised delivery schedule last week. I went through it with the "
    "warehouse team this morning and we can take the first two pallets on Tuesday the 14th, but the third "
    "one will have to wait until the following Monday because the loading bay is being repaired. Could you "
    "check with the carrier whether that works for them?\n\nI have also attached the invoice for the third "
    "quarter. The total is 18,450 euros, which includes the express shipping we agreed on in August. Please "
    "arrange the payment by the end of the month to the account listed at the bottom of the invoice, and "
    "let me know if your finance department needs a purchase order number first.\n\nBest regards,\n"
    "Maria Keller\nProcurement, Northwind Components"
)
SCHEMA = {
    "sender": "the person or company who wrote the message",
    "amount": "how much money is due or was paid",
    "deadline": "the date by which something must happen",
    "delivery": "when and how goods will be shipped",
    "attachment": "files or documents sent with the message",
    "greeting": "how the message opens and who it addresses",
}


def emit(**kv) -> None:
    print(json.dumps(kv), flush=True)


def bench_rwkv_gpu(path: str, repeats: int, chunk_tokens: int | None) -> None:
    import rwkv_gpu
    from rwkv_gpu import workloads

    model = rwkv_gpu.Model(path, chunk_tokens=chunk_tokens)
    common = dict(engine="rwkv_gpu", model=path, device=model.info["device"], chunk_tokens=model.chunk_tokens)
    n_tokens = len(model.tokenizer.encode(EMAIL))
    emit(**common, workload="doc_state", tokens=n_tokens,
         median_ms=1e3 * median_seconds(lambda: workloads.doc_state(model, EMAIL), repeats))
    emit(**common, workload="field_analysis", fields=len(SCHEMA),
         median_ms=1e3 * median_seconds(lambda: workloads.field_analysis(model, EMAIL, SCHEMA), repeats))
    embed_batches(common, lambda docs: model.embed_batch(docs, batch_size=len(docs)), model.vocab_size, repeats)


def embed_batches(common: dict, embed, vocab_size: int, repeats: int) -> None:
    """embed_batch throughput: B random-token documents of L tokens (the same ids for every engine)."""
    rng = np.random.default_rng(0)
    for length in (128, 512):
        for batch in (1, 4, 16, 64):
            docs = [rng.integers(0, vocab_size, length) for _ in range(batch)]
            t = median_seconds(lambda: embed(docs), max(3, repeats // 2))
            emit(**common, workload="embed_batch", tokens=length, batch=batch, median_ms=1e3 * t, docs_per_s=batch / t,
                 tokens_per_s=batch * length / t)


def bench_fla(path: str, repeats: int) -> None:
    """The same workloads through flash-linear-attention's RWKV7Model (bf16, CUDA; fla_backend.py):
    the documents of a batch packed into one forward (cu_seqlens), as fla's varlen users run it."""
    from fla_backend import Fla

    fla = Fla(path)
    common = dict(engine="flash-linear-attention", model=path, device=fla.info["device"], version=fla.info["version"])
    emit(**common, workload="doc_state", tokens=len(fla.tokenizer.encode(EMAIL)),
         median_ms=1e3 * median_seconds(lambda: fla.doc_state(EMAIL), repeats))
    emit(**common, workload="field_analysis", fields=len(SCHEMA),
         median_ms=1e3 * median_seconds(lambda: fla.field_analysis(EMAIL, SCHEMA), repeats))
    embed_batches(common, fla.embed_ids, len(fla.head), repeats)


def bench_llama_cpp(path: str, repeats: int, label: str | None = None) -> None:
    import llama_cpp

    llm = llama_cpp.Llama(model_path=path, embedding=True, pooling_type=llama_cpp.LLAMA_POOLING_TYPE_LAST,
                          n_ctx=4096, n_batch=2048, n_ubatch=2048, n_gpu_layers=-1, verbose=bool(os.environ.get("LLAMA_VERBOSE")))

    def embed(text):
        v = np.asarray(llm.embed(text, normalize=False), dtype=np.float32)
        return v / np.linalg.norm(v)

    def field_analysis():
        doc = embed(EMAIL)
        fields = np.stack([embed(f"{k}: {v}") for k, v in SCHEMA.items()])
        return fields @ doc

    name = label or path
    emit(engine="llama-cpp-python", model=name, version=llama_cpp.__version__, workload="doc_state",
         tokens=len(llm.tokenize(EMAIL.encode(), add_bos=False)), median_ms=1e3 * median_seconds(lambda: embed(EMAIL), repeats))
    emit(engine="llama-cpp-python", model=name, version=llama_cpp.__version__, workload="field_analysis",
         fields=len(SCHEMA), median_ms=1e3 * median_seconds(field_analysis, repeats))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--llama-cpp", action="store_true", help="also run the workloads through llama-cpp-python")
    ap.add_argument("--fla", action="store_true",
                    help="also run the workloads through flash-linear-attention (CUDA; fla_backend.py)")
    ap.add_argument("--chunk-tokens", default="default",
                    help="comma-separated chunk sizes to run ours with; 'default' = the engine's choice")
    args = ap.parse_args()
    for chunk in args.chunk_tokens.split(","):
        bench_rwkv_gpu(args.model, args.repeats, None if chunk == "default" else int(chunk))
    if args.llama_cpp:
        bench_llama_cpp(args.model, args.repeats)
    if args.fla:
        bench_fla(args.model, args.repeats)


if __name__ == "__main__":
    main()
