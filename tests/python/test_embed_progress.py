"""``embed_batch(..., progress=True)`` (issue 14, item 11; issue 11): the bar advances during the
work, after each chunk (submission) of a batch, not only at its end (it showed 0/50 until all 50
texts were done), and the vectors are the same as embedding each text alone."""

from __future__ import annotations

import numpy as np
import pytest

import rwkv_gpu

TEXTS = [f"v{i} {'went ' * (i % 3)}up" for i in range(50)]  # 6 to 18 bytes (tokens) each


class CountingCore:
    """Wraps the engine's model, counting GPU batches (calls of its embed)."""

    calls = 0

    def __init__(self, core):
        self.core = core

    def __getattr__(self, name):
        return getattr(self.core, name)

    def embed(self, *args):
        out = self.core.embed(*args)
        CountingCore.calls += 1
        return out


class RecordingBar:
    """Stands in for tqdm.tqdm; records each update and how many GPU batches had run by then."""

    instances: list[RecordingBar] = []

    def __init__(self, total, **kw):
        self.total, self.updates, self.closed = total, [], False
        RecordingBar.instances.append(self)

    def update(self, n):
        self.updates.append((n, CountingCore.calls))

    def close(self):
        self.closed = True


@pytest.fixture
def model(tiny_gguf, monkeypatch):
    # Chunks of 8 tokens: the 50 texts (about 560 tokens) are many chunks of work.
    m = rwkv_gpu.Model(tiny_gguf, chunk_tokens=8)
    m._open_core = CountingCore(m._open_core)
    CountingCore.calls = 0
    RecordingBar.instances.clear()
    monkeypatch.setattr("tqdm.tqdm", RecordingBar)
    return m


def test_the_bar_moves_after_each_chunk_of_one_batch(model):
    vecs = model.embed_batch(TEXTS, normalize=True, progress=True)
    (bar,) = RecordingBar.instances
    lengths = [len(t.encode()) for t in TEXTS]  # byte-level model: a token per byte
    assert bar.total == sum(lengths) and bar.closed
    assert sum(n for n, _ in bar.updates) == sum(lengths)
    # One batch (one engine call), reported chunk by chunk while it runs: 8 tokens per chunk.
    assert CountingCore.calls == 1
    assert len(bar.updates) == -(-sum(lengths) // 8)
    assert all(0 < n <= 8 for n, _ in bar.updates)
    assert all(calls_before == 0 for _, calls_before in bar.updates)  # during the call, not after
    # The same vectors as each text alone (one sequence, no batch), normalized independently.
    alone = np.stack([model.embed(t) for t in TEXTS])
    alone /= np.linalg.norm(alone, axis=1, keepdims=True)
    np.testing.assert_allclose(vecs, alone, atol=1e-5)


def test_without_progress_one_batch_and_no_bar(model):
    model.embed_batch(TEXTS)
    assert CountingCore.calls == 1 and RecordingBar.instances == []


def test_batch_states_are_kept_by_power_of_two_capacity(model):
    for n in (3, 5, 7):  # many batch sizes, few states on the GPU
        model.embed_batch(TEXTS[:n], batch_size=64)
    model.embed_batch(TEXTS, progress=True)
    assert set(model._batch_states) <= {1, 2, 4, 8, 16, 32, 64}
