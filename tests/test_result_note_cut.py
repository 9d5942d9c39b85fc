"""A lab comment on a urine drug test result (its note) far longer than any comment (a report pasted in) is read for
what it says of the specimen ("dilute") only to its first `uds.CONCLUSION_READ_CHARACTERS`, as a conclusion is, and
the result is named (`uds-notes-cut`); a comment of a comment's length is read whole and nothing is named."""

from __future__ import annotations

from typing import Any

import pytest
from builders import NOW, days_ago, med_request, observation, run

from guideline.checks import CHECKS, unexpected_uds_result, urine_drug_test
from guideline.named_gaps import NAMED_GAPS
from guideline.plan import build_plan
from guideline.uds import CONCLUSION_READ_CHARACTERS

OXYCODONE = "1049621"
OXYCODONE_SCREEN = "58430-0"
CUT = "uds-notes-cut"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    monkeypatch.setitem(CHECKS, urine_drug_test.CHECK_ID, urine_drug_test)


def sign(note: str, when: str | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """On order-sign for a patient on long-term oxycodone whose screen of 10 days ago (or dated `when`) reads
    "Negative" with `note`: the results not judged, and what `uds-notes-cut` names (as the plan page does)."""
    long_term = med_request(OXYCODONE, authored=days_ago(200), supply_days=30, refills=11)
    draft = med_request(OXYCODONE, draft=True, id="d1")
    result: dict[str, Any] = observation(OXYCODONE_SCREEN, when=when or days_ago(10), value_string="Negative")
    result["note"] = [{"text": note}]
    evaluation = run("order-sign", drafts=[draft], resources=[long_term, result])
    [kind] = [kind for kind in NAMED_GAPS if kind.key == CUT]
    items = kind.items(evaluation.facts)
    assert build_plan(evaluation, (), evaluation.facts.config, NOW).named.get(CUT, ()) == items
    return unexpected_uds_result.unjudged_results(evaluation.facts), items


def test_a_comment_of_a_comments_length_is_read_whole() -> None:
    note = "see attached report " * ((CONCLUSION_READ_CHARACTERS - 100) // 20) + "Specimen dilute."
    unjudged, cut = sign(note)
    assert unjudged == (f"urine drug test ({days_ago(10)})",)  # a dilute negative is not judged
    assert cut == ()


def test_a_comment_far_longer_is_read_to_its_first_part_and_the_result_is_named() -> None:
    note = "Specimen dilute. " + "see attached report " * 50_000
    unjudged, cut = sign(note)
    assert unjudged == (f"urine drug test ({days_ago(10)})",)  # its first part is read: dilute
    assert cut == (
        f"urine drug test ({days_ago(10)}, its note ({len(note.strip()):,} characters) was read to its first 10,000 "
        "characters)",
    )


def test_a_result_whose_date_could_not_be_read_is_named_with_the_date_as_sent() -> None:
    """Its date is written as every other line naming a drug test result writes it (`date_written`): the date sent
    and mistyped, told from none at all, as the results not judged name the same result beside it."""
    note = "Specimen dilute. " + "see attached report " * 50_000
    unjudged, cut = sign(note, when="2026-13-45")
    unread = "effectiveDateTime '2026-13-45' could not be read as a date"
    assert unjudged == (f"urine drug test ({unread})",)
    assert cut == (
        f"urine drug test ({unread}, its note ({len(note.strip()):,} characters) was read to its first 10,000 "
        "characters)",
    )
