"""The registered embedding models (declared in :mod:`engine.core.registry`): :func:`get_model`.

Model classes are imported lazily (torch / sentence-transformers are heavy), so
``MODELS`` maps a name to a ``"module:Class"`` target; :func:`get_model` and
:func:`model_class` resolve it.
"""

from __future__ import annotations

import importlib
from typing import Any, Sequence

from engine.core.errors import UnknownModelError
from engine.core.registry import MODELS



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


def parse_models(models: str | Sequence[str] | None, default: Sequence[str] = tuple(MODELS),
                 extra: Sequence[str] = ()) -> list[str]:
    """``"mf,sasrec"`` or a list -> validated names, in order, without repeats (``None`` -> ``default``).

    Allowed: the registered models plus ``extra`` (e.g. the popularity baseline of the evaluation);
    anything else raises :class:`UnknownModelError`.
    """
    if models is None:
        return list(default)
    allowed = sorted(set(MODELS) | set(extra))
    parts = models.split(",") if isinstance(models, str) else models
    names = [str(m).strip().lower() for m in parts if str(m).strip()]
    if not names:
        raise UnknownModelError(f"No model named; choose from {', '.join(allowed)}.")
    for n in names:
        if n not in allowed:
            raise UnknownModelError(f"Unknown model {n!r}; choose from {', '.join(allowed)}.")
    return list(dict.fromkeys(names))
