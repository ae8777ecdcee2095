"""SASRec training machinery: the chunked softmax loss, samples, batches, negatives, side
features, learning-rate schedule, weight averaging and the training loop of one net.

Kept apart from :mod:`engine.models.sasrec` (the network and the model contract) so each file
stays readable; only :func:`train_net` touches the model, to score validation through it.
Item tokens follow the model: item index i is token i + 1, token 0 pads.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import time
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from tqdm.auto import tqdm

from ..metrics import holdout_metrics

if TYPE_CHECKING:  # pragma: no cover
    from .sasrec import SASRecConfig, SASRecNet

log = logging.getLogger("engine.models.sasrec")


class FullSoftmaxCE(torch.autograd.Function):
    """Mean softmax cross-entropy of ``h @ W.T`` against ``target``, computed in row chunks.

    h float (N, d), W float (n, d), target int64 (N,) in [0, n) -> scalar.  The (N, n) logits are
    never materialised: each chunk's logits, softmax and both gradients are formed while they sit
    in cache, and the gradients are kept for ``backward``.  Exact (same result as
    ``F.cross_entropy(h @ W.T, target)``) and ~2x faster on CPU, where the full matrix (up to
    25.6k x 1.3k per ml-100k step: 128 users x 200 positions) made log-softmax and its backward
    memory-bound.  Training only: it always pays for
    the gradients.
    """

    CHUNK = 1024   # rows per chunk: (1024, n) floats, ~5.5 MB for ml-100k; measured on ml-100k shapes:
                   # 256 and 1024 alike, 4096 ~35 % slower, the unchunked matrix ~2x slower

    @staticmethod
    def forward(ctx, h: torch.Tensor, W: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        N = h.shape[0]
        grad_h, grad_W = torch.empty_like(h), torch.zeros_like(W)
        total = h.new_zeros(())
        for s in range(0, N, FullSoftmaxCE.CHUNK):
            hc, yc = h[s:s + FullSoftmaxCE.CHUNK], target[s:s + FullSoftmaxCE.CHUNK]
            logits = hc @ W.T                                       # (c, n)
            lse = torch.logsumexp(logits, 1)                        # (c,)
            total += (lse - logits.gather(1, yc[:, None])[:, 0]).sum()
            p = logits.sub_(lse[:, None]).exp_()                    # softmax, in place
            p[torch.arange(len(yc)), yc] -= 1.0                     # d loss / d logits (times N)
            p /= N
            torch.mm(p, W, out=grad_h[s:s + FullSoftmaxCE.CHUNK])  # (c, d)
            grad_W.addmm_(p.T, hc)                                  # (n, d)
        ctx.save_for_backward(grad_h, grad_W)
        return total / N

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        grad_h, grad_W = ctx.saved_tensors
        return grad_h * grad_out, grad_W * grad_out, None


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
        if net.loss == "bce" or cfg.bce_weight > 0:
            neg = torch.from_numpy(seen.sample(users[rows], pos.shape + (net.neg_samples,), rng))  # (B, T, K)
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


def side_features(movies: Any, item_ids: np.ndarray) -> np.ndarray:
    """float32 (n+1, f): per item token, its genres and release decade as a row-normalised
    multi-hot vector (row 0 = padding = 0). ``movies`` has movie_id, genres (list), year."""
    m = movies.set_index("movie_id").reindex(item_ids)
    genres = [g if isinstance(g, (list, tuple, np.ndarray)) else [] for g in m["genres"]]
    years = (pd.to_numeric(m["year"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
             if "year" in m else np.full(len(m), np.nan))
    decades = [None if np.isnan(y) else f"{int(y) // 10 * 10}s" for y in years]
    names = sorted({g for gs in genres for g in gs} | {d for d in decades if d})
    col = {name: i for i, name in enumerate(names)}
    out = np.zeros((len(item_ids) + 1, len(names)), dtype=np.float32)
    for i, (gs, d) in enumerate(zip(genres, decades), start=1):
        for f in list(gs) + ([d] if d else []):
            out[i, col[f]] = 1.0
    out[1:] /= np.maximum(out[1:].sum(1, keepdims=True), 1.0)
    return out


def train_net(model: Any, net: "SASRecNet", cfg: "SASRecConfig", samples: tuple, seen: "SeenItems",
              valid: Any, val_neg: np.ndarray | None, progress: Callable[[float, str], None]) -> dict[str, Any]:
    """Train ``net`` for ``cfg.epochs`` epochs (or ``cfg.max_seconds``); with ``valid``, score every
    ``eval_every``-th epoch through ``model`` (whose nets are ``[net]`` meanwhile) under both
    protocols and keep the best epoch's weights.  ``samples``: :func:`training_samples` output.
    Returns the fit info (epochs run, best epoch, its validation figures, history)."""
    users, seq_all, pos_all, lengths = samples
    rng = np.random.default_rng([cfg.seed, 2])      # batches and negatives: apart from dropout's stream
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=(0.9, 0.98))
    avg = WeightAverage(net, cfg.ema) if cfg.ema > 0 else None
    best, history = BestEpoch(cfg.select_on), []
    t0 = time.perf_counter()
    bar = tqdm(range(1, cfg.epochs + 1), desc="sasrec", unit="ep", leave=False, disable=None)
    for epoch in bar:
        for group in opt.param_groups:
            group["lr"] = lr_at(cfg, epoch, time.perf_counter() - t0)
        batches = length_batches(lengths, cfg.batch_size, rng)
        mean_loss = train_epoch(net, opt, batches, seq_all, pos_all, users, seen, rng, avg)
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
        progress(epoch / cfg.epochs, msg)
        if val_neg is not None and best.stale >= cfg.patience:
            log.info("sasrec early stop at epoch %d (best %d)", epoch, best.epoch)
            break
        if cfg.max_seconds and elapsed > cfg.max_seconds:
            log.info("sasrec stops at epoch %d: time budget %.0fs used", epoch, cfg.max_seconds)
            break
    bar.close()
    if best.state is not None:
        net.load_state_dict(best.state)
    elif avg is not None:
        avg.apply()                                  # no validation: the averaged weights are the model
    net.eval()
    return {"epochs_run": epoch, "best_epoch": best.epoch if best.state is not None else epoch,
            "valid_ndcg@10": best.metrics.get("full"), "valid_sampled_ndcg@10": best.metrics.get("sampled"),
            "history": history}

