"""``rwkv-gpu serve`` driven by the real ``openai`` client (issue 17): the server runs in a
subprocess on a loopback port, and every answer is checked against the in-process ``Model`` on the
same file (greedy text, seeded samples, embeddings), never against the server itself."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

openai = pytest.importorskip("openai", reason="the test extra installs the openai client")

import rwkv_gpu
from server_process import ServerProcess

KEY = "test-key-0123456789"
MESSAGES = [{"role": "system", "content": "Speak as the King James Bible."},
            {"role": "user", "content": "Who made the heaven\n\nand the earth?"}]
# The same conversation as the World chat format writes it (chat.py), by hand: the blank line inside
# the user's message became one newline.
CHAT_PROMPT = ("System: Speak as the King James Bible.\n\nUser: Who made the heaven\nand the earth?\n\n"
               "Assistant:")


@pytest.fixture(scope="module")
def model():
    return rwkv_gpu.Model(rwkv_gpu.default_model_path())


@pytest.fixture(scope="module")
def server():
    s = ServerProcess("--max-batch", "64", api_key=KEY)
    yield s
    s.close()


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0)


def test_models_list(client, model):
    assert [m.id for m in client.models.list().data] == [model.name]


def test_completion_greedy_equals_generate(client, model):
    out = client.completions.create(model=model.name, prompt="In the beginning", max_tokens=24, temperature=0)
    ref = model.generate("In the beginning", 24, temperature=0)
    assert out.choices[0].text == ref.text
    assert out.choices[0].finish_reason == ("length" if ref.finish_reason == "length" else "stop")
    assert out.usage.prompt_tokens == len(model.tokenizer.encode("In the beginning"))
    assert out.usage.completion_tokens == len(ref.tokens)


def test_chat_greedy_equals_generate(client, model):
    out = client.chat.completions.create(model=model.name, messages=MESSAGES, max_tokens=40, temperature=0)
    ref = model.generate(CHAT_PROMPT, 40, temperature=0, stop="\n\n")
    assert out.choices[0].message.role == "assistant"
    assert out.choices[0].message.content == ref.text.removeprefix(" ")
    assert out.usage.prompt_tokens == len(model.tokenizer.encode(CHAT_PROMPT))
    assert out.usage.completion_tokens == len(ref.tokens)


def test_streaming_chat_equals_the_whole_answer(client, model):
    whole = client.chat.completions.create(messages=MESSAGES, model=model.name, max_tokens=40, temperature=0)
    chunks = list(client.chat.completions.create(messages=MESSAGES, model=model.name, max_tokens=40, temperature=0,
                                                 stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == \
        [whole.choices[0].finish_reason]
    assert chunks[-1].choices == [] and chunks[-1].usage.model_dump() == whole.usage.model_dump()


def test_embeddings_equal_embed_in_float_and_base64(client, server, model):
    texts = ["In the beginning God created the heaven and the earth.", "And the earth was without form"]
    ref = np.stack([model.embed(t, pooling="last", normalize=True) for t in texts])
    as_float = client.embeddings.create(model=model.name, input=texts, encoding_format="float")
    got = np.array([d.embedding for d in as_float.data], dtype=np.float32)
    np.testing.assert_allclose(got, ref, atol=1e-6, rtol=0)
    assert as_float.usage.prompt_tokens == sum(len(model.tokenizer.encode(t)) for t in texts)
    status, _, raw = server.request("POST", "/v1/embeddings", {"input": texts, "encoding_format": "base64"})
    assert status == 200
    decoded = np.stack([np.frombuffer(base64.b64decode(d["embedding"]), dtype="<f4") for d in raw["data"]])
    np.testing.assert_array_equal(decoded, got)
    ids = model.tokenizer.encode(texts[0])  # token-id input
    by_ids = client.embeddings.create(model=model.name, input=[ids], encoding_format="float")
    np.testing.assert_allclose(by_ids.data[0].embedding, ref[0], atol=1e-6, rtol=0)


def test_concurrent_streaming_clients_share_batches(server, model):
    n = 32
    prompts = [f"And it came to pass on day {i}," for i in range(n)]
    settings = dict(temperature=0.9, top_p=0.9, max_tokens=20)
    before = server.metric("rwkv_gpu_batch_occupancy_bucket")

    async def one(client, i):
        stream = await client.completions.create(model=model.name, prompt=prompts[i], seed=100 + i, stream=True,
                                                 **settings)
        return "".join([c.choices[0].text async for c in stream if c.choices])

    async def all_clients():
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key=KEY, max_retries=0) as client:
            return await asyncio.gather(*(one(client, i) for i in range(n)))

    texts = asyncio.run(all_clients())
    for i, text in enumerate(texts):
        solo = model.generate(prompts[i], settings["max_tokens"], temperature=0.9, top_p=0.9, seed=100 + i)
        assert text == solo.text, f"client {i}"
    after = server.metric("rwkv_gpu_batch_occupancy_bucket")
    steps = {le: after[f'{{le="{le}"}}'] - before.get(f'{{le="{le}"}}', 0) for le in ("1.0", "16.0", "+Inf")}
    assert steps["+Inf"] - steps["16.0"] > 0, "no step advanced more than 16 of the 32 streams together"
    assert steps["1.0"] < steps["+Inf"] / 2, "most steps advanced a single stream"


def test_echo_logprobs_through_the_client(client, model):
    out = client.completions.create(model=model.name, prompt="And God said", max_tokens=0, echo=True, logprobs=1)
    ids = model.tokenizer.encode("And God said")
    logits = model.run(ids, logits="all").astype(np.float64)
    ref = [float(row[t] - row.max() - np.log(np.exp(row - row.max()).sum())) for row, t in zip(logits[:-1], ids[1:])]
    assert out.choices[0].text == "And God said"
    assert out.choices[0].logprobs.token_logprobs[1:] == pytest.approx(ref, abs=1e-4)


def test_python_api_returns_what_the_server_sends(server, model):
    for method, path, body in [(model.create_completion, "/v1/completions", {"prompt": "And God said"}),
                               (model.create_chat_completion, "/v1/chat/completions", {"messages": MESSAGES})]:
        local = method(*body.values(), max_tokens=16, temperature=0)
        status, _, remote = server.request("POST", path, body | {"max_tokens": 16, "temperature": 0})
        assert status == 200
        assert remote.keys() == local.keys()
        assert {k: v for k, v in remote.items() if k not in ("id", "created")} == \
            {k: v for k, v in local.items() if k not in ("id", "created")}


@pytest.fixture(scope="module")
def small_server():
    """One slot, one queued request, long generations allowed, a small body limit."""
    s = ServerProcess("--max-batch", "1", "--max-queue", "1", "--max-tokens", "100000000", "--max-body-bytes", "4096",
                      "--no-warm-up", api_key=KEY)
    yield s
    s.close()


def test_warm_up_before_serving(server, small_server):
    """The default server ran its warm-up before /health answered (the greedy-equals-generate tests
    above show it left no trace in the answers); --no-warm-up skips it."""
    assert server.metric("rwkv_gpu_warm_up_seconds")[""] > 0
    assert small_server.metric("rwkv_gpu_warm_up_seconds")[""] == 0


def open_stream(server, prompt="In the beginning", max_tokens=100_000_000):
    conn = server.connection()
    body = {"prompt": prompt, "max_tokens": max_tokens, "stream": True, "temperature": 1.0, "seed": 1}
    conn.request("POST", "/v1/completions", body=json.dumps(body), headers=server.headers())
    response = conn.getresponse()
    assert response.status == 200
    assert response.readline().startswith(b"data: ")  # the stream runs: the request holds the slot
    return conn, response


def test_disconnect_frees_the_slot(small_server):
    cancelled = small_server.metric("rwkv_gpu_finished_requests_total").get('{reason="cancelled"}', 0)
    conn, _ = open_stream(small_server)
    conn.close()  # the client goes away mid-stream
    status, _, out = small_server.request("POST", "/v1/completions", {"prompt": "And", "max_tokens": 4})
    assert status == 200 and out["choices"][0]["finish_reason"] == "length"  # it got the only slot
    assert small_server.metric("rwkv_gpu_finished_requests_total")['{reason="cancelled"}'] == cancelled + 1


def test_flood_beyond_the_queue_gets_429(small_server):
    running = open_stream(small_server)  # the slot
    results = {}

    def queued():  # the one queued request: waits for the slot
        results["queued"] = small_server.request("POST", "/v1/completions", {"prompt": "And", "max_tokens": 2})

    waiter = threading.Thread(target=queued)
    waiter.start()
    deadline = time.monotonic() + 30
    while small_server.metric("rwkv_gpu_queue_length").get("", 0) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    status, headers, out = small_server.request("POST", "/v1/completions", {"prompt": "And", "max_tokens": 2})
    assert status == 429 and headers.get("retry-after") == "1" and out["error"]["code"] == "queue_full"
    running[0].close()  # frees the slot: the queued request runs
    waiter.join(timeout=60)
    assert results["queued"][0] == 200
    assert small_server.alive()


@pytest.mark.parametrize("body, status, param", [
    ({"prompt": "x", "temperature": "hot"}, 400, "temperature"),
    ({"prompt": "x", "top_p": 7.0}, 400, "top_p"),
    ({"prompt": "x", "max_tokens": -3}, 400, "max_tokens"),
    ({"prompt": "x", "max_tokens": 10**9}, 400, "max_tokens"),
    ({"prompt": "x", "n": 3}, 400, "n"),
    ({"prompt": ""}, 400, "prompt"),
    ({"prompt": [[1, 2, 10**6]]}, 400, "prompt"),
    ({"prompt": "x", "stop": 5}, 400, "stop"),
    ({"max_tokens": 2}, 400, "prompt"),
    ({"prompt": "x", "model": "gpt-4"}, 404, "model"),
])
def test_bad_completion_requests(small_server, body, status, param):
    got, _, out = small_server.request("POST", "/v1/completions", body)
    assert got == status and out["error"]["param"] == param, out
    assert set(out["error"]) == {"message", "type", "param", "code"}


def test_bad_requests_keep_the_server_up(small_server):
    s = small_server
    assert s.request("POST", "/v1/completions", raw=b"{not json")[0] == 400
    assert s.request("POST", "/v1/completions", raw=b"[1, 2]")[0] == 400
    assert s.request("POST", "/v1/chat/completions", {"messages": [{"role": "robot", "content": "hi"}]})[0] == 400
    assert s.request("POST", "/v1/chat/completions", {"messages": []})[0] == 400
    assert s.request("POST", "/v1/embeddings", {"input": "x", "encoding_format": "hex"})[0] == 400
    assert s.request("POST", "/v1/completions", raw=json.dumps({"prompt": "x" * 5000}).encode())[0] == 413
    status, _, out = s.request("POST", "/v1/completions", {"prompt": "x"}, key="wrong-key")
    assert status == 401 and out["error"]["code"] == "invalid_api_key"
    assert s.request("POST", "/v1/completions", {"prompt": "x"}, key=None)[0] == 401
    assert s.request("GET", "/v1/nothing")[0] == 404
    assert s.alive()


def test_readme_server_examples_run(tmp_path):
    """The README's curl and openai-client examples, against a server started as the README says
    (no API key), with its port instead of 8000."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    curl = re.findall(r"```sh server\n(.*?)```", readme, flags=re.S)
    client = re.findall(r"```python server\n(.*?)```", readme, flags=re.S)
    assert len(curl) == 1 and len(client) == 1
    s = ServerProcess()
    try:
        here = f"127.0.0.1:{s.port}"
        out = subprocess.run(["bash", "-c", curl[0].replace("127.0.0.1:8000", here)], capture_output=True, text=True,
                             timeout=120, check=True)
        assert json.loads(out.stdout)["object"] == "chat.completion"
        exec(compile(client[0].replace("127.0.0.1:8000", here), "README.md", "exec"), {})
    finally:
        s.close()


def test_bad_options_fail_before_the_model_loads(capsys):
    from rwkv_gpu import cli
    from rwkv_gpu.server import Settings

    assert cli.main(["serve", "--max-batch", "0"]) == 1
    assert "max_batch must be an integer >= 1" in capsys.readouterr().err
    assert cli.main(["serve", "--chat-template", "nope"]) == 1
    with pytest.raises(ValueError, match="pooling"):
        Settings(pooling="median")
    with pytest.raises(ValueError, match="api_key"):
        Settings(api_key="")
