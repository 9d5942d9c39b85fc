"""Cheaper construction for frozen, slotted dataclasses: an `__init__` that sets each field through its slot, not
object.__setattr__, a `make` function that builds an object without the keyword dict a class call makes, and lazy
fields, read on first use."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

_Class = TypeVar("_Class", bound=type)

# Marks a lazy field not read yet: the slot holds (UNREAD, read, *arguments), and its first use stores read(*arguments)
# in its place. A tuple, not an object of a class of its own: a reader makes one per field left unread, and a tuple
# costs a tenth of building an object. No reading is such a tuple, since none holds this marker.
UNREAD: Any = object()


class _ReadOnFirstUse:
    """The attribute of a lazy field: the slot's value, read (once) when it still holds what it is read from."""

    __slots__ = ("_get", "_set")

    def __init__(self, slot: Any) -> None:
        self._get, self._set = slot.__get__, slot.__set__

    def __get__(self, instance: object | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = self._get(instance)
        if type(value) is tuple and value and value[0] is UNREAD:
            value = value[1](*value[2:])
            self._set(instance, value)  # the slot itself: the frozen class's __setattr__ refuses any other write
        return value

    def __set__(self, instance: object, value: Any) -> None:
        self._set(instance, value)


def slot_init(cls: _Class | None = None, *, lazy: tuple[str, ...] = ()) -> Any:
    """`_slot_init`, as `@slot_init` or `@slot_init(lazy=(field, ...))`: the `lazy` fields may be given as
    (UNREAD, read, *arguments) and are read on first use (equality, hashing, repr, replace and pickling all use them,
    so all see the reading). For what a reader makes on every resource and the checks seldom read: a chart's
    problems' dates, parsed for every call and read by none of the order-sign checks."""
    if cls is None:
        return lambda found: slot_init(found, lazy=lazy)
    served = _slot_init(cls)
    if lazy:
        slots = cls.__dict__.get("__slots__", ())
        if not hasattr(served, "make") or not set(lazy) <= set(slots):
            raise TypeError(f"lazy fields {lazy} need a slotted frozen dataclass slot_init can serve with them")
        for name in lazy:
            setattr(served, name, _ReadOnFirstUse(cls.__dict__[name]))
    return served


def lazy_fields(cls: type) -> tuple[str, ...]:
    """The fields of a record type read on first use (`slot_init(lazy=...)`): read after the record's reading and its
    guard, so their readers must never raise (tests/test_lazy_fields_fuzz.py)."""
    return tuple(name for name, value in vars(cls).items() if isinstance(value, _ReadOnFirstUse))


def _slot_init(cls: _Class) -> _Class:
    """Give a frozen slotted dataclass an `__init__` with the same signature that writes each slot directly, and
    a `make` function with that signature for the hot paths (the readers), which builds the same object cheaper.

    The generated frozen `__init__` calls `object.__setattr__(self, "name", value)` per field, which looks the
    attribute up by name on the class every time; a record holds a few thousand fields per hook call, and that
    lookup cost more than the rest of making the objects. The slot descriptor's own setter does the same write.
    Classes this cannot serve exactly (no slots, default factories, post-init, init-only fields) are left as
    they are."""
    params = getattr(cls, "__dataclass_params__", None)
    fields = dataclasses.fields(cls)
    if (
        params is None
        or not params.frozen
        or "__slots__" not in cls.__dict__
        or hasattr(cls, "__post_init__")
        or any(not f.init or f.kw_only or f.default_factory is not dataclasses.MISSING for f in fields)
        or {f.name for f in fields} != set(cls.__dict__["__slots__"])
    ):
        return cls
    namespace: dict[str, Any] = {}
    params_text, body, make_body = [], [], []
    for f in fields:
        namespace[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default is dataclasses.MISSING:
            params_text.append(f.name)
        else:
            namespace[f"_default_{f.name}"] = f.default
            params_text.append(f"{f.name}=_default_{f.name}")
        body.append(f"    _set_{f.name}(self, {f.name})")
        make_body.append(f"    self.{f.name} = {f.name}")
    source = f"def __init__(self, {', '.join(params_text)}):\n" + "\n".join(body or ["    pass"]) + "\n"
    # make: calling a class with keywords packs them into a dict for __init__, and each slot setter above is a
    # call of its own; a plain function takes keywords as they are, fills a mutable twin with the same slots by
    # ordinary attribute stores, then gives the object its frozen class (same layout, so Python allows it).
    # Built objects are exactly what the class call builds, at about a third of the instructions.
    namespace["_cls"] = cls
    namespace["_twin"] = type(f"_{cls.__name__}Slots", (), {"__slots__": cls.__dict__["__slots__"]})
    source += (
        f"def make({', '.join(params_text)}):\n    self = _twin()\n"
        + "".join(line + "\n" for line in make_body)
        + "    self.__class__ = _cls\n    return self\n"
    )
    exec(source, namespace)  # noqa: S102 - built from the class's own field names, as dataclasses itself does
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    init.__annotations__ = dict(cls.__init__.__annotations__)
    cls.__init__ = init  # type: ignore[misc]
    make = namespace["make"]
    make.__qualname__ = f"{cls.__qualname__}.make"
    make.__module__ = cls.__module__
    make.__doc__ = f"A new {cls.__name__}, as calling the class makes it (cheaper where many are read)."
    make.__annotations__ = {**init.__annotations__, "return": cls.__name__}
    cls.make = staticmethod(make)  # type: ignore[attr-defined]
    return cls
