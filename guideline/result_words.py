"""What of a result's value words PainPlan reads: all of them, unless one is far longer than any result's."""

from __future__ import annotations

from guideline.record import Observation
from guideline.words import TEXT_READ_CHARACTERS, longest_not_read

# The one free-text cap by this reader's name (why, and how it measures: `words.TEXT_READ_CHARACTERS`): a result with
# a value text over it reads no value (`value_not_read`), and is named.
VALUE_READ_CHARACTERS = TEXT_READ_CHARACTERS


def value_not_read(observation: Observation) -> int | None:
    """The length of a result's longest value words (`Observation.value_words`) when it is over
    `VALUE_READ_CHARACTERS` (then none of them is read), else None."""
    return longest_not_read(observation.value_words)


def read_value_words(observation: Observation) -> list[str]:
    """The value words the readers read: none when they are too long to read (`value_not_read`)."""
    return [] if value_not_read(observation) is not None else observation.value_words


def not_read_words(length: int) -> str:
    """Why a value was not read, as the faces name it: "its value is 1,000,000 characters long, not read"."""
    return f"its value is {length:,} characters long, not read"
