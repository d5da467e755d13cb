"""Generation: greedy decoding against Model.run, the GPU sampler against a NumPy transcription of
the official RWKV pipeline's sampler (chi-square over seeded draws), seeds, stop strings,
streaming, batches and continuous batching against solo runs, states, errors."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from scipy import stats

import rwkv_gpu
from rwkv_gpu.testing import random_model
from threads import run_in_threads


@pytest.fixture(scope="module")
def world_model(tmp_path_factory):
    """3 heads of 64, a 1000-token World vocabulary (bytes and multi-byte tokens)."""
    path = tmp_path_factory.mktemp("gen") / "world.gguf"
    random_model(path, n_layer=2, n_embd=192, head_size=64, vocab=1000, dtype="f32", lora_dtype="f32", seed=21)
    return rwkv_gpu.Model(path)


@pytest.fixture(scope="module")
def tiny(tiny_gguf):
    return rwkv_gpu.Model(tiny_gguf)


@pytest.fixture(scope="module")
def default_model():
    """The embedded default model: trained, byte-level, 3 heads."""
    return rwkv_gpu.Model(rwkv_gpu.default_model_path())


def reference_probs(logits, temperature=1.0, top_p=1.0, top_k=0, occurrence=None, presence=0.0, frequency=0.0):
    """rwkv.utils.PIPELINE.sample_logits (CPU branch) after the pipeline's penalties, in float64.
    top_p = 1 means no cutoff (the pipeline's cumsum may never reach exactly 1)."""
    logits = np.asarray(logits, dtype=np.float64).copy()
    for token, count in (occurrence or {}).items():
        logits[token] -= presence + count * frequency
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    sorted_ids = np.argsort(probs)
    sorted_probs = probs[sorted_ids][::-1]
    if top_p < 1:
        cutoff = float(sorted_probs[np.argmax(np.cumsum(sorted_probs) >= top_p)])
        probs[probs < cutoff] = 0
    if 0 < top_k < len(probs):
        probs[sorted_ids[:-top_k]] = 0
    probs = probs ** (1.0 / temperature)
    return probs / probs.sum()


def greedy_reference(model, prompt_ids, n, presence=0.0, frequency=0.0, decay=0.996, weights=None):
    """Greedy decoding by Model.run, with the official pipeline's penalty bookkeeping."""
    state = model.new_state()
    logits = model.run(prompt_ids, state)
    occurrence, out = {}, []
    for _ in range(n):
        adjusted = logits.astype(np.float64).copy()
        for t, c in occurrence.items():
            adjusted[t] -= presence + c * frequency
        token = int(np.argmax(adjusted))
        out.append(token)
        for t in occurrence:
            occurrence[t] *= decay
        occurrence[token] = occurrence.get(token, 0.0) + (1.0 if weights is None else weights(token))
        logits = model.run([token], state)
    return out


def blank_weight(model):
    """The pipeline's count weight: 0 for tokens whose text is within ' \\t0123456789'."""
    return lambda t: 0.0 if model.tokenizer.token_bytes(t).decode("latin-1") in " \t0123456789" else 1.0


@pytest.mark.parametrize("which", ["tiny", "world", "default"])
def test_greedy_equals_argmax_of_run(which, tiny, world_model, default_model):
    model = {"tiny": tiny, "world": world_model, "default": default_model}[which]
    prompt = model.tokenizer.encode("The quick brown fox jumps")
    out = model.generate(prompt, 40, temperature=0, stop_tokens=[], return_logits=True)
    assert out.tokens == greedy_reference(model, prompt, 40)
    assert out.finish_reason == "length" and out.prompt_tokens == len(prompt)
    # The logits each token was drawn from are Model.run's.
    state = model.new_state()
    expected = model.run(prompt + out.tokens[:-1], state, logits="all")[len(prompt) - 1:]
    np.testing.assert_allclose(out.logits, expected, atol=1e-5)


def test_greedy_with_penalties(world_model):
    m = world_model
    prompt = m.tokenizer.encode("Hello")
    out = m.generate(prompt, 30, temperature=0, presence_penalty=0.5, frequency_penalty=0.7, penalty_decay=0.9,
                     stop_tokens=[])
    expected = greedy_reference(m, prompt, 30, 0.5, 0.7, 0.9, blank_weight(m))
    assert out.tokens == expected
    assert out.tokens != greedy_reference(m, prompt, 30)  # the penalties changed something


def draws(model, prompt, n, **sampling):
    gens = model.generate_batch([prompt] * n, 1, seed=list(range(1000, 1000 + n)), stop_tokens=[], max_batch=256,
                                **sampling)
    return np.array([g.tokens[0] for g in gens])


@pytest.mark.parametrize("sampling", [
    dict(temperature=1.0, top_p=1.0),
    dict(temperature=0.7, top_p=0.9),
    dict(temperature=1.3, top_p=1.0, top_k=12),
    dict(temperature=1.0, top_p=0.5, top_k=40),
])
def test_sampler_matches_reference_distribution(world_model, sampling):
    m = world_model
    prompt = m.tokenizer.encode("O")  # one token: each draw costs one token of work
    logits = m.run(prompt, m.new_state())
    probs = reference_probs(logits, sampling["temperature"], sampling["top_p"], sampling.get("top_k", 0))
    n = 2000
    got = draws(m, prompt, n, **sampling)
    assert probs[got].min() > 0, "drew a token the reference sampler excludes"
    counts = np.bincount(got, minlength=len(probs)).astype(float)
    expected = probs * n
    big = expected >= 5  # chi-square bins: every token expected 5+ times, the rest pooled
    f_obs = np.append(counts[big], counts[~big].sum())
    f_exp = np.append(expected[big], expected[~big].sum())
    if f_exp[-1] == 0:
        f_obs, f_exp = f_obs[:-1], f_exp[:-1]
    assert big.sum() >= 5, "the test needs a spread-out distribution"
    p = stats.chisquare(f_obs, f_exp).pvalue
    assert p > 1e-3, f"chi-square p = {p:.2e} over {len(f_exp)} bins"


def test_seeds_reproduce(world_model):
    m = world_model
    a = m.generate("Seeds", 40, seed=123, stop_tokens=[])
    b = m.generate("Seeds", 40, seed=123, stop_tokens=[])
    c = m.generate("Seeds", 40, seed=124, stop_tokens=[])
    assert a.tokens == b.tokens and a.text == b.text
    assert a.tokens != c.tokens


def test_stop_string_across_tokens(world_model):
    m = world_model
    full = m.generate("Stop here", 60, temperature=0, stop_tokens=[])
    text = full.text
    assert len(full.tokens) == 60 and len(text) > 30
    # A stop string that starts inside one token and ends inside a later one.
    ends, pos = np.cumsum([len(m.tokenizer.decode([t])) for t in full.tokens]), None
    for k in range(5, len(ends) - 3):
        if ends[k + 1] - ends[k] >= 2:
            pos = int(ends[k]) - 1
            break
    assert pos is not None
    stop = text[pos:pos + 3]
    first = text.find(stop)
    out = m.generate("Stop here", 60, temperature=0, stop=[stop, "never appears \u2603"], stop_tokens=[])
    assert out.finish_reason == "stop"
    assert out.text == text[:first]
    assert len(out.tokens) < 60
    pieces = list(m.generate("Stop here", 60, temperature=0, stop=stop, stop_tokens=[], stream=True))
    assert "".join(pieces) == text[:first]


def test_stop_token(world_model):
    m = world_model
    full = m.generate("Stop token", 30, temperature=0, stop_tokens=[])
    token = full.tokens[10]
    first = full.tokens.index(token)
    out = m.generate("Stop token", 30, temperature=0, stop_tokens=[token])
    assert out.finish_reason == "stop" and out.tokens == full.tokens[:first + 1]
    assert out.text == m.tokenizer.decode(full.tokens[:first])


def test_stream_never_splits_a_character(world_model):
    m = world_model
    stream = m.generate("\u4e2d\u6587 text", 80, seed=9, stop_tokens=[], stream=True)
    pieces = list(stream)
    result = stream.result
    assert "".join(pieces) == result.text
    data = m.tokenizer.decode_bytes(result.tokens)
    assert result.text == data.decode("utf-8", errors="replace")


def test_engine_events_carry_the_text_and_the_stop(world_model):
    """The engine's scheduler decodes and cuts the text itself: a stop string spanning tokens ends
    the request with finish "stop" in the same step, and the events' text is the generated text
    up to it (one call into the engine per step, nothing decoded in Python)."""
    m = world_model
    full = m.generate("Stop here", 60, temperature=0, stop_tokens=[])
    ends = np.cumsum([len(m.tokenizer.decode_bytes([t])) for t in full.tokens])
    k = next(k for k in range(5, len(ends) - 3) if ends[k + 1] - ends[k] >= 2 and ends[k] - ends[k - 1] >= 1)
    raw = m.tokenizer.decode_bytes(full.tokens)
    stop = raw[ends[k] - 1:ends[k] + 2].decode("utf-8", errors="ignore")  # starts in token k, ends in k + 1
    assert len(stop) >= 2 and stop in full.text
    core = rwkv_gpu._core.Scheduler(m._core, 1)
    rid = core.submit(m.tokenizer.encode("Stop here"), rwkv_gpu.SamplingParams(temperature=0), 60, [stop], [])
    text, finish, tokens = "", None, []
    while finish is None:
        for eid, token, piece, fin, _ in core.step():
            assert eid == rid
            tokens += [token] if token >= 0 else []
            text += piece
            finish = fin
    assert finish == "stop"
    assert text == full.text[:full.text.find(stop)]
    assert tokens == full.tokens[:len(tokens)] and len(tokens) < 60


def test_batch_equals_solo_runs(world_model, default_model):
    for m in (world_model, default_model):
        prompts = ["a", "The quick brown fox", "x" * 70, "Once upon a time there was"]
        settings = dict(temperature=[0.0, 1.0, 0.8, 1.2], top_p=[1.0, 0.9, 0.7, 1.0], top_k=[0, 0, 20, 5],
                        presence_penalty=[0.0, 0.3, 0.0, 0.5], frequency_penalty=[0.0, 0.2, 0.0, 0.5])
        batch = m.generate_batch(prompts, 25, seed=77, stop_tokens=[], **settings)
        for i, p in enumerate(prompts):
            solo = m.generate(p, 25, seed=77 + i, stop_tokens=[], **{k: v[i] for k, v in settings.items()})
            assert batch[i].tokens == solo.tokens, f"prompt {i}"
            assert batch[i].text == solo.text


def test_continuous_batching(world_model):
    m = world_model
    b = m.batcher(max_batch=3)
    specs = [("first", 20, 1), ("second prompt", 35, 2), ("third", 5, 3), ("fourth one", 25, 4)]
    reqs = [b.submit(p, n, seed=s, stop_tokens=[]) for p, n, s in specs[:2]]
    late = []
    steps = 0
    for req, piece in b:
        steps += 1
        if steps == 4:  # new requests join while the first two run; one waits for a slot
            late = [b.submit(p, n, seed=s, stop_tokens=[]) for p, n, s in specs[2:]] + [
                b.submit("long " * 120, 10, seed=5, stop_tokens=[])]
    assert b.idle
    for req, (p, n, s) in zip(reqs + late, specs + [("long " * 120, 10, 5)]):
        assert req.done and req.finish_reason == "length" and len(req.tokens) == n
        assert req.tokens == m.generate(p, n, seed=s, stop_tokens=[]).tokens, p[:20]


def test_batcher_async_and_cancel(world_model):
    m = world_model
    b = m.batcher(max_batch=2)
    keep = b.submit("kept", 12, seed=1, stop_tokens=[])
    gone = b.submit("cancelled", 200, seed=2, stop_tokens=[])
    waiting = b.submit("never admitted", 10, seed=3, stop_tokens=[])
    waiting.cancel()

    async def drive():
        async for req, _ in b.run_async():
            if req is gone and len(gone.tokens) == 3:
                gone.cancel()

    asyncio.run(drive())
    assert keep.tokens == m.generate("kept", 12, seed=1, stop_tokens=[]).tokens
    assert gone.finish_reason == "cancelled" and len(gone.tokens) == 3
    assert waiting.finish_reason == "cancelled" and waiting.tokens == []


def test_state_holds_prompt_and_generation(world_model):
    m = world_model
    state = m.new_state()
    out = m.generate("Turn one", 15, seed=4, stop_tokens=[], state=state)
    ref = m.new_state()
    m.run(m.tokenizer.encode("Turn one") + out.tokens, ref, logits=None)
    np.testing.assert_allclose(m.back_state(state).copy(), m.back_state(ref), atol=1e-5)
    # The next turn continues from it: the same as one run over everything.
    nxt = m.generate(" and two", 10, temperature=0, stop_tokens=[], state=state)
    ids = m.tokenizer.encode("Turn one") + out.tokens + m.tokenizer.encode(" and two")
    assert nxt.tokens == greedy_reference(m, ids, 10)


def test_max_tokens_zero_only_runs_the_prompt(world_model):
    m = world_model
    state = m.new_state()
    out = m.generate("prefill only", 0, state=state)
    assert out.tokens == [] and out.text == "" and out.finish_reason == "length"
    ref = m.new_state()
    m.run("prefill only", ref, logits=None)
    np.testing.assert_allclose(m.back_state(state).copy(), m.back_state(ref), atol=1e-6)


def test_bad_arguments(world_model, tiny):
    m = world_model
    for kwargs in (dict(temperature=-1), dict(top_p=0), dict(top_p=1.5), dict(top_k=-2), dict(penalty_decay=2),
                   dict(max_tokens=-1), dict(seed=-5)):
        with pytest.raises(ValueError):
            m.generate("x", **kwargs)
    with pytest.raises(ValueError):
        m.generate("")
    with pytest.raises(ValueError):
        m.generate([5, 99999])
    with pytest.raises(ValueError):
        m.generate("x", state=tiny.new_state())
    with pytest.raises(ValueError):
        m.batcher(max_batch=0)
    with pytest.raises(ValueError):
        m.generate_batch(["a", "b"], temperature=[1.0])
    with pytest.raises(ValueError):
        m.batcher().submit("x").result  # noqa: B018  (not done yet)


def test_threads_generate_on_one_model(world_model):
    """Several threads generating on one model at once: each gets its solo result."""
    m = world_model
    prompts = [f"thread {i} says" for i in range(4)]
    solo = [m.generate(p, 12, seed=i, stop_tokens=[]).tokens for i, p in enumerate(prompts)]
    got = run_in_threads(lambda i: m.generate(prompts[i], 12, seed=i, stop_tokens=[]).tokens, 4)
    assert got == solo


def test_cancel_before_the_prompt_ran_leaves_the_state(world_model):
    m = world_model
    state = m.new_state()
    m.run("context", state, logits=None)
    before = m.back_state(state).copy()
    b = m.batcher(max_batch=1)
    req = b.submit("x " * 400, 5, state=state, stop_tokens=[])  # longer than one step's 256 tokens
    b.step()  # the first piece of the prompt runs
    req.cancel()
    for _ in b:
        pass
    assert req.finish_reason == "cancelled" and req.tokens == []
    np.testing.assert_array_equal(m.back_state(state), before)
