"""What of a result's value words PainPlan reads, all unless one is far longer than any result's, and why not."""

from __future__ import annotations

from guideline.record import Observation


def read_value_words(observation: Observation) -> list[str]:
    """The value words the readers read: none when they are too long to read (`Observation.value_not_read`: the
    result reads no value, and is named with their length)."""
    return [] if observation.value_not_read is not None else observation.value_words


def not_read_words(length: int, what: str = "value") -> str:
    """Why a value (or a flag) was not read, as the faces name it: "its value is 1,000,000 characters long, not
    read"."""
    return f"its {what} is {length:,} characters long, not read"
