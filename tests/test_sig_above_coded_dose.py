"""An instruction coded "1 tablet every 6 hours" whose sig (`dosageInstruction.text`) allows more a day ("Take 1-2
tablets every 4-6 hours as needed": 12 tablets): CDC MME counts the most prescribed, so the sig's day is counted and
the line says so, quoting the sig. A sig that allows the same or less, or is not read surely, changes nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from builders import RXNORM, UCUM
from fixtures.mme.helpers import config, orders, terms

from guideline.supply import order_supply
from smart_app.cli import main

OXYCODONE_5_TABLET = "1049621"  # oxycodone HCl 5 mg oral tablet
TODAY = "2026-06-15"
RANGE_SIG = "Take 1-2 tablets by mouth every 4-6 hours as needed for pain"


def tablets(value: Any) -> dict[str, Any]:
    return {"value": value, "unit": "{tbl}", "system": UCUM, "code": "{tbl}"}


def coded(dose: Any, hours: int, sig: str) -> dict[str, Any]:
    """An Epic instruction: a coded dose every `hours`, and the sig as the prescriber wrote it."""
    return {
        "text": sig,
        "asNeededBoolean": True,
        "timing": {"repeat": {"frequency": 1, "period": hours, "periodUnit": "h"}},
        "doseAndRate": [{"doseQuantity": tablets(dose)}],
    }


def mme_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str], *resources: dict[str, Any]) -> list[dict[str, Any]]:
    """`painplan mme` on patient p1 and the resources."""
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1970-04-01"}
    entries = [{"resource": r} for r in (patient, *resources)]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}), encoding="utf-8")
    assert main(["mme", str(path), "--today", TODAY]) == 0
    return json.loads(capsys.readouterr().out)["orders"]


def order(instruction: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": "rx1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2026-06-05",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": OXYCODONE_5_TABLET}]},
        "dosageInstruction": [instruction],
        "dispenseRequest": {"expectedSupplyDuration": {"value": 30, "unit": "days", "system": UCUM, "code": "d"}},
    }


def test_a_sig_allowing_more_than_its_coded_dose_is_counted_and_quoted(tmp_path, capsys):
    (line,) = mme_lines(tmp_path, capsys, order(coded(1, 6, RANGE_SIG)))
    assert line["mme_per_day"] == 90.0  # 2 tablets 6 times a day × 5 mg × 1.5, not the coded 30
    assert "allow more than the coded dose" in line["explanation"], line["explanation"]
    assert f'"{RANGE_SIG}"' in line["explanation"]


def test_a_long_sig_is_quoted_clipped(tmp_path, capsys):
    sig = RANGE_SIG + ". " + "Do not drive or drink alcohol while taking this medicine. " * 4
    (line,) = mme_lines(tmp_path, capsys, order(coded(1, 6, sig)))
    assert line["mme_per_day"] == 90.0
    assert sig not in line["explanation"] and RANGE_SIG in line["explanation"]


@pytest.mark.parametrize(
    ("dose", "hours", "sig", "mme"),
    [
        (1, 6, "Take 1 tablet by mouth every 6 hours as needed for pain", 30.0),  # the same
        (2, 4, "Take 1 tablet by mouth every 6 hours as needed for pain", 90.0),  # less: the coded dose stands
        (1, 6, "Take as directed", 30.0),  # no dose or frequency to read
        (1, 6, "1 tab every 6 hours x 3 days, then 2 tabs every 6 hours x 4 days", 30.0),  # steps: not read surely
        (1, 6, "Take 1 tablet or 2 tablets every 4 hours", 30.0),  # two doses: a choice, not read surely
    ],
)
def test_a_sig_allowing_no_more_or_not_read_surely_changes_nothing(tmp_path, capsys, dose, hours, sig, mme):
    (line,) = mme_lines(tmp_path, capsys, order(coded(dose, hours, sig)))
    assert line["mme_per_day"] == mme
    assert "allow more" not in line["explanation"]


def test_a_quantity_lasts_the_days_of_the_day_counted() -> None:
    """180 tablets at the sig's 12 a day last 15 days, as the MME counts that day (not 45 at the coded 4)."""
    resource = order(coded(1, 6, RANGE_SIG))
    resource["dispenseRequest"] = {"quantity": tablets(180)}
    assert order_supply(orders(resource)[0], terms(), config()).per_fill_days == Decimal(15)
