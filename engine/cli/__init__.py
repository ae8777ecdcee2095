"""``python -m engine <command>``: :func:`main` in ``main``; one module per command group registers its commands."""

from engine.cli.main import main

__all__ = ["main"]
