"""The benchmark's query sets (benchmarks/queries/*.json): well-formed, labelled with real genres, no leaks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.data.catalogue import keyword_terms
from engine.recsys.query import clean_query

from ..conftest import GENRES_100K

ROOT = Path(__file__).resolve().parents[2] / "benchmarks" / "queries"
SETS = sorted(p.stem for p in ROOT.glob("*.json"))


def load(name: str) -> list[dict]:
    return json.loads((ROOT / f"{name}.json").read_text(encoding="utf-8"))["queries"]


def test_the_sets_the_issue_asks_for_exist():
    assert {"keyword", "mixed", "korean", "korean_validation"} <= set(SETS)
    assert {"mood_validation", "keyword_validation", "mixed_validation"} <= set(SETS)   # hybrid's parameters
    assert len(load("korean")) >= 30
    assert all(len(load(f"{n}_validation")) >= 20 for n in ("mood", "keyword", "mixed", "korean"))
    assert len(load("korean_style_validation")) >= 30          # the second Korean set, in another style


@pytest.mark.parametrize("name", SETS)
def test_queries_are_valid_and_labelled(name):
    qs = load(name)
    assert len({q["query"] for q in qs}) == len(qs)                     # no duplicates
    for q in qs:
        assert clean_query(q["query"]) == q["query"]
        assert set(q) <= {"query", "english", "labels", "title_any", "years", "kind"}
        assert q.get("kind", "descriptive") in ("colloquial", "loanword", "spelling", "descriptive")
        assert q.get("labels") or q.get("title_any"), q
        assert set(q.get("labels", [])) <= set(GENRES_100K), q
        if "years" in q:
            lo, hi = q["years"]
            assert 1900 <= lo <= hi <= 2030


@pytest.mark.parametrize("name", ["korean", "korean_validation"])
def test_korean_sets_never_name_a_genre_and_have_translations(name):
    names = [g.lower() for g in GENRES_100K + ["Children", "IMAX"]]
    for q in load(name):
        assert any("\uac00" <= c <= "\ud7a3" for c in q["query"]), q        # Hangul
        assert q["english"] and not any("\uac00" <= c <= "\ud7a3" for c in q["english"])
        for text in (q["query"], q["english"]):
            leaked = [t for t in keyword_terms(text) if any(t in g or g in t for g in names)]
            assert not leaked, (text, leaked)


def texts(qs: list[dict]) -> set[str]:
    return {q["query"] for q in qs} | {q["english"] for q in qs if "english" in q}


def test_validation_and_test_sets_do_not_share_a_query():
    mood_test = json.loads((ROOT.parent / "mood_queries.json").read_text(encoding="utf-8"))["queries"]
    test = texts(mood_test) | set().union(*(texts(load(n)) for n in SETS if not n.endswith("_validation")))
    for name in [n for n in SETS if n.endswith("_validation")]:
        assert not texts(load(name)) & test, name
        assert "never used to report" in json.loads((ROOT / f"{name}.json").read_text(encoding="utf-8"))["description"]


def test_mood_validation_never_names_a_genre():
    names = [g.lower() for g in GENRES_100K + ["Children", "IMAX"]]
    for q in load("mood_validation"):
        leaked = [t for t in keyword_terms(q["query"]) if any(t in g or g in t for g in names)]
        assert not leaked, (q["query"], leaked)
