"""Only MovieDNA's named errors leave the Engine, whatever a caller passes.

Each case calls one Engine method with one hostile value and otherwise sensible arguments; the
call must either succeed or raise a MovieDNAError subclass, never ValueError / TypeError /
OverflowError / AttributeError from deeper layers.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import BadQueryError, MovieDNAError
from engine.service import Engine
from tests.fixtures import synthetic_catalogue

D = 8
HOSTILE = [None, "x", "", 3, -1, 0, 2.5, float("nan"), float("inf"), 10**12, 10**30, -10**30, True,
           [], [None], ["1"], {"a": 1}, (1, 2), np.array([[1, 2]]), np.array([1.5]), np.array(["a"]), object()]


@pytest.fixture(scope="module")
def eng(tmp_path_factory):
    return Engine("ml-100k", catalogue=synthetic_catalogue(120, D), index_dir=tmp_path_factory.mktemp("idx"),
                  encoder=lambda texts: np.ones((len(texts), D), np.float32), reranker=None)


CALLS = {
    "recommend.clicks": lambda e, v: e.recommend(v),
    "recommend.dislikes": lambda e, v: e.recommend([1, 2], dislikes=v),
    "recommend.recency_half_life": lambda e, v: e.recommend([1, 2], recency_half_life=v),
    "recommend.dislike_weight": lambda e, v: e.recommend([1, 2], dislike_weight=v),
    "recommend.k": lambda e, v: e.recommend([1, 2], k=v),
    "recommend.model": lambda e, v: e.recommend([1, 2], model=v),
    "recommend.index": lambda e, v: e.recommend([1, 2], index=v),
    "two_stage.clicks": lambda e, v: e.two_stage(v, rerank=False),
    "two_stage.dislikes": lambda e, v: e.two_stage([1, 2], dislikes=v, rerank=False),
    "two_stage.n_candidates": lambda e, v: e.two_stage([1, 2], n_candidates=v, rerank=False),
    "two_stage.recency_half_life": lambda e, v: e.two_stage([1, 2], recency_half_life=v, rerank=False),
    "two_stage.rerank": lambda e, v: e.two_stage([1, 2], rerank=v),
    "similar.movie": lambda e, v: e.similar(v),
    "similar.k": lambda e, v: e.similar(1, k=v),
    "similar.index": lambda e, v: e.similar(1, index=v),
    "similar.model": lambda e, v: e.similar(1, model=v),
    "similar_all.models": lambda e, v: e.similar_all(1, models=v),
    "mood_search.query": lambda e, v: e.mood_search(v),
    "mood_search.k": lambda e, v: e.mood_search("winter", k=v),
    "keyword_search.query": lambda e, v: e.keyword_search(v),
    "index.ef_search": lambda e, v: e.similar(1, index={"kind": "hnsw", "ef_search": v}),
    "index.nprobe": lambda e, v: e.similar(1, index={"kind": "ivf", "nprobe": v}),
    "index.hnsw_m": lambda e, v: e.similar(1, index={"kind": "hnsw", "hnsw_m": v}),
    "index.refine_factor": lambda e, v: e.similar(1, index={"kind": "ivf", "ivf_codec": "sq8", "refine_factor": v}),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_only_named_errors_leave_the_engine(eng, call):
    raw = []
    for value in HOSTILE:
        try:
            CALLS[call](eng, value)
        except MovieDNAError:
            pass
        except Exception as exc:  # noqa: BLE001 - what this test hunts for
            raw.append(f"{value!r}: {type(exc).__name__}: {exc}")
    assert not raw, "\n".join(raw)


def test_backend_must_be_a_name():
    with pytest.raises(BadQueryError):
        Engine("ml-100k", catalogue=synthetic_catalogue(20, 4), backend=3)


@pytest.mark.parametrize("clicks", [np.array([1, 2, 3]), np.array([1, 2, 3], dtype=np.int32),
                                    (1, 2, 3), iter([1, 2, 3]), [np.int64(1), 2, np.uint16(3)]])
def test_numpy_and_iterable_clicks_just_work(eng, clicks):
    rec = eng.recommend(clicks, dislikes=np.array([], dtype=np.int64), k=5)
    assert len(rec.items) == 5 and rec.query.clicks == (1, 2, 3)
    assert all(it.because_id in (1, 2, 3) for it in rec.items)
    two = eng.two_stage(np.array([1, 2, 3]), dislikes=np.array([4]), k=5, n_candidates=np.int64(20), rerank=False)
    assert len(two.items) == 5 and 4 not in two.ids()


def test_none_dislikes_mean_none(eng):
    assert eng.recommend([1, 2], dislikes=None, k=3).ids() == eng.recommend([1, 2], k=3).ids()
