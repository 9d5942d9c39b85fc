"""Discovery (standards 5 #1–#4): three services, valid prefetch tokens only, auth, CORS preflight."""

from __future__ import annotations

import re

import pytest
import responses
from cds_support import HARNESS_JWKS, Harness, make_app, trusted_clients_file

from cds_hooks.cards import empty_paths
from guideline.searches import render

ORDER_TOKENS = {"userId", "patientId", "encounterId"}
USER_TOKENS = {"userPractitionerId", "userPractitionerRoleId", "userPatientId", "userRelatedPersonId"}


def test_discovery_lists_three_services_with_required_fields(tmp_path):
    response = make_app(tmp_path).test_client().get("/cds-services")
    assert response.status_code == 200 and response.mimetype == "application/json"
    services = response.json["services"]
    assert {(s["id"], s["hook"]) for s in services} == {
        ("order-sign", "order-sign"),
        ("order-select", "order-select"),
        ("patient-view", "patient-view"),
    }
    for service in services:
        assert service["title"] and service["description"] and service["usageRequirements"]
        assert "fhirAuthorization" in service["usageRequirements"]
        assert "MedicationRequest" in service["usageRequirements"]
    assert empty_paths(response.json) == []


@responses.activate
@pytest.mark.parametrize(("auth", "said"), [("off", "checks no JWT"), ("required", "must carry a signed JWT")])
def test_usage_requirements_say_what_this_instance_checks(tmp_path, auth, said):
    """With auth off (the sandbox, the demo) discovery told integrators a JWT was required, which nothing checked."""
    harness = Harness()
    responses.get(HARNESS_JWKS, json=harness.jwks())
    app = make_app(tmp_path, auth=auth, trusted_clients=trusted_clients_file(tmp_path, harness))
    services = app.test_client().get("/cds-services", headers=harness.auth("/cds-services")).json["services"]
    assert all(said in service["usageRequirements"] for service in services)


def test_prefetch_tokens_are_only_valid_context_or_user_tokens(tmp_path):
    services = make_app(tmp_path).test_client().get("/cds-services").json["services"]
    for service in services:
        assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        for template in service["prefetch"].values():
            for token in re.findall(r"\{\{([^}]*)\}\}", template):
                assert token in {f"context.{f}" for f in ORDER_TOKENS} | USER_TOKENS, token
                assert "draftOrders" not in token
    sign = next(s for s in services if s["id"] == "order-sign")["prefetch"]
    assert {"medsActive", "medsRecent", "udsLabs", "pdmpObs", "carePlans", "planNotes"} <= set(sign)
    select = next(s for s in services if s["id"] == "order-select")["prefetch"]
    assert "udsLabs" not in select and "medsActive" in select


# CDS Hooks 2.0.1 recommends prefetch queries keep to features every FHIR server supports (standards CH-P2, check #2):
# instance reads, type searches by a reference (patient), token equality (status, category, code, type; and :in),
# dates with eq/lt/gt/ge/le, _count and _sort; no _include, chaining or _has.
RECOMMENDED_PARAMETERS = {"patient", "status", "category", "code", "code:in", "type", "_count", "_sort"}
DATE_PARAMETERS = {"date", "authoredon", "whenprepared", "_lastUpdated"}


def test_default_prefetch_queries_keep_to_the_recommended_search_features(tmp_path):
    services = make_app(tmp_path).test_client().get("/cds-services").json["services"]
    for service in services:
        for template in service["prefetch"].values():
            path, _, query = template.partition("?")
            assert re.fullmatch(r"[A-Z][A-Za-z]+(/\{\{context\.patientId\}\})?", path), template
            for name, _, value in (part.partition("=") for part in query.split("&") if query):
                if name in DATE_PARAMETERS:
                    assert re.match(r"(eq|lt|gt|ge|le)", value), template
                else:
                    assert name in RECOMMENDED_PARAMETERS, template  # no _include, chaining or _has
                assert "{{" not in value or value == "{{context.patientId}}", template


def test_dated_variants_and_site_uds_query_are_configuration(tmp_path):
    app = make_app(
        tmp_path,
        guideline={
            "prefetch": {
                "dated": True,
                "uds_query": "Observation?patient={{context.patientId}}&code=http://loinc.org|19295-5",
            }
        },
    )
    services = app.test_client().get("/cds-services").json["services"]
    sign = next(s for s in services if s["id"] == "order-sign")["prefetch"]
    assert sign["medsRecent"].endswith("authoredon=ge{{today() - 395 days}}")
    assert sign["udsLabs"].endswith("code=http://loinc.org|19295-5")


def test_dated_templates_render_to_concrete_dates_for_our_own_queries():
    from datetime import date

    today = date(2026, 3, 31)
    context = {"patientId": "p 1", "userId": "Practitioner/dr1"}
    assert render("X?patient={{context.patientId}}&date=ge{{today() - 1 year}}", context, today) == (
        "X?patient=p%201&date=ge2025-03-31"
    )
    assert render("X?d=ge{{today() - 90 days}}", context, today) == "X?d=ge2025-12-31"
    assert render("X?d=ge{{today() - 1 month}}", context, today) == "X?d=ge2026-02-28"
    assert render("Practitioner/{{userPractitionerId}}", context, today) == "Practitioner/dr1"
    assert render("X?e={{context.encounterId}}", context, today) is None


@responses.activate
def test_discovery_requires_a_jwt_when_auth_is_required(tmp_path):
    harness = Harness()
    responses.get(HARNESS_JWKS, json=harness.jwks())
    app = make_app(tmp_path, auth="required", trusted_clients=trusted_clients_file(tmp_path, harness))
    client = app.test_client()
    refused = client.get("/cds-services")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
    assert "diagnostics" not in refused.get_data(as_text=True)
    assert client.get("/cds-services", headers=harness.auth("/cds-services")).status_code == 200


@pytest.mark.parametrize("path", ["/cds-services", "/cds-services/order-sign", "/cds-services/order-sign/feedback"])
def test_cors_preflight_needs_no_jwt_and_echoes_allowed_origin(tmp_path, path):
    app = make_app(tmp_path, auth="required", cors_origins="https://sandbox.cds-hooks.org")
    headers = {
        "Origin": "https://sandbox.cds-hooks.org",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    response = app.test_client().options(path, headers=headers)
    assert 200 <= response.status_code < 300
    assert response.headers["Access-Control-Allow-Origin"] == "https://sandbox.cds-hooks.org"
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_cors_ignores_origins_not_on_the_list_and_wildcard_never_comes_with_credentials(tmp_path):
    app = make_app(tmp_path, cors_origins="https://sandbox.cds-hooks.org")
    response = app.test_client().get("/cds-services", headers={"Origin": "https://evil.test"})
    assert "Access-Control-Allow-Origin" not in response.headers
    star = (
        make_app(tmp_path / "star", cors_origins="*")
        .test_client()
        .get("/cds-services", headers={"Origin": "https://any.test"})
    )
    assert star.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in star.headers
