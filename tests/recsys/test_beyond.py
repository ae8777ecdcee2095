"""The beyond-accuracy record on a small synthetic split, and its helpers by hand."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from engine.models import get_model
from engine.models.metrics import list_ranks, ndcg, top_k
from engine.models.popularity import PopularityModel
from engine.recsys.beyond import (SUPPORT_BUCKETS, bucket_mean, choose_split, debiased_scores, evaluate_beyond,
                                  format_beyond, genre_share, history_bucket, popularity_direction, popularity_z,
                                  remove_direction, shared_genres, strategy_lists, support_bucket, support_threshold,
                                  two_stage_lists)
from engine.recsys.figures import MalformedEvaluationError, parse_beyond
from engine.recsys.splits import leave_one_out
from engine.recsys.stages import StagesConfig, evaluate_stages, native_scores, taste_scores
from engine.recsys.taste import SPLIT_COSINES, Space
from tests.models.synth import cyclic_ratings, movies_frame, users_frame


@pytest.fixture(scope="module")
def measured():
    ratings = cyclic_ratings(80, 50, seed=3, noise=0.3)
    split = leave_one_out(ratings, min_count=3)
    movies = movies_frame(50)
    train = split.train_data(movies, users_frame(ratings["user_id"]))
    valid = split.valid_holdout()
    models = {"popularity": PopularityModel().fit(train),
              "mf": get_model("mf", iterations=3, dim=8).fit(train, valid=valid),
              "sasrec": get_model("sasrec", epochs=2, hidden=16, maxlen=20, eval_every=2).fit(train, valid=valid)}
    stages = evaluate_stages(split, models, StagesConfig(candidates=(5, 10), latency_users=3))
    return split, models, movies, stages, evaluate_beyond(split, models, movies, stages)


def test_record_parses_and_covers_every_row(measured):
    split, models, _, stages, b = measured
    fig = parse_beyond(json.loads(json.dumps(b)))
    assert set(fig.models) == set(models)
    assert set(fig.stage1) == set(stages["stage1_taste"]) | set(stages["stage1_native"])
    assert ("sasrec", "mf:taste", None) in fig.two_stage and ("sasrec", "mf:taste", 5) in fig.two_stage
    assert [p.lam for p in fig.mmr["mf"]] == [1.0, 0.9, 0.7, 0.5]
    assert fig.strategies.default in ("average", "best", "multi")
    text = format_beyond(b, "5")
    assert "model mf" in text and "mf:taste > sasrec @5" in text and "MMR" in text
    bad = json.loads(json.dumps(b))
    bad["lists"]["models"]["mf"]["popularity_share"] = 1.5
    with pytest.raises(MalformedEvaluationError):
        parse_beyond(bad)


def test_mmr_at_one_is_the_plain_taste_vector(measured):
    split, models, _, _, b = measured
    test = split.test_holdout()
    sp = Space("mf", models["mf"].item_ids(), models["mf"].item_embeddings())
    plain = ndcg(list_ranks(top_k(taste_scores(sp, test.histories), test.exclude, 10), test.targets), 10)
    assert b["mmr"]["mf"]["points"][0]["ndcg@10"] == pytest.approx(plain, abs=1e-4)
    assert b["strategies"]["test"]["mf"]["average"]["6-20"]["users"] > 0


def test_two_stage_lists_with_every_candidate_are_the_rankers_own(measured):
    split, models, _, _, _ = measured
    test = split.test_holdout()
    s1 = native_scores(models["mf"], test)
    rs = native_scores(models["sasrec"], test)
    assert np.array_equal(two_stage_lists(s1, rs, test.exclude, None, 10), top_k(rs, test.exclude, 10))
    five = two_stage_lists(s1, rs, test.exclude, 5, 10)
    assert (five[:, 5:] == -1).all()                       # only five candidates reach stage 2


def test_strategy_lists_average_is_the_taste_vector(measured):
    split, models, _, _, _ = measured
    test = split.test_holdout()
    sp = Space("mf", models["mf"].item_ids(), models["mf"].item_embeddings())
    got = strategy_lists(sp.unit, list(test.histories), test.exclude, "average", 10)
    assert np.array_equal(got, top_k(taste_scores(sp, test.histories), test.exclude, 10))
    for s in ("best", "multi"):
        lists = strategy_lists(sp.unit, list(test.histories), test.exclude, s, 10)
        assert lists.shape == (len(test.targets), 10)
        assert not any(set(lst) & set(ex.tolist()) for lst, ex in zip(lists.tolist(), test.exclude))


def test_split_cosine_is_chosen_per_space_on_validation(measured):
    split, models, _, _, b = measured
    st = b["strategies"]
    assert set(st["split_below"]) == set(st["split_tried"]) and "mf" in st["split_below"]
    for m, tried in st["split_tried"].items():
        assert set(tried) == {str(c) for c in SPLIT_COSINES}
        assert st["split_below"][m] == choose_split({float(c): v for c, v in tried.items()})
        # the multi figures on validation are those of the chosen cosine
        assert bucket_mean(st["valid"][m]["multi"]) == tried[str(st["split_below"][m])]
    fig = parse_beyond(json.loads(json.dumps(b)))
    assert fig.strategies.split_for("mf") == st["split_below"]["mf"] and fig.strategies.split_for("nope") is None
    older = dataclasses.replace(fig.strategies, split_below={})    # measured before the split was chosen
    assert older.split_for("mf") == 1.0


def test_choose_split_takes_the_best_and_splits_less_on_ties():
    assert choose_split({0.0: 0.01, 0.4: 0.03, 1.0: 0.02}) == 0.4
    assert choose_split({0.0: 0.02, 0.6: 0.02, 1.0: None}) == 0.0


def test_support_threshold_follows_each_data_sets_measurement():
    def cells(*v):
        return {lab: {"ndcg@10": x} for (lab, _, _), x in zip(SUPPORT_BUCKETS, v)}

    text = cells(None, 0.03, 0.02, 0.03)
    # the published ml-latest-small validation figures: MF ahead in every measured bucket -> 3
    assert support_threshold(cells(None, 0.079, 0.045, 0.080), text) == 3
    # MF behind the text space at 3-10 ratings -> trusted only from 11 on, whatever lies below
    assert support_threshold(cells(None, 0.02, 0.045, 0.080), text) == 11
    assert support_threshold(cells(0.9, 0.02, 0.045, 0.080), cells(0.0, 0.03, 0.02, 0.03)) == 11
    # behind in the top bucket (or unmeasured there): never trusted below it
    assert support_threshold(cells(None, 0.079, 0.045, 0.01), text) == 51
    assert support_threshold(cells(None, 0.079, None, 0.08), text) == 51


def test_debiasing_by_hand():
    counts = np.array([100, 10, 1, 1])
    z = popularity_z(counts)
    assert z.mean() == pytest.approx(0, abs=1e-6) and z.std() == pytest.approx(1, abs=1e-5) and z[0] > z[1] > z[2]
    unit = np.eye(4, dtype=np.float32)[:, :3] + 0.0
    unit[3] = [0.6, 0.8, 0.0]
    q = np.array([[1.0, 0.0, 0.0]], dtype=np.float32)
    pen = debiased_scores(unit, counts, q, "penalty", 0.1)
    assert pen[0].tolist() == pytest.approx((q @ unit.T)[0] - 0.1 * z)
    p = popularity_direction(unit, counts)
    assert np.linalg.norm(p) == pytest.approx(1.0, abs=1e-6)
    assert np.abs(remove_direction(unit, p) @ p).max() < 1e-5
    assert debiased_scores(unit, counts, q, "direction", 0.0).shape == (1, 4)


def test_helpers_by_hand():
    assert shared_genres([["Romance", "Drama"], ["Romance"], ["Romance", "Comedy"]]) == {"Romance"}
    assert shared_genres([["A"], ["B"]]) == frozenset() and shared_genres([]) == frozenset()
    assert genre_share([["Romance"], ["Drama"], ["Romance", "War"], []], frozenset({"Romance"})) == 0.5
    assert genre_share([], frozenset({"Romance"})) is None
    assert [history_bucket(n) for n in (1, 2, 3, 5, 6, 20, 21)] == ["1-2", "1-2", "3-5", "3-5", "6-20", "6-20", ">20"]
    assert [support_bucket(n) for n in (0, 2, 3, 10, 11, 51)] == [None, "1-2", "3-10", "3-10", "11-50", ">50"]


def test_evaluation_rows_carry_the_lists_and_the_protocols_are_compared(measured):
    from engine.recsys.evaluation import evaluation_rows, parse_evaluation, protocol_swaps

    _, _, _, _, b = measured
    cell = lambda s, f: {"sampled": {"hr@10": 0.5, "ndcg@10": s}, "full": {"hr@10": 0.1, "ndcg@10": f},  # noqa: E731
                         "train_seconds": 1.0}
    blob = {"protocol": {"k": 10, "negatives": 100, "seed": 0}, "split": {"users": 3, "items": 5, "interactions": 10},
            "models": {"popularity": cell(0.30, 0.04), "mf": cell(0.40, 0.08), "sasrec": cell(0.35, 0.10)},
            "beyond": json.loads(json.dumps(b))}
    ev = parse_evaluation(blob, "local")
    rows = {r.name: r for r in evaluation_rows(ev) if r.kind == "model"}
    assert rows["mf"].lists == ev.beyond.models["mf"] and rows["mf"].lists is not None
    # sampled: mf > sasrec > popularity; full: sasrec > mf > popularity -> one swapped pair
    assert protocol_swaps(ev) == (("mf", "sasrec"),)
    older = {k: v for k, v in blob.items() if k != "beyond"}               # a record written before: still valid
    assert parse_evaluation(older, "published").beyond is None


def test_evaluate_with_stages_writes_the_beyond_record():
    from engine.recsys.evaluation import evaluate_split, format_table, parse_evaluation

    ratings = cyclic_ratings(60, 40, seed=1, noise=0.3)
    split = leave_one_out(ratings, min_count=3)
    out = evaluate_split(split, movies_frame(40), "popularity,mf", n_negatives=10, configs={"mf": get_model("mf", iterations=2, dim=8).config},
                         stages=StagesConfig(candidates=(5, 10), latency_users=2))
    assert set(out["beyond"]["lists"]["models"]) == {"popularity", "mf"}
    assert "beyond accuracy" in format_table(out | {"dataset": "synthetic"})
    raw = out["beyond"]["lists"]["models"]["popularity"]
    assert parse_evaluation(out, "local").beyond.models["popularity"].popularity_share == raw["popularity_share"]


def test_genre_claim_measures_multi_at_the_chosen_split():
    """The page recommends at each space's chosen split cosine: the genre figure of the multi strategy
    is measured there (at 0 these clicks stay one interest, so multi equals the average)."""
    from engine.data.interactions import Holdout
    from engine.recsys.beyond import _genre

    rng = np.random.default_rng(0)
    # two genres of items, each a tight cluster; users click two of each then hold one out
    a = rng.normal(size=(1, 8)) + 0.05 * rng.normal(size=(20, 8))
    b = rng.normal(size=(1, 8)) + 0.05 * rng.normal(size=(20, 8))
    x = np.vstack([a, b, 0.5 * (a[:1] + b[:1]) + 0.3 * rng.normal(size=(20, 8))])
    x += 3.0                                                             # every cosine positive
    unit = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    genres = [frozenset({"Romance"})] * 20 + [frozenset({"Romance", "Horror"})] * 20 + [frozenset({"Drama"})] * 20
    hist = tuple(np.array([0, 1, 20 + u % 5, 2 + u % 7], dtype=np.int64) for u in range(12))
    test = Holdout(hist, np.full(12, 5, dtype=np.int64), hist)
    one = _genre({"mf": unit}, test, genres, 10, {"mf": 0.0})["by_space"]["mf"]
    three = _genre({"mf": unit}, test, genres, 10, {"mf": 1.0})["by_space"]["mf"]
    assert one["multi"] == one["average"]
    assert three["multi"] != one["multi"]
