"""SASRec training: best-epoch keeping, batches, one epoch, weight averaging, the learning-rate
schedule and the training loop of one net.

Imports the network (:mod:`engine.models.sasrec.net`) and the tokens (:mod:`engine.models.sasrec.tokens`);
never imported by them.  Only :func:`train_net` touches the model wrapper, to score validation through it.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import time
from typing import Any, Callable, Iterator

import numpy as np
import torch
import torch.nn as nn
from tqdm.auto import tqdm

from engine.models.metrics import holdout_metrics

from engine.models.sasrec.net import SASRecConfig, SASRecNet
from engine.models.sasrec.tokens import SeenItems

log = logging.getLogger("engine.models.sasrec")


class BestEpoch:
    """Keeps the weights of the epoch with the best validation NDCG@10 (``select_on``: "full",
    "sampled" or "sum" of the two) and counts checks without improvement (for patience)."""

    def __init__(self, select_on: str) -> None:
        self.select_on = select_on
        self.score, self.epoch, self.stale = -math.inf, 0, 0
        self.state: dict[str, torch.Tensor] | None = None
        self.metrics: dict[str, float] = {}

    def offer(self, epoch: int, metrics: dict[str, float], net: nn.Module) -> bool:
        score = metrics["full"] + metrics["sampled"] if self.select_on == "sum" else metrics[self.select_on]
        if score <= self.score:
            self.stale += 1
            return False
        self.score, self.epoch, self.stale, self.metrics = score, epoch, 0, dict(metrics)
        self.state = copy.deepcopy(net.state_dict())
        return True


#: seconds between progress reports inside one epoch
PROGRESS_EVERY_S = 5.0


def length_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator, group: int = 16) -> list[np.ndarray]:
    """Shuffle users, sort each group of ``group`` batches by length, return the batches in random order.

    Batches of similar length waste little compute on padding (which has no effect on results).
    """
    order = rng.permutation(len(lengths))
    batches = []
    span = batch_size * group
    for g in range(0, len(order), span):
        chunk = order[g:g + span]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[b:b + batch_size] for b in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def train_epoch(net: SASRecNet, opt: torch.optim.Optimizer, batches: list[np.ndarray], seq_all: np.ndarray,
                 pos_all: np.ndarray, users: np.ndarray, seen: "SeenItems", rng: np.random.Generator,
                 avg: "WeightAverage | None", on_batch: Callable[[int, int], None] | None = None) -> float:
    """One pass over ``batches`` (rows of seq_all / pos_all, int64 (S, maxlen); users int64 (S,) the
    training user of each row); returns the mean loss.  ``on_batch(done, total)`` after each batch
    (an epoch of a big catalogue lasts minutes)."""
    cfg = net.cfg
    dev = net.item_emb.weight.device                                 # cpu, or the GPU of --device cuda
    net.train()
    total = 0.0
    for b, rows in enumerate(batches):
        seq, pos = seq_all[rows], pos_all[rows]
        width = int((seq > 0).sum(1).max())                          # trim all-padding columns
        seq, pos = seq[:, -width:], pos[:, -width:]                  # (B, T)
        neg = None
        if net.loss == "bce" or cfg.bce_weight > 0:
            neg = torch.from_numpy(seen.sample(users[rows], pos.shape + (net.neg_samples,), rng)).to(dev)  # (B, T, K)
        ce_neg = (torch.from_numpy(rng.integers(1, net.n_items + 1, size=cfg.ce_negatives)).to(dev)
                  if net.sampled_ce else None)
        loss = net(torch.from_numpy(seq).to(dev), torch.from_numpy(pos).to(dev), neg, ce_neg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if avg is not None:
            avg.update()
        total += loss.item()
        if on_batch is not None:
            on_batch(b + 1, len(batches))
    return total / max(1, len(batches))


class WeightAverage:
    """Exponential moving average of the parameters (Polyak averaging), updated every step.

    Averaging smooths the step-to-step noise of a small data set; validation and the final
    model use the averaged weights."""

    def __init__(self, net: nn.Module, decay: float) -> None:
        self.decay = decay
        self.params = list(net.parameters())
        self.avg = [p.detach().clone() for p in self.params]

    @torch.no_grad()
    def update(self) -> None:
        for a, p in zip(self.avg, self.params):
            a.lerp_(p, 1.0 - self.decay)

    @torch.no_grad()
    def apply(self) -> None:
        for a, p in zip(self.avg, self.params):
            p.copy_(a)

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        """Temporarily load the averaged weights into the network."""
        saved = [p.detach().clone() for p in self.params]
        self.apply()
        try:
            yield
        finally:
            with torch.no_grad():
                for s, p in zip(saved, self.params):
                    p.copy_(s)


def lr_at(cfg: SASRecConfig, epoch: int, elapsed: float) -> float:
    """Learning rate for ``epoch`` (1-based). Cosine decays over the epochs or, when a time budget
    is set and would run out first, over the seconds, so a budget-capped build still anneals."""
    if cfg.lr_schedule == "constant":
        return cfg.lr
    done = (epoch - 1) / cfg.epochs
    if cfg.max_seconds:
        done = max(done, elapsed / cfg.max_seconds)
    return cfg.lr * (cfg.lr_floor + (1 - cfg.lr_floor) * 0.5 * (1 + math.cos(math.pi * min(done, 1.0))))


def epoch_plan(cfg: SASRecConfig, lengths: np.ndarray, n_items: int) -> dict[str, Any]:
    """How training is bounded for a data set: epochs, share of users per epoch, softmax kind.

    lengths int64 (S,): trained positions of each sample.  Deterministic (never the clock): the
    same data and config always give the same plan.  On ml-100k (~95k positions per epoch,
    1,682 items) nothing is bounded.
    """
    per_epoch = int(lengths.sum())
    epochs, share = cfg.epochs, 1.0
    if cfg.max_positions and per_epoch * cfg.epochs > cfg.max_positions:
        epochs = max(min(cfg.epochs, cfg.min_epochs), cfg.max_positions // max(per_epoch, 1))
        if per_epoch * epochs > cfg.max_positions:
            share = cfg.max_positions / (per_epoch * epochs)
    sampled = n_items > cfg.full_softmax_items
    bounded = epochs < cfg.epochs or share < 1.0 or sampled
    parts = []
    if sampled:
        parts.append(f"sampled softmax over {cfg.ce_negatives:,} negatives instead of all {n_items:,} movies")
    if epochs < cfg.epochs:
        parts.append(f"{epochs} of {cfg.epochs} epochs")
    if share < 1.0:
        parts.append(f"{share:.0%} of users per epoch")
    return {
        "bounded": bounded, "epochs": int(epochs), "configured_epochs": cfg.epochs, "users_per_epoch": round(share, 4),
        "positions_per_epoch": per_epoch, "max_positions": cfg.max_positions, "maxlen": cfg.maxlen,
        "ce_loss": "sampled" if sampled else "full", "ce_negatives": cfg.ce_negatives if sampled else None,
        "n_items": int(n_items),
        # what one net's training costs, in the two units it grows with: trained positions over all
        # epochs (an epoch's CPU time per position hardly depends on history length) and the
        # classes the CE net's softmax scores at each position
        "positions_total": int(round(per_epoch * share)) * int(epochs),
        "softmax_classes": int(cfg.ce_negatives if sampled else n_items),
        "summary": (f"bounded for {n_items:,} movies: " + "; ".join(parts) + f"; last {cfg.maxlen} interactions per user")
                   if bounded else f"not bounded (full softmax, {cfg.epochs} epochs, last {cfg.maxlen} interactions per user)",
    }


def train_net(model: Any, net: "SASRecNet", cfg: "SASRecConfig", samples: tuple, seen: "SeenItems",
              valid: Any, val_neg: np.ndarray | None, progress: Callable[[float, str], None],
              users_per_epoch: float = 1.0) -> dict[str, Any]:
    """Train ``net`` for ``cfg.epochs`` epochs (or ``cfg.max_seconds``); with ``valid``, score every
    ``eval_every``-th epoch through ``model`` (whose nets are ``[net]`` meanwhile) under both
    protocols and keep the best epoch's weights.  ``samples``: :func:`training_samples` output;
    ``users_per_epoch`` < 1 trains each epoch on that share of the samples, drawn afresh.
    Returns the fit info (epochs run, best epoch, its validation figures, whether the time guard
    fired, history)."""
    users, seq_all, pos_all, lengths = samples
    rng = np.random.default_rng([cfg.seed, 2])      # batches and negatives: apart from dropout's stream
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=(0.9, 0.98))
    avg = WeightAverage(net, cfg.ema) if cfg.ema > 0 else None
    best, history = BestEpoch(cfg.select_on), []
    t0 = time.perf_counter()
    guard_fired = False
    reported = 0.0
    bar = tqdm(range(1, cfg.epochs + 1), desc="sasrec", unit="ep", leave=False, disable=None)
    for epoch in bar:
        for group in opt.param_groups:
            group["lr"] = lr_at(cfg, epoch, time.perf_counter() - t0)
        if users_per_epoch < 1.0:
            subset = np.sort(rng.choice(len(lengths), size=max(1, round(len(lengths) * users_per_epoch)), replace=False))
            batches = [subset[b] for b in length_batches(lengths[subset], cfg.batch_size, rng)]
        else:
            batches = length_batches(lengths, cfg.batch_size, rng)
        last_beat = [time.perf_counter()]

        def on_batch(b: int, nb: int, epoch: int = epoch) -> None:
            # a line within the epoch too (at most every few seconds): one epoch of a 40k catalogue
            # takes minutes, and a log without a line for that long looks hung
            now = time.perf_counter()
            if b < nb and now - last_beat[0] >= PROGRESS_EVERY_S:
                last_beat[0] = now
                progress(max(reported, min((epoch - 1 + b / nb) / cfg.epochs, 1.0)),
                         f"sasrec epoch {epoch}/{cfg.epochs}, batch {b}/{nb}")

        mean_loss = train_epoch(net, opt, batches, seq_all, pos_all, users, seen, rng, avg, on_batch)
        elapsed = time.perf_counter() - t0
        msg = f"sasrec epoch {epoch}/{cfg.epochs} loss {mean_loss:.4f}"
        bar.set_postfix(loss=f"{mean_loss:.3f}")
        if val_neg is not None and (epoch % cfg.eval_every == 0 or epoch == cfg.epochs):
            with avg.applied() if avg else contextlib.nullcontext():
                m = holdout_metrics(model, valid, val_neg, k=10)
                best.offer(epoch, m, net)
            history.append({"epoch": epoch, "loss": mean_loss, "valid_ndcg@10": m["full"],
                            "valid_sampled_ndcg@10": m["sampled"], "seconds": elapsed})
            msg += f" valid NDCG@10 full {m['full']:.4f} sampled {m['sampled']:.4f}"
            bar.set_postfix(loss=f"{mean_loss:.3f}", ndcg=f"{m['full']:.4f}")
        log.info(msg)
        # under a time budget training ends when the budget is used, usually long before the
        # nominal epochs: report the larger share, or the bar sits near 0 and then jumps
        done = epoch / cfg.epochs
        if cfg.max_seconds:
            done = max(done, elapsed / cfg.max_seconds)
            msg += f" ({elapsed:.0f} of {cfg.max_seconds:.0f} s budget)"
        reported = max(reported, min(done, 1.0))
        progress(reported, msg)
        if val_neg is not None and best.stale >= cfg.patience:
            log.info("sasrec early stop at epoch %d (best %d)", epoch, best.epoch)
            break
        if cfg.max_seconds and elapsed > cfg.max_seconds and epoch < cfg.epochs:
            guard_fired = True
            log.warning("SASRec TIME GUARD FIRED: stopped after epoch %d of %d (max_seconds=%.0f used up); "
                        "the model depends on how busy this machine was", epoch, cfg.epochs, cfg.max_seconds)
            break
    bar.close()
    if best.state is not None:
        net.load_state_dict(best.state)
    elif avg is not None:
        avg.apply()                                  # no validation: the averaged weights are the model
    net.eval()
    return {"epochs_run": epoch, "best_epoch": best.epoch if best.state is not None else epoch,
            "valid_ndcg@10": best.metrics.get("full"), "valid_sampled_ndcg@10": best.metrics.get("sampled"),
            "time_guard_fired": guard_fired, "train_seconds": round(time.perf_counter() - t0, 2), "history": history}

