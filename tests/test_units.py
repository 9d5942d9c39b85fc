"""The one module that tidies unit words (guideline.units): what each of its three readings makes of the spellings
EHRs send, including the few where they differ (named in the module, kept as the callers read them)."""

from __future__ import annotations

import pytest

from guideline.units import normalise_unit, unit_key


@pytest.mark.parametrize(
    ("written", "key"),
    [("MG", "mg"), (" {Tablets} ", "tablets"), ("mcg/h", "mcg/h"), ("{tbl}", "tbl"), ("Hour(s)", "hour(s)")],
)
def test_unit_key_is_trimmed_lower_case_without_braces(written: str, key: str) -> None:
    assert unit_key(written) == key


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("mg(s)", "mg"),
        ("MG.", "mg"),
        ("{tbl}", "tbl"),
        ("patch(es)", "patch"),
        ("suppositor(ies)", "suppositor"),
        ("  Tab   ER ", "tab er"),
        ("{}", None),
        (None, None),
    ],
)
def test_normalise_unit_reads_ehr_spellings_as_one_key(written: str | None, key: str | None) -> None:
    assert normalise_unit(written) == key
