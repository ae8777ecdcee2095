"""Reading one source table (CSV, Parquet or a read-only SQLite database) into a pandas frame.

Each reader returns the wanted columns that exist; each problem (missing file, not UTF-8,
broken CSV line, unreadable Parquet, SQL error, binary data where text belongs) is one
:class:`~engine.core.errors.DataFormatError` sentence naming the file and, where known, the row.

A database is opened read-only (``mode=ro``) and every statement runs under an authorizer that
allows only reading (SELECT, reads of columns, functions): a config's ``query`` can neither
attach another file, write one (``VACUUM INTO``), change a pragma nor modify the database.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Iterable

import pandas as pd

from engine.data.custom.schema import TableSpec
from engine.core.errors import DataFormatError

#: authorizer actions a read may take; anything else (ATTACH, VACUUM, PRAGMA, INSERT, ...) is denied
_READ_ACTIONS = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                           sqlite3.SQLITE_RECURSIVE})
#: the one pragma the reader itself needs (column names of a table); it writes nothing
_READ_PRAGMAS = frozenset({"table_info"})
#: the authorizer's action codes by name (the sqlite3 module's other SQLITE_* constants reuse the numbers)
_ACTION_NAMES = (
    "CREATE_INDEX", "CREATE_TABLE", "CREATE_TEMP_INDEX", "CREATE_TEMP_TABLE", "CREATE_TEMP_TRIGGER",
    "CREATE_TEMP_VIEW", "CREATE_TRIGGER", "CREATE_VIEW", "DELETE", "DROP_INDEX", "DROP_TABLE", "DROP_TEMP_INDEX",
    "DROP_TEMP_TABLE", "DROP_TEMP_TRIGGER", "DROP_TEMP_VIEW", "DROP_TRIGGER", "DROP_VIEW", "INSERT", "PRAGMA",
    "READ", "SELECT", "TRANSACTION", "UPDATE", "ATTACH", "DETACH", "ALTER_TABLE", "REINDEX", "ANALYZE",
    "CREATE_VTABLE", "DROP_VTABLE", "FUNCTION", "SAVEPOINT", "RECURSIVE",
)
_LEADING_COMMENTS = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.S)
#: what may follow the one statement: blanks, comments and more ';'
_TRAILING = re.compile(r"(?:\s+|;|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.S)


def check_file(path: Path, what: str) -> None:
    """Raise DataFormatError unless ``path`` is an existing regular file; say what it is instead.

    ``what`` names the source in the sentence, e.g. "movies file" or "SQLite database".
    """
    if path.is_file():
        return
    if path.is_dir():
        raise DataFormatError(f"The {what} {path} is a directory, not a file; give the path of the file itself.")
    if path.exists():
        raise DataFormatError(f"The {what} {path} is not a regular file (a device, pipe or socket); "
                              "give the path of a file.")
    raise DataFormatError(f"The {what} {path} does not exist; check its path.")


def _read_csv(path: Path, label: str, wanted: list[str], text_cols: set[str], section: str) -> pd.DataFrame:
    """pyarrow CSV -> pandas with only ``wanted`` columns (those present); errors as sentences."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    check_file(path, f"{section} file")
    if path.stat().st_size == 0:
        raise DataFormatError(f"{path.name} is empty; it needs a header row and at least one data row.")
    header = _csv_header(path)
    present = [c for c in dict.fromkeys(wanted) if c in header]
    types = {c: pa.string() for c in present if c in text_cols}
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            convert_options=pacsv.ConvertOptions(include_columns=present, column_types=types,
                                                 strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        if "UTF8" in msg or "utf8" in msg.lower() or "utf-8" in msg.lower():
            row = _first_bad_utf8_line(path)
            raise DataFormatError(f"{path.name} row {row} is not valid UTF-8; save the file as UTF-8 "
                                  "(e.g. `iconv -f latin1 -t utf-8`).") from None
        m = re.search(r"[Rr]ow #(\d+)", msg)
        where = f" row {m.group(1)}" if m else ""
        raise DataFormatError(f"{path.name}{where} cannot be read as CSV ({msg.splitlines()[0][:160]}); "
                              "fix that line (quoting, column count).") from None
    return table.to_pandas()


def _csv_header(path: Path) -> list[str]:
    with open(path, "rb") as fh:
        first = fh.readline()
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataFormatError(f"{path.name} row 1 (the header) is not valid UTF-8; save the file as UTF-8.") from None
    import csv

    try:
        return [c.strip() for c in next(csv.reader([line]))]
    except StopIteration:
        raise DataFormatError(f"{path.name} has an empty header row; the first line must name the columns.") from None


def _first_bad_utf8_line(path: Path) -> int:
    """1-based line number of the first line that is not UTF-8 (only called on the error path)."""
    with open(path, "rb") as fh:
        for i, line in enumerate(fh, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return i
    return 0


def _read_parquet(path: Path, label: str, wanted: list[str], section: str) -> pd.DataFrame:
    import pyarrow.parquet as pq

    check_file(path, f"{section} file")
    try:
        names = pq.read_schema(path).names
        return pq.read_table(path, columns=[c for c in dict.fromkeys(wanted) if c in names]).to_pandas()
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise DataFormatError(f"{path.name} is not a readable Parquet file ({exc.__class__.__name__}); "
                              "export it again or use CSV.") from None


def _read_sqlite(db: Path, t: TableSpec, label: str, wanted: list[str]) -> pd.DataFrame:
    check_file(db, "SQLite database")
    query = _single_select(str(t.query), label) if t.query is not None else None
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)   # never writes the user's database
    except sqlite3.Error as exc:
        raise DataFormatError(f"{db.name} cannot be opened as SQLite ({exc}); check the file.") from None
    denied: list[str] = []
    conn.set_authorizer(_read_only_authorizer(denied))
    try:
        if t.table:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
            if t.table not in tables:
                raise DataFormatError(f"{db.name} has no table {t.table!r}; it has {', '.join(sorted(tables)) or 'no tables'}.")
            cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{t.table}")')]
            present = [c for c in dict.fromkeys(wanted) if c in cols]
            if not present:   # nothing we want: report the missing columns, not an SQL error
                return pd.DataFrame({c: [] for c in cols}).iloc[:, :0]
            sql = "SELECT " + ", ".join(f'"{c}"' for c in present) + f' FROM "{t.table}"'
        else:
            sql = str(query)
        cur = conn.execute(sql)
        names = [d[0] for d in cur.description or ()]
        rows = cur.fetchall()
    except (sqlite3.Error, sqlite3.Warning) as exc:   # Python 3.11 raises Warning for a second statement
        if denied:
            raise DataFormatError(f"{label} may only read: {denied[0]} is not allowed; give one SELECT "
                                  "statement.") from None
        raise DataFormatError(f"Reading {label} failed ({exc}); check the table, query and column names.") from None
    except UnicodeDecodeError:
        raise DataFormatError(f"{label} holds text that is not valid UTF-8; fix the offending rows.") from None
    finally:
        conn.close()
    df = pd.DataFrame.from_records(rows, columns=names)
    return df[[c for c in names if c in set(wanted)]]


def _single_select(query: str, label: str) -> str:
    """The one SELECT (or WITH ... SELECT) statement of ``query``, checked before the database is opened;
    DataFormatError for anything else.  Trailing comments and ';' are dropped.

    The authorizer is what guarantees reading only; this check gives the clear sentence for the
    common mistakes (an ATTACH, a VACUUM, a second statement after ';').
    """
    body = query[_LEADING_COMMENTS.match(query).end():]
    first = (re.match(r"[A-Za-z]+", body) or [""])[0].upper()
    if first not in ("SELECT", "WITH"):
        shown = first or (body[:20] or "an empty query")
        raise DataFormatError(f"{label} must be one read-only SELECT statement; it starts with {shown!r}.")
    # complete_statement is true once a ';' outside quotes and comments ends a statement; anything
    # but comments and more ';' after it is a second statement
    for i, ch in enumerate(body):
        if ch == ";" and sqlite3.complete_statement(body[:i + 1]):
            tail = body[i + 1:]
            if _TRAILING.match(tail).end() < len(tail):
                raise DataFormatError(f"{label} must be one SELECT statement; remove what follows the ';'.")
            return body[:i + 1]
    return body


def _read_only_authorizer(denied: list[str]):
    """An sqlite3 authorizer that allows only reads; the first refused action is recorded in ``denied``."""
    names = {getattr(sqlite3, f"SQLITE_{a}"): a for a in _ACTION_NAMES if hasattr(sqlite3, f"SQLITE_{a}")}

    def authorize(action: int, arg1: str | None, arg2: str | None, db: str | None, source: str | None) -> int:
        if action in _READ_ACTIONS:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in _READ_PRAGMAS and arg2 is not None:
            return sqlite3.SQLITE_OK
        if not denied:
            what = names.get(action, str(action)).replace("_", " ")
            denied.append(f"{what} {arg1}" if action == sqlite3.SQLITE_PRAGMA and arg1 else what)
        return sqlite3.SQLITE_DENY

    return authorize


def _binary_cells(df: pd.DataFrame, label: str, first_row: int) -> None:
    """Refuse binary values (BLOBs) in any column: a title, an id or a tag is text or a number."""
    for col in df.columns:
        if df[col].dtype != object:
            continue
        is_bytes = df[col].map(lambda v: isinstance(v, (bytes, bytearray, memoryview))).to_numpy()
        if is_bytes.any():
            i = int(is_bytes.argmax())
            raise DataFormatError(f"{label} row {i + first_row} has binary data (a BLOB) in column {col!r}; "
                                  f"store it as text, e.g. SELECT CAST({col} AS TEXT), or fix that row.")


def read_table(t: TableSpec, sqlite: str | None, wanted: Iterable[str], text_cols: Iterable[str] = (),
               section: str = "source") -> tuple[pd.DataFrame, str]:
    """(frame with the wanted columns that exist, label for messages); ``section`` (movies,
    interactions, tags) names the source in messages about its path."""
    label = t.label(sqlite, section)
    wanted = [c for c in wanted if c]
    if t.file:
        path = Path(t.file)
        if path.suffix.lower() in (".parquet", ".pq") or path.name.endswith(".parquet.brotli"):
            df = _read_parquet(path, label, wanted, section)
            _binary_cells(df, label, 1)
            return df, label
        return _read_csv(path, label, wanted, set(text_cols), section), label
    if not sqlite:
        raise DataFormatError(f"{label} needs an SQLite database; set sqlite = \"FILE\" in the data set config.")
    df = _read_sqlite(Path(sqlite), t, label, wanted)
    _binary_cells(df, label, 1)
    return df, label
