"""Queries run torch on one thread without changing any other thread's torch thread count
(a build started after a mood search used to train on one thread)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.models import encoders as E  # noqa: E402
from engine.service import Engine  # noqa: E402
from tests.fixtures import synthetic_catalogue  # noqa: E402

D = 16
pytestmark = pytest.mark.skipif(torch.get_num_threads() < 2, reason="needs 2+ torch threads to tell apart")


def _in_new_thread(fn):
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("v", fn()))
    t.start()
    t.join()
    return out["v"]


def torch_encoder(texts):
    """A real torch workload standing in for the text model (the test is about threads, not text)."""
    seen.append(torch.get_num_threads())
    g = torch.Generator().manual_seed(len(texts[0]))
    w = torch.randn(64, D, generator=g)
    x = torch.randn(len(texts), 64, generator=g)
    return (x @ w).numpy().astype(np.float32)


seen: list[int] = []


@pytest.fixture
def engine(tmp_path):
    return Engine("ml-100k", catalogue=synthetic_catalogue(80, D), index_dir=tmp_path, encoder=torch_encoder)


def test_mood_search_runs_single_threaded_and_changes_no_thread_count(engine):
    full = torch.get_num_threads()
    seen.clear()
    engine.mood_search("quiet winter harbor", k=3)
    if E._torch_openmp() is not None:
        assert seen == [1]                       # the query itself ran on one thread
    assert torch.get_num_threads() == full       # this thread got its count back
    assert _in_new_thread(torch.get_num_threads) == full   # and a build started now gets every core


def test_single_thread_block_is_local_to_its_thread():
    full = torch.get_num_threads()
    if E._torch_openmp() is None:
        pytest.skip("torch here is not built on OpenMP")
    with E.single_thread_inference():
        assert torch.get_num_threads() == 1
        assert _in_new_thread(torch.get_num_threads) == full
    assert torch.get_num_threads() == full


def test_two_stage_changes_no_thread_count(engine):
    full = torch.get_num_threads()
    engine.two_stage([1, 2, 3], k=5, n_candidates=20, rerank=False)
    assert torch.get_num_threads() == full and _in_new_thread(torch.get_num_threads) == full
