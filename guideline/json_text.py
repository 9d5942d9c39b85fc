"""Compact JSON text, exactly as `json.dumps(value, separators=(",", ":"))` writes it, mostly at orjson's speed."""

from __future__ import annotations

import json
from typing import Any

import orjson

# Where orjson's text can differ from the standard library's: NaN and the infinities (written as null), DEL (not
# escaped), anything not ASCII (written as UTF-8, not \uXXXX), and a float below 1e-4 (0.00001 for 1e-05, 5e-8 for
# 5e-08); any other float both write alike (bench: 500,000 random doubles). Such a text, or one that only looks like
# it (the same letters inside a string), is left to the standard library. Substring tests, not a regular
# expression: a search of the pattern cost more than orjson's whole encoding.
_NOT_ALIKE = (b"null", b"\x7f", b"0.0000")
_DIGITS = frozenset(b"0123456789")


def _alike(text: bytes) -> bool:
    """Whether orjson's text is certainly the standard library's."""
    if not text.isascii():
        return False
    for part in _NOT_ALIKE:  # a loop, not any() over a generator: every card's appContext is checked
        if part in text:
            return False
    at = text.find(b"e-")
    while at != -1:  # a negative exponent follows a digit; "e-" in a string ("one-time") rarely does
        if at and text[at - 1] in _DIGITS:
            return False
        at = text.find(b"e-", at + 2)
    return True


_SORTED = orjson.OPT_SORT_KEYS
# orjson also writes what json.dumps refuses (dataclasses, datetimes) or writes otherwise (subclasses): not here.
_STRICT = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
_PLAIN = json.JSONEncoder(separators=(",", ":"), check_circular=False)
_PLAIN_SORTED = json.JSONEncoder(separators=(",", ":"), check_circular=False, sort_keys=True)


def compact_json(value: Any, sort_keys: bool = False) -> str:
    """The value's compact JSON text (keys sorted all the way down when asked), the standard library's text to the
    byte. orjson writes it ten times faster; what it refuses, or may write otherwise, the standard library writes."""
    try:
        text = orjson.dumps(value, option=_STRICT | _SORTED if sort_keys else _STRICT)
    except TypeError:  # orjson.JSONEncodeError is a TypeError: integers beyond 64 bits, lone surrogates, ...
        text = None
    if text is None or not _alike(text):
        return (_PLAIN_SORTED if sort_keys else _PLAIN).encode(value)
    return text.decode("ascii")
