"""Fuzzing the parsers of untrusted input. With atheris (PyPI; libFuzzer inside): the GGUF reader
and model load (C++, through the bindings), the .pth reader (zip + pickle + storage rebuild), the
.safetensors reader, the World vocab file parser (C++) and State.load files. Natively (libFuzzer
binaries built by clang with coverage, ASan and UBSan: tests/fuzz/native, `make test-fuzz` builds
them into build-fuzz): the C++ GGUF reader with the model's shape checks, the tokenizer from GGUF
metadata and dequantization (gguf-native), and the World vocab parser (vocab-native).

    python tests/fuzz/fuzz_readers.py TARGET [-max_total_time=SECONDS] [libFuzzer flags...]
    python tests/fuzz/fuzz_readers.py all --seconds 15     # every target in turn (what make test runs)

Each target starts from its seed corpus in tests/fuzz/corpus/TARGET (the native targets share
their Python twin's: gguf, vocab; kept in the repository; new inputs found go to a temporary
copy). A crash, a sanitizer report, a hang past -timeout or an exception other than the documented
ones (rwkv_gpu.Error, ValueError, TypeError, OSError; rwkv::Error in C++) fails the run, and its
input is written where libFuzzer says: make it a regression test. RWKV_GPU_FUZZ_BIN names the
folder of the native binaries (default build-fuzz/tests/fuzz/native).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
EXPECTED = None  # set in _setup: the exceptions a parser may raise for bad input


def _setup():
    global EXPECTED
    import rwkv_gpu

    EXPECTED = (rwkv_gpu.Error, ValueError, TypeError, OSError)


def _scratch(suffix: str) -> str:
    # One file per process, in memory where the machine has it.
    base = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
    return os.path.join(base, f"rwkv_gpu_fuzz_{os.getpid()}{suffix}")


def _via_file(data: bytes, suffix: str, read):
    path = _scratch(suffix)
    with open(path, "wb") as f:
        f.write(data)
    try:
        read(path)
    except EXPECTED:
        pass


def fuzz_gguf(data: bytes):
    import rwkv_gpu

    def read(path):
        f = rwkv_gpu.GGUFFile(path)
        for info in f.tensors.values():
            assert info.offset + info.n_bytes <= len(data)
        if f.metadata.get("general.architecture") == "rwkv7":
            rwkv_gpu.Model(path)

    _via_file(data, ".gguf", read)


def fuzz_pth(data: bytes):
    from rwkv_gpu.pth import load_pth

    _via_file(data, ".pth", load_pth)


def fuzz_safetensors(data: bytes):
    from rwkv_gpu.convert import load_checkpoint

    _via_file(data, ".safetensors", load_checkpoint)


def fuzz_vocab(data: bytes):
    import rwkv_gpu

    def read(path):
        tok = rwkv_gpu.Tokenizer.from_vocab_file(path)
        tok.decode(tok.encode("Hello, 世界! 123"))

    _via_file(data, ".txt", read)


_MODEL = None


def fuzz_state(data: bytes):
    import rwkv_gpu

    global _MODEL
    if _MODEL is None:
        _MODEL = rwkv_gpu.Model(rwkv_gpu.default_model_path())
    _via_file(data, ".npz", lambda path: _MODEL.new_state().load(path))


TARGETS = {"gguf": fuzz_gguf, "pth": fuzz_pth, "safetensors": fuzz_safetensors, "vocab": fuzz_vocab, "state": fuzz_state}
# Native target -> (its binary, the seed corpus it shares).
NATIVE = {"gguf-native": ("fuzz_gguf", "gguf"), "vocab-native": ("fuzz_vocab", "vocab")}
NATIVE_BIN = Path(os.environ.get("RWKV_GPU_FUZZ_BIN", HERE.parents[1] / "build-fuzz" / "tests" / "fuzz" / "native"))


def _corpus_copy(target: str, seeds: str) -> Path:
    corpus = Path(tempfile.mkdtemp(prefix=f"fuzz-{target}-")) / "corpus"
    shutil.copytree(CORPUS / seeds, corpus)
    return corpus


def run_native(target: str, flags: list[str]) -> int:
    binary, seeds = NATIVE[target]
    path = NATIVE_BIN / binary
    if not path.is_file():
        print(f"{path} is missing: build it with `make test-fuzz` (clang++ and libFuzzer)", file=sys.stderr)
        return 2
    # The corpus grows under ASan; the default 2 GB RSS limit is what a few large seeds reach.
    return subprocess.run([str(path), "-rss_limit_mb=4096", *flags, str(_corpus_copy(target, seeds))]).returncode


def run_one(target: str, flags: list[str]) -> None:
    import atheris

    import rwkv_gpu  # noqa: F401
    import rwkv_gpu.convert  # noqa: F401
    import rwkv_gpu.pth  # noqa: F401

    # Coverage feedback from every Python function loaded (the package's readers, zipfile, pickle,
    # numpy's npy parser); the C++ reader has none, so its target keeps the seeds unreduced.
    atheris.instrument_all()
    _setup()
    atheris.Setup([sys.argv[0], *flags, str(_corpus_copy(target, target))], TARGETS[target])
    atheris.Fuzz()


def main(argv: list[str]) -> int:
    if len(argv) >= 1 and argv[0] == "all":
        seconds = int(argv[argv.index("--seconds") + 1]) if "--seconds" in argv else 15
        failed = []
        for target in [*TARGETS, *NATIVE]:
            print(f"== fuzz {target}: {seconds} s", flush=True)
            r = subprocess.run([sys.executable, __file__, target, f"-max_total_time={seconds}", "-timeout=10",
                                "-print_final_stats=1", f"-artifact_prefix={tempfile.gettempdir()}/fuzz-{target}-"],
                               capture_output=True, text=True)
            stats = [l for l in r.stderr.splitlines() if l.startswith(("stat::number_of_executed_units", "#"))]
            print("   ", stats[-1] if stats else "(no stats)", flush=True)
            if r.returncode != 0:
                print(r.stderr[-3000:], flush=True)
                failed.append(target)
        print(f"fuzz: {len(TARGETS) + len(NATIVE) - len(failed)} passed, {len(failed)} failed", flush=True)
        return 1 if failed else 0
    if len(argv) >= 1 and argv[0] in NATIVE:
        return run_native(argv[0], argv[1:])
    if len(argv) < 1 or argv[0] not in TARGETS:
        print(__doc__, file=sys.stderr)
        return 2
    run_one(argv[0], argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
