"""One set of generation defaults (issue 14, item 14): the command line's ``-n`` and sampling
defaults are the Python API's (they were 200 and 256), and ``Batcher.run_async``, documented in the
README, drives requests submitted from other asyncio tasks."""

from __future__ import annotations

import asyncio
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import rwkv_gpu
from rwkv_gpu import Batcher, Model
from rwkv_gpu.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
SAMPLING = ("temperature", "top_p", "top_k", "presence_penalty", "frequency_penalty", "penalty_decay")


def defaults(fn) -> dict:
    params = inspect.signature(fn).parameters.items()
    return {k: p.default for k, p in params if p.default is not inspect.Parameter.empty}


@pytest.mark.parametrize("command", [["generate", "a prompt"], ["chat"]])
def test_cli_defaults_are_the_python_apis(command):
    # The sampling defaults are the engine's SamplingParams (the one definition); max_tokens the
    # engine's default, which every Python entry point takes.
    args = vars(build_parser().parse_args(command))
    engine = rwkv_gpu.SamplingParams()
    for name in SAMPLING:
        assert args[name] == getattr(engine, name), name
    assert engine.top_p == pytest.approx(0.85) and engine.temperature == 1.0  # the official pipeline's
    for fn in (Model.generate, Model.generate_batch, Batcher.submit):
        assert args["max_tokens"] == defaults(fn)["max_tokens"] == rwkv_gpu.DEFAULT_MAX_TOKENS, fn.__qualname__


def test_cli_generate_without_n_equals_generate_without_max_tokens():
    # Greedy from the default model: the same text, token for token, with nobody giving a length.
    prompt = "And the LORD spake unto Moses, saying,"
    expected = Model(rwkv_gpu.default_model_path()).generate(prompt, temperature=0)
    out = subprocess.run([sys.executable, "-m", "rwkv_gpu", "generate", prompt, "--temperature", "0", "--no-echo"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout == expected.text + "\n"
    assert re.search(rf"\[{len(expected.tokens)} tokens, {expected.finish_reason};", out.stderr)


def test_run_async_serves_requests_submitted_by_other_tasks():
    model = Model(rwkv_gpu.default_model_path())
    prompts = ["In the beginning", "And it came to pass", "Blessed are"]
    solo = [model.generate(p, 12, temperature=0, stop_tokens=[]).text for p in prompts]

    async def main():
        b = model.batcher(max_batch=4)
        first = b.submit(prompts[0], 12, temperature=0, stop_tokens=[])
        late: list = []

        async def client():  # another task submits while the batch runs
            await asyncio.sleep(0)
            late.extend(b.submit(p, 12, temperature=0, stop_tokens=[]) for p in prompts[1:])

        task = asyncio.create_task(client())
        pieces = {}
        async for req, piece in b.run_async():
            pieces[req] = pieces.get(req, "") + piece
        await task
        return [first, *late], pieces

    reqs, pieces = asyncio.run(main())
    assert [r.result.text for r in reqs] == solo
    assert [pieces[r] for r in reqs] == solo  # the streamed pieces add up to each text
    readme = (REPO / "README.md").read_text()
    assert "run_async()" in readme and "run_async" in Batcher.__doc__
