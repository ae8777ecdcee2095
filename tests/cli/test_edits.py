"""``python -m engine add`` / ``remove`` on a tiny local ml-100k with stored vectors."""

from __future__ import annotations

import json

import numpy as np

from tests.cli.test_search import D, data_dir, run  # noqa: F401  (fixture)


def test_add_then_similar_finds_it_then_remove(data_dir, capsys):  # noqa: F811
    code, out, err = run(capsys, "add", "--title", "Space <b>Cowboys</b>", "--year", "2031", "--genres",
                         "sci-fi|drama", "--overview", "On Mars.", "--json", "--data-dir", str(data_dir))
    assert code == 0, err
    done = json.loads(out)
    assert done["movie_id"] == 6 and done["genres"] == ["Sci-Fi", "Drama"]
    assert set(done["cold_start"]) == {"mf", "sasrec"} and done["title"] == "Space <b>Cowboys</b>"
    code, out, _ = run(capsys, "similar", "--id", "6", "--model", "text", "-k", "5", "--json",
                       "--data-dir", str(data_dir))
    assert code == 0 and len(json.loads(out)["items"]) == 5
    code, out, _ = run(capsys, "similar", "--id", "1", "--model", "mf", "-k", "5", "--json", "--data-dir", str(data_dir))
    items = json.loads(out)["items"]
    assert [it.get("cold_start") for it in items if it["movie_id"] == 6] == [["mf", "sasrec"]]
    code, out, _ = run(capsys, "remove", "--id", "6", "--data-dir", str(data_dir))
    assert code == 0 and out.startswith("Removed movie 6: Space <b>Cowboys</b>")
    code, out, _ = run(capsys, "similar", "--id", "1", "--model", "text", "-k", "10", "--json",
                       "--data-dir", str(data_dir))
    assert 6 not in [it["movie_id"] for it in json.loads(out)["items"]]


def test_bad_input_exits_2_with_one_sentence(data_dir, capsys):  # noqa: F811
    for argv, words in (
        (["add", "--title", "", "--year", "2000", "--genres", "Drama"], "title is empty"),
        (["add", "--title", "x", "--year", "99999", "--genres", "Drama"], "outside 1870 to 2100"),
        (["add", "--title", "x", "--year", "2000", "--genres", "Dram"], "did you mean Drama"),
        (["add", "--title", "x" * 10_000, "--year", "2000", "--genres", "Drama"], "characters long"),
        (["remove", "--id", "99"], "No movie with id 99"),
    ):
        code, out, err = run(capsys, *argv, "--data-dir", str(data_dir))
        assert code == 2 and out == "" and words in err and err.count("\n") == 1, (argv, err)
    code, out, _ = run(capsys, "similar", "--id", "1", "--model", "text", "-k", "10", "--json",
                       "--data-dir", str(data_dir))
    assert len(json.loads(out)["items"]) == 4  # nothing was added
