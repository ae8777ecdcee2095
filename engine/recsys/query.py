"""Query resolution: free-text query checks, titles and ids resolved to movies, neighbours and overlap.

Pure functions over a :class:`MovieTable` (the catalogue's movies, loaded once from
SQLite) and :class:`~engine.vectors.contract.SearchIndex` objects; :mod:`engine.service` wires
them to a data set.  Nothing here imports Streamlit.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from engine.data.titles import other_title
from engine.core.errors import BadQueryError, UnknownMovieError
from engine.core.inputs import MAX_QUERY_CHARS, clean_query  # noqa: F401
from engine.core.notes import Note, note
from engine.vectors.contract import SearchIndex, Selection

log = logging.getLogger(__name__)

FUZZY_ACCEPT = 85.0   # rapidfuzz ratio (on article-free titles) needed to accept a fuzzy title match
FUZZY_MARGIN = 5.0    # ... and its lead over the next movie

# ------------------------------------------------------------------ queries


def query_notes(text: str) -> list[Note]:
    """Honest caveats about a (clean) query, e.g. a non-Latin script for an English model."""
    letters = [c for c in text if c.isalpha()]
    non_latin = sum(1 for c in letters if "LATIN" not in unicodedata.name(c, "LATIN"))
    if letters and non_latin / len(letters) > 0.3:
        return [note("english_model_only")]
    return []


# ------------------------------------------------------------------ movie table
@dataclass(frozen=True)
class Resolved:
    """A title or id resolved to one movie. ``how``: "id", "exact", "case-insensitive" or "fuzzy"."""

    movie_id: int
    title: str
    how: str
    alternatives: list[str] = field(default_factory=list)


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", str(s)).strip().casefold()


_ARTICLE = re.compile(r"^(the|a|an) |, (the|a|an)$|, (the|a|an)(?= \(\d{4}\)$)")


def _bare(s: str) -> str:
    """Case-folded title without a leading/trailing English article: 'godfather (1972)'."""
    return _ARTICLE.sub("", _norm(s)).strip()


class MovieTable:
    """The movies frame indexed for lookups. Immutable after construction (thread-safe)."""

    def __init__(self, movies: pd.DataFrame) -> None:
        m = movies.copy()
        m["movie_id"] = m["movie_id"].astype(np.int64)
        self.frame = m.set_index("movie_id", drop=False)
        self.ids = m["movie_id"].to_numpy(np.int64)
        n_r = m["n_ratings"] if "n_ratings" in m else pd.Series(0, index=m.index)
        self._pop = dict(zip(self.ids.tolist(), n_r.fillna(0).astype(int).tolist()))
        self._exact: dict[str, list[int]] = {}
        self._folded: dict[str, list[int]] = {}
        self._bare: dict[str, list[int]] = {}
        self.display: dict[int, str] = {}
        for row in m.itertuples(index=False):
            mid, year = int(row.movie_id), getattr(row, "year", None)
            disp = f"{row.title} ({int(year)})" if year is not None and not pd.isna(year) else str(row.title)
            self.display[mid] = disp
            for key in {str(row.title), disp, str(getattr(row, "original_title", row.title))}:
                self._exact.setdefault(key.strip(), []).append(mid)
                self._folded.setdefault(_norm(key), []).append(mid)
                self._bare.setdefault(_bare(key), []).append(mid)
        originals = m["original_title"] if "original_title" in m else [""] * len(m)
        self._info = {
            int(mid): {"movie_id": int(mid), "title": str(t),
                       "year": None if y is None or pd.isna(y) else int(y),
                       "genres": list(g) if isinstance(g, (list, tuple, np.ndarray)) else [],
                       "other_title": other_title(str(t), str(o or ""))}
            for mid, t, y, g, o in zip(m["movie_id"], m["title"], m["year"] if "year" in m else [None] * len(m),
                                       m["genres"] if "genres" in m else [None] * len(m), originals)
        }
        self._choices = list(self.display.values())
        self._bare_choices = [_bare(t) for t in self._choices] + [_bare(str(t)) for t in m["title"]]
        self._bare_ids = list(self.display.keys()) + self.ids.tolist()

    def popularity(self, movie_ids: Sequence[int]) -> np.ndarray:
        """log1p(number of ratings) / log1p(the largest number), float32 (n,) in [0, 1], per id."""
        top = np.log1p(max(self._pop.values(), default=0))
        n = np.array([self._pop.get(int(m), 0) for m in movie_ids], dtype=np.float64)
        return (np.log1p(n) / top if top > 0 else np.zeros_like(n)).astype(np.float32)

    def __contains__(self, movie_id: int) -> bool:
        return int(movie_id) in self.display

    def info(self, movie_id: int) -> dict[str, Any]:
        """id, title, year, genres, other_title (the title in another language, or None) of one movie (a
        fresh dict; ``UnknownMovieError`` if absent)."""
        row = self._info.get(int(movie_id))
        if row is None:
            raise UnknownMovieError(f"No movie with id {int(movie_id)} in this catalogue.")
        return {**row, "genres": list(row["genres"])}

    def ratings(self, movie_ids: Sequence[int]) -> np.ndarray:
        """int64 (m,) ratings behind each movie (0 for an id the table does not know)."""
        return np.array([self._pop.get(int(m), 0) for m in movie_ids], dtype=np.int64)

    def resolve(self, query: str | int) -> Resolved:
        """Title (exact, then case-insensitive, then fuzzy) or id -> one movie."""
        if isinstance(query, (int, np.integer)) and not isinstance(query, bool):
            return Resolved(int(query), self.display[self.info(query)["movie_id"]], "id")
        q = clean_query(query, max_chars=300)
        for how, hits in (("exact", self._exact.get(q)), ("case-insensitive", self._folded.get(_norm(q))),
                          ("case-insensitive", self._bare.get(_bare(q)))):
            if hits:
                return self._pick(sorted(set(hits)), how)
        return self._fuzzy(q)

    def _pick(self, ids: list[int], how: str) -> Resolved:
        ids.sort(key=lambda i: -self._pop.get(i, 0))
        return Resolved(ids[0], self.display[ids[0]], how, [self.display[i] for i in ids[1:6]])

    def _fuzzy(self, q: str) -> Resolved:
        """Accept a near-identical title (typos: rapidfuzz ratio on bare titles); else suggest (WRatio)."""
        from rapidfuzz import fuzz, process, utils

        close = process.extract(_bare(q), self._bare_choices, scorer=fuzz.ratio, processor=utils.default_process, limit=12)
        best: dict[int, float] = {}
        for _, score, pos in close:
            mid = self._bare_ids[pos]
            best[mid] = max(best.get(mid, 0.0), score)
        ranked = sorted(best.items(), key=lambda t: -t[1])
        if ranked and ranked[0][1] >= FUZZY_ACCEPT and (len(ranked) < 2 or ranked[0][1] - ranked[1][1] >= FUZZY_MARGIN):
            mid = ranked[0][0]
            return Resolved(mid, self.display[mid], "fuzzy", [self.display[m] for m, sc in ranked[1:6] if sc >= 70])
        found = process.extract(q, self._choices, scorer=fuzz.WRatio, processor=utils.default_process, limit=5)
        suggestions = [c for c, score, _ in found if score >= 50]
        hint = f" Did you mean: {'; '.join(suggestions)}?" if suggestions else " Check the spelling or use --id."
        raise UnknownMovieError(f"No movie titled {q!r} in this catalogue.{hint}", suggestions)


# ------------------------------------------------------------------ similar movies
def neighbours(index: SearchIndex, vector: np.ndarray, k: int, exclude: Sequence[int] = (),
               where: Selection | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top-k ids int64 (<=k,) and cosines float32 for one vector (d,), ``exclude`` ids removed;
    only movies of ``where`` (a filter's selection) when given."""
    ex = {int(e) for e in exclude}
    scores, ids = index.search(np.asarray(vector, np.float32)[None, :], min(k + len(ex), index.ntotal), where)
    keep = [(i, s) for i, s in zip(ids[0], scores[0]) if i >= 0 and int(i) not in ex][:k]
    return np.array([i for i, _ in keep], np.int64), np.array([s for _, s in keep], np.float32)


@dataclass(frozen=True)
class Overlap:
    """Agreement of two top-k lists ``a`` and ``b`` (space names): ``shared`` ids in ``a``'s order,
    their ``count``, share of k and Jaccard."""

    a: str
    b: str
    shared: tuple[int, ...]
    count: int
    overlap_at_k: float
    jaccard: float


def overlap(a: Sequence[int], b: Sequence[int], names: tuple[str, str] = ("a", "b")) -> Overlap:
    """Agreement of the id lists ``a`` and ``b``, named ``names``."""
    sa, sb = [int(x) for x in a], {int(x) for x in b}
    shared = tuple(x for x in sa if x in sb)
    k = max(len(sa), len(sb), 1)
    union = len(set(sa) | sb) or 1
    return Overlap(names[0], names[1], shared, len(shared), len(shared) / k, len(shared) / union)
