"""Completions, chat completions and embeddings in the OpenAI API's shapes: one implementation
behind ``Model.create_completion`` / ``create_chat_completion`` / ``create_embedding`` (run here,
on a ``Batcher`` of their own) and ``rwkv-gpu serve`` (run on the server's shared batch).

A request becomes a ``Job`` (token ids per choice, sampling settings, stop strings, all checked);
whoever runs the job feeds each engine event to a ``ResponseBuilder``, which returns the
streaming chunks, and at the end the whole response, as dicts shaped like OpenAI's.
"""

from __future__ import annotations

import base64
import copy
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from .chat import ChatTemplate, chat_template
from .generation import DEFAULT_MAX_TOKENS, Generation, SamplingParams
from .openai_types import ChatCompletionRequest, CompletionRequest, EmbeddingRequest, OpenAIError

SAMPLING_REQUEST_FIELDS = ("temperature", "top_p", "top_k", "presence_penalty", "frequency_penalty", "penalty_decay")


@dataclass
class Limits:
    """What one request may ask for (the server's settings; no limit from Python)."""

    max_tokens: int | None = None  # also the default of a request that gives none
    max_prompt_tokens: int | None = None


@dataclass
class Job:
    """A checked completion or chat request: what the engine runs for each choice."""

    kind: str  # "completion" or "chat"
    model_name: str
    prompts: list[np.ndarray]  # token ids, one prompt per choice
    max_tokens: int
    sampling: list[SamplingParams]  # one per choice (their seeds differ)
    stop: list[str]
    logprobs: int | None  # alternatives per token in the logprobs (None: no logprobs)
    stream: bool = False
    include_usage: bool = False
    template: ChatTemplate | None = None
    echo: bool = False  # completions: the prompt's text (and log-probabilities) before the completion's
    id: str = ""
    created: int = field(default_factory=lambda: int(time.time()))

    def __post_init__(self):
        self.id = self.id or ("chatcmpl-" if self.kind == "chat" else "cmpl-") + uuid.uuid4().hex[:24]


def _prompts(model, inputs, param: str, limits: Limits) -> list[np.ndarray]:
    """Token ids of each text / token list of an OpenAI ``prompt`` or ``input``."""
    if isinstance(inputs, str) or (inputs and isinstance(inputs[0], int)):
        inputs = [inputs]
    if not inputs:
        raise OpenAIError(f"{param} is empty", param=param)
    out = []
    for i, item in enumerate(inputs):
        where = param if len(inputs) == 1 else f"{param}[{i}]"
        try:
            ids = model._tokens(item)
        except ValueError as e:
            raise OpenAIError(f"{where}: {e}", param=param) from None
        if int(ids.max()) >= model.vocab_size:
            raise OpenAIError(f"{where}: token id {int(ids.max())} is out of range for a vocabulary of "
                              f"{model.vocab_size}", param=param)
        if limits.max_prompt_tokens is not None and len(ids) > limits.max_prompt_tokens:
            raise OpenAIError(f"{where} has {len(ids)} tokens; this server takes at most {limits.max_prompt_tokens}",
                              param=param, code="context_length_exceeded")
        out.append(ids)
    return out


def _sampling(req, n: int) -> list[SamplingParams]:
    """The request's settings over the engine's defaults, checked by the engine; prompt i gets
    seed + i (as ``generate_batch``)."""
    params = SamplingParams()
    for name in SAMPLING_REQUEST_FIELDS:
        value = getattr(req, name)
        if value is None:
            continue
        try:
            setattr(params, name, value)
            params.validate()
        except (TypeError, ValueError) as e:
            raise OpenAIError(f"{name}={value!r}: {e}", param=name) from None
    if req.seed is not None and not 0 <= req.seed < 2**64 - n:
        raise OpenAIError(f"seed must be in [0, 2**64), not {req.seed}", param="seed")
    out = []
    for i in range(n):
        p = SamplingParams(**{name: getattr(params, name) for name in SAMPLING_REQUEST_FIELDS})
        p.seed = None if req.seed is None else req.seed + i
        out.append(p)
    return out


def _common(req, limits: Limits, max_tokens: int | None) -> tuple[int, list[str]]:
    for param, why in req.unsupported():
        raise OpenAIError(why, param=param)
    if max_tokens is None:
        max_tokens = limits.max_tokens if limits.max_tokens is not None else DEFAULT_MAX_TOKENS
    if not 0 <= max_tokens < 2**32:
        raise OpenAIError(f"max_tokens must be a non-negative integer, not {max_tokens}", param="max_tokens")
    if limits.max_tokens is not None and max_tokens > limits.max_tokens:
        raise OpenAIError(f"max_tokens={max_tokens} is more than this server allows ({limits.max_tokens})",
                          param="max_tokens")
    stop = [req.stop] if isinstance(req.stop, str) else list(req.stop or [])
    if any(not s for s in stop):
        raise OpenAIError("stop strings must not be empty", param="stop")
    return max_tokens, stop


def completion_job(model, fields: dict, *, model_name: str, limits: Limits = Limits(), from_python: bool = False) -> Job:
    """A ``CompletionRequest``'s fields (keywords or JSON) as a checked job."""
    req = CompletionRequest.parse(fields, from_python=from_python)
    max_tokens, stop = _common(req, limits, req.max_tokens)
    prompts = _prompts(model, req.prompt, "prompt", limits)
    if req.echo and req.logprobs is not None:
        _check_echo_length(prompts)
    return Job("completion", model_name, prompts, max_tokens, _sampling(req, len(prompts)), stop, req.logprobs,
               req.stream, bool(req.stream_options and req.stream_options.include_usage), echo=req.echo)


# echo with logprobs holds the logits of every prompt token on the host (vocab floats each).
MAX_ECHO_LOGPROB_TOKENS = 4096


def _check_echo_length(prompts: list[np.ndarray]) -> None:
    if any(len(p) > MAX_ECHO_LOGPROB_TOKENS for p in prompts):
        raise OpenAIError(f"echo with logprobs takes prompts of at most {MAX_ECHO_LOGPROB_TOKENS} tokens", param="echo",
                          code="context_length_exceeded")


def chat_job(model, fields: dict, *, model_name: str, template: str | ChatTemplate | None = None,
             limits: Limits = Limits(), from_python: bool = False) -> Job:
    """A ``ChatCompletionRequest``'s fields as a checked job: the messages rendered by ``template``
    (``chat.CHAT_TEMPLATES``; default rwkv-world), whose stop strings join the request's."""
    req = ChatCompletionRequest.parse(fields, from_python=from_python)
    tmpl = chat_template(template)
    max_tokens, stop = _common(req, limits, req.max_completion_tokens if req.max_completion_tokens is not None
                               else req.max_tokens)
    try:
        prompt = tmpl.render([m.model_dump(exclude_none=True) for m in req.messages])
    except ValueError as e:
        raise OpenAIError(str(e), param="messages") from None
    prompts = _prompts(model, prompt, "messages", limits)
    logprobs = (req.top_logprobs or 0) if req.logprobs else None
    return Job("chat", model_name, prompts, max_tokens, _sampling(req, 1), stop + [s for s in tmpl.stop if s not in stop],
               logprobs, req.stream, bool(req.stream_options and req.stream_options.include_usage), tmpl)


# ---- responses ----------------------------------------------------------------------------------


def _usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


def _prompt_text(model, ids: np.ndarray) -> str:
    return model.tokenizer.decode(ids.tolist()) if model.tokenizer else ""


def _token_text(model, token: int) -> str:
    return model.tokenizer.token_bytes(token).decode("utf-8", errors="replace") if model.tokenizer else str(token)


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    logp = logits.astype(np.float64)
    logp -= logp.max(axis=1, keepdims=True)
    return logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))


def _rows(tokens, logits: np.ndarray, alternatives: int) -> list:
    """(token, its log-probability, the ``alternatives`` likeliest (token, log-probability)) for each
    token, from the logits it was drawn from (log-softmax: before the sampler's penalties and
    cutoffs)."""
    logp = _log_softmax(logits) if len(tokens) else logits
    rows = []
    for i, token in enumerate(tokens):
        top = np.argsort(-logp[i])[:alternatives] if alternatives else []
        rows.append((int(token), float(logp[i, token]), [(int(t), float(logp[i, t])) for t in top]))
    return rows


def prompt_logprob_rows(model, ids: np.ndarray, alternatives: int) -> list:
    """The rows of a prompt's tokens, each under the tokens before it (the first has none: None)."""
    logits = model.run(ids, logits="all")
    return [(int(ids[0]), None, None)] + _rows(ids[1:], logits[:-1], alternatives)


def _logprobs(model, kind: str, rows: list) -> dict:
    if kind == "chat":
        def entry(t, lp):
            return {"token": _token_text(model, t), "logprob": lp, "bytes": list(model.tokenizer.token_bytes(t))
                    if model.tokenizer else None}
        return {"content": [entry(t, lp) | {"top_logprobs": [entry(a, alp) for a, alp in top]} for t, lp, top in rows]}
    offsets, at = [], 0
    for t, _, _ in rows:
        offsets.append(at)
        at += len(_token_text(model, t))
    return {"tokens": [_token_text(model, t) for t, _, _ in rows], "token_logprobs": [lp for _, lp, _ in rows],
            "top_logprobs": [None if top is None else {_token_text(model, a): alp for a, alp in top} for _, _, top in rows],
            "text_offset": offsets}


class ResponseBuilder:
    """Turns a job's engine events into OpenAI's streaming chunks, and its results into the
    response. ``finish_reason`` is OpenAI's ``"stop"`` or ``"length"``."""

    def __init__(self, model, job: Job):
        self.model, self.job = model, job
        n = len(job.prompts)
        self._role_sent = [False] * n  # chat: the first chunk of a choice carries the role
        self._reply_begun = [False] * n  # chat: the reply's leading space was dropped

    def _head(self, obj: str) -> dict:
        head = {"id": self.job.id, "object": obj, "created": self.job.created, "model": self.job.model_name}
        if self.job.include_usage:
            head["usage"] = None
        return head

    def chunks(self, index: int, text: str, finish: str | None) -> list[dict]:
        """The streaming chunks for one event of choice ``index``: new ``text`` (may be empty),
        and ``finish`` when the choice ended."""
        out = []
        if self.job.kind == "chat":
            delta = []
            if not self._role_sent[index]:
                self._role_sent[index] = True
                delta.append(({"role": "assistant", "content": ""}, None))
            if text and not self._reply_begun[index]:
                self._reply_begun[index] = True
                text = self.job.template.strip_reply(text)
            if text:
                delta.append(({"content": text}, None))
            if finish is not None:
                delta.append(({}, _finish(finish)))
            return [self._head("chat.completion.chunk") | {"choices": [
                {"index": index, "delta": d, "logprobs": None, "finish_reason": f}]} for d, f in delta]
        if text or finish is not None:
            out.append(self._head("text_completion") | {"choices": [
                {"text": text, "index": index, "logprobs": None, "finish_reason": _finish(finish)}]})
        return out

    def usage_chunk(self, results: list[Generation]) -> dict | None:
        """The last chunk when the request asked for usage (``stream_options.include_usage``)."""
        if not self.job.include_usage:
            return None
        obj = "chat.completion.chunk" if self.job.kind == "chat" else "text_completion"
        return self._head(obj) | {"choices": [], "usage": self._usage(results)}

    def _usage(self, results: list[Generation]) -> dict:
        return _usage(sum(len(p) for p in self.job.prompts), sum(len(r.tokens) for r in results))

    def response(self, results: list[Generation], prompt_rows: list | None = None) -> dict:
        """The whole response from the finished generations, in choice order; with ``echo`` and
        ``logprobs``, ``prompt_rows`` holds each prompt's ``prompt_logprob_rows``."""
        choices = []
        for i, r in enumerate(results):
            logprobs = None
            if self.job.logprobs is not None:
                rows = _rows(r.tokens, r.logits, self.job.logprobs)
                logprobs = _logprobs(self.model, self.job.kind, (prompt_rows[i] if self.job.echo else []) + rows)
            if self.job.echo:
                r = copy.copy(r)
                r.text = _prompt_text(self.model, self.job.prompts[i]) + r.text
            if self.job.kind == "chat":
                content = self.job.template.strip_reply(r.text)
                choices.append({"index": i, "message": {"role": "assistant", "content": content}, "logprobs": logprobs,
                                "finish_reason": _finish(r.finish_reason)})
            else:
                choices.append({"text": r.text, "index": i, "logprobs": logprobs, "finish_reason": _finish(r.finish_reason)})
        obj = "chat.completion" if self.job.kind == "chat" else "text_completion"
        return {"id": self.job.id, "object": obj, "created": self.job.created, "model": self.job.model_name,
                "choices": choices, "usage": self._usage(results)}


def _finish(reason: str | None) -> str | None:
    # "cancelled" reaches no client: it is what a disconnected one leaves behind.
    return None if reason is None else ("length" if reason == "length" else "stop")


def echo_rows(model, job: Job) -> list | None:
    """The prompts' log-probability rows a job's response needs (echo with logprobs), else None."""
    if not (job.echo and job.logprobs is not None):
        return None
    return [prompt_logprob_rows(model, ids, job.logprobs) for ids in job.prompts]


def run_job(model, job: Job) -> dict | Iterator[dict]:
    """Runs a job on a Batcher of its own (the Python API): the response, or with
    ``job.stream`` an iterator of chunks (closing it early cancels the rest)."""
    batcher = model.batcher(max(1, min(len(job.prompts), model.info["max_batch"], 64)))
    reqs = [batcher.submit(ids, job.max_tokens, sampling=s, stop=job.stop, return_logits=job.logprobs is not None)
            for ids, s in zip(job.prompts, job.sampling)]
    builder = ResponseBuilder(model, job)
    if not job.stream:
        for _ in batcher:
            pass
        return builder.response([r.result for r in reqs], echo_rows(model, job))

    def chunks() -> Iterator[dict]:
        index = {r.id: i for i, r in enumerate(reqs)}
        try:
            for req, text in batcher:
                yield from builder.chunks(index[req.id], text, req.finish_reason)
            last = builder.usage_chunk([r.result for r in reqs])
            if last is not None:
                yield last
        finally:
            for r in reqs:
                if not r.done:
                    r.cancel()
            for _ in batcher:  # let the cancellations finish, so the batcher's slots are free
                pass

    return chunks()


# ---- embeddings ---------------------------------------------------------------------------------


def embedding_job(model, fields: dict, *, from_python: bool = False, limits: Limits = Limits()):
    """An ``EmbeddingRequest``'s fields as (token ids per input, encoding format)."""
    req = EmbeddingRequest.parse(fields, from_python=from_python)
    if req.dimensions is not None and req.dimensions != model.n_embd:
        raise OpenAIError(f"dimensions must be this model's n_embd ({model.n_embd}) or absent", param="dimensions")
    return _prompts(model, req.input, "input", limits), req.encoding_format


def embedding_response(vectors: np.ndarray, prompts: list[np.ndarray], encoding_format: str, model_name: str) -> dict:
    """OpenAI's embeddings list; ``base64``: each vector's little-endian float32 bytes."""
    def encode(v: np.ndarray):
        if encoding_format == "base64":
            return base64.b64encode(np.ascontiguousarray(v, dtype="<f4").tobytes()).decode("ascii")
        return v.astype(np.float32).tolist()

    tokens = sum(len(p) for p in prompts)
    return {"object": "list", "model": model_name,
            "data": [{"object": "embedding", "index": i, "embedding": encode(v)} for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
