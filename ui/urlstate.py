"""Per-user page state mirrored into the URL query parameters, so a state can be shared as a link."""

from __future__ import annotations

import re

import streamlit as st

from ui.plain import say
from ui.resources import movies
from ui.text import t

# ASCII digits only (str.isdigit() also accepts "²" and "①", which int() rejects), and at most
# 18 of them: every int64 movie id fits, and int() never meets Python's 4,300-digit limit.
_ID = re.compile(r"[0-9]{1,18}")
MAX_URL_IDS = 200  # a link carries a taste, not a data set


def parse_id(raw: object) -> int | None:
    """A movie id from URL text, or None when the text is not one."""
    text = str(raw).strip()
    return int(text) if _ID.fullmatch(text) else None


def param_ids(name: str) -> list[int]:
    """The comma-separated movie ids in query parameter ``name`` (unique, in order); anything
    that is not an id is dropped."""
    raw = st.query_params.get(name, "")
    out = [i for i in (parse_id(part) for part in str(raw).split(",")[:MAX_URL_IDS]) if i is not None]
    return list(dict.fromkeys(out))


def set_param(name: str, value) -> None:
    if value in (None, "", []):
        if name in st.query_params:
            del st.query_params[name]
    elif isinstance(value, (list, tuple)):
        st.query_params[name] = ",".join(str(v) for v in value)
    else:
        st.query_params[name] = str(value)


def _ids_from_url(name: str) -> list[int]:
    """Session list ``name`` (clicks or dislikes), seeded from the URL on first use; ids the data set
    does not have are kept aside for :func:`warn_unknown_ids` instead of vanishing silently."""
    if name not in st.session_state:
        known = set(movies()["movie_id"].tolist())
        asked = param_ids(name)
        st.session_state[name] = [m for m in asked if m in known]
        dropped = [m for m in asked if m not in known]
        if dropped:
            st.session_state.setdefault("url_unknown_ids", {})[name] = dropped
    return st.session_state[name]


def clicks() -> list[int]:
    """The user's clicked movie ids (oldest first), seeded from the URL on first use."""
    return _ids_from_url("clicks")


def dislikes() -> list[int]:
    """The user's "less like this" movie ids, seeded from the URL on first use."""
    return _ids_from_url("dislikes")


def warn_unknown_ids() -> None:
    """One warning, once, when a link named movies this data set does not have."""
    for name, ids in st.session_state.pop("url_unknown_ids", {}).items():
        shown = ", ".join(map(str, ids[:10])) + (" …" if len(ids) > 10 else "")
        say("warning", t("url_unknown_ids", what=t(f"url_{name}"), ids=shown))


def save_taste() -> None:
    set_param("clicks", st.session_state.get("clicks", []))
    set_param("dislikes", st.session_state.get("dislikes", []))
