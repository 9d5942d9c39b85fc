"""A settings or input file's text, read as UTF-8; one that is not is named with where, as the site can fix it. The
one reader of every face's settings files (the TOML file, the NDC crosswalk, the SMART and trusted clients files),
and the one decoding of the bytes a command reads (`painplan check` and `mme` input, `--export`'s saved state)."""

from __future__ import annotations

import codecs
from pathlib import Path

from guideline.text_errors import where_not_utf8


class NotUtf8TextError(ValueError):
    """A file that is not UTF-8 text (saved in a Windows code page, most often), named with the first byte that is not
    and its line and column: the codec's own words name a byte offset, which no editor shows."""

    def __init__(self, named: str, where: str) -> None:
        self.why = f"not UTF-8 text ({where})"  # for a list that names the file itself ("state.json: why")
        super().__init__(f"{named} is {self.why}")


def utf8_text(raw: bytes, named: str) -> str:
    """`raw` as text, UTF-8 with or without the byte-order mark Notepad and Excel write (no part of TOML, CSV or JSON);
    `named` names it in the error ("configuration file site.toml", "standard input"). Decoded whole: bytes decoded
    in chunks fail in a chunk, whose place is not the file's."""
    try:
        return raw.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as error:  # where, never the text around it (a client secret, a patient's name)
        raise NotUtf8TextError(named, where_not_utf8(error)) from None


def read_text_file(path: str | Path, what: str) -> str:
    """The file's text (`utf8_text`); `what` names the file in the error ("configuration file"), with `path` as
    given. An unreadable file raises its OSError."""
    return utf8_text(Path(path).read_bytes(), f"{what} {path}")
