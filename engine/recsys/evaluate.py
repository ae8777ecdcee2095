"""The former ``engine.recsys.evaluate`` name, kept for ``engine/service.py`` (``Engine.evaluation``)
until it calls :mod:`engine.recsys.evaluation` (typed); everything else imports that package.
Delete this module when service.py no longer imports it."""

from __future__ import annotations

import json
from typing import Any

from engine.recsys.evaluation.published import published_path
from engine.recsys.evaluation.stored import KEY
from engine.recsys.evaluation.stored import current_evaluation as _current


def current_evaluation(catalogue: Any, dataset_name: str, data_hash: str | None) -> tuple[dict[str, Any], str] | None:
    """(record as JSON, source) of :func:`engine.recsys.evaluation.current_evaluation` (verified, parsed whole)."""
    ev = _current(catalogue, dataset_name, data_hash)
    if ev is None:
        return None
    raw = (catalogue.get_json(KEY) if ev.source == "local"
           else {k: v for k, v in json.loads(published_path(dataset_name).read_text()).items() if k != "sha256"})
    return raw, ev.source
