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


@pytest.mark.parametrize("written", ["h", "hr", "HR", "hour", "Hours", "hour(s)", "hrs", "hr."])
def test_a_strength_per_hour_is_read_per_hour_however_the_ehr_spells_the_hour(written: str) -> None:
    # A patch's "12 mcg / 1 hour(s)" had no usable denominator, so its MME could not be worked out from it.
    from decimal import Decimal

    from guideline.fhirdata import Quantity
    from guideline.recognition.strengths import strength_basis

    assert strength_basis(Quantity(Decimal(1), written)) == ("hour", Decimal(1))
