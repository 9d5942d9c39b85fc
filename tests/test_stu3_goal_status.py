"""STU3 and DSTU2 Goals carry their state in Goal.status (R4 renamed it lifecycleStatus): a goal entered in error or
cancelled there is no live goal, and an STU3 goal in progress is an active one."""

from __future__ import annotations

from typing import Any

import pytest
from builders import days_ago
from test_plan import plan_for, rich_patient


def stu3_goal(goal_id: str, description: str, status: str) -> dict[str, Any]:
    """A Goal as an STU3 server sends it: `status`, no `lifecycleStatus`."""
    return {
        "resourceType": "Goal",
        "id": goal_id,
        "status": status,
        "description": {"text": description},
        "subject": {"reference": "Patient/p1"},
        "startDate": days_ago(40),
    }


def initiate_and_goals(resources: list[dict[str, Any]]):
    steps = plan_for([*rich_patient(), *resources]).section("steps").content
    initiate = next(s for s in steps.steps if s.key == "initiate")
    return initiate, steps.goals.rows


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled", "rejected"])
def test_an_stu3_goal_closed_by_its_status_is_no_live_goal(status: str) -> None:
    # Before, only R4's lifecycleStatus was read: these goals showed as live and satisfied the Initiate step.
    goals = [stu3_goal("g1", "Walk the dog daily", status), stu3_goal("g2", "Pain 3 of 10 or less", status)]
    initiate, rows = initiate_and_goals(goals)
    assert rows == ()
    assert any("goal for pain" in due.lower() for due in initiate.due)
    assert any("goal for function" in due.lower() for due in initiate.due)


@pytest.mark.parametrize(
    ("status", "read_as"), [("in-progress", "active"), ("on-target", "active"), ("achieved", "completed")]
)
def test_an_stu3_goal_under_way_is_read_as_r4_names_it(status: str, read_as: str) -> None:
    initiate, rows = initiate_and_goals([stu3_goal("g1", "Pain 3 of 10 or less", status)])
    assert [(row.kind, row.status) for row in rows] == [("pain", read_as)]
    assert not any("goal for pain" in due.lower() for due in initiate.due)


def test_r4s_lifecycle_status_is_read_first() -> None:
    goal = {**stu3_goal("g1", "Pain 3 of 10 or less", "in-progress"), "lifecycleStatus": "entered-in-error"}
    assert initiate_and_goals([goal])[1] == ()
