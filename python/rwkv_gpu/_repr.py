"""Pieces of short reprs: arrays as their dtype and shape, long lists and texts cut, byte sizes in
KiB / MiB, numbers to 3 digits (a repr is read in a terminal; the full values are a field away)."""

from __future__ import annotations

import numpy as np


def array(a) -> str:
    """``float32[3, 192]`` (or ``None``) instead of the values."""
    if a is None:
        return "None"
    a = np.asarray(a)
    return f"{a.dtype}[{', '.join(map(str, a.shape))}]"


def items(values: list, limit: int = 5) -> str:
    """The first ``limit`` reprs of a list, then how many there are in all."""
    head = ", ".join(map(repr, values[:limit]))
    return f"[{head}, ... ({len(values)} in all)]" if len(values) > limit else f"[{head}]"


def text(s: str, limit: int = 60) -> str:
    """A string's repr, cut in the middle of long ones, with its length."""
    if len(s) <= limit:
        return repr(s)
    return f"{s[:limit - 20]!r}...{s[-15:]!r} ({len(s)} chars)"


def numbers(d: dict[str, float]) -> str:
    """A dict of floats (timings in seconds, rates) to 3 significant digits."""
    return "{" + ", ".join(f"{k}: {v:.3g}" for k, v in d.items()) + "}"


def size(n: int) -> str:
    units, i, value = ("B", "KiB", "MiB", "GiB"), 0, float(n)
    while value >= 1024 and i < len(units) - 1:
        value, i = value / 1024, i + 1
    return f"{n} B" if i == 0 else f"{value:.1f} {units[i]}"
