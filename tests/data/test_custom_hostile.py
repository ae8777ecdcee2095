"""Bring-your-own imports from hostile files: each is one sentence naming the file, row and fix, exit 2,
and the catalogue imported before stays as it was.  The SQLite reader only ever reads."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.data.custom import CustomSpec, read_sources
from engine.core.errors import DataFormatError
from tests.data.test_custom import MOVIES_CSV, RATINGS_CSV, make_django_db, write_dir


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def earlier(capsys, tmp_path):
    """A catalogue ``mine`` imported from good files; returns its content hash."""
    code, out, err = run(capsys, "data", "--dataset", "mine", "--data-dir", str(write_dir(tmp_path / "good")), "--json")
    assert code == 0, err
    return json.loads(out)["content_hash"]


def assert_untouched(capsys, content_hash):
    code, out, err = run(capsys, "data", "--dataset", "mine", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["content_hash"] == content_hash and data["source"] == "custom:cache"


def hostile_files(tmp_path: Path, movies: str = MOVIES_CSV, ratings: str = RATINGS_CSV, name: str = "bad") -> list[str]:
    d = tmp_path / name
    d.mkdir()
    (d / "m.csv").write_text(movies, encoding="utf-8")
    (d / "r.csv").write_text(ratings, encoding="utf-8")
    return ["--movies", str(d / "m.csv"), "--interactions", str(d / "r.csv")]


def blob_db(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE m (id INTEGER, title BLOB)")
    con.executemany("INSERT INTO m VALUES (?, ?)", [(1, "Heat"), (2, b"\xff\xfe\x00binary")])
    con.execute("CREATE TABLE r (userId INTEGER, movieId INTEGER, timestamp INTEGER)")
    con.executemany("INSERT INTO r VALUES (?, ?, ?)", [(1, 1, 100), (1, 2, 101)])
    con.commit()
    con.close()
    return path


BIG = "12345678901234567890"   # 20 digits: more than int64 holds


@pytest.mark.parametrize("case", ["empty id mapping", "empty movie mapping", "blob title", "20-digit movie id",
                                  "20-digit user id", "inf rating", "1e308 rating", "movies is a directory",
                                  "movies is /dev/null"])
def test_hostile_import_is_one_sentence_exit_2_and_keeps_the_catalogue(case, capsys, tmp_path, earlier):
    files = hostile_files(tmp_path)
    argv, expected = {
        "empty id mapping": ([*files, "--map", "movies.id="],
                             "--map movies.id= leaves the required movies field 'id' without a column"),
        "empty movie mapping": ([*files, "--map", "interactions.movie="],
                                "--map interactions.movie= leaves the required interactions field 'movie'"),
        "blob title": (["--sqlite", str(blob_db(tmp_path / "b.db")), "--movies", "m", "--interactions", "r",
                        "--map", "movies.id=id"],
                       "table m of b.db row 2 has binary data (a BLOB) in column 'title'"),
        "20-digit movie id": (hostile_files(tmp_path, MOVIES_CSV.replace("\n5,", f"\n{BIG},"),
                                            RATINGS_CSV.replace(",5,", f",{BIG},"), "m20"),
                              "m.csv row 4 has movie id 1.23457e+19, which is too large"),
        "20-digit user id": (hostile_files(tmp_path, ratings=RATINGS_CSV.replace("\n3,", f"\n{BIG},"), name="u20"),
                             "r.csv row 6 has user id 1.23457e+19, which is too large"),
        "inf rating": (hostile_files(tmp_path, ratings=RATINGS_CSV.replace("4.5", "inf"), name="inf"),
                       "r.csv row 3 has rating inf; ratings must be finite numbers from -1,000,000 to 1,000,000"),
        "1e308 rating": (hostile_files(tmp_path, ratings=RATINGS_CSV.replace("4.5", "1e308"), name="big"),
                         "r.csv row 3 has rating 1e+308; ratings must be finite numbers"),
        "movies is a directory": (["--movies", str(tmp_path), *files[2:]],
                                  f"The movies file {tmp_path} is a directory, not a file"),
        "movies is /dev/null": (["--movies", "/dev/null", *files[2:]],
                                "The movies file /dev/null is not a regular file"),
    }[case]
    code, out, err = run(capsys, "data", "--dataset", "mine", *argv)
    assert code == 2 and out == ""
    assert expected in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert_untouched(capsys, earlier)


def test_an_empty_required_column_in_a_config_file_is_refused(tmp_path):
    with pytest.raises(DataFormatError, match=r"id = '' in the \[movies\] section leaves the required movies field"):
        CustomSpec.from_mapping({"movies": {"file": "m.csv", "id": ""}, "interactions": {"file": "r.csv"}}, tmp_path)
    # an optional field may be left without a column
    spec = CustomSpec.from_mapping({"movies": {"file": "m.csv", "overview": ""}, "interactions": {"file": "r.csv"}},
                                   tmp_path)
    assert spec.movies.columns["overview"] is None


def test_ids_that_fit_int64_are_kept_exactly(tmp_path):
    big = 2**62 + 1  # an integer column holds it exactly (a float would round it)
    root = write_dir(tmp_path / "d", MOVIES_CSV.replace("\n5,", f"\n{big},"), RATINGS_CSV.replace(",5,", f",{big},"),
                     tags=None)
    movies, ratings = read_sources(CustomSpec.movielens_dir(root))
    assert big in movies["movie_id"].tolist() and big in ratings["movie_id"].tolist()


# --- the SQLite reader only reads ----------------------------------------------------------

def sqlite_spec(db: Path, query: str) -> CustomSpec:
    return CustomSpec.from_mapping({"sqlite": str(db), "movies": {"query": query, "id": "id"},
                                    "interactions": {"table": "movies_rating", "user": "user_id",
                                                     "movie": "movie_id", "timestamp": "created_at"}})


@pytest.mark.parametrize("attack", [
    "ATTACH DATABASE '{target}' AS x",
    "VACUUM INTO '{target}'",
    "SELECT id, title FROM movies_movie; VACUUM INTO '{target}'",
    "SELECT id, title FROM movies_movie; ATTACH DATABASE '{target}' AS x",
    "SELECT id, title FROM movies_movie WHERE title <> ';' ; /* c */ VACUUM INTO '{target}'",
    "/* looks harmless */ -- and a comment\nVACUUM INTO '{target}'",
    "PRAGMA journal_mode = DELETE",
])
def test_config_query_cannot_write_anywhere(attack, tmp_path):
    db = tmp_path / "db.sqlite3"
    make_django_db(db)
    before = db.read_bytes()
    target = tmp_path / "elsewhere" / "copy.db"
    target.parent.mkdir()
    with pytest.raises(DataFormatError) as err:
        read_sources(sqlite_spec(db, attack.format(target=target)))
    msg = str(err.value)
    assert "SELECT" in msg and "\n" not in msg
    assert not target.exists() and list(target.parent.iterdir()) == []
    assert db.read_bytes() == before


@pytest.mark.parametrize("statement, refused", [
    ("ATTACH DATABASE '{target}' AS x", "ATTACH"),
    ("VACUUM INTO '{target}'", "ATTACH"),     # SQLite asks to attach the target of VACUUM INTO
    ("CREATE TABLE t (x)", "INSERT"),          # SQLite first asks to write the schema table
    ("DELETE FROM a", "DELETE"),
    ("PRAGMA user_version = 7", "PRAGMA user_version"),
])
def test_authorizer_alone_refuses_writes(statement, refused, tmp_path):
    # the authorizer is the guarantee even if a statement got past the SELECT check
    from engine.data.custom.readers import _read_only_authorizer

    target = tmp_path / "copy.db"
    con = sqlite3.connect(tmp_path / "own.db")
    con.execute("CREATE TABLE a (x)")
    denied: list[str] = []
    con.set_authorizer(_read_only_authorizer(denied))
    assert con.execute("SELECT count(*), max(x) FROM a").fetchone() == (0, None)   # reads pass
    assert con.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) "
                       "SELECT sum(i) FROM n").fetchone() == (6,)
    with pytest.raises(sqlite3.DatabaseError, match="authoriz"):
        con.execute(statement.format(target=target))
    assert denied and denied[0].startswith(refused) and not target.exists()
    con.close()


def test_an_interactions_query_is_named_as_such(tmp_path):
    db = tmp_path / "db.sqlite3"
    make_django_db(db)
    spec = CustomSpec.from_mapping({"sqlite": str(db), "movies": {"table": "movies_movie", "id": "id"},
                                    "interactions": {"query": "DELETE FROM movies_rating"}})
    with pytest.raises(DataFormatError, match="^the interactions query on db.sqlite3 must be one read-only SELECT"):
        read_sources(spec)


def test_a_plain_select_query_still_works(tmp_path):
    db = tmp_path / "db.sqlite3"
    make_django_db(db)
    for query in ("  -- films\nSELECT id, title FROM movies_movie WHERE id > 0;",
                  "SELECT id, title FROM movies_movie WHERE title <> 'a;b' ; -- done\n",
                  "with t as (select id, title from movies_movie) select * from t /* all */; ; -- end"):
        movies, _ = read_sources(sqlite_spec(db, query))
        assert movies["title"].tolist() == ["Arrival", "Paddington 2", "Moon"], query


def test_a_uint64_parquet_id_above_int64_is_refused(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"movieId": pa.array([1, 2**63], pa.uint64()), "title": ["A", "B"]}), tmp_path / "m.parquet")
    (tmp_path / "r.csv").write_text("userId,movieId,timestamp\n1,1,100\n")
    spec = CustomSpec.from_mapping({"movies": {"file": "m.parquet"}, "interactions": {"file": "r.csv"}}, tmp_path)
    with pytest.raises(DataFormatError, match=r"m.parquet row 2 has movie id 9223372036854775808, which is too large"):
        read_sources(spec)
