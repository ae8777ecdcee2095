"""SASRec specifics: causality, padding, the planted sequential pattern, scoring speed."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from engine.metrics import evaluate_full, evaluate_sampled
from engine.models import get_model
from engine.models.sasrec import SASRecConfig, SASRecNet, _pad_left
from engine.splits import leave_one_out

from .synth import cyclic_ratings


@pytest.fixture(scope="module")
def net() -> SASRecNet:
    torch.manual_seed(0)
    n = SASRecNet(30, SASRecConfig(maxlen=12, hidden=16, blocks=2, heads=2))
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
    short = torch.from_numpy(_pad_left(hist, 4))                  # no padding
    long = torch.from_numpy(_pad_left(hist, 12))                  # 8 padding positions
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

    m = get_model("sasrec", epochs=1, hidden=16, maxlen=10).fit(interactions())
    assert np.array_equal(m.item_embeddings(), m.net.item_emb.weight.detach().numpy()[1:])
    assert m.net.item_emb.weight.shape[0] == len(m.item_ids()) + 1   # index 0 = padding


@pytest.mark.slow
@pytest.mark.parametrize("loss,bce_weight", [("ce", 0.0), ("bce", 0.0), ("ce", 5.0)])
def test_learns_planted_sequence_better_than_popularity(loss, bce_weight):
    from engine.evaluate import PopularityModel

    split = leave_one_out(cyclic_ratings(n_users=64, n_items=30, seed=1), min_count=1)
    test = split.test_holdout()
    neg = split.sample_negatives(10, seed=0)
    cfg = dict(epochs=25 if loss == "ce" else 40, hidden=32, maxlen=20, lr=1e-2, batch_size=64, dropout=0.1, attn_dropout=0.0, loss=loss, bce_weight=bce_weight)
    sas = get_model("sasrec", **cfg).fit(split.train_data())
    pop = PopularityModel().fit(split.train_data())
    s_full, p_full = evaluate_full(sas, test), evaluate_full(pop, test)
    assert s_full["hr@10"] > 0.8, s_full
    assert s_full["ndcg@10"] > p_full["ndcg@10"] + 0.3, (s_full, p_full)
    assert evaluate_sampled(sas, test, neg)["ndcg@10"] > evaluate_sampled(pop, test, neg)["ndcg@10"] + 0.3


def test_score_is_fast():
    from .synth import interactions

    m = get_model("sasrec", epochs=1, maxlen=200, hidden=64).fit(interactions(n_items=40))
    ids = m.item_ids()
    hist, cand = ids[:10].tolist(), np.resize(ids, 100)
    m.score(hist, cand)
    times = []
    for _ in range(15):
        t = time.perf_counter()
        s = m.score(hist, cand)
        times.append(time.perf_counter() - t)
    assert s.shape == (100,) and s.dtype == np.float32
    assert min(times) < 0.03, times                         # min: robust to a busy machine


def test_bad_config():
    with pytest.raises(ValueError):
        SASRecConfig(loss="hinge")
    with pytest.raises(ValueError):
        SASRecConfig(hidden=10, heads=3)
