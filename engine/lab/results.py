"""The Scale lab's committed result files, verified and typed.

``engine/published/scale.json`` (``benchmarks/bench_scale.py``, ``bench_ann.py --save``),
``backends.json`` (``bench_backends.py``) and ``bigann-<n>.json`` (``bench_100m.py``) are sealed with
a sha256 over their content (:func:`engine.artifacts.write_sealed_json`).  Every reader here checks
the seal and the shape and returns frozen dataclasses; a file that fails raises
:class:`~engine.errors.ArtifactError` with one sentence, a missing file gives None.

Speed-ups are ratios of two timings, and timings taken in different runs (other load, another day)
do not divide: :meth:`ScaleResults.best_per_size` pairs an ANN row only with the exact row of the
same run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from engine.artifacts import read_sealed_json
from engine.errors import ArtifactError
from engine.machine import where_measured
from engine.published import published_path


def _load(stem: str, folder: Path | str | None) -> dict[str, Any] | None:
    path = Path(folder) / f"{stem}.json" if folder else published_path(stem)
    try:
        return read_sealed_json(path)
    except FileNotFoundError:
        return None


def _fail(name: str, exc: Exception) -> ArtifactError:
    return ArtifactError(f"The result file {name} lacks {exc}; run the benchmark that writes it again.")


@dataclass(frozen=True)
class ScaleRow:
    """One measured (size, index) point: ``recall_at_10`` against exact search on held-out queries,
    single-query ``p50_ms`` / ``p99_ms`` on one thread, ``batch_qps`` on every core; ``run`` names
    the run it was measured in (ratios are read within one run only)."""

    kind: str
    label: str
    n: int
    d: int
    recall_at_10: float
    p50_ms: float
    p99_ms: float
    batch_qps: float | None
    build_s: float | None
    memory_mb: float | None
    run: str


@dataclass(frozen=True)
class SpeedUp:
    """The fastest ANN row at the recall floor for one size, and exact search from the same run."""

    n: int
    label: str
    recall_at_10: float
    p50_ms: float
    exact_p50_ms: float
    run: str

    @property
    def ratio(self) -> float:
        return self.exact_p50_ms / self.p50_ms


@dataclass(frozen=True)
class ScaleResults:
    rows: tuple[ScaleRow, ...]
    where: str
    data: str
    method: str
    notes: tuple[str, ...]

    def exact(self) -> tuple[ScaleRow, ...]:
        return tuple(sorted((r for r in self.rows if r.kind == "exact"), key=lambda r: r.n))

    def best_per_size(self, min_recall: float = 0.99) -> tuple[SpeedUp, ...]:
        """Per size, the fastest ANN row with recall@10 >= ``min_recall`` whose run also timed exact
        search at that size; sizes without such a pair are left out."""
        exact = {(r.n, r.run): r for r in self.rows if r.kind == "exact"}
        best: dict[int, SpeedUp] = {}
        for r in self.rows:
            e = exact.get((r.n, r.run))
            if r.kind == "exact" or e is None or r.recall_at_10 < min_recall or r.p50_ms <= 0:
                continue
            if r.n not in best or r.p50_ms < best[r.n].p50_ms:
                best[r.n] = SpeedUp(r.n, r.label, r.recall_at_10, r.p50_ms, e.p50_ms, r.run)
        return tuple(best[n] for n in sorted(best))


def _opt(v: Any) -> float | None:
    return None if v is None else float(v)


def parse_scale(doc: Mapping[str, Any], name: str = "scale.json") -> ScaleResults:
    """The typed form of a ``scale.json`` body; :class:`ArtifactError` if a figure is missing."""
    try:
        rows = tuple(ScaleRow(str(r["kind"]), str(r["label"]), int(r["n"]), int(r["d"]), float(r["recall_at_10"]),
                              float(r["p50_ms"]), float(r["p99_ms"]), _opt(r.get("batch_qps")), _opt(r.get("build_s")),
                              _opt(r.get("memory_mb")), str(r.get("run") or doc.get("generated", "")))
                     for r in doc["rows"])
        return ScaleResults(rows, where_measured(doc.get("machine", {}), doc.get("updated") or doc.get("generated")),
                            str(doc.get("data", "")), str(doc.get("method", "")),
                            tuple(str(x) for x in doc.get("notes", [])))
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail(name, exc) from None


def scale_results(folder: Path | str | None = None) -> ScaleResults | None:
    """The verified ``scale.json``, or None when there is none."""
    doc = _load("scale", folder)
    return None if doc is None else parse_scale(doc)


@dataclass(frozen=True)
class BackendRow:
    backend: str
    status: str
    load_s: float | None
    p50_ms: float | None
    p99_ms: float | None
    qps_serial: float | None
    recall_at_10: float | None
    reason: str


@dataclass(frozen=True)
class BackendResults:
    n: int
    dim: int
    source: str
    rows: tuple[BackendRow, ...]


def parse_backends(doc: Mapping[str, Any], name: str = "backends.json") -> BackendResults:
    try:
        rows = tuple(BackendRow(str(r["backend"]), str(r["status"]), _opt(r.get("load_s")), _opt(r.get("p50_ms")),
                                _opt(r.get("p99_ms")), _opt(r.get("qps_serial")), _opt(r.get("recall@10")),
                                str(r.get("reason", "")))
                     for r in doc["results"])
        return BackendResults(int(doc["n"]), int(doc["dim"]), str(doc.get("source", "")), rows)
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail(name, exc) from None


def backend_results(folder: Path | str | None = None) -> BackendResults | None:
    """The verified ``backends.json``, or None when there is none."""
    doc = _load("backends", folder)
    return None if doc is None else parse_backends(doc)


def bigann_result(n: int = 100_000_000, folder: Path | str | None = None) -> dict[str, Any] | None:
    """The verified ``bigann-<n>.json`` body (read its figures with :func:`engine.lab.bigann.headline`)."""
    return _load(f"bigann-{int(n)}", folder)
