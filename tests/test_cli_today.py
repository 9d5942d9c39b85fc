"""`--today` is read by one helper for every command that takes it (demo, serve, check, mme, population): the same
line, naming --today, for the same bad value, and an empty one refused rather than read as no date."""

from __future__ import annotations

import pytest
from cli_support import only_line

from guideline.config import ConfigError
from smart_app.cli import build_parser, main
from smart_app.commands import settings_for
from smart_app.demo import demo_settings

COMMANDS = {
    "check": ["check", "-"],
    "mme": ["mme", "-"],
    "population": ["population", "in", "--out", "out"],
}
SAID = {
    "2026-02-30": "--today: '2026-02-30' is not a date YYYY-MM-DD (day is out of range for month)",
    "0001-01-01": "--today must be a date between 1801 and 2200",
    # `--today "$REVIEW_DAY"` with the variable unset: read as no date, the review ran as of the day it ran.
    "": "--today is empty: give a date YYYY-MM-DD, or leave --today out",
}


@pytest.mark.parametrize("value", list(SAID))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_says_the_same_of_a_bad_today(command, value, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PAINPLAN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # the population review would find no INPUT folder: --today is read first
    assert main([*COMMANDS[command], "--today", value]) == 2
    assert only_line(capsys, nothing_on_stdout=True) == f"painplan {command}: {SAID[value]}"


@pytest.mark.parametrize("value", list(SAID))
def test_serve_and_the_demo_say_the_same_of_a_bad_today(value, tmp_path, capsys):
    # Settings only: a regression must fail this test, not start a server inside it (`--today ""` once did).
    args = build_parser().parse_args(["serve", "--today", value, "--port", "9001"])
    assert settings_for("serve", args) is None
    assert only_line(capsys, nothing_on_stdout=True) == f"painplan serve: {SAID[value]}"
    args = build_parser().parse_args(["demo", "--today", value, "--port", "9001"])
    with pytest.raises(ConfigError) as raised:
        demo_settings(args, env={"PAINPLAN_INSTANCE_PATH": str(tmp_path)})
    assert str(raised.value) == SAID[value]
