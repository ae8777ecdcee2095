"""Recommender logic over vector spaces: query resolution (``query``), taste vectors (``taste``),
two-stage retrieval + ranking (``pipeline``), leave-one-out splits, metrics and evaluation."""
