"""The README's Python examples run as written (from the repository root, like a reader would)."""

import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_readme_python_blocks_run(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
    assert len(blocks) >= 2
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        namespace: dict = {}
        for block in blocks:
            # Files the examples write go to a temporary folder.
            exec(compile(block.replace('"s.npz"', repr(str(tmp_path / "s.npz"))), "README.md", "exec"), namespace)
    finally:
        os.chdir(cwd)
