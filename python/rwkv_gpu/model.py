"""RWKV-7 models on the GPU."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from . import _core


class State:
    """Recurrent state of one sequence, living on the GPU (see ``Model.new_state``).

    ``Model.run`` advances it in place; ``reset()`` makes it a fresh (all-zero) state again.
    """

    def __init__(self, model: Model, core: _core.State):
        self._model = model
        self._core = core

    @property
    def model(self) -> Model:
        return self._model

    def reset(self) -> None:
        self._core.reset()


class Model:
    """An RWKV-7 model loaded from a GGUF file onto a Vulkan device.

    Example::

        model = rwkv_gpu.Model("model.gguf")
        tok = rwkv_gpu.Tokenizer.from_gguf("model.gguf")
        state = model.new_state()
        logits = model.run(tok.encode("The capital of France is"), state)   # [vocab] float32
        logits = model.run([int(logits.argmax())], state)                   # continues the text

    Args:
        path: a GGUF file with ``general.architecture == "rwkv7"``.
        device: device index or name substring (default: ``$RWKV_GPU_DEVICE``, else the best GPU).
        progress: show a progress bar while weights upload (tqdm).
        chunk_tokens: prompts run as chunks of at most this many tokens.

    Raises:
        GGUFError: for a malformed file or another architecture (the message names it).
        VulkanError: no device, out of device memory, ...
    """

    def __init__(self, path: str | os.PathLike, device: int | str | None = None, *, progress: bool = False,
                 chunk_tokens: int = 256):
        self.path = os.fspath(path)
        callback = None
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=0, unit="B", unit_scale=True, desc="upload")

            def callback(done: int, total: int) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()

        try:
            self._core = _core.Model(self.path, "" if device is None else str(device), callback, chunk_tokens)
        finally:
            if bar is not None:
                bar.close()
        self.info: dict = self._core.info()

    @property
    def vocab_size(self) -> int:
        return self.info["vocab"]

    @property
    def n_embd(self) -> int:
        return self.info["n_embd"]

    def new_state(self) -> State:
        """A fresh (all-zero) state on this model's device."""
        return State(self, self._core.new_state())

    def run(self, tokens: Sequence[int] | np.ndarray, state: State | None = None, logits: str | None = "last"):
        """Runs tokens through the model, advancing ``state`` in place (a fresh one when None).

        Args:
            tokens: token ids (a list or a 1-D integer array), at least one.
            state: the state to continue from and advance.
            logits: ``"last"`` -> float32 ``[vocab]`` for the last token; ``"all"`` ->
                ``[len(tokens), vocab]``; ``None`` -> nothing computed (prefill only).

        Raises:
            ValueError: empty input, token ids out of range, a state of another model.
        """
        ids = np.asarray(tokens)
        if ids.ndim != 1:
            raise ValueError(f"tokens must be a 1-D sequence of ids, got shape {ids.shape}")
        if ids.size == 0:
            raise ValueError("tokens is empty: give at least one token id")
        if not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"token ids must be integers, got {ids.dtype}")
        if ids.min() < 0 or ids.max() >= self.vocab_size:
            bad = int(ids[(ids < 0) | (ids >= self.vocab_size)][0])
            raise ValueError(f"token id {bad} is out of range for a vocabulary of {self.vocab_size}")
        if state is None:
            state = self.new_state()
        elif not isinstance(state, State) or state.model is not self:
            raise ValueError("state belongs to another model (create it with this model's new_state())")
        return self._core.run(ids.astype(np.uint32), state._core, logits)

    def __repr__(self) -> str:
        i = self.info
        return (f"Model({self.path!r}, {i['n_layer']} layers, n_embd {i['n_embd']}, vocab {i['vocab']}, "
                f"on {i['device']!r})")
