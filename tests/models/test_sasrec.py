"""SASRec specifics: causality, padding, the planted sequential pattern, scoring shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.models.metrics import evaluate_full, evaluate_sampled
from engine.models import get_model
from engine.models.sasrec.net import Dropout, SASRecConfig, SASRecNet
from engine.models.sasrec.tokens import pad_left
from engine.recsys.splits import leave_one_out

from .synth import cyclic_ratings


@pytest.fixture(scope="module", params=["pre_ln", "pmixer"])
def net(request) -> SASRecNet:
    torch.manual_seed(0)
    n = SASRecNet(30, SASRecConfig(maxlen=12, hidden=16, blocks=2, heads=2, block_style=request.param))
    return n.eval()


def test_changing_a_later_item_never_changes_earlier_outputs(net):
    seq = torch.tensor([[0, 0, 3, 7, 9, 2, 5, 11, 4, 8, 1, 6]])
    base = net.hidden_states(seq)
    for t in range(2, 12):
        changed = seq.clone()
        changed[0, t] = 20
        out = net.hidden_states(changed)
        assert torch.allclose(out[0, :t], base[0, :t], atol=1e-6), t
        assert not torch.allclose(out[0, t], base[0, t])


def test_padding_has_no_effect(net):
    hist = [np.array([2, 6, 10, 8])]                             # item indices
    short = torch.from_numpy(pad_left(hist, 4))                  # no padding
    long = torch.from_numpy(pad_left(hist, 12))                  # 8 padding positions
    assert torch.allclose(net.last_hidden(short), net.last_hidden(long), atol=1e-6)
    # the padding token's embedding is irrelevant too
    with torch.no_grad():
        net.item_emb.weight[0] += 5.0
    try:
        assert torch.allclose(net.last_hidden(short), net.last_hidden(long), atol=1e-6)
    finally:
        with torch.no_grad():
            net.item_emb.weight[0] -= 5.0


def test_shared_item_embeddings_are_the_vectors():
    from .synth import interactions

    m = get_model("sasrec", epochs=1, hidden=16, maxlen=10, members=("ce",)).fit(interactions())
    with torch.no_grad():
        table = (m.net.item_emb.weight + m.net.side @ m.net.side_emb).numpy()   # id + side information
    assert np.allclose(m.item_embeddings(), table[1:])
    assert table.shape[0] == len(m.item_ids()) + 1 and not table[0].any()      # index 0 = padding
    plain = get_model("sasrec", epochs=1, hidden=16, maxlen=10, side_info=False, members=("ce",)).fit(interactions())
    assert plain.net.side is None
    assert np.array_equal(plain.item_embeddings(), plain.net.item_emb.weight.detach().numpy()[1:])
    # scores are dot products with the same table the input side reads
    h = plain.user_states([np.array([0, 1])])
    assert np.allclose(plain.score_indices([np.array([0, 1])]), h @ plain.item_embeddings().T, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("loss,bce_weight,extra", [
    ("ce", 0.0, {}), ("bce", 0.0, {}), ("ce", 5.0, {}),
    ("ce", 5.0, {"neg_samples": 8, "lr_schedule": "cosine", "windows": "all", "ema": 0.9, "block_style": "pmixer"}),
    ("ce+bce", 5.0, {}),                                     # the default pair of nets
])
def test_learns_planted_sequence_better_than_popularity(loss, bce_weight, extra):
    from engine.models.popularity import PopularityModel

    split = leave_one_out(cyclic_ratings(n_users=64, n_items=30, seed=1), min_count=1)
    test = split.test_holdout()
    neg = split.sample_negatives(10, seed=0)
    cfg = dict(epochs=25 if loss == "ce" else 40, hidden=32, maxlen=20, lr=1e-2, batch_size=64, dropout=0.1, attn_dropout=0.0, members=tuple(loss.split("+")), bce_weight=bce_weight, **extra)
    sas = get_model("sasrec", **cfg).fit(split.train_data())
    pop = PopularityModel().fit(split.train_data())
    s_full, p_full = evaluate_full(sas, test), evaluate_full(pop, test)
    assert s_full["hr@10"] > 0.8, s_full
    assert s_full["ndcg@10"] > p_full["ndcg@10"] + 0.3, (s_full, p_full)
    assert evaluate_sampled(sas, test, neg)["ndcg@10"] > evaluate_sampled(pop, test, neg)["ndcg@10"] + 0.3


def test_score_shapes_for_a_long_candidate_list():
    # speed of this call is measured in benchmarks/bench_rerank.py, not asserted here
    from .synth import interactions

    m = get_model("sasrec", epochs=1, maxlen=200, hidden=64).fit(interactions(n_items=40))
    ids = m.item_ids()
    hist, cand = ids[:10].tolist(), np.resize(ids, 100)
    s = m.score(hist, cand)
    assert s.shape == (100,) and s.dtype == np.float32 and np.isfinite(s).all()
    assert np.array_equal(s[:40], s[40:80])                  # same candidate, same score


def test_dropout_keeps_the_expectation():
    torch.manual_seed(0)
    d = Dropout(0.2)
    x = torch.ones(200_000)
    y = d.train()(x)
    assert abs((y == 0).float().mean().item() - 0.2) < 0.01
    assert abs(y.mean().item() - 1.0) < 0.01
    assert torch.equal(d.eval()(x), x)


def test_bad_config():
    with pytest.raises(ValueError):
        SASRecConfig(members=("hinge",))
    with pytest.raises(ValueError):
        SASRecConfig(members=())
    with pytest.raises(ValueError):
        SASRecConfig(hidden=10, heads=3)
    with pytest.raises(ValueError):
        SASRecConfig(lr_schedule="step")
    with pytest.raises(ValueError):
        SASRecConfig(neg_samples=0)


@pytest.mark.parametrize("members", [1, 2])
def test_fit_with_weight_average_and_validation_records_both_protocols(members):
    split = leave_one_out(cyclic_ratings(n_users=32, n_items=20, seed=2), min_count=1)
    m = get_model("sasrec", epochs=4, eval_every=2, hidden=16, maxlen=10, ema=0.9, members=("ce", "bce")[:members],
                  select_on="sum").fit(split.train_data(), valid=split.valid_holdout())
    hist = m.fit_info["history"]
    assert [(h["member"], h["epoch"]) for h in hist] == [(k, e) for k in range(members) for e in (2, 4)]
    assert all(0 <= h["valid_sampled_ndcg@10"] <= 1 and 0 <= h["valid_ndcg@10"] <= 1 for h in hist)
    best = m.fit_info["best_epoch"] if members > 1 else [m.fit_info["best_epoch"]]
    assert len(best) == members and all(b in (2, 4) for b in best)
    assert 0 <= m.fit_info["valid_ndcg@10"] <= 1                  # the ensemble's own figure when members > 1


def test_side_features_are_genres_and_decades():
    from engine.models.sasrec.tokens import side_features

    from .synth import movies_frame

    movies = movies_frame(4)
    movies["genres"] = [["Drama"], ["Comedy", "Drama"], ["Horror", "Sci-Fi"], ["Comedy", "Romance"]]
    movies.loc[3, "year"] = None                                   # unknown year: genres only
    f = side_features(movies, movies["movie_id"].to_numpy()[[2, 0, 3]])
    assert f.shape[0] == 4 and f.dtype == np.float32 and not f[0].any()   # row 0 = padding
    assert np.allclose(f[1:].sum(1), 1.0)                           # row-normalised
    assert (f[1] > 0).sum() == 3 and (f[3] > 0).sum() == 2          # 2 genres + decade; 2 genres


def test_side_info_model_round_trips_and_keeps_padding_irrelevant(tmp_path):
    from .synth import interactions

    m = get_model("sasrec", epochs=2, hidden=16, maxlen=10, side_info=True, members=("ce",)).fit(interactions())
    assert m.net.side is not None and m.item_embeddings().shape == (40, 16)
    path = tmp_path / "s.npz"
    m.save(path)
    back = type(m).load(path)
    assert np.array_equal(back.item_embeddings(), m.item_embeddings())
    hist, cand = m.item_ids()[:4].tolist(), m.item_ids()
    assert np.allclose(back.score(hist, cand), m.score(hist, cand))
    short = torch.from_numpy(pad_left([np.array([1, 2, 3])], 3))
    long = torch.from_numpy(pad_left([np.array([1, 2, 3])], 10))
    assert torch.allclose(m.net.last_hidden(short), m.net.last_hidden(long), atol=1e-6)


def test_members_are_an_ensemble_whose_vectors_sum_the_scores(tmp_path):
    from .synth import interactions

    data = interactions()
    ens = get_model("sasrec", epochs=2, hidden=16, maxlen=10, members=("ce", "bce")).fit(data)
    assert len(ens.nets) == 2 and ens.item_embeddings().shape == (40, 32)
    # member k is the single-net model with that loss, trained with seed + k
    solo = [get_model("sasrec", epochs=2, hidden=16, maxlen=10, members=(loss,), seed=42 + k).fit(data)
            for k, loss in enumerate(("ce", "bce"))]
    assert np.allclose(ens.item_embeddings()[:, :16], solo[0].item_embeddings(), atol=1e-6)
    assert np.allclose(ens.item_embeddings()[:, 16:], solo[1].item_embeddings(), atol=1e-6)
    assert not np.allclose(ens.item_embeddings()[:, :16], ens.item_embeddings()[:, 16:])
    hist, cand = ens.item_ids()[:4].tolist(), ens.item_ids()
    assert np.allclose(ens.score(hist, cand), solo[0].score(hist, cand) + solo[1].score(hist, cand), atol=1e-4)
    # one dot product in the concatenated space is the ensemble's score (what the vector index uses)
    h = ens.user_states([np.array([0, 1])])
    assert np.allclose(ens.score_indices([np.array([0, 1])]), h @ ens.item_embeddings().T, atol=1e-5)
    path = tmp_path / "ens.npz"
    ens.save(path)
    back = type(ens).load(path)
    assert np.array_equal(back.item_embeddings(), ens.item_embeddings())
    assert np.allclose(back.score(hist, cand), ens.score(hist, cand))
    assert isinstance(ens.fit_info["best_epoch"], list) and len(ens.fit_info["history"]) == 0


@pytest.mark.parametrize("first_net_took, second_share", [(0.3, 0.7), (0.8, 0.25)])
def test_members_share_the_time_budget(monkeypatch, first_net_took, second_share):
    """The budget is split by a clock the test owns: the second net gets what the first left, and never
    less than half an even share when the first overran (no wall-clock timing in the assertion)."""
    import types

    import engine.models.sasrec.model as sasrec_module

    from .synth import interactions

    clock = [100.0]
    monkeypatch.setattr(sasrec_module, "time", types.SimpleNamespace(perf_counter=lambda: clock[0]))
    shares, real = [], sasrec_module.train_net

    def recording(model, net, cfg, *args):
        shares.append(cfg.max_seconds)
        out = real(model, net, cfg, *args)
        clock[0] += first_net_took if len(shares) == 1 else 0.0
        return out

    monkeypatch.setattr(sasrec_module, "train_net", recording)
    m = get_model("sasrec", epochs=1000, hidden=16, maxlen=10, max_seconds=1.0).fit(interactions())
    assert shares == [pytest.approx(0.5), pytest.approx(second_share)]
    runs = m.fit_info["epochs_run"]
    assert len(runs) == 2 and all(1 <= r < 1000 for r in runs)    # both stopped by their (real) guard
    shares.clear()
    get_model("sasrec", epochs=2, hidden=16, maxlen=10).fit(interactions())
    assert shares == [0.0, 0.0]                                     # no budget: none is imposed


def test_dropout_masks_are_seeded_and_keep_the_expected_share():
    # edge cases: tiny p rounds to none, an empty tensor passes through
    tiny = Dropout(0.001)
    tiny.gen = np.random.default_rng(0)
    assert torch.equal(tiny.train()(torch.ones(50)), torch.ones(50))
    assert Dropout(0.2).train()(torch.ones(0, 4)).shape == (0, 4)
    torch.manual_seed(0)
    d = Dropout(0.2)
    d.gen = np.random.default_rng(5)
    x = torch.ones(200, 500)
    y = d.train()(x)
    kept = (y > 0).float().mean().item()
    assert abs(kept - (1 - 51 / 256)) < 0.01                       # p rounded to 51/256
    assert abs(y.mean().item() - 1.0) < 0.01                       # inverted: expectation preserved
    d.gen = np.random.default_rng(5)
    assert torch.equal(d(x), y)
    assert torch.equal(d.eval()(x), x)


def test_scoring_one_user_never_changes_the_process_thread_count(monkeypatch):
    """A page's single history is scored with one thread for the calling thread only: torch's
    process-wide setting is never touched on the query path (it was set to 1 and back per call)."""
    from .synth import interactions

    m = get_model("sasrec", epochs=1, hidden=16, maxlen=10, members=("ce",)).fit(interactions())
    before = torch.get_num_threads()

    def refuse(n):
        raise AssertionError(f"torch.set_num_threads({n}) on the query path")

    monkeypatch.setattr(torch, "set_num_threads", refuse)
    scores = m.score(m.item_ids()[:3].tolist(), m.item_ids()[3:20])
    assert scores.shape == (17,) and np.isfinite(scores).all()
    assert torch.get_num_threads() == before
