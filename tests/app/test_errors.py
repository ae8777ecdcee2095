"""Broken state shows one clear message on the page, never a traceback."""

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP


@pytest.fixture
def env(tiny_catalogue):
    """The tiny catalogue's path (tests/app/conftest.py)."""
    return tiny_catalogue

def run(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(f"views/{page}.py").run()
    return at


def test_tampered_vectors_are_named_with_the_rebuild_command(env):
    con = sqlite3.connect(env)
    con.execute('UPDATE "vec_mf" SET vectors = ?', (np.zeros((5, 8), np.float32).tobytes(),))
    con.commit()
    con.close()
    at = run("similar")
    assert not at.exception
    assert any("engine build --models mf" in e.value for e in at.error)


def test_unbuilt_spaces_point_to_the_build(env):
    from engine.data.catalogue import Catalogue

    Catalogue(env).delete_vectors("text")
    at = run("mood")
    assert not at.exception
    assert any("Build them" in w.value for w in at.warning)


def test_corrupt_catalogue_file(env):
    env.write_bytes(b"\0garbage" * 1000)
    for suffix in ("-wal", "-shm"):
        Path(str(env) + suffix).unlink(missing_ok=True)
    at = run("similar")
    assert not at.exception
    assert at.error


def test_home_names_models_an_older_version_built(env):
    """Weights from an older MovieDNA no longer load: Home says which and offers to build them again
    (before: 'Every space is built', then an error on Retrieval + ranking)."""
    import dataclasses

    from engine.data.catalogue import Catalogue
    from engine.models import model_class

    fields = {f.name: 0 for f in dataclasses.fields(model_class("sasrec").Config)}
    cat = Catalogue(env)
    cat.put_json("build:sasrec", {"config": fields | {"a_field_of_the_past": 1}})
    cat.close()
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert any("SASREC: built by an older version of MovieDNA" in w.value for w in at.warning)
    assert at.button(key="home_rebuild").label == "Build again"
    assert not any("Every space is built" in s.value for s in at.success)
