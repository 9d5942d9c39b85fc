"""What of a result's value words and flags PainPlan reads: all of them, unless one is far longer than any result's."""

from __future__ import annotations

from guideline.record import Observation
from guideline.words import longest_not_read


def read_value_words(observation: Observation) -> list[str]:
    """The value words the readers read: none when they are too long to read (`Observation.value_not_read`: the
    result reads no value, and is named with their length)."""
    return [] if observation.value_not_read is not None else observation.value_words


def flag_not_read(observation: Observation) -> int | None:
    """The length of a result's longest interpretation text (a flag's text or a coding's name) when it is over
    `words.TEXT_READ_CHARACTERS` (then the result reads no value, as for value words too long to read), else None."""
    return longest_not_read(
        text for flag in observation.interpretation for text in (flag.text, *(c.display for c in flag.codings))
    )


def not_read_words(length: int, what: str = "value") -> str:
    """Why a value (or a flag) was not read, as the faces name it: "its value is 1,000,000 characters long, not
    read"."""
    return f"its {what} is {length:,} characters long, not read"
