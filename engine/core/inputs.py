"""Checks of everything a user, a URL or a file hands the engine, low in the stack so every layer can use them.

Each check returns the clean value or raises a named :class:`~engine.core.errors.MovieDNAError` with one
sentence.  Nothing here imports another engine module but the errors and the registry.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import numpy as np

from engine.core.errors import BadQueryError, InvalidNameError, UnknownMovieError
from engine.core.registry import DEFAULT_MODE, MODES

#: a name that becomes part of a table, collection or folder name (never a path): a letter or digit,
#: then up to 39 letters, digits, '_' or '-'
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
#: most results a user-facing search may ask for
MAX_K = 1000
#: longest free-text query
MAX_QUERY_CHARS = 500
#: most clicks (or dislikes) one taste may hold
MAX_CLICKS = 500


def validate_name(name: object, what: str = "model") -> str:
    """Return ``name`` if it is a safe identifier (:data:`NAME_RE`), else raise :class:`InvalidNameError`."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        shown = repr(name) if len(repr(name)) <= 60 else repr(name)[:57] + "..."
        raise InvalidNameError(
            f"The {what} name {shown} is not allowed; use up to 40 letters, digits, '-' or '_', "
            "starting with a letter or digit (e.g. my-films)."
        )
    return name


def check_k(k: object, limit: int = MAX_K) -> int:
    """Validate a result count: a whole number from 1 to ``limit``; else :class:`BadQueryError`."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise BadQueryError(f"k must be a whole number, got {k!r}.")
    if k < 1:
        raise BadQueryError(f"k must be at least 1, got {int(k)}.")
    if k > limit:
        raise BadQueryError(f"k={int(k):,} is too large; ask for at most {limit:,} results.")
    return int(k)


def clean_query(text: Any, max_chars: int = MAX_QUERY_CHARS) -> str:
    """Validate a free-text query: control characters become spaces, whitespace collapses.

    Raises :class:`BadQueryError` for non-strings, empty/whitespace-only text, text longer
    than ``max_chars`` and text without a single letter or digit (e.g. only emoji).
    """
    if not isinstance(text, str):
        raise BadQueryError(f"A query must be text, got {type(text).__name__}.")
    if len(text) > max_chars:
        raise BadQueryError(f"The query is {len(text):,} characters long; keep it under {max_chars}.")
    text = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise BadQueryError("The query is empty; type a few words describing what you want to watch.")
    if not any(c.isalnum() for c in text):
        raise BadQueryError("The query has no letters or digits (only symbols or emoji); describe it in words.")
    return text


def check_mode(mode: str | None) -> str:
    """A valid search mode (None -> :data:`~engine.core.registry.DEFAULT_MODE`); BadQueryError otherwise."""
    m = DEFAULT_MODE if mode is None else str(mode).strip().lower()
    if m not in MODES:
        raise BadQueryError(f"Unknown search mode {mode!r}; choose one of {', '.join(MODES)}.")
    return m


def check_ids(values: Any, what: str, allow_empty: bool = False) -> list[int]:
    """Validate movie ids -> a new list of Python ints: whole numbers, no duplicates, not too many.

    Accepts any iterable (list, tuple, generator, 1-D numpy integer array); None means none.
    """
    if values is None:
        values = []
    if isinstance(values, np.ndarray):
        if values.ndim != 1 or (values.size and not np.issubdtype(values.dtype, np.integer)):
            raise BadQueryError(f"{what} must be a flat list of whole-number movie ids; got an array of "
                                f"shape {values.shape} and type {values.dtype}.")
        values = values.tolist()
    if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
        raise BadQueryError(f"{what} must be a list of movie ids.")
    out: list[int] = []
    for v in values:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise BadQueryError(f"{what} must be whole-number movie ids; got {v!r}.")
        if not -2**63 <= int(v) < 2**63:
            raise UnknownMovieError(f"{int(v)} is not a movie id (too large).")
        out.append(int(v))
        if len(out) > MAX_CLICKS:
            break
    if not out and not allow_empty:
        raise BadQueryError(f"No {what}; click at least one movie first.")
    if len(out) > MAX_CLICKS:
        raise BadQueryError(f"More than {MAX_CLICKS} {what}; use at most {MAX_CLICKS}.")
    dup = sorted({m for m in out if out.count(m) > 1})
    if dup:
        raise BadQueryError(f"Duplicate {what}: {', '.join(map(str, dup[:10]))}; list each movie once.")
    return out
