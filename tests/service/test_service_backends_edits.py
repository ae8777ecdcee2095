"""A movie added or removed through the Engine is found (or gone) at once on pgvector and Milvus, as on FAISS."""

import numpy as np
import pytest

from engine.service import Engine
from tests.fixtures import synthetic_catalogue
from tests.service.test_service_backends import cache_outside_pytest_tmp  # noqa: F401  (fixture)
from tests.service.test_service_edits import SPACES, brute_force, fake_encoder

pytestmark = [pytest.mark.backend, pytest.mark.slow]


@pytest.mark.parametrize("backend", ["pgvector", "milvus"])
def test_add_then_remove_on_a_backend(cache_outside_pytest_tmp, backend):  # noqa: F811
    cat = synthetic_catalogue(n=300, d=16, models=SPACES)
    eng = Engine("synthetic", catalogue=cat, backend=backend, encoder=fake_encoder)
    for m in SPACES:
        eng.similar(1, m, k=5, index="exact")  # collections loaded before the edit: updated in place
    collections = {k: v.collection for k, v in eng._store_indexes.items()}
    done = eng.add_movie("Quokka Harbor", 2022, "Comedy|Drama", overview="Quokkas run a harbour.")
    assert done.indexes_updated == len(SPACES)
    # the same collections, edited in place (no reload under the new hash's name)
    assert sorted(v.collection for v in eng._store_indexes.values()) == sorted(collections.values())
    for m in SPACES:
        hits = eng.similar(done.movie_id, m, k=10, index="exact")
        assert hits.ids() == brute_force(eng, m, done.movie_id, 10), m
        sp = eng.space(m)
        _, ids = eng.search_index(sp, "exact").search(sp.unit[sp.row[done.movie_id]], 1)
        assert ids[0, 0] == done.movie_id, m
    eng.remove_movie(done.movie_id)
    eng.remove_movie(7)
    for m in SPACES:
        ids = eng.similar(1, m, k=300, index="exact").ids()
        assert done.movie_id not in ids and 7 not in ids and len(ids) == 298, m
        assert ids[:10] == brute_force(eng, m, 1, 10)
        idx = eng.search_index(eng.space(m), "exact")
        assert idx.store.count(idx.collection) == 299
