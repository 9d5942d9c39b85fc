"""A MedicationStatement that names the order it records (`basedOn`, or STU3/R4 `derivedFrom`: Epic's medication
list entry of a prescription) is that order's supply, not a second one (*One supply, never two*)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from builders import PATIENT_ID, RXNORM, UCUM, med_request

from smart_app.cli import main

TODAY = "2026-06-15"
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet: 1 every 6 hours is 30 MME/day
HYDROCODONE = "856999"  # hydrocodone bitartrate 5 MG / acetaminophen 325 MG Oral Tablet: 1 every 6 hours is 20


def statement_of(rxcui: str, order_ref: str, link: str) -> dict[str, Any]:
    """The medication list's entry of a prescription, confirmed when it was written: 1 tablet every 6 hours."""
    return {
        "resourceType": "MedicationStatement",
        "id": "ms1",
        "status": "active",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui}]},
        "effectivePeriod": {"start": "2026-06-05"},
        "dateAsserted": "2026-06-05",
        link: [{"reference": order_ref}],
        "dosage": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "{tbl}", "system": UCUM, "code": "{tbl}"}}],
            }
        ],
    }


def current_total(tmp_path: Path, capsys: pytest.CaptureFixture[str], *resources: dict[str, Any]) -> float:
    """`painplan mme --today 2026-06-15` on a Bundle of the resources beside the patient."""
    entries = [{"resource": {"resourceType": "Patient", "id": PATIENT_ID, "birthDate": "1970-04-01"}}]
    entries += [{"resource": r} for r in resources]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}), encoding="utf-8")
    assert main(["mme", str(path), "--today", TODAY]) == 0
    return json.loads(capsys.readouterr().out)["current_total_mme"]


def oxycodone_order() -> dict[str, Any]:
    return med_request(OXYCODONE, id="rx1", authored="2026-06-05", dose=1, period=6, supply_days=30)


@pytest.mark.parametrize("link", ["basedOn", "derivedFrom"])
@pytest.mark.parametrize("ref", ["MedicationRequest/rx1", "https://ehr.example/fhir/MedicationRequest/rx1/_history/2"])
def test_a_statement_naming_the_current_order_is_not_a_second_supply(link, ref, tmp_path, capsys) -> None:
    total = current_total(tmp_path, capsys, oxycodone_order(), statement_of(OXYCODONE, ref, link))
    assert total == 30.0


def test_a_statement_naming_an_order_not_on_record_counts(tmp_path, capsys) -> None:
    total = current_total(
        tmp_path, capsys, oxycodone_order(), statement_of(OXYCODONE, "MedicationRequest/rx9", "basedOn")
    )
    assert total == 60.0


def test_a_statement_of_another_drug_naming_the_order_counts(tmp_path, capsys) -> None:
    total = current_total(
        tmp_path, capsys, oxycodone_order(), statement_of(HYDROCODONE, "MedicationRequest/rx1", "basedOn")
    )
    assert total == 70.0
