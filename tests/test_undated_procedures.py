"""Procedures that matter to a check but carry no date PainPlan can read (R4's performedAge and performedRange, words,
or nothing): never counted as recent, and named on the data-incomplete card and the plan page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import ICD10, SNOMED, card, condition, days_ago, med_request, procedure, run

from guideline.checks import CHECKS, oud_treatment, pdmp_review
from guideline.plan import build_plan
from guideline.undated import undated_procedures

HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
PDMP_REVIEW = "461621000124108"  # Review of prescription drug monitoring program record (procedure)
HOSPICE_CARE = "385763009"
APPENDECTOMY = "80146002"


def undated(resource: dict[str, Any], **performed: Any) -> dict[str, Any]:
    """The procedure with its performedDateTime replaced by the given performed[x] (none when empty)."""
    resource = {**resource, "id": resource["id"]}
    del resource["performedDateTime"]
    resource.update(performed)
    return resource


AT_AGE = {"performedAge": {"value": 55, "unit": "years", "system": "http://unitsofmeasure.org", "code": "a"}}
AGE_RANGE = {"performedRange": {"low": {"value": 50, "unit": "years"}, "high": {"value": 56, "unit": "years"}}}


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, oud_treatment.CHECK_ID, oud_treatment)
    monkeypatch.setitem(CHECKS, pdmp_review.CHECK_ID, pdmp_review)


def test_a_pdmp_review_dated_by_an_age_is_no_recent_review_and_is_named() -> None:
    review = undated(procedure(SNOMED, PDMP_REVIEW), **AT_AGE)
    review["code"]["text"] = "PDMP review"
    evaluation = run(
        "order-sign", drafts=[med_request("1049621", draft=True, id="ox1", supply_days=3)], resources=[review]
    )
    assert card(evaluation, pdmp_review.CHECK_ID) is not None  # not read as a review in the last 90 days
    assert undated_procedures(evaluation.facts) == (
        f"PDMP review (procedure {review['id']}), performed at age 55 years",
    )


def test_an_oud_medication_dose_dated_by_an_age_range_is_no_treatment_and_is_named() -> None:
    dose = undated(procedure(HCPCS, "J2315"), **AGE_RANGE)
    evaluation = run("patient-view", resources=[condition(ICD10, "F11.20", display="Opioid dependence"), dose])
    assert card(evaluation, oud_treatment.CHECK_ID) is not None
    (named,) = undated_procedures(evaluation.facts)
    assert (
        named
        == f"medication for opioid use disorder (HCPCS J2315) (procedure {dose['id']}), performed at ages 50–56 years"
    )


def test_hospice_care_with_no_date_excludes_no_one_and_is_named() -> None:
    care = undated(procedure(SNOMED, HOSPICE_CARE))
    evaluation = run("patient-view", resources=[care])
    assert evaluation.facts.exclusions == ()
    assert undated_procedures(evaluation.facts) == (f"hospice or end-of-life care (procedure {care['id']}), no date",)


def test_a_date_in_words_is_named_with_its_words_and_dated_ones_and_others_are_not() -> None:
    in_words = undated(procedure(SNOMED, PDMP_REVIEW), performedString="last spring")
    resources = [
        in_words,
        procedure(SNOMED, PDMP_REVIEW, performed=days_ago(400)),  # dated: its card says when
        undated(procedure(SNOMED, APPENDECTOMY), **AT_AGE),  # matters to no check
        undated(procedure(SNOMED, PDMP_REVIEW, status="not-done"), **AT_AGE),  # not done: no review at all
    ]
    named = undated_procedures(run("patient-view", resources=resources).facts)
    assert named == (f'PDMP review (procedure {in_words["id"]}), performed "last spring"',)


def test_the_card_and_the_plan_page_name_it(tmp_path: Path) -> None:
    from cds_support import bundle, data_incomplete_detail

    review = undated(procedure(SNOMED, PDMP_REVIEW), **AT_AGE)
    review["id"] = "pr-age"
    detail = data_incomplete_detail(tmp_path, procedures=bundle(review))
    assert "pr-age" in detail and "no date PainPlan can read" in detail

    evaluation = run("patient-view", resources=[review])
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    assert view.named["undated-procedures"] == ("PDMP review (procedure pr-age), performed at age 55 years",)
    assert "Procedures with no date" in view.note


def test_the_plan_page_html_shows_undated_procedures(tmp_path: Path) -> None:
    import responses
    from builders import patient
    from test_plan_view import FakeFhir, _app, _open_plan

    review = undated(procedure(SNOMED, PDMP_REVIEW), **AT_AGE)
    review["id"] = "pr-age"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, [patient(patient_id="p1"), review])
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert 'id="undated-procedures"' in html and "(procedure pr-age), performed at age 55 years" in html


def test_a_pasted_procedure_name_is_quoted_cut_where_every_face_names_an_item() -> None:
    """A review's text of 5,000 characters (a note pasted into the order's name) is quoted to 150 characters, as every
    text a face quotes is, never whole in the card."""
    review = undated(procedure(SNOMED, PDMP_REVIEW), **AT_AGE)
    review["code"]["text"] = "PDMP review " + "reviewed CT PMP, no early refills noted " * 125
    evaluation = run(
        "order-sign", drafts=[med_request("1049621", draft=True, id="ox1", supply_days=3)], resources=[review]
    )
    (named,) = undated_procedures(evaluation.facts)
    quoted, where = named.split(" (procedure ")
    assert len(quoted) <= 150 and quoted.endswith("…") and quoted.startswith("PDMP review reviewed CT PMP")
    assert where == f"{review['id']}), performed at age 55 years"
