"""Text generation: sampling on the GPU, streaming, stop strings, and continuous batching.

Each step runs one token of every running sequence (the recurrent state carries the history, so
a token costs the same at position 10 and 10,000); the sampler runs on the GPU and only the drawn
token ids come back. ``Model.generate`` / ``generate_batch`` / ``batcher`` are the entry points.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import _repr


FINISH_REASONS = ("length", "stop", "eos", "cancelled")
DEFAULT_MAX_TOKENS = 256  # of generate, generate_batch, Batcher.submit and the command line


@dataclass(repr=False)
class Generation:
    """What ``generate`` returns.

    Attributes:
        text: the generated text, cut before the first stop string (if one was hit).
        tokens: every generated token id (including those of a stop string or a stop token).
        finish_reason: ``"length"`` (max_tokens), ``"stop"`` (a stop string), ``"eos"`` (a stop
            token, by default token 0, the end of a document) or ``"cancelled"``.
        prompt_tokens: the prompt's length in tokens.
        logits: float32 ``[len(tokens), vocab]``, the logits each token was drawn from (before
            penalties), with ``return_logits=True``; else None.
        timings: seconds: ``first_token_s`` (from submission: the prompt and the first draw),
            ``total_s``, and ``decode_tokens_per_s`` after the first token.
    """

    text: str
    tokens: list[int]
    finish_reason: str
    prompt_tokens: int
    logits: np.ndarray | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"Generation(text={_repr.text(self.text)}, tokens={_repr.items(self.tokens, limit=8)}, "
                f"finish_reason={self.finish_reason!r}, prompt_tokens={self.prompt_tokens}, "
                f"logits={_repr.array(self.logits)}, timings={_repr.numbers(self.timings)})")


@dataclass
class Sampling:
    """Sampling settings, as in the official RWKV pipeline (``rwkv.utils.PIPELINE_ARGS``).

    Past generated tokens lower their logits by ``presence_penalty + count * frequency_penalty``
    (count: occurrences, each step multiplied by ``penalty_decay``; tokens that are only
    whitespace or digits do not count); then softmax, the top-p cutoff, top-k, and probabilities
    raised to ``1 / temperature``. ``temperature=0`` is greedy decoding.
    """

    temperature: float = 1.0
    top_p: float = 0.85
    top_k: int = 0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    penalty_decay: float = 0.996
    seed: int | None = None

    def check(self) -> None:
        """What the engine cannot be handed at all (it checks the ranges of the rest itself)."""
        if int(self.top_k) != self.top_k or self.top_k < 0:
            raise ValueError(f"top_k must be an integer >= 0, not {self.top_k}")
        if self.seed is not None and not 0 <= int(self.seed) < 2**64:
            raise ValueError("seed must be an integer in [0, 2**64)")


class _Text:
    """Token ids to text pieces: never splits a UTF-8 character, holds back a possible stop string
    until it is known whether it completes."""

    def __init__(self, tokenizer, stop: Sequence[str]):
        self._dec = tokenizer.stream_decoder() if tokenizer is not None else None
        self._stop = [s for s in stop if s]
        self._pending = ""
        self.text = ""
        self.stopped = False

    def push(self, token: int) -> str:
        if self._dec is None or self.stopped:
            return ""
        self._pending += self._dec.push(token)
        return self._emit(final=False)

    def flush(self) -> str:
        if self._dec is None or self.stopped:
            return ""
        self._pending += self._dec.flush()
        return self._emit(final=True)

    def _emit(self, final: bool) -> str:
        hits = [i for i in (self._pending.find(s) for s in self._stop) if i >= 0]
        if hits:
            piece, self._pending, self.stopped = self._pending[: min(hits)], "", True
        elif final:
            piece, self._pending = self._pending, ""
        else:  # keep the longest end of the text that starts some stop string
            keep = max((k for s in self._stop for k in range(1, min(len(s), len(self._pending)) + 1)
                        if self._pending.endswith(s[:k])), default=0)
            cut = len(self._pending) - keep
            piece, self._pending = self._pending[:cut], self._pending[cut:]
        self.text += piece
        return piece


class Request:
    """One sequence in a ``Batcher``: its tokens and text so far, and the result when done."""

    def __init__(self, batcher: Batcher, core_id: int, prompt_tokens: int, stop: Sequence[str],
                 stop_tokens: Sequence[int], return_logits: bool):
        self._batcher = batcher
        self.id = core_id
        self.prompt_tokens = prompt_tokens
        self.tokens: list[int] = []
        self._logits: list[np.ndarray] | None = [] if return_logits else None
        self._text = _Text(batcher.model.tokenizer, stop)
        self._stop_tokens = set(stop_tokens)
        self.finish_reason: str | None = None
        self._t_submit = time.perf_counter()
        self._t_first: float | None = None
        self._t_done: float | None = None

    @property
    def done(self) -> bool:
        return self.finish_reason is not None

    def __repr__(self) -> str:
        return (f"Request(id={self.id}, {self.finish_reason or 'running'}, prompt_tokens={self.prompt_tokens}, "
                f"tokens={len(self.tokens)}, text={_repr.text(self.text)})")

    @property
    def text(self) -> str:
        return self._text.text

    def cancel(self) -> None:
        """Ends the request at the next step (finish_reason "cancelled")."""
        self._batcher._cancel(self)

    def _on_event(self, token: int, finish: str | None, logits) -> str:
        piece = ""
        if token >= 0:
            if self._t_first is None:
                self._t_first = time.perf_counter()
            self.tokens.append(token)
            if self._logits is not None and logits is not None:
                self._logits.append(logits)
            if token not in self._stop_tokens:
                piece = self._text.push(token)
                if self._text.stopped:
                    self._batcher._core.cancel(self.id)
        if finish is not None:
            piece += self._text.flush()
            self._t_done = time.perf_counter()
            if self._text.stopped:
                self.finish_reason = "stop"
            else:
                self.finish_reason = {"length": "length", "stop_token": "eos", "cancelled": "cancelled"}[finish]
        return piece

    @property
    def result(self) -> Generation:
        """The finished generation (ValueError before the request is done)."""
        if not self.done:
            raise ValueError("the request is still running")
        first = self._t_first or self._t_done
        n = len(self.tokens)
        timings = {"first_token_s": first - self._t_submit, "total_s": self._t_done - self._t_submit,
                   "decode_tokens_per_s": (n - 1) / (self._t_done - first) if n > 1 and self._t_done > first else 0.0}
        logits = None
        if self._logits is not None:
            logits = np.stack(self._logits) if self._logits else np.zeros((0, self._batcher.model.vocab_size), np.float32)
        return Generation(self.text, list(self.tokens), self.finish_reason, self.prompt_tokens, logits, timings)


class Batcher:
    """Continuous batching: requests join a running batch at any step and leave when done.

    Example::

        b = model.batcher(max_batch=16)
        a = b.submit("The sky is", max_tokens=50, temperature=0)
        for req, piece in b:            # runs steps until every request is done
            if req is a and len(a.tokens) == 5:
                b.submit("Later request", max_tokens=20, seed=7)   # joins the running batch
            print(piece, end="")

    Up to ``max_batch`` sequences run together; further requests wait for a free slot. Each step
    runs one token of every running sequence plus pieces of newly admitted prompts (filling the
    model's ``chunk_tokens``), so a long prompt does not stall the others. Sampling settings are
    per request. ``async for req, piece in b.run_async()`` does the same from asyncio (steps run
    in a worker thread). One thread at a time may step a Batcher; ``submit`` is thread-safe.
    """

    def __init__(self, model, max_batch: int = 64):
        if not 1 <= max_batch <= model.info["max_batch"]:
            raise ValueError(f"max_batch must be in 1..{model.info['max_batch']} (the model's info['max_batch']: its "
                             "chunk_tokens, at most 512)")
        self.model = model
        self._core = model._take_scheduler(max_batch)
        self._requests: dict[int, Request] = {}
        self._lock = threading.Lock()

    def __del__(self):
        core = getattr(self, "_core", None)
        if core is not None and core.idle:  # reuse its GPU buffers and recorded steps
            self.model._return_scheduler(core)

    @property
    def max_batch(self) -> int:
        return self._core.max_batch

    def __repr__(self) -> str:
        return f"Batcher(max_batch={self.max_batch}, requests not done: {len(self._requests)})"

    @property
    def idle(self) -> bool:
        """True when no request is waiting or running."""
        return self._core.idle

    def submit(self, prompt: str | bytes | Sequence[int], max_tokens: int = DEFAULT_MAX_TOKENS, *,
               temperature: float = 1.0, top_p: float = 0.85, top_k: int = 0, presence_penalty: float = 0.0, frequency_penalty: float = 0.0,
               penalty_decay: float = 0.996, seed: int | None = None, stop: str | Sequence[str] | None = None,
               stop_tokens: Sequence[int] | None = None, state=None, return_logits: bool = False) -> Request:
        """Queues a request; see ``Model.generate`` for the arguments. Returns its ``Request``."""
        sampling = Sampling(temperature, top_p, top_k, presence_penalty, frequency_penalty, penalty_decay, seed)
        sampling.check()
        if int(max_tokens) != max_tokens or not 0 <= max_tokens < 2**32:
            raise ValueError(f"max_tokens must be an integer in [0, 2**32), not {max_tokens}")
        stop = [stop] if isinstance(stop, str) else list(stop or [])
        if not all(isinstance(s, str) for s in stop):
            raise TypeError(f"stop must be a str or a list of str, not {stop!r}")
        if stop and self.model.tokenizer is None:
            raise ValueError("stop strings need a model with a tokenizer")
        stop_tokens = [0] if stop_tokens is None else [int(t) for t in stop_tokens]
        ids = self.model._tokens(prompt)
        seed = secrets.randbits(64) if seed is None else int(seed)
        core_state = None if state is None else self.model._check_state(state)._core
        with self._lock:
            core_id = self._core.submit(ids.tolist(), float(temperature), float(top_p), int(top_k),
                                        float(presence_penalty), float(frequency_penalty), float(penalty_decay), seed,
                                        int(max_tokens), stop_tokens, core_state, return_logits)
            req = Request(self, core_id, len(ids), stop, stop_tokens, return_logits)
            self._requests[core_id] = req
        return req

    def _cancel(self, req: Request) -> None:
        with self._lock:
            self._core.cancel(req.id)

    def step(self) -> list[tuple[Request, str]]:
        """Runs one step; returns ``(request, new text)`` for each request that got a token or
        finished in it (the text may be empty: a held-back stop-string prefix, a partial
        character, or a request that only finished)."""
        with self._lock:
            events = self._core.step()
        out = []
        for core_id, token, finish, logits in events:
            req = self._requests[core_id]
            out.append((req, req._on_event(token, finish, logits)))
            if req.done:
                del self._requests[core_id]
        return out

    def __iter__(self) -> Iterator[tuple[Request, str]]:
        """Steps until idle, yielding ``(request, new text)``; requests submitted meanwhile join."""
        while not self.idle:
            yield from self.step()

    async def run_async(self):
        """``async for request, piece in batcher.run_async()``: like iterating, with each step in a
        worker thread so the event loop stays free (other tasks may ``submit`` meanwhile)."""
        while not self.idle:
            for event in await asyncio.to_thread(self.step):
                yield event


class GenerationStream:
    """``generate(..., stream=True)``: iterate for text pieces (never a split UTF-8 character,
    never part of a stop string); ``result`` holds the ``Generation`` once the iteration ends.
    ``close()`` (or leaving a ``with`` block) cancels the rest."""

    def __init__(self, batcher: Batcher, request: Request):
        self._batcher, self._request = batcher, request
        self.result: Generation | None = None

    def __iter__(self) -> Iterator[str]:
        while not self._request.done:
            for req, piece in self._batcher.step():
                if req is self._request and piece:
                    yield piece
        self.result = self._request.result

    def close(self) -> None:
        if not self._request.done:
            self._request.cancel()
            for _ in self:
                pass

    def __enter__(self) -> GenerationStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def per_sequence(name: str, value, n: int) -> list:
    """A scalar setting for every sequence, or a list of one per sequence."""
    if isinstance(value, (list, tuple, np.ndarray)):
        if len(value) != n:
            raise ValueError(f"{name}: {len(value)} values for {n} prompts")
        return list(value)
    return [value] * n
