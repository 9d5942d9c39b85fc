"""A sig far longer than any prescription's (a pasted document, a garbled or hostile feed) is not read: the dose of
its instruction is not trusted, read as a dose not read (its dispense quantity over its days' supply, labelled as an
estimate, else no MME), and the order is named (`sigs-not-read`); a sig of a prescription's length reads as before."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from builders import NOW, padded, run
from fixtures.mme.helpers import qty
from test_doses_by_time_of_day import _only, epic_order

from guideline.named_gaps import NAMED_GAPS
from guideline.plan import build_plan
from guideline.words import TEXT_READ_CHARACTERS

NOT_READ = "sigs-not-read"
SIG = "Take 1 tablet every morning and 2 tablets at bedtime"  # 3 tablets of 5 mg a day: 22.5 MME


def test_a_sig_of_a_prescriptions_length_is_read_to_its_last_character() -> None:
    order = _only(epic_order(padded(SIG, TEXT_READ_CHARACTERS)))
    assert (order.state, order.mme) == ("ok", Decimal("22.5")), order.explanation


def test_a_sig_longer_than_any_prescriptions_is_not_read_and_its_dose_is_not_trusted() -> None:
    # Read, its doses by time of day would count 3 tablets a day; the coded dose alone, 2: neither is trusted.
    order = _only(epic_order(padded(SIG, TEXT_READ_CHARACTERS + 1), dispense={}))
    assert (order.state, order.reason, order.mme) == ("unknown", "sig-not-read", None), order.explanation
    assert "2,001 characters" not in order.reason_text  # the reason is general; the named item gives the length
    assert "longer than any prescription's" in order.reason_text


def test_a_long_timing_text_is_not_read_either() -> None:
    order = _only(epic_order(SIG, timing_text=padded("2 times daily", 100_000), dispense={}))
    assert (order.state, order.reason) == ("unknown", "sig-not-read"), order.explanation


def test_a_sig_not_read_is_estimated_from_its_dispense_quantity_and_days_supply() -> None:
    dispense = {"quantity": qty(90, "tablet"), "expectedSupplyDuration": qty(30, "days", "d")}
    order = _only(epic_order(padded(SIG, 1_000_000), dispense=dispense))
    assert (order.state, order.estimated_by, order.mme) == ("ok", "fallback", Decimal("22.5"))


def sign(*orders: dict[str, Any]) -> tuple[str, ...]:
    """What `sigs-not-read` names on order-sign of `orders`, checked against the plan page's list of it."""
    evaluation = run("order-sign", drafts=list(orders))
    [kind] = [kind for kind in NAMED_GAPS if kind.key == NOT_READ]
    items = kind.items(evaluation.facts)
    assert build_plan(evaluation, (), evaluation.facts.config, NOW).named.get(NOT_READ, ()) == items
    return items


def draft(sig: str) -> dict[str, Any]:
    return epic_order(sig, status="draft", id="draft-1")


def test_the_order_of_a_sig_not_read_is_named_with_its_length() -> None:
    assert sign(draft(padded(SIG, TEXT_READ_CHARACTERS))) == ()
    assert sign(draft(padded(SIG, 1_000_000))) == (
        "oxyCODONE (ROXICODONE) 5 MG immediate release tablet (draft order draft-1, its instructions' text "
        "(1,000,000 characters) is longer than any prescription's and was not read, so its dose was not counted "
        "from it)",
    )
