"""Outputs written whole or not at all: a disk that fills while writing leaves no torn file under an output's name."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb


class OutputNotWritten(Exception):
    """An output that could not be written (a full disk, a read-only folder): its name and why, never its content."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(name, why)  # args as given, so it crosses a process pool intact
        self.name = name
        self.why = why

    def __str__(self) -> str:
        return f"{self.name}: {self.why}"


def _why(error: BaseException) -> str:
    return error.strerror if isinstance(error, OSError) and error.strerror else str(error).splitlines()[0]


@contextmanager
def replaced(path: Path) -> Iterator[Path]:
    """A partial path to write `path`'s content to, put in its place only once written whole; on a failure the
    partial file is removed, any earlier output of that name is left as it was, and OutputNotWritten names it."""
    partial = path.with_name(path.name + ".partial")
    try:
        yield partial
        os.replace(partial, path)
    except (OSError, duckdb.IOException) as error:
        # What could not be written may not be removable either: the output's own name is what must stay whole.
        with suppress(OSError):
            partial.unlink(missing_ok=True)
        raise OutputNotWritten(str(path), _why(error)) from error


def write_whole(path: Path, text: str) -> None:
    """`text` written to `path` whole, or OutputNotWritten (see `replaced`)."""
    with replaced(path) as partial:
        partial.write_text(text, encoding="utf-8")
