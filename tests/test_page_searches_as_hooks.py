"""The plan page searches what the hooks search: a site's prefetch settings change both alike, so the page never
says "none on record" of something the card found (a site's `prefetch.uds_query` once changed the card only)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qsl

import pytest
import responses
from builders import LOINC, days_ago, med_request, patient
from test_plan_view import FakeFhir, _app, _open_plan

from guideline.checks.urine_drug_test import CHECK_ID as UDS_CHECK
from guideline.config import DEFAULTS, ConfigError, GuidelineConfig

TODAY = date(2026, 6, 15)
OXYCODONE = "1049621"
# A site whose interface files urine drug screens with no Observation.category (docs/configuration.md).
SITE_UDS_QUERY = (
    "Observation?patient={{context.patientId}}&code=http://loinc.org|19295-5,http://loinc.org|3349-8"
    "&date=ge{{today() - 13 months}}"
)

# Each hook prefetch key and the page's search that stands for it.
PAGE_KEY = {
    "patient": "patient",
    "medsActive": "active_orders",
    "medsRecent": "orders",
    "dispenses": "dispenses",
    "udsLabs": "labs",
    "dispensesPrepared": "dispenses:second",
    "udsLabsIssued": "labs:second",
    "pdmpObs": "coded_scores",
    "conditions": "conditions",
    "procedures": "procedures",
    "encounters": "encounters",
    "serviceRequests": "service_requests",
    "carePlans": "care_plans",
    "planNotes": "documents",
    "medStatements": "statements",
    "medAdministrations": "administrations",
    "labReports": "reports",
    "payerClaims": "claims",
}
# Parameters that only bound a search in time or order it; the windows are compared apart (the dated variants).
NOT_FILTERS = frozenset(
    {
        "_sort",
        "_count",
        "date",
        "authoredon",
        "whenhandedover",
        "whenprepared",
        "_lastUpdated",
        "authored",
        "effective-time",
        "service-date",
    }
)

# Every setting that changes what a hook searches, each with a value that turns the change on.
SETTINGS: dict[str, dict[str, Any]] = {
    "prefetch.uds_query": {"prefetch": {"uds_query": SITE_UDS_QUERY}},
    "prefetch.medication_statements": {"prefetch": {"medication_statements": True}},
    "prefetch.medication_administrations": {"prefetch": {"medication_administrations": True}},
    "prefetch.diagnostic_reports": {"prefetch": {"diagnostic_reports": True}},
    "prefetch.payer_claims": {"prefetch": {"payer_claims": True}},
    "prefetch.dated": {"prefetch": {"dated": True}},
    "pdmp.review_codes": {"pdmp": {"review_codes": ["urn:oid:1.2.840.114350.1.13.0.1.7.2.707679|30412"]}},
    "checks.treatment-plan.accept_document_reference": {
        "checks": {"treatment-plan": {"accept_document_reference": False}}
    },
}
# prefetch settings that change how much is read, not what is searched (each asserted on its own below).
NOT_A_SEARCH = {"prefetch.page_cap"}


def _hook_searches(config: GuidelineConfig) -> dict[str, str]:
    """Every hook's prefetch searches, rendered for patient p1 on TODAY."""
    from cds_hooks.services import ALL, templates
    from guideline.searches import render

    found: dict[str, str] = {}
    for hook in ALL:
        for key, template in templates(hook, config).items():
            rendered = render(template, {"patientId": "p1", "userId": "Practitioner/1"}, TODAY)
            assert rendered is not None, (hook, key)
            found[key] = rendered
    return found


def _filters(query: str) -> tuple[str, dict[str, set[str]]]:
    """A search as its resource type and its filters, each parameter with its set of values."""
    path, _, params = query.partition("?")
    filters: dict[str, set[str]] = {}
    for name, value in parse_qsl(params, keep_blank_values=True):
        if name not in NOT_FILTERS:
            filters.setdefault(name, set()).update(value.split(","))
    return path, filters


def page_searches(queries: dict[str, str]) -> dict[str, str]:
    """The page's searches with the second search of each it makes one for ("dispenses:second")."""
    from smart_app.plan_view import second_queries

    return {**queries, **second_queries(queries)}


def _covers(page: str, hook: str) -> bool:
    """The page's search returns at least what the hook's does (its time window aside): the same type, no filter the
    hook's lacks, and on each parameter the hook filters by, no filter or one letting through all the hook's does."""
    page_path, page_filters = _filters(page)
    hook_path, hook_filters = _filters(hook)
    return (
        page_path == hook_path
        and set(page_filters) <= set(hook_filters)
        and all(name not in page_filters or values <= page_filters[name] for name, values in hook_filters.items())
    )


def _page_key(hook_key: str, page: dict[str, str]) -> str:
    """The page's search standing for a hook key: the site's urine drug test search and its second search stand for
    the laboratory keys where the site set one."""
    site = {"udsLabs": "uds_labs", "udsLabsIssued": "uds_labs:second"}
    return site[hook_key] if hook_key in site and "uds_labs" in page else PAGE_KEY[hook_key]


def test_every_prefetch_setting_is_known_to_this_test() -> None:
    # A new prefetch setting is classified here: searched alike by the page, or not a search at all.
    assert {f"prefetch.{key}" for key in DEFAULTS["prefetch"]} <= set(SETTINGS) | NOT_A_SEARCH


@pytest.mark.parametrize("setting", [None, *SETTINGS])
def test_the_page_searches_at_least_what_each_hook_searches(setting: str | None) -> None:
    from smart_app.plan_view import plan_queries

    config = GuidelineConfig.from_mapping(SETTINGS[setting] if setting else {})
    page = page_searches(plan_queries("p1", TODAY, config))
    for key, query in _hook_searches(config).items():
        assert key in PAGE_KEY, f"hook key {key} has no page search"
        mine = page.get(_page_key(key, page))
        assert mine is not None and _covers(mine, query), (key, query, mine)


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_a_setting_that_changes_a_hook_search_changes_the_page_search(setting: str) -> None:
    from smart_app.plan_view import plan_queries

    config = GuidelineConfig.from_mapping(SETTINGS[setting])
    default = GuidelineConfig.from_mapping()
    before, after = _hook_searches(default), _hook_searches(config)
    page_before = page_searches(plan_queries("p1", TODAY, default))
    page_after = page_searches(plan_queries("p1", TODAY, config))
    for key in after:
        if before.get(key) == after[key]:
            continue
        page_key = _page_key(key, page_after)
        # The page's search moved with the hook's, or already let through all the hook's now does.
        changed = page_before.get(page_key) != page_after.get(page_key)
        assert changed or _covers(page_after[page_key], after[key]), (setting, key)


def test_the_page_runs_the_sites_urine_drug_test_search_exactly_as_the_hooks_do() -> None:
    from smart_app.plan_view import QUERY_LABELS, plan_queries

    config = GuidelineConfig.from_mapping(SETTINGS["prefetch.uds_query"])
    page = plan_queries("p1", TODAY, config)
    assert (
        page["uds_labs"]
        == _hook_searches(config)["udsLabs"]
        == ("Observation?patient=p1&code=http://loinc.org|19295-5,http://loinc.org|3349-8&date=ge2025-05-15")
    )
    # The site's search replaces the laboratory search, as on the card: the page finds no test the card does not.
    assert "labs" not in page
    assert QUERY_LABELS["uds_labs"] == "Urine drug test results (this site's search)"
    assert "category=laboratory" in plan_queries("p1", TODAY, GuidelineConfig.from_mapping())["labs"]


def test_the_dated_hook_windows_are_inside_the_page_windows() -> None:
    from smart_app.plan_view import plan_queries

    config = GuidelineConfig.from_mapping(
        {"prefetch": {"dated": True, "medication_administrations": True, "payer_claims": True}}
    )
    page = page_searches(plan_queries("p1", TODAY, config))
    for key, query in _hook_searches(config).items():
        hook_from = [v[2:] for n, v in parse_qsl(query.partition("?")[2]) if n in NOT_FILTERS and v.startswith("ge")]
        if not hook_from:
            continue
        mine = page[PAGE_KEY[key]]
        page_from = [v[2:] for n, v in parse_qsl(mine.partition("?")[2]) if n in NOT_FILTERS and v.startswith("ge")]
        assert not page_from or page_from[0] <= hook_from[0], (key, query, mine)


def test_a_site_urine_drug_test_search_the_page_cannot_fill_is_refused_at_start() -> None:
    # The page has the patient and today, not an encounter or a user: a query needing them would run on the card
    # and not on the page.
    with pytest.raises(ConfigError, match=r"prefetch\.uds_query"):
        GuidelineConfig.from_mapping(
            {"prefetch": {"uds_query": "Observation?patient={{context.patientId}}&encounter={{context.encounterId}}"}}
        )


def test_the_page_reads_as_many_pages_as_the_hooks(tmp_path: Any) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeFhir(rsps, [patient(patient_id="p1")])
        fake.endless.add("Goal")
        _open_plan(_app(tmp_path, guideline={"prefetch": {"page_cap": 3}}))
    assert sum(1 for url, _ in fake.requests if "/Goal?" in url) == 3


class CodedFhir(FakeFhir):
    """The fake EHR, also answering a code= search with the Observations of those codes only (as EHRs do)."""

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        import json
        from urllib.parse import parse_qs, urlsplit

        status, headers, body = super()._answer(request)
        codes = parse_qs(urlsplit(request.url).query).get("code")
        if status != 200 or not codes or "/Observation?" not in request.url:
            return status, headers, body
        wanted = {c.split("|")[-1] for c in codes[0].split(",")}
        bundle = json.loads(body)
        bundle["entry"] = [
            e for e in bundle["entry"] if wanted & {c.get("code") for c in e["resource"]["code"].get("coding", [])}
        ]
        return status, headers, json.dumps(bundle)


def _untyped_screen(code: str, display: str, ago: int) -> dict[str, Any]:
    """A urine drug screen as a reference lab's HL7 v2 interface files it in Epic: coded, resulted, no category."""
    when = days_ago(ago)
    return {
        "resourceType": "Observation",
        "id": f"eQx.{code.replace('-', '')}",
        "status": "final",
        "code": {
            "coding": [
                {"system": LOINC, "code": code, "display": display},
                {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.768282", "code": "OXYU"},
            ],
            "text": display,
        },
        "subject": {"reference": "Patient/p1", "display": "Rivera, Alex"},
        "effectiveDateTime": f"{when}T09:10:00Z",
        "issued": f"{when}T17:42:00Z",
        "valueString": "Negative",
        "interpretation": [{"coding": [{"code": "N", "display": "Normal"}], "text": "Normal"}],
    }


def test_the_page_finds_the_screen_the_card_finds_with_a_sites_search(tmp_path: Any) -> None:
    # Before: the card ran the site's search and found the screen; the page asked category=laboratory, found
    # nothing and said "No urine drug test results" with an alert to order one.
    from cds_support import hook_request, topics
    from test_plan_view import FHIR as PAGE_FHIR

    resources = [
        patient(patient_id="p1"),
        med_request(OXYCODONE, authored=days_ago(200), supply_days=30, refills=11, id="mr-oxy"),
        _untyped_screen("19295-5", "Oxycodone [Presence] in Urine by Screen method", 40),
        _untyped_screen("3349-8", "Oxycodone [Presence] in Urine by Confirmatory method", 40),
    ]
    settings = {"prefetch": {"uds_query": SITE_UDS_QUERY}}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = CodedFhir(rsps, resources)
        app = _app(tmp_path, guideline=settings, auth="off")
        html = _open_plan(app).get_data(as_text=True)
        body = hook_request("patient-view", prefetch={}, fhir=True) | {"fhirServer": PAGE_FHIR}
        answer = app.test_client().post("/cds-services/patient-view", json=body).get_json()
    asked = [url for url, _ in fake.requests if "/Observation?" in url]
    # The card's and the page's, each on the result's date and again on _lastUpdated (results dated by issued only).
    assert sum("code=http%3A%2F%2Floinc.org%7C19295-5" in url for url in asked) == 4
    assert not any("category=laboratory" in url for url in asked)
    assert UDS_CHECK not in topics(answer)
    assert "No urine drug test results" not in html and "Order a urine drug test" not in html
    assert "Urine drug test results (this site&#39;s search): 2 items" in html
