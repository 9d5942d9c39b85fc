"""A draft of the same product as a current order, with no priorPrescription (Epic "reorder" and Oracle "renew"
often do not set it), is read as that order's renewal: the MME total counts the larger daily dose of the two, not
both, and the card says so. Different products (another strength, immediate- beside extended-release) still add."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from builders import card, days_ago, med_request, run

OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
OXYCODONE_10 = "1049683"  # oxycodone hydrochloride 10 MG Oral Tablet
OXYCONTIN_10 = "1049502"  # 12 HR oxycodone hydrochloride 10 MG Extended Release Oral Tablet


def current(rxcui: str = OXYCODONE_5, **kwargs: Any) -> dict[str, Any]:
    """The order being renewed: written 25 days ago for 30 days, so 5 days of supply remain."""
    return med_request(rxcui, id="old1", authored=days_ago(25), quantity=120, **kwargs)


def renewal(rxcui: str = OXYCODONE_5, **kwargs: Any) -> dict[str, Any]:
    return med_request(rxcui, id="new1", draft=True, quantity=120, **kwargs)


def test_the_same_product_drafted_again_counts_once() -> None:
    # 1 tablet every 6 hours: 20 mg/day oxycodone x 1.5 = 30 MME/day, whether renewed or not.
    evaluation = run("order-sign", drafts=[renewal()], resources=[current()])
    assert evaluation.facts.mme.total == Decimal(30)
    assert card(evaluation, "high-mme") is None
    assert card(evaluation, "naloxone") is None


def test_the_larger_dose_of_the_two_counts_and_the_card_says_which_was_left_out() -> None:
    # The renewal doubles the dose (60 MME/day) of the current order (30): 60 counts, not 90.
    evaluation = run("order-sign", drafts=[renewal(dose=2)], resources=[current()])
    assert evaluation.facts.mme.total == Decimal(60)
    found = card(evaluation, "high-mme")
    assert found is not None and found.indicator == "warning"
    assert "Total: 60.0 MME/day" in found.detail
    assert (
        "**Renewed by the new order of the same product (no priorPrescription links them), so the larger daily "
        "dose of the two is counted, not both:**\n- oxycodone hydrochloride 5 MG Oral Tablet: 1 tablet every 6 "
        "hours (4 a day) = 20 mg/day oxycodone × 1.5 = 30.0 MME/day (active)"
    ) in found.detail


def test_a_smaller_renewal_leaves_the_current_dose_counted() -> None:
    evaluation = run("order-sign", drafts=[renewal(period=12)], resources=[current(dose=4)])  # 15 beside 120
    assert evaluation.facts.mme.total == Decimal(120)
    found = card(evaluation, "high-mme")
    assert found is not None
    assert "**A new order of the same product as a current order, read as its renewal" in found.detail


def test_another_strength_still_adds() -> None:
    evaluation = run("order-sign", drafts=[renewal(OXYCODONE_10)], resources=[current()])
    assert evaluation.facts.mme.total == Decimal(90)  # 30 + 60


def test_extended_release_beside_immediate_release_still_adds() -> None:
    long_acting = renewal(OXYCONTIN_10, period=12)  # 20 mg/day = 30 MME/day
    evaluation = run("order-sign", drafts=[long_acting], resources=[current()])
    assert evaluation.facts.mme.total == Decimal(60)


def test_with_prior_prescription_the_draft_alone_counts_as_before() -> None:
    linked = {**renewal(), "priorPrescription": {"reference": "MedicationRequest/old1"}}
    evaluation = run("order-sign", drafts=[linked], resources=[current(dose=2)])
    assert evaluation.facts.mme.total == Decimal(30)


def test_a_home_medication_of_the_same_product_still_adds() -> None:
    # Reported as taken from an outside prescriber: a new order here is no evident renewal of it.
    outside = {**current(), "reportedBoolean": True}
    evaluation = run("order-sign", drafts=[renewal()], resources=[outside])
    assert evaluation.facts.mme.total == Decimal(60)
