"""A bounded load test of an OpenAI-compatible server: ``--requests`` streaming completions from
``--concurrency`` clients at once (the ``openai`` client's AsyncOpenAI), loopback only.

Prints one JSON line: requests/s, completion tokens/s, time to first token and request latency
(medians and p90), with the server, model and settings. Either starts ``rwkv-gpu serve`` itself
(``--model``; the default model when neither is given) or drives a server already running
(``--base-url``, e.g. llama.cpp's llama-server on the same GGUF)::

    python benchmarks/server_load.py --requests 64 --concurrency 16 --max-tokens 64
    python benchmarks/server_load.py --base-url http://127.0.0.1:8080/v1 --label llama-server
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import numpy as np
import openai

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))
from server_process import ServerProcess  # noqa: E402


async def one(client, model: str, prompt: str, args, seed: int) -> dict:
    t0 = time.perf_counter()
    first = None
    usage, pieces, finish = None, 0, None
    stream = await client.completions.create(model=model, prompt=prompt, max_tokens=args.max_tokens, stream=True,
                                             temperature=args.temperature, seed=seed,
                                             stream_options={"include_usage": True})
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].text:
            pieces += 1
            if first is None:
                first = time.perf_counter() - t0
        if chunk.choices and chunk.choices[0].finish_reason:
            finish = chunk.choices[0].finish_reason
        if chunk.usage is not None:
            usage = chunk.usage.completion_tokens
    # A server without stream_options.include_usage (llama-cpp-python's) is counted by its chunks
    # with text: one token each there.
    return {"ttft_s": first if first is not None else time.perf_counter() - t0, "latency_s": time.perf_counter() - t0,
            "tokens": usage if usage is not None else pieces, "counted": "usage" if usage is not None else "chunks",
            "finish": finish or "none"}


async def load(base_url: str, args) -> dict:
    async with openai.AsyncOpenAI(base_url=base_url, api_key=args.api_key, max_retries=0,
                                  timeout=args.timeout) as client:
        model = (await client.models.list()).data[0].id
        gate = asyncio.Semaphore(args.concurrency)
        prompts = [f"{args.prompt} {i}" for i in range(args.requests)]

        async def gated(i):
            async with gate:
                return await one(client, model, prompts[i], args, seed=i)

        t0 = time.perf_counter()
        runs = await asyncio.wait_for(asyncio.gather(*(gated(i) for i in range(args.requests))), args.timeout)
        wall = time.perf_counter() - t0
    ttft, latency = np.array([r["ttft_s"] for r in runs]), np.array([r["latency_s"] for r in runs])
    tokens = sum(r["tokens"] for r in runs)
    return {"model": model, "requests": args.requests, "concurrency": args.concurrency, "max_tokens": args.max_tokens,
            "wall_s": round(wall, 3), "requests_per_s": round(args.requests / wall, 2),
            "completion_tokens": tokens, "tokens_per_s": round(tokens / wall, 1),
            "tokens_counted_by": sorted({r["counted"] for r in runs}),
            # "length" for every request that ran to max_tokens; others ended early (or were cut).
            "finish_reasons": {f: sum(r["finish"] == f for r in runs) for f in sorted({r["finish"] for r in runs})},
            "ttft_median_ms": round(1e3 * float(np.median(ttft)), 1), "ttft_p90_ms": round(1e3 * float(np.quantile(ttft, 0.9)), 1),
            "latency_median_ms": round(1e3 * float(np.median(latency)), 1),
            "latency_p90_ms": round(1e3 * float(np.quantile(latency, 0.9)), 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="GGUF file to serve with rwkv-gpu serve (default: the embedded default model)")
    p.add_argument("--base-url", help="drive this running server instead (http://HOST:PORT/v1)")
    p.add_argument("--label", default="rwkv_gpu", help="the server's name in the output")
    p.add_argument("--api-key", default="none")
    p.add_argument("--requests", type=int, default=64)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--prompt", default="In the beginning God created the heaven and the earth. Chapter")
    p.add_argument("--max-batch", type=int, default=64, help="rwkv-gpu serve --max-batch")
    p.add_argument("--timeout", type=float, default=600, help="seconds for the whole run (then it fails)")
    args = p.parse_args()
    server = None
    base_url = args.base_url
    if base_url is None:
        options = ["--max-batch", str(args.max_batch), "--max-tokens", str(max(args.max_tokens, 256))]
        server = ServerProcess(*options, *(["-m", args.model] if args.model else []))
        base_url = server.base_url
    try:
        result = asyncio.run(load(base_url, args))
    finally:
        if server is not None:
            server.close()
    print(json.dumps({"server": args.label, **result}))


if __name__ == "__main__":
    main()
