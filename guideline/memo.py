"""Answers remembered per immutable record object (identity-keyed, bounded, thread-safe)."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable, Mapping
from enum import Enum
from typing import Any, Final, Generic, TypeVar, overload


class _Missing(Enum):
    """No answer remembered: one member, so that mypy narrows a lookup's result once it `is not MISSING`."""

    MISSING = "missing"


MISSING: Final = _Missing.MISSING
_Value = TypeVar("_Value")
_Key = TypeVar("_Key", bound=Hashable)
_Question = TypeVar("_Question", bound=Hashable)
_Item = TypeVar("_Item")

# Every memo made, so a cold-cost benchmark can forget them all at once (weak: a memo dies with its owner).
_ALL: weakref.WeakSet[IdentityMemo | IdentityTables] = weakref.WeakSet()


class IdentityMemo:
    """Answers remembered per (question, record objects).

    Record objects are immutable, and the reader shares one object per distinct concept, dosage list and dispense
    request, so identity is an exact and cheap key where hashing by content would cost more than the answer.
    Each entry holds its objects, so their ids cannot be reused while the entry exists. Bounded: emptied when full,
    after which answers are simply computed again. Safe to share between threads (single dict operations). Answers
    per configuration, which must not keep it alive, are a WeakIdentityMemo's.
    """

    __slots__ = ("__weakref__", "_limit", "entries")

    def __init__(self, limit: int = 1 << 16) -> None:
        # (question, id(item), ...) -> ((item, ...), answer)
        self.entries: dict[tuple[Hashable, ...], tuple[tuple[object, ...], object]] = {}
        self._limit = limit
        _ALL.add(self)

    def get(self, question: Hashable, *items: object) -> object:
        """The remembered answer, or MISSING."""
        # An entry keeps its objects alive, so no other live object can have their ids: the key alone is exact.
        entry = self.entries.get((question, *map(id, items)))
        return MISSING if entry is None else entry[1]

    def put(self, question: Hashable, *items: object, answer: object) -> None:
        if len(self.entries) >= self._limit:
            self.entries.clear()
        self.entries[(question, *map(id, items))] = (items, answer)

    def clear(self) -> None:
        self.entries.clear()


class WeakIdentityMemo(IdentityMemo):
    """An IdentityMemo whose entries do not keep their objects alive: for a long-lived object a call only borrows (a
    configuration, which settings read again replace). An entry goes when one of its objects is collected, before
    its id can be another's, so the key alone stays exact. Its objects must take weak references.

    An answer remembered per configuration belongs in one (the card sources, the hook templates, the terminology): a
    service reads one configuration for its life, so a look-up costs what an IdentityMemo's does, while the many a
    test run makes are freed with what was worked out for them, never held until the memo fills."""

    __slots__ = ()

    def put(self, question: Hashable, *items: object, answer: object) -> None:
        if len(self.entries) >= self._limit:
            self.entries.clear()
        key = (question, *map(id, items))
        entries = self.entries

        def forget(_: object) -> None:
            entries.pop(key, None)

        # The entry holds the weak references that drop it: an entry emptied takes its references with it, so an
        # object put again after each emptying (`forget_all` before every cold benchmark run) carries one, not one
        # per emptying, as a `weakref.finalize`, kept until its object dies, did.
        entries[key] = (tuple(weakref.ref(item, forget) for item in items), answer)


class IdentityTables:
    """Answers per (question, one record object), like IdentityMemo, kept in one table per question keyed by the
    object's id alone: a look-up is `tables.get(question)` then an int-keyed get, with no key tuple to build and hash
    (set membership is asked hundreds of times a call). Each entry holds its object, so its id stays its own.
    Bounded: emptied when full. Safe to share between threads (single dict operations)."""

    __slots__ = ("__weakref__", "_limit", "_size", "tables")

    def __init__(self, limit: int = 1 << 16) -> None:
        # question -> id(item) -> (item, answer)
        self.tables: dict[Hashable, dict[int, tuple[object, object]]] = {}
        self._limit = limit
        self._size = 0
        _ALL.add(self)

    def put(self, question: Hashable, item: object, answer: object) -> None:
        if self._size >= self._limit:
            self.clear()
        table = self.tables.get(question)
        if table is None:
            table = self.tables.setdefault(question, {})
        table[id(item)] = (item, answer)
        self._size += 1

    def keys_where(
        self, question: _Question, items: Mapping[_Key, _Item], answer: Callable[[_Question, _Item], object]
    ) -> frozenset[_Key]:
        """The keys of `items` whose object's answer to `question` is true, each remembered answer read in one loop
        and the others asked of `answer` (question, item), which is to put them: a call per object cost more."""
        table = self.tables.get(question) or {}
        found = []
        for key, item in items.items():
            entry = table.get(id(item))  # the entry holds its object, so the id is its own
            if entry[1] if entry is not None else answer(question, item):
                found.append(key)
        return frozenset(found)

    def clear(self) -> None:
        for table in list(self.tables.values()):
            table.clear()
        self._size = 0


def forget_all() -> None:
    """Empty every memo (benchmarks measure the cold cost with this; answers never depend on it)."""
    for memo in list(_ALL):
        memo.clear()


class cached_property(Generic[_Value]):  # noqa: N801 - a drop-in for functools.cached_property
    """A value computed on first read and kept on the instance, like functools.cached_property but without the
    lock Python 3.11 takes on every first read (one lock shared by all instances of the class, so concurrent
    calls would queue on it). Each Facts belongs to one call; a value read twice at once would be the same."""

    def __init__(self, func: Callable[[Any], _Value]) -> None:
        self.func = func
        self.attrname = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.attrname = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> cached_property[_Value]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _Value: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> _Value | cached_property[_Value]:
        if instance is None:
            return self
        value = instance.__dict__[self.attrname] = self.func(instance)
        return value
