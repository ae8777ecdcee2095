"""``python -m engine build`` and ``python -m engine evaluate``.

build     train / embed the spaces the pages search (and the Wide & Deep ranker on request); store vectors + weights
evaluate  leave-one-out HR@10 / NDCG@10 (sampled-100 and full ranking) for the popularity baseline and every
          registered model, and what the pages do (taste vectors, two stages)

The model names come from :mod:`engine.core.registry`.
"""

from __future__ import annotations

import argparse
import logging
import sys

from engine.cli.main import Result, add_common, positive_int
from engine.cli.progress import ProgressLines
from engine.core.registry import DEFAULT_BUILD, EVAL_MODELS, MODELS, label

log = logging.getLogger(__name__)


def _stderr_progress(args: argparse.Namespace):
    """Progress on stderr: every message with ``-v``; without a terminal (a log file, a pipe), a line per
    stage and one every 15 s with an ETA; on a terminal the libraries' own bars show."""
    if getattr(args, "verbose", False):
        return ProgressLines(interval=0.0)
    if not sys.stderr.isatty():
        return ProgressLines()
    return None


def _build(args: argparse.Namespace) -> Result:
    from engine.service.build import build

    report = build(args.dataset, args.models, epochs=args.epochs, data_dir=args.data_dir, force=args.force,
                   progress=_stderr_progress(args), device=args.device)
    lines = [f"{report['dataset']}: build finished in {report['seconds']:.1f}s"]
    for name, r in report["models"].items():
        fi = r.get("fit_info", {})
        extra = f", {fi['train_seconds']:.1f}s training" if "train_seconds" in fi and r["status"] == "built" else ""
        lines.append(f"  {name:<7} {r['status']:<9} {r['n']} movies x {r['dim']} dims{extra}  ({r['path']})")
    return Result(data=report, text="\n".join(lines))


def _evaluate(args: argparse.Namespace) -> Result:
    from engine.recsys.evaluation import evaluate, format_table

    result = evaluate(args.dataset, args.models, data_dir=args.data_dir, epochs=args.epochs, seed=args.seed,
                      store=not args.no_store, progress=_stderr_progress(args), stages=not args.no_stages)
    return Result(data=result, text=format_table(result) + f"\n({result['seconds']:.0f}s in total)")


def register(sub: "argparse._SubParsersAction") -> None:
    others = [m for m in MODELS if m not in DEFAULT_BUILD]
    p = sub.add_parser("build", help=f"train / embed the {', '.join(label(m) for m in DEFAULT_BUILD)} spaces",
                       description="Train the collaborative models on all ratings and embed every movie with the text "
                                   "encoders; store vectors in the catalogue and weights in the cache. Skips what is "
                                   "up to date.")
    add_common(p)
    p.add_argument("--models", default=",".join(DEFAULT_BUILD),
                   help=f"comma-separated (default: {','.join(DEFAULT_BUILD)}; also: {','.join(others)})")
    p.add_argument("--epochs", type=positive_int, default=None, help="SASRec epochs / MF sweeps (default: tuned)")
    p.add_argument("--force", action="store_true", help="retrain even if an up-to-date build exists")
    p.add_argument("--device", choices=("cpu", "cuda", "auto"), default=None,
                   help="SASRec training device (default cpu; auto = cuda when a GPU is present)")
    p.set_defaults(handler=_build)

    p = sub.add_parser("evaluate", help=f"offline HR@10 / NDCG@10 of {', '.join(label(m) for m in EVAL_MODELS)} "
                                        "and of the pages' two stages",
                       description="Leave-one-out evaluation on the 5-core data set: sampled-100 and full ranking.")
    add_common(p)
    p.add_argument("--models", default=",".join(EVAL_MODELS),
                   help=f"comma-separated: {','.join(EVAL_MODELS)} (default: all)")
    p.add_argument("--epochs", type=positive_int, default=None, help="maximum SASRec epochs / MF sweeps")
    p.add_argument("--seed", type=int, default=0, help="seed of the 100 sampled negatives (default 0)")
    p.add_argument("--no-store", action="store_true", help="do not save the result in the catalogue")
    p.add_argument("--no-stages", action="store_true",
                   help="skip measuring what the pages do (taste vectors, two stages; in the JSON under 'stages')")
    p.set_defaults(handler=_evaluate)
