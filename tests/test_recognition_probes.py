"""Real-world medication data that was once misread in silence. Read through `painplan mme`, end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from smart_app.cli import main

NDC = "http://hl7.org/fhir/sid/ndc"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
OXYCODONE_5 = {"system": RXNORM, "code": "1049621", "display": "oxycodone hydrochloride 5 MG Oral Tablet"}


def tablets(value: int) -> dict:
    return {"value": value, "unit": "tablet", "system": UCUM, "code": "{tbl}"}


def every_hours(hours: int) -> dict:
    return {"repeat": {"frequency": 1, "period": hours, "periodUnit": "h"}}


def order(concept: dict, timing: dict, dose: int = 1, id: str = "rx1") -> dict:
    """An R4 MedicationRequest as an EHR sends it: one instruction, a dose in tablets."""
    return {
        "resourceType": "MedicationRequest",
        "id": id,
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2026-06-01",
        "medicationCodeableConcept": concept,
        "dosageInstruction": [{"timing": timing, "doseAndRate": [{"doseQuantity": tablets(dose)}]}],
    }


def ndc_only(display: str, code: str = "00406-0123-01") -> dict:
    """A medication known only by its NDC, named in the display a payer's drug file gives it."""
    return {"coding": [{"system": NDC, "code": code, "display": display}]}


def fill(concept: dict, quantity: int, days: int, when: str = "2026-06-10") -> dict:
    """A pharmacy fill with no order, as a PBM's medication history sends it."""
    return {
        "resourceType": "MedicationDispense",
        "id": "f1",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "whenHandedOver": when,
        "medicationCodeableConcept": concept,
        "quantity": {"value": quantity, "unit": "EA", "system": UCUM, "code": "{EA}"},
        "daysSupply": {"value": days, "unit": "day", "system": UCUM, "code": "d"},
    }


def mme_report(tmp_path: Path, capsys: pytest.CaptureFixture[str], *resources: dict) -> dict[str, Any]:
    """`painplan mme` over a Bundle of the resources, on a fixed date."""
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    assert main(["mme", str(path), "--today", "2026-06-15"]) == 0
    return json.loads(capsys.readouterr().out)


# ---- frequencies written out in words, as Epic writes them ----


@pytest.mark.parametrize(
    ("text", "per_day"),
    [
        ("4 (four) times daily", 4),  # read as "daily": once a day, a quarter of the dose
        ("2 (two) times daily", 2),
        ("Four (4) times daily", 4),
        ("3 (three) times daily as needed", 3),
        ("every twelve hours, no more than 2 tablets daily", 2),  # the "daily" of the limit was read: once a day
        ("Every eight (8) hours PRN", 3),
        ("every morning and at bedtime", 2),  # the "every morning" of once a day was read first
        ("in the morning and evening", 2),
    ],
)
def test_a_frequency_written_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, per_day: int
) -> None:
    timing = {"code": {"text": text}}
    report = mme_report(tmp_path, capsys, order({"coding": [OXYCODONE_5]}, timing))
    (line,) = report["orders"]
    assert line["mme_per_day"] == per_day * 5 * 1.5
    assert f"({per_day} a day)" in line["explanation"]
