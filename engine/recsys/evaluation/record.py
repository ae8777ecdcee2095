"""The evaluation record in typed form: what :func:`engine.recsys.evaluation.run.evaluate` writes
(JSON, stored in the catalogue or published with the code), validated once into frozen dataclasses.

:func:`parse_evaluation` checks the whole shape — protocol, split, every model's figures, the
references and the ``"stages"`` record (:func:`engine.recsys.figures.parse_page_figures`) — and
raises :class:`~engine.recsys.figures.MalformedEvaluationError` naming the first bad part, so a
hand-edited or older record is refused as a whole instead of showing empty cells.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from engine.recsys.evaluation.reference import REFERENCE_K, REFERENCE_SHORT
from engine.recsys.figures import (BeyondFigures, Cell, Machine, MalformedEvaluationError, PageFigures, Source, cell,
                                   count, mapping, number, parse_beyond, parse_page_figures)


@dataclass(frozen=True)
class Protocol:
    """How the figures were measured: HR/NDCG@``k``, the target among ``negatives`` sampled
    negatives drawn with ``seed`` (the "sampled" columns); the full ranking needs neither."""

    k: int = 10
    negatives: int = 100
    seed: int = 0


#: what ``python -m engine evaluate`` measures (the published evaluation must match it)
DEFAULT_PROTOCOL = Protocol()


@dataclass(frozen=True)
class Split:
    """The 5-core leave-one-out split's size."""

    users: int
    items: int
    interactions: int


@dataclass(frozen=True)
class ModelResult:
    """One model's test figures.  ``label``: what it is in a few words (the default SASRec is
    ``"sasrec (CE + BCE nets, side info)"``); ``without_user_features``: the same model with the
    demographics hidden (Wide & Deep), else None."""

    name: str
    label: str
    sampled: Cell
    full: Cell
    train_seconds: float
    without_user_features: Cell | None = None


@dataclass(frozen=True)
class Reference:
    """Published figures for ``name`` on this data set (:mod:`engine.recsys.evaluation.reference`)."""

    name: str
    short: str | None
    sampled: Cell
    full: Cell


@dataclass(frozen=True)
class Evaluation:
    """A verified evaluation.  ``models`` in the record's order; ``references``: model -> reference
    (only for models in the record); ``figures``: what the pages do (None: measured without stages);
    ``beyond``: what the lists look like beyond accuracy and what the controls cost (None: a record
    written before it was measured, or without stages)."""

    dataset: str | None
    data_hash: str | None
    protocol: Protocol
    split: Split
    models: tuple[ModelResult, ...]
    references: Mapping[str, Reference]
    source: Source
    created: float | None
    machine: Machine
    figures: PageFigures | None
    beyond: BeyondFigures | None = None

    def model(self, name: str) -> ModelResult | None:
        return next((m for m in self.models if m.name == name), None)


def short_label(name: str, config: Any = None) -> str:
    """A model's name in a comparison table, with what it really is where that matters: the default
    SASRec is ``"sasrec (CE + BCE nets, side info)"``; its reference is a single BCE net."""
    if name != "sasrec":
        return name
    config = config if isinstance(config, Mapping) else {}
    members = config.get("members") or ("ce", "bce")
    members = [str(m).upper() for m in (members if isinstance(members, (list, tuple)) else [members])]
    side = ", side info" if config.get("side_info", True) else ""
    return f"sasrec ({' + '.join(members)} net{'s' if len(members) > 1 else ''}{side})"


def _protocol(blob: Mapping[str, Any]) -> Protocol:
    p = mapping(blob.get("protocol"), "protocol")
    return Protocol(count(p.get("k"), "protocol k", 1), count(p.get("negatives"), "protocol negatives", 1),
                    count(p.get("seed"), "protocol seed"))


def _machine(x: Any) -> Machine:
    m = x if isinstance(x, Mapping) else {}
    cpus, cpu = m.get("cpus"), m.get("cpu")
    return Machine(cpus if isinstance(cpus, int) and not isinstance(cpus, bool) and cpus > 0 else None,
                   cpu if isinstance(cpu, str) and cpu else None)


def parse_evaluation(blob: Any, source: Source) -> Evaluation:
    """``blob`` (an :func:`~engine.recsys.evaluation.run.evaluate` record) as an :class:`Evaluation`;
    :class:`MalformedEvaluationError` (one sentence) when any part has another shape."""
    ev = mapping(blob, "record")
    protocol = _protocol(ev)
    k = protocol.k
    s = mapping(ev.get("split"), "split")
    split = Split(count(s.get("users"), "user count"), count(s.get("items"), "item count"),
                  count(s.get("interactions"), "interaction count"))
    models = mapping(ev.get("models"), "model list")
    if not models:
        raise MalformedEvaluationError("The evaluation lists no model; run `python -m engine evaluate` to rewrite it.")
    results = []
    for name, m in models.items():
        m = mapping(m, f"{name} record")
        blind = m.get("full_without_user_features")
        results.append(ModelResult(
            str(name), short_label(str(name), m.get("config")), cell(m.get("sampled"), k, f"{name} sampled figure"),
            cell(m.get("full"), k, f"{name} full figure"), number(m.get("train_seconds"), f"{name} training time", 0.0),
            None if blind is None else cell(blind, k, f"{name} figure without user features")))
    refs = {}
    for name, r in mapping(ev.get("references") or {}, "reference list").items():
        if name in models and k == REFERENCE_K:
            r = mapping(r, f"{name} reference")
            refs[str(name)] = Reference(str(name), REFERENCE_SHORT.get(str(name)),
                                        cell(r, k, f"{name} reference", "sampled_"), cell(r, k, f"{name} reference", "full_"))
    created = ev.get("created")
    created = None if created is None else number(created, "creation time", 0.0)
    machine = _machine(ev.get("machine"))
    stages = ev.get("stages")
    figures = None if not stages else parse_page_figures(stages, source, created, machine)
    if figures is not None and figures.k != k:
        raise MalformedEvaluationError("The evaluation's stages were measured at another k than its models; "
                                       "run `python -m engine evaluate` to rewrite it.")
    beyond = None if not ev.get("beyond") else parse_beyond(ev["beyond"])
    if beyond is not None and beyond.k != k:
        raise MalformedEvaluationError("The evaluation's beyond-accuracy record was measured at another k than its "
                                       "models; run `python -m engine evaluate` to rewrite it.")
    dataset, data_hash = ev.get("dataset"), ev.get("data_hash")
    return Evaluation(dataset if isinstance(dataset, str) else None, data_hash if isinstance(data_hash, str) else None,
                      protocol, split, tuple(results), MappingProxyType(refs), source, created, machine, figures, beyond)
