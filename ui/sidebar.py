"""The sidebar shown on every page: language, vector backend and data set."""

from __future__ import annotations

import streamlit as st

from engine.core.errors import MovieDNAError
from ui.plain import say
from ui.resources import available_datasets, current_dataset_name
from ui.text import t

BACKEND_LABELS = {"faiss": "FAISS", "pgvector": "pgvector", "milvus": "Milvus"}


def _backends() -> tuple[list[str], str]:
    """(backends the operator enabled, the default); a misconfigured environment stops the page."""
    from engine.vectors.contract import default_backend, enabled_backends

    try:
        return list(enabled_backends()), default_backend()
    except MovieDNAError as exc:
        say("error", exc)
        st.stop()


def choose_backend(enabled: list[str], default: str) -> None:
    """Seed the session's backend from the link's ``?backend=`` if it is enabled; a link (or an
    old session value) can never choose a backend the operator did not enable."""
    if "backend" not in st.session_state:
        wanted = str(st.query_params.get("backend") or "").strip().lower()
        if wanted and wanted not in enabled:
            st.session_state["backend_refused"] = wanted
        st.session_state["backend"] = wanted if wanted in enabled else default
    if st.session_state["backend"] not in enabled:
        st.session_state["backend"] = default


#: widgets whose option labels are translated (format_func through t())
TRANSLATED_CHOICES = ("mood_space", "explorer_colour", "taste_mode", "taste_kind", "pipeline_index")


def _keep_translated_choices() -> None:
    """Streamlit 1.67 sends a radio's choice back as its displayed label: after a language switch
    the old label matches none of the translated options and the widget would show no choice.
    Setting each value again through session state makes the rerun draw it in the new language."""
    for key in TRANSLATED_CHOICES:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def sidebar() -> None:
    """Language toggle, vector backend (only enabled ones) and data set choice, on every page."""
    with st.sidebar:
        lang = st.radio("Language / 언어", ["en", "ko"], horizontal=True, key="lang",
                        format_func=lambda x: {"en": "English", "ko": "한국어"}[x], on_change=_keep_translated_choices)
        del lang
        enabled, default = _backends()
        choose_backend(enabled, default)
        st.radio(t("backend"), enabled, key="backend", horizontal=True, help=t("backend_help"),
                 format_func=lambda b: BACKEND_LABELS.get(b, b))
        names = available_datasets()
        choice = st.selectbox(t("dataset"), names, index=names.index(current_dataset_name()), key="dataset_choice")
        if choice != st.session_state["dataset"]:
            st.session_state["dataset"] = choice
            st.query_params["ds"] = choice
            st.rerun()
    # refusals are shown once, on the page the link opened, as plain text
    refused = st.session_state.pop("backend_refused", None)
    if refused:
        say("warning", t("backend_refused", name=refused[:40], enabled=", ".join(enabled)))
    refused = st.session_state.pop("dataset_refused", None)
    if refused:
        say("warning", t("dataset_refused", name=refused[:64], default=current_dataset_name()))
