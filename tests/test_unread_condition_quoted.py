"""A diagnosis in words alone that PainPlan does not read is named on the plan page by its first 150 characters, as a
diagnosis whose words were too long to read is (`diagnoses-not-read`): its words, up to 2,000 characters, were quoted
whole on the page and in the note."""

from __future__ import annotations

from builders import NOW, SNOMED, condition, run

from guideline.named_gaps import NAMED_GAPS
from guideline.plan import build_plan

UNREAD = "unread-conditions"


def named(words: str) -> tuple[str, ...]:
    """What `unread-conditions` names on patient-view for an entry of `words` alone, checked against the page's list."""
    entry = condition(SNOMED, "0", id="c-words")
    entry["code"] = {"text": words}
    evaluation = run("patient-view", resources=[entry])
    [kind] = [kind for kind in NAMED_GAPS if kind.key == UNREAD]
    items = kind.items(evaluation.facts)
    assert build_plan(evaluation, (), evaluation.facts.config, NOW).named.get(UNREAD, ()) == items
    return items


def test_a_short_entry_is_named_by_its_words() -> None:
    assert named("Outside record entry 1") == ("Outside record entry 1 (condition c-words)",)


def test_a_long_entry_is_named_by_its_first_150_characters() -> None:
    words = "Outside record entry: " + "see attached note " * 100  # 1,822 characters, read and naming nothing
    assert named(words) == (f"{words[:149].rstrip()}… (condition c-words)",)
