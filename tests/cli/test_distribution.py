"""The benchmarks' shared distribution arguments: hard keeps --d, real-like takes the mixture's."""

from __future__ import annotations

import argparse
from types import SimpleNamespace

import pytest

from engine.cli.distribution import add_distribution_args, distribution_mixture


def _parse(*argv: str) -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    add_distribution_args(ap)
    return ap.parse_args(list(argv))


def test_hard_keeps_its_dimension_and_needs_no_mixture() -> None:
    args = _parse("--d", "32")
    assert distribution_mixture(args) == (None, None) and args.d == 32


def test_real_like_loads_the_named_mixture_and_takes_its_dimension(monkeypatch) -> None:
    calls = []

    def fake(dataset, space):
        calls.append((dataset, space))
        return SimpleNamespace(d=384), "real"

    monkeypatch.setattr("engine.lab.mixture.catalogue_mixture", fake)
    args = _parse("--distribution", "real-like", "--dataset", "synth-40k", "--space", "text")
    mixture, real = distribution_mixture(args)
    assert calls == [("synth-40k", "text")] and mixture.d == 384 == args.d and real == "real"


def test_unknown_space_or_distribution_is_refused() -> None:
    for argv in (("--space", "bogus"), ("--distribution", "easy")):
        with pytest.raises(SystemExit):
            _parse(*argv)
