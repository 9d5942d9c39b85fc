"""Asking for payer claims (prefetch.payer_claims): at a payer's deployment, whose FHIR server holds the member's
CARIN Blue Button claims, the hooks and the plan page both search ExplanationOfBenefit and read each claim as the fills,
diagnoses and procedures it stands for, so a hospice claim excludes on the card and the page alike and a fill known
only from a claim counts on both; off (the default), nothing is asked and no scope requested."""

from __future__ import annotations

import re
from typing import Any

import pytest
import responses
from builders import PATIENT_ID, patient
from cds_support import FHIR, bundle, full_prefetch, hook_request, make_app, oxycodone_draft, topics
from test_cds_claims import pharmacy_claim
from test_hospice_point_of_care import OPIOID_CARDS, hospice_claim
from test_plan_page_caveats import _section
from test_plan_view import FHIR as PAGE_FHIR
from test_plan_view import FakeFhir, _app, _open_plan
from test_undated_claim_exclusions import PALLIATIVE_CARE, undated_claim

ON = {"prefetch": {"payer_claims": True}}
PORTABLE = "ExplanationOfBenefit?patient={{context.patientId}}&_count=100"
DATED = "ExplanationOfBenefit?patient={{context.patientId}}&service-date=ge{{today() - 395 days}}&_count=100"
LABEL = "payer claims (fills, diagnoses and procedures billed)"
PAGE_LABEL = "Payer claims (395 days)"  # the page names the window it searched, as it does every widened search
NOT_APPLICABLE = "Not applicable: receiving hospice or palliative care"
# Every other search, answered empty (responses hands a request matching two patterns to the first only once).
OTHER_SEARCHES = r"/(?!ExplanationOfBenefit)\w+\?.*"


def dated_hospice_claim(ident: str = "h-dated") -> dict[str, Any]:
    """A CMS Blue Button hospice claim for this month's care: the patient is in hospice."""
    return hospice_claim(ident, billablePeriod={"start": "2026-06-01", "end": "2026-06-30"})


def with_patient(claim: dict[str, Any], patient_id: str) -> dict[str, Any]:
    """The claim as the page's patient's (the plan page launches for p1)."""
    return claim | {"patient": {"reference": f"Patient/{patient_id}"}}


# -- the setting, discovery and the scopes ---------------------------------------------------------------------


def test_the_setting_is_known_off_by_default_and_must_be_true_or_false() -> None:
    from guideline.config import ConfigError, GuidelineConfig

    assert GuidelineConfig.from_mapping()["prefetch"]["payer_claims"] is False
    assert GuidelineConfig.from_mapping(ON)["prefetch"]["payer_claims"] is True
    with pytest.raises(ConfigError, match="prefetch.payer_claims"):
        GuidelineConfig.from_mapping({"prefetch": {"payer_claims": "yes"}})


def test_the_claims_search_is_published_on_every_hook_only_when_the_site_turns_it_on(tmp_path) -> None:
    plain = make_app(tmp_path / "a").test_client().get("/cds-services").get_json()["services"]
    assert all("payerClaims" not in service["prefetch"] for service in plain)
    assert not any("ExplanationOfBenefit" in service["usageRequirements"] for service in plain)
    services = make_app(tmp_path / "b", guideline=ON).test_client().get("/cds-services").get_json()["services"]
    assert {service["hook"]: service["prefetch"].get("payerClaims") for service in services} == {
        "order-sign": PORTABLE,
        "order-select": PORTABLE,
        "patient-view": PORTABLE,
    }
    assert all("ExplanationOfBenefit" in service["usageRequirements"] for service in services)
    # Nothing else changes: the other keys are the ones a site on the defaults publishes.
    for before, after in zip(plain, services, strict=True):
        assert {k: v for k, v in after["prefetch"].items() if k != "payerClaims"} == before["prefetch"]


def test_the_dated_claims_search_reaches_back_as_far_as_the_fills_and_the_hospice_visits_read() -> None:
    from cds_hooks.services import templates
    from guideline.config import GuidelineConfig

    dated = GuidelineConfig.from_mapping({"prefetch": {"payer_claims": True, "dated": True}})
    assert templates("order-select", dated)["payerClaims"] == DATED
    # A site reading hospice visits over 24 months reads 24 months of hospice claims.
    wider = GuidelineConfig.from_mapping(
        {
            "prefetch": {"payer_claims": True, "dated": True},
            "exclusions": {"hospice_palliative": {"encounter_months": 24}},
        }
    )
    assert templates("patient-view", wider)["payerClaims"] == DATED.replace("395 days", "24 months")


def test_the_claims_scope_is_asked_only_when_the_site_turns_the_search_on() -> None:
    from launch.discovery import SmartConfiguration
    from launch.scopes import requested_scope
    from smart_app.config import load_settings

    v2 = SmartConfiguration("https://a/authorize", "https://a/token", capabilities=frozenset({"permission-v2"}))
    v1 = SmartConfiguration("https://a/authorize", "https://a/token")
    on = load_settings(guideline=ON).launch
    assert on.extra_read_types == ("ExplanationOfBenefit",)
    assert "patient/ExplanationOfBenefit.rs" in requested_scope(v2, ehr_launch=True, extra_reads=on.extra_read_types)
    assert "patient/ExplanationOfBenefit.read" in requested_scope(v1, ehr_launch=True, extra_reads=on.extra_read_types)
    off = load_settings().launch
    assert off.extra_read_types == ()
    for server in (v1, v2):
        assert "ExplanationOfBenefit" not in requested_scope(server, ehr_launch=True, extra_reads=off.extra_read_types)


# -- the card: the key read as any key, and its FHIR fallback --------------------------------------------------


def _order_sign(tmp_path, settings: dict[str, Any], **prefetch: Any) -> dict[str, Any]:
    body = hook_request(drafts=[oxycodone_draft()], prefetch=full_prefetch("order-sign", **prefetch))
    response = make_app(tmp_path, guideline=settings).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200
    return response.json


def test_a_hospice_claim_in_the_claims_key_excludes_as_in_any_other_key(tmp_path) -> None:
    assert set(topics(_order_sign(tmp_path / "a", ON, payerClaims=bundle()))) == OPIOID_CARDS
    assert topics(_order_sign(tmp_path / "b", {}, procedures=bundle(dated_hospice_claim()))) == []
    assert topics(_order_sign(tmp_path / "c", ON, payerClaims=bundle(dated_hospice_claim()))) == []


def _patient_view(tmp_path, settings: dict[str, Any], claims_answer: dict[str, Any] | None, status: int = 200):
    """A patient-view with no prefetch, its data read from the FHIR server; the claims search answered as given."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{FHIR}/Patient/{PATIENT_ID}", json=patient())
        claims = mock.get(
            re.compile(re.escape(f"{FHIR}/ExplanationOfBenefit") + r"\?.*"), json=claims_answer or {}, status=status
        )
        mock.get(re.compile(re.escape(FHIR) + OTHER_SEARCHES), json=bundle())
        body = hook_request("patient-view", prefetch={}, fhir=True)
        answer = make_app(tmp_path, guideline=settings).test_client().post("/cds-services/patient-view", json=body)
    return answer.get_json(), claims.calls


@pytest.mark.parametrize(("settings", "asked"), [pytest.param(ON, True, id="on"), pytest.param({}, False, id="off")])
def test_the_fhir_fallback_searches_claims_only_when_the_site_turns_it_on(
    tmp_path, settings: dict[str, Any], asked: bool
) -> None:
    answer, calls = _patient_view(tmp_path, settings, bundle(pharmacy_claim(day="2026-06-10")))
    assert bool(calls) is asked
    if asked:
        (call,) = calls
        assert f"/ExplanationOfBenefit?patient={PATIENT_ID}&_count=100" in call.request.url
    # The claim's 90 MME/day of oxycodone is the patient's dose only where the claims were read.
    assert ("high-mme" in topics(answer)) is asked


def test_a_refused_claims_search_is_named_on_the_data_incomplete_card(tmp_path) -> None:
    answer, calls = _patient_view(tmp_path, ON, None, status=403)
    assert len(calls) == 1
    incomplete = next(c for c in answer["cards"] if c["source"]["topic"]["code"] == "data-incomplete")
    assert LABEL in incomplete["detail"]
    assert "403" in incomplete["detail"]


# -- the plan page: the same search, the same reading ----------------------------------------------------------


def test_the_plan_page_asks_for_claims_of_the_fills_window_only_when_on() -> None:
    from datetime import date

    from guideline.config import GuidelineConfig
    from smart_app.plan_view import QUERY_LABELS, plan_queries

    on = GuidelineConfig.from_mapping(ON)
    assert plan_queries("p1", date(2026, 6, 15), on)["claims"] == (
        "ExplanationOfBenefit?patient=p1&service-date=ge2025-05-16&_count=100"
    )
    assert QUERY_LABELS["claims"] == PAGE_LABEL
    assert "claims" not in plan_queries("p1", date(2026, 6, 15), GuidelineConfig.from_mapping())


def test_the_plan_pages_claims_label_names_the_window_its_readers_widen_it_to() -> None:
    # Before, the label said "Payer claims (ExplanationOfBenefit)" whatever window was searched, where every other
    # widened search names its own ("Encounters (24 months)").
    from datetime import date

    from guideline.config import GuidelineConfig
    from smart_app.plan_view import plan_queries, query_labels

    on = GuidelineConfig.from_mapping(ON)
    assert query_labels(on)["claims"] == "Payer claims (395 days)"
    wider = GuidelineConfig.from_mapping(ON | {"exclusions": {"hospice_palliative": {"encounter_months": 24}}})
    assert query_labels(wider)["claims"] == "Payer claims (24 months)"
    assert query_labels(wider)["encounters"] == "Encounters (24 months)"
    assert plan_queries("p1", date(2026, 6, 15), wider)["claims"] == (
        "ExplanationOfBenefit?patient=p1&service-date=ge2024-06-15&_count=100"
    )


def _page_and_card(tmp_path, resources: list[dict[str, Any]], settings: dict[str, Any]) -> tuple[str, dict, Any]:
    """The plan page and a patient-view card of p1, both read from the same FHIR server."""
    tmp_path.mkdir(exist_ok=True)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeFhir(rsps, resources)
        app = _app(tmp_path, guideline=settings, auth="off")
        html = _open_plan(app).get_data(as_text=True)
        body = hook_request("patient-view", prefetch={}, fhir=True) | {"fhirServer": PAGE_FHIR}
        body["context"]["patientId"] = "p1"
        answer = app.test_client().post("/cds-services/patient-view", json=body).get_json()
    return html, answer, fake


def test_the_plan_page_reads_a_hospice_claim_as_the_card_does(tmp_path) -> None:
    # Before, the page never searched claims: the card (fed by the payer's prefetch) excluded a patient in hospice
    # while the page beside it showed every step as due.
    resources = [patient(patient_id="p1"), with_patient(dated_hospice_claim(), "p1")]
    html, answer, fake = _page_and_card(tmp_path, resources, ON)
    assert any("/ExplanationOfBenefit?patient=p1&service-date=ge2025-05-16&_count=100" in u for u, _ in fake.requests)
    assert NOT_APPLICABLE in html
    assert "naloxone" not in topics(answer) and "urine-drug-test" not in topics(answer)


def test_the_plan_page_counts_a_fill_known_only_from_a_claim_as_the_card_does(tmp_path) -> None:
    resources = [patient(patient_id="p1"), with_patient(pharmacy_claim(day="2026-06-10"), "p1")]
    html, answer, _ = _page_and_card(tmp_path / "on", resources, ON)
    assert '<strong id="total-mme">90.0 MME/day from pharmacy fills</strong>' in html
    assert "high-mme" in topics(answer)
    html, answer, fake = _page_and_card(tmp_path / "off", resources, {})
    assert not any("ExplanationOfBenefit" in u for u, _ in fake.requests)
    assert "90.0 MME/day" not in html and "high-mme" not in topics(answer)


def test_a_refused_claims_search_is_named_on_the_plan_page(tmp_path) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(re.compile(re.escape(PAGE_FHIR) + r"/ExplanationOfBenefit\?.*"), status=403, json={})
        FakeFhir(rsps, [patient(patient_id="p1")])
        html = _open_plan(_app(tmp_path, guideline=ON)).get_data(as_text=True)
    assert f"<strong>Some data could not be read:</strong> {PAGE_LABEL}." in html
    assert f'<td>{PAGE_LABEL}</td><td class="num">0</td><td>Failed: the FHIR server answered HTTP 403</td>' in html
    # The fills it would have held are not known: the dose is a floor, never "no opioid".
    assert "some medication records could not be read" in html


def test_a_hospice_claim_with_no_day_of_care_is_named_on_the_plan_page_as_on_the_card(tmp_path) -> None:
    resources = [patient(patient_id="p1"), with_patient(hospice_claim("h-undated"), "p1")]
    html, answer, _ = _page_and_card(tmp_path, resources, ON)
    named = "Hospice claim (ExplanationOfBenefit h-undated): has no date of care"
    incomplete = next(c for c in answer["cards"] if c["source"]["topic"]["code"] == "data-incomplete")
    assert named in incomplete["detail"]
    assert named in html and "Payer claims not counted" in html
    assert NOT_APPLICABLE not in html


def test_a_claims_search_cut_short_is_named_on_the_card_and_the_page(tmp_path) -> None:
    endless = bundle(pharmacy_claim()) | {
        "link": [{"relation": "next", "url": f"{FHIR}/ExplanationOfBenefit?patient={PATIENT_ID}&_page=2"}]
    }
    settings = {"prefetch": {"payer_claims": True, "page_cap": 2}}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{FHIR}/Patient/{PATIENT_ID}", json=patient())
        mock.get(re.compile(re.escape(f"{FHIR}/ExplanationOfBenefit") + r"\?.*"), json=endless)
        mock.get(re.compile(re.escape(FHIR) + OTHER_SEARCHES), json=bundle())
        body = hook_request("patient-view", prefetch={}, fhir=True)
        answer = (
            make_app(tmp_path / "card", guideline=settings).test_client().post("/cds-services/patient-view", json=body)
        )
    incomplete = next(c for c in answer.get_json()["cards"] if c["source"]["topic"]["code"] == "data-incomplete")
    assert LABEL in incomplete["detail"] and "only the first 2 pages were read" in incomplete["detail"]
    (tmp_path / "page").mkdir()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeFhir(rsps, [patient(patient_id="p1"), with_patient(pharmacy_claim(), "p1")])
        fake.endless.add("ExplanationOfBenefit")
        html = _open_plan(_app(tmp_path / "page", guideline=settings)).get_data(as_text=True)
    assert sum(1 for url, _ in fake.requests if "/ExplanationOfBenefit?" in url) == 2
    assert f'<tr class="truncated"><td>{PAGE_LABEL}</td>' in html


def test_an_undated_claim_billing_an_exclusions_diagnosis_is_named_on_the_page_and_in_its_note(tmp_path) -> None:
    # Before, the page left this kind out ("the page reads no payer claims"): with the claims search on it reads the
    # claim the card names, and said nothing of it.
    claim = with_patient(undated_claim("bb-pc-1", PALLIATIVE_CARE), "p1")
    resources = [patient(patient_id="p1"), with_patient(pharmacy_claim(day="2026-06-10"), "p1"), claim]
    html, answer, _ = _page_and_card(tmp_path, resources, ON)
    incomplete = next(c for c in answer["cards"] if c["source"]["topic"]["code"] == "data-incomplete")
    assert "- Payer claim bb-pc-1 bills Z515: gives no date of service" in incomplete["detail"]
    assert (
        "1 payer claim bills an exclusion&#39;s diagnosis but gives no date of service, so it could not count as a "
        "visit or a current diagnosis" in html
    )
    assert "Payer claim bb-pc-1 bills Z515" in html
    assert "Payer claims with no date of service billing an exclusion&#39;s diagnosis (not counted)" in html


# -- a claims search not read is named as payer claims, never as the pharmacy fills read in full ----------------

CLAIMS_NOT_READ = f"{LABEL} could not be read (the FHIR server answered HTTP 403)"


def test_a_refused_claims_search_is_named_as_payer_claims_on_the_cards_that_state_an_absence(tmp_path) -> None:
    # Before, the claims search was read as the fills': with the dispenses searched in full, the card said the
    # pharmacy fills could not be read.
    from test_absent_unread import MARK, morphine_er_draft

    body = hook_request(drafts=[morphine_er_draft()], prefetch=full_prefetch("order-sign"), fhir=True)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.get(re.compile(re.escape(f"{FHIR}/ExplanationOfBenefit") + r"\?.*"), status=403, json={})
        answer = make_app(tmp_path, guideline=ON).test_client().post("/cds-services/order-sign", json=body)
    naive = next(c for c in answer.get_json()["cards"] if c["source"]["topic"]["code"] == "er-la-opioid-naive")
    assert (
        f"**Could not check:** {CLAIMS_NOT_READ}, so opioid use in the past 90 days may be missing." in naive["detail"]
    )
    assert "pharmacy fills could not be read" not in naive["detail"]
    assert f"; {LABEL} could not be read.*" in naive["detail"]  # its "Based on" line
    assert naive["summary"].endswith(MARK)


def test_a_refused_claims_search_is_named_as_payer_claims_on_the_plan_pages_cards() -> None:
    from test_absent_unread_plan import READ, alert_cards, status

    from guideline.plan import QueryStatus

    refused = QueryStatus("claims", PAGE_LABEL, "ExplanationOfBenefit?…", 0, False, "the FHIR server answered HTTP 403")
    cards = alert_cards([*[status(key) for key in READ], refused])
    naive = cards["er-la-opioid-naive"]
    assert naive.facts["not_read"] == ["payer-claims"]
    assert f"**Could not check:** {CLAIMS_NOT_READ}" in naive.detail
    assert "pharmacy fills could not be read" not in naive.detail


def test_a_claim_that_stands_for_nothing_is_named_in_one_wording_on_the_card_and_the_page(tmp_path) -> None:
    from guideline.population.claims import CLAIMS_UNREAD

    resources = [patient(patient_id="p1"), with_patient(hospice_claim("h-void", status="cancelled"), "p1")]
    html, answer, _ = _page_and_card(tmp_path, resources, ON)
    incomplete = next(c for c in answer["cards"] if c["source"]["topic"]["code"] == "data-incomplete")
    said = "1 left out: no drug line, diagnosis or procedure PainPlan reads, or cancelled"
    assert f"1 {CLAIMS_UNREAD}" == said
    assert f"payer claims (ExplanationOfBenefit): {said}" in incomplete["detail"]
    assert "<td>Payer claims not counted</td>" in html and said in html


def test_a_refused_claims_search_leaves_the_plan_pages_medicine_evidence_unknown(tmp_path) -> None:
    # Before, the page's own evidence rested on the dispenses alone: with the claims search refused it said "No opioid
    # therapy now or planned" and "Naloxone on hand: none", where an opioid or naloxone fill known only from a claim
    # may be; a refused dispenses search made them "not known".
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(re.compile(re.escape(PAGE_FHIR) + r"/ExplanationOfBenefit\?.*"), status=403, json={})
        FakeFhir(rsps, [patient(patient_id="p1")])
        html = _open_plan(_app(tmp_path, guideline=ON)).get_data(as_text=True)
    assert "No opioid therapy now or planned" not in html
    assert f"Could not be checked: the search for {PAGE_LABEL} failed, so current opioids are unknown" in html
    assert f"not known, {PAGE_LABEL} could not be read" in html
    assert f"{PAGE_LABEL} could not be read (the FHIR server answered HTTP 403); this section may be incomplete" in html


# -- a claims search not read leaves what claims bill as procedures and diagnoses not known ---------------------


def test_a_refused_claims_search_is_named_on_the_urine_drug_test_card(tmp_path) -> None:
    # Before, only the drug tests' own searches were named: with the procedures searched in full and the claims
    # refused, the card said no test was found without a word, where a drug test billed as CPT 80305 may be.
    from test_absent_unread import MARK, morphine_er_draft

    body = hook_request(drafts=[morphine_er_draft()], prefetch=full_prefetch("order-sign"), fhir=True)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.get(re.compile(re.escape(f"{FHIR}/ExplanationOfBenefit") + r"\?.*"), status=403, json={})
        answer = make_app(tmp_path, guideline=ON).test_client().post("/cds-services/order-sign", json=body)
    uds = next(c for c in answer.get_json()["cards"] if c["source"]["topic"]["code"] == "urine-drug-test")
    assert f"**Could not check:** {CLAIMS_NOT_READ}, so a urine drug test of the last" in uds["detail"]
    assert "no urine drug test result found in what could be read" in uds["detail"]
    # Its "Based on" line no longer names the drug test results as read in full, nor the procedures as not read.
    assert "urine drug test results in the last 12 months" not in uds["detail"]
    assert "procedures could not be read" not in uds["detail"]
    assert uds["summary"].endswith(MARK)


def _plan_with_claims_refused(resources: list[dict[str, Any]]):
    """The plan of the patient on the page's searches read in full, but for the payer claims, refused (HTTP 403)."""
    from datetime import date

    from builders import TODAY
    from test_plan import plan_for

    from guideline.config import GuidelineConfig
    from guideline.plan import QueryStatus
    from smart_app.plan_view import QUERY_LABELS, plan_queries

    refused = "the FHIR server answered HTTP 403"
    statuses = [
        QueryStatus(key, QUERY_LABELS[key], "…", 0, key != "claims", refused if key == "claims" else None)
        for key in plan_queries("p1", TODAY, GuidelineConfig.from_mapping(ON))
    ]
    assert date(2026, 6, 15) == TODAY and any(s.key == "claims" for s in statuses)
    return plan_for(resources, statuses=statuses)


def test_a_refused_claims_search_leaves_the_plan_pages_drug_test_and_oud_diagnosis_not_known() -> None:
    # Before, the drug test tile was due and the OUD diagnosis "none on record", where a drug test or a diagnosis
    # billed to the payer may be.
    from test_plan import rich_patient

    no_test = [r for r in rich_patient() if r.get("code", {}).get("coding", [{}])[0].get("code") not in UDS_CODES]
    plan = _plan_with_claims_refused(no_test)
    uds = next(t for t in plan.section("tasks").content if t.key == "uds")
    assert uds.state == "not-read" and f"{PAGE_LABEL} could not be read" in uds.detail
    decide = next(s for s in plan.section("steps").content.steps if s.key == "decide")
    oud = next(e for e in decide.evidence if e.label == "Opioid use disorder")
    assert oud.unread and f"not known: {PAGE_LABEL} could not be read" in oud.detail


UDS_CODES = ("14314-9", "10998-3")  # rich_patient's urine drug test results


def test_a_claims_search_not_read_leaves_the_billed_doses_and_diagnoses_unclaimed_on_the_cards() -> None:
    # Before, the "Based on" lines named the OUD doses known by billing code and the diagnoses on record as read in
    # full with the claims not read, where a naltrexone injection (J2315) or a diagnosis billed to the payer may be.
    from builders import ICD10, condition
    from cds_support import oxycodone_draft
    from test_absent_unread_checks import DOWN, cards

    from guideline.unread_data import CLAIMS

    oud = condition(ICD10, "F11.20", display="Opioid dependence, uncomplicated")
    treatment = cards("patient-view", resources=[oud], unread={CLAIMS: DOWN})["oud-treatment"]
    assert "doses given in clinic or by a treatment program (by billing code" not in treatment.detail
    assert f"; {LABEL} could not be read.*" in treatment.detail
    naloxone = cards("order-sign", [oxycodone_draft()], resources=[oud], unread={CLAIMS: DOWN})["naloxone"]
    assert "the diagnoses on record read" in naloxone.detail and f"; {LABEL} could not be read.*" in naloxone.detail


def test_a_refused_claims_search_leaves_the_overdose_history_and_the_drug_tests_not_known(tmp_path) -> None:
    # A payer's claims bill an overdose (T40.x) of any year and a drug test (80305) as a procedure: with the claims not
    # read, neither is "not found", as with a failed conditions or procedures search.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(re.compile(re.escape(PAGE_FHIR) + r"/ExplanationOfBenefit\?.*"), status=403, json={})
        FakeFhir(rsps, [patient(patient_id="p1")])
        html = _open_plan(_app(tmp_path, guideline=ON)).get_data(as_text=True)
    risks = _section(html, "risks")
    assert "Opioid overdose history" not in re.search(r"Not found: [^.]*\.", risks).group(0)
    assert f"{PAGE_LABEL} could not be read" in risks
    assert f"{PAGE_LABEL} could not be read" in _section(html, "uds")
