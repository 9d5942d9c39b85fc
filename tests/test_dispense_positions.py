"""`readers.read_dispense` passes a fill's first eight fields to `Dispense.make` by position: by keyword the call
passes CPython's fast call (tests/test_reader_calls_fast). A field moved in the class would then take another's value
without a word; these tests fail first."""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from guideline.fhirdata import RXNORM, UCUM, Quantity
from guideline.record import Dispense, readers
from guideline.record.pool import MedicationPool

TZ = ZoneInfo("America/New_York")

# The fields read_dispense passes by position, in order, each with what its expression there is (a bare name) or
# holds.
POSITIONAL = (
    ("id", "get('id')"),
    ("status", "get('status')"),
    ("medication", "_resolve_medication("),
    ("when_handed_over", "handed_over"),
    ("when_prepared", "_unread_date(prepared"),
    ("days_supply", "supplied.value"),
    ("quantity", "(UNREAD, quantity, written)"),
    ("authorizing_prescriptions", "_located_references(authorizing"),
)


def _make_call() -> ast.Call:
    """The `Dispense.make(...)` call in read_dispense."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(readers.read_dispense)))
    (call,) = (
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "make"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "Dispense"
    )
    return call


def test_the_fields_passed_by_position_are_the_classs_first_fields_in_order() -> None:
    assert [f.name for f in fields(Dispense)][: len(POSITIONAL)] == [name for name, _ in POSITIONAL]


def test_read_dispense_passes_each_by_position_at_its_fields_place() -> None:
    passed = [ast.unparse(arg) for arg in _make_call().args]
    assert len(passed) == len(POSITIONAL), f"read_dispense passes {len(passed)} fields by position: list them here"
    for (name, reads), expression in zip(POSITIONAL, passed, strict=True):
        assert reads == expression if reads.isidentifier() else reads in expression, f"{name} is passed `{expression}`"
    assert not {k.arg for k in _make_call().keywords} & {name for name, _ in POSITIONAL}


def test_a_fill_read_has_each_positional_value_in_its_own_field() -> None:
    """An Epic fill whose seven leading values are all told apart: prepared a day before it was handed over, #60
    for 30 days (a number and a Quantity, which a swap would mix up)."""
    fill = readers.read_dispense(
        {
            "resourceType": "MedicationDispense",
            "id": "eDisp.4471",
            "status": "in-progress",
            "medicationCodeableConcept": {
                "coding": [{"system": RXNORM, "code": "1049621", "display": "oxycodone hydrochloride 5 MG Oral Tablet"}]
            },
            "quantity": {"value": 60, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
            "daysSupply": {"value": 30, "unit": "Day", "system": UCUM, "code": "d"},
            "whenPrepared": "2026-12-01T16:10:00-05:00",
            "whenHandedOver": "2026-12-02T09:45:00-05:00",
        },
        TZ,
        MedicationPool(),
    )
    assert (fill.id, fill.status) == ("eDisp.4471", "in-progress")
    assert fill.medication.concept is not None and fill.medication.concept.codings[0].code == "1049621"
    assert fill.when_handed_over == datetime(2026, 12, 2, 9, 45, tzinfo=TZ)
    assert fill.when_prepared == datetime(2026, 12, 1, 16, 10, tzinfo=TZ)
    assert fill.days_supply == Decimal(30)
    assert fill.quantity == Quantity(Decimal(60), "tablet", UCUM, "{tbl}")
