"""A command's JSON input, from a file or stdin, with one-line errors (`painplan check` and `painplan mme`)."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO


class JsonInputError(ValueError):
    """A command's input file (or stdin) cannot be read as JSON; the message says why in one line."""


def read_json_input(source: str, stdin: TextIO | None = None) -> Any:
    """The JSON in a file, or in stdin for "-": UTF-8, with or without the byte-order mark Windows editors add."""
    try:
        if source in ("-", ""):
            stream = stdin or sys.stdin
            if stream is None:  # started with no standard input (`<&-`, some schedulers): Python's sys.stdin is None
                raise JsonInputError("standard input is closed: give the input as a file, or pipe it in")
            raw = stream.read()
        else:
            with open(source, encoding="utf-8-sig") as handle:
                raw = handle.read()
    except OSError as error:
        raise JsonInputError(f"cannot read {source}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise JsonInputError(f"{source} is not UTF-8 text") from error
    raw = raw.removeprefix("\ufeff")  # stdin is not read with utf-8-sig
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
