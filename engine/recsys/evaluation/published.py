"""The evaluation published with the code (``engine/published/evaluation-<data set>.json``).

``benchmarks/bench_stages.py --publish`` writes it (:func:`publish_evaluation`, sha256 over the
content, atomically) so a fresh install's pages show measured figures; :func:`published_evaluation`
verifies it on every load: its sha256, the data set's content hash, the protocol (k, negatives,
seed) and every model's evaluation settings must be this code's, and its shape must parse.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from engine.core.artifacts import canonical, read_sealed_json, write_sealed_json
from engine.core.errors import MovieDNAError
from engine.core.inputs import validate_name
from engine.published import published_dir
from engine.recsys.evaluation.record import DEFAULT_PROTOCOL, Evaluation, Protocol, parse_evaluation
from engine.recsys.evaluation.run import settings_identity

log = logging.getLogger(__name__)


def published_path(dataset_name: str, folder: Path | str | None = None) -> Path:
    """``<folder or engine/published>/evaluation-<data set>.json`` (the name is validated before any path)."""
    return Path(folder or published_dir()) / f"evaluation-{validate_name(dataset_name, 'data set')}.json"


def publish_evaluation(result: dict[str, Any], folder: Path | str | None = None) -> Path:
    """Write ``result`` (an :func:`~engine.recsys.evaluation.run.evaluate` output with stages) as the
    published evaluation of its data set, sealed with a sha256 over its content, atomically.  A record
    the pages could not read raises :class:`~engine.recsys.figures.MalformedEvaluationError` and
    writes nothing."""
    body = json.loads(canonical({k: v for k, v in result.items() if k != "sha256"}))
    parse_evaluation(body, "published")
    path = published_path(result["dataset"], folder)
    write_sealed_json(path, body)
    return path


def published_digest(dataset_name: str, folder: Path | str | None = None) -> str | None:
    """sha256 of the published file's bytes (a cache key: no parsing, no verification); None if absent."""
    from engine.core.artifacts import sha256_bytes

    try:
        return sha256_bytes(published_path(dataset_name, folder).read_bytes())
    except (OSError, MovieDNAError):
        return None


def _refuse(path: Path, why: str) -> None:
    log.warning("published evaluation %s %s; run `python -m engine evaluate` to measure it here", path.name, why)


def published_evaluation(dataset_name: str, data_hash: str | None, folder: Path | str | None = None,
                         protocol: Protocol = DEFAULT_PROTOCOL) -> Evaluation | None:
    """The evaluation published with the code for this data set, verified, or None.

    Verified on load: the file's own sha256 (content), the data set's content hash (the same
    ratings and movies), the protocol (``protocol``: the k, negatives and seed the pages' labels
    name), every model's evaluation settings (the same models as the current code would fit) and
    the record's shape.  Anything else — missing, edited, other data, protocol or settings — gives
    None and a log line with the command that measures it here (``python -m engine evaluate``)."""
    try:
        path = published_path(dataset_name, folder)
        body = read_sealed_json(path)
    except FileNotFoundError:
        return None
    except MovieDNAError as exc:  # unreadable, unsealed, edited or damaged
        log.warning("published evaluation refused: %s Run `python -m engine evaluate` to measure it here.", exc)
        return None
    if not data_hash or body.get("data_hash") != data_hash:
        _refuse(path, "was measured on other data")
        return None
    try:
        ev = parse_evaluation(body, "published")
    except MovieDNAError as exc:
        _refuse(path, f"is malformed ({exc})")
        return None
    if ev.protocol != protocol:
        _refuse(path, f"was measured with another protocol ({ev.protocol}, this code: {protocol})")
        return None
    try:
        want = settings_identity([m.name for m in ev.models])
    except MovieDNAError:                                           # a model this code does not know
        want = {}
    if not want or any(body["models"][m].get("config") != w for m, w in want.items()):
        _refuse(path, "used other model settings than this code")
        return None
    return ev
