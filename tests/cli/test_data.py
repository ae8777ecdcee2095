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
