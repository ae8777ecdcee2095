"""FAISS's OpenMP thread count is per calling thread, and a search leaves it as it found it.

FaissIndex.search runs small batches on one OpenMP thread.  That is only acceptable because
(1) faiss.omp_set_num_threads changes the calling thread's setting, not other threads' (FAISS
ships its own libgomp, separate from torch's), and (2) search restores the caller's value, so a
build later on the same thread (HNSW add, torch training) is not left on one thread.
"""

from __future__ import annotations

import threading

import faiss
import numpy as np
import pytest

from engine.vectors.faiss_index import FaissIndex, IndexConfig

pytestmark = pytest.mark.skipif(faiss.omp_get_max_threads() < 2, reason="needs 2+ OpenMP threads to tell apart")


def _in_thread(fn):
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("v", fn()))
    t.start()
    t.join()
    return out["v"]


@pytest.fixture
def index():
    x = np.random.default_rng(0).normal(size=(200, 8)).astype(np.float32)
    return FaissIndex.build(np.arange(200), x, IndexConfig("exact"), check_recall=False), x


def test_omp_setting_is_per_thread():
    full = faiss.omp_get_max_threads()

    def set_one():
        faiss.omp_set_num_threads(1)
        return faiss.omp_get_max_threads()

    assert _in_thread(set_one) == 1
    assert faiss.omp_get_max_threads() == full          # this thread did not see the other's change


def test_single_query_search_restores_the_callers_thread_count(index):
    idx, x = index
    n = faiss.omp_get_max_threads()

    def search_then_read():
        faiss.omp_set_num_threads(n)
        idx.search(x[:1], 5)                             # runs on one thread internally
        return faiss.omp_get_max_threads()

    assert _in_thread(search_then_read) == n
    idx.search(x[:1], 5)
    assert faiss.omp_get_max_threads() == n


def test_faiss_search_does_not_touch_torch_threads(index):
    torch = pytest.importorskip("torch")
    idx, x = index
    before = torch.get_num_threads()
    idx.search(x[:1], 5)
    assert torch.get_num_threads() == before
