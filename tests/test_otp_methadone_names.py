"""Methadone 40 mg tablets for oral suspension (dispensed only by opioid treatment programs, for opioid use disorder)
and buprenorphine/naloxone, named as Epic, drug files and pharmacy claims abbreviate them: read as treatment for
opioid use disorder, never counted in MME; pain methadone is read as before. `painplan mme` and a patient-view call
on 2026-06-15."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from builders import RXNORM, UCUM
from cds_support import bundle, full_prefetch, hook_request, make_app

from guideline import mme_factors as mf
from guideline.config import GuidelineConfig
from guideline.recognition.names import read_name
from guideline.terminology import METHADONE_OUD_CODES, load_terminology
from smart_app.cli import main

TODAY = "2026-06-15"
EPIC_ERX = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"


def qty(value: Any, unit: str = "{tbl}") -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


DAILY = {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}
# 2.5 tablets (100 mg) once daily, as an opioid treatment program doses it.
OTP_DOSE = {"doseAndRate": [{"doseQuantity": qty(2.5)}], "timing": DAILY}


def order(medication: Mapping[str, Any], dose: Mapping[str, Any]) -> dict[str, Any]:
    """An active outpatient order; a Medication resource is sent contained, as Epic sends its ERX."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": "rx1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2026-06-05",
        "requester": {"reference": "Practitioner/dr1"},
        "dosageInstruction": [dict(dose)],
        "dispenseRequest": {"expectedSupplyDuration": {"value": 30, "unit": "days", "system": UCUM, "code": "d"}},
    }
    if medication.get("resourceType") == "Medication":
        resource["contained"] = [dict(medication)]
        resource["medicationReference"] = {"reference": f"#{medication['id']}"}
    else:
        resource["medicationCodeableConcept"] = dict(medication)
    return resource


def fill(name: str, days: int, quantity: Mapping[str, Any]) -> dict[str, Any]:
    """A completed pharmacy fill known by its claim's drug name only, handed over 2026-06-10."""
    return {
        "resourceType": "MedicationDispense",
        "id": "md1",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"text": name},
        "whenHandedOver": "2026-06-10",
        "daysSupply": {"value": days, "unit": "Day", "system": UCUM, "code": "d"},
        "quantity": dict(quantity),
    }


def mme_report(tmp_path: Path, capsys: pytest.CaptureFixture[str], resource: Mapping[str, Any]) -> dict[str, Any]:
    """`painplan mme --today 2026-06-15` on a Bundle of the resource beside patient p1."""
    entries = [{"resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1970-04-01"}}, {"resource": resource}]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}), encoding="utf-8")
    assert main(["mme", str(path), "--today", TODAY]) == 0
    return json.loads(capsys.readouterr().out)


# Epic's ERX name (TBSO: tablet for oral suspension), a claim's (DISKET), a drug file's (DISP TAB), a bare tablet
# and the brand: no methadone tablet for pain is made above 10 mg.
OTP_NAMES = [
    "METHADONE HCL 40 MG PO TBSO",
    "METHADONE DISKET 40MG",
    "METHADONE HCL DISP TAB 40MG",
    "methadone 40 mg tablet",
    "METHADOSE 40 MG TABLET",
    "Diskets 40 mg dispersible tablet",
    "methadone HCl 40 mg tablet for oral suspension",
]


@pytest.mark.parametrize("name", OTP_NAMES)
def test_an_otp_methadone_order_by_name_is_not_counted_in_mme(name, tmp_path, capsys):
    report = mme_report(tmp_path, capsys, order({"text": name}, OTP_DOSE))
    (line,) = report["orders"]
    assert line["status"] == "excluded", line["explanation"]
    assert "methadone for opioid use disorder" in line["explanation"]
    assert report["current_total_mme"] == 0.0 and report["current_complete"] is True


def test_an_epic_erx_with_its_ingredient_list_and_form_is_not_counted_in_mme(tmp_path, capsys):
    """The Epic ERX as a contained Medication: its name, methadone 40 mg per tablet, form "Tablet for Suspension"."""
    medication = {
        "resourceType": "Medication",
        "id": "erx-meth40",
        "code": {"coding": [{"system": EPIC_ERX, "code": "27455"}], "text": "METHADONE HCL 40 MG PO TBSO"},
        "form": {"text": "Tablet for Suspension"},
        "ingredient": [
            {
                "itemCodeableConcept": {"coding": [{"system": RXNORM, "code": "6813"}], "text": "methadone HCl"},
                "strength": {"numerator": qty(40, "mg"), "denominator": qty(1)},
            }
        ],
    }
    (line,) = mme_report(tmp_path, capsys, order(medication, OTP_DOSE))["orders"]
    assert line["status"] == "excluded", line["explanation"]
    assert "methadone for opioid use disorder" in line["explanation"]


def test_patient_view_gives_no_high_dose_card_for_a_claims_fill_of_diskets(tmp_path):
    """A week's take-home Diskets from the program's pharmacy, as a claims feed names it."""
    week = fill("METHADONE DISKET 40MG", 7, qty(17.5))
    prefetch = full_prefetch("patient-view", dispenses=bundle(week))
    response = (
        make_app(tmp_path)
        .test_client()
        .post("/cds-services/patient-view", json=hook_request("patient-view", prefetch=prefetch))
    )
    assert response.status_code == 200
    topics = {card["source"]["topic"]["code"] for card in response.json["cards"]}
    assert "high-mme" not in topics


@pytest.mark.parametrize(
    ("name", "dose", "mme"),
    [
        ("methadone 10 mg tablet", qty(1), 47.0),  # 10 mg/day at 4.7 per mg
        ("METHADONE HCL 10 MG PO TABS", qty(1), 47.0),
        ("methadone 5 mg tablet", qty(2), 47.0),
        ("METHADONE HCL 10 MG/5ML PO SOLN", qty(5, "mL"), 47.0),
    ],
)
def test_pain_methadone_by_name_is_counted_as_before(name, dose, mme, tmp_path, capsys):
    """The guard: pain methadone tablets and oral solution stay counted."""
    report = mme_report(
        tmp_path, capsys, order({"text": name}, {"doseAndRate": [{"doseQuantity": dose}], "timing": DAILY})
    )
    (line,) = report["orders"]
    assert line["status"] == "converted", line["explanation"]
    assert report["current_total_mme"] == mme


@pytest.mark.parametrize("name", ["METHADONE HCL 10 MG/ML PO CONC", "METHADONE HCL 10 MG/ML IJ SOLN"])
def test_the_oral_concentrate_stays_treatment_and_an_injection_stays_pain(name, tmp_path, capsys):
    (line,) = mme_report(
        tmp_path, capsys, order({"text": name}, {"doseAndRate": [{"doseQuantity": qty(10, "mL")}], "timing": DAILY})
    )["orders"]
    treatment = "methadone for opioid use disorder" in line["explanation"]
    assert treatment is ("CONC" in name), line["explanation"]


def test_the_name_rule_agrees_with_the_drug_table():
    """Every 40 mg methadone product in the packaged RxNorm table is a tablet for oral suspension the treatment codes
    hold, and no pain methadone tablet is above 10 mg: the name rule's 40 mg reads the table's products."""
    rows = [
        row
        for rows in load_terminology(GuidelineConfig.from_mapping({})).drug_table().values()
        for row in rows
        if row.ingredient_rxcui == mf.METHADONE
    ]
    forty = {row.rxcui for row in rows if row.strength_unit.upper() == "MG" and row.strength_value == 40}
    assert forty == {"864978", "864980", "1990745"} and forty <= set(METHADONE_OUD_CODES)
    tablets = {row.strength_value for row in rows if row.strength_unit.upper() == "MG" and row.rxcui not in forty}
    assert max(tablets) == 10


# Claims' and drug files' names for buprenorphine/naloxone sublingual tablets and films.
BUP_NAL_NAMES = [
    "BUPRENORPHIN/NALOX 8-2MG",
    "BUP/NAL 8-2MG SL TAB",
    "BUPREN/NALOX 8-2MG SL",
    "BUP-NX 8-2MG SL FILM",
    "BUP/NX 2-0.5MG SL TAB",
]


@pytest.mark.parametrize("name", BUP_NAL_NAMES)
def test_abbreviated_buprenorphine_naloxone_is_read_as_treatment(name, tmp_path, capsys):
    (line,) = mme_report(tmp_path, capsys, fill(name, 30, qty(60, "{film}")))["dispenses"]
    assert line["status"] == "excluded", line["explanation"]
    assert "buprenorphine" in line["explanation"]


@pytest.mark.parametrize("name", ["BUP SR 150 MG TAB", "NAL/BUP ER 8-90MG TAB", "BUPROPION HCL SR 150 MG TAB"])
def test_bupropion_and_its_naltrexone_combination_are_not_read_as_buprenorphine(name):
    """ "BUP" and "NAL" are read only as the pair, buprenorphine first: bupropion and Contrave stay what they are."""
    assert "buprenorphine" not in {ingredient.name for ingredient in read_name(name).ingredients}


OUD = {
    "resourceType": "Condition",
    "id": "c-oud",
    "subject": {"reference": "Patient/p1"},
    "clinicalStatus": {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
    },
    "verificationStatus": {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]
    },
    "category": [
        {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "problem-list-item"}
            ]
        }
    ],
    "code": {
        "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F11.20"}],
        "text": "Opioid use disorder, moderate",
    },
    "recordedDate": "2026-01-01",
}


def test_the_oud_card_counts_a_fill_named_bup_nal_as_treatment(tmp_path):
    prefetch = full_prefetch(
        "patient-view", conditions=bundle(OUD), dispenses=bundle(fill("BUP/NAL 8-2MG SL TAB", 30, qty(60, "{film}")))
    )
    response = (
        make_app(tmp_path)
        .test_client()
        .post("/cds-services/patient-view", json=hook_request("patient-view", prefetch=prefetch))
    )
    cards = {card["source"]["topic"]["code"]: card for card in response.json["cards"]}
    assert "was found in the last 90 days" not in cards.get("oud-treatment", {}).get("detail", "")
