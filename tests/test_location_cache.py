"""The Locations of recent visits' places, read once per server and remembered for a while: a department's type is
organisation data, the same for every patient, so the calls after the first read none of them again."""

from __future__ import annotations

from typing import Any

import pytest
import responses
from builders import PATIENT_ID
from cds_support import FHIR, bundle, full_prefetch, hook_request
from test_hospice_place_reads import CONFIG, EPIC_LOCATION, TODAY, epic_location, epic_place
from test_hospice_point_of_care import epic_stay_at

from cds_hooks.gather import HOSPICE_PLACES, gather
from cds_hooks.location_cache import LocationCache
from cds_hooks.request import parse_hook_request
from cds_hooks.services import templates
from guideline.config import ConfigError
from guideline.exclusions import hospice_place_days
from smart_app.config import load_settings

OTHER_FHIR = "https://fhir.other-hospital.example.org/api/FHIR/R4"


class Clock:
    """A clock the test moves: no sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def gathered(cache: LocationCache, server: str = FHIR):
    body = hook_request(
        prefetch=full_prefetch("order-sign", encounters=bundle(epic_stay_at(PATIENT_ID, epic_place()))), fhir=True
    )
    body["fhirServer"] = server
    request = parse_hook_request(body, "order-sign", allow_http=False)
    asked = templates("order-sign", CONFIG)
    return gather(
        request, asked, today=TODAY, budget_seconds=5, hospice_days=hospice_place_days(CONFIG), locations=cache
    )


def hospice_types(resources: tuple[Any, ...]) -> list[Any]:
    return [r["type"] for r in resources if r.get("resourceType") == "Location" and r.get("id") == EPIC_LOCATION]


def test_a_second_call_for_the_same_server_reads_no_location_and_still_has_its_type() -> None:
    cache = LocationCache(clock=Clock())
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR}/Location/{EPIC_LOCATION}", json=epic_location())
        first = gathered(cache)
        second = gathered(cache)
        assert len(mock.calls) == 1
    assert hospice_types(first.resources) == hospice_types(second.resources) == [epic_location()["type"]]
    assert HOSPICE_PLACES not in second.gaps


def test_only_the_type_and_name_of_a_location_are_remembered() -> None:
    cache = LocationCache(clock=Clock())
    sent = {**epic_location(), "telecom": [{"system": "phone", "value": "203-315-7500"}], "meta": {"versionId": "7"}}
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR}/Location/{EPIC_LOCATION}", json=sent)
        gathered(cache)
    held = cache.get(FHIR, f"Location/{EPIC_LOCATION}")
    assert held is not None and held.location is not None
    assert set(held.location) == {"resourceType", "id", "name", "type"}


def test_another_server_with_a_location_of_the_same_id_is_read_again() -> None:
    cache = LocationCache(clock=Clock())
    ward = {**epic_location(), "name": "5 North Medical", "type": [{"text": "Inpatient"}]}
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR}/Location/{EPIC_LOCATION}", json=epic_location())
        mock.get(f"{OTHER_FHIR}/Location/{EPIC_LOCATION}", json=ward)
        gathered(cache)
        other = gathered(cache, OTHER_FHIR)
        assert len(mock.calls) == 2
    assert hospice_types(other.resources) == [[{"text": "Inpatient"}]]


def test_a_location_is_read_again_once_its_entry_expires() -> None:
    clock = Clock()
    cache = LocationCache(seconds=3600, clock=clock)
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR}/Location/{EPIC_LOCATION}", json=epic_location())
        gathered(cache)
        clock.now += 3599
        gathered(cache)
        assert len(mock.calls) == 1
        clock.now += 2
        gathered(cache)
        assert len(mock.calls) == 2


def test_a_location_not_found_is_remembered_briefly_and_still_named() -> None:
    clock = Clock()
    cache = LocationCache(clock=clock)
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]}
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR}/Location/{EPIC_LOCATION}", json=outcome, status=404)
        first = gathered(cache)
        second = gathered(cache)
        assert len(mock.calls) == 1
        clock.now += 301
        gathered(cache)
        assert len(mock.calls) == 2
    assert first.gaps[HOSPICE_PLACES] == second.gaps[HOSPICE_PLACES]
    assert f"Location/{EPIC_LOCATION}: the FHIR server answered HTTP 404" in second.gaps[HOSPICE_PLACES]


def test_a_failed_read_other_than_not_found_is_not_remembered() -> None:
    cache = LocationCache(clock=Clock())
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR}/Location/{EPIC_LOCATION}", status=503)
        gathered(cache)
        gathered(cache)
        assert len(mock.calls) == 2


def test_the_cache_holds_at_most_its_size_dropping_the_oldest() -> None:
    cache = LocationCache(size=2, clock=Clock())
    for ident in ("a", "b", "c"):
        cache.put(FHIR, f"Location/{ident}", epic_location(ident))
    assert cache.get(FHIR, "Location/a") is None
    assert cache.get(FHIR + "/", "Location/c") is not None  # one server, with or without its trailing slash


def test_the_cache_setting_defaults_to_a_day_and_a_bad_value_stops_the_program_naming_it() -> None:
    assert load_settings(env={}).cds.location_cache_seconds == 86400
    assert load_settings(env={"PAINPLAN_LOCATION_CACHE_SECONDS": "0"}).cds.location_cache_seconds == 0
    for bad in ("-1", "a day", str(8 * 86400)):
        with pytest.raises(ConfigError, match="PAINPLAN_LOCATION_CACHE_SECONDS"):
            load_settings(env={"PAINPLAN_LOCATION_CACHE_SECONDS": bad})


def test_the_hook_service_reads_a_location_once_across_calls_of_the_app(tmp_path) -> None:
    # Before: every order-sign call for a patient with a recent stay read its Location again.

    from cds_support import make_app, oxycodone_draft

    app = make_app(tmp_path)
    # An oxycodone draft being signed: the stay's Location says hospice, so the patient is excluded and no card shows.
    body = hook_request(
        drafts=[oxycodone_draft()],
        prefetch=full_prefetch("order-sign", encounters=bundle(epic_stay_at(PATIENT_ID, epic_place()))),
        fhir=True,
    )
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR}/Location/{EPIC_LOCATION}", json=epic_location())
        for _ in range(2):
            answer = app.test_client().post("/cds-services/order-sign", json=body)
            assert answer.status_code == 200 and answer.json["cards"] == []
        assert len(mock.calls) == 1
