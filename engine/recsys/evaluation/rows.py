"""An evaluation as rows: the Home table's (typed, labelled by the UI) and the CLI's plain-text table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping

from engine.recsys.evaluation.record import Evaluation
from engine.recsys.beyond import format_beyond
from engine.recsys.figures import Cell, ListFigures
from engine.recsys.stages import format_stages


@dataclass(frozen=True)
class EvaluationRow:
    """One row of the Home table.  ``kind``: a model's own scoring (``"model"``), the published
    reference for ``name`` (``"reference"``, ``label`` is its short description or None), or what a
    page does (``"page"``: ``name`` is the space, ``ranker`` / ``candidates`` the two stages, else
    None).  ``sampled`` is None where only the full ranking was measured; ``train_seconds`` None
    where nothing was trained; ``lists``: the row's lists beyond accuracy (None where not measured)."""

    kind: Literal["model", "reference", "page"]
    name: str
    label: str | None
    sampled: Cell | None
    full: Cell
    train_seconds: float | None = None
    ranker: str | None = None
    candidates: int | None = None
    lists: ListFigures | None = None


def evaluation_rows(ev: Evaluation) -> tuple[EvaluationRow, ...]:
    """Each model (each followed by its reference, where the data set has one), then what the pages
    do (:attr:`PageFigures.rows <engine.recsys.figures.PageFigures.rows>`)."""
    rows = []
    b = ev.beyond
    for m in ev.models:
        rows.append(EvaluationRow("model", m.name, m.label, m.sampled, m.full, m.train_seconds,
                                  lists=b.models.get(m.name) if b else None))
        ref = ev.references.get(m.name)
        if ref is not None:
            rows.append(EvaluationRow("reference", ref.name, ref.short, ref.sampled, ref.full))
    for r in (ev.figures.rows if ev.figures else ()):
        lists = None
        if b is not None:
            lists = (b.taste_lists(r.space) if r.ranker is None
                     else b.two_stage.get((r.ranker, f"{r.space}:taste", r.candidates)))
        rows.append(EvaluationRow("page", r.space, None, None, r.cell, ranker=r.ranker, candidates=r.candidates,
                                  lists=lists))
    return tuple(rows)


def protocol_swaps(ev: Evaluation) -> tuple[tuple[str, str], ...]:
    """Pairs of models (better first under the sampled protocol) that full ranking orders the other way
    by NDCG@k; empty when both protocols order the models the same way (ties count as agreement)."""
    ms = ev.models
    out = []
    for i, a in enumerate(ms):
        for b in ms[i + 1:]:
            ds, df = a.sampled.ndcg - b.sampled.ndcg, a.full.ndcg - b.full.ndcg
            if ds * df < 0:
                out.append((a.name, b.name) if ds > 0 else (b.name, a.name))
    return tuple(out)


def model_label(name: str, config: Mapping[str, Any] | None = None) -> str:
    """What a result row really is, in words (e.g. the default SASRec is two nets with side information)."""
    config = config or {}
    if name == "sasrec":
        members = config.get("members") or ("ce", "bce")
        nets = " + ".join(f"{m.upper()} net" for m in members)
        side = ", genre/decade side information" if config.get("side_info", True) else ""
        return f"SASRec: {nets}{side}" + (" (scores summed)" if len(members) > 1 else "")
    if name == "widedeep":
        return "Wide & Deep: genre x demographics/decade crosses + MLP + history dot product"
    return {"popularity": "most clicked in training", "mf": "iALS matrix factorisation",
            "text": "MiniLM text embedding of title, genres, tags",
            "use": "USE multilingual text embedding of title, genres, tags"}.get(name, name)


def format_table(result: Mapping[str, Any]) -> str:
    """Human-readable table of an :func:`~engine.recsys.evaluation.run.evaluate` result (the CLI's)."""
    k, neg = result["protocol"]["k"], result["protocol"]["negatives"]
    hr, nd = f"hr@{k}", f"ndcg@{k}"
    lines = [f"{result.get('dataset', '')}: {result['split']['users']} users, {result['split']['items']} items, "
             f"{result['split']['interactions']} interactions (5-core, leave-one-out)",
             f"{'model':<11}{f'HR@{k} s{neg}':>11}{f'NDCG@{k} s{neg}':>13}{f'HR@{k} full':>11}{f'NDCG@{k} full':>13}"
             f"{'train s':>9}{'epochs':>9}"]
    refs = result.get("references", {})
    for name, r in result["models"].items():
        fi = r.get("fit_info", {})
        ep = fi.get("best_epoch", fi.get("best_iteration", ""))
        ep = "+".join(map(str, ep)) if isinstance(ep, list) else ep        # one per ensemble member
        lines.append(f"{name:<11}{r['sampled'][hr]:>11.4f}{r['sampled'][nd]:>13.4f}"
                     f"{r['full'][hr]:>11.4f}{r['full'][nd]:>13.4f}{r['train_seconds']:>9.1f}{str(ep):>9}")
        if name in refs:
            ref = refs[name]
            lines.append(f"{'  ref':<11}{ref['sampled_hr@10']:>11.3f}{ref['sampled_ndcg@10']:>13.3f}"
                         f"{ref['full_hr@10']:>11.3f}{ref['full_ndcg@10']:>13.3f}")
        if "full_without_user_features" in r:
            nu = r["full_without_user_features"]
            lines.append(f"{'  no demo.':<11}{'':>11}{'':>13}{nu[hr]:>11.4f}{nu[nd]:>13.4f}"
                         "   (same model, demographics hidden)")
    lines += [f"  {name}: {model_label(name, r.get('config'))}" for name, r in result["models"].items()]
    notes = result.get("reference_notes") or {}
    lines += [f"  ref {name}: {note}" for name, note in notes.items() if name in result["models"] and name in refs]
    if result.get("stages"):
        lines += ["", format_stages(result["stages"])]
    if result.get("beyond"):
        lines += ["", format_beyond(result["beyond"])]
    return "\n".join(lines)



