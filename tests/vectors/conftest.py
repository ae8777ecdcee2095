"""Fixtures for the vector database backend tests (real PostgreSQL + pgvector, Milvus Lite).

Every test runs with ``MOVIEDNA_CACHE_DIR`` pointing at a temporary directory, so no
test touches the user's cache; servers and Lite files live under pytest's tmp dirs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIEDNA_CACHE_DIR", str(tmp_path / "cache"))
    for var in ("MOVIEDNA_PG_URL", "MOVIEDNA_MILVUS_URI", "MOVIEDNA_VECTOR_BACKEND"):
        monkeypatch.delenv(var, raising=False)


def clustered(n: int, d: int, n_clusters: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic embeddings: ids int64 (n,) (not 0..n-1, to catch index/id mix-ups), vectors float32 (n, d)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, d))
    vecs = centres[rng.integers(0, n_clusters, n)] + 0.35 * rng.normal(size=(n, d))
    ids = np.arange(n, dtype=np.int64) * 7 + 1000
    return ids, vecs.astype(np.float32)


@pytest.fixture(scope="session")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids int64 (2000,), vectors float32 (2000, 32), queries float32 (40, 32))."""
    ids, vecs = clustered(2000, 32)
    rng = np.random.default_rng(1)
    queries = (vecs[rng.integers(0, len(vecs), 40)] + 0.2 * rng.normal(size=(40, 32))).astype(np.float32)
    return ids, vecs, queries


def start_and_kill(script: str, env_extra: dict[str, str], timeout: float = 90.0) -> int:
    """Run ``script`` in a child Python that prints READY when set up; SIGKILL it then. Returns its pid."""
    env = {**os.environ, "PYTHONPATH": str(REPO), **env_extra}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.strip() == "READY" or proc.poll() is not None:
            break
    if line.strip() != "READY":
        proc.kill()
        raise AssertionError(f"child did not get ready: {line!r} {proc.stderr.read()[-3000:]}")
    proc.kill()  # SIGKILL: no atexit, no cleanup
    proc.wait(10)
    return proc.pid


@pytest.fixture
def sigkill_child() -> Iterator:
    yield start_and_kill


@pytest.fixture
def pg_tmp() -> Iterator[Path]:
    """A fresh directory for an embedded PostgreSQL's data (``<dir>/pgdata``).

    Not under pytest's tmp_path: as root, pgserver makes the parents of the data dir
    world-searchable for its ``pgserver`` user, but every pytest session start (ours or a
    colleague's on the same machine) resets ``/tmp/pytest-of-root`` to 0700, which would
    lock that user out mid-run.  A directory straight under the system tmp dir avoids it.
    """
    path = Path(tempfile.mkdtemp(prefix="moviedna-pgtest-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)
