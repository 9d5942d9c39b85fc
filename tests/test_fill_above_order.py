"""A pharmacy fill read as an order's supply whose quantity and days' supply imply a larger daily dose than the order
counts at the larger dose, and says so; an opioid fill whose days' supply is implausibly long is named (guideline 8)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from builders import days_ago, dispense, med_request, patient
from cds_support import OXYCODONE_5, OXYCODONE_10, bundle, full_prefetch, hook_request, make_app, topics
from markupsafe import escape  # what the page template escapes with (an apostrophe is &#39;)
from werkzeug.datastructures import MultiDict

from guideline.config import ConfigError, GuidelineConfig
from smart_app.plan_view import PageInput, assemble, render_page


def oxycodone_10_order() -> dict[str, Any]:
    """Oxycodone 10 mg, 1 tablet every 8 hours for 30 days: 30 mg, 45 MME a day; written 10 days ago."""
    return med_request(OXYCODONE_10, id="mr-oxy10", authored=days_ago(10), period=8)


def oxycodone_10_fill(quantity: int, days: int, linked: bool = False) -> dict[str, Any]:
    """A fill of oxycodone 10 mg 5 days ago, as a pharmacy system sends it (no prescriber, maybe no order link)."""
    fill = dispense(OXYCODONE_10, days_ago(5), days)
    fill["quantity"] = {"value": quantity, "unit": "TAB"}
    if linked:
        fill["authorizingPrescription"] = [{"reference": "MedicationRequest/mr-oxy10"}]
    return fill


def small_draft() -> dict[str, Any]:
    """Oxycodone 5 mg, half a tablet once a day: 2.5 mg, 3.75 MME a day (the order being signed)."""
    return med_request(OXYCODONE_5, id="draft-oxy", draft=True, dose=0.5, period=24)


def order_sign(tmp_path: Path, orders: list[dict[str, Any]], fills: list[dict[str, Any]]) -> dict[str, Any]:
    prefetch = full_prefetch("order-sign", medsActive=bundle(*orders), medsRecent=bundle(*orders))
    prefetch["dispenses"] = bundle(*fills)
    body = hook_request(drafts=[small_draft()], prefetch=prefetch)
    return make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body).json


def card(response: dict[str, Any], topic: str) -> dict[str, Any]:
    return next(c for c in response["cards"] if c["source"]["topic"]["code"] == topic)


def test_unlinked_fill_implying_twice_the_order_counts_the_fill(tmp_path: Path) -> None:
    # #180 for 30 days is 6 tablets a day, 90 MME; the order says 3 (45). Read as the order's supply, only 45 counted:
    # 48.75 with the draft, no card, and nothing said. It may be another prescriber's prescription or a changed sig.
    response = order_sign(tmp_path, [oxycodone_10_order()], [oxycodone_10_fill(180, 30)])
    high = card(response, "high-mme")
    assert "93.8 MME/day" in high["summary"]
    assert high["indicator"] == "critical"
    assert (
        "the pharmacy fill of oxycodone hydrochloride 10 MG Oral Tablet on 2026-06-10 (#180 for 30 days)"
        in high["detail"]
    )
    assert "implies 90.0 MME a day, more than the order's 45.0 MME" in high["detail"]


def test_linked_fill_implying_more_follows_the_same_rule(tmp_path: Path) -> None:
    response = order_sign(tmp_path, [oxycodone_10_order()], [oxycodone_10_fill(180, 30, linked=True)])
    assert "implies 90.0 MME a day, more than the order's 45.0 MME" in card(response, "high-mme")["detail"]


def test_fill_implying_less_keeps_the_order_dose(tmp_path: Path) -> None:
    # #60 for 30 days is 2 a day (30 MME): the order's 45 stands, with the draft 48.75: no high-dose card.
    response = order_sign(tmp_path, [oxycodone_10_order()], [oxycodone_10_fill(60, 30)])
    assert "high-mme" not in topics(response)


def quantity_as_days_fill() -> dict[str, Any]:
    """Oxycodone 5 mg #180 with daysSupply 180: the quantity keyed in as the days (probably 30 days, 6 a day)."""
    fill = dispense(OXYCODONE_5, days_ago(5), 180)
    fill["id"] = "md-keyed"
    fill["quantity"] = {"value": 180, "unit": "TAB"}
    return fill


def test_opioid_fill_over_90_days_supply_is_named_on_the_card(tmp_path: Path) -> None:
    prefetch = full_prefetch("order-sign", dispenses=bundle(quantity_as_days_fill()))
    body = hook_request(drafts=[small_draft()], prefetch=prefetch)
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body).json
    detail = card(response, "data-incomplete")["detail"]
    assert (
        "oxycodone hydrochloride 5 MG Oral Tablet (pharmacy fill md-keyed, days' supply 180): that days' supply looks "
        "implausible for an opioid fill; its daily dose may be higher, and its supply shorter, than counted"
    ) in detail


def test_days_supply_limit_is_a_setting(tmp_path: Path) -> None:
    prefetch = full_prefetch("order-sign", dispenses=bundle(quantity_as_days_fill()))
    body = hook_request(drafts=[small_draft()], prefetch=prefetch)
    app = make_app(tmp_path, guideline={"mme": {"max_opioid_fill_days": 200}})
    response = app.test_client().post("/cds-services/order-sign", json=body).json
    assert "looks implausible" not in str(response)


@pytest.mark.parametrize("value", [0, -5, 30.5, "ninety"])
def test_a_bad_days_supply_limit_stops_with_the_key_named(value: Any) -> None:
    with pytest.raises(ConfigError, match="mme.max_opioid_fill_days"):
        GuidelineConfig.from_mapping({"mme": {"max_opioid_fill_days": value}})


def test_thirty_days_supply_is_not_named(tmp_path: Path) -> None:
    fill = quantity_as_days_fill()
    fill["daysSupply"]["value"] = 30
    prefetch = full_prefetch("order-sign", dispenses=bundle(fill))
    body = hook_request(drafts=[small_draft()], prefetch=prefetch)
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body).json
    assert "looks implausible" not in str(response)


def plan_page(tmp_path: Path, resources: list[dict[str, Any]]) -> str:
    """The plan page as its server-side build renders it, with the draft a card's link carries."""
    app = make_app(tmp_path)
    settings = app.config["PAINPLAN"]
    with app.test_request_context("/plan"):
        view = assemble(
            PageInput((patient(), *resources), (), ()),
            settings.guideline,
            "p1",
            settings.evaluation_now(),
            MultiDict(),
            drafts=[small_draft()],
        )
        return render_page(view, MultiDict(), lambda **_: "/plan", handle="H")


def test_plan_page_counts_the_fill_dose_now_and_says_why(tmp_path: Path) -> None:
    page = plan_page(tmp_path, [oxycodone_10_order(), oxycodone_10_fill(180, 30)])
    assert str(escape("implies 90.0 MME a day, more than the order's 45.0 MME")) in page
    # The total now (before the draft) counts the fill's dose too, not the order's 45.
    assert "90.0 MME/day now" in page


def test_plan_page_panel_names_the_implausible_supply(tmp_path: Path) -> None:
    page = plan_page(tmp_path, [quantity_as_days_fill()])
    panel = re.search(r'<section id="completeness".*?</section>', page, re.S)
    assert panel is not None
    assert str(escape("(pharmacy fill md-keyed, days' supply 180)")) in panel.group(0)
    assert str(escape("looks implausible for an opioid fill")) in panel.group(0)


def test_an_order_a_draft_renews_is_compared_at_its_fill_dose(tmp_path: Path) -> None:
    # The same oxycodone 10 mg every 8 hours drafted again with no priorPrescription (an Epic "reorder"): read as the
    # current order's renewal, the larger of the two counts. The order's fill of #180 for 30 days says the patient
    # takes 90 MME a day, not the order's 45: compared at 45, the draft's 45 won the tie, the fill's dose was lost
    # with the order, and the total read 45 with no card.
    renewal = med_request(OXYCODONE_10, id="draft-oxy10", draft=True, period=8)
    prefetch = full_prefetch(
        "order-sign", medsActive=bundle(oxycodone_10_order()), medsRecent=bundle(oxycodone_10_order())
    )
    prefetch["dispenses"] = bundle(oxycodone_10_fill(180, 30, linked=True))
    body = hook_request(drafts=[renewal], prefetch=prefetch)
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body).json
    high = card(response, "high-mme")
    assert "90.0 MME/day" in high["summary"]
    assert "implies 90.0 MME a day, more than the order's 45.0 MME" in high["detail"]


def renewal_sign(tmp_path: Path, order: dict[str, Any], fill: dict[str, Any], draft: dict[str, Any]) -> dict[str, Any]:
    """order-sign of `draft`, which names `order` in its priorPrescription (Epic's reorder of a current order)."""
    draft["priorPrescription"] = {"reference": f"MedicationRequest/{order['id']}", "display": "oxyCODONE 10 mg"}
    prefetch = full_prefetch("order-sign", medsActive=bundle(order), medsRecent=bundle(order))
    prefetch["dispenses"] = bundle(fill)
    body = hook_request(drafts=[draft], prefetch=prefetch)
    return make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body).json


RENEWED_FILL_TEXT = (
    "the last fill of the order this renews, oxycodone hydrochloride 10 MG Oral Tablet on 2026-06-10 (#180 for 30 "
    "days), implies 90.0 MME a day, more than that order's 45.0 MME and this order's 45.0 MME; the larger is counted "
    "(the patient may have been taking more than ordered)"
)


def test_a_draft_naming_its_prior_prescription_counts_that_orders_larger_fill_dose(tmp_path: Path) -> None:
    # The current oxycodone 10 mg every 8 hours (45 MME/day), filled as #180 for 30 days (90), renewed at the same
    # sig by a draft that names it in priorPrescription. The draft replaced the order and its fill went with it: the
    # total read 45, no card, and the 90 the pharmacy dispensed for was named nowhere. Read without the link (an
    # implied renewal) the same patient counts 90; the link must not lower it.
    renewal = med_request(OXYCODONE_10, id="draft-oxy10", draft=True, period=8)
    response = renewal_sign(tmp_path, oxycodone_10_order(), oxycodone_10_fill(180, 30, linked=True), renewal)
    high = card(response, "high-mme")
    assert "90.0 MME/day" in high["summary"]
    assert RENEWED_FILL_TEXT in high["detail"]


def test_an_unlinked_fill_of_the_renewed_order_is_weighed_the_same(tmp_path: Path) -> None:
    # A pharmacy fill with no authorizingPrescription, of the same drug within the renewed order's supply.
    renewal = med_request(OXYCODONE_10, id="draft-oxy10", draft=True, period=8)
    response = renewal_sign(tmp_path, oxycodone_10_order(), oxycodone_10_fill(180, 30), renewal)
    assert RENEWED_FILL_TEXT in card(response, "high-mme")["detail"]


def test_a_taper_below_a_fill_that_matched_its_order_counts_the_draft(tmp_path: Path) -> None:
    # 2 tablets every 8 hours (90 MME/day) filled as ordered (#180 for 30 days), renewed at 1 tablet (45): a taper
    # the prescriber means. The fill says nothing the old order did not, so the draft's 45 counts, no dose card.
    order = med_request(OXYCODONE_10, id="mr-oxy10", authored=days_ago(10), period=8, dose=2)
    renewal = med_request(OXYCODONE_10, id="draft-oxy10", draft=True, period=8)
    response = renewal_sign(tmp_path, order, oxycodone_10_fill(180, 30, linked=True), renewal)
    assert all(c["source"]["topic"]["code"] != "high-mme" for c in response["cards"])


def test_a_draft_above_the_renewed_orders_fill_counts_the_draft_and_says_nothing_of_it(tmp_path: Path) -> None:
    # Renewed at 2 tablets every 6 hours (120 MME/day), above the fill's 90: the draft's dose counts as it is.
    renewal = med_request(OXYCODONE_10, id="draft-oxy10", draft=True, period=6, dose=2)
    response = renewal_sign(tmp_path, oxycodone_10_order(), oxycodone_10_fill(180, 30, linked=True), renewal)
    high = card(response, "high-mme")
    assert "120.0 MME/day" in high["summary"]
    assert "the order this renews" not in high["detail"]
