"""Corpus-scale embeddings, doc states and field analysis on Ray Data (``pip install
'rwkv_gpu[ray]'``): one ``Model`` per actor, loaded once; every actor's batches go through
``Model.embed_batch``. Nothing here knows how many machines there are: ``ray.init()`` on a laptop
and ``ray.init(address=...)`` on a cluster run the same code.

Example::

    import ray, rwkv_gpu.distributed as rd
    ds = ray.data.read_parquet("corpus.parquet")             # columns: id, text, ...
    out = rd.embed_dataset(ds, "model.gguf", concurrency=2, num_gpus=1)   # adds "embedding"
    out.write_parquet("vectors/")

Rows keep every column they had; the new columns are fixed-size float32 lists (Arrow
``FixedSizeList``, a Parquet list column). A row whose text is not a string fails the job with
a ValueError naming the column and the row's other values (the documented choice: a silent gap or
a null vector would be found much later). Actors that die (a lost machine, a crashed process)
are restarted and their batches run again (Ray Data's actor-pool defaults), so every row is in the
output exactly once.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

try:
    import pyarrow as pa
    import pyarrow.parquet as pq
    import ray
except ImportError as e:  # the ray extra
    raise ImportError(f"rwkv_gpu.distributed needs the ray extra: pip install 'rwkv_gpu[ray]' ({e})") from None

# Rows per batch handed to one actor's embed_batch: a GPU submission's worth of short documents.
DEFAULT_BATCH_SIZE = 256


def _device(explicit):
    """The Vulkan device of this actor: the explicit one, else the GPU Ray gave the actor (Ray's GPU
    ids count GPUs in the order Vulkan lists them: PCI bus order on NVIDIA), else the default."""
    if explicit is not None:
        return explicit
    ids = ray.get_gpu_ids()
    if not ids:
        return None
    from . import devices

    gpus = [d.index for d in devices() if d.type != "cpu"]
    return gpus[int(ids[0])] if int(ids[0]) < len(gpus) else None


class _Worker:
    """What one actor holds: the model, and how to read a batch's texts."""

    def __init__(self, model_path: str, text_column: str, device, _crash_marker: str | None = None):
        from . import Model

        self.model = Model(model_path, _device(device))
        self.text_column = text_column
        # Test hook (tests/python/test_distributed.py): the first actor to reach its second batch
        # creates this file and exits its process, as a lost machine would.
        self._crash_marker, self._batches = _crash_marker, 0

    def texts(self, batch: pa.Table) -> list[str]:
        self._batches += 1
        if self._crash_marker and self._batches == 2 and not os.path.exists(self._crash_marker):
            open(self._crash_marker, "w").close()
            os._exit(1)
        if self.text_column not in batch.column_names:
            raise ValueError(f"no column {self.text_column!r} (columns: {', '.join(batch.column_names)})")
        texts = batch.column(self.text_column).to_pylist()
        for i, t in enumerate(texts):
            if not isinstance(t, str) or not t:
                row = {k: v for k, v in batch.slice(i, 1).to_pylist()[0].items() if k != self.text_column}
                raise ValueError(f"column {self.text_column!r} holds {t!r} in the row {row}: every row needs a "
                                 "non-empty string")
        return texts


def _vectors(v: np.ndarray) -> pa.FixedSizeListArray:
    v = np.ascontiguousarray(v, dtype=np.float32)
    return pa.FixedSizeListArray.from_arrays(pa.array(v.reshape(-1)), v.shape[1])


class _Embedder(_Worker):
    def __init__(self, model_path, text_column, device, pooling, normalize, output_column, _crash_marker=None):
        super().__init__(model_path, text_column, device, _crash_marker)
        self.pooling, self.normalize, self.output_column = pooling, normalize, output_column

    def __call__(self, batch: pa.Table) -> pa.Table:
        vectors = self.model.embed_batch(self.texts(batch), pooling=self.pooling, normalize=self.normalize,
                                         batch_size=batch.num_rows)
        return batch.append_column(self.output_column, _vectors(vectors))


class _DocStates(_Worker):
    def __init__(self, model_path, text_column, device, pooling, normalize, _crash_marker=None):
        super().__init__(model_path, text_column, device, _crash_marker)
        self.pooling, self.normalize = pooling, normalize

    def __call__(self, batch: pa.Table) -> pa.Table:
        from .workloads import doc_states

        docs = doc_states(self.model, self.texts(batch), pooling=self.pooling, normalize=self.normalize,
                          batch_size=batch.num_rows)
        vectors = np.stack([d.vector for d in docs])
        states = np.stack([self.model.back_state(d.state).copy() for d in docs])
        return batch.append_column("embedding", _vectors(vectors)).append_column("state", _vectors(states))


class _Fields(_Worker):
    def __init__(self, model_path, text_column, device, schema, pooling, _crash_marker=None):
        from .cache import EmbeddingCache

        super().__init__(model_path, text_column, device, _crash_marker)
        self.schema, self.pooling = dict(schema), pooling
        self.cache = EmbeddingCache(self.model)  # the schema's prompts run on the GPU once per actor

    def __call__(self, batch: pa.Table) -> pa.Table:
        from .workloads import doc_states, field_analysis

        docs = doc_states(self.model, self.texts(batch), pooling=self.pooling, batch_size=batch.num_rows)
        scores = [dict(field_analysis(self.model, d, self.schema, cache=self.cache, pooling=self.pooling).ranking)
                  for d in docs]
        for name in self.schema:
            batch = batch.append_column(name, pa.array([s[name] for s in scores], pa.float32()))
        return batch


def _map(ds, cls, kwargs: dict, batch_size: int, concurrency: int, num_gpus: float | None):
    # Ray Data's actor pools replace a dead actor and run its batches again (their defaults:
    # max_restarts=-1, max_task_retries=-1; Ray 2.60 deprecates passing them): no row lost or
    # doubled, which tests/python/test_distributed.py checks by killing an actor mid-job.
    return ds.map_batches(cls, fn_constructor_kwargs=kwargs, batch_format="pyarrow", batch_size=batch_size,
                          compute=ray.data.ActorPoolStrategy(size=concurrency), num_gpus=num_gpus)


def embed_dataset(ds: ray.data.Dataset, model_path: str | os.PathLike, text_column: str = "text",
                  pooling: str = "last", normalize: bool = False, batch_size: int = DEFAULT_BATCH_SIZE,
                  concurrency: int = 1, num_gpus: float | None = None, device: int | str | None = None,
                  output_column: str = "embedding", _crash_marker: str | None = None) -> ray.data.Dataset:
    """``ds`` with an ``output_column`` of embeddings (float32 ``[n_embd]`` per row, as
    ``Model.embed_batch(texts, pooling, normalize)``) and every other column unchanged.

    Args:
        concurrency: actors (one ``Model`` each); ``num_gpus``: GPUs per actor (1 for one actor per
            GPU; None on a CPU-only cluster). ``device``: the Vulkan device of every actor
            (default: the GPU Ray assigned, else the best one).
        batch_size: rows per ``embed_batch`` call of an actor.
    """
    kwargs = dict(model_path=os.fspath(model_path), text_column=text_column, device=device, pooling=pooling,
                  normalize=normalize, output_column=output_column, _crash_marker=_crash_marker)
    return _map(ds, _Embedder, kwargs, batch_size, concurrency, num_gpus)


def doc_states(ds: ray.data.Dataset, model_path: str | os.PathLike, text_column: str = "text", pooling: str = "last",
               normalize: bool = True, batch_size: int = DEFAULT_BATCH_SIZE, concurrency: int = 1,
               num_gpus: float | None = None, device: int | str | None = None) -> ray.data.Dataset:
    """``ds`` with ``embedding`` and ``state`` columns: ``workloads.doc_states`` per row (the state as
    ``Model.back_state`` floats, ``info["state_floats"]`` of them; ``Model.load_state`` takes them back)."""
    kwargs = dict(model_path=os.fspath(model_path), text_column=text_column, device=device, pooling=pooling,
                  normalize=normalize)
    return _map(ds, _DocStates, kwargs, batch_size, concurrency, num_gpus)


def field_analysis(ds: ray.data.Dataset, schema: dict[str, str], model_path: str | os.PathLike,
                   text_column: str = "text", pooling: str = "last", batch_size: int = DEFAULT_BATCH_SIZE,
                   concurrency: int = 1, num_gpus: float | None = None,
                   device: int | str | None = None) -> ray.data.Dataset:
    """``ds`` with one float32 column per field of ``schema`` ({field: prompt}): each document's
    ``workloads.field_analysis`` score for that field."""
    kwargs = dict(model_path=os.fspath(model_path), text_column=text_column, device=device, schema=schema,
                  pooling=pooling)
    return _map(ds, _Fields, kwargs, batch_size, concurrency, num_gpus)


def embed_corpus(input: str | os.PathLike, output: str | os.PathLike, model_path: str | os.PathLike,
                 text_column: str = "text", ray_address: str | None = None, **embed_args) -> int:
    """``rwkv-gpu embed-corpus``: a Parquet or JSONL file, or a folder of them, embedded by
    ``embed_dataset`` (``embed_args``) into ONE Parquet file, rows in the input's order; returns
    the row count. Joins the cluster at ``ray_address`` (default: $RAY_ADDRESS, else a local one)."""
    ray.init(address=ray_address, ignore_reinit_error=True, configure_logging=False)
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    src = Path(input)
    files = sorted(p for p in src.iterdir() if p.suffix in (".parquet", ".jsonl", ".json")) if src.is_dir() else [src]
    kinds = {p.suffix for p in files}
    if not files or len(kinds) != 1:
        raise ValueError(f"{src}: expected Parquet or JSONL files (.parquet, .jsonl), one kind, found {sorted(kinds)}")
    # Ray reads a file as one block at least: a folder of several files gives every actor work.
    kind = kinds.pop()[1:]
    read = ray.data.read_parquet if kind == "parquet" else functools.partial(ray.data.read_json, lines=True)
    out = embed_dataset(read(str(src), file_extensions=[kind]), model_path, text_column=text_column, **embed_args)
    rows, writer = 0, None
    try:
        for batch in out.iter_batches(batch_format="pyarrow", batch_size=None):
            writer = writer or pq.ParquetWriter(os.fspath(output), batch.schema)
            writer.write_table(batch)
            rows += batch.num_rows
    finally:
        if writer is not None:
            writer.close()
    return rows
