"""Filtered search on pgvector and Milvus Lite: the filter columns beside the vectors, the WHERE / the
expression in the same search; exact equals brute force over the matching rows, HNSW returns
min(k, matching) rows with recall@10 >= 0.95 at every selectivity."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.data.filters import Facets, Filter, columns_for
from engine.vectors.contract import exact_search

pytestmark = [pytest.mark.backend, pytest.mark.slow]
SELECTIVITIES = (0.5, 0.1, 0.01, 0.001)


@pytest.fixture(scope="module")
def facets(data) -> Facets:
    ids = data[0]
    rng = np.random.default_rng(5)
    return Facets(pd.DataFrame({"movie_id": ids, "year": 1950 + np.arange(len(ids)) % 70,
                                "n_ratings": rng.permutation(len(ids)),
                                "genres": [[("Comedy", "Drama", "Sci-Fi")[i % 3]] for i in range(len(ids))]}), "t")


def cases(facets: Facets):
    n = len(facets.ids)
    out = [Filter(genres=("Comedy", "Sci-Fi")), Filter(genres=("Drama",), year_min=1990, year_max=1999),
           Filter(exclude=tuple(int(i) for i in facets.ids[:50]))]
    return out + [Filter(min_ratings=n - max(2, int(n * s))) for s in SELECTIVITIES]


def check(store, model, data, facets, exact_kw: dict, ann_kw: dict | None) -> None:
    ids, vecs, queries = data
    for flt in cases(facets):
        sel = facets.select(flt)
        keep = sel.mask(ids)
        want_s, want = exact_search(vecs[keep], ids[keep], queries, 10)
        if exact_kw is not None:
            scores, got = store.search(model, queries, 10, where=sel, **exact_kw)
            assert got.tolist() == want.tolist(), flt.describe()
            np.testing.assert_allclose(scores, want_s, atol=1e-4)
        if ann_kw is not None:
            _, got = store.search(model, queries, 10, where=sel, **ann_kw)
            assert ((got >= 0).sum(axis=1) == min(10, sel.matching)).all(), flt.describe()
            kk = min(10, sel.matching)
            recall = np.mean([len(set(a[a >= 0]) & set(b[b >= 0])) / kk for a, b in zip(got, want)])
            assert recall >= 0.95, (flt.describe(), recall)


def test_pgvector_exact_and_iterative_hnsw(data, facets):
    from engine.vectors.pgvector import PgVectorStore

    root = Path(tempfile.mkdtemp(prefix="moviedna-pgtest-"))  # see conftest.pg_tmp for why not tmp_path
    store = PgVectorStore(data_dir=root / "pgdata", ef_search=40)
    try:
        store.upsert("f", data[0], data[1], columns_for(facets, data[0]))
        check(store, "f", data, facets, {"exact": True}, {})
        sql = store.statement("f", 10, where=facets.select(Filter(genres=("Comedy",), min_ratings=5)))
        assert "hnsw.iterative_scan = relaxed_order" in sql
        assert "WHERE genres && %(genres)s::text[] AND n_ratings >= %(min_ratings)s ORDER BY embedding" in sql
    finally:
        store.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("index", ["FLAT", "HNSW"])
def test_milvus_expression(data, facets, tmp_path, index):
    from engine.vectors.milvus import MilvusStore, filter_expression

    with MilvusStore(uri=str(tmp_path / "m.db"), index=index) as store:
        store.upsert("f", data[0], data[1], columns_for(facets, data[0]))
        check(store, "f", data, facets, {} if index == "FLAT" else None, {} if index == "HNSW" else None)
    expr = filter_expression(Filter(genres=('Co"medy',), genre_mode="all", year_min=1990, exclude=(5,)))
    assert expr == 'ARRAY_CONTAINS_ALL(genres, ["Co\\"medy"]) and year >= 1990 and movie_id not in [5]'
