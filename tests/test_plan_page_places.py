"""The plan page reads the Locations of recent visits' places as the hook does: an Epic hospice stay known only by
its department's Location type excludes the patient on the page as on the card, and a place not read is named."""

from __future__ import annotations

from typing import Any

import responses
from builders import PATIENT_ID, med_request, patient
from cds_support import FHIR
from test_hospice_place_reads import EPIC_LOCATION, epic_location, epic_place, incomplete, sign
from test_hospice_point_of_care import epic_hospice_stay, epic_stay_at
from test_plan_page_caveats import _section
from test_plan_view import FakeFhir, _app, _open_plan

from guideline.exclusions import HOSPICE_PLACES
from guideline.plan.alerts import INCOMPLETE_SUMMARY

OXYCODONE = "1049621"  # oxycodone 5 mg oral tablet
NOT_APPLICABLE = "Not applicable: receiving hospice or palliative care"


def page(tmp_path: Any, *resources: dict[str, Any]) -> tuple[str, FakeFhir]:
    current = med_request(OXYCODONE, authored="2026-06-05T09:00:00-04:00", supply_days=30)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fhir = FakeFhir(rsps, [patient(patient_id="p1"), current, *resources])
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    return html, fhir


def location_reads(fhir: FakeFhir) -> list[str]:
    return [url for url, _ in fhir.requests if "/Location/" in url]


def test_a_stay_at_a_location_typed_hospice_excludes_on_the_page_as_on_the_card(tmp_path: Any) -> None:
    # Before: the page never read the Location, so the card excluded the patient and the page showed every step due.
    html, fhir = page(tmp_path, epic_stay_at("p1", epic_place()), epic_location())
    assert len(location_reads(fhir)) == 1
    assert NOT_APPLICABLE in html
    assert "places of recent visits" not in html.lower()


def test_a_location_the_page_cannot_read_is_named_on_its_data_completeness_panel(tmp_path: Any) -> None:
    html, _ = page(tmp_path, epic_stay_at("p1", epic_place()))  # no such Location: the server answers 404
    assert NOT_APPLICABLE not in html
    assert "Places of recent visits" in html
    assert f"Location/{EPIC_LOCATION}: the FHIR server answered HTTP 404" in html


def test_a_place_not_read_is_not_named_where_other_evidence_already_excludes(tmp_path: Any) -> None:
    seen = epic_hospice_stay("2026-06-01T09:00:00-04:00", "2026-06-01T10:00:00-04:00", "finished")
    seen["subject"] = {"reference": "Patient/p1"}
    html, _ = page(tmp_path, epic_stay_at("p1", epic_place("e5North", "5 North Medical")), seen)
    assert NOT_APPLICABLE in html
    assert "Location/e5North" not in html


def test_the_app_asks_to_read_locations_as_the_user_and_only_to_read_them() -> None:
    # Before: no Location scope, so the page's Location reads were refused (403) wherever the EHR enforces scopes.
    # Location is organisation data outside the Patient compartment: a patient/ scope does not cover it in SMART's
    # terms, so the user-level read is asked for (v2 `.r`, v1 `.read`), never search, create or update.
    from launch.discovery import SmartConfiguration
    from launch.scopes import requested_scope

    v2 = SmartConfiguration("https://a/authorize", "https://a/token", capabilities=frozenset({"permission-v2"}))
    v1 = SmartConfiguration("https://a/authorize", "https://a/token", capabilities=frozenset({"permission-v1"}))
    for config, wanted in ((v2, "user/Location.r"), (v1, "user/Location.read")):
        asked = requested_scope(config, ehr_launch=True, write=True).split()
        assert [scope for scope in asked if "Location" in scope] == [wanted]


def test_a_place_not_read_marks_the_alerts_section_possibly_incomplete(tmp_path: Any) -> None:
    # Before: the place was named on the completeness panel only, and the alerts section read as complete although the
    # hospice exclusion (which would take every opioid card away) may have applied.
    html, _ = page(tmp_path, epic_stay_at("p1", epic_place()))  # no such Location: the server answers 404
    alerts = _section(html, "alerts")
    assert INCOMPLETE_SUMMARY in alerts
    assert "Places of recent visits (whether a stay was at a hospice): 1 not read; Location/" in alerts
    assert "No guideline alerts for this patient today" not in alerts


def test_a_place_not_read_is_worded_on_the_page_in_the_cards_words(tmp_path: Any) -> None:
    # Before: the card said "places of recent visits (…): 1 not read; Location/…: …" and the page's alerts, which
    # list what the card would name, "Places of recent visits (…): could not be read (1 not read; Location/…: …)".
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]}
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR}/Location/{EPIC_LOCATION}", json=outcome, status=404)
        card = incomplete(sign(tmp_path / "hook", epic_stay_at(PATIENT_ID, epic_place())))
    (line,) = [line.removeprefix("- ") for line in card.splitlines() if line.startswith(f"- {HOSPICE_PLACES}")]
    assert line == f"{HOSPICE_PLACES}: 1 not read; Location/{EPIC_LOCATION}: the FHIR server answered HTTP 404"

    html, _ = page(tmp_path, epic_stay_at("p1", epic_place()))  # no such Location: the server answers 404
    alerts = _section(html, "alerts")
    assert line[0].upper() + line[1:] in alerts
    assert "could not be read (1 not read" not in alerts
