"""How far ahead a goal's due date and a follow-up date may be is a site setting (goal_due_years, follow_up_years),
checked when settings load; the forms' date inputs carry the same bounds as `min`/`max`, so the browser says so
before anything is sent, and the server's check stays the one that decides."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import responses
from builders import TZ
from launch_support import PUBLIC_URL, FakeEhr, make_app, query
from test_settings_validation import one_line_error
from test_write_back import WRITE_SCOPE, _token
from write_support import ChartServer

from guideline.config import ConfigError
from smart_app.cli import main
from smart_app.config import load_settings
from smart_app.date_limits import DateLimits
from smart_app.write.forms import FORMS, WriteContext

TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=TZ)
# Each date input: (form key, field name, values that make the rest of the form valid).
DATE_INPUTS = {
    "peg-date": ("peg", "date", {"pain": "6", "enjoyment": "7", "activity": "5"}),
    "consent-date": ("consent", "date", {}),
    "agreement-date": ("agreement", "date", {}),
    # A completed goal: the one kind whose due date may be any day from 1900 (an existing goal may keep a past one).
    "goal-due": ("goal", "due", {"goal_kind": "function", "description": "Walk daily", "status": "completed"}),
    "decision-follow-up": ("decision", "follow_up", {"decision": "taper", "reasons": "Risks outweigh benefits."}),
}


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _page(tmp_path: Any, rsps: responses.RequestsMock, **settings: Any) -> tuple[Any, ChartServer, str, str]:
    """The plan page of a launch with every write scope, as the clinician's browser gets it."""
    ehr = FakeEhr(rsps, grant_scope=WRITE_SCOPE)
    chart = ChartServer(rsps, ehr, "walter-brooks")
    client = make_app(tmp_path, [ehr.client_entry()], today="2026-06-15", **settings).test_client()
    started = client.get("/launch", query_string={"iss": ehr.iss, "launch": "l1"}, base_url=PUBLIC_URL)
    finished = client.get(
        "/launch/callback", query_string=ehr.authorize(started.headers["Location"]), base_url=PUBLIC_URL
    )
    handle = query(finished.headers["Location"])["s"]
    page = html.unescape(client.get(f"/plan?s={handle}", base_url=PUBLIC_URL).get_data(as_text=True))
    return client, chart, handle, page


def _bounds(page: str, input_id: str) -> tuple[str | None, str | None]:
    """The min and max attributes of a date input on the page."""
    tag = re.search(rf'<input id="{re.escape(input_id)}"[^>]*>', page)
    assert tag is not None, input_id
    found = {name: value for name, value in re.findall(r'\b(min|max)="([^"]*)"', tag.group(0))}
    assert 'type="date"' in tag.group(0)
    return found.get("min"), found.get("max")


# ----- the settings


def test_the_defaults_are_five_years_for_a_goal_and_a_year_for_a_follow_up() -> None:
    settings = load_settings(env={})
    assert (settings.goal_due_years, settings.follow_up_years) == (5, 1)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PAINPLAN_GOAL_DUE_YEARS": "0"}, "PAINPLAN_GOAL_DUE_YEARS must be between 1 and 10, not 0"),
        ({"PAINPLAN_GOAL_DUE_YEARS": "11"}, "PAINPLAN_GOAL_DUE_YEARS must be between 1 and 10, not 11"),
        ({"PAINPLAN_GOAL_DUE_YEARS": "five"}, "PAINPLAN_GOAL_DUE_YEARS: cannot read 'five'"),
        ({"PAINPLAN_FOLLOW_UP_YEARS": "0"}, "PAINPLAN_FOLLOW_UP_YEARS must be between 1 and 5, not 0"),
        ({"PAINPLAN_FOLLOW_UP_YEARS": "-1"}, "PAINPLAN_FOLLOW_UP_YEARS must be between 1 and 5, not -1"),
        ({"PAINPLAN_FOLLOW_UP_YEARS": "0.5"}, "PAINPLAN_FOLLOW_UP_YEARS: cannot read '0.5'"),
    ],
)
def test_a_bad_date_limit_names_its_key(env, named) -> None:
    with pytest.raises(ConfigError, match=re.escape(named)):
        load_settings(env=env)


def test_a_bad_date_limit_in_the_file_stops_the_program_naming_it(tmp_path, capsys, monkeypatch) -> None:
    config = tmp_path / "painplan.toml"
    config.write_text("follow_up_years = 12\n")
    monkeypatch.setenv("PAINPLAN_INSTANCE_PATH", str(tmp_path))
    assert main(["serve", "--config", str(config)]) == 2
    assert "PAINPLAN_FOLLOW_UP_YEARS must be between 1 and 5, not 12" in one_line_error(capsys)


# ----- the server's check follows the settings


def test_the_server_refuses_a_goal_due_beyond_the_configured_years(tmp_path, rsps) -> None:
    client, chart, handle, page = _page(tmp_path, rsps, goal_due_years=2)
    goal = {"goal_kind": "function", "description": "Walk daily", "due": "2028-06-16", "csrf_token": _token(page)}
    answer = client.post(f"/plan/write/goal?s={handle}", data=goal, base_url=PUBLIC_URL)
    assert answer.status_code == 422 and chart.received == []
    assert "The due date is more than 2 years away; check the year." in html.unescape(answer.get_data(as_text=True))


def test_a_follow_up_within_the_configured_years_is_saved(tmp_path, rsps) -> None:
    """Three years is refused by default (a year); a site that set follow_up_years = 3 may plan one that far."""
    client, chart, handle, page = _page(tmp_path, rsps, follow_up_years=3)
    plan = {"decision": "continue", "reasons": "Stable on a low dose.", "follow_up": "2029-06-15"}
    answer = client.post(
        f"/plan/write/decision?s={handle}", data={**plan, "csrf_token": _token(page)}, base_url=PUBLIC_URL
    )
    assert answer.status_code == 303 and len(chart.written("CarePlan")) == 1


# ----- the page tells the browser the same bounds


def test_the_date_inputs_carry_the_default_bounds(tmp_path, rsps) -> None:
    page = _page(tmp_path, rsps)[3]
    assert _bounds(page, "peg-date") == ("1900-01-01", "2026-06-15")
    assert _bounds(page, "consent-date") == ("1900-01-01", "2026-06-15")
    assert _bounds(page, "agreement-date") == ("1900-01-01", "2026-06-15")
    assert _bounds(page, "goal-due") == ("1900-01-01", "2031-06-15")
    assert _bounds(page, "decision-follow-up") == ("2026-06-15", "2027-06-15")


def test_the_date_inputs_carry_the_configured_bounds(tmp_path, rsps) -> None:
    page = _page(tmp_path, rsps, goal_due_years=2, follow_up_years=3)[3]
    assert _bounds(page, "goal-due") == ("1900-01-01", "2028-06-15")
    assert _bounds(page, "decision-follow-up") == ("2026-06-15", "2029-06-15")


@pytest.mark.parametrize("limits", [DateLimits(), DateLimits(goal_due_years=2, follow_up_years=3)])
def test_each_inputs_bounds_are_exactly_what_the_server_accepts(tmp_path, rsps, limits) -> None:
    """The first and last day the page allows are saved; the day before the first and after the last are refused."""
    settings = {"goal_due_years": limits.goal_due_years, "follow_up_years": limits.follow_up_years}
    page = _page(tmp_path, rsps, **settings)[3]
    context = WriteContext("walter-brooks", "Practitioner/prac-9", NOW, limits=limits)
    for input_id, (key, name, rest) in DATE_INPUTS.items():
        low, high = (date.fromisoformat(day) for day in _bounds(page, input_id))
        for day, accepted in ((low, True), (high, True), (low - timedelta(1), False), (high + timedelta(1), False)):
            built = FORMS[key][0]({**rest, name: day.isoformat()}, context)
            assert (name not in built.errors) is accepted, (input_id, day, built.errors)
