"""SASRec reports honest progress under a time budget (the Home build bar follows it)."""

from __future__ import annotations

from engine.models import get_model

from .synth import interactions


def test_progress_follows_the_time_budget_not_only_the_nominal_epochs():
    """The build trains with max_seconds: training ends when the budget is used, long before the
    nominal epochs on a slow or busy machine.  Reporting epoch / epochs left the Home bar near 0
    for the whole SASRec share and then jumping; the fraction must reach the end when training does."""
    seen: list[float] = []
    get_model("sasrec", epochs=100_000, max_seconds=1.0, hidden=16, maxlen=10, members=("ce",)).fit(
        interactions(), progress=lambda f, m: seen.append(f))
    assert seen and all(0.0 <= f <= 1.0 for f in seen)
    assert seen == sorted(seen)  # never goes backwards
    assert seen[-1] >= 0.9, seen[-5:]


def test_progress_without_a_budget_counts_epochs():
    seen: list[float] = []
    get_model("sasrec", epochs=4, hidden=16, maxlen=10, members=("ce",)).fit(
        interactions(), progress=lambda f, m: seen.append(f))
    assert seen == [0.25, 0.5, 0.75, 1.0]
