"""The Korean test catalogue (benchmarks/data/ko-films) and its query sets: well-formed, labelled with real
movies, validation and test kept apart."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from engine.core.inputs import clean_query
from tests.fixtures import load_script

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "ko-films"
KINDS = {"title", "plot", "mood", "mixed"}
#: MovieLens "latest" genre names
GENRES = {"Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
          "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western"}


def movies() -> list[dict]:
    with open(DATA / "movies.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def load(name: str) -> dict:
    return json.loads((DATA / f"queries_{name}.json").read_text(encoding="utf-8"))


def hangul(text: str) -> bool:
    return any("\uac00" <= c <= "\ud7a3" for c in text)


def test_catalogue_has_200_films_with_korean_titles_english_originals_and_korean_plots():
    rows = movies()
    assert len(rows) >= 200 and len({r["movieId"] for r in rows}) == len(rows)
    assert len({r["original_title"] for r in rows}) == len(rows)
    assert sum(hangul(r["title"]) for r in rows) >= 0.95 * len(rows)   # "1987", "E.T." are Korean titles too
    for r in rows:
        assert not hangul(r["original_title"]), r
        assert hangul(r["overview"]) and 1 <= r["overview"].count(".") <= 2, r
        assert 1920 <= int(r["year"]) <= 2026 and set(r["genres"].split("|")) <= GENRES, r


@pytest.mark.parametrize("name", ["validation", "test"])
def test_queries_are_korean_kinded_and_label_real_movies(name):
    ids = {int(r["movieId"]) for r in movies()}
    qs = load(name)["queries"]
    assert len({q["query"] for q in qs}) == len(qs)
    assert {q["kind"] for q in qs} == KINDS
    for q in qs:
        assert set(q) == {"kind", "query", "relevant"} and clean_query(q["query"]) == q["query"]
        assert hangul(q["query"]) and q["relevant"] and set(q["relevant"]) <= ids, q


def test_at_least_40_queries_and_validation_is_kept_apart_from_test():
    val, test = load("validation"), load("test")
    assert len(val["queries"]) + len(test["queries"]) >= 40
    assert not {q["query"] for q in val["queries"]} & {q["query"] for q in test["queries"]}
    assert "never used to report" in val["description"] and "never used to choose" in test["description"]


def test_ratings_file_is_what_the_seeded_generator_writes(tmp_path, monkeypatch):
    mod = load_script(DATA / "make_ratings.py")
    (tmp_path / "movies.csv").write_bytes((DATA / "movies.csv").read_bytes())
    monkeypatch.setattr(mod, "HERE", tmp_path)
    mod.main()
    assert (tmp_path / "ratings.csv").read_bytes() == (DATA / "ratings.csv").read_bytes()
