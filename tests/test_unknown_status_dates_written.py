"""A urine drug test result of unknown status whose date was sent but cannot be read ("2026-13-45", "06/01/2026") is
named with that date as sent, as every other result is (`dates_sent.unread_words`), on the data-incomplete card's
list of results not judged and on the urine drug test card and tile: never "undated", as if no date had been sent."""

from __future__ import annotations

import pytest
from test_result_dates_written import SENT, epic_drug_screen, on_view, unread

from guideline.checks import unexpected_uds_result
from guideline.checks.urine_drug_test import unknown_status_since_last


def unknown_status(when: str | None) -> dict:
    """Epic's "DRUG SCREEN, URINE" read "Positive", sent with a status outside FHIR's (an interface's "unknown")."""
    return {**epic_drug_screen(when), "status": "unknown"}


@pytest.mark.parametrize("sent", SENT)
def test_a_result_of_unknown_status_is_named_with_its_date_as_sent(sent: str) -> None:
    facts = on_view(unknown_status(sent)).facts
    # Before: "DRUG SCREEN, URINE (undated, status unknown)" and ("DRUG SCREEN, URINE", None).
    assert f"DRUG SCREEN, URINE ({unread(sent)}, status unknown)" in unexpected_uds_result.unread_results(facts)
    assert unknown_status_since_last(facts, 12) == (("DRUG SCREEN, URINE", unread(sent)),)


def test_a_result_of_unknown_status_sent_with_no_date_is_still_undated() -> None:
    facts = on_view(unknown_status(None)).facts
    assert "DRUG SCREEN, URINE (undated, status unknown)" in unexpected_uds_result.unread_results(facts)
    assert unknown_status_since_last(facts, 12) == (("DRUG SCREEN, URINE", None),)


@pytest.mark.parametrize("sent", SENT)
def test_the_urine_drug_test_card_names_its_date_as_sent_in_its_detail(sent: str) -> None:
    card = next(c for c in on_view(unknown_status(sent)).cards if c.check_id == "urine-drug-test")
    assert (
        card.summary
        == "Order a urine drug test: a result whose date could not be read is of unknown status, not counted"
    )
    assert f"DRUG SCREEN, URINE ({unread(sent)})" in card.detail
