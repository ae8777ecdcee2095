"""What the build records in the catalogue say about the spaces: models an older MovieDNA built, and
what training bounded or cut."""

from __future__ import annotations

import dataclasses
import json
from typing import Iterable

from engine.data.catalogue import Catalogue
from engine.core.errors import MovieDNAError
from engine.core.notes import Note, note
from engine.core.registry import label

#: build settings a user may choose (``build --epochs``, ``--device``, the text model's environment
#: variable, whose identity is checked at query time): never "outdated"
USER_SETTINGS = frozenset({"epochs", "iterations", "device", "threads", "model_name"})


def outdated_models(catalogue: Catalogue, models: Iterable[str]) -> list[str]:
    """Built models whose build record holds other settings than this code builds with: an older
    MovieDNA wrote them (other config fields: the weights no longer load; or other defaults, so the
    published figures would not describe them).  The Home page offers to build them again."""
    from engine.service.build import build_config

    out = []
    for name in models:
        try:
            record = catalogue.get_json(f"build:{name}")
            want = json.loads(json.dumps(dataclasses.asdict(build_config(name))))
        except MovieDNAError:
            continue  # an unreadable record or a model this code does not know: reported where used
        cfg = record.get("config") if isinstance(record, dict) else None
        if not isinstance(cfg, dict):
            continue
        if set(cfg) != set(want) or any(cfg[k] != want[k] for k in want if k not in USER_SETTINGS):
            out.append(name)
    return out


def build_notes(catalogue: Catalogue, models: Iterable[str]) -> list[Note]:
    """What training bounded or cut in each built space (big catalogues, a time guard that fired),
    from the build records; [] when nothing was bounded."""
    notes = []
    for model in models:
        try:
            record = catalogue.get_json(f"build:{model}")
        except MovieDNAError:
            continue  # an unreadable record: Engine.space() reports it where it matters
        info = record.get("fit_info") if isinstance(record, dict) else None
        info = info if isinstance(info, dict) else {}
        bounds = info.get("bounds")
        if isinstance(bounds, dict) and bounds.get("bounded") and isinstance(bounds.get("summary"), str):
            notes.append(note("build_bounded", model=label(model), summary=bounds["summary"]))
        if info.get("time_guard_fired"):
            notes.append(note("build_time_guard", model=label(model), epochs=info.get("epochs_run")))
    return notes
