"""A payer claim's dates read one way on both faces: a day of service that is no date ("2026-13-45", "2026-02-30", a
timestamp with an offset no clock has) is read by the record's own date parser wherever a claim is read, so the
population review reads a claim's procedures, fills and visit as the point of care does, and names what it cannot
date where the point of care names it.

Before, the review cut a timestamp to its written date before reading it: a hospice claim billed from
"2026-02-10T00:00:00+25:00" left the member out of every measure, while the card read hospice care on no day."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from builders import PATIENT_ID, run
from cds_support import bundle, topics
from synthetic_export import patient
from test_drug_test_procedures import annual_monitoring
from test_hospice_point_of_care import OPIOID_CARDS, data_incomplete, hospice_claim, order_sign
from test_payer_code_systems import carrier_claim
from test_population_claims import part_d_event
from test_population_measure_edges import _evaluate, _high_dose, _row

from guideline.exclusions import undated_claim
from guideline.population.claims import claim_resources, claims_read_for_a_hook, undated_diagnosis
from guideline.record.readers import read_condition
from guideline.undated import undated_procedures

# Keying errors as payers export them: a month and day that are no date, 30 February, and a zone past ±24 hours.
NO_DATES = ["2026-13-45", "2026-02-30", "2026-02-10T00:00:00+25:00"]


def review(pid: str, claim: dict[str, Any]) -> Any:
    """The review's outcome for a high-dose member with this claim (made for them) in the export."""
    return _evaluate(pid, [patient(pid), *_high_dose(pid), {**claim, "patient": {"reference": f"Patient/{pid}"}}])


# -- A hospice line ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", NO_DATES)
def test_a_hospice_claim_whose_days_are_no_dates_is_a_claim_with_no_day_of_care_on_both_faces(
    tmp_path: Path, day: str
) -> None:
    # Before, the days were kept as written, so the claim had days of care: the card named its hospice care as a
    # procedure in no chart ("Hospice care (claim) (procedure h-bad-px1), no date") and the review counted nothing,
    # or, with the offset past 24 hours cut off, read a hospice stay and left the member out of every measure.
    claim = hospice_claim("h-bad", billablePeriod={"start": day, "end": day})
    detail = data_incomplete(order_sign(tmp_path, procedures=bundle(claim)))
    assert "- Hospice claim (ExplanationOfBenefit h-bad): has no date of care" in detail
    assert "h-bad-px" not in detail
    outcome = review("h-b", claim)
    assert _row(outcome)["excluded"] is None
    assert outcome.quality.hospice_claims_undated == {"h-b": 1}


def test_a_hospice_claim_with_one_day_that_is_a_date_is_hospice_care_on_it_on_both_faces(tmp_path: Path) -> None:
    claim = hospice_claim("h-end", billablePeriod={"start": "2026-13-45", "end": "2026-06-10"})
    assert topics(order_sign(tmp_path, procedures=bundle(claim))) == []
    assert _row(review("h-e", claim | {"billablePeriod": {"start": "2026-13-45", "end": "2026-03-10"}}))["excluded"]


# -- A drug test billed 80305 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("day", NO_DATES)
def test_a_drug_test_billed_on_a_day_that_is_no_date_is_undated_on_both_faces(tmp_path: Path, day: str) -> None:
    # Before, the review cut "2026-02-10T00:00:00+25:00" to its written day: the test met annual monitoring (AMO)
    # while the point of care read no date, asked for a test and named this one as undated.
    claim = carrier_claim("bb-uds", PATIENT_ID, day, None, "80305")
    facts = run("patient-view", resources=list(claims_read_for_a_hook([claim]).resources)).facts
    assert undated_procedures(facts) == ("urine drug test (payer claim bb-uds), no date",)
    assert annual_monitoring(tmp_path, "p1", carrier_claim("bb-uds", "p1", day, None, "80305")) == ("true", "false")


# -- A fill ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", NO_DATES)
def test_a_fill_billed_on_a_day_that_is_no_date_is_undated_on_both_faces(day: str) -> None:
    # Before, the review cut a timestamp with an offset past 24 hours to its written day and counted the fill in the
    # member's MME, while the point of care read no date and named the fill as undated.
    claim = part_d_event("pde-bad", PATIENT_ID, day)
    facts = run("patient-view", resources=list(claims_read_for_a_hook([claim]).resources)).facts
    named = f"OXYCODONE HCL 10 MG TABLET (payer claim pde-bad, whenHandedOver '{day}' could not be read as a date)"
    assert facts.undated_fills == (named,)
    outcome = review("p-f", part_d_event("pde-bad", "p-f", day))
    assert _row(outcome)["opioid_fills"] == 2  # the two dated fills of _high_dose
    assert outcome.quality.fills_without_date == 1


# -- A visit: the claim's diagnoses, in effect over the days it bills ---------------------------------------------


def palliative_claim(pid: str, last_day: str) -> dict[str, Any]:
    """A Part B claim for a palliative care visit (Z51.5) on 2025-06-01, its last day of service `last_day`."""
    claim = carrier_claim("bb-pal", pid, "2025-06-01", "Z515", "99214")
    return claim | {"billablePeriod": {"start": "2025-06-01", "end": last_day}}


@pytest.mark.parametrize("last_day", NO_DATES)
def test_a_visit_whose_last_day_is_no_date_ends_on_its_first_day_on_both_faces(tmp_path: Path, last_day: str) -> None:
    # Before, the review read the diagnosis as having no end ("2026-13-45"), or as ending on the written day of a
    # timestamp whose offset is past 24 hours: a palliative care visit in 2025 left the member out of every 2026
    # measure, while the card, for the same claim, fired as for a patient with no palliative care.
    assert set(topics(order_sign(tmp_path, conditions=bundle(palliative_claim(PATIENT_ID, last_day))))) >= OPIOID_CARDS
    assert _row(review("p-pal", palliative_claim("p-pal", last_day)))["excluded"] is None


# -- One parser, whatever the site's zone -------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"])
@pytest.mark.parametrize(
    "day",
    [
        "2026-03-31T23:30:00-05:00",  # a day near midnight: another day in UTC, and in Kiritimati (UTC+14)
        "2026-04-01T00:30:00+14:00",
        "2026-03-31",
        "2200-12-31T23:30:00-05:00",  # the last clinical year, 2201 in UTC
        "1800-01-01T00:30:00+01:00",  # the first, 1799 in UTC
        *NO_DATES,
    ],
)
def test_the_review_and_the_record_agree_whether_a_claims_first_day_is_a_date_in_any_zone(zone: str, day: str) -> None:
    # The review asks whether the claim's first day is a date before it knows the site's zone (`undated_diagnosis`);
    # the record reads the diagnosis in the configured zone (`undated_claim`). Whether a text is a date does not
    # depend on the zone (the parser checks the year as written, before it converts), so they cannot disagree.
    claim = palliative_claim(PATIENT_ID, "2026-04-01") | {"billablePeriod": {"start": day}}
    [diagnosis] = [r for r in claim_resources(claim) if r["resourceType"] == "Condition"]
    assert undated_diagnosis(diagnosis) is undated_claim(read_condition(diagnosis, ZoneInfo(zone)))


# -- The earliest day that is a date ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", NO_DATES)
def test_a_drug_test_line_served_from_no_date_to_a_date_is_on_that_date_on_both_faces(tmp_path: Path, bad: str) -> None:
    # Before, the line's earliest day was picked by sorting text, so "2026-02-30" beat "2026-03-02": the test was
    # undated on both faces though the line names the day it was done.
    def claim(pid: str) -> dict[str, Any]:
        billed = carrier_claim("bb-uds", pid, "2026-03-02", None, "80305")
        billed["item"][0]["servicedPeriod"] = {"start": bad, "end": "2026-03-02"}
        return billed

    facts = run("patient-view", resources=list(claims_read_for_a_hook([claim(PATIENT_ID)]).resources)).facts
    assert undated_procedures(facts) == ()
    assert annual_monitoring(tmp_path, "p1", claim("p1")) == ("true", "true")


@pytest.mark.parametrize("bad", NO_DATES)
def test_a_claim_whose_period_is_no_date_is_billed_on_its_lines_days_on_both_faces(tmp_path: Path, bad: str) -> None:
    # Before, `billed_days` returned the period as written without looking at the lines: the visit's palliative care
    # diagnosis was undated (named, never read), though its line names the day of the visit.
    claim = carrier_claim("bb-pal", PATIENT_ID, "2026-02-10", "Z515", "99214") | {
        "billablePeriod": {"start": bad, "end": bad}
    }
    [diagnosis] = [r for r in claim_resources(claim) if r["resourceType"] == "Condition"]
    assert not undated_diagnosis(diagnosis)
    assert not undated_claim(read_condition(diagnosis, ZoneInfo("UTC")))
    member = carrier_claim("bb-pal", "p-pl", "2026-02-10", "Z515", "99214") | {"billablePeriod": {"start": bad}}
    outcome = review("p-pl", member)
    assert _row(outcome)["excluded"] == "palliative care (Z51.5)"
    assert outcome.quality.claim_diagnoses_undated == {}
