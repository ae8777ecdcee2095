"""Live personalisation: a taste vector from clicks, pushed away from dislikes.

Maths (all vectors L2-normalised rows of one model's space, float32):

- taste ``t = normalise(sum_i w_i x_i / sum_i w_i)`` over clicked movies ``x_i``; ``w_i = 1``,
  or with recency ``w_i = 0.5 ** ((n-1-i) / half_life)`` (the last click weighs 1).
- dislikes ``y_j``: ``t <- normalise(t - dislike_weight * normalise(mean_j y_j))``.
- recommendations: nearest movies to ``t``, clicked and disliked movies excluded; each
  is explained by the clicked movie with the highest cosine to it ("because you clicked").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from typing import Any, Sequence

import numpy as np

from engine.core.errors import BadQueryError, UnknownMovieError
from engine.core.inputs import MAX_CLICKS, check_ids  # noqa: F401
from engine.core.arrays import normalize
from engine.vectors.contract import SearchIndex, Selection



@dataclass(frozen=True)
class TasteConfig:
    """``recency_half_life``: clicks (None = all equal); ``dislike_weight``: push strength >= 0."""

    recency_half_life: float | None = None
    dislike_weight: float = 0.5

    def __post_init__(self) -> None:
        h = self.recency_half_life
        if h is not None and (not _is_number(h) or not h > 0):
            raise BadQueryError(f"The recency half-life must be a positive number of clicks; got {h!r}.")
        w = self.dislike_weight
        if not _is_number(w) or not 0 <= w <= 10:
            raise BadQueryError(f"The dislike weight must be a number between 0 and 10; got {w!r}.")


def _is_number(x: Any) -> bool:
    """A real number (numpy scalars included), not a bool, not NaN."""
    return isinstance(x, Real) and not isinstance(x, (bool, np.bool_)) and not math.isnan(float(x))


class Space:
    """One model's normalised vectors with an id -> row map. ids int64 (n,), vectors float32 (n, d).

    ``unit`` float32 (n, d) holds the L2-normalised rows; ``content_hash`` the stored vectors' hash."""

    def __init__(self, model: str, movie_ids: np.ndarray, vectors: np.ndarray, content_hash: str = "") -> None:
        self.model = model
        self.content_hash = content_hash
        self.ids = np.asarray(movie_ids, dtype=np.int64)
        self.unit = normalize(vectors)
        self.row = {int(m): i for i, m in enumerate(self.ids)}

    def rows(self, movie_ids: Sequence[int], what: str = "movie") -> np.ndarray:
        """Row positions int64 (m,) for ids; :class:`UnknownMovieError` names every unknown id."""
        missing = [int(m) for m in movie_ids if int(m) not in self.row]
        if missing:
            shown = ", ".join(str(m) for m in missing[:10])
            raise UnknownMovieError(f"Unknown {what} id(s) in the {self.model} space: {shown}.")
        return np.array([self.row[int(m)] for m in movie_ids], dtype=np.int64)




def recency_weights(n: int, half_life: float | None) -> np.ndarray:
    """float32 (n,) weights, oldest first; all ones without a half-life."""
    if half_life is None:
        return np.ones(n, dtype=np.float32)
    age = np.arange(n - 1, -1, -1, dtype=np.float64)
    return (0.5 ** (age / half_life)).astype(np.float32)


def mean_taste(unit: np.ndarray, half_life: float | None = None) -> np.ndarray:
    """float32 (1, d): the normalised (recency-weighted) mean of clicked unit rows float32 (m, d),
    oldest first — the taste before dislikes (also what the offline evaluation measures)."""
    w = recency_weights(len(unit), half_life)
    return normalize((w[:, None] * unit).sum(0, keepdims=True) / w.sum())


@dataclass(frozen=True)
class Taste:
    """What a visitor clicked, checked once: ``clicks`` and ``dislikes`` are tuples of distinct ints
    (oldest first, no movie in both), ``config`` how they combine.  Make one with :meth:`of`; every
    function below takes it as it is, so one request checks its ids once."""

    clicks: tuple[int, ...]
    dislikes: tuple[int, ...] = ()
    config: TasteConfig = TasteConfig()

    @classmethod
    def of(cls, clicks: Any, dislikes: Any = (), config: TasteConfig | None = None) -> "Taste":
        """Validate raw ids (any iterable of whole numbers; see :func:`engine.core.inputs.check_ids`)."""
        c = check_ids(clicks, "clicks")
        d = check_ids(dislikes, "dislikes", allow_empty=True)
        both = sorted(set(c) & set(d))
        if both:
            raise BadQueryError(f"Movie(s) {', '.join(map(str, both))} are both clicked and disliked; pick one.")
        return cls(tuple(c), tuple(d), config or TasteConfig())

    @property
    def seen(self) -> frozenset[int]:
        return frozenset(self.clicks) | frozenset(self.dislikes)


def as_taste(taste: "Taste | Sequence[int]", dislikes: Sequence[int] = (), config: TasteConfig | None = None) -> Taste:
    """``taste`` itself, or :meth:`Taste.of` the raw ids (callers that hold plain lists)."""
    return taste if isinstance(taste, Taste) else Taste.of(taste, dislikes, config)


@dataclass(frozen=True)
class Scored:
    """One recommended movie: its cosine to the taste vector and the click that explains it best."""

    movie_id: int
    score: float
    because_id: int | None = None
    because_score: float | None = None


@dataclass(frozen=True)
class Recommended:
    """``rows`` best first (at most k) and the taste vector float32 (d,) they are nearest to."""

    rows: tuple[Scored, ...]
    vector: np.ndarray


def taste_vector(space: Space, taste: "Taste | Sequence[int]", dislikes: Sequence[int] = (),
                 config: TasteConfig | None = None) -> np.ndarray:
    """Normalised float32 (d,) taste vector (see module docstring)."""
    taste = as_taste(taste, dislikes, config)
    t = mean_taste(space.unit[space.rows(taste.clicks, "clicked")], taste.config.recency_half_life)
    if taste.dislikes:
        y = normalize(space.unit[space.rows(taste.dislikes, "disliked")].mean(0, keepdims=True))
        t = normalize(t - taste.config.dislike_weight * y)
    if not np.any(t):
        raise BadQueryError("The clicks cancel out (their vectors average to zero); click a few more movies.")
    return t[0]


def explain(space: Space, rec_ids: Sequence[int], clicks: Sequence[int]) -> list[tuple[int, float]]:
    """For each recommended id: (clicked id with the highest cosine to it, that cosine)."""
    if len(rec_ids) == 0:
        return []
    r = space.unit[space.rows(rec_ids)]
    c = space.unit[space.rows(clicks)]
    sims = r @ c.T  # (m, clicks)
    best = sims.argmax(1)
    return [(int(clicks[b]), float(sims[i, b])) for i, b in enumerate(best)]


def recommend(space: Space, index: SearchIndex, taste: "Taste | Sequence[int]", dislikes: Sequence[int] = (),
              k: int = 10, config: TasteConfig | None = None, where: Selection | None = None) -> Recommended:
    """Top-k movies for the taste vector, each explained by its nearest click.

    Clicked and disliked movies never appear, nor movies outside ``where`` (a filter's selection).
    Fewer than k only if the space (or the selection) is exhausted.
    """
    taste = as_taste(taste, dislikes, config)
    t = taste_vector(space, taste)
    seen = taste.seen
    scores, ids = index.search(t[None, :], min(k + len(seen), index.ntotal), where)
    keep = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0 and int(i) not in seen][:k]
    why = explain(space, [i for i, _ in keep], list(taste.clicks))
    return Recommended(tuple(Scored(i, s, b, bs) for (i, s), (b, bs) in zip(keep, why)), t)


# ---------------------------------------------------------------------- several interests
#: clicks the "best" strategy searches from (the most recent ones): each is one index query
BEST_MAX_CLICKS = 50
#: most interests a taste is split into
MAX_INTERESTS = 3
#: the split cosines tried on validation per space (``engine.recsys.beyond``): 1.0 splits clicks into
#: the most interests there is room for; never splitting is left out (that is the average strategy)
SPLIT_COSINES: tuple[float, ...] = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)
#: the split cosine where an evaluation chose none for a space (records measured before the choice
#: existed); measured by ``python benchmarks/bench_interests.py`` on the validation splits of
#: ml-100k and ml-latest-small (docs/MODELS.md, "Taste strategies")
SPLIT_COSINE = 0.8


def check_split(x: Any) -> float:
    """``x`` as a split cosine (a number in [-1, 1]); :class:`BadQueryError` otherwise."""
    if not _is_number(x) or not -1.0 <= float(x) <= 1.0:
        raise BadQueryError(f"The interest split cosine must be a number between -1 and 1; got {x!r}.")
    return float(x)


def interests(unit: np.ndarray, max_interests: int = MAX_INTERESTS, split_below: float = SPLIT_COSINE,
              iterations: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Clicks clustered into at most ``max_interests`` interests by spherical k-means; how many, the clicks decide.

    unit float (m, d): the clicks' unit rows, oldest first.  Seeds: the last click, then, while there
    is room, the click least similar to every seed so far, but only if its highest cosine to a seed is
    below ``split_below``: clicks within that cosine of a seed belong to its interest, so two romances
    and two horror films make two interests, not three (``split_below`` 1.0 always splits to the
    maximum, -1.0 never splits).  Deterministic; each click joins the interest of highest cosine.
    Returns (centroids float32 (j, d) L2-normalised, labels int64 (m,) into them), the largest interest
    first (ties: the one holding the most recent click); empty ones dropped."""
    x = np.asarray(unit, dtype=np.float64)
    m = len(x)
    j = max(1, min(int(max_interests), m))
    seeds = [m - 1]
    for _ in range(j - 1):
        near = (x @ x[seeds].T).max(1)
        near[seeds] = np.inf
        far = int(near.argmin())
        if not near[far] < split_below:      # every click is close to a seed already: no new interest
            break
        seeds.append(far)
    cent = x[seeds]
    labels = np.zeros(m, dtype=np.int64)
    for it in range(iterations):
        new = (x @ cent.T).argmax(1)
        cent = np.stack([x[new == c].mean(0) if (new == c).any() else cent[c] for c in range(len(cent))])
        cent = cent / np.maximum(np.linalg.norm(cent, axis=1, keepdims=True), 1e-12)
        if it and np.array_equal(new, labels):
            break
        labels = new
    used = [c for c in range(len(cent)) if (labels == c).any()]
    last = {c: int(np.flatnonzero(labels == c).max()) for c in used}
    used.sort(key=lambda c: (-(labels == c).sum(), -last[c]))
    remap = {c: i for i, c in enumerate(used)}
    return cent[used].astype(np.float32), np.array([remap[int(c)] for c in labels], dtype=np.int64)


def best_scores(unit: np.ndarray, clicks: np.ndarray, dislikes: np.ndarray | None = None,
                dislike_weight: float = 0.5) -> np.ndarray:
    """float32 (n,): each movie's highest cosine to any click, minus ``dislike_weight`` times its
    highest cosine to any dislike. unit float (n, d), clicks float (m, d), dislikes float (q, d): unit rows."""
    s = (unit @ np.asarray(clicks, dtype=np.float32).T).max(1)
    if dislikes is not None and len(dislikes):
        s = s - dislike_weight * (unit @ np.asarray(dislikes, dtype=np.float32).T).max(1)
    return s.astype(np.float32)


def interleave(lists: Sequence[np.ndarray], k: int) -> np.ndarray:
    """int64 (<= k,): round-robin over ``lists`` (each best first; first list first), repeats skipped."""
    out: list[int] = []
    seen: set[int] = set()
    pos = [0] * len(lists)
    while len(out) < k and any(p < len(lst) for p, lst in zip(pos, lists)):
        for i, lst in enumerate(lists):
            while pos[i] < len(lst) and int(lst[pos[i]]) in seen:
                pos[i] += 1
            if pos[i] < len(lst) and len(out) < k:
                out.append(int(lst[pos[i]]))
                seen.add(out[-1])
                pos[i] += 1
    return np.array(out, dtype=np.int64)


def interest_vectors(space: Space, taste: Taste, split_below: float = SPLIT_COSINE) -> np.ndarray:
    """float32 (j, d): the taste's interests (:func:`interests` of its clicks at ``split_below``, recency
    ignored), each pushed away from the dislikes as :func:`taste_vector` does."""
    cent, _ = interests(space.unit[space.rows(taste.clicks, "clicked")], split_below=split_below)
    if taste.dislikes:
        y = normalize(space.unit[space.rows(taste.dislikes, "disliked")].mean(0, keepdims=True))
        cent = normalize(cent - taste.config.dislike_weight * y)
    return cent.astype(np.float32)


def candidates(space: Space, index: SearchIndex, taste: Taste, n: int, strategy: str = "average",
               where: Selection | None = None, split_below: float = SPLIT_COSINE
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Up to ``n`` movies for a taste by ``strategy`` (:data:`engine.core.registry.TASTE_STRATEGIES`):
    (ids int64 (c,), scores float32 (c,), interest vectors float32 (j, d)), clicked and disliked excluded.

    average: nearest to the taste vector; best: each movie scored by its best cosine to one of the
    last :data:`BEST_MAX_CLICKS` clicks minus the dislikes (candidates: each click's nearest);
    multi: one list per interest (:func:`interests` at ``split_below``), interleaved (score: cosine to
    the nearest interest).  Only movies of
    ``where`` (a filter's selection) when given."""
    from engine.core.registry import TASTE_STRATEGIES

    if strategy not in TASTE_STRATEGIES:
        raise BadQueryError(f"Unknown taste strategy {strategy!r}; choose one of {', '.join(TASTE_STRATEGIES)}.")
    seen = np.fromiter(taste.seen, np.int64, len(taste.seen))
    want = min(n + len(seen), index.ntotal)

    def nearest(q: np.ndarray) -> list[np.ndarray]:
        _, ids = index.search(np.ascontiguousarray(q, dtype=np.float32), want, where)
        return [row[(row >= 0) & ~np.isin(row, seen)] for row in ids]

    if strategy == "average":
        t = taste_vector(space, taste)
        vecs = t[None, :]
        ids = nearest(vecs)[0][:n]
        return ids, (space.unit[space.rows(ids)] @ t).astype(np.float32), vecs
    if strategy == "best":
        clicks = space.unit[space.rows(taste.clicks[-BEST_MAX_CLICKS:], "clicked")]
        dis = space.unit[space.rows(taste.dislikes, "disliked")] if taste.dislikes else None
        pool = np.unique(np.concatenate(nearest(clicks)))
        s = best_scores(space.unit[space.rows(pool)], clicks, dis, taste.config.dislike_weight)
        order = np.argsort(-s, kind="stable")[:n]
        return pool[order], s[order], normalize(clicks.mean(0, keepdims=True)).astype(np.float32)
    vecs = interest_vectors(space, taste, split_below)
    ids = interleave(nearest(vecs), n)
    return ids, (space.unit[space.rows(ids)] @ vecs.T).max(1).astype(np.float32), vecs


def recommend_by(space: Space, index: SearchIndex, taste: Taste, k: int = 10, strategy: str = "average",
                 lam: float = 1.0, where: Selection | None = None, split_below: float = SPLIT_COSINE) -> Recommended:
    """Top-k movies for ``taste`` by ``strategy`` (:func:`candidates`), re-ranked by MMR at ``lam``
    (:mod:`engine.recsys.diversity`; 1 = as found) from :data:`~engine.recsys.diversity.MMR_CANDIDATES`
    candidates, each explained by its nearest click; ``split_below``: how far apart clicks must be to
    make separate interests (:func:`interests`).  ``vector``: float32 (d,) for one taste vector,
    (j, d) for the multi-interest strategy (one row per interest)."""
    from engine.recsys.diversity import MMR_CANDIDATES, check_lambda, mmr

    lam = check_lambda(lam)
    ids, scores, vecs = candidates(space, index, taste, k if lam >= 1.0 else max(k, MMR_CANDIDATES), strategy, where,
                                  split_below)
    if lam < 1.0 and len(ids):
        keep = mmr(ids, scores, space.unit[space.rows(ids)], k, lam)
        score_of = dict(zip(ids.tolist(), scores.tolist()))
        ids, scores = keep, np.array([score_of[int(i)] for i in keep], dtype=np.float32)
    ids, scores = ids[:k], scores[:k]
    why = explain(space, ids.tolist(), list(taste.clicks))
    rows = tuple(Scored(int(i), float(s), b, bs) for i, s, (b, bs) in zip(ids, scores, why))
    return Recommended(rows, vecs[0] if strategy != "multi" else vecs)
