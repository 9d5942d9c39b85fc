"""A comma inside a number, as names and sigs write it: a thousands separator ("1,600 mcg") or a decimal comma
("7,5 mg", "1,5 tablets"); and, in a sig's count of hours, days or times, what a decimal comma may mean. One rule
for the name reader (guideline.recognition.names) and the sig reader (guideline.dosage); a module of its own so the
sig reader need not import recognition, which imports it."""

from __future__ import annotations

import re
from decimal import Decimal

# A comma inside a number: a thousands separator between one to three digits (the first no 0) and groups of exactly
# three ("1,000 mcg", "ACTIQ 1,600 MCG"), else a decimal comma ("7,5 mg", "0,5 mg/ml"). Every other comma is a list's
# ("5 mg, 325 mg") and a space. Read as a space, "1,600 mcg" was 600 mcg and "7,5 mg" 5 mg: doses lost, silently.
_THOUSANDS = re.compile(r"(?<![\d.,])[1-9]\d{0,2}(?:,\d{3})++(?!\d|,\d)")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
# A number as `commas_read(..., decimal=False)` leaves it: digits, and a decimal point or a decimal comma.
NUMBER = r"\d+(?:[.,]\d+)?"


def commas_read(text: str, *, decimal: bool = True) -> str:
    """The text with a comma inside a number read: a thousands separator dropped, and a decimal comma made a point;
    with `decimal` False a decimal comma is kept as written, for a reader that weighs it (`comma_readings`)."""
    if "," not in text:
        return text
    text = _THOUSANDS.sub(lambda number: number.group().replace(",", ""), text)
    return _DECIMAL_COMMA.sub(".", text) if decimal else text


def comma_readings(number: str) -> tuple[Decimal, ...]:
    """What a number kept by `commas_read(..., decimal=False)` may mean as a sig's count of hours, days or times:
    "4,5" is 4.5 with a decimal comma, or 4 and 5 listed with the space left out ("every 4,5 hours": 4 or 5); a
    number without a comma means one thing. A count that differs between the readings is not read, never guessed:
    every 4.5 hours is 5.33 doses a day, every 4 hours 6."""
    if "," not in number:
        return (Decimal(number),)
    whole, fraction = number.split(",")
    return tuple(dict.fromkeys((Decimal(f"{whole}.{fraction}"), Decimal(whole), Decimal(fraction))))
