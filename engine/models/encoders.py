"""Query encoders of the text spaces: one loaded encoder per text model, shared by threads.

``QueryEncoder``: encode(list of texts) -> float32 (q, d).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from engine.core.errors import DimensionMismatchError, EncoderMismatchError
from engine.core.arrays import normalize

log = logging.getLogger(__name__)

#: encode(list of texts) -> float32 (q, d)
QueryEncoder = Callable[[Sequence[str]], np.ndarray]

_ENCODER_LOCK = threading.Lock()
_ENCODER: QueryEncoder | None = None          # override (tests); else one per text model name
_ENCODERS: dict[str, QueryEncoder] = {}


def default_query_encoder(model_name: str | None = None) -> QueryEncoder:
    """The sentence-transformers text model's ``encode_queries`` (engine.models.text) for
    ``model_name`` (None = its default; the bundled MiniLM is hash-checked before loading).
    Loaded once per process; thread-safe.  The encoder carries ``.identity`` ({"name", "sha256"})."""
    with _ENCODER_LOCK:
        if _ENCODER is not None:
            return _ENCODER
        key = model_name or ""
        if key not in _ENCODERS:
            _ENCODERS[key] = _load_encoder(model_name)
        return _ENCODERS[key]


def _load_encoder(model_name: str | None) -> QueryEncoder:
    # No fallback that loads MiniLM directly: every path goes through load_encoder's hash check.
    from engine.models.text import encode_queries, encoder_identity, load_encoder

    load_encoder(model_name)  # load (and verify) the weights now, not inside the first query's timing
    lock = threading.Lock()

    def encode(texts: Sequence[str]) -> np.ndarray:
        with lock:
            return np.asarray(encode_queries(list(texts), model_name), dtype=np.float32)

    encode.identity = encoder_identity(model_name)  # type: ignore[attr-defined]
    return encode


def stored_identity(vectors_config: dict[str, Any]) -> dict[str, Any]:
    """The encoder a text space's vectors were built with, from their catalogue config.

    The build records ``{"encoder": {"name", "sha256"}}``; vectors built before that have only
    the model config (``{"config": {"model_name": ...}}``), so the name comes from there and
    the weight hash is unknown (``None``) until the next build re-stores them.
    """
    cfg = vectors_config or {}
    if isinstance(cfg.get("encoder"), dict) and cfg["encoder"].get("name"):
        return {"name": str(cfg["encoder"]["name"]), "sha256": cfg["encoder"].get("sha256")}
    name = (cfg.get("config") or {}).get("model_name")
    return {"name": name, "sha256": None}


def query_encoder(identity: dict[str, Any]) -> QueryEncoder:
    """The query encoder named by a stored identity: USE Multilingual v3 or a sentence-transformers model."""
    from engine.models.use import USE_NAME, load_use

    if _ENCODER is not None:  # test override
        return _ENCODER
    if identity.get("name") == USE_NAME:
        return load_use()
    return default_query_encoder(identity.get("name"))


def document_encoder(identity: dict[str, Any]) -> QueryEncoder:
    """The encoder named by a stored identity, for movie documents (a movie added to the catalogue):
    like :func:`query_encoder` but without the query checks (a document may be longer than a query),
    so the new movie is embedded exactly as the build embedded the others.  Carries ``.identity``."""
    from engine.models.text import _encode, encoder_identity, load_encoder
    from engine.models.use import USE_NAME, load_use

    if _ENCODER is not None:  # test override
        return _ENCODER
    if identity.get("name") == USE_NAME:
        return load_use()
    name = identity.get("name")
    enc = load_encoder(name)  # hash-checked (the bundled MiniLM) before any document is embedded

    def encode(texts: Sequence[str]) -> np.ndarray:
        return _encode(enc, list(texts), 64)

    encode.identity = encoder_identity(name)  # type: ignore[attr-defined]
    return encode


def check_encoder(encoder: QueryEncoder, stored: dict[str, Any], space: str) -> None:
    """Raise :class:`EncoderMismatchError` unless ``encoder`` is the one that built ``space``'s vectors.

    Compares names, and weight hashes where both are known.  An encoder without
    ``.identity`` (a test double passed to ``Engine(encoder=...)``) is not checked.
    """
    have = getattr(encoder, "identity", None)
    if not have or not stored.get("name"):
        return
    if have.get("name") != stored["name"] or (
            stored.get("sha256") and have.get("sha256") and have["sha256"] != stored["sha256"]):
        raise EncoderMismatchError(
            f"The {space} vectors were embedded by {stored['name']} ({str(stored.get('sha256') or '?')[:12]}) but the "
            f"query encoder is {have.get('name')} ({str(have.get('sha256') or '?')[:12]}); rebuild with "
            f"`python -m engine build --models {space} --force`.")


@contextlib.contextmanager
def single_thread_inference() -> Iterator[None]:
    """Run the calling thread's torch ops on one OpenMP thread, for the block only.

    One query (or one 10-click history) is too small to split across threads: on a busy
    2-core machine two torch threads made one MiniLM query ~765 ms (p50) instead of ~40 ms
    (benchmarks/bench_query_latency.py).  ``torch.set_num_threads`` cannot be used for this: it
    is process-wide (MKL, and every thread that starts later, e.g. a build), so instead the
    calling thread's own OpenMP setting (``omp_set_num_threads`` of the OpenMP runtime torch
    uses; an OpenMP ICV is per thread) and MKL's thread-local count (``mkl_set_num_threads_local``,
    which wins over a global ``mkl_set_num_threads`` an earlier ``torch.set_num_threads`` left)
    are lowered and restored on exit.  Other threads, and threads created later, keep their
    thread counts.  Without an OpenMP torch it does nothing.
    """
    omp = _torch_openmp()
    torch = sys.modules.get("torch")
    if omp is None or torch is None:
        yield
        return
    before = torch.get_num_threads()  # also runs torch's per-thread lazy init, which would reset the value
    if before <= 1:
        yield
        return
    mkl = _OMP[1] if len(_OMP) > 1 else None
    omp.omp_set_num_threads(1)
    mkl_before = mkl(1) if mkl is not None else 0
    try:
        yield
    finally:
        if mkl is not None:
            mkl(mkl_before)  # 0 = back to MKL's global setting
        omp.omp_set_num_threads(before)


_OMP: list[Any] = []  # [OpenMP runtime or None, torch's MKL (for mkl_set_num_threads_local) or None]


def _torch_openmp() -> Any:
    """ctypes handle of the OpenMP runtime torch's ATen uses (its bundled libgomp / libiomp5),
    checked to be the one torch reads; None if torch is not built on OpenMP or it cannot be found."""
    with _ENCODER_LOCK:
        if _OMP:
            return _OMP[0]
        found = None
        torch = sys.modules.get("torch")
        try:
            if torch is not None and "parallel backend: OpenMP" in torch.__config__.parallel_info():
                libdir = Path(torch.__file__).parent / "lib"
                for lib in sorted(libdir.glob("libgomp*.so*")) + sorted(libdir.glob("libiomp5*")):
                    handle = ctypes.CDLL(str(lib))
                    found = handle if _controls_torch(handle, torch) else None
                    if found is not None:
                        break
        except (OSError, AttributeError) as exc:
            log.debug("torch's OpenMP runtime not usable (%s); queries use torch's thread count", exc)
        mkl = None
        if found is not None:
            try:  # torch links MKL into libtorch_cpu; its per-thread setter is exported there.
                # MKL_Set_Num_Threads_Local is the C (by value) entry mkl_service.h maps
                # mkl_set_num_threads_local to; the lower-case symbols are Fortran (by reference).
                cpu = ctypes.CDLL(str(Path(torch.__file__).parent / "lib" / "libtorch_cpu.so"))
                setter = cpu.MKL_Set_Num_Threads_Local
                setter.restype, setter.argtypes = ctypes.c_int, [ctypes.c_int]
                mkl = setter
            except (OSError, AttributeError):
                mkl = None
        _OMP.extend([found, mkl])
        return found


def _controls_torch(omp: Any, torch: Any) -> bool:
    """True when setting ``omp``'s thread count for this thread changes what torch reads here."""
    before = torch.get_num_threads()
    target = 1 if before > 1 else 2
    omp.omp_set_num_threads(target)
    try:
        return torch.get_num_threads() == target
    finally:
        omp.omp_set_num_threads(before)


def encode_query(encoder: QueryEncoder, text: str, dim: int) -> np.ndarray:
    """Embed one clean query -> normalised float32 (dim,); checks the dimension."""
    v = np.asarray(encoder([text]), dtype=np.float32)
    if v.ndim != 2 or v.shape[1] != dim:
        raise DimensionMismatchError(
            f"The query encoder gives {v.shape[-1]}-d vectors but the text space is {dim}-d; rebuild the text vectors."
        )
    return normalize(v)[0]
