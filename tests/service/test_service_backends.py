"""The Engine serves the same searches from pgvector and Milvus as from FAISS."""

import numpy as np
import pytest

from tests.fixtures import synthetic_catalogue
from engine.service import Engine
from engine.vectors.served import store_collection

pytestmark = [pytest.mark.backend, pytest.mark.slow]


@pytest.fixture
def cache_outside_pytest_tmp(monkeypatch):
    """The embedded PostgreSQL runs as an unprivileged user: keep its data out of pytest's 0700 tmp."""
    import shutil
    import tempfile

    d = tempfile.mkdtemp(prefix="moviedna-test-")
    monkeypatch.setenv("MOVIEDNA_CACHE_DIR", d)
    monkeypatch.setenv("MOVIEDNA_BACKENDS", "faiss,pgvector,milvus")  # the operator's opt-in (servers start)
    yield d
    from engine.vectors.served import POOL

    POOL.close()
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("backend", ["pgvector", "milvus"])
def test_engine_on_a_backend_matches_faiss(cache_outside_pytest_tmp, backend):
    cat = synthetic_catalogue(n=400, d=16)
    exact = Engine("synthetic", catalogue=cat, backend="faiss")
    other = Engine("synthetic", catalogue=cat, backend=backend)
    for movie in (1, 57, 300):
        a, b = exact.similar(movie, "mf", k=10), other.similar(movie, "mf", k=10)
        assert len(set(a.ids()) & set(b.ids())) >= 9
        assert b.query.index.startswith(backend)
    recs = other.recommend([1, 2, 3], model="sasrec", k=10)
    assert not {1, 2, 3} & set(recs.ids()) and len(recs.ids()) == 10
    np.testing.assert_allclose([i.score for i in recs.items],
                               [i.score for i in exact.recommend([1, 2, 3], model="sasrec", k=10).items], atol=1e-3)


def test_collection_names_are_store_safe():
    name = store_collection("ml-100k", "mf", "ab" * 32)
    assert name == "ml_100k_mf_abababababab" and len(name) <= 40
    assert store_collection("9x", "text", "0" * 64)[0].isalpha()


@pytest.mark.parametrize("backend", ["oracle", 3, None.__class__, ""])
def test_unknown_backend_is_one_named_error_everywhere(backend):
    """The Engine and open_store reject an unknown backend with the same named error."""
    from engine.core.errors import UnknownBackendError
    from engine.vectors.contract import open_store

    with pytest.raises(UnknownBackendError, match="pgvector"):
        Engine("synthetic", catalogue=synthetic_catalogue(n=20, d=4), backend=backend)
    with pytest.raises(UnknownBackendError, match="pgvector"):
        open_store(backend)
