"""The engines the pytest-benchmark suite (benchmarks/test_backends_bench.py) compares, behind one
small interface. Each adapter loads one model file; a workload an engine cannot run raises
``Unsupported`` with the reason (the suite turns it into a skip that shows the reason).

- ``rwkv_gpu``: this package on the device ``$RWKV_GPU_DEVICE`` picks (else the best GPU), default
  precision ("fast" where the device has tensor cores, else "exact").
- ``llama-cpp-python``: the same GGUF file through llama.cpp (the CPU build in CI; all layers
  offloaded when the build has a GPU backend). Embeddings: LAST pooling, like ``pooling="last"``.
- ``rwkv``: the official package (PyPI ``rwkv``, RWKV-7 mode, strategy "cpu fp32") on the
  training script's .pth of the model where one exists; it returns logits only.
- ``flash-linear-attention``: fla's ``RWKV7Model`` on CUDA with the GGUF's weights (fla_backend.py).

``BENCH_SKIP="backend=reason;..."`` (reasons without ";") skips a backend with that reason (the
device script sets it when a backend's build, load probe or warm-up failed, so the rest goes on).
"""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

import numpy as np

import rwkv_gpu
from rwkv_gpu import workloads

REPO = Path(__file__).resolve().parents[1]
SHARED_MODELS = Path(os.environ.get("RWKV_SHARED_MODELS", REPO.parent / "shared" / "models"))
# The models every CI machine has: name -> GGUF file.
MODELS = {
    "default": rwkv_gpu.default_model_path(),
    "tiny": SHARED_MODELS / "tiny-rwkv7-834K-F32.gguf",
}
# The .pth each GGUF was converted from, where we have it (the official package needs torch weights).
PTH = {"default": REPO / "tests" / "data" / "rwkv7-kjv-4x192.pth"}
# CPU threads of llama.cpp and torch (default: all cores). BENCH_THREADS=1 where other work shares the
# cores: their threads spin at barriers, and a preempted one stalls every step (100x slower here).
THREADS = int(os.environ.get("BENCH_THREADS") or os.cpu_count() or 1)


# Why fla is skipped on tokenization (fla_backend.Fla and the World tokenizer test say it).
FLA_NO_TOKENIZER = "fla has no tokenizer of its own (the suite gives it rwkv_gpu's token ids)"
# The sampled-generation workload's settings, the same for every backend.
SAMPLING = {"temperature": 0.8, "top_p": 0.85}


class Unsupported(Exception):
    """This backend cannot run this workload on this model (the message says why)."""


def version(dist: str) -> str:
    """The installed version of a distribution (or of the package of that import name)."""
    dist = {"llama_cpp": "llama_cpp_python", "rwkv_gpu": "rwkv_gpu", "fla": "flash-linear-attention"}.get(dist, dist)
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def skipped_by_env(backend: str) -> str | None:
    """The reason BENCH_SKIP gives for skipping this backend, if any."""
    for item in filter(None, os.environ.get("BENCH_SKIP", "").split(";")):
        name, _, reason = item.partition("=")
        if name.strip() == backend:
            return reason.strip() or "skipped by BENCH_SKIP"
    return None


def weight_type(path) -> str:
    """The GGUF type of the model's big matrices (a layer's key projection), e.g. "F16"."""
    return rwkv_gpu.GGUFFile(path).tensors["blk.0.time_mix_key.weight"].type


def normalized(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / max(float(np.linalg.norm(v)), 1e-12)


class RwkvGpu:
    name = "rwkv_gpu"

    def __init__(self, model: str, precision: str | None = None):
        self.model = rwkv_gpu.Model(MODELS[model], precision=precision)
        self.info = {"backend": self.name, "version": rwkv_gpu.__version__, "device": self.model.info["device"],
                     "precision": self.model.info["precision"]}
        # Relative tolerance against rwkv_gpu "exact" (docs/precision.md: "fast" is within 2e-3).
        self.tolerance = 2e-3 if self.model.info["precision"] == "fast" else 1e-5

    def tokenize(self, text: str) -> list[int]:
        return self.model.tokenizer.encode(text)

    def prefill(self, tokens) -> np.ndarray:
        return self.model.run(tokens)

    def greedy(self, tokens, n: int) -> list[int]:
        return list(self.model.generate(tokens, max_tokens=n, temperature=0, stop_tokens=[]).tokens)

    def sample(self, tokens, n: int) -> list[int]:
        return list(self.model.generate(tokens, max_tokens=n, seed=1, stop_tokens=[], **SAMPLING).tokens)

    def all_logits(self, tokens) -> np.ndarray:
        return self.model.run(tokens, logits="all")

    def doc_state(self, text: str) -> np.ndarray:
        return workloads.doc_state(self.model, text).vector

    def field_analysis(self, text: str, fields: dict[str, str]) -> dict[str, float]:
        return dict(workloads.field_analysis(self.model, text, fields).ranking)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        return self.model.embed_batch(texts, normalize=True)


class LlamaCpp:
    name = "llama-cpp-python"

    def __init__(self, model: str):
        import llama_cpp

        self.llama_cpp = llama_cpp
        path = str(MODELS[model])
        common = dict(n_ctx=4096, n_batch=2048, n_ubatch=2048, n_gpu_layers=-1, n_threads=THREADS,
                      n_threads_batch=THREADS, verbose=bool(os.environ.get("LLAMA_VERBOSE")))
        self.llm = llama_cpp.Llama(model_path=path, **common)
        self.emb = llama_cpp.Llama(model_path=path, embedding=True, pooling_type=llama_cpp.LLAMA_POOLING_TYPE_LAST,
                                   **common)
        gpu = llama_cpp.llama_supports_gpu_offload()
        self.info = {"backend": self.name, "version": llama_cpp.__version__,
                     "device": f"GPU offload (all layers): {gpu_name()}" if gpu else f"CPU, threads={THREADS}"}
        # llama.cpp's CPU products round activations to the weight's dot type (F16 for F16 weights):
        # tests/python/test_llama_cpp_parity.py measures < 1e-5 on F32 files and < 5e-3 on F16. Its
        # CUDA build runs the products in fp16 through the 32 layers: 1.1e-2 of the logit scale on the
        # 2.9B random F16 file (H200, 2026-11-30, results/2026-11-30-h200-backends-call3).
        self.tolerance = 2e-2 if gpu else 1e-4 if weight_type(path) == "F32" else 5e-3

    def tokenize(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode(), add_bos=False, special=False)

    def _last_logits(self) -> np.ndarray:
        ptr = self.llama_cpp.llama_get_logits_ith(self.llm.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(self.llm.n_vocab(),)).copy()

    def prefill(self, tokens) -> np.ndarray:
        self.llm.reset()
        self.llm.eval([int(t) for t in tokens])
        return self._last_logits()

    def greedy(self, tokens, n: int) -> list[int]:
        self.llm.reset()
        self.llm.eval([int(t) for t in tokens])
        out = []
        for _ in range(n):
            out.append(int(np.argmax(self._last_logits())))
            self.llm.eval([out[-1]])
        return out

    def sample(self, tokens, n: int) -> list[int]:
        self.llm.reset()
        self.llm.set_seed(1)
        # top_k 0 and min_p 0: top-p alone, as the others sample.
        draws = self.llm.generate([int(t) for t in tokens], top_k=0, top_p=SAMPLING["top_p"], min_p=0.0,
                                  temp=SAMPLING["temperature"], repeat_penalty=1.0)
        return [next(draws) for _ in range(n)]

    def _embed(self, text: str) -> np.ndarray:
        return normalized(self.emb.embed(text, normalize=False))

    def doc_state(self, text: str) -> np.ndarray:
        return self._embed(text)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._embed(t) for t in texts])  # one sequence at a time: its RWKV kernels are per sequence

    def field_analysis(self, text: str, fields: dict[str, str]) -> dict[str, float]:
        doc = self._embed(text)
        vecs = np.stack([self._embed(f"{name}: {desc}") for name, desc in fields.items()])
        scores = vecs @ doc
        order = np.argsort(-scores, kind="stable")
        names = list(fields)
        return {names[i]: float(scores[i]) for i in order}


class Official:
    name = "rwkv"

    def __init__(self, model: str):
        if model not in PTH:
            raise Unsupported(f"no .pth (torch weights) for the {model} model: the official package cannot read GGUF")
        os.environ.setdefault("RWKV_V7_ON", "1")  # read when rwkv.model is first imported
        os.environ.setdefault("RWKV_JIT_ON", "1")
        os.environ.setdefault("RWKV_CUDA_ON", "0")
        import torch
        from rwkv.model import RWKV

        self.torch = torch
        torch.set_num_threads(THREADS)
        self.model = RWKV(model=str(PTH[model].with_suffix("")), strategy="cpu fp32")
        self.info = {"backend": self.name, "version": version("rwkv"), "torch": torch.__version__,
                     "device": f"CPU fp32, threads={torch.get_num_threads()}"}
        self.tolerance = 1e-4  # tests/python/test_official_rwkv.py

    def tokenize(self, text: str) -> list[int]:
        raise Unsupported("the official package has no tokenizer for a 256-token byte vocabulary")

    def prefill(self, tokens) -> np.ndarray:
        with self.torch.no_grad():
            logits, _ = self.model.forward([int(t) for t in tokens], None)
        return logits.float().numpy()

    def greedy(self, tokens, n: int) -> list[int]:
        out = []
        with self.torch.no_grad():
            logits, state = self.model.forward([int(t) for t in tokens], None)
            for _ in range(n):
                out.append(int(logits.argmax()))
                logits, state = self.model.forward([out[-1]], state)
        return out

    def sample(self, tokens, n: int) -> list[int]:
        from rwkv.utils import PIPELINE

        self.torch.manual_seed(1)
        np.random.seed(1)
        pipeline = PIPELINE(self.model, "rwkv_vocab_v20230424")  # its sampler (the vocabulary is not used)
        out = []
        with self.torch.no_grad():
            logits, state = self.model.forward([int(t) for t in tokens], None)
            for _ in range(n):
                out.append(int(pipeline.sample_logits(logits, **SAMPLING)))
                logits, state = self.model.forward([out[-1]], state)
        return out

    def doc_state(self, text: str) -> np.ndarray:
        raise Unsupported("the official package returns logits only (no ln_out vector to embed with)")

    def field_analysis(self, text: str, fields: dict[str, str]) -> dict[str, float]:
        self.doc_state(text)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        self.doc_state(texts[0])


def gpu_name() -> str:
    """The NVIDIA GPU and driver (nvidia-smi), or "" where there is none."""
    import subprocess

    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return ", driver ".join(out.splitlines()[0].split(", ")) if out else ""


def fla(model: str):
    from fla_backend import Fla  # imported on use: it imports this module

    return Fla(MODELS[model])


def world_gguf() -> Path:
    """A small random-weight GGUF with the World vocabulary (rwkv_gpu.testing.random_model: the
    token list, types and tokenizer model as llama.cpp's converter writes them), written once into
    the temporary directory: what llama-cpp-python needs for its World tokenizer."""
    import tempfile

    from rwkv_gpu.testing import random_model

    path = Path(tempfile.gettempdir()) / "rwkv_gpu_bench" / "world-1x64-f16.gguf"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.part")
        random_model(partial, n_layer=1, n_embd=64, head_size=64, vocab=65536, dtype="f16", seed=0)
        partial.replace(path)  # whole or not at all, also beside another run
    return path


def world_tokenizer(backend: str):
    """The encode function of a backend's World tokenizer (65 536 tokens, rwkv_vocab_v20230424)."""
    if backend == "rwkv_gpu":
        return rwkv_gpu.Tokenizer.world().encode
    if backend == "llama-cpp-python":
        import llama_cpp

        llm = llama_cpp.Llama(model_path=str(world_gguf()), vocab_only=True, verbose=False)
        return lambda text: llm.tokenize(text.encode(), add_bos=False, special=False)
    if backend == "rwkv":
        import rwkv
        from rwkv.rwkv_tokenizer import TRIE_TOKENIZER

        return TRIE_TOKENIZER(os.path.join(os.path.dirname(rwkv.__file__), "rwkv_vocab_v20230424.txt")).encode
    if backend == "flash-linear-attention":
        raise Unsupported(FLA_NO_TOKENIZER)
    raise Unsupported(f"unknown backend {backend!r}")


BACKENDS = {"rwkv_gpu": RwkvGpu, "llama-cpp-python": LlamaCpp, "rwkv": Official, "flash-linear-attention": fla}
# What each needs importable; a missing one skips that backend with the install hint.
REQUIRES = {"rwkv_gpu": ("rwkv_gpu", "make build-package"),
            "llama-cpp-python": ("llama_cpp", "make deps-test, or pip install llama-cpp-python"),
            "rwkv": ("rwkv", "pip install rwkv torch"),
            "flash-linear-attention": ("fla", "pip install flash-linear-attention; it needs CUDA, torch and triton")}
