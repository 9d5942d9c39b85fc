"""A drug a lab report's conclusion says surely was found or not, that no result of that report tests ("Oxycodone
positive. Fentanyl positive." beside one oxycodone screen), is never judged as a result (a conclusion is never a
result per substance) but is named (`uds-conclusion-only-drugs`) when it would matter to the unexpected-result check:
found and not prescribed, or not found while a prescription of it covers the test day."""

from __future__ import annotations

from typing import Any

import pytest
from builders import NOW, card, days_ago, observation, run
from test_diagnostic_reports import (
    FENTANYL_SCREEN,
    LINKED,
    conclusion_only,
    linked_report,
    long_term,
    sign,
    unread,
)

from guideline.checks import CHECKS, unexpected_uds_result
from guideline.named_gaps import NAMED_GAPS
from guideline.plan import build_plan

KIND = "uds-conclusion-only-drugs"
REPORT = "Drugs of abuse 5 panel - Urine"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)


def named(*resources: dict) -> tuple[str, ...]:
    """What the kind names on patient-view (a current oxycodone prescription), checked against the plan page's list."""
    evaluation = run("patient-view", resources=[long_term(), *resources])
    [kind] = [kind for kind in NAMED_GAPS if kind.key == KIND]
    found = kind.items(evaluation.facts)
    assert build_plan(evaluation, (), evaluation.facts.config, NOW).named.get(KIND, ()) == found
    return found


def item(drug: str, said: str = "found") -> str:
    """How a drug only the conclusion reports is named."""
    return f"{REPORT} ({days_ago(30)}): its conclusion says {drug} {said}, which no result it sent tests"


@LINKED
@pytest.mark.parametrize(
    "conclusion", ["Oxycodone positive. Fentanyl positive.", "Positive for oxycodone and fentanyl"]
)
def test_unprescribed_fentanyl_only_the_conclusion_reports_is_named(shape: str, conclusion: str) -> None:
    sent = linked_report(shape, conclusion, "Positive")
    assert named(*sent) == (item("fentanyl"),)
    # never judged as a result: the unexpected-result check flags nothing of fentanyl
    assert card(sign(*sent), unexpected_uds_result.CHECK_ID) is None


def test_the_data_incomplete_card_names_it(tmp_path) -> None:
    from cds_support import bundle, data_incomplete_detail

    sent = linked_report("referenced", "Oxycodone positive. Fentanyl positive.", "Positive", day="2026-06-01")
    detail = data_incomplete_detail(tmp_path, udsLabs=bundle(*sent[:1]), labReports=bundle(*sent[1:]))
    assert (
        f"{REPORT} (2026-06-01): its conclusion says fentanyl found, which no result it sent tests: not judged as a "
        "result; read the report"
    ) in detail


def fentanyl_screen_report(conclusion: str) -> list[dict[str, Any]]:
    """A Quest-shaped report linking one fentanyl screen "Negative", concluding `conclusion`."""
    result = observation(FENTANYL_SCREEN, when=f"{days_ago(30)}T09:14:00-04:00", value_string="Negative")
    linking = conclusion_only(conclusion, when=days_ago(30), id="rep-linked")
    linking["result"] = [{"reference": f"Observation/{result['id']}"}]
    return [result, linking]


def test_a_prescribed_drug_the_conclusion_says_was_not_found_with_no_result_is_named() -> None:
    sent = fentanyl_screen_report("Fentanyl negative. Oxycodone negative.")
    assert named(*sent) == (item("oxycodone", "not found"),)


@LINKED
def test_an_expected_finding_only_the_conclusion_reports_is_not_named(shape: str) -> None:
    # oxycodone found while prescribed: nothing the check would flag, so naming it is noise
    assert named(*fentanyl_screen_report("Fentanyl negative. Oxycodone positive.")) == ()
    assert named(*linked_report(shape, "Oxycodone positive.", "Positive")) == ()


def test_a_drug_its_results_test_is_not_named_again() -> None:
    # the oxycodone screen tests oxycodone: its own reading is judged, the conclusion's word is not named beside it
    assert named(*linked_report("referenced", "Oxycodone negative.", "Negative")) == ()


def test_a_report_with_no_result_read_is_named_once_as_unread() -> None:
    alone = conclusion_only("Positive for fentanyl", when=days_ago(30))
    assert named(alone) == ()
    assert unread(alone)  # named as a report whose results were not read, with its words


def test_a_drug_the_conclusion_cannot_be_read_surely_of_is_not_named() -> None:
    # "Fentanyl 250 ng/mL": found, or measured under the cutoff: read neither way, so never named as found
    assert named(*linked_report("referenced", "Oxycodone positive. Fentanyl 250 ng/mL", "Positive")) == ()


def test_findings_with_no_drug_named_are_not_named() -> None:
    assert named(*linked_report("referenced", "Oxycodone positive, all others negative", "Positive")) == ()
