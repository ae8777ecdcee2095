"""The measured figures at the Streamlit boundary: the verified evaluation, cached by its hash, and
the Home table's view-model.

The engine reads and verifies (:mod:`engine.recsys.evaluation`, cache-free); this module keeps the
verified :class:`~engine.recsys.evaluation.Evaluation` in ``st.cache_resource`` keyed by
:func:`~engine.recsys.evaluation.evaluation_key` (the stored record's and the published file's
digests), so a rerun does not re-parse or re-verify it.  :func:`home_evaluation` builds everything
the Home page draws (translated labels, escaped file text) in one call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import streamlit as st

from engine.recsys.evaluation import (Evaluation, EvaluationRow, current_evaluation, evaluation_key, evaluation_rows,
                                     protocol_swaps)
from engine.recsys.figures import DEFAULT_CANDIDATES, BeyondFigures, Machine, PageFigures
from engine.core.registry import label
from ui.plain import escape
from ui.text import t

#: the space and ranker the plain-words sentence (``eval_plain``) speaks of
PLAIN_SPACE, PLAIN_RANKER = "mf", "sasrec"


@st.cache_resource(show_spinner=False, max_entries=16)
def _verified(dataset: str, data_hash: str | None, key: str, _catalogue: Any) -> Evaluation | None:
    """The verified evaluation for (data set, data hash, digest of what it is read from); frozen, shared."""
    return current_evaluation(_catalogue, dataset, data_hash)


def current(engine: Any) -> Evaluation | None:
    """What the pages show for ``engine``'s data set (stored, else published, verified), cached by hash."""
    cat = engine.catalogue
    return _verified(engine.dataset, cat.meta().get("data_hash"), evaluation_key(cat, engine.dataset), cat)


def measured(engine: Any) -> PageFigures | None:
    """What the pages do, as measured (None before an evaluation with stages), cached like :func:`current`."""
    ev = current(engine)
    return ev.figures if ev is not None else None


def beyond(engine: Any) -> "BeyondFigures | None":
    """What the lists look like beyond accuracy and what the controls cost, as measured (None before
    an evaluation that measured it), cached like :func:`current`."""
    ev = current(engine)
    return ev.beyond if ev is not None else None


def source_line(source: str | None, created: float | None, machine: Machine) -> str:
    """One sentence saying where figures were measured (local / published, date, cores and CPU,
    the file's text escaped)."""
    when = time.strftime("%Y-%m-%d", time.gmtime(created)) if created is not None else "?"
    where = escape(f"{machine.cpus or '?'} cores, {machine.cpu or '?'}") if (machine.cpus or machine.cpu) else "?"
    return t("measured_local" if source == "local" else "measured_published", when=when, where=where)


def measured_source(measured: PageFigures | Evaluation) -> str:
    """:func:`source_line` of a measurement (the figures or the whole evaluation)."""
    return source_line(measured.source, measured.created, measured.machine)


@dataclass(frozen=True)
class HomeEvaluation:
    """The Home evaluation block: ``columns`` and ``rows`` (cells: str label, then float or None)
    of the table, the split ``caption``, the ``source`` sentence and the ``plain`` sentence (None
    when its three figures were not all measured); ``beyond``: how concentrated on popular movies the
    lists are, in one sentence (None before that was measured); ``protocols``: whether sampled and
    full ranking order the models alike."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    caption: str
    source: str
    plain: str | None
    beyond: str | None = None
    protocols: str | None = None

    def frame(self):
        import pandas as pd

        return pd.DataFrame(list(self.rows), columns=list(self.columns))


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _row_label(r: EvaluationRow) -> str:
    if r.kind == "model":
        return r.label or r.name
    if r.kind == "reference":
        return t("eval_row_reference", name=r.name) + (f" ({r.label})" if r.label else "")
    if r.ranker is None:
        return t("eval_row_taste", space=label(r.name), page=t("page_personal"))
    return t("eval_row_two_stage", space=label(r.name), n=r.candidates, ranker=label(r.ranker), page=t("page_pipeline"))


def home_evaluation(ev: Evaluation | None) -> HomeEvaluation | None:
    """The view-model of the Home evaluation block (None: nothing measured to show)."""
    if ev is None:
        return None
    k, n = ev.protocol.k, ev.protocol.negatives
    b = ev.beyond
    columns = (t("eval_col_model"), t("eval_col_sampled_hr", k=k, n=n), t("eval_col_sampled_ndcg", k=k, n=n),
               t("eval_col_full_hr", k=k), t("eval_col_full_ndcg", k=k), t("eval_col_train_s"))
    if b is not None:
        columns += (t("eval_col_coverage", k=k), t("eval_col_novelty"),
                    t("eval_col_ild", space=label(b.content_space) if b.content_space else "-"),
                    t("eval_col_ild_genre"), t("eval_col_pop", share=f"{b.head_share:.0%}"))

    def lists(r: EvaluationRow) -> tuple[Any, ...]:
        if b is None:
            return ()
        x = r.lists
        return ((None,) * 5 if x is None else
                (_round(x.coverage), _round(x.novelty), _round(x.ild), _round(x.ild_genre), _round(x.popularity_share)))

    rows = tuple((_row_label(r), _round(r.sampled.hr if r.sampled else None),
                  _round(r.sampled.ndcg if r.sampled else None), _round(r.full.hr), _round(r.full.ndcg),
                  _round(r.train_seconds)) + lists(r) for r in evaluation_rows(ev))
    caption = t("eval_split", users=ev.split.users, items=ev.split.items, interactions=ev.split.interactions)
    fig = ev.figures
    plain = None
    if fig is not None:
        taste, native = fig.taste_cell(PLAIN_SPACE), fig.native_cell(PLAIN_SPACE)
        two = fig.point(PLAIN_SPACE, PLAIN_RANKER, DEFAULT_CANDIDATES)
        if taste and native and two:
            plain = t("eval_plain", taste=taste.hr, native=native.hr, two=two.hr)
    beyond = None
    if b is not None:
        pop, mf, text = b.models.get("popularity"), b.models.get(PLAIN_SPACE), b.taste_lists(b.content_space or "")
        if pop and mf and text:
            beyond = t("eval_beyond_plain", share=f"{b.head_share:.0%}", pop=pop.popularity_share,
                       mf=mf.popularity_share, text=text.popularity_share, cov_mf=mf.coverage, cov_text=text.coverage)
    swaps = protocol_swaps(ev)
    protocols = (t("eval_protocols_swap", n=n, k=k, pairs=", ".join(f"{label(a)} / {label(c)}" for a, c in swaps))
                 if swaps else t("eval_protocols_agree", n=n, k=k, m=len(ev.models)))
    return HomeEvaluation(columns, rows, caption, measured_source(ev), plain, beyond, protocols)
