"""The reassessment tile rests on the MME history (an opioid started or a dose raised since the last review makes it
due again, Rec 7): when that history could not be built, the tile says "Unknown" and why, never "Up to date"."""

from __future__ import annotations

import re
from typing import Any

import pytest
import responses
from test_plan import plan_for
from test_plan_unread_searches import _added_morphine_record, _reassessment, _statuses
from test_plan_view import FakeFhir, _app, _open_plan

HISTORY_WORDS = "the MME history could not be built"


def _reviewed_record(reviewed_ago: int = 40) -> list[dict[str, Any]]:
    """Seven months of oxycodone fills (30 MME/day) and a reassessment `reviewed_ago` days ago, with no dose change
    since: read in full, the reassessment is up to date."""
    return [r for r in _added_morphine_record(reviewed_ago) if r.get("id") != "morphine-er"]


def _broken() -> Any:
    raise ValueError("history builder failed")


def test_the_reassessment_is_up_to_date_when_the_history_was_built() -> None:
    task, step = _reassessment(plan_for(_reviewed_record(), statuses=_statuses([])))
    assert task.state == "done" and step.status == "done"


def test_a_reassessment_is_not_up_to_date_when_the_mme_history_could_not_be_built() -> None:
    plan = plan_for(_reviewed_record(), statuses=_statuses([]), builders={"mme_history": _broken})
    assert plan.section("mme_history").error == "This section could not be built (ValueError)."
    task, step = _reassessment(plan)
    assert task.state == "not-read" and task.state_label.startswith("Unknown")
    assert task.next_due is None and task.last_done is not None
    assert HISTORY_WORDS in task.detail and "would make it due again" in task.detail
    assert step.status == "not-read" and not step.due
    line = next(line for line in plan.note.split("\n") if line.startswith("- Benefit/harm reassessment: "))
    assert "not known" in line and HISTORY_WORDS in line and "Up to date" not in line, line


def test_a_dose_increase_the_history_would_show_is_not_hidden_behind_up_to_date() -> None:
    # Read, the morphine added 10 days ago makes the review due; without the history nothing may say "done".
    built = _reassessment(plan_for(_added_morphine_record(), statuses=_statuses([])))[0]
    assert built.state == "due-soon"
    task = _reassessment(plan_for(_added_morphine_record(), statuses=_statuses([]), builders={"mme_history": _broken}))[
        0
    ]
    assert task.state != "done"


def test_a_reassessment_done_today_stands_without_the_history() -> None:
    # No increase can come after a review done today.
    task = _reassessment(plan_for(_reviewed_record(0), statuses=_statuses([]), builders={"mme_history": _broken}))[0]
    assert task.state == "done"


def test_the_page_shows_the_reassessment_unknown_when_the_history_builder_raises(tmp_path, monkeypatch) -> None:
    import guideline.plan.assembly as assembly

    def failing(*_: Any, **__: Any) -> Any:
        raise ArithmeticError("no history")

    monkeypatch.setattr(assembly, "build_mme_history", failing)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, _reviewed_record())
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    tile = re.search(r'<li class="task state-([a-z-]+)" data-task="reassessment">(.*?)</li>', html, re.S)
    assert tile is not None
    assert tile.group(1) == "not-read", tile.group(0)
    assert "Up to date" not in tile.group(2) and "Unknown" in tile.group(2) and HISTORY_WORDS in tile.group(2)


@pytest.mark.parametrize("reviewed_ago", [40])
def test_the_page_says_up_to_date_when_the_history_was_built(tmp_path, reviewed_ago) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, _reviewed_record(reviewed_ago))
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    tile = re.search(r'<li class="task state-([a-z-]+)" data-task="reassessment">', html)
    assert tile is not None and tile.group(1) == "done"


def test_a_reassessment_due_soon_is_not_known_when_the_mme_history_could_not_be_built() -> None:
    # Reviewed 75 days ago (window 91): due soon on what was read, but a dose raised since would bring the due date
    # forward, and only the history shows one. The tile said "Due soon" with a date it could not know.
    built = _reassessment(plan_for(_reviewed_record(75), statuses=_statuses([])))[0]
    assert built.state == "due-soon" and built.next_due is not None
    plan = plan_for(_reviewed_record(75), statuses=_statuses([]), builders={"mme_history": _broken})
    task, step = _reassessment(plan)
    assert task.state == "not-read" and task.state_label == "Unknown — data not read"
    assert task.next_due is None and task.last_done == built.last_done
    assert HISTORY_WORDS in task.detail and "would make it due again" in task.detail
    assert step.status == "not-read" and not step.due
    line = next(line for line in plan.note.split("\n") if line.startswith("- Benefit/harm reassessment: "))
    assert "not known" in line and "Due soon" not in line, line


@pytest.mark.parametrize(
    ("reviewed_ago", "state"),
    [
        (120, "overdue"),  # past the window: a dose raised since could only bring the due date forward
        (None, "never"),  # no review on record: due now whatever the history holds
    ],
)
def test_a_reassessment_the_history_cannot_change_keeps_its_state_without_it(reviewed_ago, state) -> None:
    record = _reviewed_record(reviewed_ago or 40)
    if reviewed_ago is None:
        record = [r for r in record if r["resourceType"] != "Procedure"]
    built = _reassessment(plan_for(record, statuses=_statuses([])))[0]
    assert built.state == state
    task = _reassessment(plan_for(record, statuses=_statuses([]), builders={"mme_history": _broken}))[0]
    assert task.state == state and task.next_due == built.next_due


def test_a_reassessment_due_soon_for_an_order_being_signed_stands_without_the_history() -> None:
    # An order being signed that starts opioids sets the review 1-4 weeks after today: the history cannot change it.
    from builders import med_request, patient, run
    from test_plan import NOW
    from test_plan_unread_searches import MORPHINE_ER_30

    from guideline.plan import build_plan

    def plan(**kwargs: Any) -> Any:
        evaluation = run("order-sign", resources=[patient()], drafts=[med_request(MORPHINE_ER_30, draft=True)])
        return build_plan(evaluation, _statuses([]), evaluation.facts.config, NOW, **kwargs)

    built = _reassessment(plan())[0]
    assert built.state == "due-soon"
    task = _reassessment(plan(builders={"mme_history": _broken}))[0]
    assert task.state == "due-soon" and task.next_due == built.next_due
