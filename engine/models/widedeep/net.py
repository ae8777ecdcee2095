"""Wide & Deep (Cheng et al., DLRS 2016) for top-k recommendation: the config and the network.

A candidate movie i for a user u (her demographics and recent clicks) gets the logit::

    wide(u, i) + deep(u, i) + dot(u, i)

- **wide**: a linear model over crossed one-hot features — genre x age band, genre x gender,
  genre x occupation, genre x decade, watched genre x candidate genre — plus a per-movie bias.
  With ``G_i`` the movie's genre multi-hot row, every genre x user-feature cross is
  ``G_i . W[:, feature_u]``, so the wide score of all movies is one (u, g) x (g, n) product.
- **deep**: an MLP over embeddings of the user's features, her history vector (the mean of her
  last ``history`` movie vectors), the movie's vector, genres, decade and popularity bucket.
  Its first layer acts on the user half and the movie half separately
  (``W1 [x_u; x_i] = W1u x_u + W1i x_i``), so scoring n movies costs one (u, n, h) sum rather
  than u x n concatenations.
- **dot**: ``<history vector, movie vector>`` — an MLP learns a dot product poorly (Rendle et
  al., RecSys 2020), so the collaborative signal gets it explicitly (beyond the paper).

A movie's vector ``e_i`` is its id embedding plus embeddings of its genres and decade (side
information, as in our SASRec), shared by the history and the candidate side; the model's
``item_embeddings`` are these vectors.  Every feature index uses 0 for unknown; item index
``n`` is the history padding (a zero vector, masked).  Training lives in ``train.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F

PARTS = ("wide", "deep", "dot")


@dataclass(frozen=True)
class WideDeepConfig:
    """Hyper-parameters.  ``history`` 5 was chosen on ml-100k validation NDCG@10 over three seeds
    (``python benchmarks/tune.py --model widedeep``; docs/MODELS.md): 0.117 ± 0.004 against 0.103 ±
    0.002 for the first design's 20.  The other round-1 changes (history 50, softmax loss, halved
    widths, lr 1e-3, 32 negatives, dropout 0.3) did not beat the first design on one seed."""

    dim: int = 64              # movie / history vector width d
    feat_dim: int = 16         # width f of every categorical feature embedding in the deep part
    hidden: tuple[int, ...] = (128, 64)   # deep MLP widths after the first (split) layer
    history: int = 5           # recent clicks averaged into the history vector (chosen on validation)
    dropout: float = 0.1       # in the deep MLP
    user_dropout: float = 0.1  # training: chance of hiding a sample's demographics, so that a user
                               # without them (the app's visitor) is scored by a model that saw such users
    parts: tuple[str, ...] = PARTS   # which terms make the logit (ablations)
    negatives: int = 8         # uniform negatives per positive (movies the user never clicked)
    loss: str = "bce"          # "bce": the paper's logistic loss; "softmax": sampled softmax over 1 + negatives
    lr: float = 2e-3           # Adam
    weight_decay: float = 0.0
    batch_size: int = 1024     # (user, next click) samples per step
    epochs: int = 30           # at most; a fit with validation keeps the best epoch
    patience: int = 4          # epochs without a better validation NDCG@10 before stopping
    threads: int = 1           # torch intra-op threads while fitting, 0 = torch's default. The steps are
                               # small: on a busy 2-core machine two threads were ~10x slower than one
                               # (OpenMP contention: 1.4 s vs 0.05 s per step at load 5.5)
    seed: int = 42

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))     # lists from JSON
        parts = (self.parts,) if isinstance(self.parts, str) else tuple(self.parts)
        object.__setattr__(self, "parts", parts)
        if not parts or any(p not in PARTS for p in parts):
            raise ValueError(f"parts must be a non-empty subset of {PARTS}, got {parts!r}")
        if self.loss not in ("bce", "softmax"):
            raise ValueError(f"loss must be 'bce' or 'softmax', got {self.loss!r}")
        if min(self.dim, self.feat_dim, self.history, self.negatives, self.batch_size, self.epochs) < 1:
            raise ValueError("dim, feat_dim, history, negatives, batch_size and epochs must be positive")
        if not self.hidden or min(self.hidden) < 1:
            raise ValueError("hidden must list at least one positive width")
        if not (0 <= self.dropout < 1 and 0 <= self.user_dropout <= 1):
            raise ValueError("dropout must be in [0, 1) and user_dropout in [0, 1]")


@dataclass(frozen=True)
class Sizes:
    """Vocabulary sizes, each counting index 0 = unknown (n_items: real movies, no padding)."""

    n_items: int
    n_genres: int
    n_decades: int
    n_pop: int
    n_age: int
    n_gender: int
    n_occupation: int


class UserSide(NamedTuple):
    """What the logit needs from a batch of B users."""

    hist: torch.Tensor       # float (B, d) history vector
    wide: torch.Tensor       # float (B, g) wide weight of each candidate genre for this user
    deep: torch.Tensor       # float (B, h0) the user half of the deep first layer


class ItemSide(NamedTuple):
    """What the logit needs from C candidate movies (leading dims (1, C) or (B, C))."""

    vec: torch.Tensor        # float (.., C, d) movie vectors e_i
    genres: torch.Tensor     # float (.., C, g) genre multi-hot
    bias: torch.Tensor       # float (.., C) wide per-movie terms (movie bias + genre x decade)
    deep: torch.Tensor       # float (.., C, h0) the movie half of the deep first layer (+ bias)


class WideDeepNet(nn.Module):
    """The network; buffers hold the movies' features (row ``n`` = history padding)."""

    def __init__(self, cfg: WideDeepConfig, sizes: Sizes, genres: torch.Tensor, decade: torch.Tensor,
                 pop: torch.Tensor) -> None:
        """genres float (n, g) multi-hot; decade, pop int64 (n,) feature indices."""
        super().__init__()
        self.cfg, self.sizes = cfg, sizes
        n, g, d, f = sizes.n_items, sizes.n_genres, cfg.dim, cfg.feat_dim
        pad = lambda t, v: torch.cat([t, torch.full((1,) + t.shape[1:], v, dtype=t.dtype)])  # noqa: E731
        self.register_buffer("genres", pad(genres.float(), 0.0))                              # (n+1, g)
        share = self.genres / self.genres.sum(1, keepdim=True).clamp_min(1.0)
        self.register_buffer("genre_share", share)                                            # (n+1, g) rows sum to 1
        self.register_buffer("decade", pad(decade.long(), 0))                                 # (n+1,)
        self.register_buffer("pop", pad(pop.long(), 0))                                       # (n+1,)
        # movie vectors: id + genre + decade embeddings
        self.item_emb = nn.Embedding(n + 1, d, padding_idx=n)                                 # (n+1, d)
        self.genre_vec = nn.Parameter(torch.zeros(g, d))                                      # (g, d)
        self.decade_vec = nn.Embedding(sizes.n_decades, d)                                    # (n_dec, d)
        # wide: one weight per crossed feature value, zero-initialised (a linear model)
        self.w_item = nn.Parameter(torch.zeros(n + 1))                                        # (n+1,)
        self.w_age = nn.Parameter(torch.zeros(g, sizes.n_age))
        self.w_gender = nn.Parameter(torch.zeros(g, sizes.n_gender))
        self.w_occupation = nn.Parameter(torch.zeros(g, sizes.n_occupation))
        self.w_decade = nn.Parameter(torch.zeros(g, sizes.n_decades))
        self.w_history = nn.Parameter(torch.zeros(g, g))                                      # watched x candidate genre
        # deep: feature embeddings, split first layer, MLP
        self.age_emb = nn.Embedding(sizes.n_age, f)
        self.gender_emb = nn.Embedding(sizes.n_gender, f)
        self.occupation_emb = nn.Embedding(sizes.n_occupation, f)
        self.genre_emb = nn.Parameter(torch.empty(g, f))
        self.decade_emb = nn.Embedding(sizes.n_decades, f)
        self.pop_emb = nn.Embedding(sizes.n_pop, f)
        h0 = cfg.hidden[0]
        self.first_user = nn.Linear(d + 3 * f, h0, bias=False)
        self.first_item = nn.Linear(d + 3 * f, h0)
        layers: list[nn.Module] = []
        for a, b in zip(cfg.hidden, cfg.hidden[1:] + (1,)):
            layers += [nn.ReLU(), nn.Dropout(cfg.dropout), nn.Linear(a, b)]
        self.mlp = nn.Sequential(*layers)                                                     # (.., h0) -> (.., 1)
        self._init()

    def _init(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, std=0.05)
            elif isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.normal_(self.genre_emb, std=0.05)
        with torch.no_grad():
            self.item_emb.weight[self.sizes.n_items].zero_()

    # ------------------------------------------------------------------ the two halves
    def item_table(self) -> torch.Tensor:
        """float (n+1, d) movie vectors e_i; row n (padding) is not meaningful and always masked."""
        return self.item_emb.weight + self.genre_share @ self.genre_vec + self.decade_vec(self.decade)

    def user_side(self, hist: torch.Tensor, feats: torch.Tensor, table: torch.Tensor | None = None) -> UserSide:
        """hist int64 (B, N) item indices, padding = n; feats int64 (B, 3) age, gender, occupation."""
        table = self.item_table() if table is None else table
        mask = (hist < self.sizes.n_items).float()                                   # (B, N)
        count = mask.sum(1, keepdim=True).clamp_min(1.0)                              # (B, 1)
        h = (F.embedding(hist, table) * mask[..., None]).sum(1) / count               # (B, d)
        share = (self.genre_share[hist] * mask[..., None]).sum(1) / count             # (B, g) watched genres
        age, gender, occ = feats.unbind(1)                                             # 3 x (B,)
        wide = self.w_age.T[age] + self.w_gender.T[gender] + self.w_occupation.T[occ] + share @ self.w_history
        x = torch.cat([h, self.age_emb(age), self.gender_emb(gender), self.occupation_emb(occ)], 1)  # (B, d+3f)
        return UserSide(h, wide, self.first_user(x))

    def item_side(self, items: torch.Tensor, table: torch.Tensor | None = None) -> ItemSide:
        """items int64 (.., C) item indices (0..n-1)."""
        table = self.item_table() if table is None else table
        vec = F.embedding(items, table)                                                # (.., C, d)
        genres = self.genres[items]                                                    # (.., C, g)
        dec = self.decade[items]
        bias = self.w_item[items] + (genres * self.w_decade.T[dec]).sum(-1)           # (.., C)
        x = torch.cat([vec, self.genre_share[items] @ self.genre_emb, self.decade_emb(dec),
                       self.pop_emb(self.pop[items])], -1)                             # (.., C, d+3f)
        return ItemSide(vec, genres, bias, self.first_item(x))

    def logits(self, u: UserSide, it: ItemSide) -> torch.Tensor:
        """float (B, C): user b against candidate c (item sides of shape (1, C) broadcast)."""
        out = torch.zeros(u.hist.shape[0], it.vec.shape[-2], dtype=u.hist.dtype, device=u.hist.device)
        parts = self.cfg.parts
        if "wide" in parts:
            out = out + torch.matmul(it.genres, u.wide[:, :, None])[..., 0] + it.bias    # (B, C)
        if "deep" in parts:
            out = out + self.mlp(u.deep[:, None, :] + it.deep)[..., 0]                   # (B, C, h0) -> (B, C)
        if "dot" in parts:
            out = out + torch.matmul(it.vec, u.hist[:, :, None])[..., 0]                 # (B, C)
        return out

    def forward(self, hist: torch.Tensor, feats: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Training path: hist (B, N), feats (B, 3), items (B, C) -> logits float (B, C)."""
        table = self.item_table()
        return self.logits(self.user_side(hist, feats, table), self.item_side(items, table))

    @torch.no_grad()
    def score_all(self, hist: torch.Tensor, feats: torch.Tensor) -> torch.Tensor:
        """float (B, n): every movie for each user (eval mode is the caller's job)."""
        table = self.item_table()
        items = torch.arange(self.sizes.n_items, device=hist.device)[None, :]           # (1, n)
        return self.logits(self.user_side(hist, feats, table), self.item_side(items, table))
