"""Catalogue scale: every build stage and every page's main action at 10k, 40k and 87,585 movies.

Synthetic catalogues (``python -m engine synth``) go through the bring-your-own route (CSV ->
checked, normalised, cached Parquet); ml-latest-small (genuine, 9,742 movies) is the real-data
middle point and ml-100k the reference every latency is divided by.  Each build stage runs in its
own process so its wall time and peak RSS (``wait4`` rusage) are its own:

    import   CSV -> normalised frames -> catalogue (python -m engine data)
    mf, sasrec, text, use   python -m engine build --models X
    umap     the Explorer's projection of every space (cached on disk)
    agreement  the Explorer's neighbour-agreement table (k-NN via FAISS)

then, in this process, p50 over repeated calls of each page's main action through the Engine
(the functions the pages call): Similar movies (all spaces), Mood search (its default space), Live personalization
(taste vector + search), two-stage (retrieve + SASRec re-rank).

    python benchmarks/bench_catalogue_scale.py [--sizes 10000,40000,87585] [--latest-small DIR]
        [--stages import,mf,sasrec,text,use,umap,agreement,pages] [--repeats 20] [--json OUT]

It uses its own cache (``--cache``, default ``bench-cache/`` beside the repository, never
committed) and regenerates synthetic data only when missing.  Machine load matters: the table
prints the load average seen at the start of each stage.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

#: (movies, users, ratings): 87,585 is ml-32m's size; 40k a typical user's own catalogue; 10k a small step
SIZES = {10_000: (10_000, 7_500, 1_000_000), 40_000: (40_000, 30_000, 4_000_000),
         87_585: (87_585, 200_948, 32_000_000)}
STAGES = ("import", "mf", "sasrec", "text", "use", "umap", "agreement", "pages")
SPACES = ("mf", "sasrec", "text", "use")


def run_stage(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run one stage in a child process; its wall seconds, CPU seconds and peak RSS (MB)."""
    import tempfile

    load = os.getloadavg()[0]
    with tempfile.TemporaryFile("w+") as fout, tempfile.TemporaryFile("w+") as ferr:   # files: no pipe can fill up
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=fout, stderr=ferr, text=True)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        fout.seek(0), ferr.seek(0)
        out, err = fout.read(), ferr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd[2:])} failed: {err.strip().splitlines()[-1:] or out[-300:]}")
    return {"seconds": round(wall, 1), "cpu_seconds": round(ru.ru_utime + ru.ru_stime, 1),
            "peak_rss_mb": round(ru.ru_maxrss / 1024), "load": round(load, 1)}


STAGE_CODE = {
    "umap": """
import sys
from engine.core import config
from engine.data.catalogue import Catalogue
from engine.lab.projection import project
cat = Catalogue(config.catalogue_path(sys.argv[1]))
for m in ("mf", "sasrec", "text", "use"):
    vs = cat.get_vectors(m)
    project(vs.vectors, vs.content_hash, config.dataset_cache_dir(sys.argv[1]) / "projections")
""",
    "agreement": """
import sys
from engine.core import config
from engine.data.catalogue import Catalogue
from engine.lab.projection import align, neighbour_agreement
cat = Catalogue(config.catalogue_path(sys.argv[1]))
sets = {m: cat.get_vectors(m) for m in ("mf", "sasrec", "text", "use")}
for a, b in (("mf", "sasrec"), ("mf", "text"), ("sasrec", "text"), ("text", "use")):
    _, ia, ib = align(sets[a].movie_ids, sets[b].movie_ids)
    neighbour_agreement(sets[a].vectors[ia], sets[b].vectors[ib], 10).mean()
""",
}


def build_stages(name: str, data_dir: Path | None, stages: list[str], env: dict[str, str]) -> dict[str, dict]:
    py = sys.executable
    rows: dict[str, dict] = {}
    for stage in stages:
        if stage == "pages":
            continue
        if stage == "import":
            cmd = [py, "-m", "engine", "data", "--dataset", name] + (["--data-dir", str(data_dir)] if data_dir else [])
        elif stage in SPACES:
            cmd = [py, "-m", "engine", "build", "--dataset", name, "--models", stage]
        else:
            cmd = [py, "-c", STAGE_CODE[stage], name]
        print(f"  {name}: {stage} ...", flush=True)
        rows[stage] = run_stage(cmd, env)
        print(f"  {name}: {stage} {rows[stage]}", flush=True)
    return rows


def p50_ms(fn, repeats: int) -> float:
    fn()                                                   # warm: loads indexes, encoders, SASRec
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 2)


def page_actions(name: str, repeats: int) -> dict[str, float]:
    """p50 ms of each page's main action through the Engine (in this process)."""
    import numpy as np

    from engine.data.catalogue import Catalogue
    from engine.core import config
    from engine.service import Engine

    eng = Engine.open(name)
    cat = Catalogue(config.catalogue_path(name))
    movies = cat.movies().sort_values("n_ratings", ascending=False)
    popular = movies["movie_id"].to_numpy()[:200]
    rng = np.random.default_rng(0)
    queries = ["a heartwarming story about friendship", "a scary film about ghosts", "space adventure with robots",
               "romantic comedy in Paris", "a gritty crime drama"]
    clicks = [rng.choice(popular, size=8, replace=False).tolist() for _ in range(repeats + 1)]
    return {
        "similar (all spaces)": p50_ms(lambda i=0: eng.similar_all(int(popular[i % 200]), k=10), repeats),
        "mood search": p50_ms(lambda i=0: eng.mood_search(queries[i % len(queries)], k=10), repeats),
        "live personalization": p50_ms(lambda i=0: eng.recommend(clicks[i], model="mf", k=10), repeats),
        "two-stage": p50_ms(lambda i=0: eng.two_stage(clicks[i], model="mf", k=10), repeats),
    }


def ensure_synth(size: int, root: Path, env: dict[str, str]) -> Path:
    out = root / "synth" / f"s{size}"
    if not (out / "ratings.csv").exists():
        m, u, r = SIZES[size]
        print(f"generating synthetic catalogue {m:,} movies / {u:,} users / {r:,} ratings", flush=True)
        subprocess.run([sys.executable, "-m", "engine", "synth", "--out", str(out), "--movies", str(m),
                        "--users", str(u), "--ratings", str(r), "--overviews"], env=env, cwd=REPO, check=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,40000,87585")
    ap.add_argument("--latest-small", default=str(REPO.parent / "shared/data/movielens/ml-latest-small"))
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--cache", default=str(REPO.parent / "bench-cache"))
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args()
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    cache = Path(args.cache).resolve()
    env = dict(os.environ, MOVIEDNA_CACHE_DIR=str(cache))
    os.environ["MOVIEDNA_CACHE_DIR"] = str(cache)
    sets: list[tuple[str, Path | None]] = [("ml-100k", None)]
    if args.latest_small and (Path(args.latest_small) / "ratings.csv").exists():
        sets.append(("ml-latest-small", Path(args.latest_small)))
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        sets.append((f"synth-{size // 1000}k" if size % 1000 == 0 else f"synth-{size}", ensure_synth(size, cache, env)))
    results: dict[str, dict] = {}
    for name, data_dir in sets:
        print(f"{name}", flush=True)
        row = {"stages": build_stages(name, data_dir, stages, env)}
        if "pages" in stages:
            row["pages_p50_ms"] = page_actions(name, args.repeats)
            print(f"  {name}: pages {row['pages_p50_ms']}", flush=True)
        results[name] = row
        if args.json:  # after every data set: an interrupted run keeps what it measured
            Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print_table(results, stages)


def print_table(results: dict[str, dict], stages: list[str]) -> None:
    names = list(results)
    ref = results.get("ml-100k", {})
    print("\nbuild stages: wall s / CPU s / peak RSS MB (load average at start)")
    print(f"{'stage':<12}" + "".join(f"{n:>30}" for n in names))
    for s in stages:
        if s == "pages":
            continue
        cells = []
        for n in names:
            r = results[n]["stages"].get(s)
            cells.append(f"{r['seconds']:>7.1f} / {r['cpu_seconds']:>7.1f} / {r['peak_rss_mb']:>5} ({r['load']:>4})" if r else "-")
        print(f"{s:<12}" + "".join(f"{c:>30}" for c in cells))
    if "pages" in stages:
        print("\npage main actions: p50 ms (ratio to ml-100k)")
        actions = list(next(iter(results.values()))["pages_p50_ms"])
        print(f"{'action':<22}" + "".join(f"{n:>22}" for n in names))
        for a in actions:
            base = ref.get("pages_p50_ms", {}).get(a)
            cells = [f"{results[n]['pages_p50_ms'][a]:>8.1f} ({results[n]['pages_p50_ms'][a] / base:>4.1f}x)" if base else
                     f"{results[n]['pages_p50_ms'][a]:>8.1f}" for n in names]
            print(f"{a:<22}" + "".join(f"{c:>22}" for c in cells))
    print("\ncommand: python benchmarks/bench_catalogue_scale.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
