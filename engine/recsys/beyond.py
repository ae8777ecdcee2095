"""Beyond accuracy, measured on the leave-one-out split: what the top 10 lists look like, and what the
controls that change them cost.

:func:`evaluate_beyond` writes the ``"beyond"`` record of an evaluation (JSON; its typed form is
:class:`engine.recsys.figures.BeyondFigures`):

1. ``lists``: for every row the evaluation reports (each model's own ranking, each taste vector,
   each native user vector, each two-stage cell) the test users' top 10 (known items excluded) as
   catalogue coverage@10, novelty (bits: mean ``-log2`` of the items' share of training
   interactions), intra-list diversity (``1 -`` mean pairwise cosine in a content space: MiniLM
   text, else the first text space), its genre variant (``1 -`` mean pairwise Jaccard of genre
   sets) and popularity share (share of the list among the 10 % most-interacted training items).
2. ``mmr``: per space, the plain taste vector's 50 nearest re-ranked by MMR
   (:mod:`engine.recsys.diversity`) at each lambda: NDCG@10 and both diversities.
3. ``debias``: per collaborative space, popularity-debiased taste scores; the method (remove the
   popularity direction, or subtract ``strength`` x standardised log popularity) chosen on
   validation; plain vs debiased on test.
4. ``support``: per space, "similar to the last click" (the Similar movies page) by the training
   count of that click; the threshold below which a collaborative space is not trusted is chosen on
   validation against the text space.
5. ``strategies``: NDCG@10 per taste strategy (:data:`engine.core.registry.TASTE_STRATEGIES`), space and
   history length (each user's history cut to its last 2, 5, 20 or all > 20 clicks); the default
   chosen on validation.  The multi-interest strategy's split cosine (how many interests the clicks
   make, :func:`engine.recsys.taste.interests`) is chosen per space on validation first
   (``split_below``; every cosine tried in ``split_tried``) and its figures are those of that cosine.
6. ``genre``: for test users whose last three clicks share a genre, the share of those genres in the
   top 10 built from those three clicks, per space and strategy, against the catalogue's base rate;
   and for those whose three share Romance, the share of Romance itself against its catalogue share.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from engine.core.arrays import normalize
from engine.core.config import Progress, no_progress
from engine.models.base import EmbeddingModel, Holdout
from engine.models.metrics import (catalogue_coverage, genre_diversity, intra_list_diversity, list_ranks, ndcg,
                                   novelty, popularity_share, top_k)
from engine.recsys.diversity import LAMBDAS, MMR_CANDIDATES, mmr_order
from engine.recsys.figures import ALL, parse_beyond
from engine.recsys.splits import LeaveOneOut
from engine.recsys.stages import native_scores, taste_scores
from engine.recsys.taste import (BEST_MAX_CLICKS, MAX_CLICKS, SPLIT_COSINE, SPLIT_COSINES, Space, best_scores, interests,
                                 interleave, mean_taste)
from engine.core.registry import COLLABORATIVE, NATIVE_TASTE, RANKERS, SPACES, TASTE_STRATEGIES, TEXT_SPACES

log = logging.getLogger(__name__)

#: support buckets (training ratings behind a movie): (label, lowest, highest or None)
SUPPORT_BUCKETS: tuple[tuple[str, int, int | None], ...] = (("1-2", 1, 2), ("3-10", 3, 10), ("11-50", 11, 50),
                                                            (">50", 51, None))
#: history-length buckets: (label, fewest clicks a user needs, clicks kept = the last N, None = all)
HISTORY_BUCKETS: tuple[tuple[str, int, int | None], ...] = (("1-2", 1, 2), ("3-5", 3, 5), ("6-20", 6, 20),
                                                            (">20", 21, None))
#: the genre of the guide's example ("after three romance films the front page turns to romance")
ROMANCE = "Romance"
#: a bucket with fewer users has no figure (too noisy to choose anything on)
MIN_BUCKET_USERS = 20
#: debiasing variants tried on validation: ("direction", 0) or ("penalty", strength)
DEBIAS_VARIANTS: tuple[tuple[str, float], ...] = (("direction", 0.0), ("penalty", 0.05), ("penalty", 0.1),
                                                  ("penalty", 0.2), ("penalty", 0.4))


@dataclass(frozen=True)
class BeyondConfig:
    """``head_share``: the most-interacted share of items that counts as "popular"; ``lambdas`` and
    ``mmr_candidates``: the MMR grid; ``two_stage_at``: the candidate cut-offs whose two-stage lists are
    described (None = every cut-off of the stages record)."""

    k: int = 10
    head_share: float = 0.1
    lambdas: tuple[float, ...] = LAMBDAS
    mmr_candidates: int = MMR_CANDIDATES


# ---------------------------------------------------------------------- helpers shared with the pages
def popularity_z(counts: np.ndarray) -> np.ndarray:
    """float32 (n,) standardised ``log(1 + count)`` (0 everywhere when all counts are equal)."""
    x = np.log1p(np.asarray(counts, dtype=np.float64))
    sd = x.std()
    return ((x - x.mean()) / sd if sd > 0 else np.zeros_like(x)).astype(np.float32)


def popularity_direction(unit: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """float32 (d,) unit vector: the popularity-weighted sum of the rows, ``normalise(sum_i z_i x_i)``
    (``z`` = :func:`popularity_z`): the direction along which popular movies lie."""
    z = popularity_z(counts).astype(np.float64)
    return normalize((z[:, None] * np.asarray(unit, dtype=np.float64)).sum(0, keepdims=True))[0].astype(np.float32)


def remove_direction(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    """float32 (m, d): rows of ``x`` without their component along unit ``p``, L2-normalised again."""
    x = np.asarray(x, dtype=np.float32)
    return normalize(x - (x @ p)[:, None] * p[None, :])


def debiased_scores(unit: np.ndarray, counts: np.ndarray, queries: np.ndarray, method: str, strength: float) -> np.ndarray:
    """float32 (u, n) popularity-debiased cosine scores of unit rows (n, d) for query vectors (u, d).

    ``"direction"``: both sides without the popularity direction (:func:`popularity_direction`);
    ``"penalty"``: cosine minus ``strength`` x standardised log popularity."""
    unit = np.asarray(unit, dtype=np.float32)
    q = np.asarray(queries, dtype=np.float32)
    if method == "direction":
        p = popularity_direction(unit, counts)
        return remove_direction(q, p) @ remove_direction(unit, p).T
    if method == "penalty":
        return q @ unit.T - np.float32(strength) * popularity_z(counts)[None, :]
    raise ValueError(f"unknown debiasing method {method!r}")


def shared_genres(genre_sets: Sequence[Sequence[str]]) -> frozenset[str]:
    """The genres every one of ``genre_sets`` has (empty when there is none or no set)."""
    sets = [frozenset(g) for g in genre_sets]
    return frozenset.intersection(*sets) if sets else frozenset()


def genre_share(list_genres: Sequence[Sequence[str]], genres: frozenset[str]) -> float | None:
    """Share of a list's items that have at least one of ``genres``; None for an empty list or no genre."""
    if not list_genres or not genres:
        return None
    return float(np.mean([bool(genres & set(g)) for g in list_genres]))


def history_bucket(n: int) -> str | None:
    """The :data:`HISTORY_BUCKETS` label of a history of ``n`` clicks (None below 1)."""
    return next((lab for lab, lo, last in HISTORY_BUCKETS if n >= lo and (last is None or n <= last)), None)


def support_bucket(n: int) -> str | None:
    """The :data:`SUPPORT_BUCKETS` label of ``n`` ratings (None below 1)."""
    return next((lab for lab, lo, hi in SUPPORT_BUCKETS if n >= lo and (hi is None or n <= hi)), None)


# ---------------------------------------------------------------------- building blocks
def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


class _Describe:
    """What a list of top-k lists looks like (section 1 figures)."""

    def __init__(self, n_items: int, counts: np.ndarray, content: np.ndarray | None, genres: np.ndarray | None,
                 head_share: float) -> None:
        self.n_items, self.counts, self.content, self.genres, self.head_share = n_items, counts, content, genres, head_share

    def __call__(self, lists: np.ndarray) -> dict[str, float | None]:
        return {"coverage": _r(catalogue_coverage(lists, self.n_items)),
                "novelty": _r(novelty(lists, self.counts)),
                "ild": None if self.content is None else _r(intra_list_diversity(lists, self.content)),
                "ild_genre": None if self.genres is None else _r(genre_diversity(lists, self.genres)),
                "popularity_share": _r(popularity_share(lists, self.counts, self.head_share))}


def two_stage_lists(stage1: np.ndarray, ranker: np.ndarray, exclude: Sequence[np.ndarray], n_candidates: int | None,
                    k: int) -> np.ndarray:
    """int64 (u, k) final lists of the two stages: stage 1's top ``n_candidates`` (None = all), ordered
    by the ranker's scores; known items excluded from both (as :func:`engine.recsys.stages.two_stage_ranks`)."""
    u, n = stage1.shape
    s1 = np.array(stage1, dtype=np.float32, copy=True)
    for r, ex in enumerate(exclude):
        s1[r, ex] = -np.inf
    rs = np.asarray(ranker, dtype=np.float32)
    if n_candidates is not None and n_candidates < n:
        order = np.argsort(-s1, axis=1, kind="stable")[:, :n_candidates]
        keep = np.zeros((u, n), dtype=bool)
        keep[np.arange(u)[:, None], order] = True
        rs = np.where(keep & np.isfinite(s1), rs, -np.inf)
    return top_k(rs, exclude, k)


def _cut(histories: Sequence[np.ndarray], last: int | None) -> list[np.ndarray]:
    h = [np.asarray(x, dtype=np.int64)[-MAX_CLICKS:] for x in histories]
    return h if last is None else [x[-last:] for x in h]


def strategy_lists(unit: np.ndarray, histories: Sequence[np.ndarray], exclude: Sequence[np.ndarray], strategy: str,
                   k: int = 10, split_below: float = SPLIT_COSINE) -> np.ndarray:
    """int64 (u, k) top-k lists of a taste strategy over unit rows (n, d) from each history (item
    indices, oldest first); ``exclude``: each user's known items. Mirrors
    :func:`engine.recsys.taste.candidates` (best: the last :data:`BEST_MAX_CLICKS` clicks; multi: the
    interests at ``split_below``)."""
    if strategy == "average":
        t = np.concatenate([mean_taste(unit[h]) for h in histories])
        return top_k(t @ unit.T, exclude, k)
    if strategy == "best":
        s = np.stack([best_scores(unit, unit[h[-BEST_MAX_CLICKS:]]) for h in histories])
        return top_k(s, exclude, k)
    out = np.full((len(histories), k), -1, dtype=np.int64)
    for r, (h, ex) in enumerate(zip(histories, exclude)):
        cent, _ = interests(unit[h], split_below=split_below)
        lists = top_k(cent @ unit.T, [ex] * len(cent), k)
        got = interleave([lst[lst >= 0] for lst in lists], k)
        out[r, :len(got)] = got
    return out


def _ndcg_lists(lists: np.ndarray, targets: np.ndarray, k: int) -> float:
    return ndcg(list_ranks(lists, targets), k)


def _subset(holdout: Holdout, rows: np.ndarray) -> Holdout:
    return Holdout(tuple(holdout.histories[r] for r in rows), holdout.targets[rows],
                   tuple(holdout.exclude[r] for r in rows))


# ---------------------------------------------------------------------- the sections
def _mmr(spaces: Mapping[str, np.ndarray], test: Holdout, describe: _Describe, cfg: BeyondConfig) -> dict[str, Any]:
    out = {}
    for m, unit in spaces.items():
        t = np.concatenate([mean_taste(unit[np.asarray(h)]) for h in test.histories])
        cand = top_k(t @ unit.T, test.exclude, cfg.mmr_candidates)                      # (u, c), best first
        rel = np.where(cand >= 0, np.take_along_axis(t @ unit.T, np.maximum(cand, 0), 1), -np.inf)
        vecs = unit[np.maximum(cand, 0)]                                                 # (u, c, d)
        sims = np.matmul(vecs, vecs.transpose(0, 2, 1))                               # (u, c, c)
        points = []
        for lam in cfg.lambdas:
            order = mmr_order(rel, sims, cfg.k, lam)
            lists = np.take_along_axis(cand, order, 1)
            d = describe(lists)
            points.append({"lambda": lam, f"ndcg@{cfg.k}": _r(_ndcg_lists(lists, test.targets, cfg.k)),
                           "ild": d["ild"], "ild_genre": d["ild_genre"]})
        out[m] = {"candidates": cfg.mmr_candidates, "points": points}
    return out


def _debias(spaces: Mapping[str, np.ndarray], valid: Holdout, test: Holdout, counts: np.ndarray, describe: _Describe,
            cfg: BeyondConfig) -> dict[str, Any]:
    out = {}
    for m, unit in spaces.items():
        if m not in COLLABORATIVE:
            continue

        def measure(h: Holdout, method: str | None, strength: float) -> dict[str, float | None]:
            t = np.concatenate([mean_taste(unit[np.asarray(x)]) for x in h.histories])
            s = t @ unit.T if method is None else debiased_scores(unit, counts, t, method, strength)
            lists = top_k(s, h.exclude, cfg.k)
            d = describe(lists)
            return {f"ndcg@{cfg.k}": _r(_ndcg_lists(lists, h.targets, cfg.k)), "coverage": d["coverage"],
                    "popularity_share": d["popularity_share"], "novelty": d["novelty"]}

        plain_v = measure(valid, None, 0.0)
        tried = [{"method": me, "strength": st, "valid": measure(valid, me, st)} for me, st in DEBIAS_VARIANTS]
        # the debiased option exists to cut the head: among the variants that halve the plain list's
        # popularity share on validation, keep the most accurate; if none does, the least popular
        halving = [v for v in tried if v["valid"]["popularity_share"] <= 0.5 * plain_v["popularity_share"]]
        chosen = (max(halving, key=lambda v: v["valid"][f"ndcg@{cfg.k}"]) if halving
                  else min(tried, key=lambda v: v["valid"]["popularity_share"]))
        out[m] = {"method": chosen["method"], "strength": chosen["strength"], "valid_plain": plain_v, "tried": tried,
                  "test_plain": measure(test, None, 0.0),
                  "test_debiased": measure(test, chosen["method"], chosen["strength"])}
    return out


def support_threshold(collaborative: Mapping[str, Mapping[str, Any]], content: Mapping[str, Mapping[str, Any]],
                      k: int = 10) -> int:
    """Fewest training ratings a collaborative space is trusted with, from one data set's validation cells
    per :data:`SUPPORT_BUCKETS` label (``{"ndcg@k": float | None}``): the lowest bucket from which on the
    collaborative space is measured and at least as accurate as the content space in every bucket above;
    below it (or where unmeasured) the pages warn.  Nothing trusted: the top bucket's lowest count."""
    threshold = None
    for lab, lo, _ in reversed(SUPPORT_BUCKETS):
        a, b = collaborative[lab][f"ndcg@{k}"], content[lab][f"ndcg@{k}"]
        if a is None or b is None or a < b:
            break
        threshold = lo
    return SUPPORT_BUCKETS[-1][1] if threshold is None else threshold


def _support(spaces: Mapping[str, np.ndarray], valid: Holdout, test: Holdout, counts: np.ndarray,
             content: str | None, k: int) -> dict[str, Any]:
    def per_bucket(unit: np.ndarray, h: Holdout) -> dict[str, dict[str, Any]]:
        last = np.array([x[-1] for x in h.histories], dtype=np.int64)
        lists = top_k(unit[last] @ unit.T, h.exclude, k)
        ranks = list_ranks(lists, h.targets)
        out = {}
        for lab, lo, hi in SUPPORT_BUCKETS:
            sel = (counts[last] >= lo) & ((counts[last] <= hi) if hi is not None else True)
            n = int(sel.sum())
            out[lab] = {"users": n, f"ndcg@{k}": _r(ndcg(ranks[sel], k)) if n >= MIN_BUCKET_USERS else None}
        return out

    valid_b = {m: per_bucket(u, valid) for m, u in spaces.items()}
    test_b = {m: per_bucket(u, test) for m, u in spaces.items()}
    thresholds = {m: support_threshold(valid_b[m], valid_b[content], k) for m in spaces
                  if m in COLLABORATIVE and content in valid_b}
    return {"query": "the user's last click (similar movies)", "reference": content,
            "buckets": [lab for lab, _, _ in SUPPORT_BUCKETS], "min_users": MIN_BUCKET_USERS,
            "valid": valid_b, "test": test_b, "threshold": thresholds}


def history_grid(unit: np.ndarray, h: Holdout, strategy: str, k: int = 10,
                 split_below: float = SPLIT_COSINE) -> dict[str, dict[str, Any]]:
    """NDCG@k of ``strategy`` over unit rows (n, d) on holdout ``h`` per :data:`HISTORY_BUCKETS` label:
    ``{"users": int, "ndcg@k": float | None}`` (None below :data:`MIN_BUCKET_USERS`); every user with at
    least a bucket's clicks counts in it, the history cut to the bucket's last N."""
    lens = np.array([min(len(x), MAX_CLICKS) for x in h.histories])
    out: dict[str, dict[str, Any]] = {}
    for lab, lo, last in HISTORY_BUCKETS:
        rows = np.flatnonzero(lens >= lo)
        if len(rows) < MIN_BUCKET_USERS:
            out[lab] = {"users": int(len(rows)), f"ndcg@{k}": None}
            continue
        sub = _subset(h, rows)
        lists = strategy_lists(unit, _cut(sub.histories, last), sub.exclude, strategy, k, split_below)
        out[lab] = {"users": int(len(rows)), f"ndcg@{k}": _r(_ndcg_lists(lists, sub.targets, k))}
    return out


def bucket_mean(cells: Mapping[str, Mapping[str, Any]], k: int = 10) -> float | None:
    """Mean NDCG@k over a grid's measured buckets (what strategies and split cosines are chosen by)."""
    vals = [c[f"ndcg@{k}"] for c in cells.values() if c[f"ndcg@{k}"] is not None]
    return _r(float(np.mean(vals))) if vals else None


def choose_split(tried: Mapping[float, float | None]) -> float:
    """The split cosine with the best mean validation NDCG; ties go to the one that splits less (lower)."""
    return min(tried, key=lambda c: (-(tried[c] if tried[c] is not None else -1.0), c))


def _strategies(spaces: Mapping[str, np.ndarray], valid: Holdout, test: Holdout, k: int,
                progress: Progress) -> dict[str, Any]:
    progress(0.0, "beyond: multi-interest split cosine (validation)")
    # how far apart clicks must be to make separate interests: chosen per space on validation, since
    # cosines mean different things in a collaborative and a text space
    split_tried = {m: {c: bucket_mean(history_grid(unit, valid, "multi", k, c), k) for c in SPLIT_COSINES}
                   for m, unit in spaces.items()}
    split = {m: choose_split(tried) for m, tried in split_tried.items()}

    def grid(h: Holdout) -> dict[str, Any]:
        return {m: {s: history_grid(unit, h, s, k, split[m]) for s in TASTE_STRATEGIES} for m, unit in spaces.items()}

    progress(0.4, "beyond: taste strategies (validation)")
    v = grid(valid)
    progress(0.7, "beyond: taste strategies (test)")
    t = grid(test)
    mean = {}
    for s in TASTE_STRATEGIES:
        vals = [c[f"ndcg@{k}"] for m in v for c in v[m][s].values() if c[f"ndcg@{k}"] is not None]
        mean[s] = _r(float(np.mean(vals))) if vals else None
    default = max(TASTE_STRATEGIES, key=lambda s: (mean[s] if mean[s] is not None else -1.0, -TASTE_STRATEGIES.index(s)))
    return {"history": [lab for lab, _, _ in HISTORY_BUCKETS],
            "cut": "each user's history cut to the last 2 / 5 / 20 clicks, or all of it for users with more than 20",
            "valid_mean": mean, "default": default, "valid": v, "test": t,
            "split_below": split, "split_tried": {m: {str(c): x for c, x in tried.items()} for m, tried in split_tried.items()}}


def _genre(spaces: Mapping[str, np.ndarray], test: Holdout, item_genres: list[frozenset[str]], k: int,
           split_below: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The guide's genre claim per space and strategy; the multi strategy at each space's chosen
    ``split_below`` (the cosine the pages use), :data:`SPLIT_COSINE` where none was chosen."""
    all_genres = sorted(set().union(*item_genres)) if item_genres else []
    rows, shared = [], []
    for r, h in enumerate(test.histories):
        if len(h) >= 3:
            g = shared_genres([item_genres[i] for i in h[-3:]])
            if g:
                rows.append(r)
                shared.append(g)
    rows_a = np.array(rows, dtype=np.int64)
    base = [float(np.mean([bool(g & gi) for gi in item_genres])) for g in shared]
    romance = np.array([ROMANCE in g for g in shared], dtype=bool)
    # the guide's own case: users whose last three share Romance, and the share of Romance itself
    romance_rate = float(np.mean([ROMANCE in g for g in item_genres])) if item_genres else None
    out: dict[str, Any] = {"users": len(rows), "romance_users": int(romance.sum()), "base_rate": _r(float(np.mean(base))) if base else None,
                           "romance_base_rate": _r(romance_rate) if romance.any() else None,
                           "genres": all_genres, "by_space": {}}
    if not rows:
        return out
    sub = _subset(test, rows_a)
    hist = [np.asarray(x[-3:]) for x in sub.histories]
    for m, unit in spaces.items():
        out["by_space"][m] = {}
        for s in TASTE_STRATEGIES:
            lists = strategy_lists(unit, hist, sub.exclude, s, k, (split_below or {}).get(m, SPLIT_COSINE))
            shares = np.array([genre_share([item_genres[i] for i in lst if i >= 0], g) or 0.0
                               for lst, g in zip(lists, shared)])
            rom = [genre_share([item_genres[i] for i in lst if i >= 0], frozenset({ROMANCE})) or 0.0
                   for lst, ro in zip(lists, romance) if ro]
            out["by_space"][m][s] = {"share": _r(float(shares.mean())),
                                     "romance_share": _r(float(np.mean(rom))) if rom else None}
    return out


# ---------------------------------------------------------------------- the whole measurement
def evaluate_beyond(split: LeaveOneOut, models: Mapping[str, EmbeddingModel], movies: Any = None,
                    stages: Mapping[str, Any] | None = None, config: BeyondConfig = BeyondConfig(),
                    progress: Progress | None = None) -> dict[str, Any]:
    """The ``"beyond"`` record (see the module docstring) for ``models`` fitted on ``split``'s train part.

    ``movies``: the data set's movies frame (``movie_id``, ``genres``; genre figures are None without
    it); ``stages``: the evaluation's stages record (its chosen recency half-lives and candidate
    cut-offs; without it the taste rows are the plain taste vectors and two stages are not described)."""
    progress = progress or no_progress
    t0 = time.perf_counter()
    k = config.k
    valid, test = split.valid_holdout(), split.test_holdout()
    n = split.n_items
    counts = np.bincount(np.concatenate(split.train) if split.train else np.zeros(0, np.int64), minlength=n)
    spaces = {}
    for m in (*SPACES, *(r for r in RANKERS if r not in SPACES)):
        if m in models:
            spaces[m] = Space(m, split.item_ids, models[m].item_embeddings())
    content_name = next((m for m in ("text", *TEXT_SPACES) if m in spaces), None)
    item_genres: list[frozenset[str]] = []
    genre_matrix = None
    if movies is not None and "genres" in movies:
        by_id = dict(zip(movies["movie_id"].astype("int64"), movies["genres"]))
        item_genres = [frozenset(g for g in (by_id.get(int(i)) or ()) if g) for i in split.item_ids]
        names = sorted(set().union(*item_genres)) if item_genres else []
        col = {g: j for j, g in enumerate(names)}
        genre_matrix = np.zeros((n, len(names)), dtype=bool)
        for i, gs in enumerate(item_genres):
            genre_matrix[i, [col[g] for g in gs]] = True
    describe = _Describe(n, counts, spaces[content_name].unit if content_name else None, genre_matrix, config.head_share)

    progress(0.0, "beyond: describing every row's lists")
    lists: dict[str, Any] = {"models": {}, "stage1": {}, "two_stage": {}}
    native = {name: native_scores(model, test) for name, model in models.items()}
    for name, s in native.items():
        lists["models"][name] = describe(top_k(s, test.exclude, k))
    options: dict[str, np.ndarray] = {}
    taste_info = (stages or {}).get("stage1_taste") or {f"{m}:taste": {"space": m, "recency_half_life": None} for m in spaces}
    for name, info in taste_info.items():
        if info.get("space") in spaces:
            options[name] = taste_scores(spaces[info["space"]], test.histories, info.get("recency_half_life"))
    for m in NATIVE_TASTE:
        if m in native:
            options[f"{m}:native"] = native[m]
    for name, s in options.items():
        lists["stage1"][name] = describe(top_k(s, test.exclude, k))
    cuts = [None if c == ALL else int(c) for c in ((stages or {}).get("protocol") or {}).get("candidates", [])]
    for r in RANKERS:
        if r not in native or not cuts:
            continue
        lists["two_stage"][r] = {name: {(ALL if c is None else str(c)): describe(two_stage_lists(s, native[r], test.exclude, c, k))
                                        for c in cuts} for name, s in options.items()}

    progress(0.3, "beyond: MMR")
    page_spaces = {m: sp.unit for m, sp in spaces.items() if m in SPACES}
    mmr = _mmr(page_spaces, test, describe, config)
    progress(0.45, "beyond: debiasing")
    debias = _debias(page_spaces, valid, test, counts, describe, config)
    progress(0.55, "beyond: support")
    support = _support(page_spaces, valid, test, counts, content_name, k)
    strategies = _strategies(page_spaces, valid, test, k, lambda f, msg: progress(0.6 + 0.3 * f, msg))
    progress(0.9, "beyond: genres")
    genre = _genre(page_spaces, test, item_genres, k, strategies.get("split_below")) if item_genres else None
    progress(1.0, "beyond: done")
    return {"protocol": {"k": k, "head_share": config.head_share, "content_space": content_name,
                         "novelty": "mean -log2 of the items' share of training interactions",
                         "config": asdict(config)},
            "lists": lists, "mmr": mmr, "debias": debias, "support": support, "strategies": strategies,
            "genre": genre, "seconds": round(time.perf_counter() - t0, 2)}



def _f(x: float | None, w: int = 8, nd: int = 3) -> str:
    return f"{'-':>{w}}" if x is None else f"{x:>{w}.{nd}f}"


def format_beyond(res: Mapping[str, Any], candidates: str = "100") -> str:
    """Plain-text tables of :func:`evaluate_beyond` output (the CLI's and the benchmark's); two-stage
    lists at ``candidates`` only (every cell is in the JSON)."""
    k = res["protocol"]["k"]
    head = f"{res['protocol']['head_share']:.0%}"
    lines = [f"beyond accuracy (test top {k}): coverage, novelty (bits), intra-list diversity in "
             f"{res['protocol'].get('content_space') or '-'} and by genre, share of the {head} most-rated movies",
             f"{'row':<32}{'cover':>8}{'novelty':>8}{'ILD':>8}{'ILD gen':>8}{'pop':>8}"]

    def row(name: str, d: Mapping[str, Any]) -> None:
        lines.append(f"{name:<32}{_f(d['coverage'])}{_f(d['novelty'], nd=2)}{_f(d['ild'])}{_f(d['ild_genre'])}"
                     f"{_f(d['popularity_share'])}")

    lists = res["lists"]
    for name, d in lists["models"].items():
        row(f"model {name}", d)
    for name, d in lists["stage1"].items():
        row(name, d)
    for r, by in lists["two_stage"].items():
        for opt, cells in by.items():
            if candidates in cells:
                row(f"{opt} > {r} @{candidates}", cells[candidates])
    lines += ["", f"MMR on the taste vector's {next(iter(res['mmr'].values()), {}).get('candidates', '-')} nearest: "
                  f"NDCG@{k} / ILD by lambda, and NDCG lost per +0.01 ILD from lambda 1 to the lowest",
              f"{'space':<10}" + "".join(f"{'l=' + format(p['lambda'], 'g'):>16}" for p in
                                        next(iter(res["mmr"].values()), {}).get("points", [])) + f"{'cost':>10}"]
    for m, info in res["mmr"].items():
        pts = info["points"]
        a, b = pts[0], pts[-1]
        cost = None
        if a["ild"] is not None and b["ild"] is not None and b["ild"] - a["ild"] > 1e-9:
            cost = (a[f"ndcg@{k}"] - b[f"ndcg@{k}"]) / ((b["ild"] - a["ild"]) / 0.01)
        lines.append(f"{m:<10}" + "".join(f"{p[f'ndcg@{k}']:>8.4f}{_f(p['ild'])}" for p in pts) + _f(cost, 10, 4))
    lines += ["", f"popularity-debiased taste lists (method chosen on validation): NDCG@{k} / coverage / popularity share, "
                  "plain -> debiased",
              f"{'space':<10}{'method':<16}{'NDCG':>18}{'coverage':>18}{'pop share':>18}"]
    for m, d in res["debias"].items():
        p0, p1 = d["test_plain"], d["test_debiased"]
        lines.append(f"{m:<10}{d['method'] + ' ' + format(d['strength'], 'g'):<16}"
                     f"{p0[f'ndcg@{k}']:>8.4f} -> {p1[f'ndcg@{k}']:.4f}{p0['coverage']:>8.3f} -> {p1['coverage']:.3f}"
                     f"{p0['popularity_share']:>8.3f} -> {p1['popularity_share']:.3f}")
    sup = res["support"]
    lines += ["", f"similar to the last click, NDCG@{k} by the training ratings behind it (users); "
                  f"thresholds vs {sup['reference'] or '-'}: {sup['threshold']}",
              f"{'space':<10}" + "".join(f"{b:>18}" for b in sup["buckets"])]
    for m, cells in sup["test"].items():
        lines.append(f"{m:<10}" + "".join(f"{_f(cells[b][f'ndcg@{k}'], 10, 4)} ({cells[b]['users']:>4})" for b in sup["buckets"]))
    st = res["strategies"]
    per_space = dict(parse_beyond(res).strategies.default_by_space)
    lines += ["", f"taste strategies, NDCG@{k} by history length (clicks); default chosen on validation: {st['default']} "
                  f"(validation means {st['valid_mean']}; per space {per_space}); multi-interest split cosine per "
                  f"space, chosen on validation: {st.get('split_below', '-')}",
              f"{'space':<10}{'strategy':<10}" + "".join(f"{b:>10}" for b in st["history"])]
    for m, by in st["test"].items():
        for s, cells in by.items():
            lines.append(f"{m:<10}{s:<10}" + "".join(_f(cells[b][f"ndcg@{k}"], 10, 4) for b in st["history"]))
    g = res.get("genre")
    if g:
        lines += ["", f"last three clicks share a genre ({g['users']} test users, {g['romance_users']} with Romance): "
                      f"share of that genre in the top {k} from those clicks; catalogue base rate {_f(g['base_rate'], 0)}"
                      f" (Romance {_f(g['romance_base_rate'], 0)})",
                  f"{'space':<10}" + "".join(f"{s:>18}" for s in TASTE_STRATEGIES) + "   (all / Romance)"]
        for m, by in g["by_space"].items():
            lines.append(f"{m:<10}" + "".join(f"{_f(by[s]['share'], 8)} /{_f(by[s]['romance_share'], 7)}"
                                            for s in TASTE_STRATEGIES if s in by))
    return "\n".join(lines)
