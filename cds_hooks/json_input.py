"""A command's JSON input, from a file or stdin, with one-line errors (`painplan check` and `painplan mme`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from guideline.text_files import NotUtf8TextError, utf8_text


class JsonInputError(ValueError):
    """A command's input file (or stdin) cannot be read as JSON; the message says why in one line."""


def read_json_input(source: str, stdin: TextIO | None = None) -> Any:
    """The JSON in a file, or in stdin for "-": UTF-8, with or without the byte-order mark Windows editors add."""
    if not source.strip():  # `painplan mme "$REQUEST"` with the variable unset: never taken for standard input
        raise JsonInputError("the input's name is empty: give a file, or - for standard input")
    try:
        if source == "-":
            stream = stdin or sys.stdin
            if stream is None:  # started with no standard input (`<&-`, some schedulers): Python's sys.stdin is None
                raise JsonInputError("standard input is closed: give the input as a file, or pipe it in")
            raw = _stdin_text(stream)
        else:
            raw = utf8_text(Path(source).read_bytes(), source)
    except OSError as error:
        raise JsonInputError(f"cannot read {source}: {error.strerror or error}") from error
    except NotUtf8TextError as error:  # placed by byte, line and column, as every file PainPlan reads is
        raise JsonInputError(str(error)) from None
    raw = raw.removeprefix("\ufeff")  # text handed over already decoded may still start with the mark
    if not raw.strip():
        raise JsonInputError("the input is empty")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise JsonInputError(
            f"the input is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from error
    except RecursionError as error:
        raise JsonInputError("the input is nested too deeply to read as JSON") from error
    except ValueError as error:  # a number of thousands of digits: the service answers 400, not valid JSON, too
        said = str(error).split(";")[0]
        raise JsonInputError(f"the input is not valid JSON ({said})") from error


def _stdin_text(stream: TextIO) -> str:
    """Standard input decoded as a file is: UTF-8, strictly. Python's own stdin lets bytes that are not UTF-8 through
    as escapes (surrogateescape), which were then read as text and echoed back undecoded."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # text handed over by a caller (tests, an embedding program): already decoded
        return stream.read()
    return utf8_text(buffer.read(), "standard input")
