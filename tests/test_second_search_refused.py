"""A server that refuses a second-date search's parameter (HAPI: HTTP 400 "Unknown search parameter"; a gateway: 200
with a warning that it did not understand it) has it asked once more without that date bound, so the fills dated
only by when they were prepared, and the results dated only by when they were issued, are read rather than named
missing on every call and every plan page. Before, each call named them ("... the FHIR server answered HTTP 400"):
permanent noise on that site, and the prepared-only 90 MME/day fill was never counted. Only a refusal is asked
again: 401, 403, 5xx and a timeout stay named as they were, and nothing is asked more than once more."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from builders import med_request, patient
from cds_support import OXYCODONE_10, hook_request, make_app, topics
from test_page_fetches_what_the_engine_reads import (
    SearchingFhir,
    _issued_only_screen,
    _prepared_only_fill,
    _total,
    _without_lab_results,
)
from test_plan import rich_patient
from test_plan_view import FHIR, _app, _open_plan

from guideline.searches import FILLS_PREPARED, RESULTS_ISSUED, ask_again

DATED = {"prefetch": {"dated": True}}
FILLS_GAP = "pharmacy dispensing records dated only by when they were prepared"
RESULTS_GAP = "laboratory results (urine drug tests) dated only by when they were issued"


def _hapi_unknown(name: str, kind: str) -> dict[str, Any]:
    """HAPI FHIR's answer to a search parameter it does not know (HTTP 400)."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "processing",
                "diagnostics": f'HAPI-0488: Unknown search parameter "{name}" for resource type "{kind}". '
                "Valid search parameters for this search are: [_id, _lastUpdated, patient, status]",
            }
        ],
    }


def _ignored_warning(name: str) -> dict[str, Any]:
    """A gateway's 200 answer that ran nothing: an empty searchset and a warning that it did not know the parameter."""
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "warning",
                "code": "not-supported",
                "details": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/operation-outcome",
                            "code": "MSG_PARAM_UNKNOWN",
                        }
                    ],
                    "text": f'Parameter "{name}" not understood',
                },
            }
        ],
    }
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": outcome, "search": {"mode": "outcome"}}],
    }


class RefusingFhir(SearchingFhir):
    """SearchingFhir answering any search that names one parameter (`name`) with `status` and `body`."""

    def __init__(
        self, rsps: responses.RequestsMock, resources: list[dict[str, Any]], name: str, status: int, body: Any
    ):
        super().__init__(rsps, resources)
        self.name, self.status, self.body = name, status, body

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        if self.name in parse_qs(urlsplit(request.url).query):
            self.requests.append((request.url, dict(request.headers)))
            return self.status, {}, json.dumps(self.body)
        return super()._answer(request)

    def asked(self, kind: str) -> list[str]:
        return [url for url, _ in self.requests if f"/{kind}?" in url]


def _fill_server(rsps: responses.RequestsMock, status: int = 400, body: Any = None) -> RefusingFhir:
    body = _hapi_unknown("whenprepared", "MedicationDispense") if body is None else body
    return RefusingFhir(rsps, [patient(patient_id="p1"), _prepared_only_fill()], "whenprepared", status, body)


def _lab_resources() -> list[dict[str, Any]]:
    resources = [*_without_lab_results(rich_patient()), _issued_only_screen()]
    for r in resources:
        r.setdefault("subject", {"reference": "Patient/p1"})
    return resources


def _hook(server_factory: Any, tmp_path: Any) -> tuple[dict[str, Any], RefusingFhir]:
    """The order-sign call for oxycodone 10 mg twice a day (30 MME/day), dated, with no prefetch: every search is
    read from the server. With the prepared-only fill (90 MME/day) the total is high."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = server_factory(rsps)
        drafts = [med_request(OXYCODONE_10, draft=True, id="draft-oxy10", dose=1, period=12, supply_days=30)]
        body = hook_request("order-sign", drafts=drafts, prefetch={}, fhir=True) | {"fhirServer": FHIR}
        answer = make_app(tmp_path, guideline=DATED).test_client().post("/cds-services/order-sign", json=body)
    return answer.get_json(), server


def _page(server_factory: Any, tmp_path: Any) -> tuple[str, RefusingFhir]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = server_factory(rsps)
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    return html, server


def test_the_unbounded_search_of_each_second_date_keeps_the_rest_of_the_query() -> None:
    prepared = "MedicationDispense?patient=p1&whenprepared=ge2025-05-16&_count=100"
    assert FILLS_PREPARED.unbounded(prepared) == "MedicationDispense?patient=p1&_count=100"
    issued = "Observation?patient=p1&category=laboratory&_lastUpdated=ge2025-06-15"
    assert RESULTS_ISSUED.unbounded(issued) == "Observation?patient=p1&category=laboratory"
    assert FILLS_PREPARED.unbounded("MedicationDispense?patient=p1") is None  # no bound to take off


def test_hooks_read_the_prepared_fills_without_the_date_when_the_server_refuses_whenprepared(tmp_path: Any) -> None:
    answer, server = _hook(_fill_server, tmp_path)
    assert "high-mme" in topics(answer), topics(answer)  # the prepared-only 90 MME/day fill is counted
    assert FILLS_GAP not in json.dumps(answer)
    asked = server.asked("MedicationDispense")
    assert len(asked) == 3, asked  # handed over, prepared (refused), and once more without the date: no loop
    assert any("whenprepared" not in url and "whenhandedover" not in url for url in asked), asked


def test_hooks_read_the_issued_results_without_the_date_when_the_server_refuses_last_updated(tmp_path: Any) -> None:
    def factory(rsps: responses.RequestsMock) -> RefusingFhir:
        return RefusingFhir(rsps, _lab_resources(), "_lastUpdated", 400, _hapi_unknown("_lastUpdated", "Observation"))

    answer, server = _hook(factory, tmp_path)
    assert RESULTS_GAP not in json.dumps(answer)
    labs = [url for url in server.asked("Observation") if "category=laboratory" in url]
    assert len(labs) == 3, labs
    assert "unexpected-uds-result" in topics(answer), topics(answer)


def test_hooks_read_again_a_search_answered_with_a_parameter_not_understood_warning(tmp_path: Any) -> None:
    answer, server = _hook(lambda rsps: _fill_server(rsps, 200, _ignored_warning("whenprepared")), tmp_path)
    assert "high-mme" in topics(answer)
    assert FILLS_GAP not in json.dumps(answer)
    assert len(server.asked("MedicationDispense")) == 3


class BothRefused(RefusingFhir):
    """A server refusing every dispense search but the one on `whenhandedover`: asked without its date, the second
    search is refused again."""

    def __init__(self, rsps: responses.RequestsMock) -> None:
        super().__init__(rsps, [patient(patient_id="p1"), _prepared_only_fill()], "whenprepared", 400, {})

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url).query)
        if "/MedicationDispense?" in request.url and "whenhandedover" not in query:
            self.requests.append((request.url, dict(request.headers)))
            return 400, {}, json.dumps(_hapi_unknown("whenprepared", "MedicationDispense"))
        return super()._answer(request)


class TimingOut(RefusingFhir):
    """A server whose prepared-date search never answers in time."""

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        if self.name in parse_qs(urlsplit(request.url).query):
            self.requests.append((request.url, dict(request.headers)))
            raise requests.ReadTimeout("read timed out")
        return super()._answer(request)


def test_hooks_name_the_fills_when_the_search_without_the_date_fails_too(tmp_path: Any) -> None:
    answer, server = _hook(BothRefused, tmp_path)
    text = json.dumps(answer)
    assert FILLS_GAP in text and "asked again without its date bound" in text
    assert "high-mme" not in topics(answer)
    assert len(server.asked("MedicationDispense")) == 3  # once more, never again


def test_hooks_do_not_ask_again_a_search_that_timed_out(tmp_path: Any) -> None:
    def factory(rsps: responses.RequestsMock) -> RefusingFhir:
        return TimingOut(rsps, [patient(patient_id="p1"), _prepared_only_fill()], "whenprepared", 0, {})

    answer, server = _hook(factory, tmp_path)
    assert FILLS_GAP in json.dumps(answer)
    assert len(server.asked("MedicationDispense")) == 2


@pytest.mark.parametrize("status", [401, 403, 500, 503])
def test_hooks_do_not_ask_again_what_was_refused_for_access_or_failed(tmp_path: Any, status: int) -> None:
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "forbidden"}]}
    answer, server = _hook(lambda rsps: _fill_server(rsps, status, outcome), tmp_path)
    assert FILLS_GAP in json.dumps(answer)
    assert f"HTTP {status}" in json.dumps(answer)
    assert len(server.asked("MedicationDispense")) == 2


def test_the_plan_page_reads_the_prepared_fills_without_the_date_when_the_server_refuses_whenprepared(
    tmp_path: Any,
) -> None:
    html, server = _page(_fill_server, tmp_path)
    assert _total(html).startswith("90.0 MME/day"), _total(html)
    assert "Pharmacy dispenses (2 years): 1 item" in html
    assert "fills dated only by when they were prepared" not in html
    assert len(server.asked("MedicationDispense")) == 3


def test_the_plan_page_reads_the_issued_results_without_the_date_when_the_server_refuses_last_updated(
    tmp_path: Any,
) -> None:
    def factory(rsps: responses.RequestsMock) -> RefusingFhir:
        return RefusingFhir(rsps, _lab_resources(), "_lastUpdated", 400, _hapi_unknown("_lastUpdated", "Observation"))

    html, server = _page(factory, tmp_path)
    assert "cocaine" in html.lower()
    assert "results dated only by when they were issued" not in html
    assert len([url for url in server.asked("Observation") if "category=laboratory" in url]) == 3


@pytest.mark.parametrize("status", [403, 500])
def test_the_plan_page_does_not_ask_again_what_was_refused_for_access_or_failed(tmp_path: Any, status: int) -> None:
    html, server = _page(lambda rsps: _fill_server(rsps, status, {}), tmp_path)
    assert f"fills dated only by when they were prepared: the FHIR server answered HTTP {status}" in html
    assert len(server.asked("MedicationDispense")) == 2


def test_the_plan_page_names_the_fills_when_the_search_without_the_date_fails_too(tmp_path: Any) -> None:
    html, server = _page(BothRefused, tmp_path)
    assert (
        "fills dated only by when they were prepared: the FHIR server answered HTTP 400; asked again without its "
        "date bound, the FHIR server answered HTTP 400" in html
    )
    assert len(server.asked("MedicationDispense")) == 3


def test_the_card_and_the_plan_page_name_a_failed_retry_in_the_same_words(tmp_path: Any) -> None:
    # One rule, one sentence (guideline.searches.ask_again): the card's gap and the page's panel say the same.
    refused = "the FHIR server answered HTTP 400"
    retry = ask_again(FILLS_PREPARED, "MedicationDispense?patient=p1&whenprepared=ge2024-06-15&_count=100", refused)
    assert retry is not None and retry.query == "MedicationDispense?patient=p1&_count=100"
    sentence = retry.failed(refused)
    assert sentence == f"{refused}; asked again without its date bound, {refused}"
    card, _ = _hook(BothRefused, tmp_path)
    html, _ = _page(BothRefused, tmp_path)
    assert f"{FILLS_GAP}: {sentence}" in json.dumps(card)
    assert f"fills dated only by when they were prepared: {sentence}" in html


def test_a_retry_with_no_date_bound_to_take_off_is_not_asked() -> None:
    assert ask_again(FILLS_PREPARED, "MedicationDispense?patient=p1&_count=100", "refused") is None
