"""A daily opioid dose below the warning threshold that is only a floor (current opioid orders, fills or reported
medications not read, or a current opioid's MME not worked out) gives no dose card, so the data-incomplete card says
what that means for the dose, once: "Daily opioid dose PainPlan could read: 45.0 MME/day with this order; with the
data above not read it may be higher (50 MME/day or more calls for caution)". Never with a complete total, nor at or
above the threshold (the dose card reads "at least" itself); the plan page shows the same words."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import responses
from builders import ICD10, NOW, PATIENT_ID, TZ, condition, med_request, patient
from cds_support import OXYCODONE_10, full_prefetch, hook_request, make_app, raising
from test_high_mme_unread_kinds import FILL_KEYS, fills_search_fails
from test_plan_view import FakeFhir, _app, _open_plan

from guideline.checks import CHECKS
from guideline.checks.high_mme import data_incomplete_line
from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.engine import evaluate
from guideline.record import build_record
from guideline.unread_data import FILLS, STATEMENTS

DOWN = "the FHIR server answered HTTP 500"
LINE = "Daily opioid dose PainPlan could read"
BREAST_CANCER = "C50.011"  # an active cancer: a general exclusion of the high-dose check


def oxycodone_10(every_hours: int = 8, draft: bool = True) -> dict[str, Any]:
    """OxyCODONE 10 mg, 1 tablet every `every_hours` hours for 30 days: every 8 hours 30 mg = 45 MME/day, every 6
    hours 40 mg = 60 MME/day."""
    order = med_request(OXYCODONE_10, draft=draft, id="oxy10", period=every_hours, quantity=24 // every_hours * 30)
    order["medicationCodeableConcept"]["text"] = "oxyCODONE (ROXICODONE) 10 mg tablet"
    return order


def no_dose(order: dict[str, Any]) -> dict[str, Any]:
    """The order as an interface sends one whose dose it lost: its MME cannot be worked out."""
    del order["dosageInstruction"][0]["doseAndRate"]
    return order


def sign(draft: dict[str, Any], tmp_path, fills_fail: bool = True) -> dict[str, dict[str, Any]]:
    """The order-sign answer for `draft`, each card by its topic, for a patient with no other opioid: the fills not
    prefetched and the MedicationDispense search answered HTTP 500 (`fills_fail`), or every key prefetched."""
    prefetch = full_prefetch("order-sign")
    if fills_fail:
        fills_search_fails()
        for key in FILL_KEYS:
            prefetch.pop(key, None)
    body = hook_request(drafts=[draft], prefetch=prefetch, fhir=True)
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200, response.json
    return {card["source"]["topic"]["code"]: card for card in response.json["cards"]}


@responses.activate
def test_a_dose_below_the_threshold_read_without_the_fills_may_be_higher(tmp_path):
    cards = sign(oxycodone_10(), tmp_path)

    assert "high-mme" not in cards  # 45 MME/day: no dose card, and none is added
    detail = cards["data-incomplete"]["detail"]
    fills = detail.index("- pharmacy dispensing records: the FHIR server answered HTTP 500\n")
    line = detail.index(
        f"- {LINE}: 45.0 MME/day with this order; with the data above not read it may be higher "
        "(50 MME/day or more calls for caution)\n"
    )
    assert fills < line and detail.count(LINE) == 1


@responses.activate
def test_a_complete_total_below_the_threshold_says_nothing_of_the_dose(tmp_path):
    cards = sign(oxycodone_10(), tmp_path, fills_fail=False)

    assert "high-mme" not in cards
    assert LINE not in str(cards)


@responses.activate
def test_a_floor_at_the_threshold_has_its_dose_card_say_at_least_and_no_line(tmp_path):
    cards = sign(oxycodone_10(every_hours=6), tmp_path)

    assert cards["high-mme"]["summary"].startswith("Total opioid dose at least 60.0 MME/day with this order")
    assert "pharmacy dispensing records" in cards["data-incomplete"]["detail"]
    assert LINE not in cards["data-incomplete"]["detail"]


def floor_line(
    hook: str,
    resources: list[dict[str, Any]],
    drafts: list[dict[str, Any]] = (),
    unread: Mapping[str, str] | None = None,
    config: Mapping[str, Any] | None = None,
) -> tuple[str, str] | None:
    drafted = {"resourceType": "Bundle", "entry": [{"resource": d} for d in drafts]}
    record = build_record([patient(), *resources], TZ, draft_orders=drafted)
    context = HookContext(hook=hook, patient_id=PATIENT_ID, user_id="Practitioner/dr1")
    evaluation = evaluate(record, context, GuidelineConfig.from_mapping(config or {}), NOW, unread=unread)
    assert not evaluation.failures
    # The engine works the line out once, after the checks, for both faces (`Evaluation.data_incomplete_lines`).
    (line,) = evaluation.data_incomplete_lines or (None,)  # the high-dose check's: no other check adds a line
    assert line == data_incomplete_line(evaluation.facts, ())
    return line


def test_the_words_name_the_sites_warning_threshold():
    high_mme = {"checks": {"high-mme": {"warning_mme": 60, "critical_mme": 120}}}
    found = floor_line("patient-view", [oxycodone_10(draft=False)], unread={STATEMENTS: DOWN}, config=high_mme)

    assert found == (
        LINE,
        "45.0 MME/day; with the data above not read it may be higher (60 MME/day or more calls for caution)",
    )
    # At a site whose warning threshold is 40, 45 MME/day has its dose card.
    low = {"checks": {"high-mme": {"warning_mme": 40}}}
    assert floor_line("patient-view", [oxycodone_10(draft=False)], unread={FILLS: DOWN}, config=low) is None


def test_no_line_where_the_high_dose_check_does_not_judge_the_dose():
    current = [oxycodone_10(draft=False)]
    cancer = condition(ICD10, BREAST_CANCER)
    assert floor_line("patient-view", current, unread={FILLS: DOWN}) is not None
    assert floor_line("patient-view", [*current, cancer], unread={FILLS: DOWN}) is None  # excluded
    off = {"checks": {"high-mme": {"enabled": False}}}
    assert floor_line("patient-view", current, unread={FILLS: DOWN}, config=off) is None
    # An order hook with no opioid being ordered: the check judges nothing.
    lisinopril = med_request("314076", draft=True, id="draft-acei")
    assert floor_line("order-sign", current, drafts=[lisinopril], unread={FILLS: DOWN}) is None


def test_a_current_opioid_whose_dose_was_not_worked_out_is_read_as_a_floor_on_patient_view():
    """Patient-view names the opioid of unknown MME on the data-incomplete card, so the line says the dose may be
    higher for it; on order-sign the high-dose check's info card says so of the order, and no line is added."""
    unknown = no_dose(med_request(OXYCODONE_10, id="oxy-no-dose"))
    found = floor_line("patient-view", [oxycodone_10(draft=False), unknown])

    assert found == (
        LINE,
        "45.0 MME/day; with the doses above not worked out it may be higher (50 MME/day or more calls for caution)",
    )
    both = floor_line("patient-view", [oxycodone_10(draft=False), unknown], unread={FILLS: DOWN})
    assert both is not None and "with the data above not read or worked out it may be higher" in both[1]
    assert floor_line("order-sign", [unknown], drafts=[oxycodone_10()]) is None


@responses.activate
def test_an_order_whose_dose_was_not_worked_out_has_its_info_card_and_no_line_when_fills_were_not_read(tmp_path):
    """The info card names the draft not converted and that the fills were not read ("The total may be higher"); a
    line of "0.0 MME/day with this order" beside it read as the order's dose."""
    draft = no_dose(oxycodone_10())
    del draft["dispenseRequest"]  # nothing to estimate a daily dose from either
    cards = sign(draft, tmp_path)

    assert cards["high-mme"]["summary"].startswith("Daily opioid dose (MME) could not be fully calculated")
    assert "The total may be higher." in cards["high-mme"]["detail"]
    assert "pharmacy dispensing records" in cards["data-incomplete"]["detail"]
    assert LINE not in cards["data-incomplete"]["detail"]


@pytest.fixture
def fills_down() -> Iterator[FakeFhir]:
    """An EHR whose MedicationDispense search answers HTTP 500, for a patient on oxycodone 10 mg every 8 hours."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fhir = FakeFhir(rsps, [patient(), oxycodone_10(draft=False)])
        fhir.fail.add("MedicationDispense")
        yield fhir


def test_the_plan_page_says_the_same(tmp_path, fills_down: FakeFhir):
    html = _open_plan(_app(tmp_path)).get_data(as_text=True)

    assert (
        f"<li>{LINE}: 45.0 MME/day; with the data above not read it may be higher (50 MME/day or more calls for "
        "caution)</li>"
    ) in html
    assert html.count(LINE) == 1


@responses.activate
def test_a_check_that_failed_costs_the_data_incomplete_card_nothing(tmp_path, monkeypatch):
    """The general exclusions could not be read: the high-dose check did not run and the checks-not-run card names
    it; the line is left out (it would read them again), and the data-incomplete card still names what was not read."""
    import guideline.facts

    monkeypatch.setattr(guideline.facts, "general_exclusions", raising(RuntimeError("bug")))
    cards = sign(oxycodone_10(), tmp_path)

    assert "High total daily opioid dose: an internal error stopped it" in cards["checks-not-run"]["detail"]
    assert "- pharmacy dispensing records: the FHIR server answered HTTP 500\n" in cards["data-incomplete"]["detail"]
    assert LINE not in cards["data-incomplete"]["detail"]


@responses.activate
def test_a_line_that_could_not_be_worked_out_costs_the_dose_check_alone(tmp_path, monkeypatch):
    """The engine works the line out after the checks (`Evaluation.data_incomplete_lines`); should that raise, the
    high-dose check is named as stopped and the other checks still answer, as for a check that raises: worked out by
    the hook face after the engine, it cost every check of the call ("an internal error stopped the evaluation")."""
    monkeypatch.setattr(CHECKS["high-mme"], "data_incomplete_line", raising(RuntimeError("bug")))
    cards = sign(oxycodone_10(), tmp_path)

    not_run = cards["checks-not-run"]["detail"]
    assert "High total daily opioid dose: an internal error stopped it" in not_run
    assert "stopped the evaluation" not in not_run
    assert "- pharmacy dispensing records: the FHIR server answered HTTP 500\n" in cards["data-incomplete"]["detail"]
    assert LINE not in cards["data-incomplete"]["detail"]


@responses.activate
def test_any_check_may_add_a_line_and_one_that_cannot_costs_its_check_alone(tmp_path, monkeypatch):
    """The engine asks every check that has a `data_incomplete_line` (the registry's optional hook), not the high-dose
    check by name: another check's line follows the dose line, in the checks' order, and should it raise, that check
    alone is named as stopped while the dose line and the other cards stand."""
    import guideline.engine

    said: list[frozenset[str]] = []

    def naloxone_line(facts, failed):
        said.append(frozenset(failed))
        return ("Naloxone on record", "the pharmacy fills not read may hold some")

    monkeypatch.setattr(guideline.engine, "CHECKS_WITH_LINE", ("high-mme", "naloxone"))
    monkeypatch.setattr(CHECKS["naloxone"], "data_incomplete_line", naloxone_line, raising=False)
    detail = sign(oxycodone_10(), tmp_path)["data-incomplete"]["detail"]

    dose = detail.index(f"- {LINE}: 45.0 MME/day with this order;")
    assert dose < detail.index("- Naloxone on record: the pharmacy fills not read may hold some")
    assert said == [frozenset()]  # the ids of the checks that failed on the call: none

    monkeypatch.setattr(CHECKS["naloxone"], "data_incomplete_line", raising(RuntimeError("bug")))
    cards = sign(oxycodone_10(), tmp_path)

    assert "- Offer naloxone: an internal error stopped it" in cards["checks-not-run"]["detail"]
    assert "High total daily opioid dose" not in cards["checks-not-run"]["detail"]
    assert f"- {LINE}: 45.0 MME/day with this order;" in cards["data-incomplete"]["detail"]
    assert "pdmp-review" in cards  # the other checks' cards stand


def test_the_plan_pages_total_and_its_note_say_at_least_when_the_fills_were_not_read(tmp_path, fills_down: FakeFhir):
    """The medications section and the copied note said "45.0 MME/day" of a total the fills not read may raise."""
    html = _open_plan(_app(tmp_path)).get_data(as_text=True)

    assert "at least 45.0 MME/day" in html
    assert ">45.0 MME/day<" not in html


def test_the_plan_page_never_says_no_current_opioids_when_the_fills_were_not_read(tmp_path):
    """A patient with no opioid order whose fills could not be read: the page said "0 MME/day (no current opioid
    orders or fills)", an all clear on data that may hold the opioid the pharmacy filled."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fhir = FakeFhir(rsps, [patient()])
        fhir.fail.add("MedicationDispense")
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)

    assert "0 MME/day counted; some medication records could not be read (above)" in html
    assert "no current opioid orders or fills" not in html
