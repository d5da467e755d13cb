"""What a plain ``pip install .`` gives (issue 14, items 9 and 10): every third-party package the
code imports is declared in pyproject.toml or guarded as optional, ``rwkv_gpu.testing`` works after
``import rwkv_gpu`` without importing gguf up front, and the version is pyproject's."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from gguf import GGUFReader

import rwkv_gpu

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "python" / "rwkv_gpu"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]

# Imported only inside `try: ... except ImportError`, with a fallback or a clear error.
OPTIONAL = {"safetensors": "convert reads .safetensors without it", "pyarrow": "embed -o x.parquet only",
            "torch": "encode(convert_to_tensor=True) only", "ray": "rwkv_gpu.distributed only (the ray extra)"}
# rwkv_gpu.server's HTTP modules need the server extra; the package's entry points import them
# behind an ImportError that names the extra (server/__init__.py), and nothing else imports them.
SERVER_MODULES = ("app.py", "engine.py", "metrics.py")


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def third_party_imports() -> dict[str, list[tuple[str, bool]]]:
    """Top-level module -> [(file:line, guarded by `except ImportError`)] over the package."""
    found: dict[str, list[tuple[str, bool]]] = {}

    def visit(node, file, guarded):
        if isinstance(node, ast.Try):
            catches = any(h.type is not None and "ImportError" in ast.unparse(h.type) for h in node.handlers)
            for child in node.body:
                visit(child, file, guarded or catches)
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                visit(child, file, guarded)
            return
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top not in sys.stdlib_module_names and top != "rwkv_gpu":
                found.setdefault(top, []).append((f"{file.name}:{node.lineno}", guarded))
        for child in ast.iter_child_nodes(node):
            visit(child, file, guarded)

    for file in sorted(PACKAGE.glob("*.py")) + sorted((PACKAGE / "server").glob("*.py")):
        guarded = file.parent.name == "server" and file.name in SERVER_MODULES
        visit(ast.parse(file.read_text()), file, guarded)
    return found


def names(specs) -> set[str]:
    return {re.match(r"[A-Za-z0-9_.-]+", d).group(0).lower().replace("-", "_") for d in specs}


def test_every_import_is_a_declared_dependency_or_guarded():
    declared = names(PYPROJECT["dependencies"])
    server_extra = names(PYPROJECT["optional-dependencies"]["server"])
    imports = third_party_imports()
    assert "gguf" in imports  # the scan sees function-level imports (convert and testing need gguf)
    assert {"fastapi", "uvicorn", "prometheus_client"} <= imports.keys()  # and the server package
    for module, sites in imports.items():
        if module in declared:
            continue
        if module in server_extra:
            outside = [site for site, guarded in sites if not guarded and site.split(":")[0] not in SERVER_MODULES]
            assert not outside, f"{module} (the server extra) imported outside the server's guarded modules: {outside}"
            continue
        assert module in OPTIONAL, f"{module} is imported ({sites}) but not in pyproject's dependencies"
        unguarded = [site for site, guarded in sites if not guarded]
        assert not unguarded, f"optional {module} imported without an ImportError guard at {unguarded}"


def test_testing_is_an_attribute_and_imports_gguf_only_when_used(tmp_path):
    path = tmp_path / "r.gguf"
    out = python("import sys, rwkv_gpu\n"
                 "assert 'gguf' not in sys.modules and 'rwkv_gpu.testing' not in sys.modules\n"
                 f"rwkv_gpu.testing.random_model({str(path)!r}, n_layer=1, n_embd=64, head_size=32, vocab=300,\n"
                 "                               dtype='f32')\n"
                 "assert 'gguf' in sys.modules\n")
    assert out.returncode == 0, out.stderr
    # Read back with the gguf package's own reader: the file is what was asked for.
    tensors = {t.name: t for t in GGUFReader(path).tensors}
    assert tuple(reversed(tensors["token_embd.weight"].shape.tolist())) == (300, 64)
    assert "blk.0.time_mix_key.weight" in tensors and "blk.1.time_mix_key.weight" not in tensors
    with rwkv_gpu.Model(path) as model:
        assert (model.info["n_layer"], model.n_embd, model.info["n_head"]) == (1, 64, 2)
    assert "testing" in dir(rwkv_gpu)
    with pytest.raises(AttributeError, match="no_such_thing"):
        rwkv_gpu.no_such_thing  # noqa: B018


def test_version_is_pyprojects():
    assert rwkv_gpu.__version__ == PYPROJECT["version"]
    out = subprocess.run([sys.executable, "-m", "rwkv_gpu", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout == f"rwkv-gpu {PYPROJECT['version']}\n"


def test_convert_reads_safetensors_without_the_safetensors_package(tmp_path, tiny_gguf):
    src = tiny_gguf.parent / "tiny-rwkv7-834K.safetensors"
    dst = tmp_path / "t.gguf"
    out = python("import sys\n"
                 "sys.modules['safetensors'] = None  # as if it were not installed\n"
                 "from rwkv_gpu.convert import convert\n"
                 f"convert({str(src)!r}, {str(dst)!r}, 'f32')\n")
    assert out.returncode == 0, out.stderr
    # The same tensors as llama.cpp's conversion of this checkpoint (the shared GGUF).
    mine = {t.name: np.asarray(t.data) for t in GGUFReader(dst).tensors}
    theirs = {t.name: np.asarray(t.data) for t in GGUFReader(tiny_gguf).tensors}
    assert mine.keys() == theirs.keys()
    for name, data in theirs.items():
        np.testing.assert_array_equal(mine[name], data, err_msg=name)

