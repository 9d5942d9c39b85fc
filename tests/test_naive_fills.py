"""A pharmacy fill of the 90 opioid-naive days whose medicine PainPlan cannot identify, and whose supply has run out,
may have been an opioid: `er-la-opioid-naive` and `nonopioid-first` count it as they count such an order ("**Could
not identify:** 1 medication …"), and the plan page and the data-incomplete card name it. Before, only orders and the
fills still supplying today were counted: a fill 40 days ago read "no opioid use found … appears to be opioid-naive"
with no word about it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import PATIENT_ID, card, days_ago, med_request, run
from cds_support import bundle, full_prefetch, hook_request, make_app
from test_cds_claims import pharmacy_claim

from guideline.checks import CHECKS, er_la_opioid_naive, nonopioid_first
from guideline.named_gaps import NAMED_GAPS

MORPHINE_ER = "891888"  # morphine sulfate 30 MG Extended Release Oral Tablet (ER/LA)
OXYCODONE_IR = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
NDC = "http://hl7.org/fhir/sid/ndc"
UCUM = "http://unitsofmeasure.org"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, er_la_opioid_naive.CHECK_ID, er_la_opioid_naive)
    monkeypatch.setitem(CHECKS, nonopioid_first.CHECK_ID, nonopioid_first)


def _fill(ident: str, medication: dict[str, Any], handed_over: str, days_supply: int = 10) -> dict[str, Any]:
    return {
        "resourceType": "MedicationDispense",
        "id": ident,
        "status": "completed",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "medicationCodeableConcept": medication,
        "quantity": {"value": 30, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
        "daysSupply": {"value": days_supply, "unit": "Day", "system": UCUM, "code": "d"},
        "whenHandedOver": f"{handed_over}T15:20:00Z",
    }


def epic_ndc_fill(handed_over: str = days_ago(40), ident: str = "eZrX3.nMdT1") -> dict[str, Any]:
    """Epic's dispense of a pharmacy's repackaged product: an NDC that is in no table PainPlan ships, no RxNorm."""
    return _fill(ident, {"coding": [{"system": NDC, "code": "99999-0123-01"}]}, handed_over)


def oracle_text_fill(handed_over: str = days_ago(40), ident: str = "21543987") -> dict[str, Any]:
    """Oracle Health's dispense with the pharmacy system's free text only: a compounded product no name identifies."""
    return _fill(ident, {"text": "PAIN CMPD CAP (ZXR-22)"}, handed_over)


def er_draft() -> dict[str, Any]:
    return med_request(MORPHINE_ER, draft=True, id="er1", frequency=2, period=1, period_unit="d")


def ir_draft() -> dict[str, Any]:
    return med_request(OXYCODONE_IR, draft=True, id="ir1", frequency=4, period=1, period_unit="d", supply_days=5)


@pytest.mark.parametrize("fill", [epic_ndc_fill, oracle_text_fill], ids=["epic-unknown-ndc", "oracle-text-only"])
def test_an_unidentified_fill_of_the_window_is_counted_on_the_er_la_card(fill: Any) -> None:
    result = card(run("order-sign", drafts=[er_draft()], resources=[fill()]), er_la_opioid_naive.CHECK_ID)
    assert result is not None
    assert result.facts["unidentified_in_window"] == 1
    assert "**Could not identify:** 1 medication from 2026-03-17 to 2026-06-14" in result.detail
    assert "if it is an opioid, the patient is not opioid-naive" in result.detail


@pytest.mark.parametrize("fill", [epic_ndc_fill, oracle_text_fill], ids=["epic-unknown-ndc", "oracle-text-only"])
def test_an_unidentified_fill_of_the_window_is_counted_on_the_nonopioid_first_card(fill: Any) -> None:
    result = card(run("order-sign", drafts=[ir_draft()], resources=[fill()]), nonopioid_first.CHECK_ID)
    assert result is not None
    assert result.facts["unidentified_in_window"] == 1
    assert "**Could not identify:** 1 medication" in result.detail


def _named(hook: str, drafts: list[dict[str, Any]], resources: list[dict[str, Any]]) -> tuple[tuple, tuple]:
    """(what the plan page names of the window's unidentified past items, what the data-incomplete card names)."""
    facts = run(hook, drafts=drafts, resources=resources).facts
    (kind,) = [kind for kind in NAMED_GAPS if kind.key == "unidentified-past-orders"]
    return kind.items(facts), kind.card_named(facts)


def test_the_fill_is_named_with_its_id_and_day_on_the_plan_page_and_the_card() -> None:
    page, on_card = _named("order-sign", [er_draft()], [oracle_text_fill()])
    assert page == ("PAIN CMPD CAP (ZXR-22) (fill 21543987, filled 2026-05-06)",)
    assert on_card == page


def test_a_fill_whose_supply_ran_out_before_the_window_is_not_counted() -> None:
    # 10 days handed over 100 days ago ended on day 91 before today: it could give no tolerance in the window.
    evaluation = run("order-sign", drafts=[er_draft()], resources=[epic_ndc_fill(days_ago(100))])
    result = card(evaluation, er_la_opioid_naive.CHECK_ID)
    assert result is not None and result.facts["unidentified_in_window"] == 0
    assert "Could not identify" not in result.detail


def test_a_fill_still_supplying_today_is_counted_once() -> None:
    # Handed over 3 days ago with 10 days' supply: a current fill, counted as one, never again as a past one.
    result = card(run("order-sign", drafts=[er_draft()], resources=[epic_ndc_fill(days_ago(3))]), "er-la-opioid-naive")
    assert result is not None and result.facts["unidentified_in_window"] == 1
    assert _named("order-sign", [er_draft()], [epic_ndc_fill(days_ago(3))])[0] == ()


def test_a_fill_of_an_unidentified_ended_order_is_that_order_counted_once() -> None:
    """The fill of an order already counted is the same medicine: one item, not two."""
    order = med_request(OXYCODONE_IR, id="mr-cmpd", status="completed", authored=days_ago(41), supply_days=10)
    order["medicationCodeableConcept"] = {"text": "PAIN CMPD CAP (ZXR-22)"}
    fill = oracle_text_fill()
    fill["authorizingPrescription"] = [{"reference": "MedicationRequest/mr-cmpd"}]
    result = card(run("order-sign", drafts=[er_draft()], resources=[order, fill]), er_la_opioid_naive.CHECK_ID)
    assert result is not None and result.facts["unidentified_in_window"] == 1


def _carin_claim_unknown_ndc() -> dict[str, Any]:
    """A CARIN Blue Button pharmacy claim 40 days ago for an NDC PainPlan's tables do not hold, 10 days' supply."""
    unknown = {"coding": [{"system": NDC, "code": "99999012301"}]}
    return pharmacy_claim("pde-77", product=unknown, day=days_ago(40), days_supply=10, quantity=30)


def test_a_payer_claim_of_the_window_for_an_unknown_ndc_is_counted_and_named_on_the_hook(tmp_path: Path) -> None:
    body = hook_request("order-sign", drafts=[er_draft()], prefetch=full_prefetch("order-sign"))
    body["prefetch"]["claims"] = bundle(_carin_claim_unknown_ndc())
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200
    cards = {c["source"]["topic"]["code"]: c for c in response.json["cards"]}
    assert "**Could not identify:** 1 medication" in cards["er-la-opioid-naive"]["detail"]
    incomplete = cards["data-incomplete"]["detail"]
    assert "99999012301" in incomplete and "pharmacy fill of the last 90 days, now ended" in incomplete


def test_the_plan_pages_data_completeness_panel_names_the_fill(tmp_path: Path) -> None:
    import re

    from builders import patient
    from markupsafe import escape
    from werkzeug.datastructures import MultiDict

    from smart_app.plan_view import PageInput, assemble, render_page

    app = make_app(tmp_path)
    settings = app.config["PAINPLAN"]
    with app.test_request_context("/plan"):
        view = assemble(
            PageInput((patient(), epic_ndc_fill()), (), ()),
            settings.guideline,
            PATIENT_ID,
            settings.evaluation_now(),
            MultiDict(),
        )
        page = render_page(view, MultiDict(), lambda **_: "/plan", handle="H")
    panel = re.search(r'<section id="completeness".*?</section>', page, re.S)
    assert panel is not None
    assert (
        "1 medication order or pharmacy fill of the last 90 days, now ended, could not be identified" in panel.group()
    )
    # Known only by an NDC that nothing maps: its line says so, as the current ones' lines do.
    why = (
        "known only by its NDC, which neither PainPlan's packaged data nor the site's NDC crosswalk ndc.rxnorm maps to "
        "a product, so PainPlan cannot tell what it is; it may be an opioid"
    )
    assert str(escape(f"(fill eZrX3.nMdT1, filled 2026-05-06, {why})")) in panel.group()


def test_the_count_on_the_card_is_the_ended_orders_and_fills_the_page_names() -> None:
    """One rule (`Facts.unidentified_past`): an ended order and an unrelated fill of the window are both counted and
    both named, the order first."""
    order = med_request(OXYCODONE_IR, id="mr-cmpd", status="completed", authored=days_ago(41), supply_days=10)
    order["medicationCodeableConcept"] = {"text": "PAIN CMPD CAP (ZXR-22)"}
    resources = [order, epic_ndc_fill()]
    result = card(run("order-sign", drafts=[er_draft()], resources=resources), er_la_opioid_naive.CHECK_ID)
    assert result is not None and result.facts["unidentified_in_window"] == 2
    page, on_card = _named("order-sign", [er_draft()], resources)
    assert len(page) == 2 and on_card == page
    assert "order mr-cmpd" in page[0] and "fill eZrX3.nMdT1" in page[1]
