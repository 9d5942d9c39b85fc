"""Another prescriber's SIGNED renewal of a staggered series' first prescription, once the second has taken it over:
Dr Adams's three 30-day oxycodone 10 mg every-6-hours prescriptions (60 MME a day each), day 35; Dr Baker signs the
renewal naming the first. It is not read as the series' renewal (another prescriber's may be another course), so both
count, the louder reading (120 MME/day). The high-mme card listed two identical oxycodone lines with nothing saying
why both count (`renewals.named_beside` names only an order the renewal's links reach that is itself still counted;
the first is not, it was handed over): never silent, the renewal's line names the order and why."""

from __future__ import annotations

from decimal import Decimal

from builders import NOW, card, run
from test_later4_series_renewal import DR_BAKER
from test_later5_signed_series_renewal import epic_series, signed_epic_renewal
from test_staggered_prescriptions import PCP

from guideline.plan import build_plan

WORDS = (
    "it renews order eOxy.1 (priorPrescription), which order eOxy.2 (the same product, begun later) has taken over: "
    "this renewal is another prescriber's, so it is not read as that series' renewal; both are counted, as another "
    "course may be meant; check with the prescriber of order eOxy.2 whether both are to be taken"
)


def line_of(evaluation, order_id: str) -> str:
    return next(r.explanation for r in evaluation.facts.mme.orders if r.order.id == order_id)


def test_the_high_mme_card_says_why_another_prescribers_signed_renewal_counts_beside_the_series() -> None:
    evaluation = run("patient-view", resources=[*epic_series(), signed_epic_renewal(requester=DR_BAKER)])
    assert evaluation.facts.mme.total == Decimal(120)
    assert WORDS in line_of(evaluation, "eOxy.Renew")
    high = card(evaluation, "high-mme")
    assert high is not None and high.indicator == "critical"
    assert WORDS in high.detail
    # The plan page's medication list reads the same line.
    meds = build_plan(evaluation, (), evaluation.facts.config, NOW).section("medications").content
    assert any(WORDS in row.explanation for row in meds.opioids)


def test_the_same_prescribers_signed_renewal_is_counted_once_and_says_so_not_this() -> None:
    evaluation = run("patient-view", resources=[*epic_series(), signed_epic_renewal(requester=PCP)])
    assert evaluation.facts.mme.total == Decimal(60)
    assert "another prescriber's, so it is not read" not in line_of(evaluation, "eOxy.Renew")


def test_a_renewal_whose_prescriber_is_not_named_says_it_cannot_be_told() -> None:
    renewal = signed_epic_renewal()
    renewal.pop("requester")
    renewal.pop("recorder")
    evaluation = run("patient-view", resources=[*epic_series(), renewal])
    assert evaluation.facts.mme.total == Decimal(120)
    assert (
        "this renewal's prescriber is not known to be the series' own, so it is not read as that series' renewal; both "
        "are counted" in line_of(evaluation, "eOxy.Renew")
    )
