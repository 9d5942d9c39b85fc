"""The plan page asks for `user/Location.r` (v1 `.read`) only where it reads Locations: the places of recent visits,
read for the hospice exclusion. A site that switched that exclusion off reads no Location, so it asks for no right to
(a scope only where a feature needs it), on the authorize URL the browser is sent to."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from launch_support import ISS, PUBLIC_URL, FakeEhr, make_app, query

HOSPICE_OFF = {"exclusions": {"hospice_palliative": {"enabled": False}}}


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def authorize_scopes(tmp_path: Any, rsps: responses.RequestsMock, v2: bool, **overrides: Any) -> list[str]:
    """The scopes on the authorize URL of an Epic-style EHR launch."""
    ehr = FakeEhr(rsps, permission_v2=v2)
    app = make_app(tmp_path, [ehr.client_entry()], **overrides)
    started = app.test_client().get("/launch", query_string={"iss": ISS, "launch": "l1"}, base_url=PUBLIC_URL)
    assert started.status_code == 302, started.get_data(as_text=True)
    return query(started.headers["Location"])["scope"].split()


def location_scopes(scopes: list[str]) -> list[str]:
    return [scope for scope in scopes if "Location" in scope]


@pytest.mark.parametrize(("v2", "wanted"), [(True, "user/Location.r"), (False, "user/Location.read")])
def test_the_hospice_exclusion_on_asks_to_read_locations_as_the_user(tmp_path: Any, rsps: Any, v2: bool, wanted: str):
    assert location_scopes(authorize_scopes(tmp_path, rsps, v2)) == [wanted]


@pytest.mark.parametrize("v2", [True, False], ids=["v2", "v1"])
def test_the_hospice_exclusion_off_asks_for_no_location_right(tmp_path: Any, rsps: Any, v2: bool) -> None:
    # Before: `user/Location.r` was asked for whatever the configuration, although with the exclusion off the page
    # reads no Location (and an EHR shows the clinician every right asked for).
    scopes = authorize_scopes(tmp_path, rsps, v2, guideline=HOSPICE_OFF)
    assert location_scopes(scopes) == []
    suffix = "rs" if v2 else "read"
    assert f"patient/Encounter.{suffix}" in scopes  # the visits are still read, for the other exclusions and checks


def test_the_page_with_the_exclusion_off_reads_no_location(tmp_path: Any) -> None:
    # The scope follows what the page reads: with the exclusion off, a visit at an unread Location sends no read.
    from builders import med_request, patient
    from test_hospice_place_reads import epic_place
    from test_hospice_point_of_care import epic_stay_at
    from test_plan_view import FakeFhir, _app, _open_plan

    current = med_request("1049621", authored="2026-06-05T09:00:00-04:00", supply_days=30)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fhir = FakeFhir(mock, [patient(patient_id="p1"), current, epic_stay_at("p1", epic_place())])
        html = _open_plan(_app(tmp_path, guideline=HOSPICE_OFF)).get_data(as_text=True)
    assert [url for url, _ in fhir.requests if "/Location/" in url] == []
    assert "Places of recent visits" not in html
