"""The population review names what it cannot date, as the point of care does: a drug test or hospice procedure with
no date it can read is counted in `procedures_without_date` (it met no measure), and an EHR time whose offset no
clock has ("+25:00") is no date in the review as at the point of care, for a fill, a procedure and a drug test result;
a drug test result with no date it can read is counted in `results_without_date`."""

from __future__ import annotations

from typing import Any

import pytest
from builders import observation, procedure
from synthetic_export import OXYCODONE_5, SNOMED, dispense, patient
from test_drug_test_procedures import CPT
from test_hospice_point_of_care import hospice_claim, hospice_pharmacy_claim, hospice_professional_claim
from test_population_measure_edges import _evaluate, _row

from guideline.population import PatientOutcome

HOSPICE_ADMISSION = "305336008"  # Admission to hospice (procedure)


def long_term_member(pid: str, *extra: dict[str, Any], claims: tuple[dict[str, Any], ...] = ()) -> PatientOutcome:
    """The review's outcome for a member on long-term oxycodone (in AMO's denominator) with `extra` (and their payer's
    `claims`) in the export."""
    fills = [
        dispense(f"{pid}-f{n}", pid, OXYCODONE_5, day, 60, 30, "drB", "ph1")
        for n, day in enumerate(("2025-05-01", "2025-06-01", "2025-07-01", "2026-01-05"), 1)
    ]
    for resource in extra:
        resource["subject"] = {"reference": f"Patient/{pid}"}
    billed = [claim | {"patient": {"reference": f"Patient/{pid}"}} for claim in claims]
    return _evaluate(pid, [patient(pid, "1965-01-01", "Practitioner/drB"), *fills, *extra, *billed])


def undated(system: str, code: str, **dates: Any) -> dict[str, Any]:
    """A done procedure whose date is `dates` (none at all by default)."""
    resource = procedure(system, code)
    del resource["performedDateTime"]
    return resource | dates


@pytest.mark.parametrize(
    "dates",
    [
        {},
        {"performedString": "last spring"},
        {"performedDateTime": "2026-03-02T10:00:00+25:00"},
        {"performedPeriod": {"start": "2026-03-02T10:00:00+25:00"}},
    ],
    ids=["none", "words", "offset-past-24h", "period-offset-past-24h"],
)
def test_a_drug_test_with_no_date_is_counted_as_a_procedure_without_date(dates: dict[str, Any]) -> None:
    # Before, it was silently not AMO's test: the point of care named it ("undated-procedures"), the review nothing.
    outcome = long_term_member("p-u", undated(CPT, "80305", **dates))
    assert (_row(outcome)["amo_den"], _row(outcome)["amo_num"]) == (True, False)
    assert outcome.quality.procedures_without_date == 1


def test_a_hospice_admission_with_no_date_is_counted_and_excludes_no_one() -> None:
    outcome = long_term_member("p-h", undated(SNOMED, HOSPICE_ADMISSION))
    assert _row(outcome)["excluded"] is None
    assert outcome.quality.procedures_without_date == 1


@pytest.mark.parametrize(
    "claim",
    [hospice_claim("c-1"), hospice_professional_claim("c-1", "p"), hospice_pharmacy_claim("c-1", "p")],
    ids=["blue-button-hospice", "professional-at-hospice", "pharmacy-at-hospice"],
)
def test_a_hospice_claim_with_no_day_of_care_is_counted_once_as_the_claim(claim: dict[str, Any]) -> None:
    # Before, it was counted twice: in hospice_claims_undated, and in procedures_without_date for the hospice care the
    # claim was read as, a procedure in no chart that the analyst could not find.
    outcome = long_term_member("p-hc", claims=(claim,))
    assert _row(outcome)["excluded"] is None
    assert outcome.quality.hospice_claims_undated == {"p-hc": 1}
    assert outcome.quality.procedures_without_date == 0


def test_a_charted_hospice_procedure_with_no_date_beside_an_undated_hospice_claim_is_still_counted() -> None:
    # The EHR's procedure, coded as a claim's hospice care is read, is one the analyst can find in the chart.
    outcome = long_term_member("p-hb", undated(SNOMED, "385763009"), claims=(hospice_claim("c-2"),))
    assert outcome.quality.hospice_claims_undated == {"p-hb": 1}
    assert outcome.quality.procedures_without_date == 1


def test_a_dated_drug_test_is_no_procedure_without_date() -> None:
    outcome = long_term_member("p-d", procedure(CPT, "80305", performed="2026-02-10"))
    assert _row(outcome)["amo_num"] is True
    assert outcome.quality.procedures_without_date == 0


def test_a_procedure_no_measure_reads_is_not_counted() -> None:
    outcome = long_term_member("p-n", undated(SNOMED, "80146002"))  # appendectomy
    assert outcome.quality.procedures_without_date == 0


def test_an_undated_procedure_of_a_member_left_out_of_the_measures_is_not_counted() -> None:
    hospice = procedure(SNOMED, HOSPICE_ADMISSION, performed="2026-02-10")
    outcome = long_term_member("p-x", hospice, undated(CPT, "80305"))
    assert _row(outcome)["excluded"]
    assert outcome.quality.procedures_without_date == 0


def test_an_ehr_fill_handed_over_at_an_offset_past_24_hours_is_undated_as_at_the_point_of_care() -> None:
    # Before, the review cut the time to "2026-03-02" and counted the fill; the record's parser reads no date.
    fill = dispense("p-o-bad", "p-o", OXYCODONE_5, "2026-03-02T10:00:00+25:00", 60, 30, "drB", "ph1")
    outcome = long_term_member("p-o", fill)
    assert _row(outcome)["opioid_fills"] == 1  # the period's one dated fill (2026-01-05)
    assert outcome.quality.fills_without_date == 1


def test_an_ehr_fill_at_a_readable_offset_keeps_its_written_day() -> None:
    fill = dispense("p-k-late", "p-k", OXYCODONE_5, "2026-03-02T23:30:00-05:00", 60, 30, "drB", "ph1")
    outcome = long_term_member("p-k", fill)
    assert _row(outcome)["opioid_fills"] == 2
    assert outcome.quality.fills_without_date == 0


OXYCODONE_SCREEN = "58430-0"  # oxyCODONE+oxyMORphone Ur Ql Scn


def drug_test_result(**dates: Any) -> dict[str, Any]:
    """An oxycodone screen reported positive (as the member takes it), dated by `dates` (none at all by default)."""
    resource = observation(OXYCODONE_SCREEN, value_string="Positive", interpretation="POS")
    del resource["effectiveDateTime"]
    return resource | dates


@pytest.mark.parametrize(
    "dates",
    [
        {},
        {"effectiveDateTime": "2026-03-02T10:00:00+25:00"},
        {"effectivePeriod": {"start": "2026-03-02T10:00:00+25:00"}},
        {"issued": "2026-03-02T10:00:00.000+25:00"},
    ],
    ids=["none", "offset-past-24h", "period-offset-past-24h", "issued-offset-past-24h"],
)
def test_a_drug_test_result_with_no_date_is_counted_as_a_result_without_date(dates: dict[str, Any]) -> None:
    # Before, "+25:00" was dropped by a pattern and the result met AMO (the card named it undated); one with no date at
    # all was passed over with nothing said.
    outcome = long_term_member("p-r", drug_test_result(**dates))
    assert (_row(outcome)["amo_den"], _row(outcome)["amo_num"]) == (True, False)
    assert outcome.quality.results_without_date == 1
    assert outcome.quality.procedures_without_date == 0


def test_a_drug_test_result_at_a_readable_offset_keeps_its_written_day() -> None:
    # Late on 2 March in New York is 3 March in UTC: the written day and time are kept, as before.
    outcome = long_term_member("p-rk", drug_test_result(effectiveDateTime="2026-03-02T23:30:00-05:00"))
    assert _row(outcome)["amo_num"] is True
    assert outcome.quality.results_without_date == 0


def test_an_undated_result_of_a_member_left_out_of_the_measures_is_not_counted() -> None:
    hospice = procedure(SNOMED, HOSPICE_ADMISSION, performed="2026-02-10")
    outcome = long_term_member("p-rx", hospice, drug_test_result())
    assert _row(outcome)["excluded"]
    assert outcome.quality.results_without_date == 0


def test_an_undated_panel_counts_its_results_not_its_heading() -> None:
    # As the card names them: one per substance, the panel's heading (no value of its own) none.
    panel = drug_test_result() | {"code": {"coding": [{"system": "http://loinc.org", "code": "69739-1"}]}}
    del panel["valueString"], panel["interpretation"]
    panel["component"] = [
        {"code": {"coding": [{"system": "http://loinc.org", "code": OXYCODONE_SCREEN}]}, "valueString": "Positive"},
        {"code": {"coding": [{"system": "http://loinc.org", "code": "14314-9"}]}, "valueString": "Negative"},
    ]
    assert long_term_member("p-rp", panel).quality.results_without_date == 2


def conclusion_only_report(**dates: Any) -> dict[str, Any]:
    """A final drug screen report with only its conclusion to read (no result sent), dated by `dates` (none at all)."""
    return {
        "resourceType": "DiagnosticReport",
        "id": "dr-u1",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "19295-5"}], "text": "Drug Screen Urine"},
        "conclusion": "Negative for all drugs tested",
        **dates,
    }


def test_an_undated_lab_report_read_as_a_test_done_is_counted_as_a_result_without_date() -> None:
    # Before, a report with only a conclusion and no date was skipped with nothing said: AMO's numerator missed the
    # member, and no count named why.
    outcome = long_term_member("p-ur", conclusion_only_report())
    assert (_row(outcome)["amo_den"], _row(outcome)["amo_num"]) == (True, False)
    assert outcome.quality.results_without_date == 1


def test_a_dated_lab_report_is_no_result_without_date() -> None:
    outcome = long_term_member("p-dr", conclusion_only_report(effectiveDateTime="2026-02-10T09:14:00-05:00"))
    assert _row(outcome)["amo_num"] is True
    assert outcome.quality.results_without_date == 0


def test_an_undated_lab_report_of_a_member_left_out_of_the_measures_is_not_counted() -> None:
    hospice = procedure(SNOMED, HOSPICE_ADMISSION, performed="2026-02-10")
    outcome = long_term_member("p-xr", hospice, conclusion_only_report())
    assert _row(outcome)["excluded"]
    assert outcome.quality.results_without_date == 0
