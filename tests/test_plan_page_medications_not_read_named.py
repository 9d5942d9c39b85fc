"""The data-completeness panel names each Medication an order names that could not be read, by its reference (the
first few, then "and N more"), as the places of recent visits are named: "1 of 1 could not be read" alone left the
clinician no way to tell which order's medicine the page did not know."""

from __future__ import annotations

from typing import Any

import responses
from builders import patient
from test_medication_reads import epic_order, panel_row
from test_plan_page_caveats import _section
from test_plan_view import FakeFhir, _app, _open_plan

from guideline.words import FIRST_LISTED

BROKEN = "Medication/eMd.oxy5-broken"  # the server answers 500
GONE = "Medication/eMd.oxy5-gone"  # the server answers 404


class FailingMedications(FakeFhir):
    """An Epic-like server that answers the read of BROKEN with HTTP 500 (and of a Medication it lacks with 404)."""

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        if request.url.endswith(f"/{BROKEN}"):
            self.requests.append((request.url, dict(request.headers)))
            return 500, {}, '{"resourceType": "OperationOutcome"}'
        return super()._answer(request)


def page(tmp_path: Any, references: list[str]) -> str:
    """The plan page for a patient with one active order naming each reference as its medicine."""
    orders = [epic_order(f"ord-{i}", ref) for i, ref in enumerate(references)]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FailingMedications(rsps, [patient(), *orders])
        return _open_plan(_app(tmp_path)).get_data(as_text=True)


def test_each_medication_not_read_is_named_by_its_reference(tmp_path: Any) -> None:
    # Before: "Failed: 2 of 2 could not be read", naming neither.
    html = page(tmp_path, [GONE, BROKEN])
    row = panel_row(html, "Medication details")
    assert 'class="failed"' in row
    assert (
        "Failed: 2 of 2 could not be read; "  # in the order read: the newest order's first (here both today's)
        f"{GONE}: the FHIR server answered HTTP 404; {BROKEN}: the FHIR server answered HTTP 500</td>"
    ) in row
    # The alerts read the panel's line, so they name them too.
    assert f"Medication details: 2 of 2 could not be read; {GONE}: the FHIR server answered HTTP 404" in _section(
        html, "alerts"
    )


def test_past_the_first_few_the_rest_are_counted(tmp_path: Any) -> None:
    references = [f"Medication/eMd.gone-{i}" for i in range(FIRST_LISTED + 2)]
    row = panel_row(page(tmp_path, references), "Medication details")
    listed = [ref for ref in references if f"{ref}: the FHIR server answered HTTP 404" in row]
    assert len(listed) == FIRST_LISTED
    assert row.endswith("; and 2 more</td></tr>")
    assert f"{FIRST_LISTED + 2} of {FIRST_LISTED + 2} could not be read; " in row
