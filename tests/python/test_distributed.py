"""rwkv_gpu.distributed on a local Ray cluster (issue 18): every row once, every vector equal to
``Model.embed_batch`` in this process, an actor killed mid-job, the CLI round trip. Marked
``ray``: ``pytest -m ray`` runs them alone."""

from __future__ import annotations

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="the test extra installs ray (rwkv_gpu[ray])")
pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq  # noqa: E402

import rwkv_gpu  # noqa: E402
from rwkv_gpu import cli  # noqa: E402

pytestmark = pytest.mark.ray
N = 1000
MODEL = str(rwkv_gpu.default_model_path())


@pytest.fixture(scope="module")
def cluster():
    # Logical CPUs: two actors hold one each and the reads need their own (this machine has 2 cores).
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """1000 short texts with ids in four Parquet files (Ray reads a file as one block: four give
    both actors work), and their vectors from one process."""
    texts = [f"day {i}" for i in range(N)]
    folder = tmp_path_factory.mktemp("corpus")
    table = pa.table({"id": np.arange(N, dtype=np.int64) * 7 + 3, "text": texts,
                      "source": [f"book {i % 3}" for i in range(N)]})
    for part in range(4):
        pq.write_table(table.slice(part * N // 4, N // 4), folder / f"part-{part}.parquet")
    model = rwkv_gpu.Model(MODEL)
    return folder, texts, model.embed_batch(texts, normalize=True)


def by_id(table) -> tuple[np.ndarray, np.ndarray]:
    ids = table.column("id").to_numpy()
    order = np.argsort(ids)
    vectors = np.array(table.column("embedding").to_pylist(), dtype=np.float32)
    return ids[order], vectors[order]


def check(table, corpus):
    path, texts, ref = corpus
    ids, vectors = by_id(table)
    np.testing.assert_array_equal(ids, np.arange(N) * 7 + 3)  # each row once: none lost, none doubled
    np.testing.assert_allclose(vectors, ref, atol=1e-6, rtol=0)
    assert table.schema.field("embedding").type == pa.list_(pa.float32(), 192)
    src = dict(zip(table.column("id").to_pylist(), table.column("source").to_pylist()))
    assert all(src[i * 7 + 3] == f"book {i % 3}" for i in range(N))  # other columns kept


def run(ds, **kw):
    import rwkv_gpu.distributed as rd

    out = rd.embed_dataset(ds, MODEL, normalize=True, batch_size=100, concurrency=2, **kw)
    return pa.concat_tables(ray.get(out.to_arrow_refs()))


def test_two_actors_embed_every_row_once(cluster, corpus):
    check(run(ray.data.read_parquet(corpus[0], override_num_blocks=4)), corpus)


def test_a_killed_actor_loses_no_row(cluster, corpus, tmp_path):
    marker = tmp_path / "crashed"
    table = run(ray.data.read_parquet(corpus[0], override_num_blocks=4), _crash_marker=str(marker))
    assert marker.exists()  # an actor did die mid-job
    check(table, corpus)


def test_a_row_without_text_fails_the_job_clearly(cluster):
    import rwkv_gpu.distributed as rd

    ds = ray.data.from_items([{"id": 1, "text": "fine"}, {"id": 2, "text": None}])
    with pytest.raises(Exception, match="'text' holds None in the row {'id': 2}"):
        rd.embed_dataset(ds, MODEL).materialize()


def test_doc_states_and_field_analysis(cluster):
    import rwkv_gpu.distributed as rd

    texts = ["In the beginning God created the heaven", "And the evening and the morning were the first day"]
    ds = ray.data.from_items([{"id": i, "text": t} for i, t in enumerate(texts)])
    model = rwkv_gpu.Model(MODEL)
    states = rd.doc_states(ds, MODEL).take_all()
    for row, text in zip(sorted(states, key=lambda r: r["id"]), texts):
        ref = rwkv_gpu.workloads.doc_state(model, text)
        np.testing.assert_allclose(row["embedding"], ref.vector, atol=1e-6, rtol=0)
        np.testing.assert_allclose(row["state"], model.back_state(ref.state), atol=1e-5, rtol=1e-5)
    schema = {"creation": "the making of the world", "time": "days and nights"}
    scored = sorted(rd.field_analysis(ds, schema, MODEL).take_all(), key=lambda r: r["id"])
    for row, text in zip(scored, texts):
        ref = dict(rwkv_gpu.workloads.field_analysis(model, text, schema).ranking)
        assert [row[f] for f in schema] == pytest.approx([ref[f] for f in schema], abs=1e-5)


def test_cli_parquet_round_trip(cluster, corpus, tmp_path):
    out = tmp_path / "vectors.parquet"
    assert cli.main(["embed-corpus", str(corpus[0]), "-o", str(out), "--concurrency", "2", "--normalize",
                     "-m", MODEL]) == 0
    table = pq.read_table(out)
    assert table.column("id").to_pylist() == list(np.arange(N) * 7 + 3)  # in input order
    check(table, corpus)
