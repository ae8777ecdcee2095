"""Atomic writes and content hashes for everything MovieDNA stores on disk.

Rule: nothing is written in place.  A file is written to a temporary name in the
same directory, flushed and fsynced, then renamed over the target, so a killed
process leaves either the old file or the new one, never half of one.  Artifacts
carry a sha256 of their content that is checked when they are loaded.  No pickle:
arrays go through ``.npy``/``.npz`` with ``allow_pickle=False`` and metadata through JSON.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from engine.core.errors import ArtifactError


@contextlib.contextmanager
def atomic_path(target: Path | str, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success.

    The temporary file is removed if the block raises.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix + ".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_bytes(target: Path | str, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_json(target: Path | str, obj: Any) -> None:
    atomic_write_bytes(target, json.dumps(obj, indent=2, sort_keys=True).encode("utf-8"))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(obj: Any) -> bytes:
    """The bytes a sealed record's sha256 is taken over (sorted keys, no spaces)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()


def write_sealed_json(target: Path | str, body: dict[str, Any]) -> dict[str, Any]:
    """Write ``body`` plus ``"sha256"`` (over its canonical bytes) atomically; return what was written.
    The result files the pages show are written this way and read with :func:`read_sealed_json`."""
    clean = json.loads(canonical({k: v for k, v in body.items() if k != "sha256"}))
    sealed = clean | {"sha256": sha256_bytes(canonical(clean))}
    atomic_write_json(target, sealed)
    return sealed


def read_sealed_json(path: Path | str) -> dict[str, Any]:
    """A file written by :func:`write_sealed_json`, without its ``sha256`` key, after checking it.

    Raises :class:`ArtifactError` (one sentence) when the file cannot be read, is not a JSON object,
    has no sha256 or does not match it (edited or damaged); ``FileNotFoundError`` when it is absent.
    """
    path = Path(path)
    try:
        blob = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"The result file {path.name} cannot be read ({exc}).") from None
    if not isinstance(blob, dict) or not isinstance(blob.get("sha256"), str):
        raise ArtifactError(f"The result file {path.name} carries no sha256, so it cannot be verified.")
    body = {k: v for k, v in blob.items() if k != "sha256"}
    if sha256_bytes(canonical(body)) != blob["sha256"]:
        raise ArtifactError(f"The result file {path.name} does not match its sha256 (edited or damaged).")
    return body


def sha256_file(path: Path | str, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def verify_pinned_file(path: Path | str, expected_sha256: str, package: str) -> str:
    """Check a file that ships inside a package (model weights) against its pinned sha256; return it.

    Raises :class:`ArtifactError` naming the reinstall command when the file is missing or differs.
    """
    f = Path(path)
    fix = f"reinstall {package} (`pip install --force-reinstall {package}`)"
    if not f.is_file():
        raise ArtifactError(f"{f} is missing; {fix}.")
    actual = sha256_file(f)
    if actual != expected_sha256:
        raise ArtifactError(f"{f} has sha256 {actual[:12]}..., expected {expected_sha256[:12]}... "
                            f"(tampered or corrupt); {fix}.")
    return actual


def array_hash(*arrays: np.ndarray, extra: str = "") -> str:
    """sha256 over dtype, shape and bytes of each array (C order), plus ``extra``."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(memoryview(a).cast("B"))  # no copy of large arrays
    h.update(extra.encode())
    return h.hexdigest()


def config_hash(config: dict[str, Any]) -> str:
    """Stable hash of a JSON-serialisable config."""
    return sha256_bytes(json.dumps(config, sort_keys=True, default=str).encode())[:16]


def save_arrays(target: Path | str, meta: dict[str, Any], **arrays: np.ndarray) -> str:
    """Write arrays + JSON metadata to one ``.npz`` atomically; return the content hash.

    The hash covers the arrays (in name order) and is stored in the metadata, so
    :func:`load_arrays` can verify it.
    """
    names = sorted(arrays)
    digest = array_hash(*(arrays[n] for n in names), extra=json.dumps(meta, sort_keys=True, default=str))
    payload = dict(arrays)
    payload["__meta__"] = np.frombuffer(
        json.dumps({"meta": meta, "sha256": digest}, sort_keys=True, default=str).encode(), dtype=np.uint8
    )
    buf = io.BytesIO()
    np.savez(buf, **payload)
    atomic_write_bytes(target, buf.getvalue())
    return digest


def load_arrays(path: Path | str) -> tuple[dict[str, Any], dict[str, np.ndarray], str]:
    """Load what :func:`save_arrays` wrote; raise :class:`ArtifactError` if it fails verification."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise
    except Exception as exc:  # zip/npy decoding errors of many kinds
        raise ArtifactError(f"Artifact {path.name} is unreadable ({exc.__class__.__name__}); delete it and rebuild.") from exc
    if "__meta__" not in arrays:
        raise ArtifactError(f"Artifact {path.name} has no metadata; delete it and rebuild.")
    try:
        header = json.loads(arrays.pop("__meta__").tobytes().decode())
    except ValueError as exc:
        raise ArtifactError(f"Artifact {path.name} has corrupt metadata; delete it and rebuild.") from exc
    meta, digest = header["meta"], header["sha256"]
    names = sorted(arrays)
    actual = array_hash(*(arrays[n] for n in names), extra=json.dumps(meta, sort_keys=True, default=str))
    if actual != digest:
        raise ArtifactError(f"Artifact {path.name} fails its content hash (tampered or corrupt); it will be rebuilt.")
    return meta, arrays, digest
