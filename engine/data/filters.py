"""Filters on the catalogue: genres (any of / all of), a year range, a minimum number of ratings and
movies to leave out (seen), checked once and resolved to the movies that match.

:class:`Filter` is the one validated, frozen description every search takes; the CLI
(``--genre Comedy --genre-mode any --year 1990:1999 --min-ratings 50 --exclude 50,181``) and a link
(``?genre=Comedy&year=1990:1999&min_ratings=50``) both build it with :meth:`Filter.parse`, so the
same text gets the same answer or the same one-sentence error everywhere.

:class:`Facets` holds the columns a filter reads (year, number of ratings, genres as a boolean
matrix), built once per catalogue content hash; :meth:`Facets.select` turns a filter into a
:class:`Selection`: the sorted movie ids that match.  Genre names are checked against the
catalogue's own genres there (case forgiven); an unknown one raises :class:`UnknownGenreError`
naming the close matches.  A filter that matches nothing is a selection of zero movies, not an error.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import threading
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import pandas as pd

from engine.core.errors import BadQueryError, UnknownGenreError
from engine.core.inputs import check_ids

GENRE_MODES = ("any", "all")
MAX_GENRES = 20             # more genres than any MovieLens release has
MAX_GENRE_CHARS = 40
YEARS = (1870, 2100)        # the first films to a bound no release date passes
MAX_MIN_RATINGS = 100_000_000
_YEAR = re.compile(r"\s*([0-9]{4})?\s*(?::|-|\.\.)?\s*([0-9]{4})?\s*")
_INT = re.compile(r"\s*[0-9]{1,10}\s*")


@dataclass(frozen=True)
class Filter:
    """Which movies a search may return; the default keeps every movie.

    ``genres``: names (as typed; :meth:`Facets.select` matches them to the catalogue's, case forgiven);
    ``genre_mode``: "any" (a movie has at least one) or "all" (it has every one); ``year_min`` /
    ``year_max``: inclusive release years, None = open (a movie without a year fails any year bound);
    ``min_ratings``: at least this many ratings; ``exclude``: movie ids never returned (sorted).
    """

    genres: tuple[str, ...] = ()
    genre_mode: str = "any"
    year_min: int | None = None
    year_max: int | None = None
    min_ratings: int = 0
    exclude: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        genres = (self.genres,) if isinstance(self.genres, str) else self.genres
        if not isinstance(genres, (tuple, list)):
            raise BadQueryError(f"Genres must be a list of genre names; got {self.genres!r}.")
        clean: list[str] = []
        for g in genres:
            if not isinstance(g, str) or not g.strip():
                raise BadQueryError(f"A genre must be a name such as Comedy; got {g!r}.")
            g = re.sub(r"\s+", " ", g).strip()
            if len(g) > MAX_GENRE_CHARS or not g.isprintable():
                raise BadQueryError(f"The genre {g[:MAX_GENRE_CHARS]!r}... is not a genre name; use names such as Comedy.")
            if g.casefold() not in {c.casefold() for c in clean}:
                clean.append(g)
        if len(clean) > MAX_GENRES:
            raise BadQueryError(f"{len(clean)} genres given; a filter takes at most {MAX_GENRES}.")
        object.__setattr__(self, "genres", tuple(clean))
        mode = str(self.genre_mode).strip().lower() if isinstance(self.genre_mode, str) else None
        if mode not in GENRE_MODES:
            raise BadQueryError(f"Unknown genre mode {self.genre_mode!r}; choose any (at least one genre) or all.")
        object.__setattr__(self, "genre_mode", mode)
        for name in ("year_min", "year_max"):
            v = getattr(self, name)
            if v is None:
                continue
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or not YEARS[0] <= v <= YEARS[1]:
                raise BadQueryError(f"A year must be a whole number from {YEARS[0]} to {YEARS[1]}; got {v!r}.")
            object.__setattr__(self, name, int(v))
        if self.year_min is not None and self.year_max is not None and self.year_min > self.year_max:
            raise BadQueryError(f"The year range {self.year_min}:{self.year_max} is empty; put the earlier year first.")
        m = self.min_ratings
        if isinstance(m, (bool, np.bool_)) or not isinstance(m, (int, np.integer)) or not 0 <= m <= MAX_MIN_RATINGS:
            raise BadQueryError(f"The minimum number of ratings must be a whole number from 0 to {MAX_MIN_RATINGS:,}; "
                                f"got {m!r}.")
        object.__setattr__(self, "min_ratings", int(m))
        object.__setattr__(self, "exclude", tuple(sorted(check_ids(self.exclude, "excluded movies", allow_empty=True))))

    # ------------------------------------------------------------------ text forms
    @classmethod
    def parse(cls, genre: Any = None, genre_mode: Any = None, year: Any = None, min_ratings: Any = None,
              exclude: Any = None) -> "Filter":
        """A filter from text, as the CLI and a link give it: ``genre`` one name or a list (a comma
        inside a name splits it: ``Comedy,Romance``), ``genre_mode`` "any"/"all", ``year`` "1990:1999"
        (also "1990-1999", "1990:", ":1999", "1995"), ``min_ratings`` "50", ``exclude`` "50,181".
        Empty text means "no condition"."""
        names: list[str] = []
        for part in ([genre] if isinstance(genre, str) else list(genre or ())):
            if not isinstance(part, str):
                raise BadQueryError(f"A genre must be a name such as Comedy; got {part!r}.")
            names += [g for g in part.split(",") if g.strip()]
        lo, hi = parse_years(year)
        return cls(tuple(names), genre_mode or "any", lo, hi, _whole(min_ratings, "minimum number of ratings"),
                   tuple(_id_list(exclude)))

    def to_params(self) -> dict[str, str]:
        """The link form, conditions only (``{"genre": "Comedy,Romance", "year": "1990:1999", ...}``);
        :meth:`parse` of these values gives this filter back."""
        out: dict[str, str] = {}
        if self.genres:
            out["genre"] = ",".join(self.genres)
            if self.genre_mode != "any":
                out["genre_mode"] = self.genre_mode
        if self.year_min is not None or self.year_max is not None:
            out["year"] = (f"{self.year_min}" if self.year_min == self.year_max else
                           f"{'' if self.year_min is None else self.year_min}:{'' if self.year_max is None else self.year_max}")
        if self.min_ratings:
            out["min_ratings"] = str(self.min_ratings)
        if self.exclude:
            out["exclude"] = ",".join(map(str, self.exclude))
        return out

    @property
    def active(self) -> bool:
        """True when the filter leaves any movie out."""
        return bool(self.to_params())

    def key(self) -> str:
        """A short stable digest of the conditions (genres case-folded): equal filters share it."""
        body = json.dumps({**self.to_params(), "genre": ",".join(sorted(g.casefold() for g in self.genres))},
                          sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    def describe(self) -> str:
        """The conditions in a few words (CLI output, logs): "genre any of Comedy, Romance; year 1990:1999"."""
        p = self.to_params()
        parts = []
        if self.genres:
            parts.append(f"genre {self.genre_mode} of {', '.join(self.genres)}")
        if "year" in p:
            parts.append(f"year {p['year']}")
        if self.min_ratings:
            parts.append(f"at least {self.min_ratings} ratings")
        if self.exclude:
            parts.append(f"{len(self.exclude)} excluded")
        return "; ".join(parts) or "none"

    def to_dict(self) -> dict[str, Any]:
        return {"genres": list(self.genres), "genre_mode": self.genre_mode, "year_min": self.year_min,
                "year_max": self.year_max, "min_ratings": self.min_ratings, "exclude": list(self.exclude)}


NO_FILTER = Filter()


def parse_years(text: Any) -> tuple[int | None, int | None]:
    """"1990:1999" -> (1990, 1999); "1990:" / ":1999" open one end; "1995" -> (1995, 1995); ""/None -> (None, None)."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None, None
    if isinstance(text, (int, np.integer)) and not isinstance(text, bool):
        return int(text), int(text)
    m = _YEAR.fullmatch(str(text)) if isinstance(text, str) and len(text) <= 20 else None
    if m is None or not (m.group(1) or m.group(2)):
        raise BadQueryError(f"A year range looks like 1990:1999 (or 1990:, :1999, 1995); got {str(text)[:20]!r}.")
    sep = re.search(r":|-|\.\.", text) is not None
    lo = int(m.group(1)) if m.group(1) else None
    hi = int(m.group(2)) if m.group(2) else (None if sep else lo)
    return lo, hi


def _whole(text: Any, what: str) -> int:
    if text is None or (isinstance(text, str) and not text.strip()):
        return 0
    if isinstance(text, (int, np.integer)) and not isinstance(text, bool):
        return int(text)
    if isinstance(text, str) and _INT.fullmatch(text):
        return int(text)
    raise BadQueryError(f"The {what} must be a whole number such as 50; got {str(text)[:20]!r}.")


def _id_list(text: Any) -> list[int]:
    if text is None:
        return []
    if not isinstance(text, str):
        return list(text)
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not all(re.fullmatch(r"[0-9]{1,18}", p) for p in parts):
        raise BadQueryError(f"Movies to exclude are comma-separated movie ids such as 50,181; got {text[:40]!r}.")
    return list(dict.fromkeys(int(p) for p in parts))


@dataclass(frozen=True, eq=False)
class Selection:
    """A filter resolved on one catalogue: ``ids`` int64 (m,) sorted, the movies that match;
    ``total`` the catalogue's movies; ``filter`` with genre names as the catalogue spells them;
    ``key`` identifies (filter, catalogue) for caches."""

    filter: Filter
    ids: np.ndarray
    total: int
    key: str

    @property
    def matching(self) -> int:
        return int(len(self.ids))

    def mask(self, movie_ids: np.ndarray) -> np.ndarray:
        """bool (n,): which of ``movie_ids`` int64 (n,) match."""
        pos = np.searchsorted(self.ids, movie_ids)
        pos = np.minimum(pos, max(len(self.ids) - 1, 0))
        return (self.ids[pos] == movie_ids) if len(self.ids) else np.zeros(len(movie_ids), bool)


class Facets:
    """The filterable columns of a catalogue's movies, aligned on ``ids`` int64 (n,) sorted:
    ``years`` int32 (n,) (0 = unknown), ``n_ratings`` int64 (n,), ``genre_names`` tuple (G,),
    ``genre_bits`` bool (n, G).  ``key`` is the movies' content hash.  Immutable once built."""

    def __init__(self, movies: pd.DataFrame, key: str = "") -> None:
        m = movies.sort_values("movie_id")
        self.ids = m["movie_id"].to_numpy(np.int64)
        years = m["year"] if "year" in m else pd.Series([None] * len(m))
        self.years = np.array([0 if y is None or pd.isna(y) else int(y) for y in years], dtype=np.int32)
        self.n_ratings = (m["n_ratings"].fillna(0).to_numpy(np.int64) if "n_ratings" in m
                          else np.zeros(len(m), np.int64))
        lists = [list(g) if isinstance(g, (list, tuple, np.ndarray)) else [] for g in
                 (m["genres"] if "genres" in m else [[]] * len(m))]
        self.genre_names = tuple(sorted({str(g) for gs in lists for g in gs}))
        col = {g: j for j, g in enumerate(self.genre_names)}
        self.genre_bits = np.zeros((len(m), len(self.genre_names)), dtype=bool)
        for i, gs in enumerate(lists):
            for g in gs:
                self.genre_bits[i, col[str(g)]] = True
        self.key = key
        self._lists = [tuple(str(g) for g in gs) for gs in lists]
        self._cache: dict[str, Selection] = {}
        self._lock = threading.Lock()  # one Engine (and its facets) serves every session's thread

    def genres_of(self, movie_ids: np.ndarray) -> list[tuple[str, ...]]:
        """The genres of each movie id (ids of this catalogue)."""
        rows = np.searchsorted(self.ids, np.asarray(movie_ids, np.int64))
        return [self._lists[r] for r in rows]

    def canonical(self, genres: Iterable[str]) -> tuple[str, ...]:
        """Genre names as this catalogue spells them; :class:`UnknownGenreError` with close matches."""
        folded = {g.casefold(): g for g in self.genre_names}
        out = []
        for g in genres:
            hit = folded.get(g.casefold())
            if hit is None:
                close = difflib.get_close_matches(g.casefold(), list(folded), n=3, cutoff=0.5)
                hint = (f"did you mean {' or '.join(folded[c] for c in close)}?" if close else
                        f"the genres are {', '.join(self.genre_names)}.")
                raise UnknownGenreError(f"No genre {g!r} in this catalogue; {hint}",
                                        [folded[c] for c in close])
            out.append(hit)
        return tuple(out)

    def select(self, flt: Filter | None) -> Selection:
        """The movies that match ``flt`` (None = all), computed once per filter on this catalogue."""
        flt = flt or NO_FILTER
        key = flt.key()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        canon = Filter(self.canonical(flt.genres), flt.genre_mode, flt.year_min, flt.year_max,
                       flt.min_ratings, flt.exclude)
        keep = np.ones(len(self.ids), dtype=bool)
        if canon.genres:
            cols = [self.genre_names.index(g) for g in canon.genres]
            bits = self.genre_bits[:, cols]
            keep &= bits.any(axis=1) if canon.genre_mode == "any" else bits.all(axis=1)
        if canon.year_min is not None:
            keep &= self.years >= canon.year_min
        if canon.year_max is not None:
            keep &= (self.years <= canon.year_max) & (self.years > 0)
        if canon.min_ratings:
            keep &= self.n_ratings >= canon.min_ratings
        if canon.exclude:
            keep &= ~np.isin(self.ids, np.asarray(canon.exclude, np.int64))
        sel = Selection(canon, np.ascontiguousarray(self.ids[keep]), len(self.ids), f"{key}-{self.key[:16]}")
        with self._lock:
            if len(self._cache) >= 256:  # the filters pages ask for, not every possible one: drop the oldest
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = sel
        return sel


@dataclass(frozen=True, eq=False)
class FilterColumns:
    """The filter columns of some movies, in their order, for a store that keeps them beside the
    vectors: ``years`` int64 (n,) (0 = unknown), ``n_ratings`` int64 (n,), ``genres`` one tuple of
    names per movie."""

    years: np.ndarray
    n_ratings: np.ndarray
    genres: tuple[tuple[str, ...], ...]


def columns_for(facets: Facets, movie_ids: np.ndarray) -> FilterColumns:
    """:class:`FilterColumns` of ``movie_ids`` int64 (n,); ids the catalogue lacks get empty columns."""
    ids = np.asarray(movie_ids, np.int64)
    rows = np.minimum(np.searchsorted(facets.ids, ids), max(len(facets.ids) - 1, 0))
    known = facets.ids[rows] == ids if len(facets.ids) else np.zeros(len(ids), bool)
    return FilterColumns(np.where(known, facets.years[rows], 0).astype(np.int64),
                         np.where(known, facets.n_ratings[rows], 0).astype(np.int64),
                         tuple(facets._lists[r] if ok else () for r, ok in zip(rows, known)))
