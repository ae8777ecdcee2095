"""Free-text search through the facade: semantic (a text space), keyword (SQL LIKE), BM25 (FTS5) and
hybrid (weighted RRF of the semantic lists and BM25).  The modes, the routing by language and the
fusion's settings live in :mod:`engine.recsys.hybrid`; this module runs them on one catalogue."""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Protocol, Sequence

import numpy as np
import pandas as pd

from engine.core.inputs import MAX_K, check_k, check_mode, clean_query
from engine.models import encoders as enc_mod
from engine.core.notes import Note, note
from engine.recsys import expand, hybrid
from engine.recsys.query import neighbours, query_notes
from engine.core.registry import TEXT_SPACES
from engine.service.results import Asked, Encoder, Feedback, Fusion, Hits



class Engine(Protocol):
    """What the search flow needs of the facade (:class:`engine.service.engine.Engine` has it)."""

    catalogue: Any
    movies: Any

    def models(self) -> list[str]: ...

    def space(self, model: str) -> Any: ...

    def encoder(self, space: str = "text") -> Any: ...

    def search_index(self, sp: Any, index: Any) -> Any: ...

    def select(self, where: Any) -> Any: ...

    def filter_plan(self, where: Any) -> Any: ...

    def hits(self, pairs: Iterable[tuple[int, float]], ranks: Sequence[Any] | None = None,
             **per_item: Sequence[Any]) -> tuple: ...


def search(eng: Engine, query: str, mode: str | None, space: str | None, k: int, index: Any,
           where: Any = None) -> Hits:
    """See :meth:`Engine.search`."""
    k = check_k(k, MAX_K)
    mode = check_mode(mode)
    text = clean_query(query)
    sel = eng.select(where)
    asked_filter = None if sel is None else sel.filter
    if mode in ("keyword", "bm25"):
        hits = keyword(eng, text, k, sel) if mode == "keyword" else bm25(eng, text, k, sel)
        return Hits(hits.kind, Asked(text=text, mode=mode, language=hybrid.query_language(text), filter=asked_filter),
                    hits.items, hits.timings_ms, hits.notes)
    built = eng.models()
    route = hybrid.choose_space(text, built, space)
    chosen = space is not None and str(space).strip().lower() not in ("", "auto")
    spaces = [route.space] if mode == "semantic" else hybrid.fusion_spaces(route, built, chosen)
    lists, timings = [], {"encode": 0.0, "search": 0.0}
    first_enc, idx = None, None
    for name in spaces:
        depth = k if mode == "semantic" else min(max(k, hybrid.FUSION.depth), len(eng.space(name).ids))
        ids, scores, enc, sidx, ms = semantic_list(eng, name, text, depth, index, sel)
        timings = {key: timings[key] + ms[key] for key in timings}
        lists.append((ids, scores))
        if first_enc is None:
            idx, first_enc = sidx, enc
    ids, scores = lists[0]
    notes: list[Note] = [] if route.automatic else [route.note]
    if not TEXT_SPACES[route.space] and route.language != "English":
        notes += query_notes(text)
    notes += [*idx.notes, *idx.plan(sel).notes()]
    identity = getattr(first_enc, "identity", None)
    cross = not reads_script_of(eng, text)
    fb, fb_alpha = hybrid.FEEDBACK, hybrid.feedback_alpha(text, cross)
    asked = Asked(model=route.space, index=idx.config.label(), text=text, embedded=hybrid.semantic_text(text, cross),
                  mode=mode, space=route.space,
                  encoder=Encoder(str(identity.get("name")), identity.get("sha256")) if isinstance(identity, dict) else None,
                  language=route.language, route=route.note,
                  feedback=Feedback(tuple(s for s in spaces if s in fb.spaces and fb_alpha > 0), fb.m, fb_alpha),
                  filter=asked_filter)
    if mode == "semantic":
        return Hits("mood", asked, eng.hits(zip(ids.tolist(), scores.tolist())), timings, tuple(notes))
    kw = bm25(eng, text, min(max(k, hybrid.FUSION.depth), MAX_K), sel, notes=False)
    t3 = time.perf_counter()
    confident = bool(kw.items) and eng.catalogue.bm25_covers(text, kw.items[0].movie_id)
    weights = hybrid.fusion_weights(len(lists), confident)
    ranked = [i.tolist() for i, _ in lists] + [kw.ids()]
    bm25_weight = weights[-1]                # before the expansion's list joins the fusion
    collab = collaborative_list(eng, ranked, weights, confident, index, sel)
    if collab is not None:
        ranked, weights = ranked + [collab], weights + [expand.EXPANSION.weight]
    fused = hybrid.rrf(ranked, k, c=hybrid.FUSION.rrf_k, weights=weights)
    timings |= {"bm25": kw.timings_ms["search"], "fuse": 1e3 * (time.perf_counter() - t3)}
    if not kw.items:
        notes.append(note("hybrid_bm25_none"))
    elif not bm25_weight:
        notes.append(note("hybrid_bm25_abstained"))
    if len(spaces) > 1:
        notes.append(note("hybrid_fused_bm25", spaces=list(spaces)) if bm25_weight else
                     note("hybrid_fused", spaces=list(spaces)))
    fusion = Fusion(hybrid.FUSION.rrf_k, tuple(spaces), tuple(weights), confident,
                    expand.EXPANSION.space if collab is not None else None)
    ranks = [dict(zip(fusion.lists, r)) for _, _, r in fused]
    return Hits("hybrid", _replace(asked, fusion=fusion),
                eng.hits(((m, s) for m, s, _ in fused), ranks=ranks), timings, tuple(notes))


def collaborative_list(eng: Engine, ranked: list[list[int]], weights: list[float], confident: bool, index: Any,
                       where: Any = None) -> list[int] | None:
    """The hybrid's collaborative expansion (:mod:`engine.recsys.expand`): the nearest movies, in
    ``EXPANSION.space``, to the mean vector of the fusion's best movies; None when the expansion is off,
    does not apply to this query or its space is not built.  ``where``: a filter's selection."""
    cfg = expand.EXPANSION
    if not cfg.applies(confident) or cfg.space not in eng.models():
        return None
    sp = eng.space(cfg.space)
    seeds = expand.seed_ids(ranked, weights, sp.row, cfg, hybrid.FUSION.rrf_k)
    if not seeds:
        return None
    ids, _ = neighbours(eng.search_index(sp, index), expand.centroid(sp.unit[sp.rows(seeds)]), cfg.depth, where=where)
    return ids.tolist()


def _replace(asked: Asked, **changes: Any) -> Asked:
    import dataclasses

    return dataclasses.replace(asked, **changes)


def semantic_list(eng: Engine, name: str, text: str, depth: int, index: Any, where: Any = None
                  ) -> tuple[np.ndarray, np.ndarray, Any, Any, dict[str, float]]:
    """One text space's ranking for a clean query: ids int64 (<=depth,), cosines float32 (<=depth,), the
    encoder, the index and {"encode", "search"} ms.  Spaces in ``hybrid.FEEDBACK.spaces`` search twice
    (pseudo-relevance feedback: the second time nearer their top ``m`` movies).  ``where``: a filter's
    selection (both searches keep only its movies)."""
    sp = eng.space(name)
    enc, sidx = eng.encoder(name), eng.search_index(sp, index)
    t0 = time.perf_counter()
    cross = not reads_script_of(eng, text)
    with enc_mod.single_thread_inference():  # this thread only, restored after (no process-wide change)
        vec = enc_mod.encode_query(enc, hybrid.semantic_text(text, cross), sp.unit.shape[1])
    t1 = time.perf_counter()
    alpha = hybrid.feedback_alpha(text, cross)
    fb = hybrid.FEEDBACK if name in hybrid.FEEDBACK.spaces and alpha > 0 else None
    prior = hybrid.PRIOR
    deep = max(depth, prior.depth) if prior.beta else depth
    ids, scores = neighbours(sidx, vec, max(deep, fb.m) if fb else deep, where=where)
    if fb and len(ids):
        vec = hybrid.feedback_vector(vec, sp.unit[sp.rows(ids[:fb.m])], alpha)
        ids, scores = neighbours(sidx, vec, deep, where=where)
    if prior.beta:
        ids, scores = hybrid.with_prior(ids, scores, eng.movies.popularity(ids.tolist()), prior.beta)
        ids, scores = ids[:depth], scores[:depth]
    return ids, scores, enc, sidx, {"encode": 1e3 * (t1 - t0), "search": 1e3 * (time.perf_counter() - t1)}


def bm25(eng: Engine, query: str, k: int, where: Any = None, notes: bool = True) -> Hits:
    """SQLite FTS5 BM25 over title, genres, tags and overview (engine.data.fts); empty (with a note) when
    no word matches.  ``where``: a filter's selection (only its movies); ``notes=False`` leaves the
    filter's note to the caller (hybrid says it once)."""
    text = clean_query(query)
    hits, ms = _ranked_rows(eng, eng.catalogue.bm25_search, text, k, where)
    said: tuple[Note, ...] = () if hits else (no_match_note(eng, text),)
    if notes:
        said += eng.filter_plan(where).notes()
    return Hits("bm25", Asked(text=text), hits, {"search": ms}, said)


def reads_script_of(eng: Engine, text: str) -> bool:
    """Whether the catalogue's titles or overviews are written in the query's script (True when it
    holds no titles to tell)."""
    lang = hybrid.query_language(text)
    held = eng.catalogue.scripts()
    return held.holds(lang if lang.endswith(" script") else "Latin script") or not held.titles


def no_match_note(eng: Engine, text: str) -> Note:
    """Why BM25 found nothing: the words are not there, or the query's script is not the catalogue's
    (then what the catalogue's titles and overviews are written in, computed once per catalogue)."""
    if reads_script_of(eng, text):
        return note("bm25_no_match")
    lang, held = hybrid.query_language(text), eng.catalogue.scripts()
    if held.overviews:
        return note("bm25_no_match_language_plots", language=lang, titles=list(held.titles),
                    overviews=list(held.overviews))
    return note("bm25_no_match_language", language=lang, titles=list(held.titles))


def keyword(eng: Engine, query: str, k: int, where: Any = None) -> Hits:
    """The SQL LIKE baseline over title, genres, tags and overview (for comparison with mood search);
    ``where``: a filter's selection (only its movies)."""
    text = clean_query(query)
    hits, ms = _ranked_rows(eng, eng.catalogue.keyword_search, text, k, where)
    said = (() if hits else (note("keyword_no_match"),)) + eng.filter_plan(where).notes()
    return Hits("keyword", Asked(text=text), hits, {"search": ms}, said)


def _ranked_rows(eng: Engine, run: Callable[..., pd.DataFrame], text: str, k: int, where: Any = None
                 ) -> tuple[tuple, float]:
    """Run a catalogue keyword search (movie_id, score, best first) -> (hits, milliseconds)."""
    k = check_k(k, MAX_K)
    t0 = time.perf_counter()
    df = run(text, k, None if where is None else where.ids)
    ms = 1e3 * (time.perf_counter() - t0)
    return eng.hits(zip(df["movie_id"].astype(int).tolist(), df["score"].astype(float).tolist())), ms
