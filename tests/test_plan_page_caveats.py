"""The plan page end to end (Flask, FHIR mocked with responses): a section never reads as "none" or "all clear" when
a search it rests on failed or a current order could not be identified; the Alerts section names the same data
the hook's data-incomplete card names."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from builders import days_ago, med_request, patient, procedure
from test_plan import _document, rich_patient
from test_plan_view import FakeFhir, _app, _open_plan

from guideline.plan.alerts import INCOMPLETE_SUMMARY

CPT = "http://www.ama-assn.org/go/cpt"


class DatedFhir(FakeFhir):
    """As an EHR searches: dated searches keep their window (`authoredon`, `date`), and named searches can fail."""

    def __init__(self, rsps: responses.RequestsMock, resources: list[dict[str, Any]]) -> None:
        super().__init__(rsps, resources)
        self.fail_when: list[str] = []  # a search whose URL holds any of these answers HTTP 500

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        if any(part in request.url for part in self.fail_when):
            return 500, {}, '{"resourceType": "OperationOutcome"}'
        status, headers, body = super()._answer(request)
        params = parse_qs(urlsplit(request.url).query)
        since = (params.get("authoredon") or params.get("date") or [""])[0].removeprefix("ge")[:10]
        if status != 200 or not since or '"entry"' not in body:
            return status, headers, body
        bundle = json.loads(body)
        fields = ("authoredOn", "date", "effectiveDateTime", "performedDateTime")
        bundle["entry"] = [
            e for e in bundle["entry"] if next((e["resource"][f] for f in fields if f in e["resource"]), "") >= since
        ]
        return status, headers, json.dumps(bundle)


def _server(resources: list[dict[str, Any]]) -> Iterator[DatedFhir]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield DatedFhir(rsps, resources)


def _text(html: str) -> str:
    """The words a clinician reads (tags and scripts gone, spaces collapsed)."""
    words = re.sub(r"<script.*?</script>|<style.*?</style>", " ", html, flags=re.S)
    words = re.sub(r"<[^>]+>", " ", words).replace("&#39;", "'").replace("&amp;", "&").replace("&quot;", '"')
    return re.sub(r"\s+", " ", words)


def _section(html: str, key: str) -> str:
    found = re.search(rf'<section id="{re.escape(key)}".*?</section>', html, re.S)
    assert found, key
    return _text(found.group(0))


def _standing_oxycodone() -> dict[str, Any]:
    """Oxycodone 5 mg every 4 hours ordered three years ago and still active (an Epic long-term order with a
    validity period): outside the page's 2-year order search, found only by the active-order search."""
    order = med_request("1049621", id="oxy-standing", authored=days_ago(1100), dose=2, period=4, supply_days=None)
    order["dispenseRequest"]["validityPeriod"] = {"start": days_ago(1100), "end": days_ago(-180)}
    return order


@pytest.fixture
def standing() -> Iterator[DatedFhir]:
    yield from _server([patient(), _standing_oxycodone()])


def test_with_the_active_order_search_read_the_old_order_counts(tmp_path: Any, standing: DatedFhir) -> None:
    html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert "Total: 90.0 MME/day" in _section(html, "medications")


def test_a_failed_active_order_search_is_named_in_the_medications_and_alerts(
    tmp_path: Any, standing: DatedFhir
) -> None:
    standing.fail_when = ["status=active"]
    html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    medications, alerts = _section(html, "medications"), _section(html, "alerts")
    assert "Active medication orders could not be read" in medications
    assert "Active medication orders could not be read" in alerts
    assert "No guideline alerts for this patient today" not in alerts
    for section in ("risks", "mme_history", "taper", "oud"):
        assert "Active medication orders could not be read" in _section(html, section), section


def _order_naming_m404() -> dict[str, Any]:
    """An active order naming Medication/m404, which the EHR answers 404: no code, no name."""
    order = med_request("1049621", id="oxy-ref", authored=days_ago(10), dose=2, supply_days=30)
    order.pop("medicationCodeableConcept")
    order["medicationReference"] = {"reference": "Medication/m404"}
    return order


@pytest.fixture
def unidentified() -> Iterator[DatedFhir]:
    yield from _server([patient(), _order_naming_m404()])


def _hook_card_lines(tmp_path: Any) -> list[str]:
    """The patient-view data-incomplete card's lines for the same order, the Medication read answered 404."""
    from cds_support import FHIR as HOOK_FHIR
    from cds_support import bundle, full_prefetch, hook_request
    from cds_support import make_app as make_cds_app

    order = _order_naming_m404()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, f"{HOOK_FHIR}/Medication/m404", status=404, json={})
        app = make_cds_app(tmp_path / "cds")
        prefetch = full_prefetch("patient-view", medsActive=bundle(order), medsRecent=bundle(order))
        body = hook_request("patient-view", prefetch=prefetch, fhir=True)
        cards = app.test_client().post("/cds-services/patient-view", json=body).json["cards"]
    (card,) = [c for c in cards if c["source"]["topic"]["code"] == "data-incomplete"]
    assert card["summary"] == INCOMPLETE_SUMMARY  # the page's alerts use the card's own summary
    return [line[2:] for line in card["detail"].splitlines() if line.startswith("- ")]


def test_an_order_naming_a_medication_not_found_is_named_in_alerts_as_the_card_names_it(
    tmp_path: Any, unidentified: DatedFhir
) -> None:
    html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    alerts = _section(html, "alerts")
    assert "No guideline alerts" not in alerts
    assert "Some patient data could not be read; opioid safety checks may be incomplete" in alerts
    assert "Medication details: 1 of 1 could not be read" in alerts  # once: not "could not be read (1 of 1 …)"
    assert "could not be read (1 of 1" not in alerts
    # The hook names the Medication read by its own words; every other line of its card is on the page as is.
    lines = [line for line in _hook_card_lines(tmp_path) if not line.startswith("medication details for orders")]
    assert any("Medication/m404 (not found) (current order oxy-ref): " in line for line in lines)
    assert lines and all(line in alerts for line in lines), lines


def test_an_order_naming_a_medication_not_found_is_no_zero_total(tmp_path: Any, unidentified: DatedFhir) -> None:
    medications = _section(_open_plan(_app(tmp_path)).get_data(as_text=True), "medications")
    assert "no current opioid orders or fills" not in medications
    assert "No current opioid orders." not in medications
    assert "Medication/m404 (not found) (current order oxy-ref)" in medications
    assert "may be an opioid" in medications


def test_a_failed_lab_search_is_named_beside_the_risk_factors(tmp_path: Any) -> None:
    for fhir in _server(rich_patient()):
        fhir.fail_when = ["category=laboratory"]
        risks = _section(_open_plan(_app(tmp_path)).get_data(as_text=True), "risks")
        assert "Laboratory results (13 months) could not be read" in risks
        not_found = re.search(r"Not found: [^.]*\.", risks).group(0)
        assert "urine drug test" not in not_found and "Opioid overdose history" in not_found
        assert "Not known" in risks and "illicit opioid in a urine drug test, not prescribed (Laboratory" in risks


def test_a_failed_procedure_search_is_named_beside_the_drug_tests(tmp_path: Any) -> None:
    # The only recent drug test is a point-of-care cup billed as a procedure (CPT 80305).
    record = [r for r in rich_patient() if "laboratory" not in json.dumps(r.get("category"))]
    record.append(procedure(CPT, "80305", performed=days_ago(30)))
    for fhir in _server(record):
        assert "done, no result recorded" in _section(_open_plan(_app(tmp_path)).get_data(as_text=True), "uds")
        fhir.fail = {"Procedure"}
        uds = _section(_open_plan(_app(tmp_path)).get_data(as_text=True), "uds")
        assert "Procedures (2 years) could not be read" in uds
        assert "No urine drug test results in the past" not in uds
        assert "not known whether one was done" in uds


def test_an_agreement_older_than_the_document_search_is_none_in_that_window(tmp_path: Any) -> None:
    # Signed 33 months ago; documents are searched 2 years back, so the page cannot know of it: "none on record"
    # read as never signed.
    record = [r for r in rich_patient() if r["resourceType"] != "DocumentReference"]
    record.append(_document("94136-9", days_ago(1000), "Opioid treatment agreement"))
    for _ in _server(record):
        page = _text(_open_plan(_app(tmp_path)).get_data(as_text=True))
        assert "No treatment agreement on record" not in page
        assert "Last: none on record" not in re.search(r"Treatment agreement.{0,120}", page).group(0)
        assert "none in the last 2 years" in page


def test_the_copied_note_never_says_no_alerts_when_the_checks_may_be_incomplete(
    tmp_path: Any, unidentified: DatedFhir
) -> None:
    html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    note = _text(re.search(r'id="note-text".*?</textarea>', html, re.S).group(0))
    assert "Alerts: none today." not in note
    assert "Alerts: none today, but some patient data could not be read" in note


SNOMED = "http://snomed.info/sct"


def test_a_therapy_older_than_the_searches_is_none_in_that_window(tmp_path: Any) -> None:
    # Physical therapy done 33 months ago: procedures and referrals are searched 2 years back (and the section lists
    # 2 years of therapies), so "covered, not on record" read as never tried.
    record = [patient(), procedure(SNOMED, "91251008", performed=days_ago(1000))]
    for _ in _server(record):
        therapies = _section(_open_plan(_app(tmp_path)).get_data(as_text=True), "nonopioid")
        assert "not on record" not in therapies
        assert "Physical therapy: covered, none in the last 2 years" in therapies
        assert "Acetaminophen: none in the last 2 years" in therapies


def test_scores_and_screens_found_none_name_the_window_searched(tmp_path: Any) -> None:
    # No PEG, PHQ-9 or GAD-7 in the searches (2 years of surveys and coded scores): each says so in the same words
    # as the tiles, naming the window, never a hard-coded one the searches may not match.
    for _ in _server([patient(), _standing_oxycodone()]):
        steps = _text(_open_plan(_app(tmp_path)).get_data(as_text=True))
        for said in ("PEG (pain, enjoyment, general activity)", "PHQ-9 (depression)", "GAD-7 (anxiety)"):
            assert re.search(re.escape(said) + r"\W+none in the last 2 years", steps), said
        assert "A PEG score: none in the last 2 years." in steps
        assert "A PHQ-9 screen: none in the last 2 years." in steps
        assert "none in 2 years" not in steps and "none on record in 2 years" not in steps
        assert "PEG and pain intensity scores: none in the last 2 years." in steps


def test_a_site_widening_the_coded_score_search_is_still_told_the_window_all_searches_share(tmp_path: Any) -> None:
    # checks.pdmp-review.lookback_days 1000 widens the coded-score search to 1000 days; the questionnaire search and
    # the score list stay at 2 years, so a PEG 30 months old sent as a survey is unseen: never "none in 1000 days".
    site = {"checks": {"pdmp-review": {"lookback_days": 1000}}}
    for _ in _server([patient(), _standing_oxycodone()]):
        page = _text(_open_plan(_app(tmp_path, guideline=site)).get_data(as_text=True))
        assert "PHQ-9 and GAD-7 (1000 days)" in page  # the coded-score search was widened
        assert "A PEG score: none in the last 2 years." in page
        assert "1000 days." not in page
