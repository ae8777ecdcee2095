"""The evaluation the pages show: the one ``python -m engine evaluate`` stored in this cache's
catalogue (``"local"``), else the verified published one (``"published"``), else none.

A stored record is parsed whole (:func:`~engine.recsys.evaluation.record.parse_evaluation`); one
of another shape is refused with a logged reason and the published file is used instead, so a
damaged record never shows a table of empty cells.  Nothing here caches: the Streamlit boundary
(``ui/evaluation.py``) keeps the verified result keyed by :func:`evaluation_key`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from engine.core.artifacts import sha256_bytes
from engine.core.artifacts import canonical
from engine.core.errors import MovieDNAError
from engine.recsys.evaluation.published import published_digest, published_evaluation
from engine.recsys.evaluation.record import DEFAULT_PROTOCOL, Evaluation, Protocol, parse_evaluation
from engine.recsys.figures import PageFigures

log = logging.getLogger(__name__)

#: the catalogue key ``python -m engine evaluate`` stores its record under
KEY = "evaluation"


def _read(catalogue: Any) -> Any:
    """The stored record (any JSON) or None; an unreadable one is logged and gives None."""
    try:
        return catalogue.get_json(KEY)
    except MovieDNAError as exc:
        log.warning("stored evaluation unreadable (%s); run `python -m engine evaluate` to rewrite it", exc)
        return None


def stored_evaluation(catalogue: Any) -> Evaluation | None:
    """The evaluation stored in ``catalogue``, parsed whole; None when absent, unreadable or of
    another shape (logged with the reason and the command that rewrites it)."""
    blob = _read(catalogue)
    if blob is None:
        return None
    try:
        return parse_evaluation(blob, "local")
    except MovieDNAError as exc:
        log.warning("stored evaluation refused (%s); showing the published one if it fits", exc)
        return None


def current_evaluation(catalogue: Any, dataset_name: str, data_hash: str | None,
                       folder: Path | str | None = None, protocol: Protocol = DEFAULT_PROTOCOL) -> Evaluation | None:
    """What the pages show: the stored evaluation (``.source == "local"``, whatever protocol it
    was run with: its labels say which), else the published one for this data set verified against
    ``protocol`` (``"published"``, from ``folder`` or the package's), else None."""
    return stored_evaluation(catalogue) or published_evaluation(dataset_name, data_hash, folder, protocol)


def measured_figures(catalogue: Any, dataset_name: str, data_hash: str | None,
                     folder: Path | str | None = None, protocol: Protocol = DEFAULT_PROTOCOL) -> PageFigures | None:
    """What the pages do, as measured (:class:`PageFigures`, with its source, date and machine),
    from :func:`current_evaluation`; None before an evaluation with stages."""
    ev = current_evaluation(catalogue, dataset_name, data_hash, folder, protocol)
    return ev.figures if ev is not None else None


def evaluation_key(catalogue: Any, dataset_name: str, folder: Path | str | None = None) -> str:
    """A digest that changes whenever :func:`current_evaluation` could answer otherwise: over the
    stored record's content and the published file's bytes (reads both, verifies neither)."""
    stored = _read(catalogue)
    return sha256_bytes(canonical([None if stored is None else sha256_bytes(canonical(stored)),
                                   published_digest(dataset_name, folder)]))
