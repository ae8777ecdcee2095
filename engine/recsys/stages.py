"""What the pages do, measured on the leave-one-out protocol: taste-vector retrieval and two stages.

The Home table measures each model's *own* scoring; the pages do something else:

1. **Stage 1 alone** (Live personalization): the taste vector — the normalised mean of the user's
   normalised movie vectors (train + validation items), plain or recency-weighted exactly as
   :func:`engine.recsys.taste.mean_taste` does for the page — searched by cosine over one space.
   The recency half-life of each space is chosen on validation (the page's choices 1, 2, 3, 5,
   10 clicks) and reported on test once.
2. **Model-native user vectors** in an inner-product index: MF's iALS fold-in vector against the
   un-normalised item factors, SASRec's last hidden state against its item table.  That *is*
   each model's own full ranking (the same dot products); it is listed beside the taste vectors
   so the gap between "what the page does" and "what the model can do" is one table.
3. **Two stages** (Retrieval + ranking): each stage-1 option keeps its top C movies
   (C in 25, 50, 100, 200, 500, all), a ranker (SASRec or Wide & Deep) orders them; a target
   outside the C candidates is a miss.  With C = all, the two stages are the ranker's own full
   ranking exactly (tested).

Metrics: HR@k, NDCG@k (k = 10 unless set) and recall@C (= the target is among the top C) of the test item, the
user's known items excluded, ties counted as in :mod:`engine.models.metrics`.  Latency: p50 over
``latency_users`` users of the code the pages run — stage 1 = taste vector + FAISS search
(:func:`engine.recsys.pipeline.retrieve`), or fold-in + inner-product search; stage 2 =
``ranker.score(history, candidates)``, with one torch thread as the pages run.  Latency users'
histories are cut to the page's limit of 500 clicks (:data:`engine.recsys.taste.MAX_CLICKS`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

import faiss
import numpy as np

from engine.core.config import Progress, no_progress
from engine.models.base import EmbeddingModel, Holdout
from engine.models.encoders import single_thread_inference
from engine.models.metrics import hit_ratio, masked_ranks, ndcg, user_kwargs
from engine.recsys.pipeline import retrieve
from engine.recsys.figures import ALL, DEFAULT_CANDIDATES, parse_page_figures
from engine.recsys.splits import LeaveOneOut
from engine.recsys.taste import MAX_CLICKS, Space, TasteConfig, mean_taste
from engine.core.registry import NATIVE_TASTE, RANKERS, SPACES
from engine.vectors.faiss_index import FaissIndex, IndexConfig

log = logging.getLogger(__name__)

#: the spaces measured: every model with movie vectors, the pages' spaces first (Wide & Deep's
#: movie vectors are measured as a space although the pages do not offer it)
MEASURED_SPACES = SPACES + tuple(r for r in RANKERS if r not in SPACES)


@dataclass(frozen=True)
class StagesConfig:
    """What to measure. ``half_lives``: the page's recency choices (clicks); ``candidates``: the
    stage-1 cut-offs before "all"; ``latency_users``: users timed per stage (seeded sample)."""

    candidates: tuple[int, ...] = (25, 50, 100, 200, 500)
    half_lives: tuple[float, ...] = (1.0, 2.0, 3.0, 5.0, 10.0)
    k: int = 10
    latency_users: int = 100
    seed: int = 0


# ---------------------------------------------------------------------- score matrices
def taste_scores(space: Space, histories: Sequence[np.ndarray], half_life: float | None = None) -> np.ndarray:
    """float32 (u, n) cosine of every movie to each history's taste vector. ``space`` rows must be
    the split's item indices (a space built from a model fitted on the split)."""
    t = np.concatenate([mean_taste(space.unit[np.asarray(h, dtype=np.int64)], half_life) for h in histories])
    return (t @ space.unit.T).astype(np.float32)                                   # (u, d) x (d, n)


def native_scores(model: EmbeddingModel, holdout: Holdout, batch: int = 256) -> np.ndarray:
    """float32 (u, n): the model's own scores (MF fold-in . y_i, SASRec last state . E_i, ...)."""
    out = [np.asarray(model.score_indices(list(holdout.histories[b:b + batch]),
                                          **user_kwargs(model, holdout, b, b + batch)), dtype=np.float32)
           for b in range(0, len(holdout), batch)]
    return np.concatenate(out)


def ranks(scores: np.ndarray, holdout: Holdout) -> np.ndarray:
    """int64 (u,) rank of each test target among all items, known items excluded."""
    return masked_ranks(scores, holdout.exclude, holdout.targets)


def summary(r: np.ndarray, k: int = 10, recall_at: Sequence[int] = ()) -> dict[str, float]:
    out = {f"hr@{k}": hit_ratio(r, k), f"ndcg@{k}": ndcg(r, k)}
    out |= {f"recall@{c}": hit_ratio(r, c) for c in recall_at}
    return out


def two_stage_ranks(stage1: np.ndarray, ranker: np.ndarray, holdout: Holdout, n_candidates: int | None) -> np.ndarray:
    """int64 (u,) rank of the target after stage 2; ``n_items`` (a miss) when stage 1 missed it.

    stage1, ranker: float (u, n) scores; known items are excluded from both stages; stage 1 keeps
    its ``n_candidates`` best (ties: lower item index first; None = every item), the ranker orders them."""
    u, n = stage1.shape
    s1 = np.array(stage1, dtype=np.float32, copy=True)
    for r, ex in enumerate(holdout.exclude):
        s1[r, ex] = -np.inf
    c = n if n_candidates is None else min(int(n_candidates), n)
    order = np.argsort(-s1, axis=1, kind="stable")[:, :c]                          # (u, c) best first
    keep = np.zeros((u, n), dtype=bool)
    keep[np.arange(u)[:, None], order] = True
    if n_candidates is None:
        keep[:] = True                          # "all": every movie goes to the ranker (known ones are masked next)
    rs = np.where(keep, np.asarray(ranker, dtype=np.float32), -np.inf)
    hit = keep[np.arange(u), holdout.targets] & np.isfinite(s1[np.arange(u), holdout.targets])
    out = np.full(u, n, dtype=np.int64)
    if hit.any():
        rows = np.flatnonzero(hit)
        out[rows] = masked_ranks(rs[rows], [holdout.exclude[r] for r in rows], holdout.targets[rows])
    return out


# ---------------------------------------------------------------------- latency
def _p50(values: list[float]) -> float:
    return round(float(np.median(values)), 3) if values else float("nan")


def _latency_users(n_users: int, cfg: StagesConfig) -> np.ndarray:
    rng = np.random.default_rng(cfg.seed)
    return np.sort(rng.choice(n_users, size=min(cfg.latency_users, n_users), replace=False))


def stage1_latency(space: Space, holdout: Holdout, users: np.ndarray, cuts: Sequence[int | None],
                   half_life: float | None) -> dict[str, float]:
    """p50 ms of the page's stage 1 (taste vector + exact FAISS search) per cut-off."""
    index = FaissIndex.build(space.ids, space.unit, IndexConfig())
    out = {}
    for c in cuts:
        times = []
        for r in users:
            clicks = space.ids[np.asarray(holdout.histories[r][-MAX_CLICKS:])].tolist()
            _, _, t = retrieve(space, index, clicks, (), len(space.ids) if c is None else c, TasteConfig(half_life))
            times.append(t["taste"] + t["retrieve"])
        out[ALL if c is None else str(c)] = _p50(times)
    return out


def native_latency(model: EmbeddingModel, holdout: Holdout, users: np.ndarray, cuts: Sequence[int | None]) -> dict[str, float]:
    """p50 ms of a native stage 1: the model's user vector, then an inner-product FAISS search over
    its un-normalised item vectors (``faiss.IndexFlatIP``), known items over-fetched and dropped."""
    items = np.ascontiguousarray(model.item_embeddings(), dtype=np.float32)
    index = faiss.IndexFlatIP(items.shape[1])
    index.add(items)
    vector = model.user_vectors if hasattr(model, "user_vectors") else model.user_states
    out = {}
    for c in cuts:
        times = []
        for r in users:
            hist = np.asarray(holdout.histories[r][-MAX_CLICKS:])
            t0 = time.perf_counter()
            q = np.ascontiguousarray(vector([hist]), dtype=np.float32)               # (1, d)
            want = len(items) if c is None else min(len(items), c + len(hist))
            _, ids = index.search(q, want)
            _ = ids[0][~np.isin(ids[0], hist)][:c]
            times.append(1e3 * (time.perf_counter() - t0))
        out[ALL if c is None else str(c)] = _p50(times)
    return out


def stage2_latency(ranker: EmbeddingModel, item_ids: np.ndarray, holdout: Holdout, users: np.ndarray,
                   cuts: Sequence[int | None]) -> dict[str, float]:
    """p50 ms of ``ranker.score(history, candidates)`` for C candidates (the pipeline page's call)."""
    rng = np.random.default_rng(1)
    reads_users = getattr(ranker, "uses_user_features", False) and holdout.user_ids is not None
    out = {}
    for c in cuts:
        times = []
        for r in users:
            hist = item_ids[np.asarray(holdout.histories[r][-MAX_CLICKS:])]
            pool = np.setdiff1d(item_ids, hist)
            cand = pool if c is None else rng.choice(pool, size=min(c, len(pool)), replace=False)
            kw = {"user": int(holdout.user_ids[r])} if reads_users else {}
            t0 = time.perf_counter()
            ranker.score(hist.tolist(), cand, **kw)
            times.append(1e3 * (time.perf_counter() - t0))
        out[ALL if c is None else str(c)] = _p50(times)
    return out


# ---------------------------------------------------------------------- the whole measurement
def evaluate_stages(split: LeaveOneOut, models: Mapping[str, EmbeddingModel], config: StagesConfig = StagesConfig(),
                    progress: Progress | None = None) -> dict[str, Any]:
    """Stage 1 alone, model-native user vectors and two stages, on ``split``'s test holdout.

    ``models``: fitted on ``split``'s train part (as :func:`engine.recsys.evaluation.evaluate_split`
    fits them); spaces are those of :data:`MEASURED_SPACES` present, rankers those of
    :data:`engine.core.registry.RANKERS`, native user vectors those of :data:`engine.core.registry.NATIVE_TASTE`."""
    progress = progress or no_progress
    t_start = time.perf_counter()
    valid, test = split.valid_holdout(), split.test_holdout()
    spaces = {m: Space(m, models[m].item_ids(), models[m].item_embeddings()) for m in MEASURED_SPACES if m in models}
    for m, sp in spaces.items():
        if not np.array_equal(sp.ids, split.item_ids):
            raise ValueError(f"the {m} model was not fitted on this split (its items differ)")
    rankers = {r: models[r] for r in RANKERS if r in models}
    cuts: list[int | None] = [c for c in config.candidates if c < split.n_items] + [None]
    recall_at = [c for c in config.candidates if c < split.n_items]
    k = config.k

    # stage 1 alone: the half-life of each space chosen on validation NDCG@k
    stage1: dict[str, Any] = {}
    options: dict[str, np.ndarray] = {}                       # stage-1 option -> test score matrix
    for i, (m, sp) in enumerate(spaces.items()):
        progress(0.5 * i / max(len(spaces), 1), f"stages: taste vectors in the {m} space")
        by_hl = {}
        for hl in (None, *config.half_lives):
            by_hl[hl] = ndcg(ranks(taste_scores(sp, valid.histories, hl), valid), k)
        best = max(config.half_lives, key=lambda h: (by_hl[h], -h))
        for name, hl in ((f"{m}:taste", None), (f"{m}:taste_recency", best)):
            s = taste_scores(sp, test.histories, hl)
            options[name] = s
            stage1[name] = {"space": m, "method": "taste vector (cosine)", "recency_half_life": hl,
                            f"valid_ndcg@{k}": by_hl[hl], "test": summary(ranks(s, test), k, recall_at)}
        stage1[f"{m}:taste_recency"][f"valid_ndcg@{k}_by_half_life"] = {
            ("off" if h is None else f"{h:g}"): v for h, v in by_hl.items()}
        # the page lets the visitor pick any half-life, so each one's test figure is what that
        # choice shows (the half-life above was chosen on validation, never on these)
        stage1[f"{m}:taste_recency"][f"test_ndcg@{k}_by_half_life"] = {
            ("off" if h is None else f"{h:g}"): ndcg(ranks(taste_scores(sp, test.histories, h), test), k)
            for h in (None, *config.half_lives)}
    native: dict[str, Any] = {}
    for m in NATIVE_TASTE:
        if m in models:
            s = native_scores(models[m], test)
            options[f"{m}:native"] = s
            native[f"{m}:native"] = {"space": m, "method": "model's own user vector (inner product)",
                                     "test": summary(ranks(s, test), k, recall_at)}

    # two stages
    progress(0.5, "stages: two-stage grid")
    ranker_scores = {r: native_scores(model, test) for r, model in rankers.items()}
    two: dict[str, Any] = {}
    for r, rs in ranker_scores.items():
        own = ranks(rs, test)
        two[r] = {"ranker_alone": summary(own, k), "by_stage1": {}}
        for name, s in options.items():
            cells = {}
            for c in cuts:
                rr = two_stage_ranks(s, rs, test, c)
                cells[ALL if c is None else str(c)] = summary(rr, k)
            two[r]["by_stage1"][name] = cells

    # latency of the code the pages run, on a seeded sample of users, with one torch thread for this
    # thread as the pages run it (engine.models.encoders.single_thread_inference)
    progress(0.7, "stages: latency")
    users = _latency_users(len(test), config)
    lat: dict[str, Any] = {"users": int(len(users)), "stage1": {}, "stage2": {}}
    with single_thread_inference():
        for name, info in stage1.items():
            lat["stage1"][name] = stage1_latency(spaces[info["space"]], test, users, cuts, info["recency_half_life"])
        for name in native:
            lat["stage1"][name] = native_latency(models[name.split(":")[0]], test, users, cuts)
        for r, model in rankers.items():
            lat["stage2"][r] = stage2_latency(model, split.item_ids, test, users, cuts)
    progress(1.0, "stages: done")
    return {
        "protocol": {"holdout": "test (history = train + validation item)", "k": k,
                     "candidates": [ALL if c is None else c for c in cuts], "recall_at": recall_at,
                     "half_life_choice": f"per space, best validation NDCG@{k} of the page's choices",
                     "latency": "p50 ms per user, one query at a time, one torch thread, histories cut to the last 500 clicks",
                     "config": asdict(config)},
        "stage1_taste": stage1,
        "stage1_native": native,
        "two_stage": two,
        "latency_ms": lat,
        "seconds": round(time.perf_counter() - t_start, 2),
    }


def format_stages(res: Mapping[str, Any]) -> str:
    """Plain-text tables of :func:`evaluate_stages` output (for the CLI and benchmarks)."""
    k = res["protocol"]["k"]
    cuts = [str(c) for c in res["protocol"]["candidates"]]
    rec = [f"recall@{c}" for c in res["protocol"]["recall_at"]]
    lines = ["stage 1 alone (test): taste vector per space, and the models' own user vectors",
             f"{'option':<24}{'half-life':>10}{f'HR@{k}':>8}{f'NDCG@{k}':>9}" + "".join(f"{r[7:]:>8}" for r in rec)
             + "   (recall@C)"]
    for name, info in list(res["stage1_taste"].items()) + list(res["stage1_native"].items()):
        t = info["test"]
        hl = info.get("recency_half_life")
        lines.append(f"{name:<24}{'-' if hl is None else f'{hl:g}':>10}{t[f'hr@{k}']:>8.4f}{t[f'ndcg@{k}']:>9.4f}"
                     + "".join(f"{t[r]:>8.3f}" for r in rec))
    lat = res["latency_ms"]
    for r, info in res["two_stage"].items():
        alone = info["ranker_alone"]
        lines += ["", f"two stages, ranker {r} (alone: HR@{k} {alone[f'hr@{k}']:.4f}, NDCG@{k} {alone[f'ndcg@{k}']:.4f});"
                      f" NDCG@{k} by candidates C; p50 ms stage 1 / stage 2",
                  f"{'stage 1':<24}" + "".join(f"{c:>8}" for c in cuts)]
        for name, cells in info["by_stage1"].items():
            lines.append(f"{name:<24}" + "".join(f"{cells[c][f'ndcg@{k}']:>8.4f}" for c in cuts))
        lines.append(f"{'p50 ms stage 2':<24}" + "".join(f"{lat['stage2'][r][c]:>8.2f}" for c in cuts))
    lines += ["", f"p50 ms of stage 1 by C ({lat['users']} users)", f"{'stage 1':<24}" + "".join(f"{c:>8}" for c in cuts)]
    for name, row in lat["stage1"].items():
        lines.append(f"{name:<24}" + "".join(f"{row[c]:>8.2f}" for c in cuts))
    return "\n".join(lines)
