"""A settings or input file's text, read as UTF-8; one that is not is named with where, as the site can fix it."""

from __future__ import annotations

import codecs
from pathlib import Path


class NotUtf8TextError(ValueError):
    """A file that is not UTF-8 text (saved in a Windows code page, most often), named with the first byte that is not
    and its line and column: the codec's own words name a byte offset, which no editor shows."""


def read_text_file(path: Path, what: str) -> str:
    """The file's text, UTF-8 with or without the byte-order mark Notepad and Excel write (no part of TOML or CSV);
    `what` names the file in the error ("configuration file"). An unreadable file raises its OSError."""
    raw = path.read_bytes().removeprefix(codecs.BOM_UTF8)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - raw.rfind(b"\n", 0, error.start)
        where = f"byte 0x{raw[error.start]:02x} at line {line}, column {column}"
        raise NotUtf8TextError(f"{what} {path} is not UTF-8 text ({where})") from None
