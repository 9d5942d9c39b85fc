"""An OUD medication dose dated in `oud-treatment`'s window whose status says nothing of whether it was given (an
opioid treatment program's G2067 bundle or a clinic's H0020 of status "unknown", a Sublocade administration of
unknown status) is not counted as treatment, and is named: on the "OUD without treatment" card, on the
data-incomplete card, and beside the population review's finding, by one rule. Before, the procedure went unseen on
every face, and the card said no dose was on record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from builders import ICD10, PATIENT_ID, RXNORM, days_ago, med_request
from cds_support import bundle, full_prefetch, hook_request, make_app
from synthetic_export import ICD10 as EXPORT_ICD10
from synthetic_export import condition as export_condition
from synthetic_export import patient as export_patient
from test_population_letters import high_dose
from test_population_measure_edges import _evaluate, _row

from guideline.checks.oud_treatment import CHECK_ID as OUD_CHECK
from guideline.fhirdata import HCPCS

WHY = "is a dose of medication for opioid use disorder of unknown status, so it was not counted as treatment"
SUBOXONE_FILM = "1010604"  # buprenorphine 8 MG / naloxone 2 MG Sublingual Film


def oud_diagnosis() -> dict[str, Any]:
    """Epic's problem-list entry for opioid dependence (ICD-10-CM F11.20), active."""
    return {
        "resourceType": "Condition",
        "id": "eOUD.3",
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        "verificationStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "problem-list-item",
                        "display": "Problem List Item",
                    }
                ]
            }
        ],
        "code": {
            "coding": [{"system": ICD10, "code": "F11.20", "display": "Opioid dependence, uncomplicated"}],
            "text": "Opioid use disorder, moderate",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "recordedDate": "2025-11-03",
    }


def otp_bundle(status: str = "unknown", **dates: Any) -> dict[str, Any]:
    """An opioid treatment program's weekly methadone bundle (HCPCS G2067) as Epic sends the program's charge, of
    status "unknown" (the interface could not say whether the week was dispensed), dated 2026-05-02 by default."""
    return {
        "resourceType": "Procedure",
        "id": "eG2067.77",
        "status": status,
        "code": {
            "coding": [
                {"system": HCPCS, "code": "G2067", "display": "Medication assisted treatment, methadone; weekly bundle"}
            ],
            "text": "OTP methadone weekly bundle",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        **(dates or {"performedDateTime": "2026-05-02T09:30:00-05:00"}),
    }


def sublocade_given(status: str = "unknown", ago: int = 20) -> dict[str, Any]:
    """Sublocade 300 mg recorded in clinic (a MedicationAdministration) `ago` days ago, of status `status`."""
    return {
        "resourceType": "MedicationAdministration",
        "id": "eMA.sublocade",
        "status": status,
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "1996192"}],
            "text": "Sublocade 300 mg/1.5 mL injection",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": f"{days_ago(ago)}T10:15:00-05:00",
    }


def answer(tmp_path: Path, *doses: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The patient-view cards, by topic, for a chart holding the OUD diagnosis and `doses` (procedures in their
    prefetch, administrations as the extra resources a FHIR search brings)."""
    procedures = [d for d in doses if d["resourceType"] == "Procedure"]
    given = [d for d in doses if d["resourceType"] != "Procedure"]
    prefetch = full_prefetch("patient-view", conditions=bundle(oud_diagnosis()), procedures=bundle(*procedures))
    if given:
        prefetch["extra"] = bundle(*given)
    body = hook_request("patient-view", prefetch=prefetch)
    response = make_app(tmp_path).test_client().post("/cds-services/patient-view", json=body).get_json()
    return {card["source"]["topic"]["code"]: card for card in response["cards"]}


def test_an_otp_bundle_of_unknown_status_in_the_window_is_named_on_both_cards(tmp_path: Path) -> None:
    cards = answer(tmp_path, otp_bundle())
    item = "OTP methadone weekly bundle (procedure eG2067.77), status unknown, dated 2026-05-02"
    assert OUD_CHECK in cards  # not counted as treatment: the card still fires, and says why it may be wrong
    assert item in cards[OUD_CHECK]["detail"]
    assert f"{item}: {WHY}" in cards["data-incomplete"]["detail"]
    # The card does not say no dose was given while it lists one that may have been.
    assert (
        "No buprenorphine, methadone or naltrexone treatment could be counted in the last 90 days"
        in cards[OUD_CHECK]["detail"]
    )
    assert "no dose given" not in cards[OUD_CHECK]["detail"]


def test_a_clinic_dose_of_unknown_status_in_the_window_is_named_on_both_cards(tmp_path: Path) -> None:
    cards = answer(tmp_path, sublocade_given())
    item = f"Sublocade 300 mg/1.5 mL injection (administration eMA.sublocade), status unknown, dated {days_ago(20)}"
    assert item in cards[OUD_CHECK]["detail"]
    assert f"{item}: {WHY}" in cards["data-incomplete"]["detail"]


def test_a_dose_known_by_its_billing_code_alone_is_named_by_what_the_code_makes_it(tmp_path: Path) -> None:
    # A claim feed's bundle: the code with no words of its own, named as the undated one is (`moud_dose_kind`).
    bare = {**otp_bundle(), "code": {"coding": [{"system": HCPCS, "code": "G2067"}]}}
    cards = answer(tmp_path, bare)
    item = "medication for opioid use disorder (HCPCS G2067) (procedure eG2067.77), status unknown, dated 2026-05-02"
    assert item in cards[OUD_CHECK]["detail"]
    assert f"{item}: {WHY}" in cards["data-incomplete"]["detail"]


def test_a_dose_given_over_a_period_running_past_today_is_named_once_by_its_day_so_far(tmp_path: Path) -> None:
    # An infusion charted as a period still open: named by the day it was given (`last_given`), not as dated ahead.
    running = {k: v for k, v in sublocade_given().items() if k != "effectiveDateTime"}
    running["effectivePeriod"] = {"start": f"{days_ago(3)}T10:15:00-05:00", "end": f"{days_ago(-2)}T10:15:00-05:00"}
    cards = answer(tmp_path, running)
    item = f"Sublocade 300 mg/1.5 mL injection (administration eMA.sublocade), status unknown, dated {days_ago(3)}"
    assert item in cards[OUD_CHECK]["detail"]
    assert "after today" not in cards[OUD_CHECK]["detail"]


@pytest.mark.parametrize(
    "dose",
    [
        pytest.param(otp_bundle(performedDateTime=f"{days_ago(120)}T09:30:00-05:00"), id="before the window"),
        pytest.param(sublocade_given(ago=120), id="given before the window"),
        pytest.param(otp_bundle("not-done"), id="not done"),
    ],
)
def test_a_dose_the_window_or_its_status_rules_out_is_not_named(tmp_path: Path, dose: dict[str, Any]) -> None:
    cards = answer(tmp_path, dose)
    assert "status unknown" not in cards[OUD_CHECK]["detail"]
    assert "data-incomplete" not in cards


def test_a_dose_of_known_status_is_treatment_and_nothing_is_named(tmp_path: Path) -> None:
    cards = answer(tmp_path, otp_bundle("completed"))
    assert OUD_CHECK not in cards and "data-incomplete" not in cards


def test_beside_treatment_counted_a_dose_of_unknown_status_changes_nothing_and_is_not_named(tmp_path: Path) -> None:
    # The patient is on buprenorphine (an active order): whether the bundle was given cannot change the answer.
    active = med_request(SUBOXONE_FILM, status="active", authored=days_ago(30))
    prefetch = full_prefetch(
        "patient-view", conditions=bundle(oud_diagnosis()), procedures=bundle(otp_bundle()), medsActive=bundle(active)
    )
    prefetch["extra"] = bundle(sublocade_given())
    body = hook_request("patient-view", prefetch=prefetch)
    response = make_app(tmp_path).test_client().post("/cds-services/patient-view", json=body).get_json()
    topics = [card["source"]["topic"]["code"] for card in response["cards"]]
    assert OUD_CHECK not in topics and "data-incomplete" not in topics


def test_an_undated_otp_bundle_of_unknown_status_is_named_with_no_date(tmp_path: Path) -> None:
    undated = {k: v for k, v in otp_bundle().items() if k != "performedDateTime"}
    cards = answer(tmp_path, undated)
    item = "OTP methadone weekly bundle (procedure eG2067.77), status unknown, no date"
    assert item in cards[OUD_CHECK]["detail"]
    assert f"{item}: {WHY}" in cards["data-incomplete"]["detail"]


def test_an_otp_bundle_of_unknown_status_dated_in_words_is_named_with_them(tmp_path: Path) -> None:
    # R4's performedString: named with its words, as an undated procedure done is (performed "weekly").
    cards = answer(tmp_path, otp_bundle(performedString="weekly"))
    item = 'OTP methadone weekly bundle (procedure eG2067.77), status unknown, performed "weekly"'
    assert item in cards[OUD_CHECK]["detail"]
    assert f"{item}: {WHY}" in cards["data-incomplete"]["detail"]


# -- the population review names it beside its finding, by the same rule ----------------------------------------


def population_review_of(pid: str, dose: dict[str, Any]) -> Any:
    """The population review of one high-dose patient with an OUD diagnosis (recorded 2025-06-10) and `dose` (an OTP
    bundle, given the id "<pid>-otp" and the patient)."""
    dose = {**dose, "id": f"{pid}-otp", "subject": {"reference": f"Patient/{pid}"}}
    return _evaluate(
        pid,
        [
            export_patient(pid, "1972-04-02", "Practitioner/drA"),
            *high_dose(pid, "drA"),
            export_condition(f"{pid}-oud", pid, EXPORT_ICD10, "F11.20", recorded="2025-06-10"),
            dose,
        ],
    )


def test_the_population_row_names_the_dose_of_unknown_status_beside_the_finding() -> None:
    # The review's day is the period's end (2026-03-31): a bundle of 2026-03-09 is in the 90 days.
    pid = "p-unk"
    outcome = population_review_of(pid, otp_bundle(performedDateTime="2026-03-09"))
    row = _row(outcome)
    assert OUD_CHECK in row["findings"].split(",")
    assert json.loads(row["evidence"])[OUD_CHECK] == [
        f"OTP methadone weekly bundle (procedure p-unk-otp), status unknown, dated 2026-03-09: {WHY}"
    ]
    assert outcome.quality.oud_treatment_not_counted == {pid: 1}
