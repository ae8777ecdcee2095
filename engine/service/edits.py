"""A live catalogue: add or remove one movie without a rebuild.

``Engine.add_movie`` / ``Engine.remove_movie`` come here.  An add

1. checks the input once (:func:`check_movie`: title, year, genres of this catalogue, overview,
   tags; a named error with one sentence, nothing changed);
2. gives the movie a vector in every stored space: text spaces embed its document with the
   encoder recorded for their vectors (the build's own document format, identity checked);
   ratings spaces (MF, SASRec) get a cold-start vector predicted from a text vector by the map
   learned at build time (:mod:`engine.recsys.coldstart`), flagged until a rebuild;
3. writes movies, FTS5, every vector table, hashes, flags and the edit log in ONE SQLite
   transaction (:meth:`engine.data.catalogue.Catalogue.edit`);
4. updates the engine's open indexes in place (FAISS ``add``/``remove_ids``, pgvector and Milvus
   rows), re-keyed under the new vectors' hashes, so the movie is found at once.

Text is stored as typed: Markdown or HTML in a title is kept as characters and every page shows
it as plain text (``ui/plain.py``).
"""

from __future__ import annotations

import difflib
import re
import time
import unicodedata
from typing import Any, Sequence

import numpy as np

from engine.core.arrays import normalize
from engine.core.config import dataset_cache_dir
from engine.data.catalogue import NewMovie, VectorRows
from engine.core.errors import BadMovieTextError, BadTitleError, BadYearError, UnknownGenreError, UnknownMovieError
from engine.models import encoders as enc_mod
from engine.models.text import movie_documents
from engine.recsys import coldstart
from engine.core.registry import TEXT_SPACES
from engine.service.results import Edited

#: the functions below take the :class:`~engine.service.engine.Engine` that calls them (not imported:
#: the engine imports this module)
Engine = Any

TITLE_MAX = 300
YEARS = (1870, 2100)  # the first motion pictures to a century ahead
OVERVIEW_MAX = 2000
TAGS_MAX, TAG_CHARS = 20, 60
GENRES_MAX = 10


def _one_line(text: str) -> str:
    """Control characters become spaces; runs of whitespace collapse."""
    text = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)
    return re.sub(r"\s+", " ", text).strip()


def _items(value: Any, what: str) -> list[str]:
    """"A|B" or a list of text -> stripped, non-empty items."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split("|")
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise BadMovieTextError(f"The {what} must be text separated by '|' (e.g. Comedy|Drama).")
    return [_one_line(v) for v in value if _one_line(v)]


def check_title(title: Any) -> str:
    if not isinstance(title, str):
        raise BadTitleError(f"A title must be text; got {type(title).__name__}.")
    if len(title) > 10 * TITLE_MAX:  # before cleaning a huge string
        raise BadTitleError(f"The title is {len(title):,} characters long; keep it under {TITLE_MAX}.")
    clean = _one_line(title)
    if not clean:
        raise BadTitleError("The title is empty; type the movie's title.")
    if len(clean) > TITLE_MAX:
        raise BadTitleError(f"The title is {len(clean):,} characters long; keep it under {TITLE_MAX}.")
    return clean


def check_year(year: Any) -> int:
    if isinstance(year, str) and year.strip().isdigit():
        year = int(year.strip())
    if isinstance(year, (bool, np.bool_)) or not isinstance(year, (int, np.integer)):
        raise BadYearError(f"The year must be a whole number from {YEARS[0]} to {YEARS[1]}; got {str(year)[:20]!r}.")
    if not YEARS[0] <= int(year) <= YEARS[1]:
        raise BadYearError(f"The year {int(year)} is outside {YEARS[0]} to {YEARS[1]}; check it.")
    return int(year)


def check_genres(genres: Any, known: Sequence[str]) -> tuple[str, ...]:
    """Genres of this catalogue (case forgiven, repeats dropped); UnknownGenreError names close matches."""
    items = _items(genres, "genres")
    if not items:
        raise UnknownGenreError(f"Give at least one genre (for example {'|'.join(sorted(known)[:2])}).")
    if len(items) > GENRES_MAX:
        raise UnknownGenreError(f"{len(items)} genres is too many; give at most {GENRES_MAX}.")
    by_fold = {g.casefold(): g for g in known}
    out: list[str] = []
    for g in items:
        hit = by_fold.get(g.casefold())
        if hit is None:
            close = difflib.get_close_matches(g, sorted(known), n=3, cutoff=0.5) or \
                [by_fold[c] for c in difflib.get_close_matches(g.casefold(), list(by_fold), n=3, cutoff=0.5)]
            hint = f"did you mean {' or '.join(close)}?" if close else f"choose from {', '.join(sorted(known))}."
            raise UnknownGenreError(f"Unknown genre {g[:40]!r}; {hint}", close)
        if hit not in out:
            out.append(hit)
    return tuple(out)


def check_overview(overview: Any) -> str | None:
    if overview is None:
        return None
    if not isinstance(overview, str):
        raise BadMovieTextError(f"An overview must be text; got {type(overview).__name__}.")
    clean = _one_line(overview)
    if len(clean) > OVERVIEW_MAX:
        raise BadMovieTextError(f"The overview is {len(clean):,} characters long; keep it under {OVERVIEW_MAX}.")
    return clean or None


def check_tags(tags: Any) -> tuple[str, ...]:
    items = list(dict.fromkeys(_items(tags, "tags")))
    if len(items) > TAGS_MAX:
        raise BadMovieTextError(f"{len(items)} tags is too many; give at most {TAGS_MAX}.")
    long = [t for t in items if len(t) > TAG_CHARS]
    if long:
        raise BadMovieTextError(f"The tag {long[0][:40]!r}... is longer than {TAG_CHARS} characters; shorten it.")
    return tuple(items)


def known_genres(eng: Engine) -> list[str]:
    """Every genre of the catalogue's movies (what a new movie may have)."""
    frame = eng.movies.frame
    return sorted({g for gs in frame["genres"] for g in gs if g and g != "(no genres listed)"})


def check_movie(eng: Engine, title: Any, year: Any, genres: Any, overview: Any = None,
                tags: Any = None) -> NewMovie:
    """The checked movie with the id it will get; raises one named error (see the module docstring)."""
    clean = check_title(title)
    y = check_year(year)
    g = check_genres(genres, known_genres(eng))
    return NewMovie(eng.catalogue.next_movie_id(), clean, y, g, check_tags(tags), check_overview(overview))


def embed_text(eng: Engine, space: str, movie: NewMovie) -> np.ndarray:
    """The movie's vector float32 (1, d) in a text space: its document as the build wrote it, embedded
    by the encoder the space's vectors record (an engine-wide test encoder stands in where given)."""
    cfg = eng.vector_info()[space]["config"] or {}
    model_cfg = cfg.get("config") or {}
    doc = movie_documents(movie.frame(), np.array([movie.movie_id]), int(model_cfg.get("max_tags", 20)),
                          bool(model_cfg.get("bilingual_genres", False)))
    stored = enc_mod.stored_identity(cfg)
    enc = eng.document_encoder(space)
    enc_mod.check_encoder(enc, stored, space)
    with enc_mod.single_thread_inference():  # one document, as one query: one thread (see encoders)
        return np.asarray(enc(doc), dtype=np.float32).reshape(1, -1)


def add_movie(eng: Engine, title: Any, year: Any, genres: Any, overview: Any = None, tags: Any = None) -> Edited:
    """See the module docstring."""
    t0 = time.perf_counter()
    movie = check_movie(eng, title, year, genres, overview, tags)
    info = eng.vector_info()
    text = [m for m in info if m in TEXT_SPACES]
    vectors: dict[str, np.ndarray] = {m: embed_text(eng, m, movie) for m in text}
    t1 = time.perf_counter()
    rows, cold = [], {}
    for m, v in vectors.items():
        rows.append(VectorRows(m, np.array([movie.movie_id], np.int64), v))
    models_dir = dataset_cache_dir(eng.dataset) / "models"
    for m in info:
        if m in vectors:
            continue
        cmap = coldstart.for_space(eng.catalogue, m, tuple(text), models_dir)
        pred = cmap.predict(vectors[cmap.source])
        rows.append(VectorRows(m, np.array([movie.movie_id], np.int64), pred, cold_start=True))
        vectors[m] = pred
        cold[m] = cmap.source
    t2 = time.perf_counter()
    old = {m: info[m]["content_hash"] for m in info}
    new = eng.catalogue.edit(add=movie, rows=rows)
    t3 = time.perf_counter()
    updated = eng.after_edit(old, new, {m: normalize(v) for m, v in vectors.items()}, [movie.movie_id], [])
    t4 = time.perf_counter()
    ms = {"embed": t1 - t0, "predict": t2 - t1, "catalogue": t3 - t2, "indexes": t4 - t3, "total": t4 - t0}
    return Edited("add", movie.movie_id, movie.title, movie.year, movie.genres, tuple(info), cold, updated,
                  {k: 1e3 * v for k, v in ms.items()})


def remove_movie(eng: Engine, movie_id: Any) -> Edited:
    """Remove one movie from the catalogue, every space and every open index (UnknownMovieError: nothing changed)."""
    t0 = time.perf_counter()
    if isinstance(movie_id, (bool, np.bool_)) or not isinstance(movie_id, (int, np.integer)):
        raise UnknownMovieError(f"A movie id is a whole number; got {str(movie_id)[:20]!r}.")
    mid = int(movie_id)
    if mid not in eng.movies:
        raise UnknownMovieError(f"No movie with id {mid} in this catalogue; nothing was removed.")
    movie = eng.movies.info(mid)
    info = eng.vector_info()
    old = {m: info[m]["content_hash"] for m in info}
    new = eng.catalogue.edit(remove=mid)
    t1 = time.perf_counter()
    updated = eng.after_edit(old, new, {}, [], [mid])
    t2 = time.perf_counter()
    changed = tuple(m for m in info if new.get(m) != old[m])
    return Edited("remove", mid, movie["title"], movie["year"], tuple(movie["genres"]), changed, {}, updated,
                  {"catalogue": 1e3 * (t1 - t0), "indexes": 1e3 * (t2 - t1), "total": 1e3 * (t2 - t0)})
