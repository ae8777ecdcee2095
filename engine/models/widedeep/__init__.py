"""Wide & Deep ranker: ``net.py`` (config + network), ``train.py`` (training loop),
``features.py`` (categorical features), ``model.py`` (the model contract)."""

from .model import WideDeepModel
from .net import WideDeepConfig

__all__ = ["WideDeepModel", "WideDeepConfig"]
