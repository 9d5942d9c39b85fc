"""An adversarial review of the measures at their edges: windows, thresholds, new starts, exclusions and
attribution, each on a realistic Bulk FHIR patient, hand-computed."""

from __future__ import annotations

import json
from datetime import date

import pytest
from synthetic_export import (
    ALPRAZOLAM,
    ICD10,
    OXYCODONE_5,
    OXYCODONE_10,
    SNOMED,
    TRAMADOL_50,
    condition,
    dispense,
    order,
    patient,
)
from test_population_claims import hospice_claim
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from guideline.population import Directory, PatientOutcome, evaluate_patient

CONFIG = GuidelineConfig.from_mapping()
HOSPICE_CARE = {"system": SNOMED, "code": "385763009", "display": "Hospice care"}


def _evaluate(pid: str, resources: list[dict]) -> PatientOutcome:
    return evaluate_patient(pid, resources, PERIOD, CONFIG, TODAY, Directory())


def _row(outcome: PatientOutcome) -> dict:
    assert outcome.row is not None
    return outcome.row


def _high_dose(pid: str) -> list[dict]:
    """Oxycodone 10 mg, 180 tablets for 30 days, twice: 90 MME/day for 60 days (in OHD's numerator)."""
    return [
        dispense(f"{pid}-f1", pid, OXYCODONE_10, "2026-01-05", 180, 30, "drA", "ph1"),
        dispense(f"{pid}-f2", pid, OXYCODONE_10, "2026-02-04", 180, 30, "drA", "ph1"),
    ]


def _hospice_stay(ident: str, pid: str, start: str, end: str | None, status: str = "finished") -> dict:
    """A hospice stay as an EHR's hospice service records it: the visit's type says hospice care."""
    period = {"start": start, **({"end": end} if end else {})}
    return {
        "resourceType": "Encounter",
        "id": ident,
        "status": status,
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HH", "display": "home health"},
        "type": [{"coding": [HOSPICE_CARE]}],
        "subject": {"reference": f"Patient/{pid}"},
        "period": period,
    }


# ---------------------------------------------------------------------------------------------------------------
# Hospice dated around the history window (2025-10-03 to 2026-03-31 for 2026 Q1)


def test_a_hospice_stay_spanning_the_whole_window_excludes() -> None:
    outcome = _evaluate("h1", [patient("h1"), *_high_dose("h1"), _hospice_stay("s", "h1", "2025-09-01", "2026-05-31")])
    assert _row(outcome)["excluded"] == "hospice or palliative care (encounter)"
    assert _row(outcome)["ohd_den"] is False


def test_a_hospice_stay_still_in_progress_excludes() -> None:
    stay = _hospice_stay("s", "h2", "2025-08-01", None, status="in-progress")
    outcome = _evaluate("h2", [patient("h2"), *_high_dose("h2"), stay])
    assert _row(outcome)["excluded"] == "hospice or palliative care (encounter)"


def test_a_hospice_claim_ending_inside_the_window_excludes() -> None:
    claim = hospice_claim("hc", "h3", "2025-09-15", "2025-10-14")
    outcome = _evaluate("h3", [patient("h3"), *_high_dose("h3"), claim])
    assert _row(outcome)["excluded"] == "hospice or palliative care (procedure)"


def test_hospice_ended_the_day_before_the_window_does_not_exclude_and_on_its_first_day_does() -> None:
    before = _evaluate("h4", [patient("h4"), *_high_dose("h4"), _hospice_stay("s", "h4", "2025-09-01", "2025-10-02")])
    first = _evaluate("h5", [patient("h5"), *_high_dose("h5"), _hospice_stay("s", "h5", "2025-09-01", "2025-10-03")])
    assert (_row(before)["excluded"], _row(before)["ohd_num"]) == (None, True)
    assert _row(first)["excluded"] == "hospice or palliative care (encounter)"


def test_a_finished_hospice_stay_with_no_end_is_its_first_day_only() -> None:
    # A completed record often omits the end: read as its first day, before the window, it excludes no one.
    outcome = _evaluate("h6", [patient("h6"), *_high_dose("h6"), _hospice_stay("s", "h6", "2025-09-01", None)])
    assert _row(outcome)["excluded"] is None


def test_cancer_abated_the_day_before_the_window_does_not_exclude() -> None:
    def cancer(pid: str, abated: str) -> dict:
        return {**condition("ca", pid, ICD10, "C50.911", status="resolved"), "abatementDateTime": abated}

    before = _evaluate("c1", [patient("c1"), *_high_dose("c1"), cancer("c1", "2025-10-02")])
    inside = _evaluate("c2", [patient("c2"), *_high_dose("c2"), cancer("c2", "2025-10-03")])
    assert _row(before)["excluded"] is None
    # Resolved is not active: a cancer resolved in the window excludes no one, whatever its abatement date.
    assert _row(inside)["excluded"] is None


# ---------------------------------------------------------------------------------------------------------------
# New starts (IOP): the 90 days before the index prescription start date


def _prescribed(ident: str, pid: str, authored: str, fill_day: str) -> list[dict]:
    """An EHR's prescription and its fill: tramadol 50 mg, 1 tablet 4 times a day for 5 days, filled later."""
    request = order(ident, pid, TRAMADOL_50, authored, "drA", per_day=4, days=5)
    fill = dispense(f"{ident}-fill", pid, TRAMADOL_50, fill_day, 20, 5, "drA", "ph1", order=ident)
    return [request, fill]


def test_a_new_start_filled_days_after_its_prescription_was_written_is_a_new_start() -> None:
    # The prescription written on 2 February is the start itself, not opioid use before it.
    outcome = _evaluate("n1", [patient("n1"), *_prescribed("rx1", "n1", "2026-02-02", "2026-02-04")])
    assert _row(outcome)["iop_hd_den"] is True


def test_an_earlier_prescription_of_another_opioid_in_the_90_days_is_prior_use() -> None:
    earlier = order("rx0", "n2", OXYCODONE_5, "2025-12-20", "drB", per_day=4, days=5)
    outcome = _evaluate("n2", [patient("n2"), earlier, *_prescribed("rx1", "n2", "2026-02-02", "2026-02-04")])
    assert _row(outcome)["iop_hd_den"] is False


def test_supply_ending_exactly_90_days_before_is_prior_use_and_91_days_is_not() -> None:
    # A 30-day fill of 2025-10-08 covers to 2025-11-06; 90 days before 2026-02-04 is 2025-11-06.
    inside = [dispense("a", "n3", OXYCODONE_5, "2025-10-08", 120, 30, "drA", "ph1")]
    outside = [dispense("a", "n4", OXYCODONE_5, "2025-10-07", 120, 30, "drA", "ph1")]
    new = [dispense("b", "{}", TRAMADOL_50, "2026-02-04", 20, 5, "drA", "ph1")]
    covered = _evaluate("n3", [patient("n3"), *inside, {**new[0], "subject": {"reference": "Patient/n3"}}])
    uncovered = _evaluate("n4", [patient("n4"), *outside, {**new[0], "subject": {"reference": "Patient/n4"}}])
    assert (_row(covered)["iop_hd_den"], _row(uncovered)["iop_hd_den"]) == (False, True)


def test_an_early_refill_queued_into_the_look_back_is_prior_use() -> None:
    # 30 days from 2025-10-01 (to 10-30), refilled early on 10-25: the refill's supply runs 10-31 to 11-29, inside
    # the 90 days before 2026-02-27 (from 11-29), so 2026-02-27 is no new start.
    fills = [
        dispense("a", "n5", OXYCODONE_5, "2025-10-01", 120, 30, "drA", "ph1"),
        dispense("b", "n5", OXYCODONE_5, "2025-10-25", 120, 30, "drA", "ph1"),
        dispense("c", "n5", OXYCODONE_5, "2026-02-27", 20, 5, "drA", "ph1"),
    ]
    assert _row(_evaluate("n5", [patient("n5"), *fills]))["iop_hd_den"] is False


# ---------------------------------------------------------------------------------------------------------------
# Thresholds: at, just under


def test_thresholds_are_met_at_their_values() -> None:
    # IOP-HD at exactly 50 MME/day (oxycodone 10 mg, 100 tablets for 30 days = 50); IOP-LD at 8 days, not 7.
    at_50 = _row(_evaluate("t1", [patient("t1"), dispense("a", "t1", OXYCODONE_10, "2026-02-01", 100, 30)]))
    seven = _row(_evaluate("t2", [patient("t2"), dispense("a", "t2", OXYCODONE_5, "2026-02-01", 28, 7)]))
    eight = _row(_evaluate("t3", [patient("t3"), dispense("a", "t3", OXYCODONE_5, "2026-02-01", 32, 8)]))
    assert (at_50["iop_hd_num"], seven["iop_ld_num"], eight["iop_ld_num"]) == (True, False, True)


def test_ohd_denominator_needs_15_days_and_amo_90() -> None:
    fourteen = [dispense(f"f{n}", "t4", OXYCODONE_5, day, 28, 7) for n, day in ((1, "2026-01-05"), (2, "2026-02-05"))]
    fourteen[1]["quantity"]["value"], fourteen[1]["daysSupply"]["value"] = 28, 7
    fifteen = [*fourteen[:1], {**fourteen[1], "daysSupply": {**fourteen[1]["daysSupply"], "value": 8}}]
    assert _row(_evaluate("t4", [patient("t4"), *fourteen]))["ohd_den"] is False
    assert _row(_evaluate("t4", [patient("t4"), *fifteen]))["ohd_den"] is True
    year = [dispense(f"y{n}", "t5", OXYCODONE_5, day, 120, 30) for n, day in enumerate(("2025-06-01", "2025-09-01"))]
    at_89 = [*year, dispense("y9", "t5", OXYCODONE_5, "2026-01-10", 116, 29)]
    at_90 = [*year, dispense("y9", "t5", OXYCODONE_5, "2026-01-10", 120, 30)]
    assert _row(_evaluate("t5", [patient("t5"), *at_89]))["amo_den"] is False
    assert _row(_evaluate("t5", [patient("t5"), *at_90]))["amo_den"] is True


def test_adult_on_the_period_s_first_day() -> None:
    born_18_years_before = _row(_evaluate("a1", [patient("a1", "2008-01-01"), *_high_dose("a1")]))
    born_a_day_later = _row(_evaluate("a2", [patient("a2", "2008-01-02"), *_high_dose("a2")]))
    assert (born_18_years_before["ohd_den"], born_a_day_later["excluded"]) == (True, "under 18")


# ---------------------------------------------------------------------------------------------------------------
# Opioid with a benzodiazepine (COB)


def _cob_patient(pid: str, benzo_days: int | None) -> list[dict]:
    """Oxycodone for 60 days and alprazolam twice a month apart, with `benzo_days` days' supply stated (or none)."""
    benzos = [dispense(f"{pid}-b{n}", pid, ALPRAZOLAM, day, 60, benzo_days, "drB", "ph1") for n, day in
              enumerate(("2026-01-06", "2026-02-05"))]  # fmt: skip
    return [patient(pid), *_high_dose(pid), *benzos]


def test_cob_counts_the_days_both_cover() -> None:
    row = _row(_evaluate("b1", _cob_patient("b1", 30)))
    # Opioid 01-05 to 03-05, alprazolam 01-06 to 03-06: 01-06 to 03-05 is 59 days.
    assert (row["cob_den"], row["cob_num"], row["cob_overlap_days"]) == (True, True, 59)


def test_a_benzodiazepine_fill_with_no_days_supply_takes_it_from_its_prescription() -> None:
    # Alprazolam 0.5 mg twice a day for 30 days, the fills sending no days' supply: read as one day each, the 59
    # days both cover were 2 and COB's numerator missed the patient with nothing said.
    resources = _cob_patient("b2", None)
    for n in range(2):
        resources.append(order(f"b2-rx{n}", "b2", ALPRAZOLAM, ("2026-01-05", "2026-02-04")[n], "drB", 2, 30))
        resources[3 + n]["authorizingPrescription"] = [{"reference": f"MedicationRequest/b2-rx{n}"}]
    row = _row(_evaluate("b2", resources))
    assert (row["cob_num"], row["cob_overlap_days"]) == (True, 59)


def test_a_benzodiazepine_fill_with_no_days_supply_at_all_makes_cob_partial() -> None:
    outcome = _evaluate("b3", _cob_patient("b3", None))
    row = _row(outcome)
    assert (row["cob_den"], row["cob_num"]) == (True, False)
    assert row["partial"] == "COB"
    assert any("alprazolam" in line and "COB" in line for line in json.loads(row["evidence"])["partial"])
    # Counted for the run too, so the dashboard marks COB's rate (the row alone named it for this patient only).
    assert outcome.quality.benzodiazepine_fills_without_days_supply == 2


def test_a_benzodiazepine_fill_whose_days_come_from_its_prescription_is_not_counted_as_without() -> None:
    resources = _cob_patient("b4", None)
    for n in range(2):
        resources.append(order(f"b4-rx{n}", "b4", ALPRAZOLAM, ("2026-01-05", "2026-02-04")[n], "drB", 2, 30))
        resources[3 + n]["authorizingPrescription"] = [{"reference": f"MedicationRequest/b4-rx{n}"}]
    assert _evaluate("b4", resources).quality.benzodiazepine_fills_without_days_supply == 0


# ---------------------------------------------------------------------------------------------------------------
# Attribution to the main prescriber: ties


def test_a_tie_goes_to_the_prescriber_of_the_latest_fill() -> None:
    fills = [
        dispense("a", "m1", OXYCODONE_5, "2026-01-05", 20, 5, "drB", "ph1"),
        dispense("b", "m1", OXYCODONE_5, "2026-02-05", 20, 5, "drA", "ph1"),
    ]
    assert _row(_evaluate("m1", [patient("m1"), *fills]))["pcp_id"] == "drA"


def test_a_tie_on_the_same_latest_day_goes_to_the_lowest_id() -> None:
    # dr1 and dr10 each wrote one fill of 5 February: the lowest id, dr1, not the longer id it begins.
    fills = [
        dispense("a", "m2", OXYCODONE_5, "2026-02-05", 20, 5, "dr10", "ph1"),
        dispense("b", "m2", TRAMADOL_50, "2026-02-05", 20, 5, "dr1", "ph1"),
    ]
    row = _row(_evaluate("m2", [patient("m2"), *fills]))
    assert (row["attribution"], row["pcp_id"]) == ("prescriber", "dr1")


# ---------------------------------------------------------------------------------------------------------------
# Once left as found for a decision (strict xfails), now decided


def test_the_twelve_months_to_the_end_of_february_after_a_leap_year_start_on_1_march() -> None:
    from guideline.population import Period

    period = Period(date(2024, 12, 1), date(2025, 2, 28))
    fills = [
        dispense(f"y{n}", "y1", OXYCODONE_5, day, 120, 30, "drA", "ph1")
        for n, day in enumerate(("2024-02-29", "2024-06-01", "2025-01-10"))
    ]
    outcome = evaluate_patient("y1", [patient("y1"), *fills], period, CONFIG, TODAY, Directory())
    assert (period.year_start, _row(outcome)["amo_den"]) == (date(2024, 3, 1), False)


# Enrolment (population.enrolment, the default `name` and PQA's `continuous`): tests/test_population_enrolment.py
# has the rest.
def _coverage(pid: str, start: str, end: str) -> dict:
    """A payer's Coverage for the member: enrolled from `start` to `end`."""
    return {
        "resourceType": "Coverage",
        "id": f"{pid}-cov",
        "status": "active",
        "beneficiary": {"reference": f"Patient/{pid}"},
        "payor": [{"reference": "Organization/payer"}],
        "period": {"start": start, "end": end},
    }


def test_a_member_enrolled_for_part_of_the_period_is_in_the_denominators_and_named() -> None:
    # population.enrolment = name (the default): the spec's denominators, the enrolment gap on the row and counted
    outcome = _evaluate("e1", [patient("e1"), *_high_dose("e1"), _coverage("e1", "2025-01-01", "2026-01-20")])
    row = _row(outcome)
    assert (row["ohd_den"], row["ohd_num"]) == (True, True)
    assert (row["enrolled_days"], row["enrolment_gaps"], row["longest_enrolment_gap_days"]) == (20, 1, 70)
    assert outcome.quality.members_enrolled_part_of_period == 1


def test_a_member_enrolled_for_part_of_the_period_is_not_in_the_denominators_under_continuous_enrolment() -> None:
    continuous = GuidelineConfig.from_mapping({"population": {"enrolment": "continuous"}})
    resources = [patient("e1"), *_high_dose("e1"), _coverage("e1", "2025-01-01", "2026-01-20")]
    outcome = evaluate_patient("e1", resources, PERIOD, continuous, TODAY, Directory())
    assert (_row(outcome)["ohd_den"], _row(outcome)["ohd_num"]) == (False, False)
    assert _row(outcome)["excluded"] == "not continuously enrolled (1 gap, the longest 70 days)"


# ---------------------------------------------------------------------------------------------------------------
# One fill, two records of it: never two prescribers or two pharmacies

NPI = "http://hl7.org/fhir/sid/us-npi"
NCPDP = "http://terminology.hl7.org/NamingSystem/NCPDPProviderIdentificationNumber"


def test_a_dispense_and_its_claim_naming_the_pharmacy_by_number_are_one_fill_at_one_pharmacy() -> None:
    from test_population_fill_integrity import pharmacy_claim

    directory = Directory(
        by_identifier={"npi|1111111112": "Practitioner/drA", "ncpdp|0123456": "Organization/ph1"},
    )
    ehr = [dispense(f"d{n}", "o1", OXYCODONE_10, day, 180, 30, "drA", "ph1") for n, day in
           enumerate(("2026-01-05", "2026-02-04"))]  # fmt: skip
    claims = []
    for n, day in enumerate(("2026-01-05", "2026-02-04")):
        claim = pharmacy_claim(f"c{n}", "o1", day)
        claim["provider"] = {"identifier": {"system": NCPDP, "value": "0123456"}}
        claim["careTeam"][0]["provider"] = {"identifier": {"system": NPI, "value": "1111111112"}}
        claims.append(claim)
    outcome = evaluate_patient("o1", [patient("o1"), *ehr, *claims], PERIOD, CONFIG, TODAY, directory)
    row = _row(outcome)
    assert (row["opioid_fills"], row["prescribers"], row["pharmacies"], row["days_supply"]) == (2, 1, 1, 60.0)
    assert outcome.quality.duplicate_fills == 2


def test_omp_needs_four_of_each() -> None:
    def fills(pid: str, pharmacies: int) -> list[dict]:
        return [
            dispense(f"{pid}{n}", pid, OXYCODONE_5, f"2026-01-{10 + n:02d}", 20, 5, f"dr{n}", f"ph{min(n, pharmacies)}")
            for n in range(1, 5)
        ]

    assert _row(_evaluate("p4", [patient("p4"), *fills("p4", 4)]))["omp_num"] is True
    assert _row(_evaluate("p3", [patient("p3"), *fills("p3", 3)]))["omp_num"] is False


# ---------------------------------------------------------------------------------------------------------------
# A fill straddling the period's start


def test_an_early_refill_queued_behind_a_fill_from_before_the_period_does_not_dilute_the_average() -> None:
    # 90 MME/day every day: filled 2025-12-20 (to 2026-01-18), refilled early on 01-10, 02-09 and 03-11. The 01-10
    # refill's supply starts 01-19; the days before are the December fill's, not days of no opioid. Counted as
    # such, the average was 6,480 ÷ 81 = 80 and a patient on 90 MME/day every day was out of OHD's numerator.
    fills = [
        dispense(f"s{n}", "s1", OXYCODONE_10, day, 180, 30, "drA", "ph1")
        for n, day in enumerate(("2025-12-20", "2026-01-10", "2026-02-09", "2026-03-11"))
    ]
    row = _row(_evaluate("s1", [patient("s1"), *fills]))
    assert (row["episode_start"], row["avg_mme"], row["ohd_num"]) == (date(2026, 1, 19), 90.0, True)


def test_a_billed_palliative_care_diagnosis_excludes_from_the_window_s_first_day_on() -> None:
    from test_population_claims import professional_claim

    before = {**professional_claim("pc", "z1", "2025-10-02", "Z51.5")}
    first = {**professional_claim("pc", "z2", "2025-10-03", "Z51.5")}
    assert _row(_evaluate("z1", [patient("z1"), *_high_dose("z1"), before]))["excluded"] is None
    assert _row(_evaluate("z2", [patient("z2"), *_high_dose("z2"), first]))["excluded"] == "palliative care (Z51.5)"


def test_one_benzodiazepine_fill_of_unknown_days_supply_cannot_change_cob_so_is_not_partial() -> None:
    """COB needs benzodiazepine fills on two dates: with one, more days could not put the patient in the numerator,
    and the row said COB "may differ" when it could not (found by review)."""
    resources = _cob_patient("b5", None)[:-1]  # the first alprazolam fill only
    row = _row(_evaluate("b5", resources))
    assert (row["cob_den"], row["cob_num"]) == (True, False)
    assert "COB" not in (row["partial"] or "")


# The period's label names a calendar quarter by its bounds alone: the evaluation date's range (--today) plays no part,
# so a period at either end of the years a date can have is labelled, not refused as a bad --today.
@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        (date(2026, 1, 1), date(2026, 3, 31), "2026 Q1"),
        (date(2025, 10, 1), date(2025, 12, 31), "2025 Q4"),
        (date(2026, 1, 1), date(2026, 3, 30), "2026-01-01/2026-03-30"),
        (date(2025, 12, 1), date(2026, 2, 28), "2025-12-01/2026-02-28"),
        (date(1800, 1, 1), date(1800, 3, 31), "1800 Q1"),
        (date(1800, 1, 1), date(1800, 1, 15), "1800-01-01/1800-01-15"),
        (date(2200, 10, 1), date(2200, 12, 31), "2200 Q4"),
    ],
)
def test_a_period_is_labelled_by_its_own_bounds(start: date, end: date, label: str) -> None:
    from guideline.population import Period

    assert Period(start, end).label == label
