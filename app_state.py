"""The Streamlit boundary: cached engine objects, shared session state, UI text.

Only this module and the pages import streamlit.  ``st.cache_resource`` holds objects
shared by every session (data set, catalogue, search engine); ``st.cache_data`` holds
frames and projections.  Per-user state (current movie, clicks, language) lives in
``st.session_state`` and is mirrored into the URL query parameters so a state can be
shared as a link.
"""

from __future__ import annotations

import logging
import os

import streamlit as st

from engine import config
from engine.catalogue import Catalogue, open_catalogue
from engine.data import Dataset, cached_datasets, load_dataset
from engine.errors import MovieDNAError
from ui_text import TEXT

log = logging.getLogger("moviedna.app")


def t(key: str, **fmt) -> str:
    """UI text in the chosen language (English or Korean)."""
    lang = st.session_state.get("lang", "en")
    entry = TEXT.get(key, {})
    text = entry.get(lang) or entry.get("en") or key
    return text.format(**fmt) if fmt else text


def current_dataset_name() -> str:
    if "dataset" not in st.session_state:
        st.session_state["dataset"] = st.query_params.get("ds") or config.Settings.from_env().dataset
    return st.session_state["dataset"]


def available_datasets() -> list[str]:
    names = set(cached_datasets()) | {config.DEFAULT_DATASET, current_dataset_name()}
    return sorted(names)


@st.cache_resource(show_spinner=False)
def _dataset(name: str, data_dir: str | None) -> Dataset:
    return load_dataset(name, data_dir)


def dataset() -> Dataset:
    """The data set in use; the first load shows progress; errors stop the page with st.error."""
    name = current_dataset_name()
    data_dir = os.environ.get("MOVIEDNA_DATA_DIR")
    try:
        bar = None
        if not _is_cached(name):
            bar = st.progress(0.0, text=t("loading_data", name=name))
        ds = _dataset(name, data_dir)
        if bar is not None:
            bar.empty()
        return ds
    except MovieDNAError as exc:
        st.error(str(exc))
        st.stop()


def _is_cached(name: str) -> bool:
    return (config.cache_root() / name / "catalogue.sqlite").exists()


@st.cache_resource(show_spinner=False)
def _catalogue(name: str, content_hash: str) -> Catalogue:
    return open_catalogue(_dataset(name, os.environ.get("MOVIEDNA_DATA_DIR")))


def catalogue() -> Catalogue:
    ds = dataset()
    return _catalogue(ds.name, ds.content_hash)


def sidebar() -> None:
    """Language toggle and data set choice, shown on every page."""
    with st.sidebar:
        lang = st.radio("Language / 언어", ["en", "ko"], horizontal=True, key="lang",
                        format_func=lambda x: {"en": "English", "ko": "한국어"}[x])
        del lang
        names = available_datasets()
        choice = st.selectbox(t("dataset"), names, index=names.index(current_dataset_name()), key="dataset_choice")
        if choice != st.session_state["dataset"]:
            st.session_state["dataset"] = choice
            st.query_params["ds"] = choice
            st.rerun()
