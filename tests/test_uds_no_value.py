"""A urine drug test result that carries no value at all is no test read. Settled (final, amended, corrected) with
no value, flag, note, reason a value is absent or component with one, it counted as the year's test: for a patient
on long-term opioids whose only test was one, the `urine-drug-test` card was quiet and the tile said up to date on a
result the record does not carry. It is now a test that could not be read, named as such on the card, the tile, the
note and the history. A panel heading whose preliminary members await theirs is found among the results once per
reading, not by a scan of every result per heading."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from builders import LOINC, patient, run
from test_uds_card_result_pending import LAB, OPIATES, PANEL

from guideline.uds import awaiting_results
from guideline.uds import tests_done as counted_by_the_review

CHECK_ID = "urine-drug-test"
DAY = "2026-06-01"  # two weeks before the tests' today, 2026-06-15


def _epic(code: str, display: str, ident: str, status: str = "final", **value: Any) -> dict[str, Any]:
    """Epic Beaker: a urine drug test result of `status` with `value` (none: nothing but its name and times)."""
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": status,
        "category": [LAB],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": f"{DAY}T09:14:00-05:00",
        "issued": f"{DAY}T11:02:00Z",
        **value,
    }


# -- work: a hostile body of preliminary panel headings ------------------------------------------------------------


class _Walked(tuple):  # type: ignore[type-arg]
    """The record's results, counting each walk through them."""

    walks = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        type(self).walks += 1
        return super().__iter__()


def test_preliminary_panel_headings_are_read_in_a_fixed_number_of_walks() -> None:
    # Each heading looked for its members by walking every result: n headings were n walks, O(n²) in all.
    headings = 200
    resources: list[dict[str, Any]] = []
    for n in range(headings):
        resources.append(_epic(*PANEL, f"P{n}", "preliminary", hasMember=[{"reference": f"Observation/M{n}"}]))
        resources.append(_epic(*OPIATES, f"M{n}", "preliminary"))
    evaluation = run("patient-view", resources=[patient(), *resources])
    record, terms = evaluation.facts.record, evaluation.facts.terms
    _Walked.walks = 0
    walked = _Walked(record.observations)
    assert len(awaiting_results(replace(record, observations=walked), terms)) == 2 * headings
    assert counted_by_the_review(walked, terms) == ()
    assert _Walked.walks <= 8
