"""The Engine's controls beyond accuracy: MMR on any answer, debiased neighbours, taste strategies."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import BadQueryError
from engine.recsys.taste import interests
from engine.service import Engine
from tests.fixtures import synthetic_catalogue
from tests.service.test_service import D, FakeSASRec, fake_encoder


@pytest.fixture
def eng(tmp_path):
    return Engine("synthetic", catalogue=synthetic_catalogue(300, D), index_dir=tmp_path,
                  encoder=fake_encoder, reranker=FakeSASRec())


def _ild(eng, model, ids):
    u = eng.space(model).unit[eng.space(model).rows(ids)]
    s = u @ u.T
    return 1 - (s.sum() - np.trace(s)) / (len(ids) * (len(ids) - 1))


def test_diversify_at_one_keeps_the_answer_and_lower_lambda_diversifies(eng):
    wide = eng.similar("midnight river 1", "mf", k=50)
    same = eng.diversify(wide, 1.0, 10)
    assert same.ids() == wide.ids()[:10]
    div = eng.diversify(wide, 0.5, 10)
    assert div.ids()[0] == wide.ids()[0] and len(div.ids()) == 10 and set(div.ids()) <= set(wide.ids())
    assert [h.rank for h in div.items] == list(range(1, 11))
    assert _ild(eng, "mf", div.ids()) > _ild(eng, "mf", same.ids())
    with pytest.raises(BadQueryError):
        eng.diversify(wide, 1.5, 10)


def test_similar_all_with_diversity_answers_k_per_space(eng):
    res = eng.similar_all("midnight river 1", models=["mf", "text"], k=8, diversity=0.7)
    assert all(len(h.items) == 8 for h in res.spaces.values())


def test_debiased_neighbours_favour_less_rated_movies(eng):
    plain = eng.similar("midnight river 1", "mf", k=10)
    fair = eng.similar_debiased("midnight river 1", "mf", k=10)
    assert fair.query.movie_id not in fair.ids() and len(fair.ids()) == 10
    r = eng.movies.ratings
    assert r(fair.ids()).mean() <= r(plain.ids()).mean()
    with pytest.raises(BadQueryError):
        eng.similar_debiased("midnight river 1", "text")


@pytest.mark.parametrize("strategy", ["average", "best", "multi"])
def test_personalize_strategies_exclude_clicks_and_explain(eng, strategy):
    clicks = eng.space("mf").ids[[0, 1, 2, 150, 151, 152]].tolist()
    res = eng.personalize(clicks, model="mf", k=10, strategy=strategy, diversity=0.9)
    assert len(res.items) == 10 and not set(res.ids()) & set(clicks)
    assert all(h.because_id in clicks for h in res.items)
    vec = np.atleast_2d(res.vector)
    sp = eng.space("mf")
    assert vec.shape[0] == (len(interests(sp.unit[sp.rows(clicks)])[0]) if strategy == "multi" else 1)
    with pytest.raises(BadQueryError):
        eng.personalize(clicks, model="mf", strategy="median")


def test_personalize_multi_takes_the_split_cosine(eng):
    clicks = eng.space("mf").ids[[0, 1, 2, 150, 151, 152]].tolist()
    rows = lambda c: np.atleast_2d(eng.personalize(clicks, model="mf", strategy="multi", split_below=c).vector).shape[0]  # noqa: E731
    assert rows(1.0) == 3 and rows(-1.0) == 1                   # always the most interests; never split
    with pytest.raises(BadQueryError):
        eng.personalize(clicks, model="mf", strategy="multi", split_below=2.0)
