"""slot_init: the cheaper frozen __init__ takes the same arguments and makes equal, still-frozen objects."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle

import pytest

import guideline.record.model as model
from guideline.record.slot_init import UNREAD, slot_init

MODEL_CLASSES = [
    c
    for c in vars(model).values()
    if isinstance(c, type) and dataclasses.is_dataclass(c) and c.__module__ == model.__name__ and "__slots__" in vars(c)
]


def _generated(cls: type) -> type:
    """The same class as dataclasses alone would make it."""
    fields = [(f.name, f.type, f) for f in dataclasses.fields(cls)]
    return dataclasses.make_dataclass(cls.__name__, fields, frozen=True, slots=True)


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda c: c.__name__)
def test_every_slotted_record_type_gets_the_slot_init_with_the_dataclass_signature(cls: type) -> None:
    assert "_set_" in " ".join(cls.__init__.__code__.co_names)
    assert inspect.signature(cls.__init__) == inspect.signature(_generated(cls).__init__)


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda c: c.__name__)
def test_objects_are_equal_to_what_dataclasses_makes_and_stay_frozen(cls: type) -> None:
    reference = _generated(cls)
    required = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING]
    values = {name: f"value-{n}" for n, name in enumerate(required)}
    made, expected = cls(**values), reference(**values)
    assert dataclasses.astuple(made) == dataclasses.astuple(expected)
    assert made == cls(*values.values()) and hash(made) == hash(cls(**values))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.__setattr__(dataclasses.fields(cls)[0].name, "changed")
    if required:
        with pytest.raises(TypeError, match="missing"):
            cls()
    with pytest.raises(TypeError):
        cls(**values, not_a_field=1)


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda c: c.__name__)
def test_make_takes_the_same_arguments_and_makes_the_same_frozen_object(cls: type) -> None:
    init = inspect.signature(cls.__init__)
    assert list(inspect.signature(cls.make).parameters.values()) == list(init.parameters.values())[1:]
    required = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING]
    values = {name: f"value-{n}" for n, name in enumerate(required)}
    made, expected = cls.make(**values), cls(**values)
    assert type(made) is cls and made == expected and hash(made) == hash(expected) and repr(made) == repr(expected)
    assert dataclasses.astuple(made) == dataclasses.astuple(expected)
    every = {f.name: f"all-{n}" for n, f in enumerate(dataclasses.fields(cls))}
    assert cls.make(**every) == cls(**every) and cls.make(*every.values()) == cls(*every.values())
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.__setattr__(dataclasses.fields(cls)[0].name, "changed")
    assert dataclasses.replace(made) == made and pickle.loads(pickle.dumps(made)) == made
    if required:
        with pytest.raises(TypeError, match="missing"):
            cls.make()
    with pytest.raises(TypeError):
        cls.make(**values, not_a_field=1)


def test_classes_it_cannot_serve_exactly_are_left_as_they_are() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class WithFactory:
        items: list[int] = dataclasses.field(default_factory=list)

    @dataclasses.dataclass(frozen=True)
    class WithoutSlots:
        value: int

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class KeywordOnly:
        value: int

    for cls in (WithFactory, WithoutSlots, KeywordOnly):
        before = cls.__init__
        assert slot_init(cls) is cls and cls.__init__ is before and not hasattr(cls, "make")


def test_a_lazy_field_is_read_on_first_use_only_and_every_view_of_it_sees_the_reading() -> None:
    """A field the reader leaves unread (`UNREAD`, the function and its arguments) is read when first used and kept:
    equality, hashing, repr, replace, pickling and astuple all see the reading, never the marker."""
    calls: list[str] = []

    def read(written: str) -> str:
        calls.append(written)
        return written.upper()

    @slot_init(lazy=("later",))
    @dataclasses.dataclass(frozen=True, slots=True)
    class Held:
        now: str
        later: str | None

    held = Held.make("a", (UNREAD, read, "b"))
    assert calls == []  # nothing read when made
    assert held.later == "B" and held.later == "B" and calls == ["b"]  # read once, then kept
    same = Held("a", (UNREAD, read, "b"))
    assert same == held and hash(same) == hash(held) and repr(held).endswith("Held(now='a', later='B')")
    assert dataclasses.replace(held, now="c").later == "B" and dataclasses.astuple(held) == ("a", "B")
    assert copy.copy(Held.make("a", (UNREAD, read, "c"))).later == "C"  # pickling's state: the reading
    assert Held.make("a", None).later is None and Held.make("a", ()).later == ()  # plain values are as they are
    with pytest.raises(dataclasses.FrozenInstanceError):
        held.__setattr__("later", "x")


def test_lazy_fields_on_a_class_it_cannot_serve_are_refused() -> None:
    """Without the slot_init it would make, a lazy field would hand out the marker itself: refused, not silent."""

    @dataclasses.dataclass(frozen=True)
    class WithoutSlots:
        value: int

    with pytest.raises(TypeError, match="lazy"):
        slot_init(lazy=("value",))(WithoutSlots)
    with pytest.raises(TypeError, match="lazy"):
        slot_init(lazy=("missing",))(_generated(model.Patient))
