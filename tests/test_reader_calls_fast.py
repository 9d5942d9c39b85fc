"""The readers build every record object within CPython's fast call.

CPython 3.11 compiles a call whose positional arguments plus twice its keyword arguments pass 30 into one that packs
the keywords into a dict first (compile.c, STACK_USE_GUIDELINE): about 8,000 instructions more per object built, where
the whole call costs about 2,000. A reader builds one object per resource of a chart (an order-sign reads ~200), and
one field added to a class read by keyword tipped Observation.make, Dispense.make and MedOrder.make past it unseen.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

RECORD = Path(__file__).resolve().parent.parent / "guideline" / "record"
FAST_CALL_LIMIT = 30  # CPython 3.11's STACK_USE_GUIDELINE


def _make_calls(path: Path) -> list[tuple[int, str, int]]:
    """Every `<Class>.make(...)` call in a module: its line, the class and its weight (positional + 2 x keyword)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "make":
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else ast.unparse(owner)
            found.append((node.lineno, name, len(node.args) + 2 * len(node.keywords)))
    return found


@pytest.mark.parametrize("module", sorted(p.name for p in RECORD.glob("*.py")))
def test_every_record_object_is_made_by_a_fast_call(module: str) -> None:
    slow = [(line, name, weight) for line, name, weight in _make_calls(RECORD / module) if weight > FAST_CALL_LIMIT]
    assert slow == [], f"{module}: calls past CPython's fast call (line, class, positional + 2 x keywords): {slow}"


def test_the_readers_are_checked() -> None:
    calls = {name for _, name, _ in _make_calls(RECORD / "readers.py")}
    assert {"Observation", "Dispense", "MedOrder"} <= calls


def test_the_limit_is_where_cpython_packs_keywords_into_a_dict() -> None:
    """The rule this test applies, shown on CPython itself: 15 keywords are passed as they are, 16 go through a dict
    (BUILD_MAP and CALL_FUNCTION_EX), as all-positional calls of any length do not."""

    def ops(call: str) -> set[str]:
        import dis

        return {instruction.opname for instruction in dis.get_instructions(compile(call, "<call>", "eval"))}

    keywords = [f"a{i}={i}" for i in range(16)]
    assert "CALL_FUNCTION_EX" not in ops(f"f({', '.join(keywords[:15])})")
    assert "CALL_FUNCTION_EX" in ops(f"f({', '.join(keywords)})")
    assert "CALL_FUNCTION_EX" not in ops(f"f({', '.join(str(i) for i in range(18))})")


def _positional_names(path: Path) -> list[tuple[int, str, int, str]]:
    """Every bare name passed by position to a `<Class>.make(...)`: its line, the class, its place and the name."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "make":
            owner = node.func.value
            if isinstance(owner, ast.Name):
                found += [(node.lineno, owner.id, i, a.id) for i, a in enumerate(node.args) if isinstance(a, ast.Name)]
    return found


@pytest.mark.parametrize("module", sorted(p.name for p in RECORD.glob("*.py")))
def test_a_local_named_as_a_field_is_passed_at_that_field_s_place(module: str) -> None:
    """A reader passes a class's fields by position (keywords cost a scan each) as locals named as the fields they
    fill: one out of place would fill another field, silently, where a keyword would have failed. (A name that is no
    field's, such as `order_id`, is not checked here.)"""
    from dataclasses import fields

    from guideline.record import model

    wrong = []
    for line, owner, place, name in _positional_names(RECORD / module):
        cls = getattr(model, owner, None)
        if cls is None:
            continue
        expected = [f.name for f in fields(cls)]
        if name in expected and (place >= len(expected) or expected[place] != name):
            wrong.append((line, owner, place, name))
    assert wrong == [], f"{module}: names passed by position that are not the field at that place: {wrong}"


def test_the_readers_pass_a_result_s_fields_by_position() -> None:
    names = {(owner, name) for _, owner, _, name in _positional_names(RECORD / "readers.py")}
    assert {
        ("Observation", "effective_period_start"),
        ("Observation", "reference_below"),
    } <= names
