"""SASRec: the network (``net``), item tokens and training samples (``tokens``), the training loop
(``train``) and the model contract (``model``); imports flow net <- tokens <- train <- model."""

from engine.models.sasrec.model import SASRecModel
from engine.models.sasrec.net import SASRecConfig

__all__ = ["SASRecConfig", "SASRecModel"]
