"""Measured figures in typed form: what the pages show from an evaluation's ``"stages"`` record.

:func:`engine.recsys.stages.evaluate_stages` writes a JSON record (string keys such as
``"mf:taste"``, candidate cut-offs ``"25"`` … ``"all"``); :func:`parse_page_figures` turns it into a
:class:`PageFigures` once, validating every figure, so no page digs through nested dicts.  Both the
engine and ``ui/`` import these types; this module imports nothing of the engine but the
vocabulary and the errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Mapping

from engine.errors import MovieDNAError
from engine.registry import SPACES

#: where a figure comes from: measured in this cache (``python -m engine evaluate``) or the
#: evaluation published with the code (verified)
Source = Literal["local", "published"]
SOURCES: tuple[str, ...] = ("local", "published")
#: the candidate count the pages start with (Live personalization's toggle, the pipeline's slider)
DEFAULT_CANDIDATES = 100
#: how the stages record names "every movie goes to the ranker"
ALL = "all"


class MalformedEvaluationError(MovieDNAError):
    """A stored or published evaluation does not have the shape this code writes (hand-edited, older)."""


@dataclass(frozen=True)
class Cell:
    """HR@k and NDCG@k of one measured option.  ``hr`` is None where the record kept only NDCG
    (the taste vector at each recency setting)."""

    hr: float | None
    ndcg: float
    k: int


@dataclass(frozen=True)
class CurvePoint:
    """One stage-1 cut-off of a two-stage curve: ``candidates`` (None = every movie), HR/NDCG@k
    after stage 2, and the p50 latency in ms of each stage."""

    candidates: int | None
    hr: float
    ndcg: float
    stage1_ms: float
    stage2_ms: float


@dataclass(frozen=True)
class FigureRow:
    """A Home-table row of what the pages do: the taste vector of ``space`` alone (``ranker`` None),
    or its top ``candidates`` re-ranked by ``ranker``; the cell is the full-ranking figure."""

    space: str
    ranker: str | None
    candidates: int | None
    cell: Cell


@dataclass(frozen=True)
class Machine:
    """Where a figure was measured (``cpus`` / ``cpu`` None when the record does not say)."""

    cpus: int | None = None
    cpu: str | None = None


def _frozen(d: Mapping) -> Mapping:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class PageFigures:
    """What the pages do, measured on the leave-one-out test split (see :mod:`engine.recsys.stages`).

    ``taste``: space -> the plain taste vector's cell; ``taste_by_half_life``: space -> {half-life in
    clicks, None = off -> cell} (NDCG only, except the half-life chosen on validation);
    ``native``: space -> the model's own user vector; ``curves``: (space, ranker) -> the plain
    taste vector's two-stage curve, cut-offs in the protocol's order; ``rows``: Home-table rows.
    """

    k: int
    taste: Mapping[str, Cell]
    taste_by_half_life: Mapping[str, Mapping[float | None, Cell]]
    native: Mapping[str, Cell]
    curves: Mapping[tuple[str, str], tuple[CurvePoint, ...]]
    rows: tuple[FigureRow, ...]
    source: Source
    created: float | None = None
    machine: Machine = field(default_factory=Machine)

    def taste_cell(self, space: str, half_life: float | None = None) -> Cell | None:
        """The taste vector of ``space`` at ``half_life`` (None or 0 = no recency weighting)."""
        if not half_life:
            return self.taste.get(space)
        return self.taste_by_half_life.get(space, {}).get(float(half_life))

    def native_cell(self, space: str) -> Cell | None:
        """The model's own user vector in ``space`` (MF fold-in, SASRec's last state); None if not measured."""
        return self.native.get(space)

    def curve(self, space: str, ranker: str) -> tuple[CurvePoint, ...]:
        """The two-stage curve of ``space``'s taste vector re-ranked by ``ranker`` (empty: not measured)."""
        return self.curves.get((space, ranker), ())

    def point(self, space: str, ranker: str, candidates: int | None) -> CurvePoint | None:
        """The measured cell at ``candidates`` (None = all) of :meth:`curve`; None if not measured."""
        return next((p for p in self.curve(space, ranker) if p.candidates == candidates), None)


# ---------------------------------------------------------------------- parsing the stored record
def _need(cond: bool, what: str) -> None:
    if not cond:
        raise MalformedEvaluationError(f"The evaluation's {what} is malformed; run `python -m engine evaluate` "
                                       "to rewrite it.")


def number(x: Any, what: str, lo: float = -math.inf, hi: float = math.inf) -> float:
    """``x`` as a finite float in [lo, hi]; :class:`MalformedEvaluationError` naming ``what`` otherwise."""
    _need(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and lo <= x <= hi, what)
    return float(x)


def count(x: Any, what: str, lo: int = 0) -> int:
    """``x`` as an int >= lo (never a bool)."""
    _need(isinstance(x, int) and not isinstance(x, bool) and x >= lo, what)
    return int(x)


def mapping(x: Any, what: str) -> Mapping[str, Any]:
    _need(isinstance(x, Mapping), what)
    return x


def cell(x: Any, k: int, what: str, prefix: str = "") -> Cell:
    """A stored ``{"hr@k": .., "ndcg@k": ..}`` (keys with ``prefix``, e.g. ``"sampled_"``) as a :class:`Cell`."""
    m = mapping(x, what)
    return Cell(number(m.get(f"{prefix}hr@{k}"), f"{what} HR@{k}", 0.0, 1.0),
                number(m.get(f"{prefix}ndcg@{k}"), f"{what} NDCG@{k}", 0.0, 1.0), k)


def candidates_key(key: Any) -> int | None:
    """A stored cut-off (``"25"``, 25, ``"all"``) as an int, None for all."""
    if key == ALL:
        return None
    if isinstance(key, str) and key.isdigit():
        key = int(key)
    return count(key, f"candidate count {key!r}", 1)


def _half_life_key(key: Any) -> float | None:
    if key == "off":
        return None
    try:
        h = float(key)
    except (TypeError, ValueError):
        h = math.nan
    return number(h, f"recency half-life {key!r}", 0.0)


def parse_page_figures(stages: Any, source: Source, created: float | None = None,
                       machine: Machine = Machine(), n_candidates: int = DEFAULT_CANDIDATES) -> PageFigures:
    """The ``"stages"`` record of an evaluation as :class:`PageFigures`; every figure is checked
    (finite, HR/NDCG in [0, 1], latencies >= 0) and anything else raises
    :class:`MalformedEvaluationError`.  ``rows`` hold the pages' spaces (:data:`engine.registry.SPACES`)
    alone and re-ranked at ``n_candidates``."""
    _need(source in SOURCES, "source")
    st = mapping(stages, "stages record")
    protocol = mapping(st.get("protocol"), "stages protocol")
    k = count(protocol.get("k"), "stages k", 1)
    order = {candidates_key(c): i for i, c in enumerate(protocol.get("candidates") or [])}
    lat = mapping(st.get("latency_ms"), "latency record")
    lat1, lat2 = mapping(lat.get("stage1"), "stage-1 latency"), mapping(lat.get("stage2"), "stage-2 latency")

    taste: dict[str, Cell] = {}
    by_hl: dict[str, dict[float | None, Cell]] = {}
    for name, info in mapping(st.get("stage1_taste"), "taste-vector record").items():
        info = mapping(info, f"{name} record")
        space = info.get("space")
        _need(isinstance(space, str) and name.startswith(f"{space}:"), f"{name} space")
        test = cell(info.get("test"), k, f"{name} test figure")
        if name == f"{space}:taste":
            taste[space] = test
            by_hl.setdefault(space, {})[None] = test
        elif name == f"{space}:taste_recency":
            per = mapping(info.get(f"test_ndcg@{k}_by_half_life") or {}, f"{name} half-lives")
            chosen = info.get("recency_half_life")
            for h, v in per.items():
                key = _half_life_key(h)
                by_hl.setdefault(space, {}).setdefault(key, Cell(None, number(v, f"{name} {h}", 0.0, 1.0), k))
            if chosen is not None:                    # the chosen half-life has its full test figure
                by_hl.setdefault(space, {})[number(chosen, f"{name} half-life", 0.0)] = test
    native = {}
    for name, info in mapping(st.get("stage1_native"), "native record").items():
        info = mapping(info, f"{name} record")
        space = info.get("space")
        _need(isinstance(space, str) and name == f"{space}:native", f"{name} space")
        native[space] = cell(info.get("test"), k, f"{name} test figure")

    curves: dict[tuple[str, str], tuple[CurvePoint, ...]] = {}
    for ranker, info in mapping(st.get("two_stage"), "two-stage record").items():
        by_stage1 = mapping(mapping(info, f"{ranker} record").get("by_stage1"), f"{ranker} grid")
        for option, cells in by_stage1.items():
            space, _, kind = str(option).partition(":")
            if kind != "taste":                       # the pages' two stages start from the plain taste vector
                continue
            points = []
            for c, v in mapping(cells, f"{option} > {ranker} grid").items():
                where = f"{option} > {ranker} at {c}"
                got = cell(v, k, where)
                points.append(CurvePoint(candidates_key(c), got.hr, got.ndcg,
                                         number(mapping(lat1.get(option), f"{option} latency").get(c),
                                                f"{where} stage-1 latency", 0.0),
                                         number(mapping(lat2.get(ranker), f"{ranker} latency").get(c),
                                                f"{where} stage-2 latency", 0.0)))
            # in the protocol's order (a JSON file written with sorted keys holds "100" before "25")
            points.sort(key=lambda p: order.get(p.candidates, len(order)))
            curves[(space, str(ranker))] = tuple(points)

    rows = [FigureRow(s, None, None, taste[s]) for s in SPACES if s in taste]
    for (space, ranker), points in curves.items():
        if space in SPACES:
            rows += [FigureRow(space, ranker, p.candidates, Cell(p.hr, p.ndcg, k))
                     for p in points if p.candidates == n_candidates]
    return PageFigures(k, _frozen(taste), _frozen({s: _frozen(v) for s, v in by_hl.items()}), _frozen(native),
                       _frozen(curves), tuple(rows), source, created, machine)
