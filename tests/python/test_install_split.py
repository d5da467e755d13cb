"""`make demo` and `pip install .` install the build and run-time requirements only; `make test`
adds the test stack (issue 14, item 1). The lists live in pyproject.toml and scripts/: they agree,
and each make target uses the one it should."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def parse(specs) -> dict[str, str]:
    """'name>=version' strings -> {normalized name: version}."""
    out = {}
    for spec in specs:
        name, low = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", spec.strip()).groups()
        out[name.lower().replace("_", "-")] = low
    return out


def requirements(name: str) -> dict[str, str]:
    """A requirements file of scripts/, with the files it includes (-r)."""
    found, specs = {}, []
    for line in (REPO / "scripts" / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r"):
            found |= requirements(line[2:].strip())
        elif line:
            specs.append(line)
    return found | parse(specs)


def test_demo_requirements_are_the_build_and_the_runtime_only():
    demo = requirements("requirements.txt")
    needed = parse(PYPROJECT["project"]["dependencies"]) | parse(PYPROJECT["build-system"]["requires"])
    assert {name: demo.get(name) for name in needed} == needed
    extra = parse(PYPROJECT["project"]["optional-dependencies"]["test"])
    assert not demo.keys() & (extra.keys() | {"torch", "llama-cpp-python"})


def test_test_requirements_are_the_test_extra():
    demo, test = requirements("requirements.txt"), requirements("requirements-test.txt")
    added = {name: low for name, low in test.items() if name not in demo}
    assert added == parse(PYPROJECT["project"]["optional-dependencies"]["test"])


def dry_run(target: str) -> str:
    out = subprocess.run(["make", "-n", "-C", str(REPO), target, "PYTHON=python3"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_make_demo_installs_and_builds_without_the_test_stack():
    demo = dry_run("demo")
    assert "./scripts/install_deps.sh\n" in demo and "--test" not in demo
    assert "./scripts/build.sh\n" in demo
    test = dry_run("test")
    assert "./scripts/install_deps.sh --test\n" in test and "./scripts/build.sh --tests\n" in test
