"""Filter: one validated description, parsed the same from the CLI and a link, resolved on the catalogue."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.data.filters import Facets, Filter, columns_for, parse_years
from engine.core.errors import BadQueryError, UnknownGenreError

MOVIES = pd.DataFrame({
    "movie_id": [1, 2, 3, 4, 5, 6],
    "title": list("abcdef"),
    "year": pd.array([1995, 1991, None, 1999, 2003, 1990], dtype="Int64"),
    "genres": [["Comedy", "Romance"], ["Drama"], ["Comedy"], ["Romance"], [], ["Sci-Fi", "Comedy"]],
    "n_ratings": [100, 10, 60, 50, 500, 49],
})


@pytest.fixture
def facets() -> Facets:
    return Facets(MOVIES, "hash0")


def brute(flt: Filter) -> list[int]:
    """The conditions written out row by row (what select must agree with)."""
    out = []
    for r in MOVIES.itertuples():
        gs = {g.casefold() for g in r.genres}
        want = {g.casefold() for g in flt.genres}
        if want and not (gs & want if flt.genre_mode == "any" else want <= gs):
            continue
        year = None if pd.isna(r.year) else int(r.year)
        if flt.year_min is not None and (year is None or year < flt.year_min):
            continue
        if flt.year_max is not None and (year is None or year > flt.year_max):
            continue
        if r.n_ratings < flt.min_ratings or r.movie_id in flt.exclude:
            continue
        out.append(int(r.movie_id))
    return out


@pytest.mark.parametrize("flt", [
    Filter(), Filter(genres=("comedy",)), Filter(genres=("Comedy", "Romance")),
    Filter(genres=("Comedy", "Romance"), genre_mode="all"), Filter(year_min=1990, year_max=1999),
    Filter(year_min=1995), Filter(year_max=1991), Filter(min_ratings=50), Filter(exclude=(1, 6)),
    Filter(genres=("Comedy",), year_min=1990, year_max=1999, min_ratings=50, exclude=(3,)),
])
def test_select_matches_the_conditions_row_by_row(facets, flt):
    sel = facets.select(flt)
    assert sel.ids.dtype == np.int64 and sel.ids.tolist() == brute(flt)
    assert sel.total == 6 and sel.matching == len(brute(flt))
    assert facets.select(flt) is sel  # computed once per filter and catalogue


def test_genre_names_match_the_catalogue_case_forgiven(facets):
    sel = facets.select(Filter(genres=("sci-fi",)))
    assert sel.filter.genres == ("Sci-Fi",) and sel.ids.tolist() == [6]


def test_unknown_genre_names_close_matches_in_one_sentence(facets):
    with pytest.raises(UnknownGenreError) as err:
        facets.select(Filter(genres=("Comdy",)))
    msg = str(err.value)
    assert "Comedy" in msg and msg.count(".") <= 2 and "\n" not in msg
    assert err.value.suggestions == ["Comedy"]
    with pytest.raises(UnknownGenreError, match="the genres are"):
        facets.select(Filter(genres=("Zzzzqqq",)))


def test_a_filter_matching_nothing_is_an_empty_selection(facets):
    sel = facets.select(Filter(min_ratings=10_000))
    assert sel.matching == 0 and sel.ids.shape == (0,) and not sel.mask(np.array([1, 2])).any()


def test_cli_and_link_text_parse_to_the_same_filter():
    cli = Filter.parse(["Comedy", "Romance"], "all", "1990:1999", "50", "50,181")
    link = Filter.parse("Comedy,Romance", "all", "1990:1999", "50", "50,181")
    assert cli == link == Filter(("Comedy", "Romance"), "all", 1990, 1999, 50, (50, 181))
    assert Filter.parse(**cli.to_params()) == cli
    assert cli.key() == Filter.parse("comedy,romance", "ALL", "1990-1999", " 50 ", "181,50").key()
    assert not Filter.parse().active and Filter.parse(min_ratings="1").active
    assert Filter.parse(exclude="7,7").exclude == (7,)  # a repeated id in a link is the same exclusion


@pytest.mark.parametrize("text,expected", [
    ("1990:1999", (1990, 1999)), ("1990-1999", (1990, 1999)), ("1995", (1995, 1995)), ("1990:", (1990, None)),
    (":1999", (None, 1999)), ("", (None, None)), (None, (None, None)),
])
def test_year_ranges(text, expected):
    assert parse_years(text) == expected


@pytest.mark.parametrize("kwargs", [
    {"year": "1999:1990"}, {"year": "nineties"}, {"year": "99999"}, {"year": "1990:1999:2000"},
    {"min_ratings": "-5"}, {"min_ratings": "many"}, {"exclude": "50,abc"}, {"exclude": "1;2"},
    {"genre_mode": "some"}, {"genre": ["x" * 100]}, {"genre": [f"g{i}" for i in range(30)]},
    {"genre": ["Com\x00edy"]},
])
def test_bad_text_is_one_named_error(kwargs):
    with pytest.raises(BadQueryError) as err:
        Filter.parse(**kwargs)
    assert "\n" not in str(err.value) and len(str(err.value)) < 300


def test_columns_follow_the_ids_asked_for(facets):
    cols = columns_for(facets, np.array([6, 1, 99], np.int64))
    assert cols.years.tolist() == [1990, 1995, 0] and cols.n_ratings.tolist() == [49, 100, 0]
    assert cols.genres == (("Sci-Fi", "Comedy"), ("Comedy", "Romance"), ())
