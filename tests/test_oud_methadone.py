"""Methadone for opioid use disorder (the forms only opioid treatment programs dispense) is treatment, not pain
therapy: it is not counted in the MME total, as buprenorphine for OUD is not, and it is named wherever the total is
shown. The opioid + benzodiazepine and naloxone checks still see it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from builders import ICD10, NOW, card, days_ago, dispense, med_request, run

from guideline.fhirdata import RXNORM, Coding, Concept
from guideline.plan import build_plan
from guideline.record import ResolvedMedication

METHADONE_CONCENTRATE = "991147"  # methadone hydrochloride 10 MG/ML Oral Solution: opioid treatment programs only
DISKETS = "1990745"  # methadone hydrochloride 40 MG Tablet for Oral Suspension [Diskets]: programs only
METHADONE_10_TABLET = "864706"  # methadone hydrochloride 10 MG Oral Tablet: prescribed for pain
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
LORAZEPAM = "197901"  # lorazepam 1 MG Oral Tablet
NALOXONE_SPRAY = "1725059"
NOT_COUNTED = "methadone for opioid use disorder (not counted in MME; the CDC thresholds do not apply)"
NOT_COUNTED_HEADING = "M" + NOT_COUNTED[1:]


def program_methadone(**kwargs: object) -> dict:
    """100 mg a day of the 10 mg/mL concentrate as Oracle Health sends a documented home medication: status
    active, intent plan, reported as taken."""
    resource = med_request(
        METHADONE_CONCENTRATE,
        id="otp1",
        intent="plan",
        dose=10,
        unit="mL",
        frequency=1,
        period=1,
        period_unit="d",
        authored=days_ago(14),
        display="methadone hydrochloride 10 MG/ML Oral Solution",
        **kwargs,  # type: ignore[arg-type]
    )
    resource["reportedBoolean"] = True
    return resource


def oud_diagnosis() -> dict:
    return {
        "resourceType": "Condition",
        "id": "c-oud",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": ICD10, "code": "F11.20"}]},
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
    }


def test_program_methadone_on_its_own_gives_no_high_dose_card_and_no_taper_advice() -> None:
    # The reviewer's case: 100 mg a day was read as 470 MME/day, and the patient-view card told the clinician to
    # "reconsider the dose … consider a gradual taper" of treatment for opioid use disorder.
    resources = [program_methadone(), oud_diagnosis(), dispense(NALOXONE_SPRAY, days_ago(40))]
    evaluation = run("patient-view", resources=resources)
    assert card(evaluation, "high-mme") is None
    assert not any("taper" in c.detail.lower() or "taper" in c.summary.lower() for c in evaluation.cards)
    mme = evaluation.facts.mme
    assert mme.total == Decimal(0) and mme.ok_orders == ()
    [methadone] = mme.excluded_orders
    assert methadone.reason == "oud-methadone" and methadone.mme is None
    assert methadone.daily_dose_text == "100 mg methadone/day"
    assert NOT_COUNTED in methadone.explanation


def test_the_high_dose_card_names_program_methadone_apart_from_what_it_counted() -> None:
    oxycodone = med_request(OXYCODONE, draft=True, id="ox1", dose=2, period=4)  # 90 MME/day
    evaluation = run("order-sign", drafts=[oxycodone], resources=[program_methadone()])
    high = card(evaluation, "high-mme")
    assert high is not None and high.indicator == "critical"
    assert high.summary.startswith("Total opioid dose 90.0 MME/day with this order")
    assert f"**{NOT_COUNTED_HEADING}:**\n- methadone hydrochloride 10 MG/ML Oral Solution: 100 mg methadone/day" in (
        high.detail
    )
    assert "keep that treatment going" in high.detail
    assert "4.7" not in high.detail


def test_a_program_methadone_fill_is_not_counted_and_is_named() -> None:
    fills = [dispense(METHADONE_CONCENTRATE, days_ago(3), days_supply=7), dispense(OXYCODONE, days_ago(3))]
    fills[0]["quantity"] = {"value": 700, "unit": "mL"}
    fills[1]["quantity"] = {"value": 360, "unit": "{tbl}"}  # 12 a day: 90 MME/day
    evaluation = run("patient-view", resources=fills)
    high = card(evaluation, "high-mme")
    assert high is not None and "90.0 MME/day" in high.summary
    assert (
        f"**{NOT_COUNTED_HEADING}:**\n- methadone hydrochloride 10 MG/ML Oral Solution (pharmacy fill 2026-06-12)"
        in (high.detail)
    )
    [fill] = [f for f in evaluation.facts.mme.fills if f.state == "excluded"]
    assert fill.reason == "oud-methadone"


def test_methadone_tablets_for_pain_are_still_counted_at_4_7() -> None:
    tablets = med_request(METHADONE_10_TABLET, draft=True, id="m1", frequency=3, period=1, period_unit="d")
    evaluation = run("order-sign", drafts=[tablets])
    [order] = evaluation.facts.mme.ok_orders
    assert order.mme == Decimal("141.0") and "× 4.7" in order.explanation
    assert card(evaluation, "high-mme") is not None


def test_dispersible_program_tablets_are_not_counted_either() -> None:
    diskets = med_request(DISKETS, id="d1", frequency=1, period=1, period_unit="d", authored=days_ago(5))
    mme = run("patient-view", resources=[diskets]).facts.mme
    assert mme.total == Decimal(0) and [o.reason for o in mme.excluded_orders] == ["oud-methadone"]


def test_program_methadone_named_only_in_words_is_not_counted() -> None:
    named = program_methadone()
    named["medicationCodeableConcept"] = {"text": "METHADONE HCL 10 MG/ML PO CONC"}
    mme = run("patient-view", resources=[named]).facts.mme
    assert mme.total == Decimal(0) and [o.reason for o in mme.excluded_orders] == ["oud-methadone"]


# -- the other checks still see it ----------------------------------------------------------------------------


def test_program_methadone_with_a_benzodiazepine_still_gives_the_coordinate_care_card() -> None:
    lorazepam = med_request(LORAZEPAM, id="lz1", period=8, authored=days_ago(10))
    evaluation = run("patient-view", resources=[program_methadone(), lorazepam])
    found = card(evaluation, "opioid-benzodiazepine")
    assert found is not None and found.facts["variant"] == "moud"
    assert found.summary.startswith("Coordinate care: methadone hydrochloride 10 MG/ML Oral Solution (active)")
    assert "Do not withhold or stop methadone treatment" in found.detail
    assert "**Methadone for opioid use disorder:**" in found.detail
    assert found.suggestions == ()


def test_a_new_benzodiazepine_beside_program_methadone_is_not_suggested_for_removal_as_a_pain_pair() -> None:
    evaluation = run(
        "order-sign", drafts=[med_request(LORAZEPAM, draft=True, id="lz1", period=8)], resources=[program_methadone()]
    )
    found = card(evaluation, "opioid-benzodiazepine")
    assert found is not None and found.facts["variant"] == "moud" and found.suggestions == ()


def test_program_methadone_without_naloxone_still_calls_for_naloxone() -> None:
    # Read as 470 MME/day the card offered naloxone for the dose; not counted in MME, the treatment itself says the
    # patient has opioid use disorder, which is a risk factor with or without a diagnosis on the problem list.
    evaluation = run("patient-view", resources=[program_methadone()])
    found = card(evaluation, "naloxone")
    assert found is not None and found.facts["risk_factors"] == ["R4"]
    assert "methadone hydrochloride 10 MG/ML Oral Solution (treatment for opioid use disorder" in found.detail
    assert "MME" not in found.summary


def test_program_methadone_with_naloxone_on_hand_gives_no_naloxone_card() -> None:
    resources = [program_methadone(), oud_diagnosis(), dispense(NALOXONE_SPRAY, days_ago(40))]
    assert card(run("patient-view", resources=resources), "naloxone") is None


# -- the plan page ---------------------------------------------------------------------------------------------


def test_the_plan_page_lists_program_methadone_as_not_counted() -> None:
    oxycodone = med_request(OXYCODONE, id="ox1", authored=days_ago(5), supply_days=10)  # 30 MME/day
    evaluation = run("patient-view", resources=[program_methadone(), oxycodone])
    view = build_plan(evaluation, (), evaluation.facts.config, NOW)
    meds = view.section("medications").content
    assert meds.total == "30.0 MME/day"
    assert [r.name for r in meds.opioids] == ["oxycodone hydrochloride 5 MG Oral Tablet"]
    [row] = meds.not_counted
    assert row.name == "methadone hydrochloride 10 MG/ML Oral Solution" and row.mme == "not counted"
    assert row.why == NOT_COUNTED
    history = view.section("mme_history").content
    assert history.peak == Decimal("30.0") and history.buprenorphine_days == 0
    assert history.oud_methadone_days == 15  # days ago 14 .. today


def test_the_plan_page_total_with_only_program_methadone_says_why_it_is_zero() -> None:
    evaluation = run("patient-view", resources=[program_methadone()])
    meds = build_plan(evaluation, (), evaluation.facts.config, NOW).section("medications").content
    assert meds.total == "0 MME/day (methadone for opioid use disorder is not counted)"


def test_the_copied_note_says_program_methadone_is_not_counted() -> None:
    from guideline.plan.note import note_text

    evaluation = run("patient-view", resources=[program_methadone()])
    note = note_text(build_plan(evaluation, (), evaluation.facts.config, NOW))
    assert f"- methadone hydrochloride 10 MG/ML Oral Solution (active, reported as taken): {NOT_COUNTED}" in note


# -- the population review -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("concept", "kind"),
    [
        (Concept((Coding(RXNORM, METHADONE_CONCENTRATE, None),)), "moud"),
        (Concept((), "METHADONE HCL 10 MG/ML PO CONC"), "moud"),
        (Concept((), "Methadose 40 mg dispersible tablet"), "moud"),
        (Concept((Coding(RXNORM, METHADONE_10_TABLET, None),)), "opioid"),
        (Concept((), "methadone 10 mg tablet"), "opioid"),
    ],
)
def test_the_population_review_counts_program_methadone_as_treatment_not_a_pain_fill(
    concept: Concept, kind: str
) -> None:
    # By code it was already MOUD; named in words (a payer's drug file) it was a pain opioid fill of 470 MME/day.
    from guideline.config import GuidelineConfig
    from guideline.population.medicines import medication_kind
    from guideline.terminology import load_terminology

    terms = load_terminology(GuidelineConfig.from_mapping({}))
    assert medication_kind(ResolvedMedication(concept=concept), terms) == kind


def test_painplan_mme_reports_program_methadone_as_excluded_from_the_total() -> None:
    from guideline.config import GuidelineConfig
    from guideline.terminology import load_terminology
    from smart_app.mme_command import mme_report

    config = GuidelineConfig.from_mapping({})
    report = mme_report(program_methadone(), config, load_terminology(config), NOW.date())
    assert report["total_mme"] == 0 and report["current_total_mme"] == 0 and report["complete"] is True
    [line] = report["orders"]
    assert line["status"] == "excluded" and line["mme_per_day"] is None and line["current"] is True
    assert line["explanation"].endswith(NOT_COUNTED)


def test_the_plan_page_opened_from_an_order_says_program_methadone_is_taken_now_but_not_counted() -> None:
    oxycodone = med_request(OXYCODONE, draft=True, id="ox1", dose=2, period=4)  # 90 MME/day
    evaluation = run("order-sign", drafts=[oxycodone], resources=[program_methadone()])
    meds = build_plan(evaluation, (), evaluation.facts.config, NOW).section("medications").content
    assert meds.comparison == (
        "0 MME/day now (methadone for opioid use disorder is not counted); 90.0 with the order being signed "
        "(oxycodone hydrochloride 5 MG Oral Tablet)"
    )
