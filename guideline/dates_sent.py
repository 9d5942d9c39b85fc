"""How a date sent but not read is named: "authoredOn '2026-13-45' could not be read as a date". Below the record's
readers (`guideline.uds`) and `guideline.facts`, so the lines of both name such a date by one rule."""

from __future__ import annotations

UNREAD_SAID = " could not be read as a date"


def unread_words(unread: tuple[str, ...]) -> str | None:
    """ "authoredOn '2026-13-45' could not be read as a date": how an item's dates sent but not read are named."""
    return "; ".join(f"{written}{UNREAD_SAID}" for written in unread) or None


def is_date_read(written: str | None) -> bool:
    """Whether a date as written is one read ("2026-06-05", "2026-05"), not none or dates sent but not read."""
    return bool(written) and not (written or "").endswith(UNREAD_SAID)


def date_or_unread(when: str | None, unread_dates: tuple[str, ...]) -> str:
    """A test's date as written (`when`), or, undated, the dates `unread_dates` it was sent but not read; "undated"
    only when it was sent none."""
    return when or unread_words(unread_dates) or "undated"
