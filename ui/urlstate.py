"""Per-user page state mirrored into the URL query parameters, so a state can be shared as a link."""

from __future__ import annotations

import streamlit as st

from ui.resources import movies


def param_ids(name: str) -> list[int]:
    raw = st.query_params.get(name, "")
    out = []
    for part in str(raw).split(","):
        part = part.strip()
        if part.isdigit():
            out.append(int(part))
    return list(dict.fromkeys(out))


def set_param(name: str, value) -> None:
    if value in (None, "", []):
        if name in st.query_params:
            del st.query_params[name]
    elif isinstance(value, (list, tuple)):
        st.query_params[name] = ",".join(str(v) for v in value)
    else:
        st.query_params[name] = str(value)


def clicks() -> list[int]:
    """The user's clicked movie ids (oldest first), seeded from the URL on first use."""
    if "clicks" not in st.session_state:
        known = set(movies()["movie_id"].tolist())
        st.session_state["clicks"] = [m for m in param_ids("clicks") if m in known]
    return st.session_state["clicks"]


def dislikes() -> list[int]:
    if "dislikes" not in st.session_state:
        known = set(movies()["movie_id"].tolist())
        st.session_state["dislikes"] = [m for m in param_ids("dislikes") if m in known]
    return st.session_state["dislikes"]


def save_taste() -> None:
    set_param("clicks", st.session_state.get("clicks", []))
    set_param("dislikes", st.session_state.get("dislikes", []))
