"""/metrics counts failed FHIR queries by a few fixed reasons: the HTTP status, or a word for what went wrong. Before,
the label was the failure's own words, so a search whose Bundle.total said more than it returned made a new series
for every count ("reported 250 results but returned 2", "... 251 ...") and /metrics grew without bound."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import responses
from cds_support import FHIR, bundle, make_app
from test_incomplete_analytics import sign_without_labs

from cds_hooks.fhir_client import _METRIC_REASONS, INCOMPLETE_ANSWER


def reasons(app) -> dict[str, float]:
    text = app.test_client().get("/metrics").get_data(as_text=True)
    found = re.findall(r'^painplan_fhir_failures_total\{reason="([^"]*)"\} (\S+)$', text, re.MULTILINE)
    return {reason: float(count) for reason, count in found}


def lab_search_answers(status: int, body: dict) -> None:
    def answer(request):
        if urlsplit(request.url).path.startswith("/fhir/Observation"):
            return status, {}, json.dumps(body)
        return 200, {}, json.dumps(bundle())

    responses.add_callback(responses.GET, re.compile(FHIR + "/.*"), callback=answer)


@responses.activate
def test_a_search_that_returned_less_than_its_total_is_counted_under_one_fixed_reason(tmp_path):
    short = {"resourceType": "Bundle", "type": "searchset", "total": 250, "entry": []}
    lab_search_answers(200, short)
    app = make_app(tmp_path)
    before = reasons(app)
    sign_without_labs(app)
    after = reasons(app)
    grown = {reason: after[reason] - before.get(reason, 0.0) for reason in after if after[reason] != before.get(reason)}
    assert set(grown) == {"incomplete answer"} and grown["incomplete answer"] >= 1
    # Every label is one of the fixed few: no count, no sentence ever becomes one.
    fixed = {*_METRIC_REASONS.values(), INCOMPLETE_ANSWER}
    assert all(reason in fixed or re.fullmatch(r"http \d{3}", reason) for reason in after), sorted(after)


@responses.activate
def test_an_http_error_is_counted_under_its_status(tmp_path):
    lab_search_answers(503, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "transient"}]})
    app = make_app(tmp_path)
    before = reasons(app).get("http 503", 0.0)
    sign_without_labs(app)
    assert reasons(app)["http 503"] >= before + 1
    assert not any("FHIR server" in reason for reason in reasons(app))  # a fixed word, not the card's sentence


def test_each_failure_the_client_words_has_its_own_fixed_reason():
    from cds_hooks.fhir_client import CUT_SHORT, NEXT_PAGE_OUTSIDE, TIMED_OUT, FetchResult, failure_reason

    def failed(error, status=None):
        return FetchResult("medsActive", "MedicationRequest?patient=p1", (), False, error, status=status)

    assert failure_reason(failed(CUT_SHORT)) == "cut short"
    assert failure_reason(failed(NEXT_PAGE_OUTSIDE)) == "outside the server"
    assert failure_reason(failed(TIMED_OUT)) == "timed out"
    assert failure_reason(failed("the FHIR server answered HTTP 401", 401)) == "http 401"
    assert failure_reason(failed("the FHIR server reported 250 results but returned 2")) == "incomplete answer"
