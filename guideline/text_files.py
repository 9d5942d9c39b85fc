"""A settings or input file's text, read as UTF-8; one that is not is named with where, as the site can fix it. The
one reader of every face's settings files (the TOML file, the NDC crosswalk, the SMART and trusted clients files)."""

from __future__ import annotations

import codecs
from pathlib import Path

from guideline.text_errors import where_not_utf8


class NotUtf8TextError(ValueError):
    """A file that is not UTF-8 text (saved in a Windows code page, most often), named with the first byte that is not
    and its line and column: the codec's own words name a byte offset, which no editor shows."""


def read_text_file(path: str | Path, what: str) -> str:
    """The file's text, UTF-8 with or without the byte-order mark Notepad and Excel write (no part of TOML, CSV or
    JSON); `what` names the file in the error ("configuration file"), with `path` as given. Read whole, as bytes: a
    file read as text fails in a chunk, whose place is not the file's. An unreadable file raises its OSError."""
    raw = Path(path).read_bytes().removeprefix(codecs.BOM_UTF8)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:  # where, never the text around it (a client secret, a patient's name)
        raise NotUtf8TextError(f"{what} {path} is not UTF-8 text ({where_not_utf8(error)})") from None
