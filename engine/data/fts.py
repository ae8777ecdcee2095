"""BM25 keyword search in the catalogue: an SQLite FTS5 table over title, genres and tags.

``movies_fts`` (rowid = movie_id) is filled in the same transaction that writes the
movies table (:meth:`engine.data.catalogue.Catalogue.write_movies`), so the two never
disagree; a catalogue written before FTS existed gets its index on open
(:func:`ensure`).  Python's ``sqlite3`` ships FTS5: no server, no extra package.

Tokenizer ``porter unicode61 remove_diacritics 2``: words split on anything that is not a
letter or digit ("Sci-Fi" -> sci, fi), case and accents folded, English suffixes stemmed
("ghosts" matches "Ghost").  A query's words (:func:`engine.data.catalogue.keyword_terms`:
lower-case, stop words dropped) are OR-ed, each as a quoted phrase, so no FTS5 syntax in
user text is ever interpreted.  Ranking: ``bm25(movies_fts, 2, 1, 1)`` — title matches
weigh twice genre/tag matches, as in the LIKE baseline; ties: more ratings first.
A Korean query has no keyword match in English titles: the result is honestly empty.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Iterable, Sequence

TABLE = "movies_fts"
#: column weights for bm25(): title, genres, tags
WEIGHTS = (2.0, 1.0, 1.0)
SCHEMA = (f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
          "title, genres, tags, tokenize = 'porter unicode61 remove_diacritics 2')")


def create(conn: sqlite3.Connection) -> None:
    """Create the FTS5 table if it is missing (inside the caller's transaction)."""
    conn.execute(SCHEMA)


def fill(conn: sqlite3.Connection, rows: Iterable[tuple[int, str, str, str]]) -> None:
    """Replace the index with ``rows`` (movie_id, title, genres text, tags text).

    Runs inside the caller's transaction (the movies write), so it commits or rolls back with it.
    """
    create(conn)
    conn.execute(f"DELETE FROM {TABLE}")
    add(conn, rows)


def add(conn: sqlite3.Connection, rows: Iterable[tuple[int, str, str, str]]) -> None:
    """Index ``rows`` (movie_id, title, genres text, tags text) beside the ones indexed already
    (inside the caller's transaction: a movie added to the catalogue)."""
    conn.executemany(f"INSERT INTO {TABLE} (rowid, title, genres, tags) VALUES (?, ?, ?, ?)",
                     ((int(m), t, g.replace("|", " "), s.replace("|", " ")) for m, t, g, s in rows))


def remove(conn: sqlite3.Connection, movie_ids: Iterable[int]) -> None:
    """Drop movies from the index (inside the caller's transaction: a movie removed from the catalogue)."""
    conn.executemany(f"DELETE FROM {TABLE} WHERE rowid = ?", ((int(m),) for m in movie_ids))


def ensure(conn: sqlite3.Connection) -> bool:
    """Build the index from the movies table when it is missing or out of step; True if (re)built.

    Call inside a transaction.  Cheap when the index is current (two COUNTs).
    """
    create(conn)
    n_movies = conn.execute("SELECT COUNT(*) FROM movies").fetchone()[0]
    n_fts = conn.execute(f"SELECT COUNT(*) FROM {TABLE}").fetchone()[0]
    if n_movies == n_fts:
        return False
    fill(conn, conn.execute("SELECT movie_id, title, genres_text, tags_text FROM movies").fetchall())
    return True


def match_expression(terms: Sequence[str], op: str = "OR") -> str:
    """FTS5 MATCH text: every term a quoted phrase (quotes doubled), joined by ``op`` (OR / AND); '' for no terms."""
    if op not in ("OR", "AND"):
        raise ValueError("op must be OR or AND")
    return f" {op} ".join('"' + t.replace('"', '""') + '"' for t in terms)


#: the columns :func:`covers` looks in: what a movie is called and labelled (tags are other people's words)
COVER_COLUMNS = ("title", "genres")


def covers(conn: sqlite3.Connection, movie_id: int, terms: Sequence[str]) -> bool:
    """True when ``movie_id``'s title and genres hold every term (FTS5 tokens: stemmed, case-folded).

    The hybrid fusion's test of whether BM25 is confident (:mod:`engine.recsys.hybrid`):
    "star trek" against *Star Trek: Generations* is; "cartoon for young kids" against *Kids* is not.
    False for no terms.
    """
    if not terms:
        return False
    expr = "{" + " ".join(COVER_COLUMNS) + "} : (" + match_expression(terms, "AND") + ")"
    sql = f"SELECT 1 FROM {TABLE} WHERE {TABLE} MATCH ? AND rowid = ?"
    return conn.execute(sql, (expr, int(movie_id))).fetchone() is not None


def search(conn: sqlite3.Connection, terms: Sequence[str], k: int,
           allowed: Sequence[int] | None = None) -> list[tuple[int, float]]:
    """Top-k (movie_id, score) by BM25 for the given query terms; score = -bm25 (higher = better).

    Empty when no movie matches any term (or there are no terms).  ``allowed``: only these movie
    ids (a filter's selection), None = every movie.
    """
    expr = match_expression(terms)
    if not expr:
        return []
    w = ", ".join(str(float(x)) for x in WEIGHTS)
    only, params = allowed_clause("m.movie_id", allowed)
    sql = (f"SELECT f.rowid, -bm25({TABLE}, {w}) AS s FROM {TABLE} f JOIN movies m ON m.movie_id = f.rowid "
           f"WHERE {TABLE} MATCH ?{only} ORDER BY s DESC, m.n_ratings DESC, m.movie_id LIMIT ?")
    return [(int(m), float(s)) for m, s in conn.execute(sql, (expr, *params, int(k))).fetchall()]


def allowed_clause(column: str, allowed: Sequence[int] | None) -> tuple[str, list[str]]:
    """(" AND <column> IN (...)", its parameter) keeping only ``allowed`` movie ids; ("", []) for None.
    The ids travel as one JSON parameter (any number of them, no SQL built from values)."""
    if allowed is None:
        return "", []
    return f" AND {column} IN (SELECT value FROM json_each(?))", [json.dumps([int(i) for i in allowed])]
