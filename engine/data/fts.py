"""BM25 keyword search in the catalogue: an SQLite FTS5 table over title, genres, tags and overview.

``movies_fts`` (rowid = movie_id) is filled in the same transaction that writes the
movies table (:meth:`engine.data.catalogue.Catalogue.write_movies`), so the two never
disagree; a catalogue written before this layout gets its index on open (:func:`ensure`).
Python's ``sqlite3`` ships FTS5: no server.

Tokenizer ``porter unicode61 remove_diacritics 2``: words split on anything that is not a
letter or digit ("Sci-Fi" -> sci, fi), case and accents folded, English suffixes stemmed
("ghosts" matches "Ghost").  Korean glues particles and endings to its words (인터스텔라를,
우주를, 사랑에), so whitespace tokens almost never match: text holding Hangul is first analysed
into morphemes by Kiwi (:func:`analyse`: nouns, verb and adjective stems; particles and endings
dropped) and the index holds those, space-joined; a query goes through the same analyser
(:func:`query_text`).  Text without Hangul is indexed as written, so English catalogues are
untouched and mixed ones work.  Compared on validation with FTS5's ``trigram`` tokenizer
(no match for a query word under three characters, and most Korean nouns have two syllables)
and plain ``unicode61``: :data:`VARIANTS`, figures in docs/SEARCH.md.

The title column holds the title and, when it differs, the original title (a Korean catalogue's
English title).  A query's words (:func:`engine.data.catalogue.keyword_terms`: lower-case, stop
words dropped) are OR-ed, each as a quoted phrase, so no FTS5 syntax in user text is ever
interpreted.  Ranking: ``bm25(movies_fts, *WEIGHTS)``; ties: more ratings first.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from engine.data.titles import other_title

TABLE = "movies_fts"
COLUMNS = ("title", "genres", "tags", "overview")
#: column weights for bm25() in COLUMNS order: a title hit outranks a plot hit.  Title, genres and tags
#: keep the 2:1:1 of the LIKE baseline (English catalogues rank as before); the overview's weight was chosen
#: on benchmarks/data/ko-films/queries_validation.json over {0.25, 0.5, 1, 2} (1 and 2 tie: 1 keeps titles first)
WEIGHTS = (2.0, 1.0, 1.0, 1.0)
#: the columns :func:`covers` looks in: what a movie is called, labelled and said to be about (tags are
#: other people's words); the overview chosen on the Korean validation set (hybrid nDCG@10 0.703 against
#: 0.684 without it), and MovieLens catalogues have no overviews, so their gate is unchanged
COVER_COLUMNS = ("title", "genres", "overview")
#: the analyser version the index was built with; a catalogue indexed otherwise is re-indexed on open
LAYOUT = "overview+kiwi-1"

_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")


@dataclass(frozen=True)
class Variant:
    """One way to index text: an FTS5 ``tokenize`` argument and whether Hangul goes through Kiwi first."""

    name: str
    tokenize: str
    kiwi: bool


#: the index variants compared on validation; :data:`DEFAULT` is the one the catalogue uses
VARIANTS = {
    "unicode61": Variant("unicode61", "porter unicode61 remove_diacritics 2", False),
    "trigram": Variant("trigram", "trigram", False),
    "kiwi": Variant("kiwi", "porter unicode61 remove_diacritics 2", True),
}
DEFAULT = "kiwi"

# Kiwi's tags kept as words: common and proper nouns, numerals, roots, foreign words, Hanja, numbers;
# verb and adjective stems of two or more syllables (보, 하, 좋 would match nearly every plot)
_NOUN_TAGS = ("NNG", "NNP", "NR", "XR", "SL", "SH", "SN")
_STEM_TAGS = ("VV", "VA")
_kiwi_lock = threading.Lock()


def has_hangul(text: str) -> bool:
    return bool(_HANGUL.search(text or ""))


@lru_cache(maxsize=1)
def _kiwi():
    """The Kiwi analyser, built once per process (it takes seconds); its model ships as a package."""
    from kiwipiepy import Kiwi

    return Kiwi()


def analyse(text: str, stems: bool = True) -> str:
    """Hangul text -> its content morphemes, space-joined ("인터스텔라를 보고 싶어" -> "인터스텔라");
    ``stems`` False keeps nouns only (the words a title is made of).  Text without Hangul is returned
    as it is (Kiwi is not loaded)."""
    if not has_hangul(text):
        return text
    with _kiwi_lock:
        tokens = _kiwi().tokenize(text)
    words = [t.form for t in tokens
             if t.tag.startswith(_NOUN_TAGS) or (stems and t.tag.startswith(_STEM_TAGS) and len(t.form) >= 2)]
    return " ".join(words)


def query_text(query: str, variant: str = DEFAULT, stems: bool = True) -> str:
    """What a variant's index is searched with: the analysed query for ``kiwi``, the query otherwise."""
    return analyse(query, stems) if VARIANTS[variant].kiwi else query


def _title_text(title: str, original: str) -> str:
    """Title, plus the original title when it is another name (not MovieLens' "Title, The (1995)" form)."""
    other = other_title(title, original)
    return f"{title} {other}" if other else title


def documents(rows: Iterable[tuple[int, str, str, str, str, str]], variant: str = DEFAULT
              ) -> Iterable[tuple[int, str, str, str, str]]:
    """(movie_id, title, original_title, genres text, tags text, overview) -> index rows in COLUMNS order."""
    kiwi = VARIANTS[variant].kiwi
    prep = analyse if kiwi else (lambda s: s)
    for m, t, o, g, s, ov in rows:
        yield (int(m), prep(_title_text(t, o or "")), prep(g.replace("|", " ")), prep(s.replace("|", " ")),
               prep(ov or ""))


def create(conn: sqlite3.Connection, table: str = TABLE, variant: str = DEFAULT) -> None:
    """Create the FTS5 table if it is missing (inside the caller's transaction)."""
    conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5({', '.join(COLUMNS)}, "
                 f"tokenize = '{VARIANTS[variant].tokenize}')")


def fill(conn: sqlite3.Connection, rows: Iterable[tuple[int, str, str, str, str, str]],
         table: str = TABLE, variant: str = DEFAULT) -> None:
    """Replace the index with ``rows`` (movie_id, title, original_title, genres text, tags text, overview).

    Runs inside the caller's transaction (the movies write), so it commits or rolls back with it.
    """
    create(conn, table, variant)
    conn.execute(f"DELETE FROM {table}")
    add(conn, rows, table, variant)
    if table == TABLE:
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('fts_layout', ?)", (LAYOUT,))


def add(conn: sqlite3.Connection, rows: Iterable[tuple[int, str, str, str, str, str]],
        table: str = TABLE, variant: str = DEFAULT) -> None:
    """Index ``rows`` (as :func:`fill` takes them) beside the ones indexed already, inside the caller's
    transaction (a movie added to the catalogue is analysed exactly as the import analysed the rest)."""
    conn.executemany(f"INSERT INTO {table} (rowid, {', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?)",
                     documents(rows, variant))


def remove(conn: sqlite3.Connection, movie_ids: Iterable[int], table: str = TABLE) -> None:
    """Drop movies from the index (inside the caller's transaction: a movie removed from the catalogue)."""
    conn.executemany(f"DELETE FROM {table} WHERE rowid = ?", ((int(m),) for m in movie_ids))


_SOURCE = "SELECT movie_id, title, original_title, genres_text, tags_text, overview FROM movies"


def ensure(conn: sqlite3.Connection) -> bool:
    """Build the index from the movies table when it is missing, of an older layout or out of step;
    True if (re)built.  Call inside a transaction.  Cheap when the index is current."""
    layout = conn.execute("SELECT value FROM meta WHERE key = 'fts_layout'").fetchone()
    if layout is None or layout[0] != LAYOUT:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    create(conn)
    n_movies = conn.execute("SELECT COUNT(*) FROM movies").fetchone()[0]
    n_fts = conn.execute(f"SELECT COUNT(*) FROM {TABLE}").fetchone()[0]
    if n_movies == n_fts and layout is not None and layout[0] == LAYOUT:
        return False
    fill(conn, conn.execute(_SOURCE).fetchall())
    return True


def build_variant(conn: sqlite3.Connection, variant: str) -> str:
    """A second index of the movies table under another variant (for comparisons); returns its table name."""
    table = f"{TABLE}_{variant}"
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    fill(conn, conn.execute(_SOURCE).fetchall(), table, variant)
    return table


def match_expression(terms: Sequence[str], op: str = "OR") -> str:
    """FTS5 MATCH text: every term a quoted phrase (quotes doubled), joined by ``op`` (OR / AND); '' for no terms."""
    if op not in ("OR", "AND"):
        raise ValueError("op must be OR or AND")
    return f" {op} ".join('"' + t.replace('"', '""') + '"' for t in terms)


def covers(conn: sqlite3.Connection, movie_id: int, terms: Sequence[str],
           columns: Sequence[str] = COVER_COLUMNS, table: str = TABLE) -> bool:
    """True when ``movie_id``'s ``columns`` (title, genres and overview) hold every term (FTS5 tokens:
    stemmed, case-folded).

    The hybrid fusion's test of whether BM25 is confident (:mod:`engine.recsys.hybrid`):
    "star trek" against *Star Trek: Generations* is; "cartoon for young kids" against *Kids* is not;
    the analysed "인터스텔라를 보고 싶어" (인터스텔라) against *인터스텔라* is, and so is "우주" against a
    film whose overview says 우주를.  False for no terms.
    """
    if not terms:
        return False
    expr = "{" + " ".join(columns) + "} : (" + match_expression(terms, "AND") + ")"
    sql = f"SELECT 1 FROM {table} WHERE {table} MATCH ? AND rowid = ?"
    return conn.execute(sql, (expr, int(movie_id))).fetchone() is not None


def search(conn: sqlite3.Connection, terms: Sequence[str], k: int, table: str = TABLE,
           weights: Sequence[float] = WEIGHTS, allowed: Sequence[int] | None = None) -> list[tuple[int, float]]:
    """Top-k (movie_id, score) by BM25 for the given query terms; score = -bm25 (higher = better).

    Empty when no movie matches any term (or there are no terms).  ``allowed``: only these movie
    ids (a filter's selection), None = every movie.
    """
    expr = match_expression(terms)
    if not expr:
        return []
    w = ", ".join(str(float(x)) for x in weights)
    only, params = allowed_clause("m.movie_id", allowed)
    sql = (f"SELECT f.rowid, -bm25({table}, {w}) AS s FROM {table} f JOIN movies m ON m.movie_id = f.rowid "
           f"WHERE {table} MATCH ?{only} ORDER BY s DESC, m.n_ratings DESC, m.movie_id LIMIT ?")
    return [(int(m), float(s)) for m, s in conn.execute(sql, (expr, *params, int(k))).fetchall()]


def allowed_clause(column: str, allowed: Sequence[int] | None) -> tuple[str, list[str]]:
    """(" AND <column> IN (...)", its parameter) keeping only ``allowed`` movie ids; ("", []) for None.
    The ids travel as one JSON parameter (any number of them, no SQL built from values)."""
    if allowed is None:
        return "", []
    return f" AND {column} IN (SELECT value FROM json_each(?))", [json.dumps([int(i) for i in allowed])]
