"""Where a text stops being UTF-8, in the words an editor shows: the byte, its line and column, never the text."""

from __future__ import annotations


def where_not_utf8(error: UnicodeDecodeError) -> str:
    """ "byte 0xae at line 2, column 31": the first byte `error` could not decode, placed in the bytes it decoded."""
    # error.object, not the caller's bytes: utf-8-sig counts from after the byte-order mark, and a reader that
    # decodes in chunks would be placed in its chunk. The codec's own words name a byte offset, which no editor shows.
    raw = error.object
    line = raw.count(b"\n", 0, error.start) + 1
    column = error.start - raw.rfind(b"\n", 0, error.start)
    return f"byte 0x{raw[error.start]:02x} at line {line}, column {column}"
