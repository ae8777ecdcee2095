"""The Scale lab's committed result files, verified and typed.

``engine/published/scale.json`` (``benchmarks/bench_scale.py``, ``bench_ann.py --save``),
``backends.json`` (``bench_backends.py``) and ``bigann-<n>.json`` (``bench_100m.py``) are sealed with
a sha256 over their content (:func:`engine.core.artifacts.write_sealed_json`).  Every reader here checks
the seal and the shape and returns frozen dataclasses; a file that fails raises
:class:`~engine.core.errors.ArtifactError` with one sentence, a missing file gives None.

Speed-ups are ratios of two timings, and timings taken in different runs (other load, another day)
do not divide: :meth:`ScaleResults.best_per_size` pairs an ANN row only with the exact row of the
same run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping

from engine.core.artifacts import read_sealed_json
from engine.core.errors import ArtifactError, BadQueryError
from engine.lab.mixture import VectorStats
from engine.core.machine import where_measured
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
    family: str = ""
    distribution: str = "hard"
    storage: str = "ram"        # where the searched float32 rows were: "ram", or "disk" (exact streamed from a file)


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
    """One results file: its rows, where and how they were measured, and on which distribution
    (``hard`` for files written before there were two; ``stats`` compare it with real vectors,
    each naming its set in ``what``)."""

    rows: tuple[ScaleRow, ...]
    where: str
    data: str
    method: str
    notes: tuple[str, ...]
    distribution: str = "hard"
    stats: tuple[VectorStats, ...] = ()
    load_avg: tuple[tuple[int, float], ...] = ()
    sources: tuple[str, ...] = ()   # one line per joined bench_100m run: its size, machine and date

    def sizes(self) -> tuple[int, ...]:
        return tuple(sorted({r.n for r in self.rows}))

    def pareto(self, n: int) -> tuple[ScaleRow, ...]:
        """The ANN rows of size ``n`` no other row beats on all of memory, recall@10 and p50 at once
        (at least as good on each and better on one), sorted by recall."""
        rows = [r for r in self.rows if r.n == n and r.kind != "exact"]

        def key(r: ScaleRow) -> tuple[float, float, float]:
            return (r.memory_mb if r.memory_mb is not None else float("inf"), -r.recall_at_10, r.p50_ms)

        front = [r for r in rows if not any(all(a <= b for a, b in zip(key(o), key(r))) and key(o) != key(r)
                                            for o in rows)]
        return tuple(sorted(front, key=lambda r: (r.recall_at_10, r.p50_ms)))

    def winner(self, n: int, min_recall: float) -> ScaleRow | None:
        """The fastest (p50) ANN row of size ``n`` with recall@10 >= ``min_recall``; less memory breaks
        a tie.  None when no setting reached it."""
        ok = [r for r in self.rows if r.n == n and r.kind != "exact" and r.recall_at_10 >= min_recall]
        return min(ok, key=lambda r: (r.p50_ms, r.memory_mb or 0.0)) if ok else None

    def exact_at(self, n: int, run: str | None = None) -> ScaleRow | None:
        """Exact search at size ``n`` (of run ``run`` when given: the one a ratio may pair with)."""
        return next((r for r in self.rows if r.n == n and r.kind == "exact" and run in (None, r.run)), None)

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
    """The typed form of a ``scale.json`` / ``scale-<distribution>.json`` body; :class:`ArtifactError`
    if a figure is missing or a row names another distribution than its file."""
    try:
        dist = str(doc.get("distribution", "hard"))
        rows = tuple(ScaleRow(str(r["kind"]), str(r["label"]), int(r["n"]), int(r["d"]), float(r["recall_at_10"]),
                              float(r["p50_ms"]), float(r["p99_ms"]), _opt(r.get("batch_qps")), _opt(r.get("build_s")),
                              _opt(r.get("memory_mb")), str(r.get("run") or doc.get("generated", "")),
                              str(r.get("family") or r["kind"]), str(r.get("distribution", dist)))
                     for r in doc["rows"])
        stats = tuple(VectorStats(int(x["n"]), int(x["d"]), float(x["twonn_dim"]), int(x["pca90_dims"]),
                                  float(x["relative_contrast"]), float(x["mean_10nn_cos"]), what=str(x["what"]))
                      for x in doc.get("stats", []))
        load = tuple(sorted((int(n), float(v)) for n, v in doc.get("load_avg", {}).items()))
        res = ScaleResults(rows, where_measured(doc.get("machine", {}), doc.get("updated") or doc.get("generated")),
                           str(doc.get("data", "")), str(doc.get("method", "")),
                           tuple(str(x) for x in doc.get("notes", [])), dist, stats, load)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _fail(name, exc) from None
    if any(r.distribution != dist for r in rows):
        raise ArtifactError(f"The result file {name} mixes rows of another distribution than its own ({dist}); "
                            "run the benchmark that writes it again.")
    return res


def scale_stem(distribution: str | None) -> str:
    """The result file's stem: ``scale`` (the first runs, hard distribution only, 40k to 10M) or
    ``scale-<distribution>`` (index families and Pareto fronts, ``python benchmarks/bench_scale.py``)."""
    if distribution is None:
        return "scale"
    from engine.core.registry import SCALE_DISTRIBUTIONS

    if distribution not in SCALE_DISTRIBUTIONS:
        raise BadQueryError(f"Unknown distribution {distribution!r}; choose one of {', '.join(SCALE_DISTRIBUTIONS)}.")
    return f"scale-{distribution}"


def scale_results(folder: Path | str | None = None, distribution: str | None = None) -> ScaleResults | None:
    """The verified ``scale.json`` (``distribution`` None) or ``scale-<distribution>.json``, or None
    when there is none.  A file claiming another distribution than its name is refused."""
    stem = scale_stem(distribution)
    doc = _load(stem, folder)
    if doc is None:
        return None
    res = parse_scale(doc, f"{stem}.json")
    if distribution is not None and res.distribution != distribution:
        raise ArtifactError(f"The result file {stem}.json describes the {res.distribution} distribution, not "
                            f"{distribution}; run the benchmark that writes it again.")
    return res


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


def bigann_stem(n: int, distribution: str = "hard") -> str:
    """``bigann-<n>`` (the hard distribution, as the first runs named it) or ``bigann-<n>-<distribution>``."""
    scale_stem(distribution)                       # an unknown distribution is refused in one sentence
    return f"bigann-{int(n)}" if distribution == "hard" else f"bigann-{int(n)}-{distribution}"


def bigann_result(n: int = 100_000_000, folder: Path | str | None = None,
                  distribution: str = "hard") -> dict[str, Any] | None:
    """The verified ``bench_100m`` body of ``distribution`` at ``n`` (read its figures with
    :func:`engine.lab.bigann.headline`); None when there is none.  :class:`ArtifactError` when a file
    holds another distribution than its name."""
    stem = bigann_stem(n, distribution)
    doc = _load(stem, folder)
    if doc is not None and str(doc.get("distribution", "hard")) != distribution:
        raise ArtifactError(f"The result file {stem}.json describes the {doc.get('distribution')} distribution, not "
                            f"{distribution}; run python benchmarks/bench_100m.py again.")
    return doc


#: the sizes ``bench_100m.py`` runs at, whose results join a distribution's index families
BIGANN_SIZES: tuple[int, ...] = (10_000_000, 100_000_000)


def _factory_family(factory: str) -> str:
    """``IVF16384_HNSW32,SQ8`` -> ``ivf-sq8`` (the families of :func:`engine.lab.scale.family`)."""
    codec = factory.split(",")[-1].strip().lower()
    if codec.startswith("sq8"):
        return "ivf-sq8"
    if codec.startswith("pq") and codec.endswith("fs"):
        return "ivf-pqfs"
    return "ivf-flat" if codec == "flat" else "ivf"


def bigann_rows(doc: Mapping[str, Any]) -> tuple[ScaleRow, ...]:
    """A verified ``bench_100m`` body as Scale lab rows, all of one run: exact search (in RAM when the
    whole set was loaded, else streamed from disk: ``label`` says which) and every measured (factory,
    nprobe, short list) point.  ``memory_mb`` of an IVF row is the index alone (the re-ranked rows are
    read from the vector file on disk); ``build_s`` counts the k-means even when another index of the
    run trained it; ``batch_qps`` is None where the file timed the batch without its re-ranking.
    :class:`ArtifactError` when a figure is missing."""
    name = "the bench_100m result"
    try:
        n, d, dist = int(doc["n"]), int(doc["d"]), str(doc.get("distribution", "hard"))
        name = bigann_stem(n, dist) + ".json"
        run = f"bench_100m {doc['date']}"
        ex = doc["exact"]
        rows: list[ScaleRow] = []
        if int(ex["ram"]["n"]) == n:
            secs = [float(x) for x in ex["ram"]["seconds"]]
            rows.append(ScaleRow("exact", "flat inner product, in RAM", n, d, 1.0, float(ex["ram"]["p50_s"]) * 1e3,
                                 max(secs) * 1e3, None, 0.0, round(n * d * 4 / 2**20, 1), run, "exact", dist))
        else:
            secs = [float(x) for x in ex["disk"]["seconds"]]
            rows.append(ScaleRow("exact", "exact, streamed from disk", n, d, 1.0, float(ex["disk"]["p50_s"]) * 1e3,
                                 max(secs) * 1e3, None, 0.0, None, run, "exact", dist, "disk"))
        builds = doc["build"]
        # the k-means alone (two-level runs record it; a one-level trainer's train_s is almost all k-means)
        kmeans_s = {f.split(",")[0]: float(b.get("kmeans_s", b["train_s"])) for f, b in builds.items()
                    if b.get("kmeans") != "shared"}
        for factory, res in doc["search"].items():
            b = builds[factory]
            prefix = factory.split(",")[0]
            build_s = float(b["add_s"]) + float(b["train_s"]) + (kmeans_s.get(prefix, 0.0) if b.get("kmeans") == "shared" else 0.0)
            for r in res["curve"]:
                kf = int(r["k_factor"])
                label = f"{factory} nprobe={int(r['nprobe'])}" + (f" x{kf} from disk" if kf > 1 else "")
                qps = float(r["batch_qps"]) if kf == 1 or r.get("batch_reranks") else None
                rows.append(ScaleRow("ivf", label, n, d, float(r["recall_at_10"]), float(r["p50_ms"]),
                                     float(r["p99_ms"]), qps, round(build_s, 1), round(float(b["ram_bytes"]) / 2**20, 1), run,
                                     _factory_family(factory), dist))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _fail(name, exc) from None
    return tuple(rows)


def family_results(distribution: str, folder: Path | str | None = None) -> ScaleResults | None:
    """One distribution's index families at every measured size: ``scale-<distribution>.json``
    (``bench_scale.py``, 40k to 1M or 10M, in RAM) joined by its ``bench_100m.py`` runs at
    :data:`BIGANN_SIZES` (their own runs: a ratio never pairs rows of two runs).  None when neither
    exists; a size both measured keeps the bench_scale rows and adds the bench_100m ones beside them."""
    fam = scale_results(folder, distribution)
    extra: list[ScaleRow] = []
    notes: list[str] = []
    sources: list[str] = []
    for n in BIGANN_SIZES:
        doc = bigann_result(n, folder, distribution)
        if doc is None:
            continue
        extra.extend(bigann_rows(doc))
        notes.append(f"{n:,}: {doc.get('command', 'python benchmarks/bench_100m.py')}")
        sources.append(f"{n:,}: {where_measured(doc.get('measured_on', {}), doc.get('date'))}")
    if fam is None and not extra:
        return None
    if fam is None:
        return ScaleResults(tuple(extra), "", "", "bench_100m.py", tuple(notes), distribution, sources=tuple(sources))
    return replace(fam, rows=fam.rows + tuple(extra), notes=fam.notes + tuple(notes), sources=tuple(sources))


#: the guide's claim: exact search over 100M vectors about 10 s, an ANN index about 0.01 s, at ~99 %
GUIDE_N, GUIDE_EXACT_S, GUIDE_ANN_S, GUIDE_RECALL = 100_000_000, 10.0, 0.01, 0.99
#: where an exact figure was measured: streamed from disk (the 100M runs) or in RAM
EXACT_WHERE = ("disk", "ram")


@dataclass(frozen=True)
class GuideVerdict:
    """Whether the guide's "10 s vs 0.01 s at 99 %" holds on one distribution, from measured rows only.

    ``n``: the size the figures are read at (100M when that distribution was measured there, else the
    largest size of its family file); ``exact_s``: exact search's p50 at ``n`` (``exact_where``: "disk"
    or "ram"); ``ann_s`` / ``ann_recall`` / ``ann_label``: the fastest setting with recall@10 >= 0.99
    (None when none reached it); ``ann_holds``: ``ann_s <= 0.01`` (None unless measured at 100M);
    ``ratio``: exact over ANN, both from the same run."""

    distribution: str
    n: int
    at_guide_size: bool
    exact_s: float | None
    exact_where: str
    ann_s: float | None
    ann_recall: float | None
    ann_label: str
    ann_holds: bool | None
    ratio: float | None


def guide_verdict(distribution: str, family: ScaleResults | None,
                  bigann: Mapping[str, Any] | None = None) -> GuideVerdict | None:
    """The guide's claim checked on ``distribution``: at 100M from ``bigann`` (a verified ``bench_100m``
    body; one without a ``distribution`` field was measured on the hard one) when it describes this
    distribution, else at the largest size of ``family``; None when neither has a figure.
    :class:`ArtifactError` when the 100M file lacks a figure."""
    if bigann is not None and str(bigann.get("distribution", "hard")) == distribution:
        from engine.lab.bigann import headline

        h = headline(dict(bigann))
        best = h["best"]
        ann_s = best["p50_ms"] / 1e3 if best else None
        return GuideVerdict(distribution, int(h["n"]), int(h["n"]) >= GUIDE_N, float(h["exact_disk_s"]), EXACT_WHERE[0],
                            ann_s, float(best["recall_at_10"]) if best else None,
                            f"{h['factory']} nprobe={best['nprobe']}" if best else "",
                            None if ann_s is None or int(h["n"]) < GUIDE_N else ann_s <= GUIDE_ANN_S,
                            h["speedup_vs_disk"])
    if family is None or not family.sizes():
        return None
    n = family.sizes()[-1]
    w = family.winner(n, GUIDE_RECALL)
    exact = family.exact_at(n, w.run) if w is not None else family.exact_at(n)   # a ratio within one run only
    same_run = exact is not None and w is not None and exact.run == w.run and w.p50_ms > 0
    where = exact.storage if exact is not None and exact.storage in EXACT_WHERE else EXACT_WHERE[1]
    return GuideVerdict(distribution, n, False, exact.p50_ms / 1e3 if exact else None, where,
                        w.p50_ms / 1e3 if w else None, w.recall_at_10 if w else None, w.label if w else "",
                        None, exact.p50_ms / w.p50_ms if same_run else None)
