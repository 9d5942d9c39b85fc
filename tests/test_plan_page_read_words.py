"""The plan page's Alerts section names each read not made as the hook's data-incomplete card does: a line whose
status already says what was not read ("1 not read; …") is shown after its label, never inside "could not be read
(…)" a second time."""

from __future__ import annotations

from typing import Any

import responses
from builders import PATIENT_ID, med_request, patient
from test_plan_page_caveats import _section
from test_plan_view import FakeFhir, _app, _open_plan
from test_report_result_reads import FENTANYL, ON, ChartServer, _incomplete, _patient_view, chart

from guideline.plan.alerts import INCOMPLETE_SUMMARY
from guideline.report_results import REPORT_RESULTS

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet


def test_a_report_result_not_read_is_worded_on_the_page_in_the_cards_words(tmp_path: Any) -> None:
    # Before: the card said "results of urine drug test reports: 1 not read; Observation/…: …" and the page's
    # alerts "Results of urine drug test reports could not be read (1 of 3 not read; …)".
    resources = [r for r in chart() if r.get("id") != FENTANYL[0]]  # the fentanyl result: the server answers 404
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = ChartServer(rsps, resources)
        card = _incomplete(_patient_view(tmp_path / "hook", server))
        html = _open_plan(_app(tmp_path, guideline=ON)).get_data(as_text=True)
    (line,) = [line.removeprefix("- ") for line in card.splitlines() if line.startswith(f"- {REPORT_RESULTS}:")]
    assert line.startswith(f"{REPORT_RESULTS}: 1 not read; ") and "HTTP 404" in line

    alerts = _section(html, "alerts")
    assert INCOMPLETE_SUMMARY in alerts
    assert line[0].upper() + line[1:] in alerts
    assert "could not be read (1" not in html
    assert f"{line[0].upper() + line[1:].replace(':', ': 2 items,', 1)}</li>" in html  # what the section queried


def epic_order_naming_a_medication() -> dict[str, Any]:
    """An Epic outpatient order that names its product by a Medication resource the server cannot find."""
    order = med_request(OXYCODONE, id="eQ1wXc7TnB0-oxy5")
    order.pop("medicationCodeableConcept", None)
    order["medicationReference"] = {"reference": "Medication/eMd.oxy5-gone", "display": "oxyCODONE 5 mg tablet"}
    return order


def test_a_medication_not_read_is_named_once_on_the_page(tmp_path: Any) -> None:
    # Before: "Medication details could not be read (1 of 1 could not be read); this section may be incomplete."
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, [patient(patient_id=PATIENT_ID), epic_order_naming_a_medication()])  # the Medication: 404
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)

    named = "1 of 1 could not be read; Medication/eMd.oxy5-gone: the FHIR server answered HTTP 404"
    assert f"Medication details: {named}" in _section(html, "alerts")
    assert f"Medication details: {named}; this section may be incomplete." in html
    assert "could not be read (1 of 1" not in html
    assert f"Medication details: 0 items, {named}</li>" in html  # what the section queried
    assert "failed (1 of 1 could not be read)" not in html
