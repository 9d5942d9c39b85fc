"""The taper form: a value the page cannot read is shown back with a message naming its field, and no schedule is
calculated from a value the clinician did not type (before, anything unreadable became the default 10 %)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from test_plan_view import _app, _open_plan, fhir  # noqa: F401 - fhir is the mocked EHR fixture

TABLE = 'id="taper-table"'


def taper_html(tmp_path: Any, **params: str) -> str:
    html = _open_plan(_app(tmp_path), **params).get_data(as_text=True)
    section = re.search(r'<section id="taper".*?</section>', html, re.S)
    assert section, "the taper section is on the page"
    return section.group(0)


@pytest.mark.usefixtures("fhir")
@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"rate": "abc"}, "Reduce by (%): “abc” is not a number."),
        ({"rate": ""}, "Reduce by (%) is empty."),
        ({"rate": "NaN"}, "Reduce by (%): “NaN” is not a number."),
        ({"target": "none"}, "Target MME/day: “none” is not a number."),
        ({"target": ""}, "Target MME/day is empty."),
        ({"pause_at": "half"}, "Pause at (% of start): “half” is not a number."),
        ({"pause_intervals": "1.5"}, "Pause length (intervals): “1.5” is not a whole number."),
        ({"interval": "fortnight"}, "Every: “fortnight” is not week or month."),
        ({"basis": "latest"}, "Of the: “latest” is not the starting dose or the current dose."),
    ],
)
def test_an_unreadable_field_is_named_and_no_schedule_is_shown(tmp_path: Any, params: dict, words: str) -> None:
    section = taper_html(tmp_path, **{"rate": "10", "target": "0", **params})
    assert TABLE not in section and "reduce by 10 %" not in section
    assert "The schedule was not calculated" in section and words in section.replace("&#34;", '"')


@pytest.mark.usefixtures("fhir")
def test_the_unreadable_value_is_shown_back_in_its_field(tmp_path: Any) -> None:
    section = taper_html(tmp_path, rate="abc")
    assert re.search(r'<input id="taper-rate" name="rate"[^>]*value="abc"[^>]*aria-invalid="true"', section)


@pytest.mark.usefixtures("fhir")
@pytest.mark.parametrize("rate", ["0", "-5"])
def test_a_rate_out_of_range_is_refused_not_replaced(tmp_path: Any, rate: str) -> None:
    # "0" was replaced by 10 % unseen.
    section = taper_html(tmp_path, rate=rate)
    assert TABLE not in section and "Choose a reduction between 1 and 25 % per step." in section


@pytest.mark.usefixtures("fhir")
def test_a_pause_length_out_of_range_is_refused_not_clamped(tmp_path: Any) -> None:
    section = taper_html(tmp_path, rate="10", pause_at="50", pause_intervals="20")
    assert TABLE not in section and "A pause lasts 0 to 12 intervals." in section


@pytest.mark.usefixtures("fhir")
def test_a_percent_sign_after_the_number_is_read_as_meant(tmp_path: Any) -> None:
    section = taper_html(tmp_path, rate="5%", pause_at="50 %", pause_intervals="1")
    assert TABLE in section and "reduce by 5 % of the starting dose every month" in section


@pytest.mark.usefixtures("fhir")
def test_an_empty_pause_is_no_pause_and_no_parameters_are_the_defaults(tmp_path: Any) -> None:
    assert "reduce by 10 % of the starting dose every month" in taper_html(tmp_path)
    section = taper_html(tmp_path, rate="10", interval="month", basis="original", target="0", pause_at="")
    assert TABLE in section and "The schedule was not calculated" not in section
