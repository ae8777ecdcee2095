import json
import subprocess
import sys

import pytest

from engine.cli.main import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_data_json(capsys, dir_100k):
    code, out, err = run(capsys, "data", "--dataset", "ml-100k", "--data-dir", str(dir_100k), "--no-verify", "--json")
    assert code == 0
    data = json.loads(out)  # exactly one JSON object
    assert data["movies"] == 5 and data["users"] == 3 and data["ratings"] == 10
    assert data["hash_check"].startswith("not verified")


def test_data_text(capsys, dir_csv):
    code, out, _ = run(capsys, "data", "--dataset", "ml-25m", "--data-dir", str(dir_csv))
    assert code == 0 and "5 movies" in out and "source: local:" in out


def test_keyword_json(capsys, dir_csv):
    code, out, _ = run(capsys, "keyword", "space", "--dataset", "ml-25m", "--data-dir", str(dir_csv), "--json")
    assert code == 0
    assert [r["title"] for r in json.loads(out)["results"]] == ["Star Wars"]


@pytest.mark.parametrize("argv, fragment", [
    (["data", "--dataset", "ml-7"], "Unknown data set"),
    (["keyword", "  ", "--dataset", "ml-25m"], None),
    (["keyword", "x", "-k", "0"], "positive"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_exit_2_one_sentence(capsys, argv, fragment, dir_csv):
    if argv[0] == "keyword" and fragment is None:
        argv = [*argv, "--data-dir", str(dir_csv)]
        fragment = "empty"
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err


def test_hash_mismatch_exit_2(capsys, dir_100k):
    code, _, err = run(capsys, "data", "--data-dir", str(dir_100k))
    assert code == 2 and "published" in err


def test_python_dash_m(dir_csv):
    proc = subprocess.run([sys.executable, "-m", "engine", "keyword", "toy", "--dataset", "ml-25m",
                           "--data-dir", str(dir_csv), "--json"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["results"][0]["title"] == "Toy Story"


def test_synth_then_import_then_keyword(capsys, tmp_path):
    code, out, err = run(capsys, "synth", "--out", str(tmp_path / "s"), "--movies", "300", "--users", "40",
                         "--ratings", "2000", "--overviews", "--json")
    assert code == 0, err
    assert json.loads(out)["ratings"] == 2000
    code, out, err = run(capsys, "data", "--dataset", "tiny-synth", "--data-dir", str(tmp_path / "s"), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["movies"], data["users"], data["ratings"]) == (300, 40, 2000) and data["source"] == "custom:imported"
    code, out, err = run(capsys, "data", "--dataset", "tiny-synth", "--json")      # registered: no --data-dir
    assert code == 0 and json.loads(out)["source"] == "custom:cache"
    code, out, err = run(capsys, "keyword", "Drama", "--dataset", "tiny-synth", "--json")
    assert code == 0 and json.loads(out)["results"]


def test_data_from_sqlite_tables_with_mapped_columns(capsys, tmp_path):
    from tests.data.test_custom import make_django_db

    make_django_db(tmp_path / "db.sqlite3")
    argv = ["data", "--dataset", "django", "--sqlite", str(tmp_path / "db.sqlite3"), "--movies", "movies_movie",
            "--interactions", "movies_rating", "--map", "movies.id=id", "--map", "movies.year=release_date",
            "--map", "movies.overview=description", "--map", "interactions.user=user_id",
            "--map", "interactions.movie=movie_id", "--map", "interactions.timestamp=created_at",
            "--map", "interactions.rating=score", "--json"]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert json.loads(out)["movies"] == 3
    code, out, err = run(capsys, "keyword", "moon", "--dataset", "django", "--json")   # Moon has no year
    assert code == 0, err
    assert {r["title"]: r["year"] for r in json.loads(out)["results"]} == {"Moon": None}
    code, out, err = run(capsys, *argv[:-3], "--map", "interactions.rating=stars")
    assert code == 0   # an optional column that is missing is skipped
    code, out, err = run(capsys, *argv[:-3], "--map", "interactions.user=uid")
    assert code == 2 and "lacks the column(s) user (uid)" in err and "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["data", "--dataset", "../up", "--data-dir", "."], "is not allowed"),
    (["data", "--dataset", "never-imported"], "import your own catalogue"),
    (["data", "--movies", "m.csv", "--interactions", "r.csv"], "Name your catalogue with --dataset"),
    (["data", "--dataset", "x", "--movies", "m.csv"], "Give both --movies and --interactions"),
    (["data", "--dataset", "x", "--movies", "m.csv", "--interactions", "r.csv", "--map", "oops"], "is not FIELD=COLUMN"),
    (["synth", "--out", "x", "--movies", "5"], "at least 10"),
])
def test_custom_errors_one_sentence(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and message in err and err.count("\n") == 1


def test_a_data_set_imported_once_needs_only_its_name(capsys, tmp_path, monkeypatch):
    import shutil

    from engine.data import sources
    from engine.data.dataset import load_dataset
    from tests.conftest import write_csv

    def refuse(s, raw_dir, progress=None):
        raise sources.SourceUnavailableError("unreachable (test)")
    monkeypatch.setattr(sources, "fetch_grouplens", refuse)
    src = write_csv(tmp_path / "downloads" / "ml-25m")
    code, out, err = run(capsys, "data", "--dataset", "ml-25m", "--data-dir", str(src), "--json")
    assert code == 0, err
    first = json.loads(out)
    shutil.rmtree(tmp_path / "downloads")        # the download folder is cleaned up
    code, out, err = run(capsys, "data", "--dataset", "ml-25m", "--json")
    assert code == 0, err
    again = json.loads(out)
    assert again["source"] == "cache" and again["content_hash"] == first["content_hash"]
    code, out, err = run(capsys, "keyword", "space", "--dataset", "ml-25m", "--json")
    assert code == 0, err
    assert [r["title"] for r in json.loads(out)["results"]] == ["Star Wars"]
    assert load_dataset("ml-25m").source == "cache"


def test_latest_small_from_a_folder_then_by_name(capsys, latest_small_dir, tmp_path, monkeypatch):
    import shutil

    monkeypatch.setenv("MOVIEDNA_OFFLINE", "1")       # the cache must answer, not the network
    copy = shutil.copytree(latest_small_dir, tmp_path / "ml-latest-small")
    code, out, err = run(capsys, "data", "--dataset", "ml-latest-small", "--data-dir", str(copy), "--json")
    assert code == 0, err
    shutil.rmtree(copy)
    code, out, err = run(capsys, "data", "--dataset", "ml-latest-small", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["source"] == "cache" and data["hash_check"].startswith("sha256 ok") and data["movies"] == 9742
