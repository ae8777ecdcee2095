"""The Scale lab benchmarks' choice of vectors: ``--distribution`` and what it needs.

``hard`` takes ``--d``; ``real-like`` draws from the mixture fitted to ``--dataset`` / ``--space``
(its dimension is the space's, so ``--d`` is overwritten).
"""

from __future__ import annotations

import argparse
from typing import Any

from engine.core.registry import SCALE_DISTRIBUTIONS, SPACES


def add_distribution_args(ap: argparse.ArgumentParser) -> None:
    """``--distribution``, ``--d``, ``--dataset``, ``--space`` with the benchmarks' shared defaults."""
    ap.add_argument("--distribution", choices=SCALE_DISTRIBUTIONS, default="hard")
    ap.add_argument("--d", type=int, default=64, help="dimension of the hard distribution (real-like: the space's)")
    ap.add_argument("--dataset", default="ml-100k", help="real-like: the built catalogue the mixture is fitted to")
    ap.add_argument("--space", default="mf", choices=SPACES, help="real-like: its space")


def distribution_mixture(args: argparse.Namespace) -> tuple[Any, Any]:
    """(the verified fitted mixture, the real vectors it was fitted to) for ``real-like``, setting
    ``args.d`` to its dimension; (None, None) for ``hard``."""
    if args.distribution != "real-like":
        return None, None
    from engine.lab.mixture import catalogue_mixture

    mixture, real = catalogue_mixture(args.dataset, args.space)
    args.d = mixture.d
    return mixture, real
