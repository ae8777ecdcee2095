"""AppTest of the filter bar on the four pages that search: its state in the link, every row it shows
matching it, a bad link refused in one plain sentence, a filter matching nothing said as 0 movies."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP
from tests.app.test_pages import frame, page

pytestmark = pytest.mark.slow

STAR_WARS, TOY_STORY = 50, 1


def movies_by_label():
    """'Title (year)' -> (year, genres) of ml-100k, from the built catalogue."""
    from engine.service import Engine

    df = Engine("ml-100k").movies.frame
    return {f"{r.title} ({r.year})": (int(r.year), set(r.genres)) for r in df.itertuples() if not pd.isna(r.year)}


def linked(name: str, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.switch_page(f"views/{name}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def param(at: AppTest, key: str) -> str | None:
    v = at.query_params.get(key)
    return v[0] if isinstance(v, list) else v


def test_similar_from_a_link_shows_only_matching_movies(built):
    at = linked("similar", movie=str(STAR_WARS), genre="Comedy", year="1990:1999", min_ratings="50")
    for model in ("mf", "sasrec", "text", "use"):
        df = frame(at, f"similar_table_{model}")
        assert len(df) == 10
        assert all(1990 <= y <= 1999 for y in df.iloc[:, 2]) and all("Comedy" in g for g in df.iloc[:, 3])
    assert any("match the filter" in c.value for c in at.caption)
    assert at.multiselect(key="similar_filter_genre").value == ["Comedy"]


def test_similar_bar_writes_the_link_and_filters(built):
    at = page("similar")
    at.selectbox(key="similar_movie").set_value(TOY_STORY).run()
    at.multiselect(key="similar_filter_genre").set_value(["Horror"]).run()
    assert not at.exception and param(at, "genre") == "Horror"
    assert all("Horror" in g for g in frame(at, "similar_table_mf").iloc[:, 3])
    at.select_slider(key="similar_filter_min_ratings").set_value(100).run()
    assert param(at, "min_ratings") == "100"
    at.button(key="similar_filter_clear").click().run()
    assert param(at, "genre") is None and param(at, "min_ratings") is None


def test_mood_search_every_column_honours_the_filter(built):
    at = linked("mood", genre="Drama", year="1980:1989")
    at.text_input(key="mood_query").set_value("a heartwarming story about friendship").run()
    tables = [frame(at, i) for i in range(len(at.dataframe))]  # semantic, BM25 (if it matched), hybrid, LIKE
    assert len(tables) >= 2 and len(tables[0]) == 10
    for df in tables:  # columns: title, year, genres, score
        assert all(1980 <= y <= 1989 for y in df.iloc[:, 1]) and all("Drama" in g for g in df.iloc[:, 2])


def test_live_personalization_filtered_to_a_genre_and_a_decade(built):
    at = linked("personalize", clicks="50,181,172", genre="Comedy", year="1990:1999")
    df = frame(at, "taste_recs")
    assert len(df) == 10
    known = movies_by_label()
    for title in df.iloc[:, 0]:
        year, genres = known[title]
        assert 1990 <= year <= 1999 and "Comedy" in genres
    assert param(at, "genre") == "Comedy" and param(at, "year") == "1990:1999"


def test_retrieval_and_ranking_filters_stage_one(built):
    at = linked("pipeline", clicks="50,181,172", year="1970:1979")
    df = frame(at, 0)  # the re-ranked list (a display-only table: by position)
    assert len(df) > 0
    years = [int(re.search(r"\((\d{4})\)$", t).group(1)) for t in df.iloc[:, 3]]
    assert all(1970 <= y <= 1979 for y in years)


def test_a_bad_link_is_refused_in_one_plain_sentence(built):
    at = linked("similar", genre="Comdy", year="1999:1990")
    warnings = [w.value for w in at.warning]
    assert any("earlier year first" in w for w in warnings)
    at = linked("similar", genre="Comdy")
    assert any("Comedy" in w.value and "Comdy" in w.value for w in at.warning)
    assert not at.exception and len(frame(at, "similar_table_mf")) == 10  # the rest of the page works


def test_a_filter_matching_nothing_says_zero(built):
    at = linked("personalize", clicks="50,181", genre="Documentary", min_ratings="1000")
    assert not at.exception and not at.error
    assert any("0 of 1,682" in c.value or "0 of 1682" in c.value for c in at.caption)
