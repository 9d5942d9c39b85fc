"""`painplan mme` and a renewal read with the order it renews: the card counts the pair once (guideline.renewals),
so the command's lines marked `current` must add up to its `current_total_mme`, and the order left out says why."""

from __future__ import annotations

from decimal import Decimal

from test_later5_signed_series_renewal import epic_series, report, signed_epic_renewal


def _current_sum(lines: list[dict]) -> Decimal:
    return sum((Decimal(str(line["mme_per_day"])) for line in lines if line["current"]), Decimal(0))


def test_the_current_lines_add_up_to_the_current_total_when_a_signed_series_renewal_is_counted_once() -> None:
    result = report([*epic_series(), signed_epic_renewal()])
    lines = {line["id"]: line for line in result["orders"]}
    assert result["current_total_mme"] == 60.0
    assert _current_sum(result["orders"]) == Decimal("60.0")
    assert lines["eOxy.Renew"]["current"] is True
    left_out = lines["eOxy.2"]
    assert left_out["current"] is False
    assert left_out["mme_per_day"] == 60.0  # its dose still shown, so the larger one counted can be seen
    assert "renewed by the new order of the same product" in left_out["explanation"]


def test_another_prescribers_renewal_still_counts_beside_the_series_and_both_lines_are_current() -> None:
    from test_later4_series_renewal import DR_BAKER

    result = report([*epic_series(), signed_epic_renewal(requester=DR_BAKER)])
    assert result["current_total_mme"] == 120.0
    assert _current_sum(result["orders"]) == Decimal("120.0")


def test_the_lines_carry_the_cards_words_for_a_renewal_counted_beside_the_series_or_once_with_it() -> None:
    from test_later4_series_renewal import DR_BAKER
    from test_later6_series_renewal_beside import WORDS

    beside = {line["id"]: line for line in report([*epic_series(), signed_epic_renewal(requester=DR_BAKER)])["orders"]}
    assert WORDS in beside["eOxy.Renew"]["explanation"]  # why both count: said on the card, the plan page and here
    once = {line["id"]: line for line in report([*epic_series(), signed_epic_renewal()])["orders"]}
    assert "it renews order eOxy.1 (priorPrescription), which order eOxy.2" in once["eOxy.Renew"]["explanation"]
