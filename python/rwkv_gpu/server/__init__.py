"""``rwkv-gpu serve``: an OpenAI-compatible HTTP server (``pip install rwkv_gpu[server]``).

Example::

    rwkv-gpu serve -m model.gguf --port 8000
    curl http://127.0.0.1:8000/v1/completions -H 'Content-Type: application/json' \\
        -d '{"prompt": "The sky is", "max_tokens": 16}'

From Python, ``create_app(model, Settings(...))`` gives the ASGI app (FastAPI) to run under any
ASGI server; ``serve`` runs it under uvicorn. docs/server.md describes the endpoints.
"""

from __future__ import annotations

from .settings import Settings


def _app_module():
    try:
        from . import app
    except ImportError as e:  # FastAPI, uvicorn or prometheus_client missing
        raise ImportError(f"rwkv_gpu.server needs the server extra: pip install 'rwkv_gpu[server]' ({e})") from None
    return app


def create_app(model, settings: Settings | None = None):
    """The FastAPI app serving ``model`` (a loaded ``rwkv_gpu.Model``); its engine thread starts and
    stops with the app's lifespan."""
    return _app_module().create_app(model, settings)


def serve(model, host: str = "127.0.0.1", port: int = 8000, settings: Settings | None = None,
          log_level: str = "info") -> None:
    """Serves ``model`` under uvicorn until interrupted."""
    _app_module().serve(model, host, port, settings, log_level)


__all__ = ["Settings", "create_app", "serve"]
