"""Progress of long commands on stderr, readable in a log file as well as in a terminal.

``python -m engine build > build.log`` used to be silent for minutes: the libraries' bars only draw
on a terminal.  :class:`ProgressLines` turns the engine's :data:`~engine.core.config.Progress` callbacks
into plain lines: one whenever a stage starts (the text before the first ``:``, e.g. ``sasrec``),
and one every ``interval`` seconds in between, each with the elapsed time and an ETA.
"""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressLines:
    """A :data:`~engine.core.config.Progress` callback that writes lines to ``stream``.

    ``fraction`` is the whole job's share done in [0, 1]; the ETA assumes the rest goes at the
    pace so far (said as ``ETA ?`` until 1 % is done).  ``interval=0`` writes every new message
    (``-v``).  ``clock`` is injectable for tests.
    """

    def __init__(self, stream: TextIO | None = None, interval: float = 15.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.clock = clock
        self.start = clock()
        self.last_line = -float("inf")
        self.stage: str | None = None
        self.message = ""

    def line(self, fraction: float, message: str) -> str:
        elapsed = self.clock() - self.start
        f = min(1.0, max(0.0, float(fraction)))
        eta = "ETA ?" if f < 0.01 else ("done" if f >= 1.0 else f"ETA {_clock(elapsed * (1 - f) / f)}")
        return f"[{f * 100:5.1f}%] {message}  (elapsed {_clock(elapsed)}, {eta})"

    def __call__(self, fraction: float, message: str) -> None:
        stage = message.split(":", 1)[0].strip()
        now = self.clock()
        changed = message != self.message
        periodic = now - self.last_line >= self.interval and (changed or self.interval > 0)
        if stage != self.stage or periodic or (fraction >= 1.0 and changed):
            self.stage, self.message, self.last_line = stage, message, now
            print(self.line(fraction, message), file=self.stream, flush=True)
