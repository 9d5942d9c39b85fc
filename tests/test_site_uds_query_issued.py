"""A site's own urine drug test search (`prefetch.uds_query`) bounded by `date` finds results by effective[x] alone,
but the engine dates a result by effective[x], else `issued`: the card and the plan page ask it again on
`_lastUpdated`, as they ask the laboratory search, so a screen a reference lab files with only `issued` is read."""

from __future__ import annotations

import re
from typing import Any

import responses
from cds_support import hook_request, make_app, topics
from test_page_fetches_what_the_engine_reads import SearchingFhir, _issued_only_screen, _without_lab_results
from test_plan import rich_patient
from test_plan_view import FHIR, _app, _open_plan

from guideline.config import GuidelineConfig

# A site whose interface files urine drug screens by code, bounded in time by the result's date.
SITE_QUERY = (
    "Observation?patient={{context.patientId}}&code=http://loinc.org|14314-9,http://loinc.org|19295-5"
    "&date=ge{{today() - 13 months}}"
)
SITE = {"prefetch": {"uds_query": SITE_QUERY}}


def _resources() -> list[dict[str, Any]]:
    resources = [*_without_lab_results(rich_patient()), _issued_only_screen()]
    for r in resources:
        r.setdefault("subject", {"reference": "Patient/p1"})
    return resources


def test_the_hooks_ask_the_sites_search_again_on_when_the_result_was_last_updated() -> None:
    from cds_hooks.services import templates

    for settings in (SITE, {"prefetch": {**SITE["prefetch"], "dated": True}}):
        asked = templates("patient-view", GuidelineConfig.from_mapping(settings))
        assert asked["udsLabs"] == SITE_QUERY
        assert asked["udsLabsIssued"] == SITE_QUERY.replace("&date=", "&_lastUpdated="), settings


def test_a_sites_search_with_no_date_bound_has_no_second_search() -> None:
    from cds_hooks.services import templates

    undated = "Observation?patient={{context.patientId}}&code=http://loinc.org|14314-9"
    asked = templates("patient-view", GuidelineConfig.from_mapping({"prefetch": {"uds_query": undated}}))
    assert asked["udsLabs"] == undated and "udsLabsIssued" not in asked


def test_the_card_reads_a_screen_dated_only_by_when_it_was_issued_through_the_sites_search(tmp_path: Any) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = SearchingFhir(rsps, _resources())
        body = hook_request("patient-view", prefetch={}, fhir=True) | {"fhirServer": FHIR}
        answer = make_app(tmp_path, guideline=SITE).test_client().post("/cds-services/patient-view", json=body)
    assert "unexpected-uds-result" in topics(answer.get_json())
    asked = [url for url, _ in server.requests if "code=http" in url and "14314-9" in url]
    assert any("_lastUpdated=ge2025-05-15" in url for url in asked), asked


def test_the_page_reads_a_screen_dated_only_by_when_it_was_issued_through_the_sites_search(tmp_path: Any) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = SearchingFhir(rsps, _resources())
        html = _open_plan(_app(tmp_path, guideline=SITE)).get_data(as_text=True)
    text = re.sub(r"<[^>]+>|\s+", " ", html)
    assert "cocaine" in text.lower() and "Urine drug test — none on record" not in text
    asked = [url for url, _ in server.requests if "14314-9" in url]
    assert any("&date=ge2025-05-15" in url for url in asked), asked
    assert any("_lastUpdated=ge2025-05-15" in url for url in asked), asked
    assert "Urine drug test results (this site&#39;s search): 1 item" in text  # the two answers, one line
