"""A search's next-page link is followed with the bearer token only at or below fhirServer's base path."""

from __future__ import annotations

import json
import re

import pytest
import requests
import responses
from builders import patient
from cds_support import bundle as cds_bundle
from cds_support import hook_request, make_app

from cds_hooks.fhir_client import NEXT_PAGE_OUTSIDE, FhirClient
from guideline.fhirdata import on_server, path_on_server

BASE = "https://ehr.test/fhir"


def page(mid: str, next_url: str | None = None) -> dict:
    """A searchset page as Epic and Oracle send them: one active order, a self link and maybe a next link."""
    links = [{"relation": "self", "url": f"{BASE}/MedicationRequest?patient=p1"}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    entry = {"fullUrl": f"{BASE}/MedicationRequest/{mid}", "resource": {"resourceType": "MedicationRequest", "id": mid}}
    return {"resourceType": "Bundle", "type": "searchset", "link": links, "entry": [entry]}


def search(base: str, next_url: str):
    """Run one search whose first page links to `next_url`; the result and the URLs requested."""
    responses.get(f"{BASE}/MedicationRequest", json=page("m1", next_url))
    result = FhirClient(base, "tok-1", session=requests.Session()).fetch_all({"m": "MedicationRequest?patient=p1"}, 2)
    return result["m"], [call.request.url for call in responses.calls]


@pytest.mark.parametrize(
    "next_url",
    [
        "https://ehr.test/admin/export?page=2",  # same scheme and host, another path (another tenant's base)
        "https://ehr.test/fhirx/MedicationRequest?page=2",  # "/fhirx" is not under "/fhir"
        "https://ehr.test/fhir/../admin/export?page=2",  # climbs out of the base once normalised
        "https://ehr.test/fhir/%2e%2e/admin/export?page=2",  # the same, percent-encoded
        "https://ehr.test/fhir/%2E%2E/%2e%2e/admin?page=2",
        "https://ehr.test/?next=/fhir/MedicationRequest",  # the base path only in the query string
        # A gateway that decodes an encoded slash (or takes a backslash for one) climbs out of the base too.
        "https://ehr.test/fhir/..%2fadmin/export?page=2",
        "https://ehr.test/fhir/%2e%2e%2Fadmin/export?page=2",
        "https://ehr.test/fhir/..%5cadmin/export?page=2",
        "https://ehr.test/fhir/..\\admin/export?page=2",
    ],
)
@pytest.mark.parametrize("base", [BASE, BASE + "/"])
@responses.activate
def test_a_next_link_outside_the_base_path_is_refused_and_named(base, next_url):
    result, sent = search(base, next_url)
    assert sent == [f"{BASE}/MedicationRequest?patient=p1"], "the token went outside the FHIR base"
    assert not result.ok and result.error == NEXT_PAGE_OUTSIDE
    assert [r["id"] for r in result.resources] == ["m1"]


@pytest.mark.parametrize(
    "next_url",
    [
        f"{BASE}/MedicationRequest?patient=p1&_page=2",  # Epic/Oracle: the search again with a page token
        f"{BASE}?_getpages=abc&_getpagesoffset=1&_count=1",  # HAPI: the base itself with a paging query
        f"{BASE}/?_getpages=abc",
        "HTTPS://EHR.TEST:443/fhir/MedicationRequest?_page=2",  # case and the default port change nothing
        f"{BASE}/x/../MedicationRequest?_page=2",  # normalises to a path under the base
        f"{BASE}/_page/ab%2Fcd%2F%2F",  # an opaque page token holding an encoded slash stays below the base
    ],
)
@pytest.mark.parametrize("base", [BASE, BASE + "/"])
@responses.activate
def test_a_next_link_at_or_below_the_base_is_followed(base, next_url):
    responses.get(next_url, json=page("m2"))
    result, sent = search(base, next_url)
    assert result.ok, result.error
    assert [r["id"] for r in result.resources] == ["m1", "m2"] and len(sent) == 2


@responses.activate
def test_patient_view_names_the_refused_next_link_and_keeps_the_token_on_the_base(tmp_path):
    outside = "https://ehr.test/admin/export?page=2"

    def answer(request):
        if "/Patient/" in request.url:
            return 200, {}, json.dumps(patient())
        found = cds_bundle()
        if "/fhir/MedicationRequest" in request.url and "status=active" in request.url:
            found["link"] = [{"relation": "next", "url": outside}]
        return 200, {}, json.dumps(found)

    responses.add_callback(responses.GET, re.compile(r"https://ehr\.test/.*"), callback=answer)
    body = hook_request("patient-view", prefetch={}, fhir=True)
    response = make_app(tmp_path).test_client().post("/cds-services/patient-view", json=body)
    assert response.status_code == 200
    assert not [c for c in responses.calls if c.request.url.startswith("https://ehr.test/admin/")]
    said = json.dumps(response.json)
    assert f"active medication orders: {NEXT_PAGE_OUTSIDE}" in said  # on the data-incomplete card


def test_the_shared_rule_resolves_dot_steps_for_references_too():
    assert path_on_server(f"{BASE}/%2e%2e/admin/Medication/m1", BASE) is None
    assert path_on_server(f"{BASE}/x/../Medication/m1", BASE + "/") == "Medication/m1"
    assert not on_server("https://ehr.test/fhirx/Medication/m1", BASE)
