"""``python -m engine <command>``: the command-line face of the engine.

Each area of the engine registers its commands from its own module (``engine.cli.data``,
``engine.cli.models``, ``engine.cli.search``).  A command handler takes the parsed arguments and
returns a :class:`Result`; this module prints it as human text, or as exactly one JSON
object on stdout with ``--json``.  A :class:`~engine.core.errors.MovieDNAError` becomes one
sentence on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable

from engine.core.errors import MovieDNAError

COMMAND_MODULES = ("engine.cli.data", "engine.cli.models", "engine.cli.search", "engine.cli.edits")


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
        # self.prog is the full command ("python -m engine" or "python -m engine search")
        raise MovieDNAError(f"{message} (see `{self.prog} --help`).")


def printable(text: str) -> str:
    """``text`` with control and format characters escaped (``\\x1b``, ``\\u202e``), so echoed
    input cannot drive the terminal (escape sequences, bidi overrides, carriage returns)."""
    out = []
    for ch in str(text):
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"):
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


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
        if not args.verbose:
            # libraries' own bars (transformers' "Loading weights") would mix into stderr and
            # --json pipelines; read when transformers is first imported, which is after this
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        logging.basicConfig(
            level=logging.INFO if args.verbose else logging.WARNING,
            format="%(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        result: Result = args.handler(args)
    except MovieDNAError as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing half-written was kept.", file=sys.stderr)
        return 130
    if args.json:
        sys.stdout.write(json.dumps(result.data, default=_json_default, ensure_ascii=False) + "\n")
    else:
        lines = result.text.rstrip("\n").split("\n")  # titles and queries are echoed: no raw control bytes
        sys.stdout.write("\n".join(printable(line) for line in lines) + "\n")
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
