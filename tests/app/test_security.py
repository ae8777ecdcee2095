"""Hostile links and clicks: no server started, no download, no Markdown from a visitor, no traceback.

A small CSV data set with random vectors for every space (fast); the pages run through app.py
as a visitor opening a link would.  Each test names the finding it pins down.
"""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP

_MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_BARE_URL = re.compile(r"(?<!\\)(?:https?|ftp)(?<!\\):(?!\\)//|(?i:\bwww\.)")  # GFM autolinks these


@pytest.fixture
def app_env(tiny_catalogue, isolated_cache):
    """The tiny catalogue (tests/app/conftest.py); the cache it lives in."""
    return isolated_cache

@pytest.fixture
def no_servers(monkeypatch):
    """Record (and refuse) every attempt to start an embedded PostgreSQL or open Milvus."""
    from engine.core.errors import BackendError
    from engine.vectors import _embedded_pg

    calls: list[str] = []

    def refuse(what):
        def _fn(*args, **kwargs):
            calls.append(what)
            raise BackendError(f"test: {what} must not be started")
        return _fn

    monkeypatch.setattr(_embedded_pg, "acquire", refuse("postgres"))
    try:
        from engine.vectors import milvus
    except ImportError:
        pass
    else:
        monkeypatch.setattr(milvus, "_acquire_client", refuse("milvus"))
    return calls


@pytest.fixture
def no_downloads(monkeypatch):
    """Record every download attempt; each fails as an unreachable source would."""
    from engine.data import sources
    from engine.core.errors import SourceUnavailableError

    calls: list[str] = []

    def fail(label):
        def _fn(s, raw_dir, progress=None):
            calls.append(f"{label}:{s.name}")
            raise SourceUnavailableError(f"test: no network for {s.name}")
        return _fn

    monkeypatch.setattr(sources, "fetch_grouplens", fail("grouplens"))
    monkeypatch.setattr(sources, "fetch_wheel", fail("wheel"))
    return calls


def open_link(page: str | None, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    # the link's first run (AppTest always starts on the default page) shows refusals once
    at.session_state["_first_warnings"] = [w.value for w in at.warning]
    if page:
        at.switch_page(f"views/{page}.py").run()
    return at


def rendered_texts(at: AppTest) -> list[str]:
    """Bodies of every element Streamlit renders as Markdown (alerts, captions, markdown, titles)."""
    out = []
    for kind in ("error", "warning", "info", "success", "caption", "markdown", "title", "header", "subheader"):
        out += [str(el.value) for el in getattr(at, kind)]
    return out


def assert_plain(at: AppTest, payload_words: str) -> None:
    """No element renders a link, an image, raw HTML or LaTeX, and the visitor's words are still shown."""
    bodies = rendered_texts(at)
    for body in bodies:
        html = _MD.render(body)
        assert "<a " not in html and "<img" not in html and "<script" not in html, (body, html)
        assert not _BARE_URL.search(body), body
        assert not re.search(r"(?<!\\)\$", body), body  # unescaped $ starts LaTeX in Streamlit
    assert any(payload_words in _MD.render(b) for b in bodies), bodies


# --- 2. a URL starts a database server ------------------------------------------------------
@pytest.mark.parametrize("backend", ["pgvector", "milvus"])
def test_a_link_cannot_start_a_database_server(app_env, no_servers, backend):
    at = open_link("similar", backend=backend, movie="4")
    assert not at.exception, [e.value for e in at.exception]
    assert no_servers == []
    assert at.session_state["backend"] == "faiss"
    assert at.radio(key="backend").options == ["FAISS"]  # the sidebar lists only enabled backends
    assert any("not enabled" in w for w in at.session_state["_first_warnings"])
    assert not (app_env / "pgdata").exists() and not (app_env / "milvus.db").exists()


def test_an_old_session_value_cannot_choose_a_disabled_backend(app_env, no_servers):
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["backend"] = "pgvector"
    at.run()
    at.switch_page("views/similar.py").run()
    assert not at.exception and no_servers == [] and at.session_state["backend"] == "faiss"


def test_the_operator_enables_a_backend_for_the_sidebar(app_env, no_servers, monkeypatch):
    monkeypatch.setenv("MOVIEDNA_BACKENDS", "faiss,milvus")
    at = open_link(None)
    assert at.radio(key="backend").options == ["FAISS", "Milvus"]


# --- 2. a URL makes the server download -----------------------------------------------------
def test_a_link_cannot_start_a_download(app_env, no_downloads):
    at = open_link(None, ds="ml-32m")
    assert not at.exception
    assert no_downloads == []
    assert at.session_state["dataset"] == "ml-25m"
    assert any("ml-32m" in w and "not available" in w for w in at.session_state["_first_warnings"])


def test_a_failed_load_is_remembered_not_retried_per_page_load(monkeypatch, isolated_cache, no_downloads):
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setenv("MOVIEDNA_DATASET", "ml-1m")  # the operator's choice, not in the cache
    for _ in range(3):
        at = open_link(None)
        assert not at.exception and at.error
    assert no_downloads == ["grouplens:ml-1m"]


# --- 2. Markdown injection ------------------------------------------------------------------
@pytest.mark.parametrize("movie, words", [
    ("[Log in again](https://evil.example/a)", "Log in again"),
    ("![x](http://127.0.0.1:9/p.png)", "127.0.0.1"),
    ("<img src=http://127.0.0.1:9/q.png>", "127.0.0.1"),
    ("$\\href{https://evil.example}{x}$ see www.evil.example", "evil.example"),
])
def test_link_text_is_shown_as_plain_text(app_env, movie, words):
    at = open_link("similar", movie=movie)
    assert not at.exception
    assert_plain(at, words)


def test_a_data_set_name_in_a_link_is_plain_text(app_env, no_downloads):
    at = open_link(None, ds="[Download the fix](https://evil.example/fix.exe)")
    assert not at.exception and no_downloads == []
    assert_plain(at, "Download the fix")


def test_a_failed_load_message_is_plain_text(monkeypatch, isolated_cache, tmp_path):
    """Engine messages echo paths and names: an error from a data dir named like a link stays text."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    evil = tmp_path / "[Log in again](https:"
    evil.mkdir()
    monkeypatch.setenv("MOVIEDNA_DATASET", "ml-1m")
    monkeypatch.setenv("MOVIEDNA_DATA_DIR", str(evil))
    monkeypatch.setenv("MOVIEDNA_OFFLINE", "1")
    at = open_link(None)
    assert not at.exception and at.error
    assert_plain(at, "Log in again")


# --- 3. digits that int() rejects -----------------------------------------------------------
@pytest.mark.parametrize("movie", ["²", "①", "٣", "9" * 4301, "-1", "1e3", " 4 "])
def test_strange_movie_ids_in_a_link(app_env, movie):
    at = open_link("similar", movie=movie)
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("param, raw, expected", [
    ("clicks", "4,²,2", [4, 2]), ("dislikes", "①,3", [3]), ("clicks", "9" * 4301 + ",1", [1]),
    ("clicks", "1,1,x,,-2, 3 ", [1, 3]),
])
def test_param_ids_keeps_only_ascii_ids(param, raw, expected):
    def script():
        import streamlit as st

        from ui.urlstate import param_ids

        st.session_state["got"] = param_ids(st.session_state["param"])

    at = AppTest.from_function(script)
    at.session_state["param"] = param
    at.query_params[param] = raw
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["got"] == expected


# --- 2. anonymous CPU in the Scale lab ------------------------------------------------------
def test_scale_live_run_is_bounded_and_one_at_a_time(app_env):
    from engine.lab import scale

    at = open_link("scale")
    assert not at.exception
    sizes = at.select_slider(key="scale_live_n").options
    assert max(int(str(s).replace(",", "")) for s in sizes) <= 40_000
    assert scale._LIVE_LOCK.acquire(blocking=False)  # another visitor's run holds the server
    try:
        at.button(key="scale_live_go").click().run()
    finally:
        scale._LIVE_LOCK.release()
    assert not at.exception and not at.error
    assert any("try again" in w.value for w in at.warning)


def test_scale_compares_only_enabled_backends(app_env, no_servers):
    at = open_link("scale")
    at.selectbox(key="scale_backend_model").set_value("mf").run()
    at.button(key="scale_backends_go").click().run()
    assert not at.exception and no_servers == []
    rows = at.session_state["scale_backend_rows"]
    assert [(r["backend"], r["status"]) for r in rows] == [("faiss", "ok")]
