"""The plan page end to end in Flask: launch, bounded FHIR reads (mocked with responses), engine, rendered HTML."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from builders import patient
from launch_support import PUBLIC_URL, make_app
from test_plan import OXYCODONE_5, rich_patient

FHIR = "https://ehr.example.org/fhir/r4"
TOKEN = "plan-view-secret-token"


def _bundle(resources: list[dict[str, Any]], next_url: str | None = None) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


class FakeFhir:
    """Answers each search with the fixture resources of that type; records what was asked."""

    def __init__(self, rsps: responses.RequestsMock, resources: list[dict[str, Any]]) -> None:
        self.resources = resources
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.fail: set[str] = set()
        self.endless: set[str] = set()
        rsps.add_callback(responses.GET, re.compile(re.escape(FHIR) + r"/.*"), callback=self._answer)

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        import json

        url = urlsplit(request.url)
        path = url.path[len(urlsplit(FHIR).path) + 1 :]
        self.requests.append((request.url, dict(request.headers)))
        kind = path.split("/")[0]
        if kind in self.fail:
            return 500, {}, "{}"
        if "/" in path:  # an instance read such as Patient/p1 or Medication/m1
            found = next((r for r in self.resources if f"{r['resourceType']}/{r.get('id')}" == path), None)
            return (200, {}, json.dumps(found)) if found else (404, {}, "{}")
        params = parse_qs(url.query)
        matching = [r for r in self.resources if r["resourceType"] == kind]
        if kind == "Observation":
            category = params.get("category", [None])[0]
            matching = [r for r in matching if category is None or category in json.dumps(r.get("category"))]
        if kind == "MedicationRequest" and params.get("status") == ["active"]:
            matching = [r for r in matching if r.get("status") == "active"]
        next_url = f"{FHIR}/{kind}?page=again" if kind in self.endless else None
        return 200, {}, json.dumps(_bundle(matching, next_url))


@pytest.fixture
def fhir() -> Iterator[FakeFhir]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeFhir(rsps, rich_patient())


def _app(tmp_path: Any, **overrides: Any):
    from launch.session import begin_trusted_launch

    app = make_app(tmp_path, [], today=date(2026, 6, 15), **overrides)

    @app.get("/_ehr_opens_plan")
    def _opens() -> Any:
        from flask import request

        return begin_trusted_launch(
            iss=FHIR, patient_id="p1", access_token=TOKEN, app_context={"view": request.args.get("view", "plan")}
        )

    return app


def _open_plan(app: Any, **params: str) -> Any:
    client = app.test_client()
    launched = client.get("/_ehr_opens_plan", base_url=PUBLIC_URL)
    assert launched.status_code == 303
    handle = parse_qs(urlsplit(launched.headers["Location"]).query)["s"][0]
    return client.get("/plan", query_string={"s": handle, **params}, base_url=PUBLIC_URL)


def test_plan_page_shows_each_section_from_the_fhir_data(tmp_path: Any, fhir: FakeFhir) -> None:
    response = _open_plan(_app(tmp_path))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Alex Rivera" in html and "MRN-4471" in html and "1958-03-02" in html
    assert '<strong id="total-mme">60.0 MME/day</strong>' in html
    assert "Overdue" in html and "PDMP review" in html
    assert "lorazepam" in html.lower() and "Sleep-disordered breathing" in html
    assert "<svg" in html and "Daily MME over the past 12 months" in html
    assert "Unexpected:" in html and "cocaine" in html
    assert "Physical therapy" in html and "DSM-5 criteria" in html
    assert 'id="taper-table"' in html and "FindTreatment.gov" in html
    assert 'id="note-text"' in html and "Total opioid dose: 60.0 MME/day" in html
    assert "This section could not be built" not in html
    assert TOKEN not in html


def test_fhir_reads_are_date_limited_authorised_and_parallel_safe(tmp_path: Any, fhir: FakeFhir) -> None:
    _open_plan(_app(tmp_path))
    urls = [url for url, _ in fhir.requests]
    assert all(headers.get("Authorization") == f"Bearer {TOKEN}" for _, headers in fhir.requests)
    assert any("MedicationRequest?patient=p1&authoredon=ge2024-06-15" in url for url in urls)
    assert any("category=laboratory&date=ge2025-05-15" in url for url in urls)
    assert any(url.endswith("/Patient/p1") for url in urls)


def test_security_headers_let_only_the_ehr_frame_the_page(tmp_path: Any, fhir: FakeFhir) -> None:
    response = _open_plan(_app(tmp_path))
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://ehr.example.org" in policy
    assert "script-src 'self'" in policy
    assert response.headers["Cache-Control"] == "no-store"


def test_without_a_launch_the_page_asks_to_relaunch(tmp_path: Any) -> None:
    response = _app(tmp_path).test_client().get("/plan", base_url=PUBLIC_URL)
    assert response.status_code == 400  # no launch handle at all: a bad request, not an expired one
    assert "Open the pain treatment plan again from the patient" in response.get_data(as_text=True)


def test_failed_search_says_which_data_is_missing(tmp_path: Any, fhir: FakeFhir) -> None:
    fhir.fail.add("Observation")
    html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert "Some data could not be read" in html
    assert "Laboratory results (13 months) could not be read (the FHIR server answered HTTP 500)" in html
    # The section still renders, and never says "no results" of a search it could not read.
    assert "No urine drug test found in the data read; not known whether one was done" in html
    assert "No urine drug test results in the past 13 months." not in html
    assert '<strong id="total-mme">60.0 MME/day</strong>' in html


def test_truncated_search_shows_the_cut_off_notice(tmp_path: Any, fhir: FakeFhir) -> None:
    fhir.endless.add("Condition")
    app = _app(tmp_path, guideline={"prefetch": {"page_cap": 2}})
    html = _open_plan(app).get_data(as_text=True)
    assert "Some searches were cut off" in html and "Conditions" in html
    assert "Cut off at the page limit" in html
    assert sum(1 for url, _ in fhir.requests if "/Condition" in url) == 2


def test_taper_form_recalculates_from_get_parameters(tmp_path: Any, fhir: FakeFhir) -> None:
    html = _open_plan(_app(tmp_path), rate="25", interval="week", basis="original").get_data(as_text=True)
    assert "reduce by 25 % of the starting dose every week" in html
    assert "faster than 10 % per week" in html
    assert "<td>2026-06-22</td>" in html and "45.0" in html


def test_oud_checklist_is_scored_on_the_server_without_javascript(tmp_path: Any, fhir: FakeFhir) -> None:
    response = _open_plan(_app(tmp_path), oud=["craving", "cut-down", "time-spent", "role-failure"])
    html = response.get_data(as_text=True)
    assert "4 of 11 criteria: moderate opioid use disorder criteria met" in html
    assert 'id="oud-craving" name="oud" value="craving" data-exempt="no" checked' in html


def test_medication_references_are_read_so_the_order_counts(tmp_path: Any) -> None:
    order = {
        "resourceType": "MedicationRequest",
        "id": "ref-order",
        "status": "active",
        "intent": "order",
        "authoredOn": "2026-06-10",
        "medicationReference": {"reference": "Medication/m-oxy"},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}],
            }
        ],
        "dispenseRequest": {"expectedSupplyDuration": {"value": 30, "code": "d"}},
    }
    medication = {
        "resourceType": "Medication",
        "id": "m-oxy",
        "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": OXYCODONE_5}]},
    }
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeFhir(rsps, [patient(), order, medication])
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert any(url.endswith("/Medication/m-oxy") for url, _ in fake.requests)
    assert '<strong id="total-mme">30.0 MME/day</strong>' in html


def test_a_card_link_view_brings_its_section_into_focus(tmp_path: Any, fhir: FakeFhir) -> None:
    client = _app(tmp_path).test_client()
    launched = client.get("/_ehr_opens_plan", query_string={"view": "uds"}, base_url=PUBLIC_URL)
    handle = parse_qs(urlsplit(launched.headers["Location"]).query)["s"][0]
    html = client.get("/plan", query_string={"s": handle}, base_url=PUBLIC_URL).get_data(as_text=True)
    assert '<section id="uds" class="section focused"' in html
    assert html.count("section focused") == 1


def test_the_plan_page_shows_program_methadone_as_not_counted(tmp_path: Any) -> None:
    from test_oud_methadone import NOT_COUNTED, program_methadone

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, [patient(), program_methadone()])
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert '<strong id="total-mme">0 MME/day (methadone for opioid use disorder is not counted)</strong>' in html
    assert "<h3>Not counted in MME</h3>" in html and NOT_COUNTED in html
    assert "Methadone for opioid use disorder supplied on 15 days (not counted in MME" in html
    assert "470.0" not in html


def test_the_plan_page_says_which_fill_was_sent_twice_and_read_once(tmp_path: Any) -> None:
    # The EHR shows two fills where the page lists one: the Epic fill and an HIE gateway's copy of it under another
    # id. The page says which copy it left out, for a current fill in the fills table and for an earlier fill the
    # table does not list (its copy still shaped the dose history), and names neither as data not read.
    from test_fills_sent_twice import epic_dispense, gateway_copy

    current = epic_dispense(whenHandedOver="2026-06-10T15:32:00Z")
    earlier = epic_dispense(
        "eH3pQ0sLw5Yb",
        identifier=[{"use": "usual", "system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.798268", "value": "4471888-00"}],
        whenHandedOver="2026-04-06T15:10:00Z",
    )
    chart = [patient(), current, gateway_copy(current), earlier, gateway_copy(earlier, "hie-gw-md-20260406-5512")]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, chart)
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert '<strong id="total-mme">90.0 MME/day from pharmacy fills</strong>' in html
    table = html[html.index('id="fills-table"') : html.index("</table>", html.index('id="fills-table"'))]
    assert "also sent as hie-gw-MedicationDispense-20260610-7781 (read once)" in table
    notice = html[html.index('id="fills-read-once"') :].split("</p>")[0]
    assert "eH3pQ0sLw5Yb" in notice and "filled 2026-04-06" in notice
    assert "also sent as hie-gw-md-20260406-5512 (read once)" in notice
    assert "eZ8m1kq0Rb3sT6vXyA2dFhg3" not in notice  # listed in the table already
    assert html.count("hie-gw-MedicationDispense-20260610-7781") == 1
    assert html.count("hie-gw-md-20260406-5512") == 1
