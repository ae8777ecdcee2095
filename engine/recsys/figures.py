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

from engine.core.errors import MovieDNAError
from engine.core.registry import SPACES

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
    :class:`MalformedEvaluationError`.  ``rows`` hold the pages' spaces (:data:`engine.core.registry.SPACES`)
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


# ---------------------------------------------------------------------- beyond accuracy (engine.recsys.beyond)
@dataclass(frozen=True)
class ListFigures:
    """What one row's test top-k lists look like: catalogue ``coverage`` (share of movies in anyone's
    list), ``novelty`` (bits), ``ild`` (1 - mean pairwise cosine in the content space; None without
    one), ``ild_genre`` (1 - mean pairwise genre Jaccard; None without genres) and
    ``popularity_share`` (share of the lists among the most-interacted movies)."""

    coverage: float
    novelty: float
    ild: float | None
    ild_genre: float | None
    popularity_share: float


@dataclass(frozen=True)
class MmrPoint:
    """The plain taste vector re-ranked by MMR at ``lam``: NDCG@k and both diversities of the lists."""

    lam: float
    ndcg: float
    ild: float | None
    ild_genre: float | None


@dataclass(frozen=True)
class DebiasCell:
    """NDCG@k, coverage, popularity share and novelty of one variant's lists."""

    ndcg: float
    coverage: float
    popularity_share: float
    novelty: float


@dataclass(frozen=True)
class Debiased:
    """A collaborative space's popularity-debiased neighbours: ``method`` ("direction" or "penalty") and
    ``strength`` chosen on validation; the plain and debiased taste lists on test."""

    space: str
    method: str
    strength: float
    plain: DebiasCell
    debiased: DebiasCell


@dataclass(frozen=True)
class BucketCell:
    """NDCG@k of the users in one bucket (None: fewer users than the record's minimum)."""

    bucket: str
    users: int
    ndcg: float | None


@dataclass(frozen=True)
class Support:
    """"Similar to the last click" by the training ratings behind that click: ``test`` space -> cells in
    bucket order; ``threshold`` collaborative space -> fewest ratings it is trusted with (chosen on
    validation against ``reference``, the content space)."""

    buckets: tuple[str, ...]
    test: Mapping[str, tuple[BucketCell, ...]]
    threshold: Mapping[str, int]
    reference: str | None


@dataclass(frozen=True)
class Strategies:
    """NDCG@k per taste strategy: ``test`` (space, strategy) -> cells per history length in ``history``
    order; ``default`` chosen on validation (``valid_mean``: mean validation NDCG over spaces and lengths),
    ``default_by_space`` likewise per space; ``split_below`` space -> the multi-interest split cosine
    chosen on validation (:func:`engine.recsys.taste.interests`; empty in records measured before it)."""

    history: tuple[str, ...]
    default: str
    valid_mean: Mapping[str, float | None]
    test: Mapping[tuple[str, str], tuple[BucketCell, ...]]
    default_by_space: Mapping[str, str] = field(default_factory=dict)
    split_below: Mapping[str, float] = field(default_factory=dict)

    def split_for(self, space: str) -> float | None:
        """The split cosine the multi-interest figures of ``space`` were measured with: 1.0 for a record
        written before the split was chosen (its multi strategy made every interest it could); None
        for a space the record did not measure (:data:`engine.recsys.taste.SPLIT_COSINE` applies)."""
        if not self.split_below:
            return 1.0
        return self.split_below.get(space)

    def default_for(self, space: str) -> str:
        """The strategy with the best mean validation NDCG over history lengths in ``space`` (the overall
        default where the space was not measured)."""
        return self.default_by_space.get(space, self.default)

    def cell(self, space: str, strategy: str, bucket: str) -> BucketCell | None:
        return next((c for c in self.test.get((space, strategy), ()) if c.bucket == bucket), None)


@dataclass(frozen=True)
class GenreShare:
    """Test users whose last three clicks share a genre: the share of those genres in the top k built
    from the three clicks, ``shares`` (space, strategy) -> (all such users, None if none: the share of
    Romance itself for the users whose three share Romance), against the catalogue's ``base_rate`` of
    the same genres (``romance_base_rate``: Romance's share of the catalogue)."""

    users: int
    romance_users: int
    base_rate: float | None
    romance_base_rate: float | None
    shares: Mapping[tuple[str, str], tuple[float, float | None]]


@dataclass(frozen=True)
class BeyondFigures:
    """The ``"beyond"`` record of an evaluation (:mod:`engine.recsys.beyond`), typed.

    ``models``: model -> its own ranking's lists; ``stage1``: option (``"mf:taste"``, ``"mf:native"`` …)
    -> lists; ``two_stage``: (ranker, option, candidates or None) -> lists; ``mmr``: space -> points in
    lambda order; ``debias``: collaborative space -> :class:`Debiased`."""

    k: int
    head_share: float
    content_space: str | None
    models: Mapping[str, ListFigures]
    stage1: Mapping[str, ListFigures]
    two_stage: Mapping[tuple[str, str, int | None], ListFigures]
    mmr: Mapping[str, tuple[MmrPoint, ...]]
    debias: Mapping[str, Debiased]
    support: Support
    strategies: Strategies
    genre: GenreShare | None

    def taste_lists(self, space: str) -> ListFigures | None:
        return self.stage1.get(f"{space}:taste")


def _maybe(x: Any, what: str, lo: float = -math.inf, hi: float = math.inf) -> float | None:
    return None if x is None else number(x, what, lo, hi)


def _lists(x: Any, what: str) -> ListFigures:
    m = mapping(x, what)
    return ListFigures(number(m.get("coverage"), f"{what} coverage", 0.0, 1.0),
                       number(m.get("novelty"), f"{what} novelty", 0.0),
                       _maybe(m.get("ild"), f"{what} diversity", 0.0, 2.0),
                       _maybe(m.get("ild_genre"), f"{what} genre diversity", 0.0, 1.0),
                       number(m.get("popularity_share"), f"{what} popularity share", 0.0, 1.0))


def _buckets(x: Any, order: tuple[str, ...], k: int, what: str) -> tuple[BucketCell, ...]:
    m = mapping(x, what)
    out = []
    for b in order:
        c = mapping(m.get(b), f"{what} {b}")
        out.append(BucketCell(b, count(c.get("users"), f"{what} {b} users"), _maybe(c.get(f"ndcg@{k}"), f"{what} {b}", 0.0, 1.0)))
    return tuple(out)


def _debias_cell(x: Any, k: int, what: str) -> DebiasCell:
    m = mapping(x, what)
    return DebiasCell(number(m.get(f"ndcg@{k}"), f"{what} NDCG", 0.0, 1.0), number(m.get("coverage"), f"{what} coverage", 0.0, 1.0),
                      number(m.get("popularity_share"), f"{what} popularity share", 0.0, 1.0),
                      number(m.get("novelty"), f"{what} novelty", 0.0))


def parse_beyond(beyond: Any) -> BeyondFigures:
    """The ``"beyond"`` record as :class:`BeyondFigures`; every figure checked (finite, shares in [0, 1]);
    :class:`MalformedEvaluationError` otherwise."""
    b = mapping(beyond, "beyond-accuracy record")
    p = mapping(b.get("protocol"), "beyond-accuracy protocol")
    k = count(p.get("k"), "beyond-accuracy k", 1)
    content = p.get("content_space")
    _need(content is None or isinstance(content, str), "content space")
    lists = mapping(b.get("lists"), "list figures")
    models = {str(n): _lists(v, f"{n} lists") for n, v in mapping(lists.get("models"), "model lists").items()}
    stage1 = {str(n): _lists(v, f"{n} lists") for n, v in mapping(lists.get("stage1"), "stage-1 lists").items()}
    two = {}
    for r, by in mapping(lists.get("two_stage"), "two-stage lists").items():
        for opt, cells in mapping(by, f"{r} lists").items():
            for c, v in mapping(cells, f"{opt} > {r} lists").items():
                two[(str(r), str(opt), candidates_key(c))] = _lists(v, f"{opt} > {r} at {c} lists")
    mmr = {}
    for space, info in mapping(b.get("mmr"), "MMR record").items():
        pts = []
        for pt in mapping(info, f"{space} MMR").get("points") or []:
            pt = mapping(pt, f"{space} MMR point")
            pts.append(MmrPoint(number(pt.get("lambda"), f"{space} MMR lambda", 0.0, 1.0),
                                number(pt.get(f"ndcg@{k}"), f"{space} MMR NDCG", 0.0, 1.0),
                                _maybe(pt.get("ild"), f"{space} MMR diversity", 0.0, 2.0),
                                _maybe(pt.get("ild_genre"), f"{space} MMR genre diversity", 0.0, 1.0)))
        mmr[str(space)] = tuple(pts)
    debias = {}
    for space, info in mapping(b.get("debias"), "debiasing record").items():
        info = mapping(info, f"{space} debiasing")
        method = info.get("method")
        _need(method in ("direction", "penalty"), f"{space} debiasing method")
        debias[str(space)] = Debiased(str(space), str(method), number(info.get("strength"), f"{space} strength", 0.0),
                                      _debias_cell(info.get("test_plain"), k, f"{space} plain"),
                                      _debias_cell(info.get("test_debiased"), k, f"{space} debiased"))
    s = mapping(b.get("support"), "support record")
    sb = tuple(str(x) for x in (s.get("buckets") or []))
    ref = s.get("reference")
    support = Support(sb, _frozen({str(m): _buckets(v, sb, k, f"{m} support") for m, v in mapping(s.get("test"), "support figures").items()}),
                      _frozen({str(m): count(v, f"{m} support threshold", 1) for m, v in mapping(s.get("threshold") or {}, "thresholds").items()}),
                      ref if isinstance(ref, str) else None)
    st = mapping(b.get("strategies"), "strategy record")
    hist = tuple(str(x) for x in (st.get("history") or []))
    default = st.get("default")
    _need(isinstance(default, str), "default strategy")
    test = {}
    for space, by in mapping(st.get("test"), "strategy figures").items():
        for strat, cells in mapping(by, f"{space} strategies").items():
            test[(str(space), str(strat))] = _buckets(cells, hist, k, f"{space} {strat}")
    by_space = {}
    for space, by in mapping(st.get("valid") or {}, "strategy validation figures").items():
        means = {}
        for strat, cells in mapping(by, f"{space} validation strategies").items():
            vals = [c.ndcg for c in _buckets(cells, hist, k, f"{space} {strat} validation") if c.ndcg is not None]
            if vals:
                means[str(strat)] = sum(vals) / len(vals)
        if means:
            by_space[str(space)] = max(means, key=means.__getitem__)
    strategies = Strategies(hist, str(default),
                            _frozen({str(n): _maybe(v, f"{n} validation mean", 0.0, 1.0)
                                     for n, v in mapping(st.get("valid_mean") or {}, "validation means").items()}),
                            _frozen(test), _frozen(by_space),
                            _frozen({str(m): number(v, f"{m} split cosine", -1.0, 1.0)
                                     for m, v in mapping(st.get("split_below") or {}, "split cosines").items()}))
    genre = None
    g = b.get("genre")
    if g is not None:
        g = mapping(g, "genre record")
        shares = {}
        for space, by in mapping(g.get("by_space") or {}, "genre shares").items():
            for strat, v in mapping(by, f"{space} genre shares").items():
                v = mapping(v, f"{space} {strat} genre share")
                shares[(str(space), str(strat))] = (number(v.get("share"), f"{space} {strat} genre share", 0.0, 1.0),
                                                    _maybe(v.get("romance_share"), f"{space} {strat} romance share", 0.0, 1.0))
        genre = GenreShare(count(g.get("users"), "genre users"), count(g.get("romance_users"), "romance users"),
                           _maybe(g.get("base_rate"), "genre base rate", 0.0, 1.0),
                           _maybe(g.get("romance_base_rate"), "romance base rate", 0.0, 1.0), _frozen(shares))
    return BeyondFigures(k, number(p.get("head_share"), "head share", 0.0, 1.0), content, _frozen(models), _frozen(stage1),
                         _frozen(two), _frozen(mmr), _frozen(debias), support, strategies, genre)
