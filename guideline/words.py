"""Words joined for a sentence ("a", "a and b", "a, b and c"), its first letter a capital, a count with its noun, and
text cut to fit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def and_list(words: Sequence[str]) -> str:
    """The words joined as a sentence lists them: "a", "a and b", "a, b and c" ("" for none)."""
    if len(words) < 2:
        return words[0] if words else ""
    return f"{', '.join(words[:-1])} and {words[-1]}"


def capitalised(text: str) -> str:
    """The text with its first letter a capital and the rest as written (`str.capitalize` lowers "PDMP", "Epic")."""
    return text[:1].upper() + text[1:]


def number_of(count: int, noun: str, plural: str | None = None) -> str:
    """ "1 letter", "2,004 letters": the count and its noun, singular for 1; `plural` where it is not the noun and
    an s ("pharmacies")."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def clip(text: str, limit: int, *, at_word: bool = False) -> str:
    """The text cut to `limit` characters with an ellipsis when it is longer; `at_word`, after the last whole word
    within them (a word that fills more than half of them is cut where it stands)."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 1)]
    if at_word and not text[len(cut)].isspace():
        end = cut.rfind(" ", limit // 2)
        cut = cut[:end] if end > 0 else cut
    return cut.rstrip() + "…"


# A face (a card, the plan page, the note) quotes a text the EHR sent (a drug test's name, a value's words, a name or
# entry too long to read) to this many characters, so one of megabytes is shown by its first words. Real names fit
# whole (the longest LOINC name of a drug test PainPlan reads, guideline/data/uds-analytes.csv, is 105), and as many
# of a text too long to read are enough to find it in the chart: one limit for every quote.
QUOTED_CHARACTERS = 150


# Real free texts on a chart (a sig, a medication or test name, a problem-list entry, a result's value or flag) run to
# a few hundred characters. One far longer is a paste or a hostile text, read in time that grows with its length
# (bench/text_worst_case.py, and a request may be 64 MB); a part of it could say what the rest denies (a negation, a
# history, a refusal), so none of it is read, and it is named. One limit for every such text, so they are one rule:
# each cap module asks `longest_not_read`, never a limit of its own.
TEXT_READ_CHARACTERS = 2_000


def longest_not_read(texts: Iterable[str | None]) -> int | None:
    """The length of the longest of `texts` when it is over `TEXT_READ_CHARACTERS` (then none is read), else None."""
    # Each text is measured alone, as the EHR sent it (a concept's text, one coding's display), never their sum or
    # the line a reader joins them into: Epic sends a name as a concept's text and again as its coding's display, so
    # a sum counted one name twice, and the same words were read as a medication's name and not as a diagnosis's. What
    # the cap stops is one pasted or hostile text; how many texts come is bounded by the request's size like any
    # list, and the readers' patterns run in linear time (tests/test_text_worst_case.py), so a line joined of texts
    # each under the limit costs what reading them apart does.
    longest = 0
    for text in texts:  # a plain loop: asked of every result, report and order on each order-sign
        if text and len(text) > longest:
            longest = len(text)
    return longest if longest > TEXT_READ_CHARACTERS else None


# Items not read are listed by name up to this many on a face (a card, the page's data-completeness panel), which is
# read in a narrow EHR panel; the rest are counted.
FIRST_LISTED = 5


def first_listed(items: Sequence[str], listed: int = FIRST_LISTED) -> list[str]:
    """The first `listed` items, then "and N more" for the rest: ["a", "b", "and 3 more"]."""
    return [*items[:listed], f"and {len(items) - listed} more"] if len(items) > listed else list(items)
