"""``python -m engine <command>``: the command-line face of the engine.

Each area of the engine registers its commands from its own module (``cli_data``,
``cli_models``, ``cli_search``).  A command handler takes the parsed arguments and
returns a :class:`Result`; this module prints it as human text, or as exactly one JSON
object on stdout with ``--json``.  A :class:`~engine.errors.MovieDNAError` becomes one
sentence on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from engine.errors import MovieDNAError

COMMAND_MODULES = ("engine.cli.data", "engine.cli.models", "engine.cli.search")


@dataclass
class Result:
    """What a command returns: JSON-able data and the human rendering of it."""

    data: dict[str, Any]
    text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[argparse.Namespace], Result]


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so usage errors get one sentence and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise MovieDNAError(f"{message} (see `python -m engine {self.prog.split()[-1]} --help`).")


def add_common(p: argparse.ArgumentParser) -> None:
    """Options every command accepts."""
    p.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    p.add_argument("--dataset", default=None, help="data set name (default: ml-100k or $MOVIEDNA_DATASET)")
    p.add_argument("--data-dir", default=None, help="local directory with the MovieLens files")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m engine", description="MovieDNA engine: data, models, vector search.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {n}")
    return n


positive_int = _positive_int


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help(sys.stderr)
            return 2
        logging.basicConfig(
            level=logging.INFO if args.verbose else logging.WARNING,
            format="%(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        result: Result = args.handler(args)
    except MovieDNAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing half-written was kept.", file=sys.stderr)
        return 130
    if args.json:
        sys.stdout.write(json.dumps(result.data, default=_json_default, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(result.text.rstrip("\n") + "\n")
    return 0


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)
