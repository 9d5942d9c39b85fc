"""With `prefetch.dated` the hooks search what the engine reads: a fill dated only by when it was prepared and a
result dated only by when it was issued. Before, the dated templates bounded dispenses by `whenhandedover` and lab
results by `date` (effective[x]) alone, so a FHIR server answering them as FHIR defines them, or an EHR filling them
so, never sent either, and the dated card said nothing of a 90 MME/day fill the portable card flagged."""

from __future__ import annotations

from typing import Any

import responses
from builders import patient
from cds_support import hook_request, make_app, topics
from test_page_fetches_what_the_engine_reads import (
    SearchingFhir,
    _issued_only_screen,
    _prepared_only_fill,
    _without_lab_results,
)
from test_plan import rich_patient
from test_plan_view import FHIR

from guideline.config import GuidelineConfig

DATED = {"prefetch": {"dated": True}}


def _card(resources: list[dict[str, Any]], tmp_path: Any, settings: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The patient-view card's topics read from a server filtering dates as FHIR does, and the URLs it was asked."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = SearchingFhir(rsps, resources)
        body = hook_request("patient-view", prefetch={}, fhir=True) | {"fhirServer": FHIR}
        answer = make_app(tmp_path, guideline=settings).test_client().post("/cds-services/patient-view", json=body)
    return topics(answer.get_json()), [url for url, _ in server.requests]


def test_a_fill_dated_only_by_when_it_was_prepared_is_counted_in_dated_mode_as_in_portable(tmp_path: Any) -> None:
    resources = [patient(patient_id="p1"), _prepared_only_fill()]
    portable, _ = _card(resources, tmp_path / "portable", {})
    assert "high-mme" in portable  # 360 tablets over 30 days: 90 MME/day
    dated, asked = _card(resources, tmp_path / "dated", DATED)
    assert "high-mme" in dated, dated
    dispenses = [url for url in asked if "/MedicationDispense?" in url]
    assert any("whenhandedover=ge2025-05-16" in url for url in dispenses), dispenses
    assert any("whenprepared=ge2025-05-16" in url for url in dispenses), dispenses


def test_a_result_dated_only_by_when_it_was_issued_is_read_in_dated_mode_as_in_portable(tmp_path: Any) -> None:
    resources = [*_without_lab_results(rich_patient()), _issued_only_screen()]
    for r in resources:
        r.setdefault("subject", {"reference": "Patient/p1"})
    portable, _ = _card(resources, tmp_path / "portable", {})
    assert "unexpected-uds-result" in portable
    dated, asked = _card(resources, tmp_path / "dated", DATED)
    assert "unexpected-uds-result" in dated, dated
    labs = [url for url in asked if "category=laboratory" in url]
    assert any("_lastUpdated=ge2025-06-15" in url for url in labs), labs


def test_a_fill_the_ehr_sends_under_both_dated_keys_counts_once(tmp_path: Any) -> None:
    # The EHR fills each dated template as its server answers it: a fill with both dates comes under both keys,
    # and is one fill of 90 MME/day, not two adding to 180.
    both = _prepared_only_fill() | {"whenHandedOver": "2026-06-10T16:30:00-05:00"}
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": both}]}
    prefetch = {"patient": patient(patient_id="p1"), "dispenses": bundle, "dispensesPrepared": bundle}
    body = hook_request("patient-view", prefetch=prefetch)
    answer = make_app(tmp_path, guideline=DATED).test_client().post("/cds-services/patient-view", json=body)
    high = [card for card in answer.get_json()["cards"] if "MME" in card["summary"]]
    assert high and "90.0 MME/day" in high[0]["summary"], high
    assert "180" not in high[0]["detail"]


def test_the_dated_discovery_names_each_second_search_as_a_plain_prefetch_template() -> None:
    from cds_hooks.services import ALL, templates

    config = GuidelineConfig.from_mapping(DATED)
    asked = templates("patient-view", config)
    assert asked["dispensesPrepared"] == (
        "MedicationDispense?patient={{context.patientId}}&whenprepared=ge{{today() - 395 days}}"
    )
    assert asked["udsLabsIssued"] == (
        "Observation?patient={{context.patientId}}&category=laboratory&_lastUpdated=ge{{today() - 1 year}}"
    )
    for hook in ALL:  # portable mode asks for every fill and result: no second search
        plain = templates(hook, GuidelineConfig.from_mapping({}))
        assert "dispensesPrepared" not in plain and "udsLabsIssued" not in plain
    assert "dispensesPrepared" not in templates("order-select", config)


def test_a_sites_own_urine_drug_test_search_replaces_both_lab_keys() -> None:
    from cds_hooks.services import templates

    site = "Observation?patient={{context.patientId}}&code=http://loinc.org|19295-5"
    asked = templates("order-sign", GuidelineConfig.from_mapping({"prefetch": {"dated": True, "uds_query": site}}))
    assert asked["udsLabs"] == site and "udsLabsIssued" not in asked
    assert "dispensesPrepared" in asked
