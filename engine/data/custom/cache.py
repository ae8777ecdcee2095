"""The normalised cache of a custom data set: Parquet frames under ``<cache>/<name>/custom/``.

A manifest names the sha256 of each frame (checked on every load) and the fingerprint of the
sources (spec + size and mtime of each file); writes are atomic and the manifest is written
last, so a torn write never verifies.  :func:`import_or_load` re-imports when the sources change.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.core.artifacts import array_hash, atomic_path, atomic_write_json, sha256_file
from engine.core.config import Progress
from engine.data.custom.normalise import read_sources
from engine.data.custom.schema import CACHE_VERSION, CustomSpec, TableSpec
from engine.core.errors import DataFormatError, UnknownDatasetError
from engine.core.inputs import validate_name

log = logging.getLogger(__name__)


def custom_dir(cache_dir: Path) -> Path:
    """``<cache>/<name>/custom``: normalised frames + manifest of a registered custom data set."""
    return Path(cache_dir) / "custom"


def is_registered(cache_dir: Path) -> bool:
    return (custom_dir(cache_dir) / "manifest.json").is_file()


def content_hash(movies: pd.DataFrame, ratings: pd.DataFrame) -> str:
    """sha256 over the normalised ratings arrays and every movie field (the data set's identity)."""
    text = hashlib.sha256()
    for col in ("title", "original_title", "overview"):
        text.update("\x1f".join(movies[col].astype(str)).encode("utf-8"))
    for col in ("genres", "tags"):
        text.update("\x1e".join("\x1f".join(x) for x in movies[col]).encode("utf-8"))
    years = movies["year"].fillna(-1).to_numpy(np.int64)
    return array_hash(ratings["user_id"].to_numpy(np.int64), ratings["movie_id"].to_numpy(np.int64),
                      ratings["rating"].to_numpy(np.float32), ratings["timestamp"].to_numpy(np.int64),
                      movies["movie_id"].to_numpy(np.int64), years, extra=text.hexdigest())


def _write_parquet(df: pd.DataFrame, target: Path) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with atomic_path(target, suffix=".parquet") as tmp:
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp, compression="zstd")
    return sha256_file(target)


def save_frames(cache_dir: Path, name: str, spec: CustomSpec, movies: pd.DataFrame, ratings: pd.DataFrame) -> dict[str, Any]:
    """Write the frames (atomic) and then the manifest that names their sha256 (so a torn write never verifies)."""
    d = custom_dir(cache_dir)
    d.mkdir(parents=True, exist_ok=True)
    manifest = {
        "name": name, "version": CACHE_VERSION, "fingerprint": spec.fingerprint(),
        "movies_sha256": _write_parquet(movies, d / "movies.parquet"),
        "ratings_sha256": _write_parquet(ratings, d / "ratings.parquet"),
        "content_hash": content_hash(movies, ratings),
        "counts": {"movies": int(len(movies)), "users": int(ratings["user_id"].nunique()), "ratings": int(len(ratings))},
        "imported_at": time.time(),
    }
    atomic_write_json(d / "manifest.json", manifest)
    return manifest


def load_frames(cache_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The cached frames, each checked against the manifest's sha256; DataFormatError if damaged."""
    import pyarrow.parquet as pq

    d = custom_dir(cache_dir)
    try:
        manifest = json.loads((d / "manifest.json").read_text())
    except (OSError, ValueError):
        raise DataFormatError(f"The cached copy in {d} has no readable manifest; import the data set again with --data-dir or --config.") from None
    frames = []
    for what in ("movies", "ratings"):
        p = d / f"{what}.parquet"
        if not p.is_file() or sha256_file(p) != manifest.get(f"{what}_sha256"):
            raise DataFormatError(f"The cached {what} of {manifest.get('name')} fail their sha256 check (damaged or edited); "
                                  "import the data set again with --data-dir or --config.")
        frames.append(pq.read_table(p).to_pandas())
    movies, ratings = frames
    for col in ("genres", "tags"):   # parquet lists come back as numpy arrays
        movies[col] = [list(x) if x is not None else [] for x in movies[col]]
    movies["year"] = movies["year"].astype("Int64")
    return movies, ratings, manifest


def sources_changed(manifest: dict[str, Any], spec: CustomSpec) -> bool:
    """True when the spec or any source file's size / mtime differs from the import (missing files don't count)."""
    old = manifest.get("fingerprint", {})
    new = spec.fingerprint()
    if old.get("spec") != new["spec"] or old.get("version") != new["version"]:
        return True
    return any(stat is not None and old.get("files", {}).get(f) != stat for f, stat in new["files"].items())


def save_spec(cache_dir: Path, spec: CustomSpec) -> None:
    atomic_write_json(custom_dir(cache_dir) / "source.json", asdict(spec))


def load_spec(cache_dir: Path) -> CustomSpec | None:
    p = custom_dir(cache_dir) / "source.json"
    if not p.is_file():
        return None
    raw = json.loads(p.read_text())
    tables = {k: TableSpec(**v) if v else None for k, v in raw.items() if k in ("movies", "interactions", "tags")}
    return CustomSpec(**tables, sqlite=raw.get("sqlite"))


def import_or_load(name: str, cache_dir: Path, spec: CustomSpec | None, progress: Progress | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], str]:
    """(movies, ratings, manifest, how) for a custom data set: the verified cache when it is current,
    else a fresh import of ``spec`` (or of the spec it was registered with). ``how``: "cache" or "imported"."""
    validate_name(name, "data set")
    registered = is_registered(cache_dir)
    spec = spec or load_spec(cache_dir)
    if spec is None:
        raise UnknownDatasetError(f"{name!r} is not a known data set; import it first with "
                                  f"`python -m engine data --dataset {name} --data-dir DIR` (movies.csv + ratings.csv).")
    if registered:
        try:
            movies, ratings, manifest = load_frames(cache_dir)
            if not sources_changed(manifest, spec):
                return movies, ratings, manifest, "cache"
            log.info("sources of %s changed; importing again", name)
        except DataFormatError as exc:
            if not any(Path(f).exists() for f in spec.fingerprint()["files"]):
                raise
            log.warning("%s; importing again from the sources", exc)
    t0 = time.perf_counter()
    movies, ratings = read_sources(spec, progress)
    if progress:
        progress(0.85, "caching the normalised frames")
    manifest = save_frames(cache_dir, name, spec, movies, ratings)
    save_spec(cache_dir, spec)
    log.info("imported %s in %.1fs: %s", name, time.perf_counter() - t0, manifest["counts"])
    return movies, ratings, manifest, "imported"
