"""SASRec behind the model contract: fit (one or more nets, see ``SASRecConfig.members``),
item vectors, user states and scores.  The network and its design notes live in
:mod:`engine.models.sasrec.net`; the training loop in :mod:`engine.models.sasrec.train`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import replace
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from engine.core.config import Progress, no_progress
from engine.models.encoders import single_thread_inference
from engine.core.errors import BadQueryError, MovieDNAError
from engine.models.metrics import holdout_metrics, holdout_negatives
from engine.models.base import EmbeddingModel, Holdout, Interactions, check_interactions
from engine.models.sasrec.net import SASRecConfig, SASRecNet
from engine.models.sasrec.tokens import SeenItems, pad_left, side_features, training_samples
from engine.models.sasrec.train import epoch_plan, train_net

log = logging.getLogger(__name__)


def training_device(name: str) -> torch.device:
    """The torch device for ``SASRecConfig.device``; asking for CUDA without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise MovieDNAError(f"--device {name} was asked for, but torch sees no CUDA GPU here; use --device cpu or auto.")
    return torch.device(name)


class SASRecModel(EmbeddingModel):
    """SASRec behind the MovieDNA contract. Movie vectors = each net's shared item embedding
    table (id + side information), the nets' tables side by side."""

    name = "sasrec"
    Config = SASRecConfig

    def __init__(self, config: SASRecConfig | None = None) -> None:
        super().__init__(config)
        self.nets: list[SASRecNet] = []

    # ------------------------------------------------------------------ training
    def fit(self, data: Interactions, valid: Holdout | None = None, progress: Progress | None = None) -> "SASRecModel":
        """Train one net per entry of ``members``, one after another (net k: that loss, seed + k),
        each picking its best epoch on ``valid``; ``max_seconds`` is shared out evenly between the
        nets still to train."""
        cfg, progress = self.config, progress or no_progress
        check_interactions(data, self.name)
        training_device(cfg.device)                       # fail before any work when CUDA is missing
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self._set_items(data.item_ids)
        side = None
        if cfg.side_info and data.movies is not None:
            side = torch.from_numpy(side_features(data.movies, data.item_ids))   # (n+1, f)
        train = [s for s in data.sequences if len(s) >= 2]
        if not train:
            raise BadQueryError("Cannot fit sasrec: no user has two or more interactions.")
        samples = training_samples(train, cfg.maxlen, cfg.windows)      # users, seq_all, pos_all, lengths
        plan = epoch_plan(cfg, samples[3], data.n_items)
        if plan["bounded"]:
            log.info("sasrec %s", plan["summary"])
        seen = SeenItems(train, data.n_items)
        # validation negatives: seeded apart from the test protocol's (seed 0), drawn once
        val_neg = holdout_negatives(valid, data.n_items, 100, seed=cfg.seed + 1) if valid is not None and len(valid) else None
        t0, nets, infos = time.perf_counter(), [], []
        k_all = len(cfg.members)
        for m, loss in enumerate(cfg.members):
            share = 0.0
            if cfg.max_seconds:
                # what is left, split evenly between the nets still to train; a net that overran
                # its share (the guard is checked after each epoch) never starves the next one
                # below half of an even share
                left = (cfg.max_seconds - (time.perf_counter() - t0)) / (k_all - m)
                share = max(left, cfg.max_seconds / (2 * k_all))
                if left < cfg.max_seconds / (2 * k_all):
                    log.warning("sasrec net %d gets %.0fs: the nets before it overran max_seconds", m + 1, share)
            mcfg = replace(cfg, seed=cfg.seed + m, max_seconds=share, epochs=plan["epochs"])

            def member_progress(frac: float, msg: str, m: int = m, loss: str = loss) -> None:
                progress((m + frac) / k_all, f"net {m + 1}/{k_all} ({loss}): {msg}")

            net, info = self._fit_member(mcfg, loss, data.n_items, side, samples, seen, valid, val_neg,
                                         member_progress, plan["users_per_epoch"])
            nets.append(net)
            infos.append(info)
        self.nets = nets
        one = len(infos) == 1
        self.fit_info = {
            "epochs_run": infos[0]["epochs_run"] if one else [i["epochs_run"] for i in infos],
            "best_epoch": infos[0]["best_epoch"] if one else [i["best_epoch"] for i in infos],
            "valid_ndcg@10": infos[0]["valid_ndcg@10"] if one else None,
            "valid_sampled_ndcg@10": infos[0]["valid_sampled_ndcg@10"] if one else None,
            "train_seconds": round(time.perf_counter() - t0, 2),
            "member_seconds": [i["train_seconds"] for i in infos],
            "time_guard_fired": any(i["time_guard_fired"] for i in infos),
            "bounds": plan,
            "history": [h | {"member": k} for k, i in enumerate(infos) for h in i["history"]],
        }
        if not one and val_neg is not None:           # the ensemble's own validation figures
            mv = holdout_metrics(self, valid, val_neg, k=10)
            self.fit_info["valid_ndcg@10"], self.fit_info["valid_sampled_ndcg@10"] = mv["full"], mv["sampled"]
        return self

    def _fit_member(self, cfg: SASRecConfig, loss: str, n: int, side: torch.Tensor | None, samples: tuple,
                    seen: SeenItems, valid: Holdout | None, val_neg: np.ndarray | None,
                    progress: Progress, users_per_epoch: float = 1.0) -> tuple["SASRecNet", dict[str, Any]]:
        """One net trained with ``loss`` and ``cfg`` (its seed and time share); validation scores this
        net alone."""
        torch.manual_seed(cfg.seed)
        net = SASRecNet(n, cfg, side, loss).to(training_device(cfg.device))
        self.nets = [net]                                 # holdout_metrics scores through self
        info = train_net(self, net, cfg, samples, seen, valid, val_neg, progress, users_per_epoch)
        return net.cpu(), info                            # the fitted model serves on the CPU

    # ------------------------------------------------------------------ vectors and scores
    @property
    def net(self) -> "SASRecNet | None":
        """The first (with one member the only) net."""
        return self.nets[0] if self.nets else None

    def _table(self) -> torch.Tensor:
        """float (n+1, k*d): the members' item tables side by side, so that one dot product
        with :meth:`user_states` is the sum of the members' scores (on the CPU)."""
        return torch.cat([net.item_table().cpu() for net in self.nets], dim=1)

    def item_embeddings(self) -> np.ndarray:
        self._require_fitted()
        with torch.no_grad():
            return self._table()[1:].numpy().astype(np.float32, copy=True)    # (n, k*d)

    @torch.no_grad()
    def user_states(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """float32 (u, k*d): the sequence representation after each history (item indices)."""
        self._require_fitted()
        for net in self.nets:                       # a validation call comes mid-training
            net.eval()
        out = []
        # one click sequence: a single thread is fastest and avoids OpenMP stalls on a busy machine
        # (~1 ms vs ~100 ms); the limit holds for this thread only (no process-wide change)
        small = len(histories) <= 4
        with single_thread_inference() if small else contextlib.nullcontext():
            for b in range(0, len(histories), 256):
                chunk = histories[b:b + 256]
                width = max(1, min(self.config.maxlen, max(len(h) for h in chunk)))
                seq = torch.from_numpy(pad_left(chunk, width))             # (B, T)
                out.append(torch.cat([net.last_hidden(seq.to(net.item_emb.weight.device)).cpu()  # validation
                                      for net in self.nets], dim=1))       # (B, k*d); mid-training on a GPU
        return torch.cat(out).numpy().astype(np.float32)

    @torch.no_grad()
    def score_indices(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        h = torch.from_numpy(self.user_states(histories))                     # (u, M*d)
        return (h @ self._table()[1:].T).numpy().astype(np.float32)           # (u, n)

    @torch.no_grad()
    def score_candidates(self, histories: Sequence[np.ndarray], candidates: np.ndarray) -> np.ndarray:
        h = torch.from_numpy(self.user_states(histories))                     # (u, M*d)
        tokens = torch.from_numpy(np.asarray(candidates, dtype=np.int64) + 1)  # (u, c)
        return (h[:, None, :] * F.embedding(tokens, self._table())).sum(-1).numpy().astype(np.float32)  # (u, c)

    # ------------------------------------------------------------------ persistence
    def state_arrays(self) -> dict[str, np.ndarray]:
        """Every net's weights; with several members the names are prefixed ``member{k}.``."""
        self._require_fitted()
        out = {}
        for k, net in enumerate(self.nets):
            prefix = f"member{k}." if len(self.nets) > 1 else ""
            out |= {prefix + name: v.detach().cpu().numpy().copy() for name, v in net.state_dict().items()}
        return out

    def _restore(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        members = self.config.members
        self.nets = []
        for k, loss in enumerate(members):
            prefix = f"member{k}." if len(members) > 1 else ""
            own = {name[len(prefix):]: torch.from_numpy(np.array(v)) for name, v in arrays.items()
                   if name.startswith(prefix) and (len(members) > 1 or not name.startswith("member"))}
            net = SASRecNet(len(self._item_ids), self.config, own.get("side"), loss)
            net.load_state_dict(own)
            self.nets.append(net.eval())
