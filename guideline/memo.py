"""Answers remembered per immutable record object (identity-keyed, bounded, thread-safe)."""

from __future__ import annotations

import operator
import weakref
from collections.abc import Hashable
from typing import Final

MISSING: Final = object()

# Every memo made, so a cold-cost benchmark can forget them all at once (weak: a memo dies with its owner).
_ALL: weakref.WeakSet[IdentityMemo] = weakref.WeakSet()


class IdentityMemo:
    """Answers remembered per (question, record objects).

    Record objects are immutable, and the reader shares one object per distinct concept, dosage list and dispense
    request, so identity is an exact and cheap key where hashing by content would cost more than the answer.
    Each entry holds its objects, so their ids cannot be reused while the entry exists. Bounded: emptied when full,
    after which answers are simply computed again. Safe to share between threads (single dict operations).
    """

    __slots__ = ("__weakref__", "_limit", "entries")

    def __init__(self, limit: int = 1 << 16) -> None:
        # (question, id(item), ...) -> ((item, ...), answer)
        self.entries: dict[tuple[Hashable, ...], tuple[tuple[object, ...], object]] = {}
        self._limit = limit
        _ALL.add(self)

    def get(self, question: Hashable, *items: object) -> object:
        """The remembered answer, or MISSING."""
        entry = self.entries.get((question, *map(id, items)))
        if entry is not None and all(map(operator.is_, entry[0], items)):
            return entry[1]
        return MISSING

    def put(self, question: Hashable, *items: object, answer: object) -> None:
        if len(self.entries) >= self._limit:
            self.entries.clear()
        self.entries[(question, *map(id, items))] = (items, answer)


def forget_all() -> None:
    """Empty every memo (benchmarks measure the cold cost with this; answers never depend on it)."""
    for memo in list(_ALL):
        memo.entries.clear()
