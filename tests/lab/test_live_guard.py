"""The Scale lab's live run is anonymous CPU: bounded in size and time, one at a time per process."""

from __future__ import annotations

import threading

import pytest

from engine.core.errors import BadQueryError, MovieDNAError
from engine.lab.scale import run_live


@pytest.fixture(autouse=True)
def _default_limits(monkeypatch):
    monkeypatch.delenv("MOVIEDNA_LIVE_MAX_N", raising=False)
    monkeypatch.delenv("MOVIEDNA_LIVE_MAX_SECONDS", raising=False)


@pytest.mark.parametrize("n", [100_000, 200_000])
def test_a_visitor_cannot_start_a_big_run(n):
    with pytest.raises(BadQueryError, match="MOVIEDNA_LIVE_MAX_N"):
        run_live(n, 384)


def test_the_operator_may_allow_bigger_runs(monkeypatch):
    from engine.lab.scale import live_limits

    monkeypatch.setenv("MOVIEDNA_LIVE_MAX_N", "200000")
    assert live_limits()[0] == 200_000
    with pytest.raises(BadQueryError):
        run_live(200_001, 64)


@pytest.mark.parametrize("bad", [2.5, "40000", True, None])
def test_sizes_must_be_whole_numbers(bad):
    with pytest.raises(BadQueryError):
        run_live(bad, 64)


def test_one_run_at_a_time():
    """A second run while one is in progress is refused at once (not queued behind it)."""
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first_progress(fraction, message):
        started.set()
        release.wait(30)

    def first():
        try:
            run_live(1_000, 8, progress=first_progress, n_queries=10)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert started.wait(30)
        with pytest.raises(MovieDNAError, match="try again"):
            run_live(1_000, 8, n_queries=10)
    finally:
        release.set()
        thread.join(60)
    assert not errors, errors
    assert len(run_live(1_000, 8, n_queries=10).rows) == 3  # free again afterwards


def test_the_wall_time_guard_stops_loudly_and_records_the_cut(monkeypatch):
    monkeypatch.setenv("MOVIEDNA_LIVE_MAX_SECONDS", "1")
    messages: list[str] = []
    run = run_live(40_000, 384, progress=lambda f, m: messages.append(m))
    assert run.cut is not None and "time limit 1 s" in run.cut and "not measured" in run.cut
    assert len(run.rows) < 3 and run.max_seconds == 1.0
    assert run.cut in messages  # the progress bar says it too
