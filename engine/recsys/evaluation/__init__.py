"""Offline evaluation: run it, keep its record, verify the published one, show it.

- :mod:`.run` fits and scores every model (:func:`evaluate`, :func:`evaluate_split`);
- :mod:`.record` is the record's typed form (:class:`Evaluation`, :func:`parse_evaluation`);
- :mod:`.reference` holds the published reference figures;
- :mod:`.rows` turns a record into the Home table's rows and the CLI's text;
- :mod:`.published` writes and verifies ``engine/published/evaluation-<data set>.json``;
- :mod:`.stored` picks what the pages show (stored, else published) — :func:`current_evaluation`,
  :func:`measured_figures`.

The measured page figures' types (:class:`~engine.recsys.figures.PageFigures` …) live in
:mod:`engine.recsys.figures`, which :mod:`engine.recsys.stages` and ``ui/`` import too.
"""

from engine.recsys.evaluation.published import publish_evaluation, published_digest, published_evaluation, published_path
from engine.recsys.evaluation.record import (DEFAULT_PROTOCOL, Evaluation, ModelResult, Protocol, Reference, Split,
                                             parse_evaluation)
from engine.recsys.evaluation.reference import REFERENCE_NOTES, REFERENCES
from engine.recsys.evaluation.rows import EvaluationRow, evaluation_rows, format_table, protocol_swaps
from engine.recsys.evaluation.run import eval_config, evaluate, evaluate_split, parse_eval_models, settings_identity
from engine.recsys.evaluation.stored import current_evaluation, evaluation_key, measured_figures, stored_evaluation

__all__ = [
    "DEFAULT_PROTOCOL", "Evaluation", "EvaluationRow", "ModelResult", "Protocol", "REFERENCES", "REFERENCE_NOTES",
    "Reference", "Split", "current_evaluation", "eval_config", "evaluate", "evaluate_split", "evaluation_key",
    "evaluation_rows", "format_table", "measured_figures", "parse_eval_models", "parse_evaluation", "protocol_swaps",
    "publish_evaluation", "published_digest", "published_evaluation", "published_path", "settings_identity",
    "stored_evaluation",
]
