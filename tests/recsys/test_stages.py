"""Stage-1 taste vectors, model-native vectors and two stages on a small synthetic split."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from engine.models import get_model
from engine.models.metrics import full_ranks, hit_ratio
from engine.recsys.pipeline import retrieve
from engine.recsys.splits import leave_one_out
from engine.recsys.figures import MalformedEvaluationError, parse_page_figures
from engine.recsys.stages import (StagesConfig, evaluate_stages, format_stages, native_scores, ranks,
                                  taste_scores, two_stage_ranks)
from engine.recsys.taste import Space, TasteConfig, taste_vector
from engine.vectors.faiss_index import FaissIndex, IndexConfig

from tests.models.synth import cyclic_ratings, movies_frame, users_frame


@pytest.fixture(scope="module")
def fitted():
    ratings = cyclic_ratings(80, 50, seed=3, noise=0.3)
    split = leave_one_out(ratings, min_count=3)
    train = split.train_data(movies_frame(50), users_frame(ratings["user_id"]))
    valid = split.valid_holdout()
    models = {
        "mf": get_model("mf", iterations=3, dim=8).fit(train, valid=valid),
        "sasrec": get_model("sasrec", epochs=4, hidden=16, maxlen=20, eval_every=2).fit(train, valid=valid),
        "widedeep": get_model("widedeep", epochs=3, dim=8, feat_dim=4, hidden=(16,), history=5).fit(train, valid=valid),
    }
    return split, models


def test_all_candidates_is_the_rankers_own_full_ranking(fitted):
    """With every movie as a candidate, two stages are exactly the ranker's own ranking."""
    split, models = fitted
    test = split.test_holdout()
    for stage1 in ("mf", "widedeep"):
        s1 = taste_scores(Space(stage1, models[stage1].item_ids(), models[stage1].item_embeddings()), test.histories)
        for ranker in ("sasrec", "widedeep"):
            got = two_stage_ranks(s1, native_scores(models[ranker], test), test, None)
            assert np.array_equal(got, full_ranks(models[ranker], test))


def test_c_candidates_hit_at_c_equals_stage1_recall(fitted):
    """Re-ranking C candidates cannot change whether the target is among the first C."""
    split, models = fitted
    test = split.test_holdout()
    s1 = native_scores(models["mf"], test)
    rs = native_scores(models["sasrec"], test)
    for c in (5, 10, 20):
        assert hit_ratio(two_stage_ranks(s1, rs, test, c), c) == hit_ratio(ranks(s1, test), c)
    r10 = two_stage_ranks(s1, rs, test, 10)
    assert (r10[r10 < split.n_items] < 10).all()           # a hit is ranked within the candidates


def test_taste_scores_are_the_pages_taste_vector_and_candidates(fitted):
    split, models = fitted
    test = split.test_holdout()
    sp = Space("mf", models["mf"].item_ids(), models["mf"].item_embeddings())
    index = FaissIndex.build(sp.ids, sp.unit, IndexConfig())
    for hl in (None, 3.0):
        s = taste_scores(sp, test.histories[:5], hl)
        for u in range(5):
            clicks = sp.ids[test.histories[u]].tolist()
            t = taste_vector(sp, clicks, (), TasteConfig(hl))
            assert np.allclose(s[u], sp.unit @ t, atol=1e-5)
            cand, _, _ = retrieve(sp, index, clicks, (), 10, TasteConfig(hl))
            row = s[u].copy()
            row[test.histories[u]] = -np.inf
            assert set(cand.tolist()) == set(sp.ids[np.argsort(-row, kind="stable")[:10]].tolist())


def test_native_inner_product_index_is_the_models_ranking(fitted):
    split, models = fitted
    test = split.test_holdout()
    mf = models["mf"]
    index = faiss.IndexFlatIP(mf.Y.shape[1])
    index.add(np.ascontiguousarray(mf.Y, dtype=np.float32))
    _, top = index.search(mf.user_vectors(test.histories[:3]), 5)
    full = native_scores(mf, test)[:3]
    assert np.array_equal(top, np.argsort(-full, axis=1, kind="stable")[:, :5])


def test_evaluate_stages_report(fitted):
    split, models = fitted
    res = evaluate_stages(split, models, StagesConfig(candidates=(5, 10, 20), half_lives=(2.0, 5.0), latency_users=4))
    assert set(res["stage1_taste"]) == {"mf:taste", "mf:taste_recency", "sasrec:taste", "sasrec:taste_recency",
                                        "widedeep:taste", "widedeep:taste_recency"}
    assert set(res["stage1_native"]) == {"mf:native", "sasrec:native"}
    for info in res["stage1_taste"].values():
        t = info["test"]
        assert 0 <= t["ndcg@10"] <= t["hr@10"] <= t["recall@20"] <= 1
    rec = res["stage1_taste"]["mf:taste_recency"]
    assert rec["recency_half_life"] in (2.0, 5.0)
    assert rec["valid_ndcg@10"] == max(v for h, v in rec["valid_ndcg@10_by_half_life"].items() if h != "off")
    for r in ("sasrec", "widedeep"):
        own = res["two_stage"][r]["ranker_alone"]
        for cells in res["two_stage"][r]["by_stage1"].values():
            assert set(cells) == {"5", "10", "20", "all"}
            assert cells["all"] == own
    lat = res["latency_ms"]
    assert lat["stage2"]["widedeep"]["all"] > 0 and lat["stage1"]["mf:native"]["5"] > 0
    assert "two stages, ranker sasrec" in format_stages(res)
    fig = parse_page_figures(res, "local", n_candidates=10)
    assert fig.k == 10 and fig.source == "local"
    assert fig.taste_cell("mf").ndcg == res["stage1_taste"]["mf:taste"]["test"]["ndcg@10"]
    assert fig.native_cell("sasrec").hr == res["stage1_native"]["sasrec:native"]["test"]["hr@10"]
    assert fig.native_cell("widedeep") is None and fig.taste_cell("text") is None
    curve = fig.curve("mf", "widedeep")
    assert [c.candidates for c in curve] == [5, 10, 20, None]
    assert curve[1].ndcg == res["two_stage"]["widedeep"]["by_stage1"]["mf:taste"]["10"]["ndcg@10"]
    assert curve[1].stage2_ms == lat["stage2"]["widedeep"]["10"]
    assert fig.point("mf", "widedeep", 10) == curve[1] and fig.point("mf", "widedeep", 25) is None
    # Home rows: the spaces the pages search (mf, sasrec; not Wide & Deep's vectors), two stages per ranker
    assert [(r.space, r.ranker, r.candidates) for r in fig.rows] == [
        ("mf", None, None), ("sasrec", None, None), ("mf", "sasrec", 10), ("sasrec", "sasrec", 10),
        ("mf", "widedeep", 10), ("sasrec", "widedeep", 10)]
    # a record written with sorted keys ("100" before "25", as the published JSON is) keeps the curve's order
    import json

    resorted = json.loads(json.dumps(res, sort_keys=True))
    assert [c.candidates for c in parse_page_figures(resorted, "published").curve("mf", "widedeep")] == [5, 10, 20, None]
    # every recency choice the page offers has its own test figure (the page labels each one)
    hl = fig.taste_by_half_life["mf"]
    assert set(hl) == {None, 2.0, 5.0} and fig.taste_cell("mf", 0) == fig.taste_cell("mf") == hl[None]
    chosen = rec["recency_half_life"]
    assert fig.taste_cell("mf", chosen) == type(hl[None])(rec["test"]["hr@10"], rec["test"]["ndcg@10"], 10)
    other = 5.0 if chosen == 2.0 else 2.0
    assert fig.taste_cell("mf", other).hr is None
    assert fig.taste_cell("mf", other).ndcg == rec["test_ndcg@10_by_half_life"][f"{other:g}"]


@pytest.mark.parametrize("damage", ["no protocol", "k text", "latency gone", "figure text", "cells list", "stages list",
                                    "hr above one", "nan latency", "space mismatch", "half-life text"])
def test_page_figures_of_a_damaged_record_are_refused(fitted, damage):
    """A hand-edited or older stored evaluation never breaks a page: parsing raises one named error."""
    import copy

    split, models = fitted
    res = evaluate_stages(split, models, StagesConfig(candidates=(5,), half_lives=(2.0,), latency_users=2))
    bad = copy.deepcopy(res)
    if damage == "no protocol":
        del bad["protocol"]
    elif damage == "k text":
        bad["protocol"]["k"] = "ten"
    elif damage == "latency gone":
        bad["latency_ms"]["stage2"] = {}
    elif damage == "figure text":
        bad["stage1_taste"]["mf:taste"]["test"]["ndcg@10"] = "0.5"
    elif damage == "cells list":
        bad["two_stage"]["sasrec"]["by_stage1"]["mf:taste"] = [1, 2]
    elif damage == "hr above one":
        bad["stage1_native"]["mf:native"]["test"]["hr@10"] = 1.5
    elif damage == "nan latency":
        bad["latency_ms"]["stage1"]["mf:taste"]["5"] = float("nan")
    elif damage == "space mismatch":
        bad["stage1_taste"]["mf:taste"]["space"] = "sasrec"
    elif damage == "half-life text":
        bad["stage1_taste"]["mf:taste_recency"]["test_ndcg@10_by_half_life"]["soon"] = 0.1
    else:
        bad = [bad]
    assert parse_page_figures(res, "local") is not None
    with pytest.raises(MalformedEvaluationError):
        parse_page_figures(bad, "local")


def test_k_is_a_setting_end_to_end(fitted):
    """Measured at k = 5, every figure is @5 and the typed figures say so (nothing assumes 10)."""
    split, models = fitted
    res = evaluate_stages(split, models, StagesConfig(candidates=(5,), half_lives=(2.0,), latency_users=2, k=5))
    rec = res["stage1_taste"]["mf:taste_recency"]
    assert "valid_ndcg@5" in rec and "test_ndcg@5_by_half_life" in rec and "ndcg@5" in rec["test"]
    fig = parse_page_figures(res, "local", n_candidates=5)
    assert fig.k == 5 and fig.taste_cell("mf").k == 5
    assert fig.taste_cell("mf").hr == res["stage1_taste"]["mf:taste"]["test"]["hr@5"]
    assert fig.point("mf", "sasrec", 5).ndcg == res["two_stage"]["sasrec"]["by_stage1"]["mf:taste"]["5"]["ndcg@5"]
    assert "HR@5" in format_stages(res)
