"""Training of :class:`WideDeepNet`: implicit feedback with sampled negatives, selected on validation.

One sample per training click after a user's first: (user, the ``history`` clicks before it,
the click).  Each step scores the click against ``negatives`` uniform movies the user never
clicked (the paper's logistic loss, or a sampled softmax over the 1 + K movies); validation
(full-ranking NDCG@10 on the held-out item, every epoch) keeps the best epoch's weights and
stops after ``patience`` epochs without gain.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import time
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from engine.core.config import Progress
from engine.models.metrics import ndcg, target_ranks
from engine.models.sasrec.tokens import SeenItems
from .net import WideDeepConfig, WideDeepNet

log = logging.getLogger("engine.models.widedeep")


def history_matrix(histories: Sequence[np.ndarray], length: int, pad: int) -> np.ndarray:
    """int64 (B, length): the last ``length`` item indices of each history, right-padded with ``pad``."""
    out = np.full((len(histories), length), pad, dtype=np.int64)
    for b, h in enumerate(histories):
        h = np.asarray(h, dtype=np.int64)[-length:]
        out[b, :len(h)] = h
    return out


def training_samples(sequences: Sequence[np.ndarray], length: int, pad: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(user row int64 (S,), history int64 (S, length), target int64 (S,)) for every click after
    each user's first; the history is the ``length`` clicks before the target."""
    rows, hists, targets = [], [], []
    for u, s in enumerate(sequences):
        s = np.asarray(s, dtype=np.int64)
        if len(s) < 2:
            continue
        n = len(s) - 1
        # window t holds s[t-length .. t-1] (clipped at 0) for target s[t], t = 1..len-1
        idx = np.arange(1, len(s))[:, None] - length + np.arange(length)[None, :]     # (n, length)
        win = np.where(idx >= 0, s[np.clip(idx, 0, None)], pad)
        # move the padding to the right so it matches history_matrix (order is irrelevant to a mean)
        win = np.sort(np.where(win == pad, np.iinfo(np.int64).max, win), axis=1, kind="stable")
        win[win == np.iinfo(np.int64).max] = pad
        rows.append(np.full(n, u, dtype=np.int64))
        hists.append(win)
        targets.append(s[1:])
    if not rows:
        return np.zeros(0, np.int64), np.zeros((0, length), np.int64), np.zeros(0, np.int64)
    return np.concatenate(rows), np.concatenate(hists), np.concatenate(targets)


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads (0 = leave as is), restoring the old count."""
    old = torch.get_num_threads()
    if n > 0 and n != old:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n > 0 and n != old:
            torch.set_num_threads(old)


def valid_ndcg(score: Callable[[list[np.ndarray], np.ndarray], np.ndarray], histories: Sequence[np.ndarray],
               targets: np.ndarray, exclude: Sequence[np.ndarray], feats: np.ndarray, batch: int = 128) -> float:
    """Full-ranking NDCG@10 of ``score(histories, feats) -> (B, n)``, known items excluded."""
    ranks = []
    for b in range(0, len(targets), batch):
        s = np.array(score(list(histories[b:b + batch]), feats[b:b + batch]), dtype=np.float32, copy=True)
        for r, ex in enumerate(exclude[b:b + batch]):
            s[r, ex] = -np.inf
        ranks.append(target_ranks(s, targets[b:b + batch]))
    return ndcg(np.concatenate(ranks), 10) if ranks else float("nan")


def train(net: WideDeepNet, cfg: WideDeepConfig, sequences: Sequence[np.ndarray], user_feats: np.ndarray,
          valid: Any, valid_feats: np.ndarray | None, score: Callable[[list[np.ndarray], np.ndarray], np.ndarray],
          progress: Progress) -> dict[str, Any]:
    """Fit ``net`` in place; return fit info (epochs run, best epoch, its validation NDCG@10, history).

    sequences: training item indices per user; user_feats int64 (U, 3) aligned with them;
    valid: a Holdout aligned the same way (or None) with valid_feats int64 (U, 3);
    score: the model's scorer (histories, feats) used for validation."""
    n = net.sizes.n_items
    rows, hists, targets = training_samples(sequences, cfg.history, n)
    if not len(rows):
        raise ValueError("no user has two or more clicks")
    seen = SeenItems(list(sequences), n)
    rng = np.random.default_rng([cfg.seed, 2])
    torch.manual_seed(cfg.seed)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    feats_t = torch.from_numpy(user_feats)
    best, best_state, best_epoch, bad, history = -1.0, None, 0, 0, []
    t0 = time.perf_counter()
    epoch = 0
    bar = tqdm(range(1, cfg.epochs + 1), desc="widedeep", unit="ep", leave=False, disable=None)
    for epoch in bar:
        net.train()
        order = rng.permutation(len(rows))
        total, steps = 0.0, 0
        for s in range(0, len(order), cfg.batch_size):
            b = order[s:s + cfg.batch_size]
            neg = seen.sample(rows[b], (len(b), cfg.negatives), rng) - 1          # tokens -> item indices
            items = torch.from_numpy(np.concatenate([targets[b][:, None], neg], 1))   # (B, 1+K), positive first
            feats = feats_t[rows[b]]
            if cfg.user_dropout > 0:                                                 # hide demographics
                hide = torch.from_numpy(rng.random(len(b)) < cfg.user_dropout)
                feats = torch.where(hide[:, None], torch.zeros_like(feats), feats)
            logits = net(torch.from_numpy(hists[b]), feats, items)                 # (B, 1+K)
            if cfg.loss == "softmax":
                loss = F.cross_entropy(logits, torch.zeros(len(b), dtype=torch.long))
            else:
                loss = (F.binary_cross_entropy_with_logits(logits[:, 0], torch.ones(len(b)))
                        + F.binary_cross_entropy_with_logits(logits[:, 1:], torch.zeros_like(logits[:, 1:])))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total, steps = total + float(loss.detach()), steps + 1
        mean_loss = total / max(steps, 1)
        msg = f"widedeep epoch {epoch}/{cfg.epochs} loss {mean_loss:.4f}"
        entry: dict[str, Any] = {"epoch": epoch, "loss": round(mean_loss, 5),
                                 "seconds": round(time.perf_counter() - t0, 2)}
        if valid is not None and len(valid):
            net.eval()
            nd = valid_ndcg(score, valid.histories, valid.targets, valid.exclude, valid_feats)
            entry["valid_ndcg@10"] = nd
            msg += f" valid NDCG@10 {nd:.4f}"
            if nd > best:
                best, best_epoch, bad = nd, epoch, 0
                best_state = copy.deepcopy(net.state_dict())
            else:
                bad += 1
        history.append(entry)
        bar.set_postfix(loss=f"{mean_loss:.3f}")
        log.info(msg)
        progress(epoch / cfg.epochs, msg)
        if valid is not None and len(valid) and bad >= cfg.patience:
            break
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return {
        "epochs_run": epoch,
        "best_epoch": best_epoch if best_state is not None else epoch,
        "valid_ndcg@10": best if best_state is not None else None,
        "train_seconds": round(time.perf_counter() - t0, 2),
        "samples": int(len(rows)),
        "history": history,
    }
