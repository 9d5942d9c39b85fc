"""A card stays readable in an EHR panel however many draft orders arrive."""

from __future__ import annotations

from builders import card, med_request, run

from guideline.checks.common import MAX_LIST_LINES, MAX_SUGGESTIONS


def test_three_hundred_drafts_give_one_short_card_with_capped_suggestions() -> None:
    drafts = [med_request("1049621", id=f"rx{n}", draft=True) for n in range(300)]
    high = card(run("order-sign", drafts=drafts), "high-mme")
    assert high is not None and high.indicator == "critical"
    assert len(high.suggestions) == MAX_SUGGESTIONS
    assert high.detail.count("\n- ") <= MAX_LIST_LINES + 1
    assert "and 280 more" in high.detail
