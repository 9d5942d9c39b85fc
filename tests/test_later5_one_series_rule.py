"""One rule for "a later prescription of the same product by the same prescriber" (`orders.later_in_series`). The
staggered series' hand-over (`orders.expired_in_series`) read each order from the first day of its supply
(`possible_start`: an authoredOn written to the month only is its last possible day, never after today), while the
renewal and reorder pairing (`renewals.continues`) read the day written, or begun when later (the month's first day):
on one pair the first said "later" and the second "earlier", so the order a series took over was paired with no
order, or a reorder read in the wrong direction."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from builders import TODAY, run
from test_staggered_prescriptions import day, epic_oxycodone, fill, medication

from guideline.config import GuidelineConfig
from guideline.terminology import load_terminology
from smart_app.mme_command import mme_report


def month_only(order: dict[str, Any], written: str) -> dict[str, Any]:
    """The order as an interface that sends authoredOn to the month only ("2026-05"), with no earliest fill date."""
    order["authoredOn"] = written
    order["dispenseRequest"].pop("validityPeriod", None)
    return order


def first_of_may() -> dict[str, Any]:
    """Dr Adams's oxycodone 10 mg every 6 hours written 36 days ago (10 May), fillable from then and expiring in 90
    days: its 30 days ran out on 9 June, only its expiry keeps it current."""
    return epic_oxycodone("eOxy.1", day(-36), starts=day(-36), ends=day(54))


def later_this_may() -> dict[str, Any]:
    """Her next oxycodone 10 mg prescription, dated "2026-05" by the interface: begun by 31 May at the latest, its
    supply running to 30 June."""
    return month_only(epic_oxycodone("eOxy.2", day(-36)), TODAY.strftime("%Y-") + "05")


def test_a_draft_renewing_the_order_a_month_dated_prescription_took_over_is_counted_once() -> None:
    resources = [medication(), first_of_may(), later_this_may()]
    before = run("patient-view", resources=resources)
    # The hand-over reads eOxy.2 as begun after eOxy.1 (31 May, its last possible day): eOxy.1 is taken over.
    assert [o.id for o in before.facts.current_opioids] == ["eOxy.2"]
    assert before.facts.mme.total == Decimal(60)
    draft = epic_oxycodone("eOxy.Renew", day(0), starts=day(0), prior="eOxy.1")
    draft["status"] = "draft"
    evaluation = run("order-sign", drafts=[draft], resources=resources)
    # The pairing read eOxy.2 as written on 1 May, before eOxy.1: paired with no order, 120 MME/day for 60.
    assert evaluation.facts.mme.total == Decimal(60)
    assert [(p.renewal.id, p.order.id) for p in evaluation.facts.implied_renewals] == [("eOxy.Renew", "eOxy.2")]


def test_a_reorder_is_read_in_the_direction_the_series_reads_it() -> None:
    # eOxy.F, dated "2026-05" (filled 25 May) and now completed, may have been written after eOxy.S (20 May): nothing
    # says eOxy.S carries it on. The hand-over's reading (eOxy.F begun by 31 May) says eOxy.S is not the later one;
    # the reorder rule read eOxy.F as written on 1 May and eOxy.S as its reorder, counting the fill once with it.
    finished = month_only(epic_oxycodone("eOxy.F", day(-36)), TODAY.strftime("%Y-") + "05")
    finished["status"] = "completed"
    signed = epic_oxycodone("eOxy.S", day(-26), starts=day(-26))
    signed["dispenseRequest"]["expectedSupplyDuration"]["value"] = 60
    signed["dispenseRequest"]["quantity"]["value"] = 240
    resources = [medication(), finished, signed, fill("eOxy.F", day(-21), id="eDisp.F")]
    evaluation = run("patient-view", resources=resources)
    assert evaluation.facts.reorders == ()
    assert evaluation.facts.mme.total == Decimal(120)
    config = GuidelineConfig.from_mapping()
    data = {"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]}
    assert mme_report(data, config, load_terminology(config), TODAY)["current_total_mme"] == 120.0
