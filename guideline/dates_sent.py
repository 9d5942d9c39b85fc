"""How a date sent but not read is named: "authoredOn '2026-13-45' could not be read as a date". Below the record's
readers (`guideline.uds`) and `guideline.facts`, so the lines of both name such a date by one rule."""

from __future__ import annotations


def unread_words(unread: tuple[str, ...]) -> str | None:
    """ "authoredOn '2026-13-45' could not be read as a date": how an item's dates sent but not read are named."""
    return "; ".join(f"{written} could not be read as a date" for written in unread) or None


def date_or_unread(when: str | None, unread_dates: tuple[str, ...]) -> str:
    """A test's date as written (`when`), or, undated, the dates `unread_dates` it was sent but not read; "undated"
    only when it was sent none."""
    return when or unread_words(unread_dates) or "undated"
