"""Renewals counted once everywhere: a draft renewing a signed renewal that itself renewed an older order counts the
chain once (the older order's still-supplying fill goes with the draft); another prescriber's linked renewal of a
completed order counts once in the MME history as on the card; and the card's words say what is counted."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from builders import NOW, card, days_ago, run
from test_mme_history_fill_rules import line
from test_signed_renewal import ED, epic_order, facts, fill, medication, old, renewal

from guideline.mme import compute_mme
from guideline.plan.mme_history import build_mme_history


def draft_renewing(prior: str, tablets: int = 1) -> dict[str, Any]:
    """Today's order-sign draft, oxycodone 10 mg `tablets` every 6 hours, renewing `prior` (Epic: the order being
    renewed as priorPrescription)."""
    return epic_order("eOxy.Draft", "draft", NOW.date().isoformat(), tablets=tablets, prior=prior)


def test_a_draft_renewing_a_signed_renewal_counts_the_older_orders_fill_once() -> None:
    # eOxy.Old (completed, its fill of 20 days ago supplying 9 more days) <- eOxy.New (signed 2 days ago) <- the draft.
    # The draft retires eOxy.New; eOxy.Old's fill was counted as a standalone fill beside the draft: 120, not 60.
    resources = [medication(), old(), fill("eOxy.Old"), renewal()]
    evaluation = run("order-sign", drafts=[draft_renewing("eOxy.New")], resources=resources)
    assert evaluation.facts.mme.total == Decimal(60)
    assert evaluation.facts.current_fills == ()


def test_a_chain_with_the_old_order_left_active_counts_once() -> None:
    resources = [medication(), old("active"), fill("eOxy.Old"), renewal()]
    evaluation = run("order-sign", drafts=[draft_renewing("eOxy.New")], resources=resources)
    assert evaluation.facts.mme.total == Decimal(60)


def test_a_fill_at_the_chains_far_end_above_the_draft_counts_once_at_its_dose() -> None:
    # eOxy.Old's fill of #240 for 30 days implies 120 MME a day, more than eOxy.Old's 60 and the draft's 60: the
    # draft counts at 120, once (it was 60 + 120), and says which order's fill it is and through which renewal.
    resources = [medication(), old(), fill("eOxy.Old", 240), renewal()]
    evaluation = run("order-sign", drafts=[draft_renewing("eOxy.New")], resources=resources)
    assert evaluation.facts.mme.total == Decimal(120)
    high = card(evaluation, "high-mme")
    assert high is not None
    assert (
        "the last fill of order eOxy.Old, which this renews through order eOxy.New, oxycodone 10 mg tablet on "
        "2026-05-26 (#240 for 30 days), implies 120.0 MME a day"
    ) in high.detail


def test_a_cycle_of_renewals_ends() -> None:
    # eOxy.Old names eOxy.New and eOxy.New names eOxy.Old (a data error): the walk ends, the draft counts once.
    looped = old()
    looped["priorPrescription"] = {"reference": "MedicationRequest/eOxy.New"}
    evaluation = run(
        "order-sign", drafts=[draft_renewing("eOxy.New")], resources=[medication(), looped, fill("eOxy.Old"), renewal()]
    )
    assert evaluation.facts.mme.total == Decimal(60)


def test_the_history_counts_another_prescribers_renewal_of_a_completed_order_once() -> None:
    # The emergency physician renews the PCP's completed order (priorPrescription) 2 days ago while its fill still
    # supplies: the card counts 60; the history added both courses (120 today).
    found = facts([old(), fill("eOxy.Old"), renewal(requester=ED)])
    assert found.mme.total == Decimal(60)
    days = line(build_mme_history(found, compute_mme))
    assert days[NOW.date()] == Decimal(60)
    assert days[NOW.date() - timedelta(days=5)] == Decimal(60)


def test_the_history_still_adds_another_prescribers_renewal_beside_a_current_order() -> None:
    found = facts([old("active"), fill("eOxy.Old"), renewal(requester=ED)])
    assert found.mme.total == Decimal(120)
    assert line(build_mme_history(found, compute_mme))[NOW.date()] == Decimal(120)


def test_a_fill_listed_as_renewed_names_its_mme() -> None:
    # The unlinked reorder's case: the old order's fill is listed as counted once with the reorder; its line said only
    # its date.
    evaluation = run("patient-view", resources=[medication(), old(), fill("eOxy.Old"), renewal(linked=False)])
    high = card(evaluation, "high-mme")
    assert high is not None
    assert (
        "- oxycodone 10 mg tablet (filled 2026-05-26): 120 tablets ÷ 30 days' supply = 4 per day = 40 mg/day oxycodone "
        "× 1.5 = 60.0 MME/day (pharmacy fill)"
    ) in high.detail


def test_the_renewal_reason_says_the_fill_is_counted_when_it_is() -> None:
    evaluation = run("patient-view", resources=[medication(), old(), fill("eOxy.Old", 240), renewal(linked=False)])
    high = card(evaluation, "high-mme")
    assert high is not None
    assert "the current order's, is counted" not in high.detail
    assert (
        "**A new order of the same product as a finished order whose last fill still supplies, read as its reorder "
        "(no priorPrescription links them), so the larger daily dose of the two, the fill's, is counted, not both:**"
    ) in high.detail
    # The plan page's medication table gives the same reason.
    found = facts([old(), fill("eOxy.Old", 240), renewal(linked=False)])
    (reorder,) = [r for r in found.mme.orders if r.order.id == "eOxy.New"]
    assert reorder.reason_text is not None and "the fill's, is counted" in reorder.reason_text


def test_a_draft_read_as_a_renewal_still_says_the_current_orders_dose_counts() -> None:
    # A draft of the same product below the current order's dose: that order's dose is counted, as the words say.
    draft = epic_order("eOxy.Draft", "draft", NOW.date().isoformat())
    evaluation = run(
        "order-sign", drafts=[draft], resources=[medication(), old("active", tablets=2), fill("eOxy.Old", 240)]
    )
    high = card(evaluation, "high-mme")
    assert high is not None
    assert "so the larger daily dose of the two, the current order's, is counted, not both:**" in high.detail


def test_a_chain_through_a_completed_renewal_retires_the_order_left_active() -> None:
    # Epic left the first order active with a 60-day supply (current); its renewal, written 25 days ago, is completed;
    # today's draft renews that renewal. The first order was counted beside the draft (120), one regimen twice.
    first = epic_order("eOxy.First", "active", days_ago(40))
    first["dispenseRequest"]["expectedSupplyDuration"]["value"] = 60
    first["dispenseRequest"]["quantity"]["value"] = 240
    middle = epic_order("eOxy.Middle", "completed", days_ago(25), prior="eOxy.First")
    evaluation = run("order-sign", drafts=[draft_renewing("eOxy.Middle")], resources=[medication(), first, middle])
    assert evaluation.facts.mme.total == Decimal(60)
    assert evaluation.facts.active_orders == ()


def test_a_chain_through_a_completed_renewal_keeps_another_prescribers_order() -> None:
    # The same chain where the first order is the emergency physician's: it runs beside the PCP's renewals, both count.
    first = epic_order("eOxy.First", "active", days_ago(40), requester=ED)
    first["dispenseRequest"]["expectedSupplyDuration"]["value"] = 60
    first["dispenseRequest"]["quantity"]["value"] = 240
    middle = epic_order("eOxy.Middle", "completed", days_ago(25), prior="eOxy.First")
    evaluation = run("order-sign", drafts=[draft_renewing("eOxy.Middle")], resources=[medication(), first, middle])
    assert evaluation.facts.mme.total == Decimal(120)
