"""Writing embeddings to a file whose extension names its format (``rwkv-gpu embed -o``).

| extension | what it holds |
|---|---|
| ``.npy`` | float32 ``[rows, n_embd]`` (``np.load``) |
| ``.npz`` | ``embeddings`` as above, ``texts`` (str) and ``lines`` (1-based input line numbers) |
| ``.csv`` / ``.tsv`` / ``.txt`` | one row of numbers per vector, split by ``,`` / tab / space (``np.loadtxt``) |
| ``.jsonl`` | one object a row: ``{"line": 1, "text": "...", "embedding": [...]}`` |
| ``.parquet`` | columns ``line``, ``text``, ``embedding`` (list of float32); needs pyarrow |

Numbers in text formats are written with 9 significant digits, which read back as the same
float32. A missing vector (a row whose values are all NaN: a blank input line) is NaN in the
binary and delimited formats and ``null`` in ``.jsonl`` and ``.parquet``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

_DELIMITERS = {".csv": ",", ".tsv": "\t", ".txt": " "}
FORMATS = (".npy", ".npz", *_DELIMITERS, ".jsonl", ".parquet")


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as e:
        raise ValueError("writing .parquet needs pyarrow (pip install pyarrow); "
                         f"{', '.join(f for f in FORMATS if f != '.parquet')} need nothing more") from e
    return pyarrow, pyarrow.parquet


def output_format(path: str | os.PathLike) -> str:
    """The format (a lower-case extension) that ``path`` names; ValueError for any other extension,
    or for .parquet without pyarrow. Call it before the work, so a bad name fails at once."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{os.fspath(path)}: unknown output format {suffix or '(no extension)'!r}; "
                         f"name the file with one of {', '.join(FORMATS)}")
    if suffix == ".parquet":
        _pyarrow()
    return suffix


def _json_number(v: float) -> str:
    if not math.isfinite(v):
        return json.dumps(v)  # NaN / Infinity, which Python's json reads back
    s = f"{v:.9g}"  # 9 significant digits: every float32 reads back exactly
    return s if "." in s or "e" in s else s + ".0"  # "-0" would read back as the integer 0


def write_vectors(path: str | os.PathLike, vectors: np.ndarray, texts: list[str], lines: list[int]) -> None:
    """Writes ``vectors`` (float32 ``[len(texts), n_embd]``) to exactly ``path``, in the format of
    its extension; ``texts[i]`` and ``lines[i]`` (1-based) are where row i came from (the formats
    that hold them keep them)."""
    fmt = output_format(path)
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or not len(vectors) == len(texts) == len(lines):
        raise ValueError(f"{vectors.shape} vectors for {len(texts)} texts and {len(lines)} line numbers")
    missing = np.isnan(vectors).all(axis=1)
    if fmt in (".npy", ".npz"):
        # numpy appends .npy / .npz to a name without it; an open file is written as named.
        with open(path, "wb") as f:
            if fmt == ".npy":
                np.save(f, vectors)
            else:
                np.savez(f, embeddings=vectors, texts=np.array(texts, dtype=str), lines=np.array(lines, np.int64))
    elif fmt in _DELIMITERS:
        np.savetxt(path, vectors, fmt="%.9g", delimiter=_DELIMITERS[fmt])
    elif fmt == ".jsonl":
        with open(path, "w", encoding="utf-8") as f:
            for vec, text, line, gone in zip(vectors, texts, lines, missing):
                embedding = "null" if gone else "[" + ",".join(map(_json_number, vec.tolist())) + "]"
                quoted = json.dumps(text, ensure_ascii=False)
                f.write(f'{{"line": {line}, "text": {quoted}, "embedding": {embedding}}}\n')
    else:
        pa, pq = _pyarrow()
        embedding = pa.array([None if gone else vec for vec, gone in zip(vectors, missing)],
                             type=pa.list_(pa.float32()))
        table = pa.table({"line": pa.array(lines, pa.int64()), "text": pa.array(texts, pa.string()),
                          "embedding": embedding})
        pq.write_table(table, path)
