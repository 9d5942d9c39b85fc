"""Words joined for a sentence ("a", "a and b", "a, b and c"), and text cut to fit a place."""

from __future__ import annotations

from collections.abc import Sequence


def and_list(words: Sequence[str]) -> str:
    """The words joined as a sentence lists them: "a", "a and b", "a, b and c" ("" for none)."""
    if len(words) < 2:
        return words[0] if words else ""
    return f"{', '.join(words[:-1])} and {words[-1]}"


def clip(text: str, limit: int) -> str:
    """The text cut to `limit` characters with an ellipsis when it is longer."""
    return text if len(text) <= limit else text[: max(limit - 1, 1)].rstrip() + "…"
