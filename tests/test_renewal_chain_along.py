"""A chain of renewals read along its whole length by the plan page's MME history and by the card's note, as the card's
total reads it (`orders.renewal_chain`): a fill of the first order counts on the last renewal in the history too, and
an order further down a chain that is counted beside the renewal is named."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from builders import NOW, TZ, card, days_ago, run
from test_fill_dose_three_faces import medication, patient, pharmacy_fill
from test_mme_history_fill_rules import line, renewal, renewed_order
from test_signed_renewal import ED, epic_order, old
from test_signed_renewal import medication as chain_medication
from test_signed_renewal import renewal as renewal_of_old

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.facts import Facts
from guideline.mme import compute_mme
from guideline.plan.mme_history import build_mme_history
from guideline.record import build_record


def facts(*resources: dict[str, Any]) -> Facts:
    record = build_record([patient(), medication(), *resources], TZ)
    return Facts(record, HookContext("patient-view", "p1"), GuidelineConfig.from_mapping(), NOW)


def bridge() -> dict[str, Any]:
    """The May order's renewal, signed 13 June as a one-day bridge (#3 for 1 day, 45 MME a day), since completed."""
    order = renewal()
    order["status"] = "completed"
    order["dispenseRequest"]["quantity"]["value"] = 3
    order["dispenseRequest"]["expectedSupplyDuration"]["value"] = 1
    return order


def third() -> dict[str, Any]:
    """The bridge's renewal, signed 14 June for 30 days (45 MME a day), naming the bridge as its priorPrescription."""
    order = renewal()
    order.update(id="eOxy10.Order3", authoredOn="2026-06-14T10:05:00-04:00")
    order["priorPrescription"] = {"reference": "MedicationRequest/eOxy10.Order2"}
    return order


def test_the_history_counts_the_chains_far_fill_on_the_last_renewal_as_the_card_does() -> None:
    # eOxy10.Order3 -> eOxy10.Order2 (bridge) -> eOxy10.Order1 (May). The May order's fill of 5 June (#180 for 30
    # days, 90 MME a day) still supplies today, above every order's 45: the card counts Order3 at 90. The history read
    # Order3's direct link only (the bridge, unfilled) and drew 45 on Order3's days.
    found = facts(renewed_order(), bridge(), third(), pharmacy_fill())
    assert found.mme.total == Decimal(90)
    days = line(build_mme_history(found, compute_mme))
    assert days[date(2026, 6, 10)] == Decimal(90)  # the May order, raised by its own fill
    assert days[NOW.date()] == Decimal(90)  # Order3, raised by the May order's fill along the chain


def test_an_order_counted_beside_further_down_a_chain_is_named_on_the_renewal() -> None:
    # The emergency physician's order eOxy.First (active, 60 days from 40 days ago: still current) <- the PCP's
    # eOxy.Middle (completed) <- today's draft. eOxy.First is counted beside the draft (120); the draft's line said
    # nothing of it, as the note read the order the draft names (eOxy.Middle, not counted) only.
    first = epic_order("eOxy.First", "active", days_ago(40), requester=ED)
    first["dispenseRequest"]["expectedSupplyDuration"]["value"] = 60
    first["dispenseRequest"]["quantity"]["value"] = 240
    middle = epic_order("eOxy.Middle", "completed", days_ago(25), prior="eOxy.First")
    draft = epic_order("eOxy.Draft", "draft", NOW.date().isoformat(), prior="eOxy.Middle")
    evaluation = run("order-sign", drafts=[draft], resources=[chain_medication(), first, middle])
    assert evaluation.facts.mme.total == Decimal(120)
    (line_of_draft,) = [r for r in evaluation.facts.mme.orders if r.order.id == "eOxy.Draft"]
    assert line_of_draft.explanation is not None
    assert (
        "it renews order eOxy.First (priorPrescription, through order eOxy.Middle), another prescriber's, still "
        "current: both are counted"
    ) in line_of_draft.explanation
    high = card(evaluation, "high-mme")
    assert high is not None and "it renews order eOxy.First (priorPrescription, through order eOxy.Middle)" in (
        high.detail
    )


def test_an_order_counted_beside_named_directly_keeps_its_note() -> None:
    # The emergency physician's signed renewal of the PCP's order still active: both counted, the renewal's line
    # says so.
    evaluation = run("patient-view", resources=[chain_medication(), old("active"), renewal_of_old(requester=ED)])
    assert evaluation.facts.mme.total == Decimal(120)
    (line_of_renewal,) = [r for r in evaluation.facts.mme.orders if r.order.id == "eOxy.New"]
    assert line_of_renewal.explanation is not None
    assert (
        "it renews order eOxy.Old (priorPrescription), another prescriber's, still current: both are counted"
    ) in line_of_renewal.explanation
