"""Fixtures of the pytest-benchmark suite: engines loaded once per session and the reference
(rwkv_gpu, precision "exact") every backend's results are checked against. Skips always show their
reason in the summary (``-rs`` is switched on here)."""

from __future__ import annotations

import pytest

from pathlib import Path

from backends import BACKENDS, MODELS, REQUIRES, RwkvGpu, Unsupported, version


def pytest_addoption(parser):
    parser.addoption("--model", action="append", default=[], metavar="PATH",
                     help="also run every workload on this rwkv7 GGUF (repeatable; named by its file name), "
                          "e.g. one written by benchmarks/make_model.py --size 2.9b")


def pytest_configure(config):
    for path in config.getoption("--model"):
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"--model {path}: no such file")
        MODELS[path.stem] = path
    chars = getattr(config.option, "reportchars", "") or ""
    if "s" not in chars and "a" not in chars and "A" not in chars:
        config.option.reportchars = chars + "s"
    # The official package scripts its model with torch.jit, which torch 2.13 deprecates.
    config.addinivalue_line("filterwarnings", "ignore:`torch.jit.script:DeprecationWarning")


def pytest_report_header(config):
    return ("backends: " + ", ".join(f"{name} {version(dist)}" for name, dist in
                                     [("rwkv_gpu", "rwkv_gpu"), ("llama-cpp-python", "llama_cpp_python"),
                                      ("rwkv", "rwkv"), ("torch", "torch")]))


@pytest.fixture(scope="session")
def engine():
    """engine(backend, model) -> the backend's adapter for that model (loaded once), or a skip."""
    loaded: dict = {}

    def get(backend: str, model: str):
        module, hint = REQUIRES[backend]
        pytest.importorskip(module, reason=f"{backend} is not installed ({hint})")
        key = (backend, model)
        if key not in loaded:
            try:
                loaded[key] = BACKENDS[backend](model)
            except Unsupported as e:
                loaded[key] = e
        if isinstance(loaded[key], Unsupported):
            pytest.skip(f"{backend}: {loaded[key]}")
        return loaded[key]

    return get


class Memo:
    """An engine whose results are computed once per input (the reference of every backend's run)."""

    def __init__(self, engine):
        self.engine, self.results = engine, {}

    def __getattr__(self, name):
        method = getattr(self.engine, name)

        def memo(*args):
            key = (name, repr(args))
            if key not in self.results:
                self.results[key] = method(*args)
            return self.results[key]

        return memo


@pytest.fixture(scope="session")
def reference():
    """reference(model) -> rwkv_gpu with precision "exact" on that model (loaded once, memoized)."""
    loaded: dict = {}

    def get(model: str):
        if model not in loaded:
            loaded[model] = Memo(RwkvGpu(model, precision="exact"))
        return loaded[model]

    return get
