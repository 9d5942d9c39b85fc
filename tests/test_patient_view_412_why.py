"""A 412 says why the data was not obtained, in the words order-sign's data-incomplete card uses."""

from __future__ import annotations

import re

import responses
from cds_support import FHIR, hook_request, make_app

from cds_hooks.service import EXPIRED_TOKEN


def patient_view_412(tmp_path, expires_in: int) -> str:
    """The diagnostics of a patient-view with no prefetch whose FHIR server answers every read 401."""
    responses.add(responses.GET, re.compile(re.escape(FHIR) + "/.*"), status=401)
    body = hook_request("patient-view", prefetch={}, fhir=True)
    body["fhirAuthorization"]["expires_in"] = expires_in
    response = make_app(tmp_path).test_client().post("/cds-services/patient-view", json=body)
    assert response.status_code == 412, response.json
    assert response.json["resourceType"] == "OperationOutcome"
    return response.json["issue"][0]["diagnostics"]


@responses.activate
def test_the_412_after_an_expired_token_names_the_token_as_the_card_does(tmp_path):
    said = patient_view_412(tmp_path, 0)
    assert said.startswith("could not obtain the data this service needs: ")
    assert f"; and {EXPIRED_TOKEN}: had already expired when the EHR sent it" in said
    assert "(fhirAuthorization expires_in 0)" in said and "HTTP 401" in said
    assert said.count("had already expired") == 1


@responses.activate
def test_a_401_on_a_token_still_valid_is_not_blamed_on_its_expiry(tmp_path):
    said = patient_view_412(tmp_path, 300)
    assert "expired" not in said and EXPIRED_TOKEN not in said
