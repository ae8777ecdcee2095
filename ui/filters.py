"""The filter bar Similar movies, Mood search, Live personalization and Retrieval + ranking share.

One filter per session (``st.session_state["filter"]``, an :class:`engine.data.filters.Filter`),
seeded from the link on first use (``?genre=Comedy&genre_mode=all&year=1990:1999&min_ratings=50``,
parsed by the same :meth:`Filter.parse` as the CLI) and mirrored back into it.  Each page draws the
bar with its own widget keys (``<page>_filter_*``), so switching pages keeps the filter.  Anything in
the link that is not a valid filter is dropped with one plain-text sentence.
"""

from __future__ import annotations

import streamlit as st

from engine.data.filters import GENRE_MODES, Filter
from engine.core.errors import MovieDNAError
from ui.plain import say
from ui.resources import engine
from ui.text import t
from ui.urlstate import set_param

#: the link's parameters a filter owns (Filter.to_params keys)
URL_KEYS = ("genre", "genre_mode", "year", "min_ratings", "exclude")
RATING_STEPS = (0, 10, 20, 50, 100, 200, 500, 1000)


def _from_url() -> Filter:
    """The link's filter, checked like the CLI's flags and against the catalogue's genres; a bad part
    is refused with one sentence and left out."""
    q = st.query_params
    try:
        flt = Filter.parse(q.get_all("genre"), q.get("genre_mode"), q.get("year"), q.get("min_ratings"),
                           q.get("exclude"))
    except MovieDNAError as exc:
        say("warning", t("filter_url_refused", reason=str(exc)))
        return Filter()
    try:
        engine().facets().canonical(flt.genres)
    except MovieDNAError as exc:
        say("warning", t("filter_url_refused", reason=str(exc)))
        return Filter(genre_mode=flt.genre_mode, year_min=flt.year_min, year_max=flt.year_max,
                      min_ratings=flt.min_ratings, exclude=flt.exclude)
    return flt


def current() -> Filter:
    """The session's filter (from the link on first use)."""
    if "filter" not in st.session_state:
        st.session_state["filter"] = _from_url()
    return st.session_state["filter"]


def _save(flt: Filter) -> None:
    st.session_state["filter"] = flt
    params = flt.to_params()
    for key in URL_KEYS:
        set_param(key, params.get(key))


def _changed(page: str, years: tuple[int, int]) -> None:
    """A widget of ``page``'s bar changed: one Filter from all of them (the exclusions stay)."""
    s = st.session_state
    old = current()
    span = tuple(int(y) for y in s[f"{page}_filter_year"])
    if span == s.get(f"{page}_filter_year_drawn"):  # the slider did not move: keep the years as asked
        lo, hi = old.year_min, old.year_max     # (a link's 1990:1999 stays, though the data end in 1998)
    elif span == years:
        lo, hi = None, None
    else:
        lo, hi = span
    _save(Filter(tuple(s[f"{page}_filter_genre"]), s[f"{page}_filter_mode"], lo, hi,
                 int(s[f"{page}_filter_min_ratings"]), old.exclude))


def _clear() -> None:
    _save(Filter())


def filter_bar(page: str) -> Filter | None:
    """Draw the bar for ``page`` (its keys are ``<page>_filter_*``) and return the filter to search
    with: None when it keeps every movie."""
    flt = current()
    facets = engine().facets()
    known = [int(y) for y in facets.years if y > 0]
    years = (min(known), max(known)) if known else (1900, 2030)
    genres = [g for g in facets.canonical(flt.genres) if g in facets.genre_names]
    s = st.session_state
    s[f"{page}_filter_genre"] = genres
    s[f"{page}_filter_mode"] = flt.genre_mode
    lo = years[0] if flt.year_min is None else min(max(flt.year_min, years[0]), years[1])
    hi = years[1] if flt.year_max is None else min(max(flt.year_max, years[0]), years[1])
    s[f"{page}_filter_year"] = s[f"{page}_filter_year_drawn"] = (lo, hi) if lo <= hi else years
    steps = sorted({*RATING_STEPS, flt.min_ratings})
    s[f"{page}_filter_min_ratings"] = flt.min_ratings
    args = (page, years)
    with st.expander(t("filter_title") + (f" · {flt.describe()}" if flt.active else ""), expanded=flt.active):
        a, b, c, d = st.columns([3, 1, 2, 1.4])
        a.multiselect(t("filter_genres"), list(facets.genre_names), key=f"{page}_filter_genre",
                      on_change=_changed, args=args, placeholder=t("filter_any_genre"))
        mode_labels = {m: t(f"filter_mode_{m}") for m in GENRE_MODES}
        b.radio(t("filter_mode"), list(GENRE_MODES), key=f"{page}_filter_mode", on_change=_changed, args=args,
                format_func=mode_labels.__getitem__)
        if years[0] < years[1]:
            c.slider(t("filter_years"), years[0], years[1], key=f"{page}_filter_year", on_change=_changed, args=args)
        d.select_slider(t("filter_min_ratings"), steps, key=f"{page}_filter_min_ratings", on_change=_changed,
                        args=args)
        if flt.exclude:
            st.caption(t("filter_excluded", n=len(flt.exclude)))
        if flt.active:
            st.button(t("filter_clear"), key=f"{page}_filter_clear", on_click=_clear,
                      icon=":material/filter_alt_off:")
    if not flt.active:
        return None
    try:
        sel = engine().select(flt)
    except MovieDNAError as exc:
        say("warning", exc)
        return None
    st.caption(t("filter_matching", n=sel.matching, total=sel.total))
    return flt
