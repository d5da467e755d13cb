"""Inputs the fuzz targets (tests/fuzz/fuzz_readers.py) found raising undocumented exceptions or
running past the time limit, kept as regression tests: each is now a typed error naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

import rwkv_gpu
from rwkv_gpu.pth import load_pth

REGRESSIONS = Path(__file__).resolve().parents[1] / "fuzz" / "regressions"


@pytest.mark.parametrize("path", sorted((REGRESSIONS / "pth").iterdir()), ids=lambda p: p.name)
def test_pth(path):
    with pytest.raises(ValueError, match="not a readable PyTorch checkpoint"):
        load_pth(path)


@pytest.mark.parametrize("path", sorted((REGRESSIONS / "state").iterdir()), ids=lambda p: p.name)
def test_state_files(path):
    model = rwkv_gpu.Model(rwkv_gpu.default_model_path())
    with pytest.raises(ValueError, match="not a saved state"):
        model.new_state().load(path)



@pytest.mark.parametrize("path", sorted((REGRESSIONS / "vocab").iterdir()), ids=lambda p: p.name)
def test_vocab_files(path):
    # The native vocab target's finding: an id with bytes after its digits, read as 6888888 (a
    # vocabulary of millions of empty tokens, 12 s under ASan): now refused.
    with pytest.raises(rwkv_gpu.TokenizerError, match="bad ID"):
        rwkv_gpu.Tokenizer.from_vocab_file(path)
