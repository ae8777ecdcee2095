"""SASRec training machinery (engine/models/sasrec/train.py, tokens.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.models.sasrec.net import FullSoftmaxCE, SASRecConfig, SASRecNet
from engine.models.sasrec.tokens import SeenItems, training_samples, windows
from engine.models.sasrec.train import BestEpoch, WeightAverage, lr_at


@pytest.mark.parametrize("dense_limit", [10**9, 0])      # dense bitmap and sorted-key paths
def test_negatives_are_never_items_the_user_saw(monkeypatch, dense_limit):
    monkeypatch.setattr(SeenItems, "DENSE_LIMIT", dense_limit)
    rng = np.random.default_rng(0)
    seqs = [rng.choice(20, size=k, replace=False) for k in (1, 5, 19, 10)] + [np.arange(20)]  # last saw all
    seen = SeenItems(seqs, 20)
    rows = np.array([0, 1, 2, 3, 2, 4])
    neg = seen.sample(rows, (6, 7, 5), rng)                  # (B, T, K) tokens
    assert neg.shape == (6, 7, 5) and neg.min() >= 1 and neg.max() <= 20
    for b, u in enumerate(rows[:5]):
        assert not set((neg[b].ravel() - 1).tolist()) & set(seqs[u].tolist())
    assert set((neg[2].ravel() - 1).tolist()) == set(range(20)) - set(seqs[2].tolist())  # the one unseen item
    # a user who saw everything still gets samples (any item) instead of an endless loop
    assert neg[5].size == 35


def test_cosine_schedule_anneals_over_epochs_or_time_budget():
    const = SASRecConfig(lr=1e-3, lr_schedule="constant")
    assert lr_at(const, 1, 0.0) == lr_at(const, 50, 999.0) == 1e-3
    cos = SASRecConfig(lr=1e-3, epochs=10, lr_schedule="cosine", lr_floor=0.1)
    lrs = [lr_at(cos, e, 0.0) for e in range(1, 11)]
    assert lrs[0] == pytest.approx(1e-3) and all(a > b for a, b in zip(lrs, lrs[1:]))
    assert lrs[-1] > 1e-4 and lr_at(cos, 11, 0.0) == pytest.approx(1e-4)
    timed = SASRecConfig(lr=1e-3, epochs=100, lr_schedule="cosine", lr_floor=0.1, max_seconds=10)
    assert lr_at(timed, 2, 5.0) == pytest.approx(0.55e-3)  # half the time budget used: mid-way
    assert lr_at(timed, 2, 50.0) == pytest.approx(1e-4)    # budget exhausted: floor


def test_weight_average_is_applied_and_restored():
    torch.manual_seed(0)
    net = SASRecNet(5, SASRecConfig(hidden=8, maxlen=4))
    avg = WeightAverage(net, decay=0.5)
    before = [p.detach().clone() for p in net.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    avg.update()                                          # avg = 0.5 * before + 0.5 * (before + 1)
    with avg.applied():
        for p, b in zip(net.parameters(), before):
            assert torch.allclose(p, b + 0.5, atol=1e-6)
    for p, b in zip(net.parameters(), before):
        assert torch.equal(p, b + 1.0)                     # restored after the block


def test_windows_cover_every_target_once_in_all_mode():
    users, spans = windows([3, 1, 12], maxlen=5, mode="last")
    assert users.tolist() == [0, 2] and spans == [(1, 3), (7, 12)]
    users, spans = windows([3, 1, 12], maxlen=5, mode="all")
    assert users.tolist() == [0, 2, 2, 2] and spans == [(1, 3), (7, 12), (2, 7), (1, 2)]
    covered = sorted(t for (a, e), u in zip(spans, users) if u == 2 for t in range(a, e))
    assert covered == list(range(1, 12))                       # targets s[1:], each exactly once
    assert all(e - a <= 5 for a, e in spans)


def test_best_epoch_keeps_the_best_weights_and_counts_stale_checks():
    net = torch.nn.Linear(2, 1)
    best = BestEpoch("sum")
    assert best.offer(5, {"full": 0.1, "sampled": 0.4}, net)
    with torch.no_grad():
        net.weight.add_(1.0)
    assert not best.offer(10, {"full": 0.2, "sampled": 0.2}, net)     # sum 0.4 < 0.5
    assert best.epoch == 5 and best.stale == 1
    assert not torch.equal(best.state["weight"], net.weight)            # a copy, not the live tensor
    assert best.offer(15, {"full": 0.1, "sampled": 0.5}, net) and best.stale == 0
    assert BestEpoch("sampled").offer(1, {"full": 0.0, "sampled": 0.1}, net)


def test_training_samples_are_shifted_by_one():
    users, seq, pos, lengths = training_samples([np.array([3, 1, 4, 1, 5])], maxlen=3, mode="last")
    assert users.tolist() == [0] and lengths.tolist() == [3]
    assert seq.tolist() == [[2, 5, 2]] and pos.tolist() == [[5, 2, 6]]   # tokens = index + 1


@pytest.mark.parametrize("n_rows", [1, 1023, 1024, 2048, 2500])   # part of a chunk, exactly one / two, several
def test_chunked_softmax_ce_equals_cross_entropy(n_rows):
    g = torch.Generator().manual_seed(n_rows)
    h0, W0 = torch.randn(n_rows, 8, generator=g), torch.randn(37, 8, generator=g)
    y = torch.randint(0, 37, (n_rows,), generator=g)
    h, W = h0.clone().requires_grad_(), W0.clone().requires_grad_()
    ref = torch.nn.functional.cross_entropy(h @ W.T, y)
    (ref * 3).backward()
    h2, W2 = h0.clone().requires_grad_(), W0.clone().requires_grad_()
    got = FullSoftmaxCE.apply(h2, W2, y)
    (got * 3).backward()                                   # the upstream gradient is applied
    assert torch.allclose(got, ref, atol=1e-5)
    assert torch.allclose(h2.grad, h.grad, atol=1e-6) and torch.allclose(W2.grad, W.grad, atol=1e-6)


def test_sampled_softmax_with_every_item_as_negative_is_the_full_softmax():
    from engine.models.sasrec.net import sampled_softmax_ce

    torch.manual_seed(0)
    n, d = 30, 8
    table = torch.randn(n + 1, d)
    h = torch.randn(50, d)
    target = torch.randint(1, n + 1, (50,))
    full = torch.nn.functional.cross_entropy(h @ table[1:].T, target - 1)
    sampled = sampled_softmax_ce(h, table, target, torch.arange(1, n + 1))   # the target is masked once
    assert torch.allclose(sampled, full, atol=1e-5)
    few = sampled_softmax_ce(h, table, target, torch.tensor([1, 2, 3]))
    assert few < full                                                          # fewer competitors, smaller loss


def test_epoch_plan_bounds_only_big_data():
    from engine.models.sasrec.train import epoch_plan

    cfg = SASRecConfig()
    small = epoch_plan(cfg, np.full(943, 100), 1682)                        # ml-100k: ~94k positions per epoch
    assert not small["bounded"] and small["epochs"] == cfg.epochs and small["users_per_epoch"] == 1.0
    assert small["ce_loss"] == "full" and small["summary"].startswith("not bounded")
    ten_k = epoch_plan(cfg, np.full(610, 90), 9_742)                         # ml-latest-small: 55k positions
    assert ten_k["ce_loss"] == "sampled" and ten_k["epochs"] == cfg.epochs  # sampled softmax, every epoch
    mid = epoch_plan(cfg, np.full(30_000, 80), 40_000)                      # 2.4M positions per epoch
    assert mid["bounded"] and mid["ce_loss"] == "sampled" and mid["epochs"] == cfg.max_positions // 2_400_000
    assert mid["users_per_epoch"] == 1.0 and "sampled softmax over 1,024 negatives" in mid["summary"]
    huge = epoch_plan(cfg, np.full(200_000, 160), 87_585)                   # 32M positions per epoch
    assert huge["epochs"] == cfg.min_epochs
    assert huge["users_per_epoch"] * 32_000_000 * huge["epochs"] == pytest.approx(cfg.max_positions, rel=1e-3)


def test_a_bigger_catalogue_never_plans_less_work():
    """A 10k catalogue with few long-history users (ml-latest-small's shape) must not cost more than a
    40k one with many users: per net, neither more trained positions nor a wider softmax per position
    (with the bound at 20,000 movies, ml-latest-small scored all 9,742 movies at every position)."""
    from engine.models.sasrec.train import epoch_plan

    cfg = SASRecConfig()
    shapes = [(np.full(943, 88), 1_682), (np.full(610, 92), 9_742), (np.full(30_000, 100), 40_000),
              (np.full(200_948, 150), 87_585)]                   # ml-100k, ml-latest-small, synth 40k, synth 87k
    plans = [epoch_plan(cfg, lengths, n) for lengths, n in shapes]
    ten_k, forty_k = plans[1], plans[2]
    assert ten_k["positions_total"] <= forty_k["positions_total"]
    assert ten_k["softmax_classes"] <= forty_k["softmax_classes"]
    for a, b in zip(plans[1:], plans[2:]):                     # from 10k movies on, work never shrinks
        assert a["positions_total"] <= b["positions_total"] and a["softmax_classes"] <= b["softmax_classes"]
    assert plans[0]["positions_total"] == 943 * 88 * cfg.epochs   # ml-100k: every epoch, every user


def test_epoch_plan_leaves_ml100k_unbounded(ml100k):
    from engine.models.base import Interactions
    from engine.models.sasrec.train import epoch_plan

    data = Interactions.from_ratings(ml100k.ratings, ml100k.movies)
    cfg = SASRecConfig()
    lengths = training_samples([s for s in data.sequences if len(s) >= 2], cfg.maxlen, cfg.windows)[3]
    plan = epoch_plan(cfg, lengths, data.n_items)
    assert not plan["bounded"] and plan["epochs"] == 100 and plan["ce_loss"] == "full"


def test_bounded_fit_learns_and_reports_its_bounds():
    """Sampled softmax + a share of users per epoch still learn the planted sequence."""
    from engine.models import get_model
    from engine.models.popularity import PopularityModel
    from engine.models.metrics import evaluate_full
    from engine.recsys.splits import leave_one_out

    from .synth import cyclic_ratings

    split = leave_one_out(cyclic_ratings(n_users=64, n_items=30, seed=1), min_count=1)
    test = split.test_holdout()
    # 30 items > full_softmax_items=10: sampled softmax with 8 negatives; max_positions allows
    # about half of the users in each of the 25 epochs
    sas = get_model("sasrec", epochs=25, hidden=32, maxlen=20, lr=1e-2, batch_size=16, dropout=0.1, members=("ce",),
                    full_softmax_items=10, ce_negatives=8, max_positions=25 * 400, min_epochs=25).fit(split.train_data())
    b = sas.fit_info["bounds"]
    assert b["bounded"] and b["ce_loss"] == "sampled" and b["epochs"] == 25 and 0.3 < b["users_per_epoch"] < 0.7
    assert "sampled softmax over 8 negatives" in b["summary"] and sas.fit_info["time_guard_fired"] is False
    pop = PopularityModel().fit(split.train_data())
    s_full, p_full = evaluate_full(sas, test), evaluate_full(pop, test)
    assert s_full["ndcg@10"] > p_full["ndcg@10"] + 0.3, (s_full, p_full)


def test_time_guard_is_loud_and_recorded(caplog):
    from engine.models import get_model

    from .synth import interactions

    with caplog.at_level("WARNING"):
        m = get_model("sasrec", epochs=10_000, hidden=16, maxlen=10, max_seconds=0.5, members=("bce",)).fit(interactions())
    assert m.fit_info["time_guard_fired"] is True and 1 <= m.fit_info["epochs_run"] < 10_000
    assert "TIME GUARD FIRED" in caplog.text
    quiet = get_model("sasrec", epochs=2, hidden=16, maxlen=10, members=("bce",)).fit(interactions())
    assert quiet.fit_info["time_guard_fired"] is False and quiet.fit_info["epochs_run"] == 2


def test_device_auto_is_cpu_here_and_cuda_without_gpu_is_one_sentence():
    from engine.core.errors import MovieDNAError
    from engine.models import get_model

    from .synth import interactions

    with pytest.raises(ValueError, match="device"):
        SASRecConfig(device="tpu")
    small = dict(epochs=2, hidden=16, maxlen=10, members=("ce",))
    cpu = get_model("sasrec", **small).fit(interactions())
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the no-GPU message cannot be checked here")
    auto = get_model("sasrec", device="auto", **small).fit(interactions())
    assert np.array_equal(auto.item_embeddings(), cpu.item_embeddings())     # auto = cpu, same weights
    with pytest.raises(MovieDNAError, match="no CUDA GPU"):
        get_model("sasrec", device="cuda", **small).fit(interactions())
    from engine.service.build import build_config
    assert build_config("sasrec", device="auto").device == "auto" and build_config("mf", device="cuda") == build_config("mf")


def test_a_long_epoch_reports_progress_between_epochs(monkeypatch):
    """Without a terminal a build prints progress lines; one epoch of a big catalogue lasts minutes,
    so lines come from inside the epoch too, with fractions that never go back."""
    import engine.models.sasrec.train as train_mod
    from engine.models import get_model

    from .synth import interactions

    monkeypatch.setattr(train_mod, "PROGRESS_EVERY_S", 0.0)
    seen: list[tuple[float, str]] = []
    get_model("sasrec", epochs=2, hidden=16, maxlen=10, batch_size=4, members=("bce",)).fit(
        interactions(), progress=lambda f, msg: seen.append((f, msg)))
    inside = [(f, m) for f, m in seen if "batch" in m]
    assert inside and any("epoch 1/2, batch" in m for _, m in inside)
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and 0 < inside[0][0] < 0.5
