"""SASRec: self-attentive sequential recommendation (Kang & McAuley, ICDM 2018).

Faithful to the paper and to pmixer/SASRec.pytorch conventions:

- item ids from 1, 0 is padding; sequences are left-padded to ``maxlen``;
- learned positional embeddings (right-aligned: the latest click is position ``maxlen-1``);
- ``blocks`` pre-LayerNorm blocks ``x + Dropout(Attn(LN(x)))``, ``x + Dropout(FFN(LN(x)))``
  with causal self-attention, then a final LayerNorm;
- the item embedding table is shared between input and output: the score of item i after
  a prefix is ``<F_t, E_i>``;
- loss ``"ce"``: full softmax cross-entropy over all items (SASRec+, Klenitskiy & Vasilev,
  RecSys 2023; converges much faster) or ``"bce"``: the paper's binary cross-entropy with
  one uniformly sampled negative per position.

One deviation that makes behaviour exact rather than approximate: padded positions are
masked as attention keys, so left padding has *no* effect on the outputs (the reference
zeroes padded rows but still lets real positions attend to them).

Style follows nanoGPT's model.py: :class:`SASRecNet.forward` is the training path,
:meth:`SASRecNet.last_hidden` the ``@torch.no_grad()`` scorer.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..errors import BadQueryError
from .base import EmbeddingModel, Holdout, Interactions, Progress, _noop, check_interactions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SASRecConfig:
    """Hyper-parameters (defaults chosen on ml-100k validation NDCG@10, see docs/MODELS.md)."""

    maxlen: int = 200          # longest click history the model reads
    hidden: int = 64           # embedding / model width d
    blocks: int = 2            # self-attention blocks
    heads: int = 1             # attention heads (hidden % heads == 0)
    dropout: float = 0.2
    attn_dropout: float = 0.0  # dropout on attention weights (the reference uses 0.2; 0 is ~25% faster)
    lr: float = 3e-3           # Adam (betas 0.9, 0.98); 3e-3 converges ~2x faster than 1e-3 with CE
    batch_size: int = 128      # users per step
    epochs: int = 75           # epochs (a fit with a validation holdout may stop earlier)
    loss: str = "ce"           # "ce" (full softmax, SASRec+) or "bce" (paper: 1 negative / position)
    bce_weight: float = 5.0    # with loss="ce": add this x the paper's BCE term (uniform negatives);
                               # 5 lifted sampled HR@10 0.672 -> 0.691 on ml-100k at equal full-ranking quality
    l2_emb: float = 0.0        # L2 on item embeddings (paper option)
    eval_every: int = 5        # epochs between validation checks (fit with valid)
    patience: int = 4          # validation checks without improvement before stopping
    max_seconds: float = 0.0   # wall-clock training budget, 0 = none
    seed: int = 42
    threads: int = 0           # torch intra-op threads, 0 = leave torch's default

    def __post_init__(self) -> None:
        if self.loss not in ("ce", "bce"):
            raise ValueError(f"loss must be 'ce' or 'bce', got {self.loss!r}")
        if self.hidden % self.heads:
            raise ValueError("hidden must be divisible by heads")
        if self.maxlen < 1 or self.hidden < 1 or self.blocks < 1:
            raise ValueError("maxlen, hidden and blocks must be positive")


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: SASRecConfig) -> None:
        super().__init__()
        self.c_attn = nn.Linear(cfg.hidden, 3 * cfg.hidden)
        self.c_proj = nn.Linear(cfg.hidden, cfg.hidden)
        self.n_head, self.dropout = cfg.heads, cfg.attn_dropout

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape                                        # (B, T, d)
        q, k, v = self.c_attn(x).split(C, dim=2)                  # 3 x (B, T, d)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, h, T, d/h)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(                       # mask (B, 1, T, T) True = attend
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0
        )
        y = y.transpose(1, 2).contiguous().view(B, T, C)           # (B, T, d)
        return self.c_proj(y)


class PointWiseFeedForward(nn.Module):
    """FFN(x) = ReLU(x W1 + b1) W2 + b2 (the paper's two 1x1 convolutions)."""

    def __init__(self, cfg: SASRecConfig) -> None:
        super().__init__()
        self.fc1 = nn.Linear(cfg.hidden, cfg.hidden)
        self.fc2 = nn.Linear(cfg.hidden, cfg.hidden)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.drop(F.relu(self.fc1(x))))            # (B, T, d)


class Block(nn.Module):
    def __init__(self, cfg: SASRecConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.hidden, eps=1e-8)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.hidden, eps=1e-8)
        self.ffn = PointWiseFeedForward(cfg)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.ln_1(x), mask))
        x = x + self.drop(self.ffn(self.ln_2(x)))
        return x


class SASRecNet(nn.Module):
    """The network. Item index i (0-based in the model's universe) is token i+1; token 0 pads."""

    def __init__(self, n_items: int, cfg: SASRecConfig) -> None:
        super().__init__()
        self.cfg, self.n_items = cfg, n_items
        self.item_emb = nn.Embedding(n_items + 1, cfg.hidden, padding_idx=0)  # (n+1, d) shared in/out
        self.pos_emb = nn.Embedding(cfg.maxlen, cfg.hidden)                   # (maxlen, d)
        self.emb_drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.blocks)])
        self.ln_f = nn.LayerNorm(cfg.hidden, eps=1e-8)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        # pmixer initialises every weight matrix with xavier_normal_
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.xavier_normal_(m.weight)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)
            if isinstance(m, nn.Embedding) and m.padding_idx is not None:
                with torch.no_grad():
                    m.weight[m.padding_idx].zero_()

    def hidden_states(self, seq: torch.Tensor) -> torch.Tensor:
        """seq int64 (B, T) left-padded tokens, T <= maxlen -> float (B, T, d) per-position features."""
        B, T = seq.shape
        pos = torch.arange(self.cfg.maxlen - T, self.cfg.maxlen, device=seq.device)  # (T,) right-aligned
        keep = (seq > 0).unsqueeze(-1)                                              # (B, T, 1)
        x = self.item_emb(seq) * math.sqrt(self.cfg.hidden) + self.pos_emb(pos)       # (B, T, d)
        x = self.emb_drop(x) * keep
        causal = torch.ones(T, T, dtype=torch.bool, device=seq.device).tril()        # (T, T)
        eye = torch.eye(T, dtype=torch.bool, device=seq.device)
        mask = (causal & (keep.transpose(1, 2) | eye)).unsqueeze(1)                   # (B, 1, T, T)
        for block in self.blocks:
            x = block(x, mask) * keep
        return self.ln_f(x)                                                          # (B, T, d)

    def forward(self, seq: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor | None = None) -> torch.Tensor:
        """Training loss. seq, pos (and neg for BCE) int64 (B, T); pos == 0 marks padding."""
        h = self.hidden_states(seq)                       # (B, T, d)
        valid = pos > 0                                   # (B, T)
        h = h[valid]                                      # (N, d) real positions only
        target = pos[valid]                               # (N,)
        if self.cfg.loss == "ce":
            logits = h @ self.item_emb.weight.T           # (N, n+1)
            logits[:, 0] = float("-inf")                  # never predict padding
            loss = F.cross_entropy(logits, target)
            if self.cfg.bce_weight > 0 and neg is not None:
                e_neg = self.item_emb(neg[valid])         # (N, d)
                pl = logits.gather(1, target[:, None])[:, 0]
                nl = (h * e_neg).sum(-1)
                loss = loss + self.cfg.bce_weight * (
                    F.binary_cross_entropy_with_logits(pl, torch.ones_like(pl))
                    + F.binary_cross_entropy_with_logits(nl, torch.zeros_like(nl)))
        else:
            e_pos = self.item_emb(target)                 # (N, d)
            e_neg = self.item_emb(neg[valid])             # (N, d)
            pl, nl = (h * e_pos).sum(-1), (h * e_neg).sum(-1)  # (N,)
            loss = F.binary_cross_entropy_with_logits(pl, torch.ones_like(pl)) + F.binary_cross_entropy_with_logits(
                nl, torch.zeros_like(nl)
            )
        if self.cfg.l2_emb > 0:
            loss = loss + self.cfg.l2_emb * self.item_emb.weight.pow(2).sum()
        return loss

    @torch.no_grad()
    def last_hidden(self, seq: torch.Tensor) -> torch.Tensor:
        """seq int64 (B, T) left-padded -> float (B, d): features after the latest click."""
        return self.hidden_states(seq)[:, -1, :]


def _length_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator, group: int = 16) -> list[np.ndarray]:
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


def _pad_left(seqs: Sequence[np.ndarray], length: int) -> np.ndarray:
    """int64 (B, length) of token ids (index + 1), last ``length`` items of each, left-padded with 0."""
    out = np.zeros((len(seqs), length), dtype=np.int64)
    for i, s in enumerate(seqs):
        s = np.asarray(s[-length:], dtype=np.int64) + 1
        if len(s):
            out[i, length - len(s):] = s
    return out


class SASRecModel(EmbeddingModel):
    """SASRec behind the MovieDNA contract. Movie vectors = the shared item embedding table."""

    name = "sasrec"
    Config = SASRecConfig

    def __init__(self, config: SASRecConfig | None = None) -> None:
        super().__init__(config)
        self.net: SASRecNet | None = None

    # ------------------------------------------------------------------ training
    def fit(self, data: Interactions, valid: Holdout | None = None, progress: Progress | None = None) -> "SASRecModel":
        cfg, progress = self.config, progress or _noop
        check_interactions(data, self.name)
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        torch.manual_seed(cfg.seed)
        rng = np.random.default_rng(cfg.seed)
        self._set_items(data.item_ids)
        n = data.n_items
        net = SASRecNet(n, cfg)
        self.net = net
        train = [s for s in data.sequences if len(s) >= 2]
        if not train:
            raise BadQueryError("Cannot fit sasrec: no user has two or more interactions.")
        # one sample per user and epoch: input s[:-1], target s[1:] (last maxlen positions)
        seq_all = _pad_left([s[:-1] for s in train], cfg.maxlen)   # (U, maxlen)
        pos_all = _pad_left([s[1:] for s in train], cfg.maxlen)    # (U, maxlen)
        known = [set(s.tolist()) for s in train]
        known_keys = np.unique(np.concatenate([u * (n + 1) + s + 1 for u, s in enumerate(train)]))  # user, token
        lengths = np.minimum([len(s) - 1 for s in train], cfg.maxlen)
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=(0.9, 0.98))
        best, best_state, best_epoch, bad, history = -1.0, None, 0, 0, []
        t0 = time.perf_counter()
        epoch = 0
        bar = tqdm(range(1, cfg.epochs + 1), desc="sasrec", unit="ep", leave=False, disable=None)
        for epoch in bar:
            net.train()
            batches = _length_batches(lengths, cfg.batch_size, rng)
            total = 0.0
            for rows in batches:
                seq, pos = seq_all[rows], pos_all[rows]
                width = int((seq > 0).sum(1).max())                  # trim all-padding columns
                seq, pos = seq[:, -width:], pos[:, -width:]
                neg = None
                if cfg.loss == "bce" or cfg.bce_weight > 0:
                    neg_np = rng.integers(1, n + 1, size=pos.shape)    # (B, T) uniform negatives
                    hit = np.isin(rows[:, None] * (n + 1) + neg_np, known_keys)
                    for r, c in zip(*np.nonzero(hit)):                 # resample items the user has seen
                        while (neg_np[r, c] - 1) in known[rows[r]]:
                            neg_np[r, c] = rng.integers(1, n + 1)
                    neg = torch.from_numpy(neg_np)
                loss = net(torch.from_numpy(seq), torch.from_numpy(pos), neg)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.item()
            mean_loss = total / len(batches)
            elapsed = time.perf_counter() - t0
            msg = f"sasrec epoch {epoch}/{cfg.epochs} loss {mean_loss:.4f}"
            if valid is not None and len(valid) and (epoch % cfg.eval_every == 0 or epoch == cfg.epochs):
                from ..metrics import evaluate_full

                ndcg = evaluate_full(self, valid, k=10)["ndcg@10"]
                history.append({"epoch": epoch, "loss": mean_loss, "valid_ndcg@10": ndcg, "seconds": elapsed})
                msg += f" valid NDCG@10 {ndcg:.4f}"
                if ndcg > best:
                    best, best_epoch, bad = ndcg, epoch, 0
                    best_state = copy.deepcopy(net.state_dict())
                else:
                    bad += 1
                bar.set_postfix(loss=f"{mean_loss:.3f}", ndcg=f"{ndcg:.4f}")
            else:
                bar.set_postfix(loss=f"{mean_loss:.3f}")
            log.info(msg)
            progress(epoch / cfg.epochs, msg)
            if valid is not None and bad >= cfg.patience:
                log.info("sasrec early stop at epoch %d (best %d)", epoch, best_epoch)
                break
            if cfg.max_seconds and elapsed > cfg.max_seconds:
                log.info("sasrec stops at epoch %d: time budget %.0fs used", epoch, cfg.max_seconds)
                break
        bar.close()
        if best_state is not None:
            net.load_state_dict(best_state)
        net.eval()
        self.fit_info = {
            "epochs_run": epoch,
            "best_epoch": best_epoch if best_state is not None else epoch,
            "valid_ndcg@10": best if best_state is not None else None,
            "train_seconds": round(time.perf_counter() - t0, 2),
            "history": history,
        }
        return self

    # ------------------------------------------------------------------ vectors and scores
    def item_embeddings(self) -> np.ndarray:
        self._require_fitted()
        return self.net.item_emb.weight.detach()[1:].numpy().astype(np.float32, copy=True)  # (n, d)

    @torch.no_grad()
    def user_states(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """float32 (u, d): the sequence representation after each history (item indices)."""
        self._require_fitted()
        self.net.eval()
        out = []
        small = len(histories) <= 4                 # one click sequence: a single thread is fastest and
        threads = torch.get_num_threads()           # avoids OpenMP stalls on a busy machine (~1 ms vs ~100 ms)
        if small and threads > 1:
            torch.set_num_threads(1)
        try:
            for b in range(0, len(histories), 256):
                chunk = histories[b:b + 256]
                width = max(1, min(self.config.maxlen, max(len(h) for h in chunk)))
                seq = torch.from_numpy(_pad_left(chunk, width))             # (B, T)
                out.append(self.net.last_hidden(seq))                         # (B, d)
        finally:
            if small and threads > 1:
                torch.set_num_threads(threads)
        return torch.cat(out).numpy().astype(np.float32)

    @torch.no_grad()
    def score_indices(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        h = self.user_states(histories)                                       # (u, d)
        return h @ self.item_embeddings().T                                    # (u, n)

    @torch.no_grad()
    def score_candidates(self, histories: Sequence[np.ndarray], candidates: np.ndarray) -> np.ndarray:
        h = torch.from_numpy(self.user_states(histories))                     # (u, d)
        e = self.net.item_emb.weight[torch.from_numpy(np.asarray(candidates) + 1)]  # (u, c, d)
        return torch.einsum("ud,ucd->uc", h, e).numpy().astype(np.float32)   # (u, c)

    # ------------------------------------------------------------------ persistence
    def state_arrays(self) -> dict[str, np.ndarray]:
        self._require_fitted()
        return {k: v.detach().cpu().numpy().copy() for k, v in self.net.state_dict().items()}

    def _restore(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        self.net = SASRecNet(len(self._item_ids), self.config)
        self.net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in arrays.items()})
        self.net.eval()
