"""A comma inside a number, as names and sigs write it: a thousands separator ("1,600 mcg") or a decimal comma
("7,5 mg", "1,5 tablets"). One rule for the name reader (guideline.recognition.names) and the sig reader
(guideline.dosage); a module of its own so the sig reader need not import recognition, which imports it."""

from __future__ import annotations

import re

# A comma inside a number: a thousands separator between one to three digits (the first no 0) and groups of exactly
# three ("1,000 mcg", "ACTIQ 1,600 MCG"), else a decimal comma ("7,5 mg", "0,5 mg/ml"). Every other comma is a list's
# ("5 mg, 325 mg") and a space. Read as a space, "1,600 mcg" was 600 mcg and "7,5 mg" 5 mg: doses lost, silently.
_THOUSANDS = re.compile(r"(?<![\d.,])[1-9]\d{0,2}(?:,\d{3})++(?!\d|,\d)")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")


def commas_read(text: str) -> str:
    """The text with a comma inside a number read: a thousands separator dropped, a decimal comma made a point."""
    if "," not in text:
        return text
    return _DECIMAL_COMMA.sub(".", _THOUSANDS.sub(lambda number: number.group().replace(",", ""), text))
