"""One prescriber whether the EHR prefetched the orders' search or the hook read it itself. When the prefetch leaves
the orders out (a site with no `medsActive` prefetch, or one the EHR did not fill), the hook searches the FHIR server
for them; a gateway's searchset names the renewal's requester as `urn:uuid:…`, the fullUrl of the Practitioner entry
the search includes (`_include=MedicationRequest:requester`). The prefetch's Bundles were kept for who a `urn:uuid:`
actor is, the pages the hook read were not: the urn named nobody, Dr Adams was two prescribers and her own renewal
retired nothing (120 MME/day for 60, "another prescriber's" on the card)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import responses
from cds_support import FHIR, hook_request, make_app
from test_identity3_actor_references import DR_ADAMS_URL, adams
from test_identity4_prefetch_actors import ADAMS, prefetch


def high_mme_fetched(tmp_path: Path, page: dict[str, Any]) -> str:
    """The high-MME card's detail for a patient-view call whose prefetch lacks the orders, read from the server."""
    values = prefetch(ADAMS, (DR_ADAMS_URL, adams()))
    page = page or values["medsActive"]
    del values["medsActive"]
    body = hook_request("patient-view", prefetch=values, fhir=True)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(re.compile(re.escape(f"{FHIR}/MedicationRequest") + r".*"), json=page)
        mock.get(re.compile(re.escape(FHIR) + r"/.*"), json={"resourceType": "Bundle", "type": "searchset"})
        answer = make_app(tmp_path).test_client().post("/cds-services/patient-view", json=body).json
    return next(c for c in answer["cards"] if c["source"]["topic"]["code"] == "high-mme")["detail"]


def test_a_requester_named_by_a_fetched_pages_urn_is_that_practitioner(tmp_path: Path) -> None:
    detail = high_mme_fetched(tmp_path, {})
    assert "Total: 60.0 MME/day" in detail
    assert "another prescriber's" not in detail


def test_a_urn_no_fetched_entry_is_sent_under_stays_another_prescriber(tmp_path: Path) -> None:
    page = prefetch(ADAMS)["medsActive"]  # no Practitioner entry under the urn: nobody is named by it
    detail = high_mme_fetched(tmp_path, page)
    assert "Total: 120.0 MME/day" in detail
    assert "another prescriber's, still current" in detail
