"""Two-stage retrieval + re-ranking: candidates only, ranks before/after, timings."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import BadQueryError
from engine.vectors.faiss_index import FaissIndex, IndexConfig
from engine.recsys.taste import Space
from engine.recsys.pipeline import retrieve, two_stage, TasteConfig
from engine.lab.scale import clustered_vectors


class ByIdReranker:
    """Scores candidates by -id (so the smallest id wins); records its inputs."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[int], np.ndarray]] = []

    def score(self, history, candidates):
        self.calls.append((list(history), np.asarray(candidates)))
        return -np.asarray(candidates, dtype=np.float32)


@pytest.fixture(scope="module")
def world():
    ids = np.arange(1, 1001, dtype=np.int64)
    x = clustered_vectors(1000, 16, n_clusters=10, seed=4)
    return Space("mf", ids, x), FaissIndex.build(ids, x)


def test_output_only_contains_stage1_candidates(world):
    space, index = world
    rr = ByIdReranker()
    res = two_stage(space, index, rr, [5, 17, 300], k=10, n_candidates=50)
    cand = set(res.candidates.tolist())
    assert len(res.candidates) == 50
    assert {it.movie_id for it in res.items} <= cand
    assert not cand & {5, 17, 300}
    assert [it.movie_id for it in res.items] == sorted(cand)[:10]
    hist, passed = rr.calls[0]
    assert hist == [5, 17, 300] and passed.tolist() == res.candidates.tolist()


def test_ranks_before_and_after(world):
    space, index = world
    res = two_stage(space, index, ByIdReranker(), [5, 17], k=5, n_candidates=30)
    cand = res.candidates.tolist()
    for pos, it in enumerate(res.items):
        assert it.rank_after == pos + 1
        assert cand[it.rank_before - 1] == it.movie_id
        assert it.rerank_score == -it.movie_id
    assert set(res.timings_ms) == {"taste", "retrieve", "rerank", "total"}
    assert all(v >= 0 for v in res.timings_ms.values())


def test_without_reranker_keeps_stage1_order(world):
    space, index = world
    res = two_stage(space, index, None, [5], k=10, n_candidates=10)
    assert [it.rank_before for it in res.items] == list(range(1, 11))


def test_stage1_matches_exact_for_hnsw(world):
    space, index = world
    hnsw = FaissIndex.build(space.ids, space.unit, IndexConfig("hnsw", hnsw_m=16, ef_search=256))
    a, _, _ = retrieve(space, index, [5, 6], [], 100, TasteConfig())
    b, _, _ = retrieve(space, hnsw, [5, 6], [], 100, TasteConfig())
    assert len(set(a.tolist()) & set(b.tolist())) >= 95


def test_unknown_candidates_sink(world):
    space, index = world

    class Partial:
        def score(self, history, candidates):
            s = np.zeros(len(candidates), np.float32)
            s[::2] = -np.inf
            return s

    res = two_stage(space, index, Partial(), [5], k=20, n_candidates=20)
    assert [it.rank_before for it in res.items][:10] == list(range(2, 21, 2))


def test_bad_arguments(world):
    space, index = world
    with pytest.raises(BadQueryError):
        two_stage(space, index, None, [5], k=10, n_candidates=0)
    with pytest.raises(BadQueryError):
        two_stage(space, index, None, [5], k=50, n_candidates=20)

    class Wrong:
        def score(self, history, candidates):
            return np.zeros(3, np.float32)

    with pytest.raises(BadQueryError):
        two_stage(space, index, Wrong(), [5], k=5, n_candidates=20)
