"""The sidebar shown on every page: language, vector backend and data set."""

from __future__ import annotations

import streamlit as st

from ui.resources import available_datasets, current_dataset_name
from ui.text import t


def sidebar() -> None:
    """Language toggle and data set choice, shown on every page."""
    with st.sidebar:
        lang = st.radio("Language / 언어", ["en", "ko"], horizontal=True, key="lang",
                        format_func=lambda x: {"en": "English", "ko": "한국어"}[x])
        del lang
        from engine.vectors.contract import BACKENDS, default_backend

        if "backend" not in st.session_state:
            st.session_state["backend"] = st.query_params.get("backend") or default_backend()
        st.radio(t("backend"), list(BACKENDS), key="backend", horizontal=True, help=t("backend_help"),
                 format_func=lambda b: {"faiss": "FAISS", "pgvector": "pgvector", "milvus": "Milvus"}[b])
        names = available_datasets()
        choice = st.selectbox(t("dataset"), names, index=names.index(current_dataset_name()), key="dataset_choice")
        if choice != st.session_state["dataset"]:
            st.session_state["dataset"] = choice
            st.query_params["ds"] = choice
            st.rerun()
