"""A Location read of the plan page that hangs or fails: the page still answers inside its reads' deadline (twice
`fhir_timeout`), every other read still counts, and the place not read is named with why on the data-completeness
panel and in the Alerts section, never read as "not in hospice"."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests
import responses
from builders import med_request, patient
from test_hospice_place_reads import EPIC_LOCATION, epic_location, epic_place
from test_hospice_point_of_care import epic_stay_at
from test_plan_page_caveats import _section
from test_plan_view import FakeFhir, _app, _open_plan

from guideline.plan.alerts import INCOMPLETE_SUMMARY

OXYCODONE = "1049621"  # oxycodone 5 mg oral tablet (SCD)
PERCOCET_MEDICATION = "eMed.percocet"  # an Epic order naming its drug by Medication reference, read in the same round
NOT_APPLICABLE = "Not applicable: receiving hospice or palliative care"
PLACES = "Places of recent visits (whether a stay was at a hospice)"
FHIR_TIMEOUT = 0.5  # the page's reads' deadline is twice this: 1 s
DEADLINE = 2 * FHIR_TIMEOUT
# The page's second round (Medication, result and Location reads) is given at least 0.5 s; rendering on a loaded
# test machine takes a second or two more. A read that held the page would take HANG seconds.
SLACK = 3.0
HANG = 30.0


class PlacesHang(FakeFhir):
    """The Epic server of the other plan-page tests, whose Location reads hang (until released) or fail."""

    def __init__(self, rsps: responses.RequestsMock, resources: list[dict[str, Any]], how: str) -> None:
        self.how = how
        self.release = threading.Event()
        super().__init__(rsps, resources)

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        if "/Location/" not in request.url:
            return super()._answer(request)
        self.requests.append((request.url, dict(request.headers)))
        if self.how == "hang":
            self.release.wait(HANG)
            return 200, {}, "{}"
        if self.how == "refused":
            raise requests.ConnectionError("connection reset by peer")
        return 503, {}, '{"resourceType": "OperationOutcome"}'


def percocet_order() -> dict[str, Any]:
    """A current Epic order whose drug is only a Medication reference: read in the round the Locations are."""
    order = med_request(OXYCODONE, authored="2026-06-05T09:00:00-04:00", supply_days=30)
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": f"Medication/{PERCOCET_MEDICATION}", "display": "PERCOCET 5-325 MG"}
    return order


def percocet() -> dict[str, Any]:
    return {
        "resourceType": "Medication",
        "id": PERCOCET_MEDICATION,
        "code": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "1049640",
                    "display": "oxycodone HCl 5 MG / acetaminophen 325 MG Oral Tablet [Percocet]",
                }
            ],
            "text": "PERCOCET 5-325 MG PER TABLET",
        },
    }


def open_page(tmp_path: Any, how: str, app: Any = None) -> tuple[str, float, PlacesHang]:
    resources = [patient(patient_id="p1"), percocet_order(), percocet(), epic_stay_at("p1", epic_place())]
    app = app or _app(tmp_path, fhir_timeout=FHIR_TIMEOUT)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fhir = PlacesHang(rsps, resources, how)
        started = time.monotonic()
        try:
            html = _open_plan(app).get_data(as_text=True)
        finally:
            elapsed = time.monotonic() - started
            fhir.release.set()  # the abandoned read's thread ends here, not HANG seconds later
    return html, elapsed, fhir


def location_reads(fhir: FakeFhir) -> list[str]:
    return [url for url, _ in fhir.requests if "/Location/" in url]


@pytest.mark.parametrize(
    ("how", "why"),
    [
        ("hang", "timed out"),
        ("refused", "could not connect to the FHIR server"),
        ("unavailable", "the FHIR server answered HTTP 503"),
    ],
)
def test_a_location_read_that_hangs_or_fails_is_named_and_the_page_answers_in_time(
    tmp_path: Any, how: str, why: str
) -> None:
    html, elapsed, fhir = open_page(tmp_path, how)
    assert elapsed < DEADLINE + SLACK, elapsed
    assert len(location_reads(fhir)) == 1
    # The data-completeness panel's line: the place, by reference, with why.
    assert f'<td>{PLACES}</td><td class="num">1</td><td>Incomplete: 1 not read; Location/{EPIC_LOCATION}: {why}' in html
    # Not read is not "not in hospice": the steps are not called not applicable, and the alerts say they may be
    # incomplete for it, while the Medication read in the same round still counts (4 tablets a day: 30 MME/day).
    assert NOT_APPLICABLE not in html
    alerts = _section(html, "alerts")
    assert INCOMPLETE_SUMMARY in alerts and f"{PLACES}: 1 not read; Location/{EPIC_LOCATION}: {why}" in alerts
    assert '<strong id="total-mme">30.0 MME/day</strong>' in html


def test_a_location_read_that_timed_out_is_asked_again_on_the_next_page(tmp_path: Any) -> None:
    # Only "no such Location" is remembered: a read that hung says nothing of the place, so the next page (here the
    # same app, whose Location cache is shared) reads it again, and reads it as hospice once the server answers.
    app = _app(tmp_path, fhir_timeout=FHIR_TIMEOUT)
    open_page(tmp_path, "hang", app)
    resources = [patient(patient_id="p1"), percocet_order(), percocet(), epic_stay_at("p1", epic_place())]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fhir = FakeFhir(rsps, [*resources, epic_location()])
        html = _open_plan(app).get_data(as_text=True)
    assert len(location_reads(fhir)) == 1
    assert NOT_APPLICABLE in html
    assert PLACES not in html


def test_the_hook_s_location_read_that_hangs_is_named_and_the_cards_come_in_time(tmp_path: Any) -> None:
    # The card's side of the same rule: the hook's read deadline is `fhir_timeout` itself (one budget for the call).
    from builders import PATIENT_ID
    from cds_support import FHIR as HOOK_FHIR
    from cds_support import bundle, full_prefetch, hook_request, oxycodone_draft
    from cds_support import make_app as hook_app
    from test_hospice_place_reads import incomplete
    from test_hospice_point_of_care import OPIOID_CARDS

    release = threading.Event()

    def hangs(request: Any) -> tuple[int, dict[str, str], str]:
        release.wait(HANG)
        return 200, {}, "{}"

    encounters = bundle(epic_stay_at(PATIENT_ID, epic_place()))
    body = hook_request(
        drafts=[oxycodone_draft()], prefetch=full_prefetch("order-sign", encounters=encounters), fhir=True
    )
    app = hook_app(tmp_path, fhir_timeout=FHIR_TIMEOUT)
    # Not asserted fired: `responses` records a call only once its callback returns, after this block here.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.GET, f"{HOOK_FHIR}/Location/{EPIC_LOCATION}", callback=hangs)
        started = time.monotonic()
        try:
            answer = app.test_client().post("/cds-services/order-sign", json=body)
        finally:
            elapsed = time.monotonic() - started
            release.set()
    assert elapsed < FHIR_TIMEOUT + SLACK, elapsed
    assert answer.status_code == 200
    topics = {card["source"]["topic"]["code"] for card in answer.json["cards"]}
    assert topics == OPIOID_CARDS | {"data-incomplete"}  # not read is not "in hospice": every card still comes
    assert f"Location/{EPIC_LOCATION}: timed out" in incomplete(answer.json)
