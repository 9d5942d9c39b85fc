"""A draft renewal that names another prescriber's current order in `priorPrescription` replaces it (the covering
clinician's renewal: the EHR stops the old order when the renewal is signed), and its line says so; once signed, if
the old order is still active and current, the two run beside each other, both counted and named (the same-prescriber
test is read for signed links only, as docs/clinical-logic.md explains)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from builders import NOW, card, days_ago, run
from test_signed_renewal import ED, PCP, epic_order, fill, medication, old

from guideline.plan import build_plan

REPLACED = (
    "it renews order eOxy.Old (priorPrescription), another prescriber's, still current: read as replaced by this "
    "renewal, so that order is not counted beside it"
)


def draft_renewal(requester: Any) -> dict[str, Any]:
    """Today's draft renewal of the PCP's order eOxy.Old (oxycodone 10 mg every 6 hours, 60 MME a day)."""
    return epic_order("eOxy.Draft", "draft", days_ago(0), prior="eOxy.Old", requester=requester)


def test_a_covering_clinicians_draft_replaces_the_colleagues_order_and_says_so() -> None:
    # The PCP's order is active with 9 days of its fill left; the covering physician renews it at sign time. Counted
    # beside the draft, every covering renewal read as a doubled dose (120); the draft replaces it, named on its line.
    evaluation = run(
        "order-sign", drafts=[draft_renewal(ED)], resources=[medication(), old("active"), fill("eOxy.Old")]
    )
    assert evaluation.facts.mme.total == Decimal(60)
    assert evaluation.facts.active_orders == ()
    high = card(evaluation, "high-mme")
    assert high is not None and REPLACED in high.detail
    plan = build_plan(evaluation, (), evaluation.facts.config, NOW)
    rows = {r.order_id: r for r in plan.section("medications").content.opioids}
    assert REPLACED in rows["eOxy.Draft"].explanation


def test_the_same_prescribers_draft_renewal_replaces_the_order_with_nothing_more_to_say() -> None:
    evaluation = run(
        "order-sign", drafts=[draft_renewal(PCP)], resources=[medication(), old("active"), fill("eOxy.Old")]
    )
    assert evaluation.facts.mme.total == Decimal(60)
    high = card(evaluation, "high-mme")
    assert high is not None and "another prescriber's" not in high.detail


def test_a_draft_renewal_of_a_completed_order_says_nothing_of_it() -> None:
    # Nothing is replaced that still counts: the old order's fill is the renewal's, as for any renewal.
    evaluation = run("order-sign", drafts=[draft_renewal(ED)], resources=[medication(), old(), fill("eOxy.Old")])
    assert evaluation.facts.mme.total == Decimal(60)
    high = card(evaluation, "high-mme")
    assert high is not None and "another prescriber's" not in high.detail


def test_once_signed_the_colleagues_order_left_active_runs_beside_it() -> None:
    # The same renewal signed, and the PCP's order still active and current: the EHR did not stop it, so it may still
    # be taken (two courses), and both count, named on the renewal's line.
    signed = epic_order("eOxy.Draft", "active", days_ago(0), prior="eOxy.Old", requester=ED)
    evaluation = run("patient-view", resources=[medication(), old("active"), fill("eOxy.Old"), signed])
    assert evaluation.facts.mme.total == Decimal(120)
    high = card(evaluation, "high-mme")
    assert high is not None and "both are counted, as two prescriptions taken together" in high.detail
    assert REPLACED not in high.detail
