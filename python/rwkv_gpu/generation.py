"""Text generation: sampling on the GPU, streaming, stop strings, and continuous batching.

Each step runs one token of every running sequence (the recurrent state carries the history, so
a token costs the same at position 10 and 10,000); the sampler runs on the GPU and only the drawn
token ids come back. ``Model.generate`` / ``generate_batch`` / ``batcher`` are the entry points.
"""

from __future__ import annotations

import asyncio
import copy
import numbers
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import _core, _repr


# The engine's definitions (runtime/scheduler.hpp, runtime/sampler.hpp): Python only re-exports them.
FINISH_REASONS = _core.FINISH_REASONS  # "stop", "length", "cancelled"
DEFAULT_MAX_TOKENS = _core.DEFAULT_MAX_TOKENS  # of generate, generate_batch, Batcher.submit and the command line
SamplingParams = _core.SamplingParams
SAMPLING_FIELDS = tuple(k for k, v in vars(SamplingParams).items() if isinstance(v, property))


@dataclass(repr=False)
class Generation:
    """What ``generate`` returns.

    Attributes:
        text: the generated text, cut before the first stop string (if one was hit).
        tokens: every generated token id (including those of a stop string or a stop token).
        finish_reason: ``"stop"`` (a stop string, or a stop token: by default token 0, the end of a
            document), ``"length"`` (max_tokens) or ``"cancelled"``; OpenAI's names.
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


def sampling_params(sampling: SamplingParams | None, overrides: dict) -> SamplingParams:
    """``sampling`` (or the defaults) with the keyword arguments ``overrides`` set: any field of
    ``SamplingParams``. TypeError for another name or a value of the wrong type, ValueError for a
    number out of a field's range (the engine checks the rest at submission)."""
    params = copy.copy(sampling) if sampling is not None else SamplingParams()
    for name, value in overrides.items():
        if name not in SAMPLING_FIELDS:
            raise TypeError(f"unexpected keyword argument {name!r} (sampling settings: {', '.join(SAMPLING_FIELDS)})")
        try:
            setattr(params, name, value)
        except TypeError:
            if isinstance(value, numbers.Real) and not isinstance(value, bool):
                raise ValueError(f"{name}={value!r} is out of range") from None
            raise TypeError(f"{name} must be a number, not {value!r}") from None
    return params


class Request:
    """One sequence in a ``Batcher``: its tokens and text so far, and the result when done."""

    def __init__(self, batcher: Batcher, core_id: int, prompt_tokens: int, return_logits: bool):
        self._batcher = batcher
        self.id = core_id
        self.prompt_tokens = prompt_tokens
        self.tokens: list[int] = []
        self.text = ""
        self._logits: list[np.ndarray] | None = [] if return_logits else None
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

    def cancel(self) -> None:
        """Ends the request at the next step (finish_reason "cancelled")."""
        self._batcher._cancel(self)

    def _on_event(self, token: int, text: str, finish: str | None, logits) -> None:
        # The engine's event: the token, the text it adds (decoded, stop strings held back and
        # cut), the finish reason.
        if token >= 0:
            if self._t_first is None:
                self._t_first = time.perf_counter()
            self.tokens.append(token)
            if self._logits is not None and logits is not None:
                self._logits.append(logits)
        self.text += text
        if finish is not None:
            self._t_done = time.perf_counter()
            self.finish_reason = finish

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
        if int(max_batch) != max_batch or not 1 <= max_batch <= 0xFFFFFFFF:  # the engine checks its own bound
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

    @property
    def running(self) -> int:
        """Requests holding a slot (their prompt or their generation advancing each step)."""
        return self._core.running

    @property
    def waiting(self) -> int:
        """Requests queued for a free slot."""
        return self._core.waiting

    def submit(self, prompt: str | bytes | Sequence[int], max_tokens: int = DEFAULT_MAX_TOKENS, *,
               sampling: SamplingParams | None = None, stop: str | Sequence[str] | None = None,
               stop_tokens: Sequence[int] | None = None, state=None, return_logits: bool = False,
               **sampling_fields) -> Request:
        """Queues a request; see ``Model.generate`` for the arguments. Returns its ``Request``."""
        params = sampling_params(sampling, sampling_fields)
        if int(max_tokens) != max_tokens or not 0 <= max_tokens < 2**32:
            raise ValueError(f"max_tokens must be an integer in [0, 2**32), not {max_tokens}")
        stop = [stop] if isinstance(stop, str) else list(stop or [])
        if not all(isinstance(s, str) for s in stop):
            raise TypeError(f"stop must be a str or a list of str, not {stop!r}")
        stop_tokens = None if stop_tokens is None else [int(t) for t in stop_tokens]
        ids = self.model._tokens(prompt)
        core_state = None if state is None else self.model._check_state(state)._core
        with self._lock:
            core_id = self._core.submit(ids.tolist(), params, int(max_tokens), stop, stop_tokens, core_state, return_logits)
            req = Request(self, core_id, len(ids), return_logits)
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
        for core_id, token, text, finish, logits in events:
            req = self._requests[core_id]
            req._on_event(token, text, finish, logits)
            out.append((req, text))
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
