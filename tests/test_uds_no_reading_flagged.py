"""A urine drug test result whose value says there is no reading ("Inconclusive", "Pending", "See comment") is never
read by the lab system's default flag beside it (Epic Beaker's N, or "Normal" in words): read so, it was a negative,
an "all clear" or an unexpected negative for a prescribed opioid on a test that read nothing. A real flag beside such
words (A, POS, NEG) disagrees with them: indeterminate, and named."""

from __future__ import annotations

from typing import Any

import pytest
from builders import card, days_ago, med_request, run
from cds_support import bundle, data_incomplete_detail
from test_uds_unreadable_specimen import _epic_result

from guideline.checks import CHECKS, unexpected_uds_result, urine_drug_test
from guideline.named_gaps import NAMED_GAPS
from guideline.plan import build_plan
from guideline.plan.uds_history import build_uds

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
OXYCODONE_SCREEN = ("58430-0", "oxyCODONE+oxyMORphone Ur Ql Scn")
COCAINE_SCREEN = ("14314-9", "Benzoylecgonine Ur Ql Scn")
TEST_DAY = days_ago(10)  # within the oxycodone supply below
NAMED = f"oxyCODONE+oxyMORphone Ur Ql Scn ({TEST_DAY})"
NO_READING = ["Inconclusive", "Indeterminate", "Pending", "See comment", "Equivocal", "Result to follow"]


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    monkeypatch.setitem(CHECKS, urine_drug_test.CHECK_ID, urine_drug_test)


def _beaker(test: tuple[str, str], value: str, flag: str | None = "N", *, coded: bool = False) -> dict[str, Any]:
    """An Epic Beaker result of the test day: its value as text, or as a coded answer's text (`coded`), and a flag."""
    result = _epic_result(*test, value, ident="eUDS.1", flag=flag)
    result["effectiveDateTime"], result["issued"] = f"{TEST_DAY}T09:14:00-04:00", f"{TEST_DAY}T16:40:12Z"
    if coded:
        del result["valueString"]
        result["valueCodeableConcept"] = {"text": value}
    return result


def _normal_in_words(result: dict[str, Any]) -> dict[str, Any]:
    """The flag sent only as words, "Normal", as some interfaces send the HL7 v2 flag's text."""
    return result | {"interpretation": [{"text": "Normal"}]}


def _sign(*results: dict[str, Any]):
    """An oxycodone order being signed for a patient on oxycodone supplied over the test day."""
    current = med_request(OXYCODONE, authored=days_ago(20), supply_days=30)
    return run("order-sign", drafts=[med_request(OXYCODONE, draft=True, id="d1")], resources=[current, *results])


def _unread(evaluation) -> tuple[str, ...]:
    return next(kind for kind in NAMED_GAPS if kind.key == "unread-uds").items(evaluation.facts)


def _unexpected(evaluation) -> str:
    found = card(evaluation, unexpected_uds_result.CHECK_ID)
    return found.summary if found is not None else ""


@pytest.mark.parametrize("coded", [False, True], ids=["valueString", "valueCodeableConcept"])
@pytest.mark.parametrize("value", NO_READING)
def test_no_reading_beside_the_default_flag_n_is_no_negative_and_is_named(value: str, coded: bool) -> None:
    """Epic Beaker's "Inconclusive" flagged N for oxycodone while prescribed: read by the flag, an unexpected
    negative, a diversion signal on a test that read nothing."""
    evaluation = _sign(_beaker(OXYCODONE_SCREEN, value, coded=coded))
    assert "negative for oxycodone" not in _unexpected(evaluation)
    assert _unread(evaluation) == (NAMED,)


@pytest.mark.parametrize("value", ["Inconclusive", "Pending"])
def test_no_reading_beside_normal_in_words_is_no_negative(value: str) -> None:
    evaluation = _sign(_normal_in_words(_beaker(OXYCODONE_SCREEN, value, flag=None)))
    assert "negative for oxycodone" not in _unexpected(evaluation)
    assert _unread(evaluation) == (NAMED,)


def test_no_reading_beside_the_flag_n_is_read_as_no_value() -> None:
    """The default flag is no reading: the result reads as it does with no flag."""
    evaluation = _sign(_beaker(OXYCODONE_SCREEN, "Inconclusive"))
    [result] = evaluation.facts.uds_results_within(12)
    assert result.value == "none"


@pytest.mark.parametrize("flag", ["A", "POS", "H", "NEG"])
def test_a_real_flag_beside_no_reading_is_indeterminate_and_named(flag: str) -> None:
    """A positive flag beside "Inconclusive" is not dropped in silence, nor read over the lab's own words: the two
    disagree, so the result is indeterminate, named, and never called unexpected."""
    evaluation = _sign(_beaker(COCAINE_SCREEN, "Inconclusive", flag))
    [result] = evaluation.facts.uds_results_within(12)
    assert result.value == "indeterminate"
    assert "cocaine" not in _unexpected(evaluation)
    assert _unread(evaluation) == (f"Benzoylecgonine Ur Ql Scn ({TEST_DAY})",)


def test_a_reading_beside_the_flag_n_is_still_read() -> None:
    """Only a value that says there is no reading sets the flag aside: "Negative" flagged N is a negative, and a
    number as text with a flag is read by the flag."""
    evaluation = _sign(_beaker(OXYCODONE_SCREEN, "NEGATIVE"))
    assert "negative for oxycodone" in _unexpected(evaluation)
    assert "positive for cocaine" in _unexpected(_sign(_beaker(COCAINE_SCREEN, "350", "H")))


def test_the_data_incomplete_card_names_it(tmp_path) -> None:
    detail = data_incomplete_detail(tmp_path, udsLabs=bundle(_beaker(OXYCODONE_SCREEN, "Inconclusive")))
    assert NAMED in detail


def test_the_plan_page_names_it_and_its_row_says_it_could_not_be_read() -> None:
    current = med_request(OXYCODONE, authored=days_ago(20), supply_days=30)
    evaluation = run("patient-view", resources=[current, _beaker(OXYCODONE_SCREEN, "Inconclusive", coded=True)])
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    assert view.named["unread-uds"] == (NAMED,)
    [row] = build_uds(evaluation.facts).rows
    assert row.value == "none" and row.not_judged == "could not be read"
