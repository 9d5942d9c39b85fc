"""A payer claim's dates read one way on both faces: a day of service that is no date ("2026-13-45", "2026-02-30", a
timestamp with an offset no clock has) is read by the record's own date parser wherever a claim is read, so the
population review reads a claim's procedures, fills and visit as the point of care does, and names what it cannot
date where the point of care names it.

Before, the review cut a timestamp to its written date before reading it: a hospice claim billed from
"2026-06-01T00:00:00+25:00" left the member out of every measure, while the card read hospice care on no day."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cds_support import bundle, topics
from synthetic_export import patient
from test_hospice_point_of_care import data_incomplete, hospice_claim, order_sign
from test_population_measure_edges import _evaluate, _high_dose, _row

# Keying errors as payers export them: a month and day that are no date, 30 February, and a zone past ±24 hours.
NO_DATES = ["2026-13-45", "2026-02-30", "2026-06-01T00:00:00+25:00"]


def review(pid: str, claim: dict[str, Any]) -> Any:
    """The review's outcome for a high-dose member with this claim (made for them) in the export."""
    return _evaluate(pid, [patient(pid), *_high_dose(pid), {**claim, "patient": {"reference": f"Patient/{pid}"}}])


# -- A hospice line ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", NO_DATES)
def test_a_hospice_claim_whose_days_are_no_dates_is_a_claim_with_no_day_of_care_on_both_faces(
    tmp_path: Path, day: str
) -> None:
    # Before, the days were kept as written, so the claim had days of care: the card named its hospice care as a
    # procedure in no chart ("Hospice care (claim) (procedure h-bad-px1), no date") and the review counted nothing,
    # or, with the offset past 24 hours cut off, read a hospice stay and left the member out of every measure.
    claim = hospice_claim("h-bad", billablePeriod={"start": day, "end": day})
    detail = data_incomplete(order_sign(tmp_path, procedures=bundle(claim)))
    assert "- Hospice claim (ExplanationOfBenefit h-bad): has no date of care" in detail
    assert "h-bad-px" not in detail
    outcome = review("h-b", claim)
    assert _row(outcome)["excluded"] is None
    assert outcome.quality.hospice_claims_undated == {"h-b": 1}


def test_a_hospice_claim_with_one_day_that_is_a_date_is_hospice_care_on_it_on_both_faces(tmp_path: Path) -> None:
    claim = hospice_claim("h-end", billablePeriod={"start": "2026-13-45", "end": "2026-06-10"})
    assert topics(order_sign(tmp_path, procedures=bundle(claim))) == []
    assert _row(review("h-e", claim | {"billablePeriod": {"start": "2026-13-45", "end": "2026-03-10"}}))["excluded"]
