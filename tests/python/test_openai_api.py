"""The OpenAI-shaped Python API (issue 17): ``model(...)``, ``create_completion``,
``create_chat_completion``, ``create_embedding``, ``encode`` and the sentence-transformers
similarity names, checked against the engine's own entry points (``generate``, ``run``,
``embed``) and NumPy, never against themselves."""

from __future__ import annotations

import base64

import numpy as np
import pytest

import rwkv_gpu
from rwkv_gpu import ChatTemplate, OpenAIError


@pytest.fixture(scope="module")
def model():
    return rwkv_gpu.Model(rwkv_gpu.default_model_path())


def test_completion_equals_generate(model):
    out = model.create_completion("In the beginning", max_tokens=20, temperature=0.8, top_p=0.9, seed=5)
    ref = model.generate("In the beginning", 20, temperature=0.8, top_p=0.9, seed=5)
    assert out["object"] == "text_completion" and out["model"] == model.name
    assert out["choices"] == [{"text": ref.text, "index": 0, "logprobs": None, "finish_reason": "length"}]
    assert out["usage"] == {"prompt_tokens": 16, "completion_tokens": 20, "total_tokens": 36}
    assert model("In the beginning", max_tokens=20, temperature=0.8, top_p=0.9, seed=5)["choices"] == out["choices"]


def test_several_prompts_are_choices_with_consecutive_seeds(model):
    prompts = ["And God said", "Let there be"]
    out = model.create_completion(prompts, max_tokens=12, seed=40)
    assert model.create_completion([[65, 110, 100]], max_tokens=5, seed=1)["choices"][0]["text"] == \
        model.generate([65, 110, 100], 5, seed=1).text  # token ids
    for i, p in enumerate(prompts):
        assert out["choices"][i]["index"] == i
        assert out["choices"][i]["text"] == model.generate(p, 12, seed=40 + i).text


def test_stream_concatenates_to_the_response(model):
    kw = dict(max_tokens=30, temperature=0, stop=["LORD"])
    whole = model.create_completion("And the", **kw)
    chunks = list(model.create_completion("And the", stream=True, stream_options={"include_usage": True}, **kw))
    assert "".join(c["choices"][0]["text"] for c in chunks if c["choices"]) == whole["choices"][0]["text"]
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == whole["choices"][0]["finish_reason"]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == whole["usage"]
    assert all(c["id"] == chunks[0]["id"] for c in chunks)


def test_closing_a_stream_cancels_it(model):
    stream = model.create_completion("And", max_tokens=10**6, stream=True)
    next(stream)
    stream.close()  # returns at once: the rest of the million tokens never run
    assert model.create_completion("And", max_tokens=3)["choices"][0]["finish_reason"] == "length"


def test_chat_template_renders_the_world_format():
    messages = [{"role": "system", "content": " Be brief. "}, {"role": "user", "content": "One\n\n\nTwo"},
                {"role": "assistant", "content": "Yes."},
                {"role": "user", "content": [{"type": "text", "text": "Why"}, {"type": "text", "text": "?"}]}]
    assert rwkv_gpu.CHAT_TEMPLATES["rwkv-world"].render(messages) == (
        "System: Be brief.\n\nUser: One\nTwo\n\nAssistant: Yes.\n\nUser: Why?\n\nAssistant:")
    for bad in ([], [{"role": "robot", "content": "x"}], [{"role": "user", "content": [{"type": "image_url"}]}]):
        with pytest.raises(ValueError):
            rwkv_gpu.CHAT_TEMPLATES["rwkv-world"].render(bad)


def test_chat_equals_generate_on_the_rendered_prompt(model):
    messages = [{"role": "user", "content": "Who made the heaven?"}]
    out = model.create_chat_completion(messages, max_tokens=40, temperature=0)
    ref = model.generate("User: Who made the heaven?\n\nAssistant:", 40, temperature=0, stop="\n\n")
    assert out["object"] == "chat.completion"
    assert out["choices"][0]["message"] == {"role": "assistant", "content": ref.text.removeprefix(" ")}
    chunks = list(model.create_chat_completion(messages, max_tokens=40, temperature=0, stream=True))
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == out["choices"][0]["message"]["content"]
    qa = ChatTemplate("qa", roles={"user": "Question:"}, assistant_prefix="Answer:")
    out = model.create_chat_completion(messages, chat_template=qa, max_tokens=10, temperature=0)
    assert out["choices"][0]["message"]["content"] == model.generate(
        "Question: Who made the heaven?\n\nAnswer:", 10, temperature=0, stop="\n\n").text.removeprefix(" ")


def log_softmax(logits):
    x = np.asarray(logits, dtype=np.float64)
    x = x - x.max()
    return x - np.log(np.exp(x).sum())


def test_logprobs_are_the_models(model):
    out = model.create_completion("And God", max_tokens=6, temperature=0, logprobs=3)
    lp = out["choices"][0]["logprobs"]
    state = model.new_state()
    logits = model.run("And God", state)
    for i in range(6):
        ref = log_softmax(logits)
        token = int(np.argmax(ref))
        assert lp["tokens"][i] == bytes([token]).decode("latin-1") or lp["tokens"][i] == chr(token)
        assert lp["token_logprobs"][i] == pytest.approx(ref[token], abs=1e-4)
        assert list(lp["top_logprobs"][i].values()) == pytest.approx(np.sort(ref)[::-1][:3], abs=1e-4)
        logits = model.run([token], state)
    chat = model.create_chat_completion([{"role": "user", "content": "Hi"}], max_tokens=3, temperature=0,
                                        logprobs=True, top_logprobs=2)
    content = chat["choices"][0]["logprobs"]["content"]
    assert len(content) == 3 and all(len(c["top_logprobs"]) == 2 and c["logprob"] <= 0 for c in content)


def test_echo_scores_the_prompt(model):
    """echo + logprobs + max_tokens 0: the prompt's own log-probabilities (what evaluation harnesses
    ask an OpenAI-compatible server for), each token under the ones before it."""
    prompt = "In the beginning God"
    out = model.create_completion(prompt, max_tokens=0, echo=True, logprobs=2)
    choice = out["choices"][0]
    assert choice["text"] == prompt and out["usage"]["completion_tokens"] == 0
    lp = choice["logprobs"]
    ids = model.tokenizer.encode(prompt)
    ref = np.stack([log_softmax(row) for row in model.run(ids, logits="all")])
    assert lp["tokens"] == [model.tokenizer.token_bytes(t).decode() for t in ids]
    assert lp["token_logprobs"][0] is None and lp["top_logprobs"][0] is None
    assert lp["token_logprobs"][1:] == pytest.approx([ref[i - 1, ids[i]] for i in range(1, len(ids))], abs=1e-4)
    np.testing.assert_allclose([list(d.values()) for d in lp["top_logprobs"][1:]],
                               [np.sort(ref[i - 1])[::-1][:2] for i in range(1, len(ids))], atol=1e-4)
    assert lp["text_offset"] == list(range(len(ids)))  # one byte a token here
    both = model.create_completion(prompt, max_tokens=5, echo=True, temperature=0, logprobs=0)["choices"][0]
    assert both["text"] == prompt + model.generate(prompt, 5, temperature=0).text
    assert len(both["logprobs"]["tokens"]) == len(ids) + 5
    with pytest.raises(OpenAIError, match="echo"):
        model.create_completion(prompt, echo=True, stream=True)


def test_embeddings_equal_embed(model):
    texts = ["In the beginning", "And the earth was without form"]
    out = model.create_embedding(texts)
    ref = np.stack([model.embed(t, normalize=True) for t in texts])
    np.testing.assert_allclose(np.array([d["embedding"] for d in out["data"]]), ref, atol=1e-6, rtol=0)
    packed = model.create_embedding(texts, encoding_format="base64", pooling="mean", normalize=False)
    got = np.stack([np.frombuffer(base64.b64decode(d["embedding"]), dtype="<f4") for d in packed["data"]])
    np.testing.assert_allclose(got, np.stack([model.embed(t, pooling="mean") for t in texts]), atol=1e-6, rtol=0)
    assert out["usage"]["prompt_tokens"] == sum(len(t) for t in texts)  # one token per byte in this vocabulary


def test_encode_as_sentence_transformers(model):
    texts = ["a", "In the beginning God", "created"]
    vectors = model.encode(texts, batch_size=2)
    assert vectors.shape == (3, model.n_embd) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, np.stack([model.embed(t) for t in texts]), atol=1e-6, rtol=0)
    one = model.encode("created", normalize_embeddings=True)
    assert one.shape == (model.n_embd,) and np.linalg.norm(one) == pytest.approx(1, abs=1e-6)
    as_list = model.encode(texts, convert_to_numpy=False)
    assert isinstance(as_list, list) and len(as_list) == 3
    with pytest.raises(TypeError):
        model.encode([1, 2])


def test_similarity_names_of_sentence_transformers():
    rng = np.random.default_rng(3)
    q, corpus = rng.normal(size=(2, 8)), rng.normal(size=(30, 8))
    ref = (q / np.linalg.norm(q, axis=1, keepdims=True)) @ (corpus / np.linalg.norm(corpus, axis=1, keepdims=True)).T
    np.testing.assert_allclose(rwkv_gpu.cos_sim(q, corpus), ref, atol=1e-6)
    hits = rwkv_gpu.semantic_search(q, corpus, top_k=4)
    for i, row in enumerate(hits):
        assert [h["corpus_id"] for h in row] == list(np.argsort(-ref[i])[:4])
        assert [h["score"] for h in row] == pytest.approx(np.sort(ref[i])[::-1][:4], abs=1e-6)
    assert len(rwkv_gpu.semantic_search(q[0], corpus)) == 1  # a vector is one query


@pytest.mark.parametrize("kw, param", [
    (dict(temperature="0.5"), "temperature"), (dict(top_p=0.0), "top_p"), (dict(top_k=-1), "top_k"),
    (dict(max_tokens=-1), "max_tokens"), (dict(n=2), "n"), (dict(echo=True, stream=True), "echo"), (dict(stop=[""]), "stop"),
    (dict(logit_bias={"1": 5.0}), "logit_bias"), (dict(seed=-1), "seed"), (dict(logprobs=50), "logprobs"),
])
def test_bad_values_name_their_parameter(model, kw, param):
    with pytest.raises(OpenAIError) as e:
        model.create_completion("x", **kw)
    assert e.value.param == param and isinstance(e.value, ValueError)


def test_bad_calls(model):
    with pytest.raises(TypeError, match="frobnicate"):
        model.create_completion("x", frobnicate=1)
    with pytest.raises(OpenAIError, match="prompt"):
        model.create_completion([])
    with pytest.raises(OpenAIError, match="out of range"):
        model.create_completion([5, 300])
    with pytest.raises(OpenAIError, match="role"):
        model.create_chat_completion([{"role": "wizard", "content": "x"}])
    with pytest.raises(OpenAIError, match="dimensions"):
        model.create_embedding("x", dimensions=3)
    with pytest.raises(ValueError, match="unknown chat template"):
        model.create_chat_completion([{"role": "user", "content": "x"}], chat_template="nope")
