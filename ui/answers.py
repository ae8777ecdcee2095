"""View-models of the engine's answers: the tables the pages draw and their notes, in the session's
language.  Pages call these instead of reaching into results."""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import pandas as pd
import streamlit as st

from engine.core.notes import Note
from engine.recsys.beyond import genre_share, shared_genres
from engine.service.results import Hit, Hits
from ui.text import note_text, t
from ui.text import shown_title as in_language


def show_notes(notes: Iterable[Note], skip: Iterable[str] = ()) -> None:
    """Every note as a caption in the session's language (codes in ``skip`` are shown elsewhere);
    the SQL a store ran is shown as code (never Markdown)."""
    skipped = set(skip)
    for n in notes:
        if n.code == "filter_sql" and n.code not in skipped:
            st.caption(t("filter_sql_ran"))
            st.code(str(n.params["sql"]), language="sql", wrap_lines=True)
        elif n.code not in skipped:
            st.caption(note_text(n))


def timing_caption(hits: Hits) -> str:
    return t("timing", parts=" · ".join(f"{n} {v:.1f} ms" for n, v in hits.timings_ms.items()))


def shown_title(h: Hit, hits: Hits) -> str:
    """A hit's title in the UI language, labelled "cold start" where its vector in the answer's space is
    predicted from text (a movie added by hand that nobody rated yet).  Tables show cells as plain text."""
    space = hits.query.model or hits.query.space
    title = in_language(h.title, h.other_title)  # the UI language's title where the catalogue has two
    return f"{title} · {t('cold_start_label')}" if space in h.cold_start else title


def similar_frame(hits: Hits, shared: set[int], ratings: Mapping[int, int] | None = None) -> pd.DataFrame:
    """One space's neighbours: title, score, year, genres, whether another space has it too and, given
    ``ratings`` (movie id -> ratings, for a collaborative space), how many ratings stand behind each."""
    return pd.DataFrame([{
        t("col_title"): shown_title(h, hits), t("col_score"): round(h.score, 3), t("col_year"): h.year,
        t("col_genres"): ", ".join(h.genres),
        **({t("support_col"): int(ratings.get(h.movie_id, 0))} if ratings is not None else {}),
        "_shared": h.movie_id in shared,
    } for h in hits.items])


def live_genre_share(hits: Hits, clicked_genres: Sequence[Sequence[str]]) -> tuple[frozenset[str], float | None]:
    """The genres the last three clicks share and their share in ``hits`` (None when they share none)."""
    shared = shared_genres(clicked_genres[-3:]) if len(clicked_genres) >= 3 else frozenset()
    return shared, genre_share([h.genres for h in hits.items], shared)


def shared_ids(spaces: Mapping[str, Hits]) -> set[int]:
    """Movies that more than one space's list holds."""
    seen: dict[int, int] = {}
    for hits in spaces.values():
        for mid in hits.ids():
            seen[mid] = seen.get(mid, 0) + 1
    return {m for m, c in seen.items() if c > 1}


def search_frame(hits: Hits) -> pd.DataFrame:
    """A search answer: title, year, genres, score and, for hybrid, the rank in each fused list."""
    fusion = hits.query.fusion
    rows = []
    for h in hits.items:
        row = {t("col_title"): in_language(h.title, h.other_title), t("col_year"): h.year, t("col_genres"): ", ".join(h.genres),
               t("col_score"): round(h.score, 3)}
        if fusion is not None and h.ranks is not None:
            names = " · ".join(m if m != "bm25" else "BM25" for m in fusion.lists)
            row[t("col_ranks_lists", lists=names)] = " · ".join(
                "–" if h.ranks.get(m) is None else str(h.ranks[m]) for m in fusion.lists)
        rows.append(row)
    return pd.DataFrame(rows)


def recommendations_frame(hits: Hits) -> pd.DataFrame:
    """Live personalization's list: title (year), score, the click that explains it; with two
    stages also each movie's move from stage 1 to stage 2."""
    frame = pd.DataFrame([{t("col_title"): f"{shown_title(h, hits)} ({h.year or '?'})", t("col_score"): round(h.score, 3),
                           t("col_because"): h.because_title or ""} for h in hits.items])
    if hits.kind == "two_stage":
        frame.insert(0, t("col_move"), [f"{h.rank_before}→{h.rank_after}" for h in hits.items])
    return frame


def reranked_frame(hits: Hits, labels: Mapping[int, str]) -> pd.DataFrame:
    """Retrieval + ranking's table: rank after, before, the move, title, both scores, the explaining click."""
    return pd.DataFrame([{
        t("col_after"): h.rank_after, t("col_before"): h.rank_before,
        t("col_move"): (h.rank_before or 0) - (h.rank_after or 0), t("col_title"): labels.get(h.movie_id, in_language(h.title, h.other_title)),
        t("col_retrieval_score"): round(h.retrieval_score or 0.0, 3), t("col_rerank_score"): round(h.rerank_score or 0.0, 3),
        t("col_because"): h.because_title or "",
    } for h in hits.items])
