"""Request-body JSON: orjson's speed with exactly the values and errors of the standard library's json.loads."""

from __future__ import annotations

import json
from typing import Any

import orjson

# orjson reads an integer beyond 64 bits as a float, where json.loads keeps it exact (an id or code sent as a bare
# number would then read differently). Any run of 19 digits could be such a number, so those bodies take the
# standard parser: a digit run that long is rare in real charts, and the check is one pass over the bytes.
_DIGITS_ONLY = bytes(ord("0") if chr(byte).isdigit() and byte < 128 else ord(" ") for byte in range(256))
_LONG_DIGIT_RUN = b"0" * 19


def parse_json(raw: bytes | bytearray) -> Any:
    """The parsed body, equal to `json.loads(raw)`; raises ValueError or RecursionError exactly when it does.

    orjson refuses a few things json.loads accepts (NaN and Infinity, a byte-order mark, UTF-16, lone surrogate
    escapes, nesting past 1024 levels); for those the standard parser decides, so nothing that was accepted
    before is refused now and nothing refused is accepted.
    """
    if _LONG_DIGIT_RUN not in raw.translate(_DIGITS_ONLY):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw)
