"""Fixtures of the pytest-benchmark suite: engines loaded once per session and the reference
(rwkv_gpu, precision "exact") every backend's results are checked against. Skips always show their
reason in the summary (``-rs`` is switched on here); a ``--benchmark-json`` file also lists them
(``skipped``) and the failed checks (``failed``), with the backends' versions and the GPU in
``machine_info`` (benchmarks/bench_report.py shows all three)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from backends import BACKENDS, MODELS, REQUIRES, RwkvGpu, Unsupported, gpu_name, skipped_by_env, version

# Where --random-model writes its files (once; an existing file of the same name is used as it is).
MODEL_DIR = Path(os.environ.get("BENCH_MODEL_DIR") or Path(tempfile.gettempdir()) / "rwkv_gpu_bench")
OUTCOMES: dict[str, list] = {"skipped": [], "failed": []}


def pytest_addoption(parser):
    parser.addoption("--model", action="append", default=[], metavar="PATH",
                     help="also run every workload on this rwkv7 GGUF (repeatable; named by its file name)")
    parser.addoption("--random-model", action="append", default=[], metavar="SIZE[-DTYPE]",
                     help="also run every workload on a random-weight model at a real shape, e.g. 0.1b or "
                          "2.9b-q8_0 (default type f16; benchmarks/make_model.py's writer; named random-SIZE-DTYPE, "
                          "written once into $BENCH_MODEL_DIR, default the temporary directory)")


def random_model_file(spec: str) -> Path:
    """The file of a --random-model SIZE[-DTYPE], written first if it is not there yet."""
    from rwkv_gpu.testing import random_model

    size, _, dtype = spec.partition("-")
    path = MODEL_DIR / f"random-{size}-{dtype or 'f16'}.gguf"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.part")
        random_model(partial, size=size, dtype=dtype or "f16", fast=True)
        partial.replace(path)  # whole or not at all, also beside another run
    return path


def pytest_configure(config):
    paths = [Path(p) for p in config.getoption("--model")]
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"--model {path}: no such file")
    for path in paths + [random_model_file(spec) for spec in config.getoption("--random-model")]:
        MODELS[path.stem] = path
    chars = getattr(config.option, "reportchars", "") or ""
    if "s" not in chars and "a" not in chars and "A" not in chars:
        config.option.reportchars = chars + "s"
    # The official package scripts its model with torch.jit, which torch 2.13 deprecates.
    config.addinivalue_line("filterwarnings", "ignore:`torch.jit.script:DeprecationWarning")


VERSIONS = [("rwkv_gpu", "rwkv_gpu"), ("llama-cpp-python", "llama_cpp_python"), ("rwkv", "rwkv"),
            ("flash-linear-attention", "flash-linear-attention"), ("fla-core", "fla-core"), ("torch", "torch"),
            ("triton", "triton")]


def pytest_report_header(config):
    return "backends: " + ", ".join(f"{name} {version(dist)}" for name, dist in VERSIONS)


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["versions"] = {name: version(dist) for name, dist in VERSIONS}
    machine_info["gpu"] = gpu_name()
    machine_info["models"] = {name: str(path) for name, path in MODELS.items()}


def pytest_runtest_setup(item):
    """BENCH_DEADLINE (a Unix time): tests not started by then are skipped, so a run inside a time
    limit (a device call) still ends normally and writes its JSON (an interrupted one writes none)."""
    deadline = os.environ.get("BENCH_DEADLINE")
    if deadline and time.time() > float(deadline):
        pytest.skip("past BENCH_DEADLINE (the time given to this run)")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report):
    """Keeps each skip's reason and each failure's message for the JSON (a skip is reported in setup
    or in the call; a failure in the call, after the timing: its times are in the JSON too)."""
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        OUTCOMES["skipped"].append({"test": report.nodeid, "reason": reason.removeprefix("Skipped: ")})
    elif report.failed:
        OUTCOMES["failed"].append({"test": report.nodeid, "when": report.when,
                                   "message": str(report.longrepr).strip().splitlines()[-1][:500]})


def pytest_benchmark_update_json(config, benchmarks, output_json):
    output_json.update(OUTCOMES)


@pytest.fixture(scope="session")
def engine():
    """engine(backend, model) -> the backend's adapter for that model (loaded once), or a skip."""
    loaded: dict = {}

    def get(backend: str, model: str):
        module, hint = REQUIRES[backend]
        if reason := skipped_by_env(backend):
            pytest.skip(f"{backend}: {reason}")
        pytest.importorskip(module, reason=f"{backend} is not installed ({hint})")
        if not Path(MODELS[model]).is_file():
            pytest.skip(f"no file for the {model} model: {MODELS[model]}")
        key = (backend, model)
        if key not in loaded:
            try:
                loaded[key] = BACKENDS[backend](model)
            except Exception as e:  # kept: the next test of this pair reports it again without reloading
                loaded[key] = e
        if isinstance(loaded[key], Unsupported):
            pytest.skip(f"{backend}: {loaded[key]}")
        if isinstance(loaded[key], Exception):
            pytest.fail(f"{backend} did not load the {model} model: {loaded[key]!r}", pytrace=False)
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
