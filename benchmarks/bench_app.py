"""Dashboard performance on the data set in the cache (default ml-100k, artifacts built).

1. Click rerun: on the Live personalization page, add a click (multiselect) and time the
   script run server-side with AppTest, p50/p90 over many clicks (target p50 < 150 ms).
2. Warm start: start `streamlit run app.py`, open Home in headless Chromium, time until the
   page has rendered (target < 5 s), then visit every page and read the server's peak
   RSS (VmHWM, target < 2 GB).

3. Work per click (``--count``): how often one click on Live personalization runs each step
   (taste vector, id checks, reads of the catalogue's vector table, normalisations, reads of the
   stored evaluation), counted by wrapping those functions in this process only.  Counts do not
   depend on how busy the machine is, so they compare two versions of the code fairly.

    python benchmarks/bench_app.py [--clicks 30] [--skip-browser] [--count]
    python benchmarks/bench_app.py --dataset synth-87k --skip-browser --count
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


#: the steps counted per click: (module, attribute) of each function wrapped; a name that a version of
#: the code does not have is reported as absent, not as zero
COUNTED = {
    "taste vector": [("engine.recsys.taste", "taste_vector")],
    "id checks": [("engine.core.inputs", "check_ids"), ("engine.recsys.taste", "check_ids")],
    "vector table reads": [("engine.data.catalogue", "Catalogue.vector_info")],
    "normalisations": [("engine.core.arrays", "normalize"), ("engine.vectors.contract", "normalize")],
    "evaluation reads": [("engine.recsys.evaluate", "current_evaluation"),
                         ("engine.recsys.evaluation", "current_evaluation")],
}


def install_counters() -> dict[str, list[int]]:
    """Wrap every function of :data:`COUNTED` (each once, also where other modules imported it by name)."""
    import functools
    import importlib
    import sys as _sys

    counts: dict[str, list[int]] = {}
    for step, targets in COUNTED.items():
        box = counts.setdefault(step, [0])
        seen = set()
        for mod_name, attr in targets:
            try:
                mod = importlib.import_module(mod_name)
            except ImportError:
                continue
            owner, _, name = attr.rpartition(".")
            holder = getattr(mod, owner) if owner else mod
            fn = getattr(holder, name, None)
            # one function under two names (engine.core.arrays.normalize re-exported by the vector contract)
            # is counted once: a name already holding a counter is left alone
            if fn is None or id(fn) in seen or getattr(fn, "_bench_counted", False):
                continue
            seen.add(id(fn))

            def wrapped(*a, __fn=fn, __box=box, **kw):
                __box[0] += 1
                return __fn(*a, **kw)

            functools.update_wrapper(wrapped, fn)
            wrapped._bench_counted = True  # type: ignore[attr-defined]
            setattr(holder, name, wrapped)
            if not owner:  # modules that did "from x import fn" hold their own reference
                for other in list(_sys.modules.values()):
                    if getattr(other, "__name__", "").startswith(("engine", "ui")) and getattr(other, name, None) is fn:
                        setattr(other, name, wrapped)
    return counts


def click_reruns(n: int, dataset: str | None = None, count: bool = False) -> tuple[list[float], dict[str, float]]:
    from streamlit.testing.v1 import AppTest

    from engine.data.dataset import load_dataset

    popular = load_dataset(dataset).movies.sort_values("n_ratings", ascending=False)["movie_id"].tolist()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300).run()
    at.switch_page("views/personalize.py").run()
    counts = install_counters() if count else {}
    times, clicks, per_click = [], [], {step: 0.0 for step in counts}
    for i in range(n):
        clicks = (clicks + [popular[i]])[-10:]
        at.multiselect(key="clicks_widget").set_value(list(clicks))
        before = {step: box[0] for step, box in counts.items()}
        t0 = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - t0) * 1000)
        assert not at.exception, at.exception
        if i >= 3:
            for step, box in counts.items():
                per_click[step] += (box[0] - before[step]) / (n - 3)
    return times[3:], per_click  # the first runs warm the caches (index load, projection read)


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


FIRST_CONTENT = "() => document.querySelector('[data-testid=\"stMain\"] h1') !== null"


def browser_run() -> tuple[float, float, float]:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(REPO / "tests" / "browser"))
    import driver

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=driver.CHROMIUM, args=driver.CHROMIUM_ARGS)
        t0 = time.perf_counter()
        with driver.streamlit_server({}) as base:
            page = browser.new_page()
            page.goto(f"{base}/", wait_until="domcontentloaded")
            page.wait_for_function(FIRST_CONTENT, timeout=120_000)
            first_s = time.perf_counter() - t0
            page.wait_for_function(driver.WAIT_RENDERED, timeout=120_000)
            start_s = time.perf_counter() - t0
            page.close()
            for name in driver.PAGES:
                driver.open_page(browser, driver.page_url(base, name), None)
            import psutil

            peak = 0.0
            for c in psutil.Process().children(recursive=True):
                try:
                    if "streamlit" in " ".join(c.cmdline()):
                        peak = max(peak, vm_hwm_mb(c.pid))
                except psutil.Error:  # chromium helpers come and go
                    continue
        browser.close()
    return first_s, start_s, peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clicks", type=int, default=30)
    ap.add_argument("--skip-browser", action="store_true")
    ap.add_argument("--count", action="store_true", help="count the steps one click runs (see the docstring)")
    ap.add_argument("--dataset", default=None, help="data set in the cache (default: MOVIEDNA_DATASET or ml-100k)")
    args = ap.parse_args()
    if args.dataset:
        import os

        os.environ["MOVIEDNA_DATASET"] = args.dataset  # this benchmark process only: the app reads it at start
    times, per_click = click_reruns(args.clicks, args.dataset, args.count)
    p50, p90 = statistics.median(times), statistics.quantiles(times, n=10)[-1]
    print(f"personalization click rerun (AppTest, {len(times)} clicks): p50 {p50:.0f} ms  p90 {p90:.0f} ms  "
          f"target p50 < 150 ms: {'PASS' if p50 < 150 else 'FAIL'}")
    for step, per in per_click.items():
        print(f"  per click: {step:<20} {per:5.1f}")
    if not args.skip_browser:
        first_s, start_s, peak = browser_run()
        print(f"warm start (server process start -> Home in Chromium): first content {first_s:.1f} s, "
              f"fully drawn (charts, script idle) {start_s:.1f} s  target < 5 s: {'PASS' if start_s < 5 else 'FAIL'}")
        print(f"server peak RSS after visiting all 7 pages: {peak:.0f} MB  target < 2048 MB: "
              f"{'PASS' if peak < 2048 else 'FAIL'}")


if __name__ == "__main__":
    main()
