"""The patient handout's goals: a goal search not read is never a sheet with no goals on it (never silent)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from launch_support import PUBLIC_URL
from test_write_back import _launch

from guideline.plan.handout import build_handout

# An Epic-shaped pain goal on walter-brooks's chart.
WALK_GOAL: dict[str, Any] = {
    "resourceType": "Goal",
    "id": "walter-goal-walk",
    "lifecycleStatus": "active",
    "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/goal-category", "code": "behavioral"}]}],
    "description": {"text": "Walk to the mailbox and back every day"},
    "subject": {"reference": "Patient/walter-brooks"},
    "startDate": "2026-03-02",
}
UNKNOWN = {
    "en": ("We could not read your goals from your chart today", "Your goals"),
    "es": ("Hoy no pudimos leer sus metas en su expediente", "Sus metas"),
}


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_the_handout_lists_the_goals_read() -> None:
    sheet = build_handout("en", [], ["Function: Walk to the mailbox"], None, ())
    assert sheet.goals == ("Function: Walk to the mailbox",) and not sheet.goals_unread


def test_the_handout_knows_when_the_goals_could_not_be_read() -> None:
    sheet = build_handout("es", [], [], None, (), goals_unread=True)
    assert sheet.goals_unread and sheet.text["goals_unknown"].startswith(UNKNOWN["es"][0])


def test_the_page_s_handout_shows_the_goals_read(tmp_path, rsps) -> None:
    client, _, handle, _, _ = _launch(tmp_path, rsps, "launch patient/*.rs", extra=(WALK_GOAL,))
    text = client.get(f"/plan/handout?s={handle}", base_url=PUBLIC_URL).get_data(as_text=True)
    assert "Walk to the mailbox and back every day" in text and 'id="handout-goals-unknown"' not in text


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_handout_says_the_goals_could_not_be_read_when_their_search_failed(tmp_path, rsps, lang) -> None:
    # The goal search answered 500: the sheet left the goals out, reading like a plan with no goals agreed.
    client, chart, handle, _, _ = _launch(tmp_path, rsps, "launch patient/*.rs", extra=(WALK_GOAL,))
    chart.failing_reads.add("Goal")
    text = client.get(f"/plan/handout?s={handle}&lang={lang}", base_url=PUBLIC_URL).get_data(as_text=True)
    unknown, heading = UNKNOWN[lang]
    assert 'id="handout-goals-unknown"' in text and unknown in text and heading in text
    assert "Walk to the mailbox" not in text
