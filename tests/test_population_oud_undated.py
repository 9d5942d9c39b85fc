"""The population review's `oud-treatment` finding ("OUD without treatment") never rests on an unnamed OUD medication
dose it could not count: a dose charted, billed or recorded as given with no date it can read (or given with a status
it cannot tell) is named on the member's row and in their letter in the words of the chart's data-incomplete card,
and counted by member in data quality (`oud_treatment_not_counted`). Before, the finding stood alone."""

from __future__ import annotations

import json
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from synthetic_export import ICD10, RXNORM, condition, patient, practitioner
from test_population_letters import high_dose, run_letters, text_of
from test_population_measure_edges import _evaluate, _row
from test_population_measures import PERIOD

from guideline.config import GuidelineConfig
from guideline.engine import review
from guideline.fhirdata import HCPCS
from guideline.plan.alerts import incomplete_data
from guideline.population import PatientOutcome
from guideline.population.quality import quality_lines
from guideline.record import build_record

CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PROCEDURE_WHY = "has no date PainPlan can read, so no check could count it as done recently"
GIVEN_WHY = (
    "is a dose of medication for opioid use disorder recorded as given with no date PainPlan can read, so the "
    "treatment check could not count it"
)
UNKNOWN_STATUS_WHY = (
    "is a dose of medication for opioid use disorder of unknown status, so it was not counted as treatment"
)


def otp_bundle(pid: str, **dates: Any) -> dict[str, Any]:
    """An opioid treatment program's weekly methadone bundle as an EHR charts it (HCPCS G2067), dated by `dates`
    (none by default: the program's interface sent the week's bundle with no performed date)."""
    return {
        "resourceType": "Procedure",
        "id": f"{pid}-otp",
        "status": "completed",
        "subject": {"reference": f"Patient/{pid}"},
        "code": {
            "coding": [
                {
                    "system": HCPCS,
                    "code": "G2067",
                    "display": "Medication assisted treatment, methadone; weekly bundle",
                }
            ]
        },
        **dates,
    }


def otp_claim(pid: str) -> dict[str, Any]:
    """A CARIN professional claim for a methadone dose at an opioid treatment program (HCPCS H0020), its line and
    the claim carrying no day of service (`created` is the day the claim was written)."""
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": f"{pid}-clm",
        "status": "active",
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "professional"}]},
        "use": "claim",
        "outcome": "complete",
        "patient": {"reference": f"Patient/{pid}"},
        "created": "2026-03-20",
        "item": [{"sequence": 1, "productOrService": {"coding": [{"system": HCPCS, "code": "H0020"}]}}],
    }


def sublocade_given(pid: str, status: str = "completed", **dates: Any) -> dict[str, Any]:
    """Sublocade 300 mg given in clinic (a MedicationAdministration), dated by `dates` (none by default)."""
    return {
        "resourceType": "MedicationAdministration",
        "id": f"{pid}-ma",
        "status": status,
        "subject": {"reference": f"Patient/{pid}"},
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "1996192"}],
            "text": "Sublocade 300 mg/1.5 mL injection",
        },
        **dates,
    }


def oud_member(pid: str, *extra: dict[str, Any], diagnosed: bool = True) -> PatientOutcome:
    """The review's outcome for a member on high-dose oxycodone (OHD's numerator) with an active opioid use
    disorder diagnosis (F11.20, from the EHR) and `extra` in the export."""
    oud = [condition(f"{pid}-oud", pid, ICD10, "F11.20", recorded="2025-06-10")] if diagnosed else []
    return _evaluate(pid, [patient(pid, "1972-04-02", "Practitioner/drA"), *high_dose(pid, "drA"), *oud, *extra])


def named(outcome: PatientOutcome) -> list[str]:
    """What the member's evidence names beside their `oud-treatment` finding."""
    return json.loads(_row(outcome)["evidence"]).get("oud-treatment", [])


def test_an_undated_otp_bundle_is_named_beside_the_finding_in_the_cards_words() -> None:
    outcome = oud_member("p-otp", otp_bundle("p-otp"))
    assert "oud-treatment" in _row(outcome)["findings"].split(",")
    assert named(outcome) == [
        f"Medication assisted treatment, methadone; weekly bundle (procedure p-otp-otp), no date: {PROCEDURE_WHY}"
    ]
    assert outcome.quality.oud_treatment_not_counted == {"p-otp": 1}
    assert outcome.quality.procedures_without_date == 0  # no measure reads it: the count of the measures' own


def test_the_row_names_exactly_what_the_chart_card_names() -> None:
    # One rule for both faces: the member's line is the data-incomplete card's line for the same record.
    resources = [
        patient("p-poc", "1972-04-02"),
        condition("p-poc-oud", "p-poc", ICD10, "F11.20", recorded="2025-06-10"),
        otp_bundle("p-poc", performedString="weekly at the program"),
    ]
    config = GuidelineConfig.from_mapping()
    zone = ZoneInfo(config["timezone"])
    now = datetime.combine(PERIOD.end, time(12, 0), tzinfo=zone)
    card = incomplete_data(review(build_record(resources, zone), config, now))
    outcome = oud_member("p-poc", otp_bundle("p-poc", performedString="weekly at the program"))
    assert named(outcome) == [f"{what}: {why}" for what, why in card if "G2067" in what or "methadone" in what]
    assert named(outcome) == [
        'Medication assisted treatment, methadone; weekly bundle (procedure p-poc-otp), performed "weekly at the '
        f'program": {PROCEDURE_WHY}'
    ]


def test_a_treatment_program_claim_with_no_day_of_service_is_named() -> None:
    outcome = oud_member("p-clm", otp_claim("p-clm"))
    assert named(outcome) == [
        f"medication for opioid use disorder (HCPCS H0020) (payer claim p-clm-clm), no date: {PROCEDURE_WHY}"
    ]
    assert outcome.quality.oud_treatment_not_counted == {"p-clm": 1}


@pytest.mark.parametrize(
    ("given", "line"),
    [
        (
            sublocade_given("p-ma"),
            f"Sublocade 300 mg/1.5 mL injection (administration p-ma-ma), no date: {GIVEN_WHY}",
        ),
        (
            sublocade_given("p-ma", "unknown", effectiveDateTime="2026-03-10T10:15:00-05:00"),
            "Sublocade 300 mg/1.5 mL injection (administration p-ma-ma), status unknown, dated 2026-03-10: "
            f"{UNKNOWN_STATUS_WHY}",
        ),
    ],
    ids=["no-date", "status-unknown"],
)
def test_a_dose_given_in_clinic_that_could_not_be_counted_is_named(given: dict[str, Any], line: str) -> None:
    outcome = oud_member("p-ma", given)
    assert "oud-treatment" in _row(outcome)["findings"].split(",")
    assert named(outcome) == [line]
    assert outcome.quality.oud_treatment_not_counted == {"p-ma": 1}


def test_a_dated_dose_is_treatment_and_nothing_is_named() -> None:
    outcome = oud_member("p-tx", otp_bundle("p-tx", performedDateTime="2026-03-16"))
    assert "oud-treatment" not in _row(outcome)["findings"].split(",")
    assert named(outcome) == []
    assert outcome.quality.oud_treatment_not_counted == {}


def test_an_undated_dose_with_no_finding_to_answer_is_not_named() -> None:
    # No OUD diagnosis, so no finding: the dose changes nothing the review says, and is not counted.
    outcome = oud_member("p-nodx", otp_bundle("p-nodx"), sublocade_given("p-nodx"), diagnosed=False)
    assert "oud-treatment" not in _row(outcome)["findings"].split(",")
    assert named(outcome) == []
    assert outcome.quality.oud_treatment_not_counted == {}


def test_a_member_left_out_of_the_measures_still_has_the_dose_named_beside_the_finding() -> None:
    # The finding is on every cohort member's row, in the measures or not, and so is what may answer it.
    resources = [
        patient("p-teen", "2009-05-01", "Practitioner/drA"),
        *high_dose("p-teen", "drA"),
        condition("p-teen-oud", "p-teen", ICD10, "F11.20", recorded="2025-06-10"),
        otp_bundle("p-teen"),
    ]
    outcome = _evaluate("p-teen", resources)
    assert _row(outcome)["excluded"] == "under 18"
    assert "oud-treatment" in _row(outcome)["findings"].split(",")
    assert len(named(outcome)) == 1
    assert outcome.quality.oud_treatment_not_counted == {"p-teen": 1}


def test_the_count_is_worded_and_names_no_patient_in_the_summary() -> None:
    (line,) = [line for line in quality_lines({"oud_treatment_not_counted": {"p-otp": 2}})]
    assert line.text == (
        "2 OUD medication doses, fills and orders not counted as treatment (no date, status unknown, or dated after "
        "the review's end) beside an oud-treatment finding, which may be wrong (by patient in data-quality.json)"
    )
    assert (line.denominators, line.numerators, line.includes) == ((), (), ())  # no rate changes
    (one,) = quality_lines({"oud_treatment_not_counted": {"p-otp": 1}})
    assert one.text.startswith("1 OUD medication dose, fill or order not counted as treatment")


def test_the_letter_names_the_dose_under_the_finding(tmp_path: Path) -> None:
    letters = run_letters(
        tmp_path,
        [
            practitioner("drA", "Dr. Ana Alvarez"),
            patient("p-let", "1972-04-02", "Practitioner/drA", "Lopez"),
            *high_dose("p-let", "drA"),
            condition("p-let-oud", "p-let", ICD10, "F11.20", recorded="2025-06-10"),
            otp_bundle("p-let"),
        ],
    )
    text = text_of((letters / "drA.html").read_text())
    finding = "The guideline checks also note: opioid use disorder without medication treatment on record"
    line = f"Medication assisted treatment, methadone; weekly bundle (procedure p-let-otp), no date: {PROCEDURE_WHY}"
    assert finding in text and line in text
    assert text.index(finding) < text.index(line)
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    assert quality["oud_treatment_not_counted"] == {"p-let": 1}


def _texts(flowable: Any) -> list[str]:
    """The text of a flowable and of every paragraph inside it (a list's items), in order."""
    inner = getattr(flowable, "_flowables", None)
    if inner is not None:
        return [text for item in inner for text in _texts(item)]
    return [flowable.text] if hasattr(flowable, "text") else []


def test_the_pdf_names_the_dose_under_the_finding_as_the_html_does(tmp_path: Path, monkeypatch) -> None:
    from smart_app.population import pdf
    from smart_app.population.letters import Letter, LetterPatient, letter_context

    story: list[str] = []

    class Capture:
        """Stands in for reportlab's document: keeps the paragraphs' text in order."""

        def __init__(self, *_args: object, **_kwargs: object) -> None:
            pass

        def build(self, flowables: list) -> None:
            story.extend(text for flowable in flowables for text in _texts(flowable))

    monkeypatch.setattr(pdf, "SimpleDocTemplate", Capture)
    line = f"medication for opioid use disorder (HCPCS H0020) (procedure c-1-px1), no date: {PROCEDURE_WHY}"
    finding = "opioid use disorder without medication treatment on record"
    patients = [LetterPatient("pl", "Lopez", None, [], [finding], "pcp", [line])]
    letter = Letter("drA", "Dr. Ana Alvarez", None, patients)
    pdf.write_pdf(tmp_path / "drA.pdf", letter_context(letter, PERIOD, GuidelineConfig.from_mapping()))
    assert story.index(f"The guideline checks also note: {finding}.") + 1 == story.index(line)
