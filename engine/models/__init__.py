"""The registered embedding models: ``MODELS`` name -> class, and :func:`get_model`.

Model classes are imported lazily (torch / sentence-transformers are heavy), so
``MODELS`` maps a name to a ``"module:Class"`` target; :func:`get_model` and
:func:`model_class` resolve it.
"""

from __future__ import annotations

import importlib
from typing import Any

from engine.errors import UnknownModelError

MODELS: dict[str, str] = {
    "mf": "engine.models.mf:MFModel",
    "sasrec": "engine.models.sasrec.model:SASRecModel",
    "text": "engine.models.text:TextModel",
}


def model_class(name: str) -> type:
    """The class registered as ``name``; raises :class:`UnknownModelError` for other names."""
    try:
        target = MODELS[str(name).strip().lower()]
    except KeyError:
        raise UnknownModelError(f"Unknown model {name!r}; choose one of {', '.join(sorted(MODELS))}.") from None
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)


def get_model(name: str, config: Any | None = None, **overrides: Any):
    """A new, unfitted model instance. ``overrides`` replace fields of the default config."""
    cls = model_class(name)
    if config is None:
        config = cls.Config(**overrides)
    elif overrides:
        import dataclasses

        config = dataclasses.replace(config, **overrides)
    return cls(config)


__all__ = ["MODELS", "get_model", "model_class"]
