"""Renewals beside a draft being signed, on Epic-shaped orders of oxycodone 5 mg (RxNorm 1049621), two tablets every
6 hours (60 MME a day a prescription). Dr Adams's staggered series (`test_renewals8_series_edges.series`): eOxy.1 for
series days 0-29, eOxy.2 fillable from day 30. Evaluated on series day 30, when eOxy.2 has taken eOxy.1 over; a
renewal signed on day 30 names eOxy.1 (the renew action on the series' first order), and a draft of the same product
with no priorPrescription (eOxy.D) is being signed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from builders import NOW, TODAY, card, run
from test_later4_series_renewal import DR_BAKER
from test_renewals8_series_edges import epic_oxy5, line, series

from guideline.config import GuidelineConfig
from guideline.terminology import load_terminology
from smart_app.mme_command import mme_report

DAY_30 = NOW + timedelta(days=10)


def renewal_of_first(requester: dict[str, str] | None = None, status: str = "active") -> dict[str, Any]:
    """A renewal of eOxy.1 signed on day 30 (Dr Adams's unless another `requester` is given)."""
    extra = {"requester": requester} if requester else {}
    return epic_oxy5("eOxy.R", 10, fillable=10, expires=100, prior="eOxy.1", status=status, **extra)


def unlinked_draft(tablets: int = 2) -> dict[str, Any]:
    """The draft being signed on day 30: oxycodone 5 mg, `tablets` every 6 hours, no priorPrescription."""
    draft = epic_oxy5("eOxy.D", 10, fillable=10, expires=100, status="draft")
    draft["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = tablets
    draft["dosageInstruction"][0]["text"] = f"Take {tablets} tablet{'s' if tablets > 1 else ''} by mouth every 6 hours."
    return draft


def sign(*resources: dict[str, Any], draft: dict[str, Any]):
    return run("order-sign", resources=[*series(), *resources], drafts=[draft], now=DAY_30)


def states(evaluation) -> dict[str, str]:
    return {r.order.id: r.state for r in evaluation.facts.mme.orders}


# -- 1. another prescriber's renewal beside the series, with an unlinked draft read as the series' renewal ---------


def test_another_prescribers_renewal_names_the_draft_counted_beside_it_not_the_series_order_left_out() -> None:
    evaluation = sign(renewal_of_first(DR_BAKER), draft=unlinked_draft())
    assert evaluation.facts.mme.total == Decimal(120)
    assert states(evaluation) == {"eOxy.D": "ok", "eOxy.2": "excluded", "eOxy.R": "ok"}
    words = line(evaluation, "eOxy.R")
    # Before: "check with the prescriber of order eOxy.2 whether both are to be taken", eOxy.2 being listed as not
    # counted: the order counted beside the renewal is the draft.
    assert "check with the prescriber of order eOxy.2 whether both" not in words
    assert (
        "both are counted, as another course may be meant; order eOxy.2 is counted once with order eOxy.D, read as "
        "one regimen, and order eOxy.D is counted beside this renewal: check whether both are to be taken" in words
    )
    high = card(evaluation, "high-mme")
    assert high is not None and words in high.detail


def test_when_the_series_order_keeps_its_larger_dose_the_words_name_it_as_counted_beside() -> None:
    # The draft is one tablet (30 MME): eOxy.2 keeps the larger dose and the draft is the one left out.
    evaluation = sign(renewal_of_first(DR_BAKER), draft=unlinked_draft(tablets=1))
    assert evaluation.facts.mme.total == Decimal(120)
    assert states(evaluation) == {"eOxy.D": "excluded", "eOxy.2": "ok", "eOxy.R": "ok"}
    assert (
        "order eOxy.2 is counted once with order eOxy.D, read as one regimen, and order eOxy.2 is counted beside this "
        "renewal: check whether both are to be taken" in line(evaluation, "eOxy.R")
    )


def test_a_renewal_the_draft_is_read_as_renewing_does_not_say_it_is_counted() -> None:
    # Dr Baker's draft is paired with Dr Baker's renewal (its own prescriber's, `renewals._partners`; before, the
    # first in the record, whoever's): it is listed as renewed by the draft, and its line no longer says "both are
    # counted". Listed after the series or before it alike.
    medication, first, second = series()
    draft = unlinked_draft()
    draft["requester"] = draft["recorder"] = DR_BAKER
    for resources in ([medication, renewal_of_first(DR_BAKER), first, second], [*series(), renewal_of_first(DR_BAKER)]):
        evaluation = run("order-sign", resources=resources, drafts=[draft], now=DAY_30)
        assert evaluation.facts.mme.total == Decimal(120)
        assert states(evaluation) == {"eOxy.D": "ok", "eOxy.R": "excluded", "eOxy.2": "ok"}
        assert "both are counted" not in line(evaluation, "eOxy.R")


def test_with_no_draft_the_words_still_ask_the_series_prescriber() -> None:
    evaluation = run("patient-view", resources=[*series(), renewal_of_first(DR_BAKER)], now=DAY_30)
    assert evaluation.facts.mme.total == Decimal(120)
    assert "check with the prescriber of order eOxy.2 whether both are to be taken" in line(evaluation, "eOxy.R")


# -- 2. the series' own renewal is paired with the series before a draft with no link is --------------------------

DRAFT_WORDS = (
    "it names no priorPrescription; order eOxy.R, a current order of the same product, is already counted once with "
    "order eOxy.2 as one regimen, so this is not read as another renewal of it: both are counted, as "
    "prescriptions taken together may be meant; check whether both are to be taken"
)


def test_the_series_own_signed_renewal_keeps_the_series_and_the_unlinked_draft_counts_beside_it_said() -> None:
    evaluation = sign(renewal_of_first(), draft=unlinked_draft())
    # Before: the draft took eOxy.2, and Dr Adams's own renewal of her series was counted beside the draft, its line
    # asking whether the draft being signed was to be stopped.
    assert [(p.renewal.id, p.order.id) for p in evaluation.facts.implied_renewals] == [("eOxy.R", "eOxy.2")]
    assert evaluation.facts.mme.total == Decimal(120)
    assert states(evaluation) == {"eOxy.D": "ok", "eOxy.2": "excluded", "eOxy.R": "ok"}
    assert "read as the renewal of order eOxy.2, counted once with it" in line(evaluation, "eOxy.R")
    assert "does not name" not in line(evaluation, "eOxy.R")
    assert DRAFT_WORDS in line(evaluation, "eOxy.D")
    high = card(evaluation, "high-mme")
    assert high is not None and DRAFT_WORDS in high.detail


def draft_report(resources: list[dict[str, Any]], draft: dict[str, Any]) -> dict[str, Any]:
    """`painplan mme` of the order-sign request carrying the draft and these records, on day 30."""
    config = GuidelineConfig.from_mapping()
    request = {
        "hook": "order-sign",
        "context": {"patientId": "p1", "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": draft}]}},
        "prefetch": {"medsActive": {"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]}},
    }
    return mme_report(request, config, load_terminology(config), TODAY + timedelta(days=10))


def test_painplan_mme_reads_the_same_pairing_and_words() -> None:
    answer = draft_report([*series(), renewal_of_first()], unlinked_draft())
    assert answer["current_total_mme"] == 120.0
    lines = {entry["id"]: entry for entry in answer["orders"]}
    assert DRAFT_WORDS in lines["eOxy.D"]["explanation"]
    assert "read as the renewal of order eOxy.2" in lines["eOxy.R"]["explanation"]


def test_a_draft_renewal_of_the_first_beside_the_series_own_signed_one_is_the_second_renewal() -> None:
    # Both name eOxy.1: the signed one, already in the chart, is the series' renewal; the draft is a second renewal,
    # counted beside it and said (before, the draft took eOxy.2 and the signed renewal was the one said to be beside).
    draft = epic_oxy5("eOxy.D", 10, fillable=10, expires=100, prior="eOxy.1", status="draft")
    evaluation = sign(renewal_of_first(), draft=draft)
    assert [(p.renewal.id, p.order.id) for p in evaluation.facts.implied_renewals] == [("eOxy.R", "eOxy.2")]
    assert evaluation.facts.mme.total == Decimal(120)
    assert "it does not name order eOxy.R, a current order of the same product" in line(evaluation, "eOxy.D")
    assert "does not name" not in line(evaluation, "eOxy.R")


def test_a_draft_left_beside_two_regimens_names_both() -> None:
    # Dr Baker's own current oxycodone 5 mg (eOxy.B, no link) beside the series, and two drafts with no link: the
    # first is read as Dr Baker's renewal, the second is left beside both regimens (180, the louder reading), said.
    baker = epic_oxy5("eOxy.B", -5, fillable=-5, expires=85, requester=DR_BAKER)
    second = unlinked_draft()
    second["id"] = second["identifier"][0]["value"] = "eOxy.D2"
    evaluation = run(
        "order-sign", resources=[*series(), renewal_of_first(), baker], drafts=[unlinked_draft(), second], now=DAY_30
    )
    assert [(p.renewal.id, p.order.id) for p in evaluation.facts.implied_renewals] == [
        ("eOxy.R", "eOxy.2"),
        ("eOxy.D", "eOxy.B"),
    ]
    assert evaluation.facts.mme.total == Decimal(180)
    assert (
        "it names no priorPrescription; order eOxy.R, a current order of the same product, is already counted once "
        "with order eOxy.2 as one regimen; order eOxy.D, a current order of the same product, is already counted once "
        "with order eOxy.B as one regimen, so this is not read as another renewal of any of them: all are counted, as "
        "prescriptions taken together may be meant; check whether all are to be taken" in line(evaluation, "eOxy.D2")
    )
