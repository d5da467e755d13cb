"""The server's engine: every generation request of every client in ONE continuous batch
(a ``Batcher``), stepped by one worker thread; other GPU work (embeddings) runs on the same thread
between steps, so the GPU sees one stream of work and the event loop never waits for it.

The event loop talks to the worker through a condition variable: ``submit`` queues a request
(the worker hands it to the batcher before its next step), ``Ticket.cancel`` marks one for
cancelling, ``call`` queues a function. Each step's events go back to the loop with
``call_soon_threadsafe`` into the ticket's asyncio queue.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ..generation import Generation, SamplingParams
from .metrics import Metrics


class QueueFull(Exception):
    """More requests than running slots plus the queue: the client should retry later."""


@dataclass
class Event:
    """What one step did for one choice: new text, and when it ended the finish reason and the result."""

    index: int
    text: str
    finish: str | None = None
    result: Generation | None = None


@dataclass
class Ticket:
    """One choice of a request, as the event loop sees it."""

    index: int
    prompt: np.ndarray
    max_tokens: int
    sampling: SamplingParams
    stop: list[str]
    return_logits: bool
    events: asyncio.Queue
    loop: asyncio.AbstractEventLoop
    submitted: float = field(default_factory=time.perf_counter)
    first_token: float | None = None
    _engine: Engine | None = None
    _request = None  # the Batcher's Request, once the worker submitted it

    def cancel(self) -> None:
        """Ends the choice at the worker's next step (a no-op once it is done)."""
        if self._engine is not None:
            self._engine._cancel(self)


class Engine:
    """One Batcher of ``max_batch`` slots for every client; at most ``max_queue`` more requests wait."""

    def __init__(self, model, max_batch: int, max_queue: int, metrics: Metrics):
        self.max_queue, self.metrics = max_queue, metrics
        self._batcher = model.batcher(max_batch)
        self._cond = threading.Condition()
        self._pending: deque[Ticket] = deque()  # submitted by the loop, not yet given to the batcher
        self._cancelling: list[Ticket] = []
        self._calls: deque = deque()  # (function, future, loop)
        self._live: dict[int, Ticket] = {}  # batcher request id -> ticket
        self._active = 0  # tickets not yet finished (pending, waiting or running)
        self._running = 0  # the batcher's running requests after the last step (read on the worker only)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="rwkv-gpu-engine", daemon=True)
        self._thread.start()

    @property
    def max_batch(self) -> int:
        return self._batcher.max_batch

    def submit(self, tickets: list[Ticket]) -> None:
        """Queues a request's choices, all or none (QueueFull when they do not fit)."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the engine is closed")
            if self._active + len(tickets) > self.max_batch + self.max_queue:
                raise QueueFull()
            for t in tickets:
                t._engine = self
                self._pending.append(t)
            self._active += len(tickets)
            self.metrics.queue.set(self._active - self._running)
            self._cond.notify()

    def _cancel(self, ticket: Ticket) -> None:
        with self._cond:
            self._cancelling.append(ticket)
            self._cond.notify()

    async def call(self, fn, *args):
        """``fn(*args)`` on the worker thread, between steps; its result (or exception)."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._cond:
            if self._closed:
                raise RuntimeError("the engine is closed")
            self._calls.append((fn, args, future, loop))
            self._cond.notify()
        return await future

    def close(self) -> None:
        """Stops the worker after its current step; requests still running are dropped."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout=60)

    # ---- the worker thread ------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not (self._closed or self._pending or self._cancelling or self._calls or not self._batcher.idle):
                    self._cond.wait()
                if self._closed:
                    return
                pending, self._pending = list(self._pending), deque()
                cancelling, self._cancelling = self._cancelling, []
                calls, self._calls = list(self._calls), deque()
            for fn, args, future, loop in calls:
                self._call(fn, args, future, loop)
            for t in pending:
                self._start(t)
            for t in cancelling:  # started above at the latest (a ticket is pending before it can be cancelled)
                if t._request is not None and not t._request.done:
                    t._request.cancel()
            if not self._batcher.idle:
                self._step()

    @staticmethod
    def _call(fn, args, future, loop) -> None:
        try:
            result = fn(*args)
        except BaseException as e:  # handed to the awaiting coroutine, which raises it
            loop.call_soon_threadsafe(_settle, future, None, e)
        else:
            loop.call_soon_threadsafe(_settle, future, result, None)

    def _start(self, t: Ticket) -> None:
        try:
            t._request = self._batcher.submit(t.prompt, t.max_tokens, sampling=t.sampling, stop=t.stop,
                                              return_logits=t.return_logits)
        except (ValueError, TypeError) as e:  # the engine's own checks: reported on the ticket's queue
            self._finish(t)
            t.loop.call_soon_threadsafe(t.events.put_nowait, e)
            return
        self._live[t._request.id] = t

    def _step(self) -> None:
        events = self._batcher.step()
        now = time.perf_counter()
        self._running = self._batcher.running
        with self._cond:
            queued = self._active - self._running
        self.metrics.step(len(events), self._running, queued)
        for req, text in events:
            t = self._live.get(req.id)
            if t is None:
                continue
            if t.first_token is None and req.tokens:
                t.first_token = now
                self.metrics.time_to_first_token.observe(now - t.submitted)
            event = Event(t.index, text, req.finish_reason)
            if req.done:
                event.result = req.result
                del self._live[req.id]
                self._finish(t)
                self.metrics.completion_tokens.inc(len(req.tokens))
                self.metrics.finished.labels(req.finish_reason).inc()
            t.loop.call_soon_threadsafe(t.events.put_nowait, event)

    def _finish(self, t: Ticket) -> None:
        with self._cond:
            self._active -= 1


def _settle(future: asyncio.Future, result, error) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
