"""``Engine``: the one object the app and the CLI use for vector search.

>>> eng = Engine("ml-100k")
>>> eng.similar("Star Wars", model="mf", k=5).frame()
>>> eng.mood_search("a heartwarming story about friendship").items[0]["title"]
>>> eng.two_stage([50, 181, 172], model="mf", k=10).timings_ms

One ``Engine`` serves many sessions at once: every method is thread-safe; vector
spaces, indexes, the text encoder and SASRec are loaded lazily, once.  See docs/SEARCH.md.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from engine.models import encoders as E
from engine.recsys import hybrid as H
from engine.recsys import query as S
from engine.data.catalogue import Catalogue
from engine.config import Settings, catalogue_path, dataset_cache_dir
from engine.errors import (ArtifactError, BadQueryError, CatalogueError, ModelNotBuiltError, MovieDNAError,
                           UnknownModelError)
from engine.vectors.contract import MAX_K, check_k
from engine.vectors.faiss_index import FaissIndex, IndexCache, IndexConfig
from engine.recsys.taste import Space, TasteConfig, check_ids, recommend as _recommend
from engine.recsys.pipeline import Reranker, two_stage as _two_stage

log = logging.getLogger(__name__)

#: stage-2 models the two-stage pipeline offers
RANKERS = ("sasrec", "widedeep")
#: spaces whose model has a user vector of its own (Live personalization's "model's own user vector")
NATIVE_TASTE = ("mf", "sasrec")
SPACES = ("mf", "sasrec", "text", "use")


@dataclass(frozen=True)
class Hits:
    """A ranked answer. ``items``: dicts with rank, movie_id, title, year, genres, score and
    kind-specific extras (because_title, rank_before, ...).  ``query``: what was asked,
    as resolved.  ``notes``: honest caveats.  ``timings_ms``: where the time went."""

    kind: str
    query: dict[str, Any]
    items: list[dict[str, Any]]
    timings_ms: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def ids(self) -> list[int]:
        return [int(it["movie_id"]) for it in self.items]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.items)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "query": self.query, "items": self.items,
                "timings_ms": self.timings_ms, "notes": self.notes}


@dataclass(frozen=True)
class Agreement:
    """Similar movies in several spaces: ``spaces`` model -> Hits; ``overlaps``: one dict per
    pair (a, b, count, overlap_at_k, jaccard, shared ids)."""

    movie: dict[str, Any]
    spaces: dict[str, Hits]
    overlaps: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"movie": self.movie, "spaces": {m: h.to_dict() for m, h in self.spaces.items()},
                "overlaps": self.overlaps}


def _as_config(index: IndexConfig | dict | str | None) -> IndexConfig:
    """None -> exact; "exact"/"hnsw"/"ivf" -> defaults of that kind; a dict -> IndexConfig(**dict)."""
    if index is None:
        return IndexConfig()
    if isinstance(index, IndexConfig):
        return index
    if isinstance(index, dict):
        try:
            return IndexConfig(**index)
        except TypeError as exc:
            raise BadQueryError(f"Bad index settings {index!r}: {exc}.") from None
    return IndexConfig(kind=str(index).strip().lower())  # type: ignore[arg-type]


class Engine:
    """Vector search over one data set's catalogue (see module docstring)."""

    def __init__(self, dataset: str | None = None, catalogue: Catalogue | None = None,
                 index_dir: Path | str | None = None, encoder: E.QueryEncoder | dict[str, E.QueryEncoder] | None = None,
                 reranker: Reranker | Callable[[], Reranker] | None = None,
                 backend: str | None = None) -> None:
        from engine.vectors.contract import default_backend, require_enabled

        self.dataset = dataset or Settings.from_env().dataset
        # only a backend the operator enabled (BackendNotEnabledError): a visitor starts no server
        self.backend = require_enabled(default_backend() if backend is None else backend)
        self._store_indexes: dict[tuple[str, str], Any] = {}
        self.catalogue = catalogue if catalogue is not None else Catalogue(catalogue_path(self.dataset))
        self.index_cache = IndexCache(index_dir or dataset_cache_dir(self.dataset) / "indexes")
        self._encoder = encoder
        self._reranker_src = reranker
        self._reranker: Reranker | None = None
        self._rankers: dict[str, Reranker] = {}
        self._lock = threading.RLock()
        self._spaces: dict[str, Space] = {}
        self._hashes: dict[str, str] = {}
        self._table: S.MovieTable | None = None

    @classmethod
    def open(cls, dataset: str | None = None, data_dir: Path | str | None = None, **kwargs: Any) -> "Engine":
        """Load (and verify) the data set, bring its catalogue in sync, return an Engine on it."""
        from engine.data.catalogue import open_catalogue
        from engine.data.dataset import load_dataset

        ds = load_dataset(dataset or Settings.from_env().dataset, data_dir)
        return cls(ds.name, catalogue=open_catalogue(ds), **kwargs)

    # ------------------------------------------------------------------ lazy state
    @property
    def movies(self) -> S.MovieTable:
        with self._lock:
            if self._table is None:
                df = self.catalogue.movies()
                if df.empty:
                    raise CatalogueError(f"The {self.dataset} catalogue has no movies; run `python -m engine data` first.")
                self._table = S.MovieTable(df)
            return self._table

    def models(self) -> list[str]:
        """Models whose vectors are in the catalogue."""
        return [v["model"] for v in self.catalogue.vector_info()]

    def space(self, model: str) -> Space:
        """The model's normalised vectors; reloaded when the catalogue's vectors change."""
        if not isinstance(model, str):
            raise UnknownModelError(f"A model is named by text (e.g. {', '.join(SPACES)}); got {model!r}.")
        model = model.strip().lower()
        info = {v["model"]: v for v in self.catalogue.vector_info()}
        if model not in info:
            have = ", ".join(sorted(info)) or "none"
            raise ModelNotBuiltError(f"No {model} vectors in the catalogue (built: {have}); "
                                     f"run `python -m engine build --models {model}`.")
        with self._lock:
            if self._hashes.get(model) != info[model]["content_hash"]:
                vs = self.catalogue.get_vectors(model)  # verifies the content hash (ids, vectors, identity)
                self._check_against_build(model, vs)
                self._spaces[model] = Space(model, vs.movie_ids, vs.vectors, vs.content_hash)
                self._hashes[model] = vs.content_hash
            return self._spaces[model]

    def _check_against_build(self, model: str, vs: Any) -> None:
        """Vectors that a build recorded must be the ones it wrote: same hash, and so the same
        model and dimension.  Catalogues without a build record (tests, demos) are not checked."""
        try:
            manifest = self.catalogue.get_json(f"build:{model}")
        except CatalogueError:
            manifest = None  # an unreadable record: the next build rewrites it; the vectors verified above
        if not isinstance(manifest, dict) or not manifest.get("vectors_hash"):
            return
        if manifest["vectors_hash"] != vs.content_hash:
            raise ArtifactError(
                f"The stored {model} vectors ({vs.vectors.shape[1]}-d) are not the ones its last build wrote; "
                f"rebuild with `python -m engine build --dataset {self.dataset} --models {model}`.")

    def index(self, model: str, index: IndexConfig | str | None = None) -> FaissIndex:
        """The model's FAISS index (built or loaded from disk once, then shared)."""
        return self._index(self.space(model), index)

    def _index(self, sp: Space, index: IndexConfig | str | None) -> FaissIndex:
        if self.backend != "faiss":
            # honoured where the backend can, otherwise said in the index's notes (never silently ignored)
            requested = None if index is None else _as_config(index)
            return self._store_index(sp).configured(requested)  # type: ignore[no-any-return]  # same search surface
        return self.index_cache.get(sp.model, sp.ids, sp.unit, sp.content_hash, _as_config(index))

    def _store_index(self, sp: Space) -> Any:
        """The model's vectors served by pgvector or Milvus (loaded once per vectors' hash)."""
        from engine.vectors.served import POOL, StoreIndex

        key = (sp.model, sp.content_hash)
        with self._lock:
            if key not in self._store_indexes:
                self._store_indexes[key] = StoreIndex.open(POOL.get(self.backend), self.backend, self.dataset,
                                                           sp.model, sp.ids, sp.unit, sp.content_hash)
            return self._store_indexes[key]

    def encoder(self, space: str = "text") -> E.QueryEncoder:
        """Query encoder of a text space: the encoder its vectors record (name + weight hash), checked
        against them (:class:`EncoderMismatchError` if it differs).  ``Engine(encoder=fn)`` (tests)
        serves every text space, or one per space with ``encoder={"text": fn, "use": fn2}``."""
        cfg = next((v["config"] for v in self.catalogue.vector_info() if v["model"] == space), {}) or {}
        stored = E.stored_identity(cfg)
        if self._encoder is None:
            enc = E.query_encoder(stored)
        elif isinstance(self._encoder, dict):
            if space not in self._encoder:
                raise ModelNotBuiltError(f"No query encoder for the {space} space.")
            enc = self._encoder[space]
        else:
            enc = self._encoder
        E.check_encoder(enc, stored, space)
        return enc

    def reranker(self, ranker: str = "sasrec") -> Reranker:
        """The stage-2 model ``ranker`` (one of :data:`RANKERS`), loaded once. The ``reranker``
        given to the constructor stands in for SASRec (tests, custom models)."""
        name = str(ranker).strip().lower()
        if name not in RANKERS:
            raise BadQueryError(f"Unknown ranker {ranker!r}; choose one of {', '.join(RANKERS)}.")
        with self._lock:
            if name != "sasrec":
                if name not in self._rankers:
                    self._rankers[name] = load_built(self.dataset, name)
                return self._rankers[name]
            if self._reranker is None:
                src = self._reranker_src
                if src is None:
                    self._reranker = load_built(self.dataset, "sasrec")
                else:
                    self._reranker = src() if callable(src) and not hasattr(src, "score") else src  # type: ignore[assignment]
            return self._reranker  # type: ignore[return-value]

    # ------------------------------------------------------------------ helpers
    def resolve(self, movie: str | int) -> S.Resolved:
        """A title (exact / case-insensitive / fuzzy) or id -> one movie; UnknownMovieError with suggestions."""
        return self.movies.resolve(movie)

    def _items(self, pairs: Sequence[tuple[int, float]], extras: Sequence[dict] | None = None) -> list[dict]:
        out = []
        for r, (mid, score) in enumerate(pairs):
            item = {"rank": r + 1, **self.movies.info(mid), "score": float(score)}
            if extras:
                item.update(extras[r])
            out.append(item)
        return out

    def _because(self, rows: list[dict]) -> list[dict]:
        for it in rows:
            if "because_id" in it:
                it["because_title"] = self.movies.display[int(it["because_id"])]
        return rows

    # ------------------------------------------------------------------ capabilities
    def similar(self, movie: str | int, model: str = "mf", k: int = 10,
                index: IndexConfig | str | None = None) -> Hits:
        """Nearest movies to one movie in one space (the movie itself excluded)."""
        k = check_k(k, MAX_K)
        ref = self.resolve(movie)
        sp = self.space(model)
        t0 = time.perf_counter()
        idx = self._index(sp, index)
        row = sp.rows([ref.movie_id], "movie")[0]
        t1 = time.perf_counter()
        ids, scores = S.neighbours(idx, sp.unit[row], k, exclude=[ref.movie_id])
        t2 = time.perf_counter()
        notes = [f"Matched {ref.title!r} ({ref.how} match)."] if ref.how == "fuzzy" else []
        if ref.alternatives and ref.how != "fuzzy":
            notes.append(f"Other movies with this title: {'; '.join(ref.alternatives)}.")
        notes += _index_notes(idx)
        query = {"movie_id": ref.movie_id, "title": ref.title, "matched": ref.how, "model": sp.model,
                 "index": idx.config.label(), "suggestions": ref.alternatives}
        return Hits("similar", query, self._items(list(zip(ids.tolist(), scores.tolist()))),
                    {"index": 1e3 * (t1 - t0), "search": 1e3 * (t2 - t1)}, notes)

    def similar_all(self, movie: str | int, models: Sequence[str] | None = None, k: int = 10,
                    index: IndexConfig | str | None = None) -> Agreement:
        """Similar movies in each space plus pairwise overlap of the top-k lists."""
        if models is not None and (isinstance(models, (str, bytes)) or not hasattr(models, "__iter__")):
            raise BadQueryError(f"models must be a list of model names; got {models!r}.")
        models = list(models) if models is not None else []
        models = models or [m for m in SPACES if m in self.models()]
        if not all(isinstance(m, str) for m in models):
            raise BadQueryError(f"models must be a list of model names; got {models!r}.")
        if not models:
            raise ModelNotBuiltError("No vectors in the catalogue yet; run `python -m engine build`.")
        spaces = {m: self.similar(movie, m, k, index) for m in models}
        first = next(iter(spaces.values())).query
        pairs = [(a, b) for i, a in enumerate(models) for b in models[i + 1:]]
        overlaps = [{"a": a, "b": b, **S.overlap(spaces[a].ids(), spaces[b].ids())} for a, b in pairs]
        return Agreement({"movie_id": first["movie_id"], "title": first["title"]}, spaces, overlaps)

    def mood_search(self, query: str, k: int = 10, index: IndexConfig | str | None = None,
                    space: str | None = None) -> Hits:
        """Free-text search in a text space (``search(mode="semantic")``; space chosen by the query's language)."""
        return self.search(query, mode="semantic", space=space, k=k, index=index)

    def search(self, query: str, mode: str | None = None, space: str | None = None, k: int = 10,
               index: IndexConfig | str | None = None) -> Hits:
        """Free-text search, ranked by ``mode`` (engine.recsys.hybrid; None = the benchmark's best):
        ``semantic`` (text space), ``keyword`` (SQL LIKE), ``bm25`` (FTS5) or ``hybrid`` (RRF of both).

        ``space``: the text space for semantic/hybrid; None or "auto" = by the query's language.
        ``query`` of the answer names ``mode``, ``space`` and ``encoder`` ({"name", "sha256"} or None).
        """
        k = check_k(k, MAX_K)
        mode = H.check_mode(mode)
        text = S.clean_query(query)
        if mode in ("keyword", "bm25"):
            hits = self.keyword_search(text, k) if mode == "keyword" else self.bm25_search(text, k)
            return Hits(hits.kind, {**hits.query, "mode": mode, "space": None, "encoder": None,
                                    "language": H.query_language(text)},
                        hits.items, hits.timings_ms, hits.notes)
        route = H.choose_space(text, self.models(), space)
        chosen = space is not None and str(space).strip().lower() not in ("", "auto")
        spaces = [route.space] if mode == "semantic" else H.fusion_spaces(route, self.models(), chosen)
        lists, timings = [], {"encode": 0.0, "search": 0.0}
        for name in spaces:
            depth = k if mode == "semantic" else min(max(k, H.FUSION.depth), len(self.space(name).ids))
            ids, scores, enc, sidx, ms = self._semantic_list(name, text, depth, index)
            timings = {key: timings[key] + ms[key] for key in timings}
            lists.append((ids, scores))
            if len(lists) == 1:
                idx, first_enc = sidx, enc
        ids, scores = lists[0]
        notes = [] if route.language == "English" and route.reason.startswith("English") else [route.reason + "."]
        if not H.TEXT_SPACES[route.space] and route.language != "English":
            notes += S.query_notes(text)
        notes += _index_notes(idx)
        query_info = {"text": text, "embedded": H.semantic_text(text), "mode": mode, "space": route.space, "model": route.space,
                      "encoder": getattr(first_enc, "identity", None), "language": route.language, "route": route.reason,
                      "feedback": {"spaces": [s for s in spaces if s in H.FEEDBACK.spaces and H.FEEDBACK.alpha > 0],
                                   "m": H.FEEDBACK.m, "alpha": H.FEEDBACK.alpha}}
        if mode == "semantic":
            return Hits("mood", query_info, self._items(list(zip(ids.tolist(), scores.tolist()))), timings, notes)
        kw = self.bm25_search(text, min(max(k, H.FUSION.depth), MAX_K))
        t3 = time.perf_counter()
        confident = bool(kw.items) and self.catalogue.bm25_covers(text, kw.items[0]["movie_id"])
        weights = H.fusion_weights(len(lists), confident)
        fused = H.rrf([i.tolist() for i, _ in lists] + [kw.ids()], k, c=H.FUSION.rrf_k, weights=weights)
        timings |= {"bm25": kw.timings_ms["search"], "fuse": 1e3 * (time.perf_counter() - t3)}
        if not kw.items:
            notes.append("BM25 matched no word of the query, so the hybrid ranking is the semantic one.")
        elif not weights[-1]:
            notes.append("BM25's best match lacks some of the query's words, so BM25 did not vote: "
                         "the hybrid ranking fuses the semantic lists only.")
        if len(spaces) > 1:
            notes.append(f"Hybrid fuses the {' and '.join(spaces)} spaces" + (" with BM25." if weights[-1] else "."))
        extras = [{"semantic_rank": r[0], "bm25_rank": r[-1],
                   **{f"{name}_rank": r[i] for i, name in enumerate(spaces)}} for _, _, r in fused]
        fusion = {"rrf_k": H.FUSION.rrf_k, "spaces": spaces, "weights": weights, "bm25_confident": confident}
        return Hits("hybrid", query_info | {"rrf_k": H.FUSION.rrf_k, "fusion": fusion},
                    self._items([(m, s) for m, s, _ in fused], extras), timings, notes)

    def _semantic_list(self, name: str, text: str, depth: int, index: IndexConfig | str | None
                       ) -> tuple[np.ndarray, np.ndarray, Any, FaissIndex, dict[str, float]]:
        """One text space's ranking for a clean query: ids int64 (depth,), cosines float32 (depth,), the
        encoder, the index and {"encode", "search"} ms.  Spaces in ``hybrid.FEEDBACK.spaces`` search twice
        (pseudo-relevance feedback: the second time nearer their top ``m`` movies)."""
        sp = self.space(name)
        enc, sidx = self.encoder(name), self._index(sp, index)
        t0 = time.perf_counter()
        with E.single_thread_inference():  # this thread only, restored after (no process-wide change)
            vec = E.encode_query(enc, H.semantic_text(text), sp.unit.shape[1])
        t1 = time.perf_counter()
        fb = H.FEEDBACK if name in H.FEEDBACK.spaces and H.FEEDBACK.alpha > 0 else None
        ids, scores = S.neighbours(sidx, vec, max(depth, fb.m) if fb else depth)
        if fb:
            vec = H.feedback_vector(vec, sp.unit[sp.rows(ids[:fb.m])], fb.alpha)
            ids, scores = S.neighbours(sidx, vec, depth)
        return ids, scores, enc, sidx, {"encode": 1e3 * (t1 - t0), "search": 1e3 * (time.perf_counter() - t1)}

    def bm25_search(self, query: str, k: int = 10) -> Hits:
        """SQLite FTS5 BM25 over title, genres and tags (engine.data.fts); empty (with a note) when no word matches."""
        text = S.clean_query(query)
        items, ms = self._ranked_rows(self.catalogue.bm25_search, text, k)
        notes = []
        if not items:
            lang = H.query_language(text)
            notes = ["No title, genre or tag contains these words (BM25 matches words, and the catalogue is in English)."
                     if lang == "English" else
                     f"A {lang} query has no keyword match: the titles, genres and tags are in English."]
        return Hits("bm25", {"text": text}, items, {"search": ms}, notes)

    def keyword_search(self, query: str, k: int = 10) -> Hits:
        """The SQL LIKE baseline over title, genres and tags (for comparison with mood search)."""
        text = S.clean_query(query)
        items, ms = self._ranked_rows(self.catalogue.keyword_search, text, k)
        notes = [] if items else ["No title, genre or tag contains these words (keyword search matches words only)."]
        return Hits("keyword", {"text": text}, items, {"search": ms}, notes)

    def _ranked_rows(self, search: Callable[[str, int], pd.DataFrame], text: str, k: int) -> tuple[list[dict], float]:
        """Run a catalogue keyword search (movie_id, score, best first) -> (result items, milliseconds)."""
        k = check_k(k, MAX_K)
        t0 = time.perf_counter()
        df = search(text, k)
        ms = 1e3 * (time.perf_counter() - t0)
        return self._items(list(zip(df["movie_id"].astype(int).tolist(), df["score"].astype(float).tolist()))), ms

    def recommend_native(self, clicks: Sequence[int], dislikes: Sequence[int] = (), model: str = "mf",
                         k: int = 10) -> Hits:
        """Live personalisation with the model's own user vector (MF fold-in, SASRec's last hidden
        state) scored against its item vectors by inner product — what the Home table measures.
        Dislikes are excluded from the list but do not move the user vector."""
        from engine.recsys.taste import check_ids

        k = check_k(k, MAX_K)
        name = str(model).strip().lower()
        if name not in NATIVE_TASTE:
            raise BadQueryError(f"The {name} space has no user vector of its own; choose {' or '.join(NATIVE_TASTE)}.")
        clicks = check_ids(clicks, "clicks")
        dislikes = check_ids(dislikes, "dislikes", allow_empty=True)
        fitted = load_built(self.dataset, name)
        t0 = time.perf_counter()
        with E.single_thread_inference():  # this thread only, restored after (no process-wide change)
            ids, scores = fitted.recommend(clicks, k + len(dislikes))
        keep = [(int(i), float(s)) for i, s in zip(ids, scores) if int(i) not in set(dislikes)][:k]
        ms = 1e3 * (time.perf_counter() - t0)
        query = {"clicks": clicks, "dislikes": dislikes, "model": name, "taste": "native"}
        notes = ["Dislikes are left out of the list; the model's user vector does not use them."] if dislikes else []
        return Hits("recommend", query, self._items(keep), {"total": ms}, notes)

    def evaluation(self) -> tuple[dict[str, Any], str] | None:
        """(evaluation, source): the one ``python -m engine evaluate`` stored in this cache
        (``"local"``), else the one published with the code for the same data and model settings
        (``"published"``, verified: :func:`engine.recsys.evaluate.published_evaluation`), else None."""
        from engine.recsys.evaluate import current_evaluation

        return current_evaluation(self.catalogue, self.dataset, self.catalogue.meta().get("data_hash"))

    def measured(self) -> dict[str, Any] | None:
        """What the pages do, as measured (:meth:`evaluation`): :func:`engine.recsys.stages.page_figures`
        plus ``source`` ("local" / "published") and ``created`` / ``machine`` of the measurement, or
        None before an evaluation with stages."""
        from engine.recsys.stages import page_figures

        found = self.evaluation()
        figures = page_figures(found[0]) if found else None
        if figures is None:
            return None
        ev, source = found
        return figures | {"source": source, "created": ev.get("created"), "machine": ev.get("machine") or {}}

    def rankers(self) -> list[str]:
        """Stage-2 models that are available: SASRec when injected or built, others when built."""
        return [r for r in RANKERS if (r == "sasrec" and self._reranker_src is not None)
                or self.catalogue.get_json(f"build:{r}")]

    def recommend(self, clicks: Sequence[int], dislikes: Sequence[int] = (), model: str = "mf", k: int = 10,
                  recency_half_life: float | None = None, dislike_weight: float = 0.5,
                  index: IndexConfig | str | None = None) -> Hits:
        """Live personalisation: nearest movies to the taste vector, with "because you clicked"."""
        k = check_k(k, MAX_K)
        cfg = TasteConfig(recency_half_life, dislike_weight)
        clicks = check_ids(clicks, "clicks")                       # any iterable / numpy array -> ints, once
        dislikes = check_ids(dislikes, "dislikes", allow_empty=True)
        sp = self.space(model)
        t0 = time.perf_counter()
        idx = self._index(sp, index)
        rows = _recommend(sp, idx, clicks, dislikes, k, cfg)
        ms = 1e3 * (time.perf_counter() - t0)
        items = self._because(self._items([(r["movie_id"], r["score"]) for r in rows],
                                          [{"because_id": r["because_id"], "because_score": r["because_score"]} for r in rows]))
        query = {"clicks": clicks, "dislikes": dislikes, "model": sp.model,
                 "recency_half_life": cfg.recency_half_life}
        return Hits("recommend", query, items, {"total": ms}, _index_notes(idx))

    def two_stage(self, clicks: Sequence[int], dislikes: Sequence[int] = (), model: str = "mf", k: int = 10,
                  n_candidates: int = 100, rerank: bool = True, recency_half_life: float | None = None,
                  index: IndexConfig | str | None = None, ranker: str = "sasrec") -> Hits:
        """Stage 1: ``n_candidates`` from the index; stage 2: ``ranker`` (SASRec or Wide & Deep,
        :data:`RANKERS`) re-ranks them (rank before/after)."""
        k = check_k(k, MAX_K)
        cfg = TasteConfig(recency_half_life)
        clicks = check_ids(clicks, "clicks")
        dislikes = check_ids(dislikes, "dislikes", allow_empty=True)
        if not isinstance(rerank, (bool, np.bool_)):
            raise BadQueryError(f"rerank must be True or False; got {rerank!r}.")
        sp = self.space(model)
        idx = self._index(sp, index)
        rr = self.reranker(ranker) if rerank else None
        with E.single_thread_inference():  # this thread only, restored after (no process-wide change)
            res = _two_stage(sp, idx, rr, clicks, dislikes, k, n_candidates, cfg)
        extras = [{key: v for key, v in it.items() if key != "movie_id"} for it in res.items]
        items = self._because(self._items([(it["movie_id"], it["rerank_score"]) for it in res.items], extras))
        query = {"clicks": clicks, "dislikes": dislikes, "model": sp.model,
                 "n_candidates": int(len(res.candidates)),
                 "reranker": str(ranker).strip().lower() if rerank else None}
        return Hits("two_stage", query, items, res.timings_ms, _index_notes(idx))


    #: build settings a user may choose (``build --epochs``, ``--device``, the text model's
    #: environment variable, whose identity is checked at query time): never "outdated"
    _USER_SETTINGS = frozenset({"epochs", "iterations", "device", "threads", "model_name"})

    def outdated_models(self) -> list[str]:
        """Built models whose build record holds other settings than this code builds with: an older
        MovieDNA wrote them (other config fields: the weights no longer load; or other defaults, such
        as Wide & Deep's history before it was tuned, so the published figures would not describe
        them).  The Home page offers to build them again."""
        import dataclasses
        import json

        from engine.build import build_config

        out = []
        for name in self.models():
            try:
                record = self.catalogue.get_json(f"build:{name}")
                want = json.loads(json.dumps(dataclasses.asdict(build_config(name))))
            except MovieDNAError:
                continue  # an unreadable record or a model this code does not know: reported where used
            cfg = record.get("config") if isinstance(record, dict) else None
            if not isinstance(cfg, dict):
                continue
            if set(cfg) != set(want) or any(cfg[k] != want[k] for k in want if k not in self._USER_SETTINGS):
                out.append(name)
        return out

    def build_notes(self) -> list[str]:
        """What training bounded or cut in each built space (big catalogues, a time guard that
        fired), read from the build records, one sentence each; [] when nothing was bounded."""
        notes = []
        for model in self.models():
            try:
                record = self.catalogue.get_json(f"build:{model}")
            except MovieDNAError:
                continue  # an unreadable record: space() reports it where it matters
            info = record.get("fit_info") if isinstance(record, dict) else None
            info = info if isinstance(info, dict) else {}
            bounds = info.get("bounds")
            if isinstance(bounds, dict) and bounds.get("bounded") and isinstance(bounds.get("summary"), str):
                notes.append(f"{model.upper()} was trained {bounds['summary']}.")
            if info.get("time_guard_fired"):
                notes.append(f"{model.upper()}: a time guard stopped training after {info.get('epochs_run')} epochs.")
        return notes

    def taste_position(self, clicks: Sequence[int], dislikes: Sequence[int] = (), model: str = "mf",
                       recency_half_life: float | None = None, *, map_ids: np.ndarray,
                       coords: np.ndarray) -> np.ndarray:
        """Where the taste vector lands on a 2-D map of the space: float32 (2,).

        ``map_ids`` int64 (n,) sorted and ``coords`` float32 (n, 2) are the map's movies and positions
        (a UMAP projection of the same vectors); see :func:`engine.lab.projection.place`.
        """
        from engine.lab.projection import place
        from engine.recsys.taste import taste_vector

        sp = self.space(model)
        taste = taste_vector(sp, clicks, dislikes, TasteConfig(recency_half_life))
        rows = np.searchsorted(map_ids, sp.ids)
        if len(map_ids) != len(sp.ids) or not np.array_equal(np.asarray(map_ids)[np.minimum(rows, len(map_ids) - 1)], sp.ids):
            raise ArtifactError(f"The {sp.model} map was drawn from other vectors; reload the page to redraw it.")
        return place(taste, sp.unit, coords[rows])


def load_built(dataset: str, name: str) -> Any:
    """A fitted model of a built data set (SASRec, Wide & Deep, MF, ...), verified against its
    build manifest; raises ModelNotBuiltError with the build command when it is missing."""
    from engine.build import load_model

    return load_model(dataset, name)


def _index_notes(idx: Any) -> list[str]:
    """What the index says about how it searched (a backend that could not honour ``index=``)."""
    return list(getattr(idx, "notes", ()) or ())


__all__ = ["Engine", "Hits", "Agreement", "IndexConfig", "BadQueryError"]
