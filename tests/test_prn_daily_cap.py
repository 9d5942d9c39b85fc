"""A dosage with a dose and a daily maximum (maxDosePerPeriod) but no frequency, "1 tablet as needed, max 6 tablets a
day": CDC MME counts the most the prescription allows, so the stated maximum is the day counted (read with the cap's
one reading, `mme.cap_limit`), and a cap that cannot be read leaves the order named "no frequency" as before."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from builders import RXNORM, UCUM

from smart_app.cli import main

OXYCODONE_5_TABLET = "1049621"  # oxycodone HCl 5 mg oral tablet
TODAY = "2026-06-15"


def qty(value: Any, unit: str = "{tbl}") -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def per(value: Any, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def prn_with_cap(numerator: dict[str, Any], denominator: dict[str, Any]) -> dict[str, Any]:
    """An Epic PRN sig whose only daily amount is its maximum."""
    return {
        "text": "Take 1 tablet by mouth as needed for pain. Max 6 tablets per day.",
        "asNeededBoolean": True,
        "doseAndRate": [{"doseQuantity": qty(1)}],
        "maxDosePerPeriod": {"numerator": numerator, "denominator": denominator},
    }


def order_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], instruction: dict[str, Any]) -> dict[str, Any]:
    """`painplan mme` on one active oxycodone 5 mg order with no dispense quantity or days' supply."""
    order = {
        "resourceType": "MedicationRequest",
        "id": "rx1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2026-06-05",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": OXYCODONE_5_TABLET}]},
        "dosageInstruction": [instruction],
    }
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1970-04-01"}
    path = tmp_path / "bundle.json"
    entries = [{"resource": patient}, {"resource": order}]
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}), encoding="utf-8")
    assert main(["mme", str(path), "--today", TODAY]) == 0
    (line,) = json.loads(capsys.readouterr().out)["orders"]
    return line


def test_a_prn_dose_with_only_a_daily_maximum_counts_the_maximum(tmp_path, capsys):
    line = order_line(tmp_path, capsys, prn_with_cap(qty(6), per(1, "day", "d")))
    assert line["mme_per_day"] == 45.0  # 6 tablets × 5 mg × 1.5
    assert "the prescription's daily maximum" in line["explanation"]
    assert "6 tablets per day" in line["explanation"], line["explanation"]


@pytest.mark.parametrize(
    ("numerator", "denominator", "mme"),
    [
        (qty(28), per(7, "days", "d"), 30.0),  # 4 tablets a day
        (qty(3), per(12, "hours", "h"), 45.0),  # 6 tablets a day
        (qty(30, "mg"), per(1, "day", "d"), 45.0),  # mg converted by the one strength: 6 tablets
    ],
)
def test_a_maximum_over_another_period_or_in_mg_converts_exactly(tmp_path, capsys, numerator, denominator, mme):
    assert order_line(tmp_path, capsys, prn_with_cap(numerator, denominator))["mme_per_day"] == mme


@pytest.mark.parametrize(
    ("numerator", "denominator"),
    [
        (qty(30, "mL"), per(1, "day", "d")),  # mL of a tablet: not the dose's kind
        (qty(6), per(1, "shift", "shift")),  # a period no one can read
    ],
)
def test_a_maximum_that_cannot_be_read_leaves_the_order_named_without_frequency(
    tmp_path, capsys, numerator, denominator
):
    line = order_line(tmp_path, capsys, prn_with_cap(numerator, denominator))
    assert line["mme_per_day"] is None
    assert "no frequency" in line["explanation"]


def test_a_dosage_with_a_frequency_is_still_only_lowered_by_its_cap(tmp_path, capsys):
    instruction = prn_with_cap(qty(6), per(1, "day", "d"))
    instruction["timing"] = {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}}
    line = order_line(tmp_path, capsys, instruction)
    assert line["mme_per_day"] == 30.0  # 4 a day is under the cap of 6: the cap never raises a day
