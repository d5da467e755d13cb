"""RWKV-7 models on the GPU: running tokens, embeddings, and recurrent states."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence

import numpy as np

from . import _core
from .compat import CompatMixin
from .generation import DEFAULT_MAX_TOKENS, Batcher, Generation, GenerationStream, SamplingParams, per_sequence
from .tokenizer import Tokenizer

POOLINGS = _core.POOLINGS  # "last", "mean", "state": the engine's names


class State:
    """Recurrent state of one sequence, living on the GPU (see ``Model.new_state``).

    ``Model.run`` advances it in place. Layout (``Model.back_state``): per layer, ``att_shift [C]``,
    ``wkv [H, N, N]`` (value-major: head, value row i, key column j), ``ffn_shift [C]``, float32.
    """

    def __init__(self, model: Model, core: _core.State):
        self._model = model
        self._core = core

    @property
    def model(self) -> Model:
        return self._model

    def __repr__(self) -> str:
        i = self._model.info
        return (f"State({os.path.basename(self._model.path)!r}, {i['state_floats']:,d} float32: "
                f"{i['n_layer']} layers of att_shift [{i['n_embd']}], wkv [{i['n_head']}, {i['head_size']}, {i['head_size']}], "
                f"ffn_shift [{i['n_embd']}])")

    def reset(self) -> None:
        """Makes this a fresh (all-zero) state."""
        self._core.reset()

    def clone(self) -> State:
        """An independent copy (a GPU copy; nothing goes through the host)."""
        return State(self._model, self._core.clone())

    def save(self, path: str | os.PathLike) -> None:
        """Writes the state to a ``.npz`` file with the model's fingerprint."""
        np.savez(path, state=self._model.back_state(self).copy(), fingerprint=np.uint64(self._model.info["fingerprint"]),
                 layout=np.array([self._model.info["n_layer"], self._model.n_embd, self._model.info["n_head"],
                                  self._model.info["head_size"]], dtype=np.int64))

    def load(self, path: str | os.PathLike) -> None:
        """Loads a state written by ``save``; ValueError if it was saved from another model or is not
        such a file."""
        try:
            with np.load(path, allow_pickle=False) as f:
                fingerprint, values = f["fingerprint"], f["state"]
                if fingerprint.shape != () or int(fingerprint) != self._model.info["fingerprint"]:
                    raise ValueError(f"{path}: the state was saved from another model (fingerprint mismatch)")
                values = np.asarray(values)
        except (ValueError, OSError):
            raise
        except Exception as e:  # np.load's header parser raises many kinds (EOFError, TokenError, ...)
            raise ValueError(f"{path}: not a saved state ({type(e).__name__}: {e})") from e
        self._model.load_state(self, values)


class Model(CompatMixin):
    """An RWKV-7 model loaded from a GGUF file onto a Vulkan device.

    Example::

        model = rwkv_gpu.Model("model.gguf")
        state = model.new_state()
        logits = model.run(model.tokenizer.encode("The capital of France is"), state)  # [vocab]
        logits = model.run([int(logits.argmax())], state)                              # continues
        vec = model.embed("a document to embed", pooling="last", normalize=True)       # [n_embd]

    Args:
        path: a GGUF file with ``general.architecture == "rwkv7"``.
        device: device index or name substring (default: ``$RWKV_GPU_DEVICE``, else the best GPU).
        progress: show a progress bar while weights upload (tqdm).
        chunk_tokens: prompts run as chunks of at most this many tokens (over all sequences of a
            batch), one GPU submission each. Default: the engine's choice for the device (256 on
            CPU devices; on GPUs up to 4096, as the model's scratch fits an eighth of the device's
            memory). ``info["chunk_tokens"]`` says which is in effect.
        precision: ``"fast"`` (the default) runs the matrix products of prompts and batches on the
            tensor cores (fp16 operands, fp32 sums) where the device has them; ``"exact"`` keeps
            every product in fp32. Devices without tensor cores always run exact.
            ``info["precision"]`` says which is in effect; docs/precision.md gives the measured
            error of each.

    Raises:
        GGUFError: for a malformed file or another architecture (the message names it).
        VulkanError: no device, out of device memory, ...
    """

    def __init__(self, path: str | os.PathLike, device: int | str | None = None, *, progress: bool = False,
                 chunk_tokens: int | None = None, precision: str | None = None):
        self.path = os.fspath(path)
        if chunk_tokens is not None and (isinstance(chunk_tokens, bool) or not isinstance(chunk_tokens, int)
                                         or chunk_tokens < 1):
            raise ValueError(f"chunk_tokens must be a positive int (or None for the device's default), not {chunk_tokens!r}")
        callback = None
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=0, unit="B", unit_scale=True, desc="upload")

            def callback(done: int, total: int) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()

        self._open_core = None
        try:
            self._open_core = _core.Model(self.path, "" if device is None else str(device), callback, chunk_tokens or 0,
                                          precision)
        finally:
            if bar is not None:
                bar.close()
        self.info: dict = self._core.info()
        core_tok = self._core.tokenizer
        self.tokenizer: Tokenizer | None = Tokenizer(core_tok, self.path) if core_tok is not None else None
        self._batch_states: dict[int, _core.State] = {}
        # The batch states are shared scratch: one embed_batch at a time uses them (the GPU runs
        # one batch at a time anyway; the C++ side releases the GIL while it works).
        self._batch_lock = threading.Lock()
        # Idle generation schedulers by batch size: their states, sampler memory and recorded
        # decode steps are reused by the next Batcher of that size.
        self._schedulers: dict[int, list[_core.Scheduler]] = {}

    @property
    def _core(self) -> _core.Model:
        if self._open_core is None:
            raise ValueError(f"the model {self.path!r} is closed")
        return self._open_core

    @property
    def closed(self) -> bool:
        return self._open_core is None

    def close(self) -> None:
        """Releases the model's GPU memory now (weights, scratch, batch states) instead of when the
        object is collected. States, batchers and streams made from it keep what they use until
        they go (a state can still be read and saved); running the model raises ValueError.
        Closing twice is allowed. ``with Model(path) as model:`` closes at the end."""
        self._batch_states.clear()
        self._schedulers.clear()
        self._open_core = None

    def __enter__(self) -> Model:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def vocab_size(self) -> int:
        return self.info["vocab"]

    @property
    def n_embd(self) -> int:
        return self.info["n_embd"]

    @property
    def chunk_tokens(self) -> int:
        """Tokens per submission (the constructor's value, or the engine's default for the device)."""
        return self.info["chunk_tokens"]

    # ---- states -------------------------------------------------------------------------------

    def new_state(self) -> State:
        """A fresh (all-zero) state on this model's device."""
        return State(self, self._core.new_state(1))

    def _check_state(self, state) -> State:
        if not isinstance(state, State) or state.model is not self:
            raise ValueError("state belongs to another model (create it with this model's new_state())")
        return state

    def back_state(self, state: State) -> np.ndarray:
        """The state as a float32 numpy array of ``info["state_floats"]`` values, viewing host-visible
        memory (no copy). Every call refreshes the same memory, so earlier arrays of the state see
        the new values; the array keeps its memory alive after the State is gone. Write into it and
        call ``load_state(state, array)`` to change the state. ``state_layers`` splits it by layer."""
        return self._check_state(state)._core.read()[0]

    def load_state(self, state: State, values: np.ndarray) -> None:
        """Sets the state to ``values`` (float32, ``info["state_floats"]`` values)."""
        state = self._check_state(state)
        values = np.asarray(values)
        if values.dtype != np.float32 or values.size != self.info["state_floats"]:
            raise ValueError(f"a state is {self.info['state_floats']} float32 values, got {values.size} {values.dtype}")
        mirror = state._core.mirror()[0]
        same_view = (values.flags.c_contiguous and values.__array_interface__["data"][0] == mirror.__array_interface__["data"][0])
        if not same_view:  # another array, or another view of the mirror (copied out first: they overlap)
            np.copyto(mirror, values.reshape(-1).copy() if np.shares_memory(mirror, values) else values.reshape(-1))
        state._core.write_mirror()

    def state_layers(self, values: np.ndarray) -> list[dict[str, np.ndarray]]:
        """Views (no copies) of each layer's part of a ``back_state`` array:
        ``{"att_shift": [C], "wkv": [H, N, N], "ffn_shift": [C]}``."""
        layout = self.info["state_layout"]  # the engine's: (offset, shape) of each part in layer 0
        per = layout["floats_per_layer"]
        out = []
        for layer in range(self.info["n_layer"]):
            views = {}
            for name in ("att_shift", "wkv", "ffn_shift"):
                offset, shape = layout[name]
                start = layer * per + offset
                views[name] = values[start:start + int(np.prod(shape))].reshape(shape)
            out.append(views)
        return out

    def prefix_state(self, prefix: str | bytes | Sequence[int]) -> State:
        """Runs a shared prefix once; pass the result as ``state=`` to ``embed`` / ``embed_batch`` /
        ``run`` (after ``clone()``) to continue many suffixes from it."""
        state = self.new_state()
        self.run(self._tokens(prefix), state, logits=None)
        return state

    # ---- running ------------------------------------------------------------------------------

    def _tokens(self, item) -> np.ndarray:
        if isinstance(item, (str, bytes)):
            if self.tokenizer is None:
                raise ValueError("this model file has no tokenizer: pass token ids")
            ids = np.asarray(self.tokenizer.encode(item), dtype=np.int64)
        else:
            ids = np.asarray(item)
        if ids.ndim != 1:
            raise ValueError(f"tokens must be a 1-D sequence of ids, got shape {ids.shape}")
        if ids.size == 0:
            raise ValueError("no tokens: give a non-empty text or at least one token id")
        if not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"token ids must be integers, got {ids.dtype}")
        # Negative or past 32 bits would wrap in the cast; the engine checks ids against the vocabulary.
        if ids.min() < 0 or ids.max() > 0xFFFFFFFF:
            bad = int(ids[(ids < 0) | (ids > 0xFFFFFFFF)][0])
            raise ValueError(f"token id {bad} is out of range for a vocabulary of {self.vocab_size}")
        return ids.astype(np.uint32)

    def run(self, tokens: Sequence[int] | np.ndarray | str, state: State | None = None, logits: str | None = "last"):
        """Runs tokens through the model, advancing ``state`` in place (a fresh one when None).

        Args:
            tokens: token ids (a list or a 1-D integer array, at least one), or text.
            state: the state to continue from and advance.
            logits: ``"last"`` -> float32 ``[vocab]`` for the last token; ``"all"`` ->
                ``[len(tokens), vocab]``; ``None`` -> nothing computed (prefill only).

        Raises:
            ValueError: empty input, token ids out of range, a state of another model.
        """
        ids = self._tokens(tokens)
        state = self.new_state() if state is None else self._check_state(state)
        return self._core.run(ids, state._core, logits)

    def embed(self, item: str | bytes | Sequence[int], pooling: str = "last", normalize: bool = False,
              state: State | None = None, advance: bool = False) -> np.ndarray:
        """The embedding of one text or token sequence: float32 ``[n_embd]``.

        Runs the layers and ``ln_out`` only (never the vocabulary head).

        Args:
            pooling: ``"last"``: ln_out of the last token (llama.cpp's embedding with LAST pooling);
                ``"mean"``: the mean of ln_out over the tokens; ``"state"``: from the recurrent
                state after the last token: for each head h and value row i of the last layer's
                WKV state, the mean over key columns j of ``wkv[h, i, j]`` (n_embd values).
            normalize: scale to unit L2 norm.
            state: start from this state (e.g. ``prefix_state``); it is not modified unless
                ``advance`` is true, in which case it ends as the state after ``item``.
        """
        if not advance:
            return self.embed_batch([item], pooling=pooling, normalize=normalize, state=state)[0]
        if state is None:
            raise ValueError("advance=True needs the state to advance")
        state = self._check_state(state)
        return self._core.embed([self._tokens(item)], state._core, pooling, normalize)[0]

    def embed_batch(self, items: Iterable[str | bytes | Sequence[int]], pooling: str = "last", normalize: bool = False,
                    batch_size: int | None = None, progress: bool = False, state: State | None = None,
                    return_states: bool = False) -> np.ndarray | tuple[np.ndarray, list[State]]:
        """Embeddings of many texts or token sequences: float32 ``[len(items), n_embd]``.

        Sequences of different lengths advance together through the GPU, one state slot each, in
        batches of ``batch_size`` sequences (default 64; at most ``info["max_state_slots"]``, the
        slots one state holds on the device); equal to ``embed`` per item. With
        ``state`` (e.g. ``prefix_state``), every sequence starts from a copy of it. With
        ``return_states=True`` it returns ``(vectors, states)``: each sequence's state after it as
        its own ``State`` (copied on the GPU), as ``embed(..., state=s, advance=True)`` leaves it.

        ``progress=True`` shows a tqdm bar of tokens that advances after each chunk of GPU work
        (each submission, ``chunk_tokens`` tokens at most).
        """
        seqs = [self._tokens(item) for item in items]
        if not seqs:
            empty = np.zeros((0, self.n_embd), dtype=np.float32)
            return (empty, []) if return_states else empty
        if state is not None:
            self._check_state(state)
        batch_size = batch_size or 64
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        batch_size = min(batch_size, self.info["max_state_slots"])  # a larger batch runs as several
        out = np.empty((len(seqs), self.n_embd), dtype=np.float32)
        states: list[State] = []
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=sum(len(s) for s in seqs), unit="tok", desc="embed")
        try:
            for start in range(0, len(seqs), batch_size):
                batch = seqs[start:start + batch_size]
                advance = None
                if bar is not None:
                    reported = [0]  # tokens of this batch the bar has counted

                    def advance(done: int, _total: int) -> None:
                        bar.update(done - reported[0])
                        reported[0] = done

                with self._batch_lock:
                    slots = self._batch_state(len(batch), state)
                    result = self._core.embed(batch, slots, pooling, normalize, advance)
                    for i in range(len(batch) if return_states else 0):
                        states.append(self.new_state())
                        states[-1]._core.copy_slot(slots, i, 0, 1)
                out[start:start + len(batch)] = result
        finally:
            if bar is not None:
                bar.close()
        return (out, states) if return_states else out

    def _batch_state(self, n: int, start: State | None) -> _core.State:
        """A state of at least n slots, the first n zero or copies of `start`'s. Kept by capacity, a
        power of two: batches of every size (a last partial batch, several batch_size values)
        share a few states instead of holding GPU memory for each size."""
        capacity = min(1 << (n - 1).bit_length(), self.info["max_state_slots"])
        core = self._batch_states.get(capacity)
        if core is None:
            core = self._batch_states[capacity] = self._core.new_state(capacity)
        if start is None:
            core.reset()
        else:
            core.copy_slot(start._core, 0, 0, n)
        return core

    # ---- generation ---------------------------------------------------------------------------

    def generate(self, prompt: str | bytes | Sequence[int], max_tokens: int = DEFAULT_MAX_TOKENS, *,
                 sampling: SamplingParams | None = None, stop: str | Sequence[str] | None = None,
                 stop_tokens: Sequence[int] | None = None, state: State | None = None, stream: bool = False,
                 return_logits: bool = False, **sampling_fields) -> Generation | GenerationStream:
        """Generates text after ``prompt``, sampling on the GPU.

        Example::

            out = model.generate("The capital of France is", max_tokens=32, temperature=0)
            print(out.text, out.finish_reason)
            for piece in model.generate("Once upon a time", stream=True, seed=1):
                print(piece, end="", flush=True)
            params = rwkv_gpu.SamplingParams(temperature=0.7, top_p=0.9)
            out = model.generate("Hello", sampling=params, seed=3)

        Args:
            prompt: text or token ids (at least one token).
            max_tokens: how many tokens to generate at most.
            sampling: a ``SamplingParams`` (default: ``SamplingParams()``, the official RWKV
                pipeline's settings, penalties off).
            temperature, top_p, top_k, presence_penalty, frequency_penalty, penalty_decay, seed:
                keywords that set these fields of ``sampling`` (``SamplingParams`` explains each).
                ``temperature=0`` is greedy; ``seed`` None (default) draws a random one. The same
                seed, prompt and settings give the same tokens, alone or in a batch.
            stop: strings that end the generation; the text stops before the first one (found even
                when it spans tokens).
            stop_tokens: token ids that end it (default ``rwkv_gpu.DEFAULT_STOP_TOKENS``: token 0,
                the end of a document).
            state: start from this state instead of a fresh one; it is advanced in place and ends
                holding the prompt and every generated token (ready for the next turn of a chat).
            stream: return a ``GenerationStream``: iterate for text pieces as they come.
            return_logits: also return the logits of every drawn token (``Generation.logits``).

        Returns:
            ``Generation`` (text, tokens, finish_reason: ``"stop"``, ``"length"`` or
            ``"cancelled"``, timings), or a ``GenerationStream``.
        """
        batcher = Batcher(self, 1)
        req = batcher.submit(prompt, max_tokens, sampling=sampling, stop=stop, stop_tokens=stop_tokens, state=state,
                             return_logits=return_logits, **sampling_fields)
        result = GenerationStream(batcher, req)
        if stream:
            return result
        for _ in result:
            pass
        return result.result

    def generate_batch(self, prompts: Sequence[str | bytes | Sequence[int]], max_tokens: int = DEFAULT_MAX_TOKENS, *,
                       sampling: SamplingParams | None = None, stop=None, stop_tokens=None, max_batch: int = 64,
                       progress: bool = False, **sampling_fields) -> list[Generation]:
        """Generates for many prompts at once (continuous batching; see ``batcher``).

        ``max_tokens`` and every sampling keyword (as in ``generate``) is a value for all prompts or
        a list with one per prompt; a single int ``seed`` gives prompt i the seed ``seed + i``.
        ``stop`` is a string or list of strings for all prompts, or one list per prompt. Each
        result equals what ``generate`` returns for that prompt with the same settings and seed.
        Returns the ``Generation``s in prompt order.
        """
        n = len(prompts)
        if n == 0:
            return []
        seed = sampling_fields.get("seed")
        if isinstance(seed, (int, np.integer)):
            sampling_fields["seed"] = [int(seed) + i for i in range(n)]
        args = {k: per_sequence(k, v, n) for k, v in dict(max_tokens=max_tokens, **sampling_fields).items()}
        stops = stop if isinstance(stop, list) and stop and isinstance(stop[0], (list, tuple)) else [stop] * n
        batcher = Batcher(self, min(max_batch, n, self.chunk_tokens))
        reqs = [batcher.submit(p, sampling=sampling, stop=stops[i], stop_tokens=stop_tokens,
                               **{k: v[i] for k, v in args.items()})
                for i, p in enumerate(prompts)]
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=n, unit="seq", desc="generate")
        try:
            for req, _ in batcher:
                if bar is not None and req.done:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        return [r.result for r in reqs]

    def _take_scheduler(self, max_batch: int) -> _core.Scheduler:
        with self._batch_lock:
            free = self._schedulers.get(max_batch)
            if free:
                return free.pop()
        return _core.Scheduler(self._core, max_batch)

    def _return_scheduler(self, core: _core.Scheduler) -> None:
        with self._batch_lock:
            free = self._schedulers.setdefault(core.max_batch, [])
            if len(free) < 2:
                free.append(core)

    def batcher(self, max_batch: int = 64) -> Batcher:
        """A ``Batcher`` for continuous batching: submit requests at any time, step them together."""
        return Batcher(self, max_batch)

    def __repr__(self) -> str:
        i = self.info
        return (f"Model({self.path!r}, {i['n_layer']} layers, n_embd {i['n_embd']}, vocab {i['vocab']}, "
                f"{i['precision']} precision, on {i['device']!r}{', closed' if self.closed else ''})")
