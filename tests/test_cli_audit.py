"""A user's bad input to every `painplan` command: one line naming what is wrong, a documented exit status, no
traceback (black-box audit, session 30)."""

from __future__ import annotations

import sys

import pytest

from smart_app.cli import main


def only_line(capsys) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    return lines[0]


@pytest.mark.parametrize("command", ["mme", "check"])
def test_a_closed_stdin_is_named_not_a_traceback(command, monkeypatch, capsys):
    # A scheduler or `cmd <&-` starts the command with no standard input: Python then sets sys.stdin to None, and
    # reading the request from "-" ended in an AttributeError traceback with exit status 1.
    monkeypatch.setattr(sys, "stdin", None)
    assert main([command, "-", "--today", "2026-06-15"]) == 2
    line = only_line(capsys)
    assert line.startswith(f"painplan {command}: ") and "standard input is closed" in line
