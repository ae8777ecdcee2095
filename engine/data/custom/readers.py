"""Reading one source table (CSV, Parquet or a read-only SQLite database) into a pandas frame.

Each reader returns the wanted columns that exist; each problem (missing file, not UTF-8,
broken CSV line, unreadable Parquet, SQL error) is one :class:`~engine.errors.DataFormatError`
sentence naming the file and, where known, the row.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Iterable

import pandas as pd

from engine.data.custom.schema import TableSpec
from engine.errors import DataFormatError

def _read_csv(path: Path, label: str, wanted: list[str], text_cols: set[str]) -> pd.DataFrame:
    """pyarrow CSV -> pandas with only ``wanted`` columns (those present); errors as sentences."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not path.is_file():
        raise DataFormatError(f"{path} does not exist; check the path of the {label} file.")
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


def _read_parquet(path: Path, label: str, wanted: list[str]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    if not path.is_file():
        raise DataFormatError(f"{path} does not exist; check the path of the {label} file.")
    try:
        names = pq.read_schema(path).names
        return pq.read_table(path, columns=[c for c in dict.fromkeys(wanted) if c in names]).to_pandas()
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise DataFormatError(f"{path.name} is not a readable Parquet file ({exc.__class__.__name__}); "
                              "export it again or use CSV.") from None


def _read_sqlite(db: Path, t: TableSpec, label: str, wanted: list[str]) -> pd.DataFrame:
    if not db.is_file():
        raise DataFormatError(f"{db} does not exist; check the sqlite path of the data set config.")
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)   # never writes the user's database
    except sqlite3.Error as exc:
        raise DataFormatError(f"{db.name} cannot be opened as SQLite ({exc}); check the file.") from None
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
            sql = str(t.query)
        cur = conn.execute(sql)
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
    except sqlite3.Error as exc:
        raise DataFormatError(f"Reading {label} failed ({exc}); check the table, query and column names.") from None
    except UnicodeDecodeError:
        raise DataFormatError(f"{label} holds text that is not valid UTF-8; fix the offending rows.") from None
    finally:
        conn.close()
    df = pd.DataFrame.from_records(rows, columns=names)
    return df[[c for c in names if c in set(wanted)]]


def read_table(t: TableSpec, sqlite: str | None, wanted: Iterable[str], text_cols: Iterable[str] = ()) -> tuple[pd.DataFrame, str]:
    """(frame with the wanted columns that exist, label for messages)."""
    label = t.label(sqlite)
    wanted = [c for c in wanted if c]
    if t.file:
        path = Path(t.file)
        if path.suffix.lower() in (".parquet", ".pq") or path.name.endswith(".parquet.brotli"):
            return _read_parquet(path, label, wanted), label
        return _read_csv(path, label, wanted, set(text_cols)), label
    if not sqlite:
        raise DataFormatError(f"{label} needs an SQLite database; set sqlite = \"FILE\" in the data set config.")
    return _read_sqlite(Path(sqlite), t, label, wanted), label
