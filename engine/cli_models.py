"""Commands of this area (filled by its issue). ``register(sub)`` adds subparsers."""

from __future__ import annotations

import argparse


def register(sub: "argparse._SubParsersAction") -> None:
    return None
