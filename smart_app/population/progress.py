"""Progress lines on stderr for long runs: stage, patients done, rate, time left."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m {seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress:
    """Prints at most one line every `every` seconds per stage (and always the stage's first and last)."""

    def __init__(self, stream: TextIO | None = None, every: float = 2.0, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.every = every
        self.quiet = quiet
        self.stage = ""
        self.started = self.last = time.monotonic()

    def begin(self, stage: str, detail: str = "") -> None:
        self.stage = stage
        self.started = self.last = time.monotonic()
        self._print(f"{stage}: {detail}" if detail else f"{stage} …")

    def update(self, done: int, total: int | None, force: bool = False, unit: str = "patients") -> None:
        now = time.monotonic()
        if not force and now - self.last < self.every:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-9)
        rate = done / elapsed
        line = f"{self.stage}: {done:,}" + (f"/{total:,}" if total else "") + f" {unit}, {rate:,.0f}/s"
        if total and rate > 0 and done < total:
            line += f", about {_duration((total - done) / rate)} left"
        self._print(line)

    def note(self, message: str) -> None:
        self._print(message)

    def warn(self, message: str) -> None:
        """A line printed whatever `quiet` says: a data-safety warning (a run's leftover folder kept), no progress."""
        print(message, file=self.stream, flush=True)

    def _print(self, line: str) -> None:
        if not self.quiet:
            print(line, file=self.stream, flush=True)
