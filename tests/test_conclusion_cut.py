"""A lab report's conclusion far longer than any interpretive report (a CSV pasted in) is read for what it says was
found only to its first `uds.CONCLUSION_READ_CHARACTERS`, so one hook call never spends minutes on one text, and the
cut is named (`uds-conclusions-cut`); a conclusion of a report's length is read whole, and nothing is named."""

from __future__ import annotations

from typing import Any

import pytest
from builders import NOW, card, days_ago, run
from test_diagnostic_reports import linked_report, long_term, sign

from guideline.checks import CHECKS, unexpected_uds_result, urine_drug_test
from guideline.named_gaps import NAMED_GAPS
from guideline.plan import build_plan
from guideline.uds import CONCLUSION_QUOTED_CHARACTERS, CONCLUSION_READ_CHARACTERS, conclusion_read
from guideline.words import clip

CUT = "uds-conclusions-cut"
DISAGREE = "uds-report-disagreements"
PANEL = "Drugs of abuse 5 panel - Urine"
CHECK_IDS = (unexpected_uds_result.CHECK_ID, urine_drug_test.CHECK_ID)


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, urine_drug_test.CHECK_ID, urine_drug_test)
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)


def named(key: str, *resources: dict[str, Any]) -> tuple[str, ...]:
    """What kind `key` names on patient-view, checked against the plan page's data-completeness list of it."""
    evaluation = run("patient-view", resources=[long_term(), *resources])
    [kind] = [kind for kind in NAMED_GAPS if kind.key == key]
    items = kind.items(evaluation.facts)
    assert build_plan(evaluation, (), evaluation.facts.config, NOW).named.get(key, ()) == items
    return items


@pytest.mark.parametrize("shape", ["referenced", "contained"])  # Quest and Labcorp; Epic Beaker
@pytest.mark.parametrize("value", ["Negative", "Positive"])
def test_a_conclusion_of_100_kb_of_commas_reads_as_its_short_self_and_the_cut_is_named(shape: str, value: str) -> None:
    said = "Positive for oxycodone. "
    short = linked_report(shape, said, value)
    pasted = linked_report(shape, said + "," * 100_000, value)
    for check_id in CHECK_IDS:
        assert card(sign(*pasted), check_id) == card(sign(*short), check_id)
    # the contradiction of a negative result is still found in the part read, and named as it is for a short one,
    # quoting the conclusion to its first 300 characters (it was quoted whole: 100 kB on the card, page and note)
    quoted = clip(said + "," * 100_000, CONCLUSION_QUOTED_CHARACTERS)
    disagreeing = [d.replace(quoted, said.strip()) for d in named(DISAGREE, *pasted)]
    assert disagreeing == list(named(DISAGREE, *short))
    assert all(len(d) < 1_000 for d in named(DISAGREE, *pasted))
    assert named(CUT, *short) == ()
    assert named(CUT, *pasted) == (
        f"{PANEL} ({days_ago(30)}, its conclusion (100,024 characters) was read to its first 10,000 characters)",
    )


def test_a_conclusion_under_the_limit_is_read_whole_and_nothing_is_named() -> None:
    words = "Positive for oxycodone. " + "," * (CONCLUSION_READ_CHARACTERS - 100) + " Negative for fentanyl."
    assert conclusion_read(words) == words
    assert named(CUT, *linked_report("referenced", words, "Positive")) == ()


def test_a_long_conclusion_is_cut_at_a_statement_break_near_the_limit_else_at_the_limit() -> None:
    first = "Positive for oxycodone. " + "a" * (CONCLUSION_READ_CHARACTERS - 250) + "."
    assert conclusion_read(first + " Negative for fentanyl" + "," * 1000) == first
    assert conclusion_read("," * 20_000) == "," * CONCLUSION_READ_CHARACTERS


def test_a_result_value_pasted_long_is_quoted_to_its_first_300_characters() -> None:
    # A result's own words quoted beside the conclusion they contradict were quoted whole, as the conclusion was.
    # (a value within the 2,000 characters a value is read to: a longer one is not read, so it contradicts nothing)
    value = "Positive " + "x" * 1_900
    [line] = named(DISAGREE, *linked_report("referenced", "Negative for oxycodone", value))
    assert f'"{clip(value, CONCLUSION_QUOTED_CHARACTERS)}"' in line and len(line) < 1_000


def test_both_kinds_name_the_reports_of_the_months_the_checks_read_a_site_longer_look_back_too() -> None:
    # One window for both (`urine_drug_test.report_since`): the check's look-back, never under 12 months.
    said = "Positive for oxycodone. "
    pasted = linked_report("referenced", said + "," * 100_000, "Negative", day=days_ago(540))  # 18 months ago
    longer = {"checks": {urine_drug_test.CHECK_ID: {"lookback_months": 24}}}
    for config, expected in ((None, False), (longer, True)):
        facts = run("patient-view", resources=[long_term(), *pasted], config=config).facts
        for key in (CUT, DISAGREE):
            [kind] = [kind for kind in NAMED_GAPS if kind.key == key]
            assert bool(kind.items(facts)) is expected, (key, config)
