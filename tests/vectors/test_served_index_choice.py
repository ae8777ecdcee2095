"""``index=`` on pgvector / Milvus is honoured where the backend can, and said otherwise
(it was silently ignored)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.vectors.faiss_index import IndexConfig
from engine.vectors.served import StoreIndex


class ExactStore:
    """A real (numpy brute-force) VectorStore that records the options each search received,
    declaring the search modes pgvector declares."""

    name = "pgvector"
    search_modes = ("hnsw", "exact")
    max_ef_search = 1000

    def __init__(self) -> None:
        self.data: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.calls: list[dict] = []

    def upsert(self, model, movie_ids, vectors, columns=None):
        self.data[model] = (np.asarray(movie_ids, np.int64), np.asarray(vectors, np.float32))

    def count(self, model):
        return len(self.data.get(model, ((), ()))[0])

    def drop(self, model):
        self.data.pop(model, None)

    def search(self, model, queries, k, **options):
        self.calls.append(options)
        ids, x = self.data[model]
        s = queries @ x.T
        top = np.argsort(-s, axis=1)[:, :k]
        return np.take_along_axis(s, top, 1).astype(np.float32), ids[top]


class HnswOnlyStore(ExactStore):
    name = "milvus"
    search_modes = ("hnsw",)
    index = "HNSW"
    max_ef_search = None


@pytest.fixture
def vectors():
    x = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    return np.arange(1, 51, dtype=np.int64), x / np.linalg.norm(x, axis=1, keepdims=True)


def _open(store, vectors, backend):
    ids, x = vectors
    return StoreIndex.open(store, backend, "ds", "mf", ids, x, "h" * 64)


def test_exact_and_hnsw_are_passed_to_pgvector(vectors):
    store = ExactStore()
    base = _open(store, vectors, "pgvector")
    exact = base.configured(IndexConfig("exact"))
    exact.search(vectors[1][:1], 3)
    assert store.calls[-1] == {"exact": True} and exact.config.label() == "pgvector (exact scan, cosine)"
    assert exact.notes == ()
    hnsw = base.configured(IndexConfig("hnsw", ef_search=40))
    hnsw.search(vectors[1][:1], 3)
    assert store.calls[-1] == {"ef_search": 40} and "ef_search=40" in hnsw.config.label()
    capped = base.configured(IndexConfig("hnsw", ef_search=5000))
    capped.search(vectors[1][:1], 3)
    assert store.calls[-1] == {"ef_search": 1000} and "1000" in capped.notes[0].text()
    base.configured(None).search(vectors[1][:1], 3)
    assert store.calls[-1] == {}                     # no choice made: the store's defaults


@pytest.mark.parametrize("store,kind", [(ExactStore(), "ivf"), (HnswOnlyStore(), "ivf"), (HnswOnlyStore(), "exact")])
def test_what_a_backend_cannot_do_is_said(vectors, store, kind):
    idx = _open(store, vectors, store.name).configured(IndexConfig(kind))
    assert len(idx.notes) == 1 and kind.upper() in idx.notes[0].text().upper() and store.name in idx.notes[0].text()
    idx.search(vectors[1][:1], 3)
    assert store.calls[-1] == {}


def test_engine_reports_the_note(vectors, monkeypatch, tmp_path):
    """Through the Engine facade: the note reaches Hits.notes and the label the query."""
    from engine.service import Engine
    from engine.vectors import served
    from tests.fixtures import synthetic_catalogue

    monkeypatch.setenv("MOVIEDNA_BACKENDS", "faiss,milvus")  # the operator's opt-in
    store = HnswOnlyStore()
    monkeypatch.setattr(served.POOL, "get", lambda backend: store)
    eng = Engine("synthetic", catalogue=synthetic_catalogue(60, 4), backend="milvus", index_dir=tmp_path)
    hits = eng.similar(1, "mf", k=5, index="ivf")
    assert any("cannot run an IVF search" in n.text() for n in hits.notes)
    assert eng.similar(1, "mf", k=5, index=IndexConfig("hnsw", ef_search=77)).query.index == "milvus (HNSW ef_search=77, cosine)"
    assert store.calls[-1] == {"ef_search": 77}
    assert any("IVF" in n.text() for n in eng.recommend([1, 2], model="mf", k=3, index="ivf").notes)
