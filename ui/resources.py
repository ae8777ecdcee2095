"""Cached resources at the Streamlit boundary: the data set, its catalogue, the search Engine,
movie frames, UMAP projections and the agreement table, shared by every session.

``st.cache_resource`` holds objects shared by all sessions; ``st.cache_data`` holds frames and
projections.  An engine error stops the page with one clear message (:func:`_or_stop`).
"""

from __future__ import annotations

import logging
import os
import threading
import time

import streamlit as st

from engine.core.registry import SPACES
from engine.core import config
from engine.data.catalogue import Catalogue, open_catalogue
from engine.data.dataset import Dataset, cached_datasets, load_dataset
from engine.data.titles import other_title
from engine.core.errors import MovieDNAError
from ui.plain import escape, say
from ui.text import t, title_in

log = logging.getLogger("moviedna.app")

#: a data set that failed to load is not tried again for this long (per process, all sessions):
#: a broken link or an unreachable source must not start a download on every page load
LOAD_RETRY_SECONDS = 600.0


def available_datasets() -> list[str]:
    """Data sets a visitor may choose: those already in the cache and those the operator
    allows (``MOVIEDNA_DATASET``, ``MOVIEDNA_DATASETS``); only these are ever loaded for a URL."""
    settings = config.Settings.from_env()
    return sorted(set(cached_datasets()) | set(settings.datasets) | {settings.dataset})


def current_dataset_name() -> str:
    """The session's data set: the link's ``?ds=`` if it names an available data set, else the default."""
    if "dataset" not in st.session_state:
        default = config.Settings.from_env().dataset
        wanted = st.query_params.get("ds")
        if wanted and wanted != default and wanted not in available_datasets():
            st.session_state["dataset_refused"] = wanted
            wanted = None
        st.session_state["dataset"] = wanted or default
    return st.session_state["dataset"]


@st.cache_resource(show_spinner=False)
def _dataset(name: str, data_dir: str | None) -> Dataset:
    return load_dataset(name, data_dir)


@st.cache_resource(show_spinner=False)
def _load_failures() -> tuple[threading.Lock, dict[tuple[str, str | None], tuple[float, str]]]:
    """Process-wide memory of failed loads: (name, data_dir) -> (monotonic time, message)."""
    return threading.Lock(), {}


def dataset() -> Dataset:
    """The data set in use; the first load shows progress; errors stop the page with st.error.

    A failed load is remembered for :data:`LOAD_RETRY_SECONDS`, so reloading the page shows
    the same message instead of trying (downloading) again."""
    name = current_dataset_name()
    data_dir = os.environ.get("MOVIEDNA_DATA_DIR")
    lock, failures = _load_failures()
    with lock:
        failed = failures.get((name, data_dir))
    if failed is not None and time.monotonic() - failed[0] < LOAD_RETRY_SECONDS:
        say("error", failed[1])
        st.caption(t("load_failed_remembered", minutes=int(LOAD_RETRY_SECONDS // 60)))
        st.stop()
    try:
        bar = None
        if not _is_cached(name):
            bar = st.progress(0.0, text=t("loading_data", name=escape(name)))
        ds = _dataset(name, data_dir)
        if bar is not None:
            bar.empty()
        return ds
    except MovieDNAError as exc:
        with lock:
            failures[(name, data_dir)] = (time.monotonic(), str(exc))
        say("error", exc)
        st.stop()


def _is_cached(name: str) -> bool:
    return (config.cache_root() / config.validate_name(name, "data set") / "catalogue.sqlite").exists()


@st.cache_resource(show_spinner=False)
def _catalogue(name: str, content_hash: str) -> Catalogue:
    return open_catalogue(_dataset(name, os.environ.get("MOVIEDNA_DATA_DIR")))


def _or_stop(fn, *args):
    """Run fn; a MovieDNAError (corrupt catalogue, tampered vectors, …) stops the page with one clear message."""
    try:
        return fn(*args)
    except MovieDNAError as exc:
        say("error", exc)
        st.stop()


def catalogue() -> Catalogue:
    ds = dataset()
    return _or_stop(_catalogue, ds.name, ds.content_hash)


@st.cache_resource(show_spinner=False)
def _engine(name: str, content_hash: str, backend: str):
    from engine.service import Engine

    return Engine(name, catalogue=_catalogue(name, content_hash), backend=backend)


def backend() -> str:
    """The session's vector backend (the sidebar keeps it among the enabled ones; the engine
    refuses any other with BackendNotEnabledError)."""
    from engine.vectors.contract import default_backend

    return st.session_state.get("backend") or default_backend()


def engine():
    """The shared search Engine of the data set in use and the chosen vector backend
    (thread-safe, one per process and backend)."""
    ds = dataset()
    return _or_stop(_engine, ds.name, ds.content_hash, backend())


def built_models() -> list[str]:
    have = _or_stop(engine().models)
    return [m for m in SPACES if m in have]


def require_models(*models: str) -> list[str]:
    """Stop the page with a clear message (and the build path) if none of ``models`` is built."""
    have = [m for m in models if m in built_models()]
    if not have:
        st.warning(t("need_build", models=", ".join(models)))
        st.page_link("views/home.py", label=t("go_home_build"), icon=":material/build:")
        st.stop()
    return have


def show_error(exc: Exception) -> None:
    """A MovieDNAError as one clear message (warning for bad input, error otherwise)."""
    from engine.core.errors import BadQueryError, UnknownMovieError

    if isinstance(exc, (BadQueryError, UnknownMovieError)):
        say("warning", exc)
        sugg = getattr(exc, "suggestions", None)
        if sugg:
            say("caption", t("did_you_mean") + " " + " · ".join(map(str, sugg)))
    else:
        say("error", exc)


@st.cache_data(show_spinner=False, max_entries=16)
def movie_frame(name: str, content_hash: str, version: str = "", lang: str = "en"):
    """Movies with a display label 'Title (year)', the title in ``lang`` where the catalogue has two
    (a DataFrame; cached per data set, language and state of its movies table, ``version``, which a
    movie added or removed changes)."""
    df = _catalogue(name, content_hash).movies()
    years = df["year"].astype("string").fillna("?")
    titles = [title_in(lang, str(a), other_title(str(a), str(b))) for a, b in zip(df["title"], df["original_title"])]
    df["label"] = [f"{title} ({year})" for title, year in zip(titles, years)]
    return df.sort_values("n_ratings", ascending=False).reset_index(drop=True)


def movies():
    ds = dataset()
    return movie_frame(ds.name, ds.content_hash, _or_stop(engine().catalogue_version), st.session_state.get("lang", "en"))


@st.cache_data(show_spinner=False, max_entries=16)
def _projection(name: str, data_hash: str, model: str, vectors_hash: str):
    from engine.lab.projection import project

    vs = _catalogue(name, data_hash).get_vectors(model)
    coords = project(vs.vectors, vs.content_hash, config.dataset_cache_dir(name) / "projections")
    return vs.movie_ids, coords


def projection(model: str):
    """(movie_ids int64 (n,), coords float32 (n, 2)) of a model's UMAP map, cached on disk and in memory."""
    from engine.lab.projection import cache_file, ProjectionConfig

    ds = dataset()
    info = {v["model"]: v for v in engine().catalogue.vector_info()}[model]
    path = cache_file(config.dataset_cache_dir(ds.name) / "projections", info["content_hash"], ProjectionConfig())
    if path.exists():
        return _or_stop(_projection, ds.name, ds.content_hash, model, info["content_hash"])
    with st.status(t("umap_running", model=model.upper()), expanded=True) as status:
        st.write(t("umap_first"))
        out = _or_stop(_projection, ds.name, ds.content_hash, model, info["content_hash"])
        status.update(label=t("umap_done", model=model.upper()), state="complete", expanded=False)
    return out


@st.cache_data(show_spinner=False, max_entries=8)
def _agreement(name: str, data_hash: str, models: tuple[str, ...], hashes: tuple[str, ...], k: int):
    import pandas as pd

    from engine.lab.projection import agreement_rows

    cat = _catalogue(name, data_hash)
    sets = {m: cat.get_vectors(m) for m in models}
    return pd.DataFrame(agreement_rows({m: (vs.movie_ids, vs.vectors) for m, vs in sets.items()}, k))


def agreement_table(models: tuple[str, ...], k: int = 10):
    """Per pair of spaces: how many of a movie's k nearest neighbours the two spaces share."""
    ds = dataset()
    info = {v["model"]: v["content_hash"] for v in engine().catalogue.vector_info()}
    return _or_stop(_agreement, ds.name, ds.content_hash, models, tuple(info[m] for m in models), k)


