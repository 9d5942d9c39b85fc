"""A payer claim billing an active-cancer diagnosis, read by one named rule per face: at the point of care (G3, the
CDC's rule) a claim is a cancer-related visit on its day of service, and two such visits in 12 months exclude; in the
population review (PQA's measure specs) one claim with the diagnosis in the period excludes.

Before, the point of care read a claim's diagnosis as an encounter diagnosis of no visit at all: a patient whose
payer billed breast cancer at two oncology visits got every opioid card, while the review left them out of every
measure on either claim alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import PATIENT_ID, days_ago, encounter
from cds_support import bundle, full_prefetch, hook_request, make_app, oxycodone_draft, topics
from synthetic_export import patient
from test_payer_code_systems import carrier_claim
from test_population_measure_edges import _evaluate, _high_dose, _row

from guideline.population.claims import claims_read_for_a_hook

# Today is 2026-06-15 at the point of care; the review's period is the first quarter of 2026 (history window from
# 2025-10-03). Breast cancer, right, as CMS Blue Button bills it: under `sid/icd-10`, no dot, no display.
BREAST_CANCER = "C50911"
OPIOID_CARDS = {"high-mme", "naloxone", "pdmp-review", "urine-drug-test", "treatment-plan"}


def order_sign(tmp_path: Path, *claims: dict[str, Any], encounters: tuple[dict[str, Any], ...] = ()) -> set[str]:
    """The cards of an order-sign of oxycodone 5 mg, 4 tablets every 6 hours (80 mg, 120 MME/day), with these Blue
    Button claims in the conditions prefetch and these visits in the encounters prefetch."""
    prefetch = full_prefetch("order-sign", conditions=bundle(*claims), encounters=bundle(*encounters))
    body = hook_request(drafts=[oxycodone_draft(dose=4, every_hours=6)], prefetch=prefetch)
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200
    return set(topics(response.json))


def oncology_claim(ident: str, day: str, pid: str = PATIENT_ID) -> dict[str, Any]:
    """A Part B carrier claim for an oncology office visit (99214) billing breast cancer, dated `day`."""
    return carrier_claim(ident, pid, day, BREAST_CANCER, "99214")


def review_excluded(*claims: dict[str, Any]) -> str | None:
    """Why the review leaves a high-dose patient with these claims (made for them) out of every measure, or None."""
    return _row(_evaluate("p-ca", [patient("p-ca"), *_high_dose("p-ca"), *claims]))["excluded"]


# -- The point of care: the CDC's rule (G3), a claim is a visit ---------------------------------------------------


def test_two_claims_billing_cancer_three_months_apart_exclude_on_order_sign(tmp_path: Path) -> None:
    # Before, the claims' diagnoses were encounter diagnoses of no visit: every opioid card fired.
    assert order_sign(tmp_path) >= OPIOID_CARDS  # the 120 MME/day order's cards, without the claims
    claims = (oncology_claim("bb-ca-1", "2026-03-10"), oncology_claim("bb-ca-2", "2026-06-01"))
    assert order_sign(tmp_path, *claims) == set()


def test_one_claim_billing_cancer_does_not_exclude_at_the_point_of_care(tmp_path: Path) -> None:
    # The CDC's G3: one visit with a cancer diagnosis is no active cancer treatment (it asks for two in 12 months).
    assert order_sign(tmp_path, oncology_claim("bb-ca-1", "2026-03-10")) >= OPIOID_CARDS


def test_two_claims_for_one_day_of_service_are_one_visit(tmp_path: Path) -> None:
    # A visit is often billed twice (the physician's claim and the hospital's), or with a second claim for its labs.
    claims = (oncology_claim("bb-ca-1", "2026-03-10"), oncology_claim("bb-ca-2", "2026-03-10"))
    assert order_sign(tmp_path, *claims) >= OPIOID_CARDS


def test_a_claim_for_a_visit_the_record_holds_is_that_visit_not_a_second(tmp_path: Path) -> None:
    # The EHR's oncology visit of 10 March, its cancer diagnosis linked, and the payer's claim for the same day.
    visit = encounter(start="2026-03-10T09:00:00-04:00", diagnoses=["Condition/ca-visit"])
    diagnosis = {
        "resourceType": "Condition",
        "id": "ca-visit",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "encounter-diagnosis",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C50.911"}]},
    }
    claim = oncology_claim("bb-ca-1", "2026-03-10")
    assert order_sign(tmp_path, claim, diagnosis, encounters=(visit,)) >= OPIOID_CARDS
    later = oncology_claim("bb-ca-2", "2026-05-20")  # another visit, known from its claim alone
    assert order_sign(tmp_path, claim, later, diagnosis, encounters=(visit,)) == set()


def test_claims_older_than_twelve_months_are_no_recent_visits(tmp_path: Path) -> None:
    claims = (oncology_claim("bb-ca-1", "2025-05-01"), oncology_claim("bb-ca-2", "2026-06-01"))
    assert order_sign(tmp_path, *claims) >= OPIOID_CARDS


def test_the_exclusion_names_the_claims_it_rests_on() -> None:
    from builders import run

    read = claims_read_for_a_hook([oncology_claim("bb-ca-1", days_ago(90)), oncology_claim("bb-ca-2", days_ago(14))])
    evaluation = run("patient-view", resources=list(read.resources))
    [finding] = evaluation.facts.exclusions
    assert finding.name == "active_cancer"
    assert finding.evidence == (
        "2 cancer-related visits in the last 12 months (billed on payer claims: ExplanationOfBenefit bb-ca-1, bb-ca-2)"
    )


# -- The population review: PQA's rule, one claim with the diagnosis in the period --------------------------------


def test_one_claim_billing_cancer_in_the_period_excludes_from_the_measures() -> None:
    # PQA's opioid measures exclude on one claim with a cancer diagnosis in the period: the face differs on purpose.
    assert review_excluded(oncology_claim("bb-ca-1", "2026-03-10", "p-ca")) == "cancer"
    assert review_excluded() is None


# -- A claim dated by its lines alone (CARIN professional claims), or by nothing -----------------------------------


def line_dated_claim(ident: str, day: str | None, pid: str = PATIENT_ID) -> dict[str, Any]:
    """The oncology claim as a CARIN Blue Button professional claim may send it: no billablePeriod, the day of
    service on its line alone (`servicedDate`); with no `day`, dated by nothing at all."""
    claim = {key: value for key, value in oncology_claim(ident, day or "2026-01-01", pid).items()}
    del claim["billablePeriod"]
    line = {key: value for key, value in claim["item"][0].items() if key != "servicedPeriod"}
    claim["item"] = [line | ({"servicedDate": day} if day else {})]
    return claim


def test_claims_dated_by_their_lines_are_visits_on_those_days(tmp_path: Path) -> None:
    # Before, a diagnosis was dated by the claim's billablePeriod alone: these two claims were visits on no day.
    claims = (line_dated_claim("bb-ca-1", "2026-03-10"), line_dated_claim("bb-ca-2", "2026-06-01"))
    assert order_sign(tmp_path, *claims) == set()


def test_a_claim_dated_by_its_lines_is_read_on_that_day_in_the_review() -> None:
    # Before, its diagnosis was undated, and an undated diagnosis is in effect whatever its day: a cancer billed in
    # 2019 left a 2026 member out of every measure.
    assert review_excluded(line_dated_claim("bb-ca-1", "2019-05-01", "p-ca")) is None
    assert review_excluded(line_dated_claim("bb-ca-1", "2026-03-10", "p-ca")) == "cancer"


def test_a_claim_dated_by_nothing_excludes_no_one_and_is_named() -> None:
    outcome = _evaluate("p-ca", [patient("p-ca"), *_high_dose("p-ca"), line_dated_claim("bb-ca-1", None, "p-ca")])
    assert _row(outcome)["excluded"] is None
    assert outcome.quality.claim_diagnoses_undated == {"p-ca": 1}


def test_the_exclusion_says_how_many_of_its_visits_a_claim_billed() -> None:
    """One visit of the record and one claim: it said "billed on payer claims: ExplanationOfBenefit bb-ca-2", as if
    the one claim had billed both visits."""
    from guideline.exclusions import _billed

    assert _billed(2, 1, ("bb-ca-2",)) == " (1 of them billed on a payer claim: ExplanationOfBenefit bb-ca-2)"
    assert _billed(2, 2, ("bb-ca-1", "bb-ca-2")) == " (billed on payer claims: ExplanationOfBenefit bb-ca-1, bb-ca-2)"
    assert _billed(2, 0, ()) == ""


# -- At the point of care, a claim dated by nothing is named where it bills an exclusion's diagnosis ---------------


def test_an_undated_claim_billing_cancer_is_named_on_the_data_incomplete_card(tmp_path: Path) -> None:
    # One dated oncology claim is one cancer visit; the other claim gives no date of service, so it is no second visit
    # and the 120 MME/day order's cards fire. Before, nothing said a claim billing cancer had gone uncounted.
    claims = (oncology_claim("bb-ca-1", "2026-03-10"), line_dated_claim("bb-ca-2", None))
    prefetch = full_prefetch("order-sign", conditions=bundle(*claims))
    body = hook_request(drafts=[oxycodone_draft(dose=4, every_hours=6)], prefetch=prefetch)
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200
    assert "high-mme" in topics(response.json)
    [card] = [c for c in response.json["cards"] if c["source"]["topic"]["code"] == "data-incomplete"]
    assert (
        "- Payer claim bb-ca-2 bills C50911: gives no date of service, so it could not count as a visit or a current "
        "diagnosis" in card["detail"]
    )
    assert "bb-ca-1" not in card["detail"]  # the dated claim counted as a visit


def test_an_undated_claim_is_named_only_where_its_exclusion_could_have_applied() -> None:
    from builders import run

    from guideline.exclusions import undated_claim_diagnoses

    read = claims_read_for_a_hook([line_dated_claim("bb-ca-2", None)])
    named = undated_claim_diagnoses(run("patient-view", resources=list(read.resources)).facts)
    assert named == ("Payer claim bb-ca-2 bills C50911",)
    off = {"exclusions": {"active_cancer": {"enabled": False}}}  # the site reads no cancer: the claim changes nothing
    assert undated_claim_diagnoses(run("patient-view", resources=list(read.resources), config=off).facts) == ()
    dated = claims_read_for_a_hook([oncology_claim("bb-ca-1", "2026-03-10")])  # a visit on its day: counted
    assert undated_claim_diagnoses(run("patient-view", resources=list(dated.resources)).facts) == ()


# -- One rule for a claim's diagnosis of no day of service, on both faces -------------------------------------------


def last_day_only_claim(ident: str, day: str, pid: str = PATIENT_ID) -> dict[str, Any]:
    """The oncology claim with a `billablePeriod` giving only its `end` (no first day of service), its line undated."""
    claim = line_dated_claim(ident, None, pid)
    return claim | {"billablePeriod": {"end": day}}


def test_a_claim_giving_only_its_last_day_is_undated_in_the_review_as_at_the_point_of_care() -> None:
    # The point of care reads such a claim's diagnosis as undated (no first day of service: `undated_claim`), named
    # and counted as no visit. The review read it as in effect on every day up to its end, so it left the member out
    # of the measures.
    outcome = _evaluate(
        "p-ca", [patient("p-ca"), *_high_dose("p-ca"), last_day_only_claim("bb-ca-1", "2026-03-10", "p-ca")]
    )
    assert _row(outcome)["excluded"] is None
    assert outcome.quality.claim_diagnoses_undated == {"p-ca": 1}
    from builders import run

    from guideline.exclusions import undated_claim_diagnoses

    read = claims_read_for_a_hook([last_day_only_claim("bb-ca-1", "2026-03-10")])
    named = undated_claim_diagnoses(run("patient-view", resources=list(read.resources)).facts)
    assert named == ("Payer claim bb-ca-1 bills C50911",)


def test_the_review_and_the_point_of_care_agree_which_claim_diagnoses_are_undated() -> None:
    """`undated_diagnosis` (the review, on the resource `claim_resources` derives) and `exclusions.undated_claim` (the
    point of care, on the record's Condition read from it) give one answer for every way a claim dates its service."""
    from zoneinfo import ZoneInfo

    from guideline.exclusions import undated_claim
    from guideline.population.claims import claim_resources, undated_diagnosis
    from guideline.record.readers import read_condition

    claims = {
        "billable period": oncology_claim("c-1", "2026-03-10"),
        "lines only": line_dated_claim("c-2", "2026-03-10"),
        "first day only": line_dated_claim("c-3", None) | {"billablePeriod": {"start": "2026-03-10"}},
        "last day only": last_day_only_claim("c-4", "2026-03-10"),
        "no day": line_dated_claim("c-5", None),
    }
    answers = {}
    for shape, claim in claims.items():
        [diagnosis] = [r for r in claim_resources(claim) if r["resourceType"] == "Condition"]
        read = read_condition(diagnosis, ZoneInfo("America/New_York"))
        assert undated_diagnosis(diagnosis) is undated_claim(read), shape
        answers[shape] = undated_claim(read)
    assert answers == {
        "billable period": False,
        "lines only": False,
        "first day only": False,
        "last day only": True,
        "no day": True,
    }


def unreadable_start_claim(ident: str, end: str | None, pid: str = PATIENT_ID) -> dict[str, Any]:
    """The oncology claim with a `billablePeriod` whose first day is no date ("2026-13-45", a keying error), its line
    undated; with `end`, its last day as sent."""
    period = {"start": "2026-13-45"} | ({"end": end} if end else {})
    return line_dated_claim(ident, None, pid) | {"billablePeriod": period}


@pytest.mark.parametrize("end", [None, "2026-03-10"])
def test_a_claim_whose_first_day_is_no_date_is_undated_in_the_review_as_at_the_point_of_care(end: str | None) -> None:
    # The point of care reads the diagnosis's recorded date as none (the record reads "2026-13-45" as no date), so it
    # names the claim as giving no date of service. The review kept it as dated, since a start was written: its
    # diagnosis was read as in effect on no day it could tell, and it was not counted in claim_diagnoses_undated.
    claim = unreadable_start_claim("bb-ca-1", end, "p-ca")
    outcome = _evaluate("p-ca", [patient("p-ca"), *_high_dose("p-ca"), claim])
    assert _row(outcome)["excluded"] is None
    assert outcome.quality.claim_diagnoses_undated == {"p-ca": 1}
    from builders import run

    from guideline.exclusions import undated_claim_diagnoses

    read = claims_read_for_a_hook([unreadable_start_claim("bb-ca-1", end)])
    named = undated_claim_diagnoses(run("patient-view", resources=list(read.resources)).facts)
    assert named == ("Payer claim bb-ca-1 bills C50911",)


def test_the_review_and_the_point_of_care_agree_on_a_first_day_that_is_no_date() -> None:
    from zoneinfo import ZoneInfo

    from guideline.exclusions import undated_claim
    from guideline.population.claims import claim_resources, undated_diagnosis
    from guideline.record.readers import read_condition

    for claim in (unreadable_start_claim("c-6", None), unreadable_start_claim("c-7", "2026-03-10")):
        [diagnosis] = [r for r in claim_resources(claim) if r["resourceType"] == "Condition"]
        read = read_condition(diagnosis, ZoneInfo("America/New_York"))
        assert undated_diagnosis(diagnosis) is undated_claim(read) is True
