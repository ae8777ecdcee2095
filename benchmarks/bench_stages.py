"""What the pages do, measured: taste-vector retrieval (stage 1) and two stages, quality vs candidates vs latency.

Usage (from the repo root)::

    python benchmarks/bench_stages.py [--dataset ml-100k] [--data-dir DIR] [--out benchmarks/results/stages-ml-100k.html]
    python benchmarks/bench_stages.py --from-json evaluation.json     # output of `python -m engine evaluate --json`
    python benchmarks/bench_stages.py --save-models DIR    # then --load-models DIR re-measures the stages only
    python benchmarks/bench_stages.py --load-models DIR --publish    # the file the pages show on a fresh install
    python benchmarks/bench_stages.py --load-models DIR --beyond-only --publish    # taste code changed, models did not

Fits MF, SASRec, Text and Wide & Deep on the leave-one-out train split (as ``python -m engine
evaluate`` does; several minutes, SASRec dominates), then prints the tables of
:mod:`engine.recsys.stages` and writes a small HTML chart (plotly, script from its CDN): NDCG@10
against the number of stage-1 candidates per stage-1 option and ranker, and the p50 latency of the
two stages.  With ``--from-json`` it only reads a finished evaluation.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.recsys.stages import MEASURED_SPACES, format_stages  # noqa: E402
from engine.core.registry import NATIVE_TASTE, RANKERS, TEXT_SPACES  # noqa: E402

SHARED = REPO.parent / "shared" / "data" / "movielens"
#: stage-1 options drawn in the chart (the rest are in the printed table): every measured space's
#: taste vector but the multilingual text space's (it runs beside the English one), and the native vectors
CHART_OPTIONS = tuple(f"{s}:taste" for s in MEASURED_SPACES if not TEXT_SPACES.get(s)) + tuple(
    f"{m}:native" for m in NATIVE_TASTE)
#: line style per ranker in the chart
DASHES = ("solid", "dot", "dash", "dashdot")


def chart(stages: dict, dataset: str, out: Path) -> None:
    """Write an HTML chart: NDCG@10 and p50 latency (stage 1 + stage 2) against candidates."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    cuts = [str(c) for c in stages["protocol"]["candidates"]]
    x = [int(c) if c != "all" else None for c in cuts]
    n_all = max(c for c in x if c is not None) * 2                 # where "all" is drawn (axis label says so)
    x = [c if c is not None else n_all for c in x]
    lat = stages["latency_ms"]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("NDCG@10 of the final top 10", "p50 latency, stage 1 + stage 2 (ms)"))
    for ranker, dash in zip(RANKERS, DASHES):
        info = stages["two_stage"].get(ranker)
        if not info:
            continue
        for opt in CHART_OPTIONS:
            cells = info["by_stage1"].get(opt)
            if not cells:
                continue
            name = f"{opt} → {ranker}"
            y = [cells[c]["ndcg@10"] for c in cuts]
            ms = [lat["stage1"][opt][c] + lat["stage2"][ranker][c] for c in cuts]
            fig.add_trace(go.Scatter(x=x, y=y, name=name, legendgroup=name, line={"dash": dash},
                                     hovertext=[f"{c}: {v:.1f} ms" for c, v in zip(cuts, ms)]), 1, 1)
            fig.add_trace(go.Scatter(x=x, y=ms, name=name, legendgroup=name, showlegend=False,
                                     line={"dash": dash}), 1, 2)
    for col in (1, 2):
        fig.update_xaxes(type="log", tickvals=x, ticktext=cuts, title_text="stage-1 candidates", row=1, col=col)
    fig.update_layout(title=f"{dataset}: retrieval + ranking, quality vs candidates vs latency (test split)",
                      height=520, width=1200)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(fig.to_html(include_plotlyjs="cdn", full_html=True))


def add_beyond(args: argparse.Namespace) -> int:
    """Refit ``args.add_beyond`` models on the split, check they reproduce the published figures,
    measure the beyond-accuracy record with them and publish the evaluation again with it."""
    from engine.data.catalogue import open_catalogue
    from engine.data.dataset import load_dataset
    from engine.recsys.beyond import evaluate_beyond, format_beyond
    from engine.recsys.evaluation import evaluate_split, publish_evaluation, published_evaluation, published_path
    from engine.recsys.splits import leave_one_out

    data_dir = args.data_dir
    if data_dir is None and args.dataset == "ml-latest-small" and (SHARED / "ml-latest-small").is_dir():
        data_dir = str(SHARED / "ml-latest-small")
    ds = load_dataset(args.dataset, data_dir)
    if published_evaluation(ds.name, ds.content_hash) is None:
        print(f"no verified published evaluation for {ds.name} to add to", file=sys.stderr)
        return 1
    body = {k: v for k, v in json.loads(published_path(ds.name).read_text()).items() if k != "sha256"}
    split = leave_one_out(ds.ratings)
    t0 = time.perf_counter()
    kept: dict = {}
    part = evaluate_split(split, ds.movies, args.add_beyond, users=ds.users, keep=kept)
    same = {}
    for name, r in part["models"].items():
        old = body["models"].get(name, {})
        same[name] = all(abs(r[p][m] - old.get(p, {}).get(m, float("nan"))) < 1e-9
                         for p in ("sampled", "full") for m in ("hr@10", "ndcg@10"))
        print(f"  {name:<11} refit full NDCG@10 {r['full']['ndcg@10']:.6f}, published "
              f"{old.get('full', {}).get('ndcg@10', float('nan')):.6f}: {'same' if same[name] else 'DIFFERENT (left out)'}")
    models = {n: m for n, m in kept.items() if same[n]}
    from engine.cli.progress import ProgressLines

    beyond = evaluate_beyond(split, models, ds.movies, body.get("stages"), progress=ProgressLines())
    beyond["protocol"]["measured_models"] = sorted(models)
    beyond["protocol"]["not_measured"] = sorted(set(body["models"]) - set(models))
    body["beyond"] = beyond
    body["beyond_measured"] = time.time()
    print(f"(refit and beyond-accuracy record: {time.perf_counter() - t0:.0f}s wall)", flush=True)
    print("\n" + format_beyond(beyond), flush=True)
    path = publish_evaluation(body)
    cat = open_catalogue(ds)
    try:
        cat.put_json("evaluation", json.loads(path.read_text()))
    finally:
        cat.close()
    print(f"published: {path.relative_to(REPO)} (and stored in the {ds.name} catalogue)", flush=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--models", default=None, help="models to fit (default: every one the evaluation fits)")
    ap.add_argument("--from-json", default=None, help="read `python -m engine evaluate --json` output instead of fitting")
    ap.add_argument("--out", default=None, help="chart path (default benchmarks/results/stages-<dataset>.html)")
    ap.add_argument("--json", default=None, help="also write the result to this JSON file")
    ap.add_argument("--publish", action="store_true",
                    help="write engine/published/evaluation-<dataset>.json (with its sha256), which the pages of a "
                         "fresh install show for the same data and model settings, and store it in the catalogue")
    ap.add_argument("--save-models", default=None, help="save the models fitted on the train split to this folder")
    ap.add_argument("--load-models", default=None,
                    help="reuse models saved by --save-models: only the stages are measured (no fitting)")
    ap.add_argument("--refit", default=None, help="with --load-models: refit these models (comma-separated) first")
    ap.add_argument("--beyond-only", action="store_true",
                    help="with --load-models: keep the verified published stages (the same models) and measure only "
                         "the beyond-accuracy record again, e.g. after a change to the taste strategies")
    ap.add_argument("--add-beyond", default=None, metavar="MODELS",
                    help="refit only these models (comma-separated, e.g. popularity,mf,text,use), check that each "
                         "reproduces the published evaluation's figures exactly, and add the beyond-accuracy record "
                         "measured with them to the published evaluation (rows of models not refitted stay without it)")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch intra-op threads for this process (0: torch's default). On a busy machine 1 is "
                         "much faster: two threads contend (a SASRec epoch took ~2 min at load 17 instead of ~1 s)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    print("command: python benchmarks/bench_stages.py " + " ".join(sys.argv[1:]), flush=True)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)          # a benchmark process, not the app
    if args.add_beyond:
        return add_beyond(args)
    if args.from_json:
        result = json.loads(Path(args.from_json).read_text())
    else:
        from engine.data.dataset import load_dataset
        from engine.models import model_class
        from engine.recsys.evaluation import evaluate
        from engine.recsys.evaluation.run import BASELINE_CLASSES
        from engine.recsys.splits import leave_one_out
        from engine.core.machine import machine_facts
        from engine.recsys.beyond import evaluate_beyond
        from engine.recsys.stages import evaluate_stages

        data_dir = args.data_dir
        if data_dir is None and args.dataset == "ml-latest-small" and (SHARED / "ml-latest-small").is_dir():
            data_dir = str(SHARED / "ml-latest-small")
        print(f"os.cpu_count()={os.cpu_count()}; load average {os.getloadavg()}", flush=True)
        ds = load_dataset(args.dataset, data_dir)
        t0 = time.perf_counter()
        if args.load_models:
            folder = Path(args.load_models)
            refit = set(args.refit.split(",")) if args.refit else set()   # their files may be of older settings
            models = {p.stem: (BASELINE_CLASSES.get(p.stem) or model_class(p.stem)).load(p)
                      for p in sorted(folder.glob("*.npz")) if p.stem not in refit}
            split = leave_one_out(ds.ratings)
            result = json.loads((folder / "evaluation.json").read_text())
            if result.get("data_hash") != ds.content_hash:
                print(f"the models in {folder} were fitted on other data", file=sys.stderr)
                return 1
            if args.refit:                       # e.g. a default changed after the fit: refit only those models
                from engine.recsys.evaluation import evaluate_split

                kept = {}
                part = evaluate_split(split, ds.movies, args.refit, users=ds.users, keep=kept)
                for name, model in kept.items():
                    model.save(folder / f"{name}.npz")
                    models[name] = model
                result["models"].update(part["models"])
                (folder / "evaluation.json").write_text(json.dumps(result, default=str))
                print(f"refitted {', '.join(kept)}", flush=True)
            if args.beyond_only:                 # the taste code changed, not the models: keep the published stages
                from engine.recsys.evaluation import published_evaluation, published_path

                if published_evaluation(ds.name, ds.content_hash) is None:
                    print(f"--beyond-only needs a verified published evaluation of {ds.name}", file=sys.stderr)
                    return 1
                pub = json.loads(published_path(ds.name).read_text())
                if any(m not in pub["models"] or abs(pub["models"][m]["full"]["ndcg@10"] - r["full"]["ndcg@10"]) > 1e-12
                       for m, r in result["models"].items()):
                    print(f"the models in {folder} are not the published ones", file=sys.stderr)
                    return 1
                result["stages"] = pub["stages"]
                result["stages_measured"] = pub.get("stages_measured")
            else:
                result["stages"] = evaluate_stages(split, models)
            from engine.cli.progress import ProgressLines

            result["beyond"] = evaluate_beyond(split, models, ds.movies, result["stages"],
                                               progress=ProgressLines(interval=0 if args.verbose else 15.0))
            result["machine"] = machine_facts() | {"load_average": [round(x, 2) for x in os.getloadavg()]}
            if not args.beyond_only:
                result["stages_measured"] = time.time()
            result["beyond_measured"] = time.time()
            print(f"(stages with the models in {folder}: {time.perf_counter() - t0:.0f}s wall)", flush=True)
        else:
            kept: dict = {}
            result = evaluate(dataset=ds, models=args.models, store=False, keep=kept)
            print(f"(evaluation with stages: {time.perf_counter() - t0:.0f}s wall)", flush=True)
            if args.save_models:
                folder = Path(args.save_models)
                folder.mkdir(parents=True, exist_ok=True)
                for name, model in kept.items():
                    model.save(folder / f"{name}.npz")
                (folder / "evaluation.json").write_text(json.dumps({k: v for k, v in result.items() if k != "stages"},
                                                                   default=str))
        if args.publish:
            from engine.data.catalogue import open_catalogue
            from engine.recsys.evaluation import publish_evaluation

            path = publish_evaluation(result)
            cat = open_catalogue(ds)
            try:
                cat.put_json("evaluation", json.loads(path.read_text()))   # the pages of this cache read it too
            finally:
                cat.close()
            print(f"published: {path.relative_to(REPO)} (and stored in the {ds.name} catalogue)", flush=True)
    if "stages" not in result:
        print("the evaluation has no 'stages' key (run without --no-stages)", file=sys.stderr)
        return 1
    dataset = result.get("dataset", args.dataset)
    print(f"\n{dataset}: {result['split']['users']} users, {result['split']['items']} items (5-core, leave-one-out)")
    print("each model's own full ranking (test):")
    for name, r in result["models"].items():
        print(f"  {name:<11} HR@10 {r['full']['hr@10']:.4f}  NDCG@10 {r['full']['ndcg@10']:.4f}")
    print("\n" + format_stages(result["stages"]), flush=True)
    out = Path(args.out) if args.out else REPO / "benchmarks" / "results" / f"stages-{dataset}.html"
    chart(result["stages"], dataset, out)
    print(f"\nchart: {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
