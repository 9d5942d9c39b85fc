"""The plan page's copies of urine drug test results (`uds_history.result_copies`) are found by key, not by comparing
each result from another server with every result: a patient with years of monthly screens from the EHR and each one
relayed back by the regional HIE (2,000 results) made about two million comparisons per page. Counted through a
seam (`_alike`, whose keys count their comparisons); the answers are the ones the existing copy tests pin."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import date, timedelta
from typing import Any

import pytest
from builders import patient, run
from test_check_unexpected_uds import COCAINE, OXYCODONE_SCREEN
from test_hie_relay import EPIC, HIE, _entry, _searchset
from test_relayed2_uds_history_copies import result

from guideline.plan import uds_history

FIRST_DAY = date(2025, 2, 1)  # the 500th day is today (2026-06-15)
DAYS = 500  # two tests a day, each sent by the EHR and again by the HIE: 2,000 results


class Counted:
    """A copy key that counts how often it is compared (the seam the test reads)."""

    compared = 0

    def __init__(self, key: Hashable) -> None:
        self.key = key

    def __eq__(self, other: object) -> bool:
        Counted.compared += 1
        return isinstance(other, Counted) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


def history() -> Any:
    """Day-only results (Epic's `effectiveDateTime` "2025-02-01": no instant ties a copy for sure, so each HIE result
    is only alike to the EHR's, the path that compared every pair)."""
    ehr, hie = [], []
    for n in range(DAYS):
        day = (FIRST_DAY + timedelta(days=n)).isoformat()
        for code in (COCAINE, OXYCODONE_SCREEN):
            value = "Negative" if n % 7 else "Positive"
            ehr.append(result(f"eObs.{code}.{n}", code=code, when=day, value=value))
            hie.append(result(f"hObs.{code}.{n}", code=code, when=day, value=value))
    ours = _searchset(_entry(EPIC, patient()), *(_entry(EPIC, r) for r in ehr))
    theirs = _searchset(*(_entry(HIE, r) for r in hie))
    return run("patient-view", resources=[ours, theirs], fhir_server=EPIC, with_patient=False).facts


def test_two_thousand_results_are_keyed_not_compared_pairwise(monkeypatch: pytest.MonkeyPatch) -> None:
    facts = history()
    results = facts.uds_results
    assert len(results) == 4 * DAYS
    alike = uds_history._alike
    monkeypatch.setattr(uds_history, "_alike", lambda r: None if (key := alike(r)) is None else Counted(key))
    Counted.compared = 0
    notes, shown_once = uds_history.result_copies(results)
    # Each HIE result is a possible copy of the EHR's result of its test and day, and none is shown once.
    assert shown_once == set()
    assert len(notes) == 2 * DAYS
    one = next(r for r in results if r.observation.located == f"{HIE}/Observation/hObs.{COCAINE}.3")
    assert notes[id(one)] == (
        f"possibly the same result as eObs.{COCAINE}.3, sent by {HIE} as {HIE}/Observation/hObs.{COCAINE}.3 "
        "(both shown)"
    )
    # Pairwise, about 1,000 x 2,000 comparisons; by key, a few a result.
    assert Counted.compared <= 2 * len(results), Counted.compared
