"""SASRec training machinery: samples, batches, negatives, learning-rate schedule, weight averaging.

Kept apart from :mod:`engine.models.sasrec` (the network and the model contract) so each file
stays readable; nothing here knows about the contract, only about tensors and index arrays.
Item tokens follow the model: item index i is token i + 1, token 0 pads.
"""

from __future__ import annotations

import contextlib
import copy
import math
from typing import TYPE_CHECKING, Iterator, Sequence

import numpy as np
import torch
import torch.nn as nn

if TYPE_CHECKING:  # pragma: no cover
    from .sasrec import SASRecConfig, SASRecNet


def windows(lengths: Sequence[int], maxlen: int, mode: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Training samples as (user, (a, e)): targets s[a:e], inputs s[a-1:e-1], at most ``maxlen`` long.

    ``"last"``: one window per user, the latest ``maxlen`` targets (the paper, pmixer).
    ``"all"``: also tile the older part of histories longer than ``maxlen`` + 1 with further
    windows, so every interaction is a target once per epoch."""
    users, spans = [], []
    for u, n in enumerate(lengths):
        e = n
        while e > 1:
            users.append(u)
            spans.append((max(1, e - maxlen), e))
            if mode == "last":
                break
            e -= maxlen
    return np.asarray(users, dtype=np.int64), spans


def training_samples(train: Sequence[np.ndarray], maxlen: int, mode: str
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """-> users int64 (S,), inputs int64 (S, maxlen), targets int64 (S, maxlen), lengths int64 (S,).

    One sample per window of :func:`windows`: inputs s[a-1:e-1], targets s[a:e], left-padded."""
    from .sasrec import _pad_left

    users, spans = windows([len(s) for s in train], maxlen, mode)
    seq = _pad_left([train[u][a - 1:e - 1] for u, (a, e) in zip(users, spans)], maxlen)   # (S, maxlen)
    pos = _pad_left([train[u][a:e] for u, (a, e) in zip(users, spans)], maxlen)           # (S, maxlen)
    return users, seq, pos, np.array([e - a for a, e in spans], dtype=np.int64)


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
                 avg: "WeightAverage | None") -> float:
    """One pass over ``batches`` (rows of seq_all / pos_all, int64 (S, maxlen); users int64 (S,) the
    training user of each row); returns the mean loss."""
    cfg = net.cfg
    net.train()
    total = 0.0
    for rows in batches:
        seq, pos = seq_all[rows], pos_all[rows]
        width = int((seq > 0).sum(1).max())                          # trim all-padding columns
        seq, pos = seq[:, -width:], pos[:, -width:]                  # (B, T)
        neg = None
        if cfg.loss == "bce" or cfg.bce_weight > 0:
            neg = torch.from_numpy(seen.sample(users[rows], pos.shape + (cfg.neg_samples,), rng))  # (B, T, K)
        loss = net(torch.from_numpy(seq), torch.from_numpy(pos), neg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if avg is not None:
            avg.update()
        total += loss.item()
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


class SeenItems:
    """Which items each training user interacted with, for sampling negatives they never saw."""

    DENSE_LIMIT = 64_000_000  # users x items cells; beyond this, a sorted key array (ml-25m scale)

    def __init__(self, sequences: Sequence[np.ndarray], n_items: int) -> None:
        self.n = n_items
        users = np.repeat(np.arange(len(sequences)), [len(s) for s in sequences])
        items = np.concatenate(sequences).astype(np.int64)
        if len(sequences) * (n_items + 1) <= self.DENSE_LIMIT:
            self.dense = np.zeros((len(sequences), n_items + 1), dtype=bool)   # (U, n+1) by token
            self.dense[users, items + 1] = True
            self.keys = None
        else:
            self.dense = None
            self.keys = np.unique(users * (n_items + 1) + items + 1)
        # a user who has seen every item cannot get a true negative: take any item for them
        self.saturated = np.array([len(np.unique(q)) >= n_items for q in sequences], dtype=bool)

    def _hits(self, rows: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        if self.dense is not None:
            return self.dense[rows, tokens]
        return np.isin(rows * (self.n + 1) + tokens, self.keys)

    def sample(self, rows: np.ndarray, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """int64 ``shape`` (B, ...) of tokens 1..n that user ``rows[b]`` never interacted with."""
        out = rng.integers(1, self.n + 1, size=shape)
        users = np.broadcast_to(rows.reshape((-1,) + (1,) * (len(shape) - 1)), shape)
        bad = np.nonzero(self._hits(users, out) & ~self.saturated[users])
        while len(bad[0]):                      # resample only the collisions until none is left
            out[bad] = rng.integers(1, self.n + 1, size=len(bad[0]))
            still = self._hits(users[bad], out[bad])
            bad = tuple(b[still] for b in bad)
        return out
