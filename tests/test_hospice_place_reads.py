"""A visit's Location read from the EHR's FHIR server at the point of care: Epic and Oracle Health name a stay's
place by reference (`Location/<id>`) and no prefetch carries it, so the hook reads the Locations of the visits in the
hospice window (a bounded count, in the call's deadline and memory budget); a read that fails is named."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import responses
from builders import PATIENT_ID
from cds_support import FHIR, bundle, full_prefetch, hook_request, make_app, oxycodone_draft, topics
from test_hospice_point_of_care import OPIOID_CARDS, SNOMED_HOSPICE_PLACE, epic_stay_at

from cds_hooks.gather import HOSPICE_PLACES, MAX_PLACE_READS, gather
from cds_hooks.request import parse_hook_request
from cds_hooks.services import templates
from guideline.config import GuidelineConfig
from guideline.exclusions import hospice_place_days

CONFIG = GuidelineConfig.from_mapping()
TODAY = date(2026, 6, 15)
EPIC_LOCATION = "e4W3eRk2pnfVx0bhMy0Dt9w3"
NUCC_INPATIENT_HOSPICE = {"system": "http://nucc.org/provider-taxonomy", "code": "315D00000X"}


def epic_place(ident: str = EPIC_LOCATION, display: str = "Connecticut Hospice, Branford") -> dict[str, str]:
    return {"reference": f"Location/{ident}", "display": display}


def epic_location(ident: str = EPIC_LOCATION, *codings: dict[str, str]) -> dict[str, Any]:
    """Epic's Location read (R4): the department, typed as SNOMED CT's hospice environment by default."""
    return {
        "resourceType": "Location",
        "id": ident,
        "status": "active",
        "name": "Connecticut Hospice, Branford",
        "mode": "instance",
        "type": [{"coding": list(codings) or [SNOMED_HOSPICE_PLACE], "text": "Hospice"}],
    }


def sign(tmp_path: Path, *encounters: dict[str, Any]) -> dict[str, Any]:
    body = hook_request(
        drafts=[oxycodone_draft()], prefetch=full_prefetch("order-sign", encounters=bundle(*encounters)), fhir=True
    )
    answer = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert answer.status_code == 200
    return answer.json


def incomplete(found: dict[str, Any]) -> str:
    return next((c["detail"] for c in found["cards"] if c["source"]["topic"]["code"] == "data-incomplete"), "")


def gathered(*encounters: dict[str, Any], prefetched: tuple[dict[str, Any], ...] = ()):
    body = hook_request(prefetch=full_prefetch("order-sign", encounters=bundle(*encounters, *prefetched)), fhir=True)
    request = parse_hook_request(body, "order-sign", allow_http=False)
    asked = templates("order-sign", CONFIG)
    return gather(request, asked, today=TODAY, budget_seconds=5, hospice_days=hospice_place_days(CONFIG))


def test_an_epic_stay_at_a_location_the_prefetch_does_not_carry_is_read_and_excludes(tmp_path: Path) -> None:
    # Before: the Location was never read, so the stay reached only the "hospice by the place's name only" path and
    # the patient in hospice got every opioid card.
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR}/Location/{EPIC_LOCATION}", json=epic_location())
        found = sign(tmp_path, epic_stay_at(PATIENT_ID, epic_place()))
    assert topics(found) == []


def test_a_location_typed_by_the_nucc_hospice_taxonomy_excludes_too(tmp_path: Path) -> None:
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR}/Location/{EPIC_LOCATION}", json=epic_location(EPIC_LOCATION, NUCC_INPATIENT_HOSPICE))
        found = sign(tmp_path, epic_stay_at(PATIENT_ID, epic_place()))
    assert topics(found) == []


def test_a_location_read_that_fails_is_named_and_the_stay_is_still_named_by_its_name(tmp_path: Path) -> None:
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]}
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR}/Location/{EPIC_LOCATION}", json=outcome, status=404)
        found = sign(tmp_path, epic_stay_at(PATIENT_ID, epic_place()))
    assert set(topics(found)) == OPIOID_CARDS | {"data-incomplete"}
    detail = incomplete(found)
    assert f"Location/{EPIC_LOCATION}: the FHIR server answered HTTP 404" in detail
    assert "Stay at Connecticut Hospice, Branford (visit eCTH.1, hospice by the place's name only)" in detail


def test_a_location_that_says_no_hospice_leaves_the_cards_and_names_nothing(tmp_path: Path) -> None:
    ward = {"resourceType": "Location", "id": "e5North", "name": "5 North Medical", "type": [{"text": "Inpatient"}]}
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR}/Location/e5North", json=ward)
        found = sign(tmp_path, epic_stay_at(PATIENT_ID, epic_place("e5North", "5 North Medical")))
    assert set(topics(found)) == OPIOID_CARDS


def test_a_visit_before_the_hospice_window_has_no_location_read() -> None:
    old = epic_stay_at(PATIENT_ID, epic_place())
    old["status"], old["period"] = (
        "finished",
        {"start": "2026-01-05T09:00:00-05:00", "end": "2026-01-20T12:00:00-05:00"},
    )
    with responses.RequestsMock():  # any request would fail the test
        data = gathered(old)
    assert data.fetched_keys == () and HOSPICE_PLACES not in data.gaps


def test_a_location_already_in_the_bundle_or_contained_or_only_planned_is_not_read_again() -> None:
    beside = epic_stay_at(PATIENT_ID, epic_place())
    planned = epic_stay_at(PATIENT_ID, epic_place("ePlanned"))
    planned["id"], planned["location"][0]["status"] = "ePlan.1", "planned"
    contained = epic_stay_at(PATIENT_ID, {"reference": "#loc-1"}, contained=[epic_location("loc-1")])
    contained["id"] = "eCont.1"
    with responses.RequestsMock():
        data = gathered(beside, planned, contained, prefetched=(epic_location(),))
    assert data.fetched_keys == () and data.gaps == {}


def test_only_a_bounded_count_of_locations_is_read_and_the_rest_are_named() -> None:
    visits = []
    for number in range(MAX_PLACE_READS + 3):
        visit = epic_stay_at(PATIENT_ID, epic_place(f"eDept{number:02d}", f"Clinic {number}"))
        visit["id"] = f"eVisit.{number}"
        visits.append(visit)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for number in range(MAX_PLACE_READS + 3):
            ident = f"eDept{number:02d}"
            mock.get(f"{FHIR}/Location/{ident}", json={"resourceType": "Location", "id": ident, "name": ident})
        data = gathered(*visits)
    read = [key for key in data.fetched_keys if key.startswith("loc:")]
    assert len(read) == MAX_PLACE_READS
    assert data.gaps[HOSPICE_PLACES].startswith(f"3 not read; only the first {MAX_PLACE_READS}")


def test_a_location_on_another_server_is_never_read_and_is_named() -> None:
    far = epic_stay_at(PATIENT_ID, {"reference": "https://hie.example.org/fhir/Location/h1", "display": "Hospice"})
    with responses.RequestsMock():
        data = gathered(far)
    assert "on another FHIR server" in data.gaps[HOSPICE_PLACES] and data.fetched_keys == ()


def test_places_not_read_are_not_named_when_other_evidence_already_excludes_as_hospice(tmp_path: Path) -> None:
    # Before: the patient seen by the hospice service (the visit's class and type say so) got no opioid card, yet a
    # data-incomplete card named the ward's Location that could not be read: it could change nothing.
    from test_hospice_point_of_care import epic_hospice_stay

    seen = epic_hospice_stay("2026-06-01T09:00:00-04:00", "2026-06-01T10:00:00-04:00", "finished")
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR}/Location/e5North", status=404)
        found = sign(tmp_path, epic_stay_at(PATIENT_ID, epic_place("e5North", "5 North Medical")), seen)
    assert topics(found) == []


def test_places_not_read_are_still_named_when_nothing_else_excludes(tmp_path: Path) -> None:
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR}/Location/e5North", status=404)
        found = sign(tmp_path, epic_stay_at(PATIENT_ID, epic_place("e5North", "5 North Medical")))
    assert set(topics(found)) == OPIOID_CARDS | {"data-incomplete"}
    assert "Location/e5North: the FHIR server answered HTTP 404" in incomplete(found)


def test_places_not_read_stay_named_when_the_exclusions_themselves_failed(tmp_path: Path, monkeypatch) -> None:
    # Asking whether the hospice exclusion applied must not cost the call: the exclusions failing, the check that
    # applies them is named as not run, and the place not read is still named.
    import guideline.facts

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(guideline.facts, "general_exclusions", broken)
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR}/Location/e5North", status=404)
        found = sign(tmp_path, epic_stay_at(PATIENT_ID, epic_place("e5North", "5 North Medical")))
    assert "Location/e5North: the FHIR server answered HTTP 404" in incomplete(found)
    not_run = next(c["detail"] for c in found["cards"] if c["source"]["topic"]["code"] == "checks-not-run")
    assert "High total daily opioid dose: an internal error stopped it" in not_run


def test_an_hie_visits_relative_location_is_the_hies_and_never_read_from_the_ehr() -> None:
    # An HIE's stay (its fullUrl on the HIE's base) naming "Location/l1" means the HIE's l1: read from the EHR with
    # the EHR's token, it asked for an id not the EHR's and could take the EHR's l1 type for the HIE's place.
    hie = "https://hie.example.org/fhir"
    stay = epic_stay_at(PATIENT_ID, {"reference": "Location/l1", "display": "Hospice"})
    encounters = {"resourceType": "Bundle", "type": "searchset",
                  "entry": [{"fullUrl": f"{hie}/Encounter/{stay['id']}", "resource": stay}]}  # fmt: skip
    body = hook_request(prefetch=full_prefetch("order-sign", encounters=encounters), fhir=True)
    request = parse_hook_request(body, "order-sign", allow_http=False)
    with responses.RequestsMock():  # any read of the EHR's Location/l1 would fail here: no answer is registered
        data = gather(
            request, templates("order-sign", CONFIG), today=TODAY, budget_seconds=5,
            hospice_days=hospice_place_days(CONFIG),
        )  # fmt: skip
    assert f"{hie}/Location/l1: on another FHIR server" in data.gaps[HOSPICE_PLACES]
    assert data.fetched_keys == ()


def test_many_visits_at_one_department_make_one_read_and_still_exclude(tmp_path: Path) -> None:
    # A year of clinic visits names a handful of departments: each is read once, however many visits name it.
    visits = [dict(epic_stay_at(PATIENT_ID, epic_place()), id=f"eCTH.{n}") for n in range(6)]
    with responses.RequestsMock() as mock:
        read = mock.get(f"{FHIR}/Location/{EPIC_LOCATION}", json=epic_location())
        found = sign(tmp_path, *visits)
    assert read.call_count == 1 and topics(found) == []


def test_a_visit_whose_place_is_read_is_parsed_once_in_the_call(tmp_path: Path, monkeypatch) -> None:
    # Before: the hook parsed the visit to plan its Location read (dated in UTC) and again to build the record, so
    # each visit at a department new to the call was read twice. Its places are read once now, and still excluded.
    from guideline.record import readers

    parsed: list[Any] = []
    real = readers._visit_places

    def counted(locations: Any, contained: Any, data: Any) -> Any:
        parsed.append(data.get("id"))
        return real(locations, contained, data)

    monkeypatch.setattr(readers, "_visit_places", counted)
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR}/Location/{EPIC_LOCATION}", json=epic_location())
        found = sign(tmp_path, epic_stay_at(PATIENT_ID, epic_place()))
    assert topics(found) == []
    assert parsed == ["eCTH.1"]


def test_a_visit_late_in_the_evening_just_before_the_window_still_has_its_location_read() -> None:
    # The plan reads the visit as dated in UTC (one day more than the window) even when the record reads it in the
    # site's zone: a stay that ended the evening before, New York time, is the next day in UTC, as before.
    edge = epic_stay_at(PATIENT_ID, epic_place())
    days = hospice_place_days(CONFIG)
    first = TODAY.toordinal() - days - 2  # in the window only as dated in UTC (one day more than the window)
    day = date.fromordinal(first).isoformat()
    edge["status"], edge["period"] = "finished", {"start": f"{day}T08:00:00-05:00", "end": f"{day}T22:30:00-05:00"}
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR}/Location/{EPIC_LOCATION}", json=epic_location())
        data = gathered(edge)
    assert data.fetched_keys == (f"loc:Location/{EPIC_LOCATION}",)


def test_a_visit_read_in_the_sites_zone_and_dated_again_in_utc_is_the_visit_read_in_utc() -> None:
    # The plan takes the record's reading and reads only the period again: nothing else may differ.
    from zoneinfo import ZoneInfo

    from guideline.record.readers import dated_in, read_encounter

    utc, local = ZoneInfo("UTC"), ZoneInfo(CONFIG["timezone"])
    for period in (
        {"start": "2026-03-20T21:30:00-04:00", "end": "2026-03-21T23:45:00-04:00"},
        {"start": "2026-03-20", "end": "2026-03-21T08:00:00"},  # a date alone, a time with no offset
        {"end": "2026-03-21T02:00:00Z"},
    ):
        visit = {**epic_stay_at(PATIENT_ID, epic_place()), "period": period}
        assert dated_in(read_encounter(visit, local), visit, utc) == read_encounter(visit, utc)
