"""What a CLI command said on stderr, for tests of its messages."""

from __future__ import annotations

from typing import Any


def only_line(capsys: Any, *, nothing_on_stdout: bool = False) -> str:
    """The one non-blank line the command wrote to stderr, with no traceback (and, if asked, nothing on stdout)."""
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert not (nothing_on_stdout and captured.out), captured.out
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    return lines[0]
