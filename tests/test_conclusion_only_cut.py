"""A lab report with only a conclusion (no result PainPlan reads) whose conclusion is far longer than any report's is
read, for whether its test could be read, only to its first `uds.CONCLUSION_READ_CHARACTERS`, as a conclusion beside
its results is (`uds-conclusions-cut`), and its line among the results not judged says so; one of a report's length
is read whole and its line says nothing more."""

from __future__ import annotations

from builders import days_ago, padded
from test_diagnostic_reports import conclusion_only, unread

from guideline.uds import CONCLUSION_QUOTED_CHARACTERS, CONCLUSION_READ_CHARACTERS
from guideline.words import clip

PANEL = "Drugs of abuse 5 panel - Urine"


def test_a_conclusion_of_a_reports_length_is_named_with_its_words_alone() -> None:
    words = padded("Negative.", CONCLUSION_READ_CHARACTERS)
    assert unread(conclusion_only(words, when=days_ago(30))) == (
        f'{PANEL} ({days_ago(30)}, report conclusion "{clip(words, CONCLUSION_QUOTED_CHARACTERS)}")',
    )


def test_a_conclusion_far_longer_is_read_in_part_and_its_line_says_so() -> None:
    words = padded("Negative.", 1_000_000)
    assert unread(conclusion_only(words, when=days_ago(30))) == (
        f'{PANEL} ({days_ago(30)}, report conclusion "{clip(words, CONCLUSION_QUOTED_CHARACTERS)}"; its conclusion '
        "(1,000,000 characters) was read to its first 10,000 characters)",
    )
