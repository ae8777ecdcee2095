"""Results measured with MovieDNA and shipped with it: the files the pages show on a fresh install.

They are package data (this folder), not files found by walking up the source tree: the benchmarks
that measure them write here (``--publish``), the engine reads them through :func:`published_path`,
and every reader verifies them (sha256 over the content, plus what the file claims to describe).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from engine.core.inputs import validate_name


def published_dir() -> Path:
    """The folder of the shipped result files."""
    return Path(str(resources.files(__name__)))


def published_path(stem: str) -> Path:
    """``<published>/<stem>.json``; ``stem`` is checked like any name before a path is built from it."""
    return published_dir() / f"{validate_name(stem, 'result file')}.json"
