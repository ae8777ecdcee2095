"""Wide & Deep: features, training samples, user demographics, the no-demographics fallback."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from engine.models.base import Holdout, Interactions
from engine.models.widedeep import WideDeepConfig, WideDeepModel
from engine.models.widedeep.features import ItemFeatures, UserFeatures, age_band
from engine.models.widedeep.net import Sizes, WideDeepNet
from engine.models.widedeep.train import history_matrix, training_samples
from engine.models.metrics import full_ranks
from engine.recsys.splits import leave_one_out

from .synth import GENRES, genre_by_gender_ratings, interactions, movies_frame, users_frame

SMALL = dict(dim=8, feat_dim=4, hidden=(16,), history=5)


def test_age_bands_are_the_movielens_1m_bands():
    assert [age_band(a) for a in (7, 17, 18, 24, 25, 34, 35, 44, 45, 49, 50, 55, 56, 80)] == \
        [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7]
    assert age_band(None) == age_band("?") == age_band(0) == age_band(float("nan")) == 0


def test_user_features_unknown_ids_and_missing_columns():
    uf = UserFeatures.build(users_frame([1, 2, 3]))
    assert uf.available == ["age", "gender", "occupation"]
    rows = uf.rows([3, 99, 2], 3)
    assert rows.tolist()[1] == [0, 0, 0]                      # unknown user -> unknown features
    assert rows[0, 1] != rows[2, 1] and rows[0, 1] > 0
    assert uf.rows(None, 2).tolist() == [[0, 0, 0], [0, 0, 0]]
    assert uf.encode({"age": 24, "gender": "F", "occupation": "nobody"}).tolist() == [2, rows[0, 1], 0]
    only_ids = UserFeatures.build(pd.DataFrame({"user_id": [1, 2]}))   # ml-latest-small has no demographics
    assert only_ids.available == [] and only_ids.rows([1], 1).tolist() == [[0, 0, 0]]


def test_item_features():
    movies = movies_frame(6)
    movies.loc[2, "year"] = pd.NA
    f = ItemFeatures.build(movies, movies["movie_id"].to_numpy(), np.array([0, 1, 3, 7, 100, 10_000]))
    assert f.genres.shape == (6, len(set(g for gs in movies["genres"] for g in gs)))
    assert f.genres.sum(1).tolist() == [float(len(set(g))) for g in movies["genres"]]
    assert f.decade[2] == 0 and (np.delete(f.decade, 2) > 0).all()
    assert f.pop.tolist() == [1, 2, 3, 4, 7, 13]              # 1 + floor(log2(1 + count)), capped


def test_training_samples_match_history_matrix():
    seqs = [np.array([4, 2, 7, 1, 3, 9, 5]), np.array([0]), np.array([6, 8])]
    rows, hist, target = training_samples(seqs, 3, pad=10)
    assert rows.tolist() == [0] * 6 + [2] and target.tolist() == [2, 7, 1, 3, 9, 5, 8]
    for r, h, t in zip(rows, hist, target):
        s = seqs[r].tolist()
        prefix = s[:s.index(int(t))]
        assert sorted(h.tolist()) == sorted(history_matrix([np.array(prefix)], 3, 10)[0].tolist())


def test_split_first_layer_equals_concatenation():
    """The deep part's split first layer is the concatenated layer of the paper."""
    torch.manual_seed(0)
    cfg = WideDeepConfig(**SMALL, parts=("deep",), dropout=0.0)
    net = WideDeepNet(cfg, Sizes(5, 3, 2, 4, 8, 3, 3), torch.randint(0, 2, (5, 3)).float(),
                      torch.randint(0, 2, (5,)), torch.randint(0, 4, (5,))).eval()
    hist, feats, items = torch.tensor([[0, 1, 5, 5, 5]]), torch.tensor([[2, 1, 1]]), torch.tensor([[3, 4]])
    u, it = net.user_side(hist, feats), net.item_side(items)
    table = net.item_table()
    h = table[[0, 1]].mean(0)
    xu = torch.cat([h, net.age_emb.weight[2], net.gender_emb.weight[1], net.occupation_emb.weight[1]])
    for c, i in enumerate([3, 4]):
        xi = torch.cat([table[i], net.genres[i] / net.genres[i].sum().clamp_min(1) @ net.genre_emb,
                        net.decade_emb.weight[net.decade[i]], net.pop_emb.weight[net.pop[i]]])
        w = torch.cat([net.first_user.weight, net.first_item.weight], 1)
        want = net.mlp(w @ torch.cat([xu, xi]) + net.first_item.bias)
        assert torch.allclose(net.logits(u, it)[0, c], want[0], atol=1e-5)


def _gender_data():
    ratings = genre_by_gender_ratings()
    return ratings, Interactions.from_ratings(ratings, movies_frame(40), users_frame(ratings["user_id"]))


def test_demographics_are_learnt_and_used():
    """Women click Comedy/Romance, men Action/Horror: told only the gender, the model must rank
    the right genres first for a history that says nothing (one movie of each side)."""
    _, data = _gender_data()
    m = WideDeepModel(WideDeepConfig(**SMALL, epochs=25, user_dropout=0.0)).fit(data)
    assert m.fit_info["user_features"] == ["age", "gender", "occupation"] and "note" not in m.fit_info
    movies = movies_frame(40)
    first = np.array([gs[0] for gs in movies["genres"]])
    ids = movies["movie_id"].to_numpy()
    neutral = [int(ids[list(first).index("Comedy")]), int(ids[list(first).index("Action")])]
    cand = ids[np.isin(first, ["Comedy", "Romance", "Action", "Horror"]) & ~np.isin(ids, neutral)]
    female = np.isin(first[np.isin(ids, cand)], ["Comedy", "Romance"])
    for user, want in ((1, female), (2, ~female), ({"age": 22, "gender": "F", "occupation": "student"}, female)):
        s = m.score(neutral, cand, user=user)
        top = np.argsort(-s)[:int(want.sum())]
        assert want[top].mean() >= 0.9, (user, want[top].mean())


def test_holdout_user_ids_reach_the_model():
    """Leave-one-out holdouts carry user ids, and the metrics pass them to a model that reads them."""
    ratings, data = _gender_data()
    split = leave_one_out(ratings, min_count=3)
    assert np.array_equal(split.test_holdout().user_ids, split.user_ids)
    train = split.train_data(movies_frame(40), users_frame(ratings["user_id"]))
    m = WideDeepModel(WideDeepConfig(**SMALL, epochs=8, user_dropout=0.0)).fit(train, valid=split.valid_holdout())
    test = split.test_holdout()
    with_users = full_ranks(m, test)
    blind = full_ranks(m, Holdout(test.histories, test.targets, test.exclude))        # no user ids
    assert with_users.mean() < blind.mean()
    assert m.fit_info["best_epoch"] >= 1 and len(m.fit_info["history"]) == m.fit_info["epochs_run"]


def test_fallback_without_demographics_says_so():
    data = interactions()                                      # users frame absent
    m = WideDeepModel(WideDeepConfig(**SMALL, epochs=2)).fit(data)
    assert m.fit_info["user_features"] == [] and "no user demographics" in m.fit_info["note"]
    ids = m.item_ids()
    s = m.score(ids[:3].tolist(), ids[3:9], user=12345)          # a user the model never saw: unknown
    assert np.allclose(s, m.score(ids[:3].tolist(), ids[3:9]))


def test_score_candidates_equals_full_scores():
    data = interactions()
    m = WideDeepModel(WideDeepConfig(**SMALL, epochs=2)).fit(data)
    hist = [data.sequences[0][:4], data.sequences[1][:7]]
    full = m.score_indices(hist)
    cand = np.array([[0, 5, 9], [3, 2, 1]])
    assert np.allclose(m.score_candidates(hist, cand), np.take_along_axis(full, cand, 1), atol=1e-5)


def test_save_load_keeps_demographics(tmp_path):
    _, data = _gender_data()
    m = WideDeepModel(WideDeepConfig(**SMALL, epochs=2)).fit(data)
    back = WideDeepModel.load(tmp_path / "wd.npz") if m.save(tmp_path / "wd.npz") else None
    ids = m.item_ids()
    for user in (1, 2, None, {"gender": "M"}):
        assert np.allclose(back.score(ids[:2].tolist(), ids, user=user), m.score(ids[:2].tolist(), ids, user=user),
                           atol=1e-6)


def test_config_validation():
    with pytest.raises(ValueError):
        WideDeepConfig(parts=("wide", "cnn"))
    with pytest.raises(ValueError):
        WideDeepConfig(loss="hinge")
    assert WideDeepConfig(hidden=[32, 16]).hidden == (32, 16)     # a list from JSON
    assert GENRES                                                 # the synthetic genres exist
