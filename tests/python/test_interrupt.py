"""Ctrl-C during long calls: a SIGINT from a timer thread leaves run / embed_batch / generate within
0.5 s (the engine checks for signals between submissions), and the model and state stay usable
(the state then holds the chunks already run)."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

import rwkv_gpu


@pytest.fixture
def model(tiny_gguf):
    return rwkv_gpu.Model(tiny_gguf, chunk_tokens=32)


def _interrupt_after(seconds: float) -> dict:
    sent = {}

    def fire():
        time.sleep(seconds)
        sent["at"] = time.perf_counter()
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=fire, daemon=True).start()
    return sent


CALLS = {
    "run": lambda m, s: m.run(np.arange(10**6) % 250 + 1, s, logits=None),
    "embed_batch": lambda m, s: m.embed_batch([list(np.arange(5000) % 250 + 1)] * 64, batch_size=8),
    "generate": lambda m, s: m.generate([1, 2, 3], 10**6, temperature=0, stop_tokens=[], state=s),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_ctrl_c_returns_within_half_a_second(model, call):
    state = model.new_state()
    sent = _interrupt_after(1.0)
    with pytest.raises(KeyboardInterrupt):
        CALLS[call](model, state)
    waited = time.perf_counter() - sent["at"]
    assert waited < 0.5, f"{call}: {waited:.3f} s from the signal to the exception"
    assert np.isfinite(model.back_state(state)).all()
    assert model.run([1, 2, 3], state).shape == (256,)  # the model and the state still work
