"""``rwkv-gpu embed -o FILE`` (issue 14, item 7): the file is written exactly as named, in the
format its extension names, with one row per input line (a blank line, which has no tokens, gets a
NaN / null row unless ``--skip-blank``). Each format is read back with its own reader (numpy,
json, pyarrow) and compared with ``Model.embed`` of each line on its own."""

from __future__ import annotations

import json

import numpy as np
import pytest

import rwkv_gpu
from rwkv_gpu.cli import main
from rwkv_gpu.vector_files import write_vectors

LINES = ["In the beginning", "", "God created the heaven", "   ", "and the earth."]
TEXT = "\n".join(LINES) + "\n"
BLANK = [1, 3]  # 0-based positions of the blank lines


@pytest.fixture(scope="module")
def expected(tiny_gguf):
    with rwkv_gpu.Model(tiny_gguf) as model:
        return {i: model.embed(line, normalize=True) for i, line in enumerate(LINES) if i not in BLANK}


def embed(tiny_gguf, tmp_path, name, *extra):
    src = tmp_path / "lines.txt"
    src.write_text(TEXT)
    out = tmp_path / name
    assert main(["embed", "-m", str(tiny_gguf), str(src), "-o", str(out), "--normalize", *extra]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["lines.txt", name])  # exactly the named file
    return out


def check_rows(rows, expected, skip_blank=False):
    kept = [i for i in range(len(LINES)) if i not in BLANK]
    assert len(rows) == (len(kept) if skip_blank else len(LINES))
    for row, i in zip(rows, kept if skip_blank else range(len(LINES))):
        if i in BLANK:
            assert row is None or np.isnan(row).all(), i
        else:
            np.testing.assert_allclose(row, expected[i], atol=1e-5, err_msg=str(i))


def test_txt_is_text_and_npy_is_binary_each_as_named(tiny_gguf, tmp_path, expected, capsys):
    # The case: "-o out.txt" wrote out.txt.npy. A .txt now holds the numbers as text.
    for folder, name, read in (("a", "out.txt", lambda p: np.loadtxt(p, ndmin=2)), ("b", "vectors.npy", np.load)):
        (tmp_path / folder).mkdir()
        check_rows(read(embed(tiny_gguf, tmp_path / folder, name)), expected)
    captured = capsys.readouterr()
    assert "5 x 64" in captured.out and "2 blank lines (2, 4)" in captured.err and "NaN" in captured.err


@pytest.mark.parametrize("name, delimiter", [("v.csv", ","), ("v.tsv", "\t")])
def test_delimited_text(tiny_gguf, tmp_path, expected, name, delimiter):
    out = embed(tiny_gguf, tmp_path, name)
    first = out.read_text().splitlines()[0]
    assert len(first.split(delimiter)) == 64
    check_rows(np.loadtxt(out, delimiter=delimiter, ndmin=2), expected)


def test_npz_keeps_texts_and_line_numbers(tiny_gguf, tmp_path, expected):
    with np.load(embed(tiny_gguf, tmp_path, "v.npz", "--skip-blank")) as f:
        check_rows(f["embeddings"], expected, skip_blank=True)
        assert list(f["texts"]) == [LINES[0], LINES[2], LINES[4]]
        assert list(f["lines"]) == [1, 3, 5]


def test_jsonl_rows_with_null_for_blank_lines(tiny_gguf, tmp_path, expected):
    rows = [json.loads(line) for line in embed(tiny_gguf, tmp_path, "v.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 3, 4, 5] and [r["text"] for r in rows] == LINES
    check_rows([None if r["embedding"] is None else np.array(r["embedding"]) for r in rows], expected)


def test_parquet_when_pyarrow_is_there(tiny_gguf, tmp_path, expected):
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(embed(tiny_gguf, tmp_path, "v.parquet")).to_pylist()
    assert [r["line"] for r in table] == [1, 2, 3, 4, 5] and [r["text"] for r in table] == LINES
    check_rows([None if r["embedding"] is None else np.array(r["embedding"]) for r in table], expected)


def test_parquet_without_pyarrow_fails_before_any_work(tiny_gguf, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(__import__("sys").modules, "pyarrow", None)  # as if it were not installed
    (tmp_path / "lines.txt").write_text(TEXT)
    assert main(["embed", "-m", str(tmp_path / "no-model-needed.gguf"), str(tmp_path / "lines.txt"),
                 "-o", str(tmp_path / "v.parquet")]) == 1
    err = capsys.readouterr().err
    assert "pip install pyarrow" in err and ".jsonl" in err
    assert not (tmp_path / "v.parquet").exists()


def test_unknown_extension_names_the_formats(tmp_path, capsys):
    (tmp_path / "lines.txt").write_text(TEXT)
    assert main(["embed", str(tmp_path / "lines.txt"), "-o", str(tmp_path / "vectors.dat")]) == 1
    err = capsys.readouterr().err
    assert "'.dat'" in err and ".npy" in err and ".parquet" in err and err.count("\n") == 1
    assert not (tmp_path / "vectors.dat").exists()


def test_only_blank_lines_is_an_error(tmp_path, capsys):
    (tmp_path / "blank.txt").write_text("\n  \n")
    assert main(["embed", str(tmp_path / "blank.txt"), "-o", str(tmp_path / "v.npy")]) == 1
    assert "no non-blank lines" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["v.txt", "v.csv", "v.jsonl"])
def test_text_formats_read_back_the_same_float32(tmp_path, name):
    # Awkward values: tiny, huge, negative zero, many digits.
    rng = np.random.default_rng(4)
    vectors = (rng.standard_normal((3, 7)) * np.float32(10.0) ** rng.integers(-30, 30, (3, 7))).astype(np.float32)
    vectors[0, 0] = -0.0
    write_vectors(tmp_path / name, vectors, ["a", "b", "c"], [1, 2, 3])
    path = tmp_path / name
    if name.endswith(".jsonl"):
        back = np.array([json.loads(line)["embedding"] for line in path.read_text().splitlines()])
    else:
        back = np.loadtxt(path, delimiter="," if name.endswith(".csv") else None)
    assert back.astype(np.float32).tobytes() == vectors.tobytes()
