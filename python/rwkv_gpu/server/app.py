"""The OpenAI-compatible HTTP API (FastAPI on uvicorn): ``/v1/models``, ``/v1/completions``,
``/v1/chat/completions`` (streaming as server-sent events), ``/v1/embeddings``, ``/health``,
``/metrics``. Requests are checked and answered by openai_api.py (the code behind
``Model.create_completion`` too) and run on the shared batch of engine.py.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import time
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import openai_api
from ..openai_types import OpenAIError
from .engine import Engine, QueueFull, Ticket
from .metrics import Metrics
from .settings import Settings

# How often a non-streaming request checks whether its client is still there.
DISCONNECT_POLL_S = 0.5


def create_app(model, settings: Settings | None = None) -> FastAPI:
    """The app serving ``model`` (a loaded ``rwkv_gpu.Model``); its engine starts with the app's lifespan."""
    settings = settings or Settings()
    name = settings.served_model_name or model.name
    limits = openai_api.Limits(settings.max_tokens, settings.max_prompt_tokens)
    metrics = Metrics()
    state: dict[str, Engine] = {}

    @asynccontextmanager
    async def lifespan(_app):
        state["engine"] = Engine(model, min(settings.max_batch, model.info["max_batch"]), settings.max_queue, metrics)
        try:
            if settings.warm_up:
                t0 = time.perf_counter()
                await state["engine"].call(warm_up, model, state["engine"].max_batch, settings)
                metrics.warm_up_seconds.set(time.perf_counter() - t0)
            yield
        finally:
            state.pop("engine").close()

    app = FastAPI(title="rwkv_gpu", lifespan=lifespan)

    def error(e: OpenAIError, headers: dict | None = None) -> JSONResponse:
        return JSONResponse(e.to_dict(), status_code=e.status, headers=headers)

    @app.exception_handler(OpenAIError)
    async def _openai_error(_request, e: OpenAIError):
        return error(e)

    @app.exception_handler(QueueFull)
    async def _queue_full(_request, _e):
        return error(OpenAIError(f"the server is busy ({settings.max_batch} running, {settings.max_queue} queued): "
                                 "retry later", status=429, type="rate_limit_error", code="queue_full"),
                     headers={"Retry-After": "1"})

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request, e: StarletteHTTPException):
        return error(OpenAIError(str(e.detail), status=e.status_code, code="not_found" if e.status_code == 404 else None))

    @app.middleware("http")
    async def _count_and_authorize(request: Request, call_next):
        path = request.url.path
        if settings.api_key is not None and path.startswith("/v1/") and not _authorized(request, settings.api_key):
            response = error(OpenAIError("missing or incorrect API key (Authorization: Bearer KEY)", status=401,
                                         code="invalid_api_key"))
        else:
            response = await call_next(request)
        known = any(r.path == path for r in app.routes)
        metrics.requests.labels(path if known else "other", str(response.status_code)).inc()
        return response

    async def body(request: Request) -> dict:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > settings.max_body_bytes:
            raise OpenAIError(f"request body over {settings.max_body_bytes} bytes", status=413, code="body_too_large")
        data = bytearray()
        async for part in request.stream():
            data += part
            if len(data) > settings.max_body_bytes:
                raise OpenAIError(f"request body over {settings.max_body_bytes} bytes", status=413, code="body_too_large")
        try:
            fields = json.loads(data)
        except ValueError as e:
            raise OpenAIError(f"malformed JSON: {e}", code="invalid_json") from None
        if not isinstance(fields, dict):
            raise OpenAIError("the request body must be a JSON object", code="invalid_json")
        requested = fields.get("model")
        if requested is not None and requested != name:
            raise OpenAIError(f"the model {requested!r} does not exist (this server has {name!r})", param="model",
                              status=404, code="model_not_found")
        return fields

    @app.get("/health")
    async def health():
        return {"status": "ok", "model": name}

    @app.get("/metrics")
    async def prometheus():
        return Response(metrics.text(), media_type="text/plain; version=0.0.4")

    def model_card() -> dict:
        return {"id": name, "object": "model", "created": int(time.time()), "owned_by": "rwkv_gpu"}

    @app.get("/v1/models")
    async def models():
        return {"object": "list", "data": [model_card()]}

    @app.get("/v1/models/{model_id}")
    async def model_info(model_id: str):
        if model_id != name:
            raise OpenAIError(f"the model {model_id!r} does not exist", param="model", status=404, code="model_not_found")
        return model_card()

    @app.post("/v1/completions")
    async def completions(request: Request):
        job = openai_api.completion_job(model, await body(request), model_name=name, limits=limits)
        return await run(job, request, "/v1/completions")

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        job = openai_api.chat_job(model, await body(request), model_name=name, template=settings.chat_template,
                                  limits=limits)
        return await run(job, request, "/v1/chat/completions")

    @app.post("/v1/embeddings")
    async def embeddings(request: Request):
        prompts, encoding = openai_api.embedding_job(model, await body(request), limits=limits)
        metrics.prompt_tokens.labels("/v1/embeddings").inc(sum(len(p) for p in prompts))
        embed = functools.partial(model.embed_batch, prompts, pooling=settings.pooling, normalize=settings.normalize)
        vectors = await state["engine"].call(embed)
        return openai_api.embedding_response(vectors, prompts, encoding, name)

    async def run(job: openai_api.Job, request: Request, endpoint: str):
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()
        tickets = [Ticket(i, ids, job.max_tokens, s, job.stop, job.logprobs is not None, events, loop)
                   for i, (ids, s) in enumerate(zip(job.prompts, job.sampling))]
        state["engine"].submit(tickets)  # QueueFull: 429
        metrics.prompt_tokens.labels(endpoint).inc(sum(len(p) for p in job.prompts))
        builder = openai_api.ResponseBuilder(model, job)
        if job.stream:
            return StreamingResponse(_sse(builder, tickets, events), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache"})
        results = [None] * len(tickets)
        try:
            while None in results:
                try:
                    event = await asyncio.wait_for(events.get(), DISCONNECT_POLL_S)
                except asyncio.TimeoutError:
                    if await request.is_disconnected():
                        return Response(status_code=499)  # nobody reads it; the tickets are cancelled below
                    continue
                if isinstance(event, Exception):
                    raise OpenAIError(str(event))
                if event.result is not None:
                    results[event.index] = event.result
            return builder.response(results, await state["engine"].call(openai_api.echo_rows, model, job))
        finally:
            _cancel_unfinished(tickets, results)

    return app


def warm_up(model, max_batch: int, settings: Settings) -> None:
    """Runs once what requests run (Settings.warm_up), on states of its own: prompts of 40 tokens
    for 1, 8 and ``max_batch`` sequences with sampled decode steps, a greedy one, an embedding."""
    ids = [1 + i % (model.vocab_size - 1) for i in range(max_batch)]  # any valid token ids
    for batch in sorted({1, min(8, max_batch), max_batch}):
        model.generate_batch([[t] * 40 for t in ids[:batch]], 2, temperature=1.0, top_p=0.9, seed=0,
                             stop_tokens=[], max_batch=batch)
    model.generate_batch([[ids[0]] * 8], 2, temperature=0.0, stop_tokens=[])
    model.embed_batch([[ids[0]] * 8], pooling=settings.pooling, normalize=settings.normalize)


def serve(model, host: str, port: int, settings: Settings | None, log_level: str) -> None:
    uvicorn.run(create_app(model, settings), host=host, port=port, log_level=log_level)


async def _sse(builder: openai_api.ResponseBuilder, tickets: list[Ticket], events: asyncio.Queue):
    """The response's server-sent events: ``data: {chunk}`` per chunk, ``data: [DONE]`` at the end.
    A client that goes away closes this generator: its choices are cancelled, their slots freed."""
    results = [None] * len(tickets)
    try:
        while None in results:
            event = await events.get()
            if isinstance(event, Exception):
                yield _data(OpenAIError(str(event)).to_dict())
                return
            for chunk in builder.chunks(event.index, event.text, event.finish):
                yield _data(chunk)
            if event.result is not None:
                results[event.index] = event.result
        usage = builder.usage_chunk(results)
        if usage is not None:
            yield _data(usage)
        yield "data: [DONE]\n\n"
    finally:
        _cancel_unfinished(tickets, results)


def _data(obj: dict) -> str:
    return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"


def _cancel_unfinished(tickets: list[Ticket], results: list) -> None:
    for t, r in zip(tickets, results):
        if r is None:
            t.cancel()


def _authorized(request: Request, key: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    # A constant-time comparison: the time taken says nothing about how much of the key matched.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), key.encode())
