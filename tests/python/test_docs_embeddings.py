"""docs/embeddings.md's measured pooling example runs as written and prints what the page shows
(issue 14, item 15): the documented numbers are the code's, within rounding."""

import contextlib
import io
import re
from pathlib import Path

import pytest

DOC = (Path(__file__).resolve().parents[2] / "docs" / "embeddings.md").read_text()


def test_pooling_example_prints_the_documented_table():
    code = re.search(r"```python\n(.*?)```", DOC, flags=re.S).group(1)
    documented = re.search(r"```text\n(.*?)```", DOC, flags=re.S).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "docs/embeddings.md", "exec"), {})
    printed = out.getvalue()
    hits = lambda text: re.findall(r"^(\w+)\s+(\d+)/8", text, flags=re.M)  # noqa: E731
    assert hits(printed) == hits(documented)  # top-1 hits per pooling, exactly
    cosines = lambda text: [float(x) for x in re.findall(r"-?\d\.\d\d", text)]  # noqa: E731
    assert cosines(printed) == pytest.approx(cosines(documented), abs=0.011)  # two decimals, one step of rounding
