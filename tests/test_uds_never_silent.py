"""Urine drug test results PainPlan counts but cannot judge are named, never silent: a lab's own "DRUG SCREEN, URINE"
positive that names no substance, a fentanyl positive dated after today (never an overdose risk factor), and a
cannabinoid positive at a site whose setting leaves cannabinoids out of judging."""

from __future__ import annotations

from typing import Any

import pytest
from builders import PATIENT_ID, card, days_ago, med_request, observation, run
from cds_support import bundle, data_incomplete_detail

from guideline.checks import CHECKS, naloxone, unexpected_uds_result, urine_drug_test
from guideline.named_gaps import NAMED_GAPS
from guideline.plan import build_plan

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
FENTANYL_SCREEN = "59673-4"  # fentaNYL [Presence] in Urine by Screen method
CANNABINOID_SCREEN = "18282-4"  # Cannabinoids [Presence] in Urine by Screen method
EPIC_COMPONENT = "urn:oid:1.2.840.114350.1.13.0.1.7.2.768282"  # an Epic site's lab component identifiers
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
FLAGS = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    monkeypatch.setitem(CHECKS, urine_drug_test.CHECK_ID, urine_drug_test)
    monkeypatch.setitem(CHECKS, naloxone.CHECK_ID, naloxone)


def epic_drug_screen(value: dict[str, Any], when: str = "2026-06-05T14:20:00-04:00") -> dict[str, Any]:
    """An Epic lab result for a urine drug screen ordered as one test: a local component code named "DRUG SCREEN,
    URINE", no LOINC, one overall value, no components and no members."""
    return {
        "resourceType": "Observation",
        "id": "eDS-1",
        "status": "final",
        "category": [
            {"coding": [{"system": OBSERVATION_CATEGORY, "code": "laboratory", "display": "Laboratory"}]},
        ],
        "code": {
            "coding": [{"system": EPIC_COMPONENT, "code": "1554", "display": "DRUG SCREEN, URINE"}],
            "text": "DRUG SCREEN, URINE",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}", "display": "Doe, Jane"},
        "effectiveDateTime": when,
        "issued": "2026-06-05T18:02:11Z",
        **value,
    }


POSITIVE_STRING = {"valueString": "Positive"}
POSITIVE_CODED = {
    "valueCodeableConcept": {
        "coding": [{"system": "http://snomed.info/sct", "code": "10828004", "display": "Positive"}],
        "text": "Positive",
    }
}
UNNAMED = "DRUG SCREEN, URINE (2026-06-05, positive for an unnamed substance)"


def _gap(key: str):
    return next(kind for kind in NAMED_GAPS if kind.key == key)


def _page(evaluation) -> dict[str, tuple[str, ...]]:
    return build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now).named


def _sign(*resources: dict[str, Any], config: dict[str, Any] | None = None):
    """An oxycodone order being signed for a patient on long-term oxycodone, with these results on record."""
    long_term = med_request(OXYCODONE, authored=days_ago(200), supply_days=30, refills=11)
    draft = med_request(OXYCODONE, draft=True, id="d1")
    return run("order-sign", drafts=[draft], resources=[long_term, *resources], config=config)


# -- a positive screen that names no substance -------------------------------------------------------------------


@pytest.mark.parametrize("value", [POSITIVE_STRING, POSITIVE_CODED], ids=["valueString", "valueCodeableConcept"])
def test_a_positive_drug_screen_naming_no_substance_is_named_on_the_data_incomplete_card(tmp_path, value) -> None:
    # Before: counted as the year's test done, judged for nothing, named nowhere: no card of any kind.
    detail = data_incomplete_detail(tmp_path, udsLabs=bundle(epic_drug_screen(value)))
    assert UNNAMED in detail


def test_a_positive_drug_screen_naming_no_substance_is_named_on_the_plan_page_as_on_the_card() -> None:
    evaluation = _sign(epic_drug_screen(POSITIVE_STRING))
    assert card(evaluation, urine_drug_test.CHECK_ID) is None  # still the year's test done
    assert card(evaluation, unexpected_uds_result.CHECK_ID) is None  # nothing to judge it against
    items = _gap("unjudged-uds-substances").items(evaluation.facts)
    assert items == (UNNAMED,)
    assert _page(evaluation)["unjudged-uds-substances"] == items


def test_a_drug_screen_naming_no_substance_whose_text_and_flag_disagree_is_named_indeterminate() -> None:
    normal = {"valueString": "Positive", "interpretation": [{"coding": [{"system": FLAGS, "code": "N"}]}]}
    evaluation = _sign(epic_drug_screen(normal))
    assert _gap("unjudged-uds-substances").items(evaluation.facts) == (
        "DRUG SCREEN, URINE (2026-06-05, indeterminate, substance not named)",
    )


def test_a_negative_drug_screen_naming_no_substance_is_a_test_done_and_not_named() -> None:
    evaluation = _sign(epic_drug_screen({"valueString": "Negative"}))
    assert card(evaluation, urine_drug_test.CHECK_ID) is None
    assert _gap("unjudged-uds-substances").items(evaluation.facts) == ()
    assert _gap("unread-uds").items(evaluation.facts) == ()


def test_a_drug_screen_heading_whose_members_carry_the_results_is_not_named_as_unnamed() -> None:
    # A panel heading flagged positive because a member is: its members are the results, judged on their own.
    heading = epic_drug_screen(POSITIVE_STRING)
    heading["hasMember"] = [{"reference": "Observation/f1"}]
    member = observation(FENTANYL_SCREEN, when=days_ago(10), value_string="Positive")
    member["id"] = "f1"
    evaluation = _sign(heading, member)
    assert _gap("unjudged-uds-substances").items(evaluation.facts) == ()
    assert card(evaluation, unexpected_uds_result.CHECK_ID) is not None


def test_a_positive_drug_screen_naming_no_substance_dated_after_today_is_left_to_the_future_dated_list() -> None:
    evaluation = _sign(epic_drug_screen(POSITIVE_STRING, when="2026-06-20T09:00:00-04:00"))
    assert _gap("unjudged-uds-substances").items(evaluation.facts) == ()
    assert _gap("future-dated-drug-tests").items(evaluation.facts) != ()


def test_a_positive_drug_screen_naming_no_substance_of_unknown_status_is_named_as_of_unknown_status() -> None:
    # Neither a result PainPlan reads (status unknown) nor a substance it can judge: before, named nowhere.
    evaluation = _sign(epic_drug_screen({**POSITIVE_STRING, "status": "unknown"}))
    assert _gap("unread-uds").items(evaluation.facts) == ("DRUG SCREEN, URINE (2026-06-05, status unknown)",)


def test_a_negative_or_valueless_drug_screen_naming_no_substance_of_unknown_status_is_not_named() -> None:
    # A heading of unknown status that reports nothing ("See components", or a negative) finds nothing to look at.
    for value in ({"valueString": "Negative"}, {"valueString": "See components"}, {}):
        evaluation = _sign(epic_drug_screen({**value, "status": "unknown"}))
        assert _gap("unread-uds").items(evaluation.facts) == ()


# -- cannabinoids left out of judging by the site's setting --------------------------------------------------------


def test_a_cannabinoid_positive_the_site_does_not_judge_is_named_on_the_plan_page_but_gives_no_card() -> None:
    # Before: with cannabinoids off (the default) a THC positive was named nowhere; a line on the page says the
    # site's setting left it unjudged. No card: the site chose not to be told on every order.
    thc = observation(CANNABINOID_SCREEN, when=days_ago(10), value_string="Positive")
    evaluation = _sign(thc)
    gap = _gap("uds-substances-not-judged-by-setting")
    assert gap.items(evaluation.facts) == ("cannabinoids (2026-06-05, positive)",)
    assert gap.card is None
    assert _page(evaluation)["uds-substances-not-judged-by-setting"] == gap.items(evaluation.facts)
    assert card(evaluation, unexpected_uds_result.CHECK_ID) is None


def test_a_cannabinoid_negative_or_a_site_that_judges_cannabinoids_names_nothing_by_setting() -> None:
    gap = _gap("uds-substances-not-judged-by-setting")
    negative = observation(CANNABINOID_SCREEN, when=days_ago(10), value_string="Negative")
    assert gap.items(_sign(negative).facts) == ()
    positive = observation(CANNABINOID_SCREEN, when=days_ago(10), value_string="Positive")
    judged = _sign(positive, config={"checks": {"unexpected-uds-result": {"cannabinoid": True}}})
    assert gap.items(judged.facts) == ()
    found = card(judged, unexpected_uds_result.CHECK_ID)
    assert found is not None and "positive for cannabinoids" in found.summary


def test_a_thc_component_of_an_epic_panel_the_site_does_not_judge_is_named_on_the_plan_page() -> None:
    # Epic's panel with its own component codes named by substance: a "THC" item was dropped unread, not even a row.
    panel = epic_drug_screen({})
    panel["component"] = [
        {"code": {"coding": [{"system": EPIC_COMPONENT, "code": "1560", "display": "FENTANYL"}]}, "valueString": "NEG"},
        {"code": {"coding": [{"system": EPIC_COMPONENT, "code": "1561", "display": "THC"}]}, "valueString": "POS"},
    ]
    evaluation = _sign(panel)
    assert _gap("uds-substances-not-judged-by-setting").items(evaluation.facts) == (
        "cannabinoids (2026-06-05, positive)",
    )
    assert _gap("unjudged-uds-substances").items(evaluation.facts) == ()
    assert card(evaluation, unexpected_uds_result.CHECK_ID) is None


# -- a positive for a drug not judged, explained by its prescription by name ---------------------------------------

TCA_SCREEN = "19312-8"  # Tricyclic antidepressants [Presence] in Urine by Screen method


def epic_order(display: str, text: str, rxcui: str, *, authored: str, supply_days: int = 90) -> dict[str, Any]:
    """An Epic outpatient order as medsActive sends it: RxNorm coding with its display, and the order's own text."""
    order = med_request(rxcui, authored=authored, supply_days=supply_days, display=display)
    order["medicationCodeableConcept"]["text"] = text
    return order


AMITRIPTYLINE = ("amitriptyline hydrochloride 25 MG Oral Tablet", "amitriptyline 25 mg tablet", "856845")


def test_a_tricyclic_screen_positive_on_a_current_amitriptyline_prescription_is_not_named() -> None:
    # Before: "tricyclic antidepressants (2026-06-05, positive)" named on every order for a patient on amitriptyline
    # for neuropathic pain, which the clinician can explain at a glance.
    current = epic_order(*AMITRIPTYLINE, authored=days_ago(60))
    tca = observation(TCA_SCREEN, when=days_ago(10), value_string="Positive")
    assert _gap("unjudged-uds-substances").items(_sign(current, tca).facts) == ()


def test_a_tricyclic_screen_positive_with_no_tricyclic_prescribed_in_the_30_days_before_is_still_named() -> None:
    tca = observation(TCA_SCREEN, when=days_ago(10), value_string="Positive")
    named = ("tricyclic antidepressants (2026-06-05, positive)",)
    assert _gap("unjudged-uds-substances").items(_sign(tca).facts) == named
    # amitriptyline whose 30-day supply ended 50 days before the test explains nothing
    ended = epic_order(*AMITRIPTYLINE, authored=days_ago(90), supply_days=30)
    assert _gap("unjudged-uds-substances").items(_sign(ended, tca).facts) == named
    # nor does another antidepressant: sertraline is no tricyclic
    zoloft = epic_order("sertraline 50 MG Oral Tablet", "sertraline 50 mg tablet", "312941", authored=days_ago(60))
    assert _gap("unjudged-uds-substances").items(_sign(zoloft, tca).facts) == named


def test_an_unread_tricyclic_result_is_named_whatever_is_prescribed() -> None:
    current = epic_order(*AMITRIPTYLINE, authored=days_ago(60))
    unread = observation(TCA_SCREEN, when=days_ago(10), value_string="Inconclusive")
    assert _gap("unjudged-uds-substances").items(_sign(current, unread).facts) == (
        "tricyclic antidepressants (2026-06-05, value not read)",
    )
