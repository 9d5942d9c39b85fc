"""Request-body JSON: msgspec's speed with exactly the values and errors of the standard library's json.loads."""

from __future__ import annotations

import json
from typing import Any

import msgspec

# msgspec keeps integers of any size exact, as json.loads does (orjson, used before, turned those beyond 64 bits
# into floats and so needed a pass over every body to find them). What msgspec refuses and json.loads accepts (NaN
# and Infinity, numbers beyond a float's range, a byte-order mark, UTF-16 and UTF-32, lone surrogate escapes,
# nesting past its limit) is handed to the standard parser, so nothing accepted before is refused now.
_decode = msgspec.json.Decoder().decode


def parse_json(raw: bytes | bytearray) -> Any:
    """The parsed body, equal to `json.loads(raw)`; raises ValueError or RecursionError exactly when it does."""
    try:
        return _decode(raw)
    except msgspec.DecodeError:
        return json.loads(raw)
