"""One evaluation, two faces: the page opened from an order-sign card evaluates with the drafts the card carried."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import responses
from launch_support import PUBLIC_URL, make_app
from test_plan_view import FHIR, TOKEN, FakeFhir

from cds_hooks.cards import card_json, options_for
from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.engine import evaluate
from guideline.plan import compact_drafts, drafts_from_app_context
from guideline.record import build_record
from smart_app.demo_data import load_demo_patients
from smart_app.demo_data.orders import draft_bundle, story_draft
from smart_app.plan_view import PageInput, assemble

DAY = date(2026, 6, 15)
TZ = ZoneInfo("America/New_York")
NOW = datetime.combine(DAY, time(12), tzinfo=TZ)
CONFIG = GuidelineConfig.from_mapping()


def priya_plan_link() -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """Priya's chart, the drafts of her morphine ER start, and the SMART link of the treatment-plan card."""
    priya = load_demo_patients(DAY)["priya-natarajan"]
    drafts = draft_bundle([story_draft(priya, NOW)])  # morphine ER twice a day for 30 days
    record = build_record(priya.resources(), TZ, draft_orders=drafts)
    evaluation = evaluate(record, HookContext("order-sign", priya.id), CONFIG, NOW)
    plan_card = next(c for c in evaluation.cards if c.check_id == "treatment-plan")
    sent = card_json(plan_card, options_for(CONFIG, "https://x.test", priya.id, drafts))
    return priya, drafts, next(link for link in sent["links"] if link["type"] == "smart")


def _launched_plan_html(tmp_path: Any, resources: list[dict[str, Any]], context: dict[str, Any]) -> str:
    """The plan page as the clinician sees it after opening a card's link with `context` (fake EHR, patient p1)."""
    from launch.session import begin_trusted_launch

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, resources)
        app = make_app(tmp_path, [], today=DAY)

        @app.get("/_card_link")
        def _card_link() -> Any:
            return begin_trusted_launch(iss=FHIR, patient_id="p1", access_token=TOKEN, app_context=context)

        client = app.test_client()
        launched = client.get("/_card_link", base_url=PUBLIC_URL)
        handle = parse_qs(urlsplit(launched.headers["Location"]).query)["s"][0]
        return client.get("/plan", query_string={"s": handle}, base_url=PUBLIC_URL).get_data(as_text=True)


def walter_card_context() -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """Walter's chart, his order-sign high-mme card as the EHR receives it, and that card's appContext."""
    walter = load_demo_patients(DAY)["walter-brooks"]
    drafts = draft_bundle([story_draft(walter, NOW)])
    record = build_record(walter.resources(), TZ, draft_orders=drafts)
    evaluation = evaluate(record, HookContext("order-sign", walter.id), CONFIG, NOW)
    high = next(c for c in evaluation.cards if c.check_id == "high-mme")
    sent = card_json(high, options_for(CONFIG, "https://cds.example.org", walter.id, drafts))
    link = next(link for link in sent["links"] if link["type"] == "smart")
    return walter, sent, json.loads(link["appContext"])


def test_the_card_link_carries_the_drafts_it_is_about():
    _, sent, context = walter_card_context()
    assert "130.0 MME/day with this order" in sent["summary"]
    [draft] = drafts_from_app_context(context)
    assert draft["id"] == context["orders"][0] and draft["resourceType"] == "MedicationRequest"
    assert "dosageInstruction" in draft and "subject" not in draft  # only what the engine reads


def test_drafts_that_would_not_fit_are_left_out_and_odd_hints_are_ignored():
    big = {"resourceType": "MedicationRequest", "id": "d1", "dosageInstruction": [{"text": "x" * 5000}]}
    assert compact_drafts({"resourceType": "Bundle", "entry": [{"resource": big}]}, ["d1"]) is None
    assert compact_drafts({"resourceType": "Bundle", "entry": [{"resource": big}]}, ["other"]) is None
    assert drafts_from_app_context({"drafts": "nope"}) == ()
    assert (
        drafts_from_app_context(
            {"drafts": [{"resourceType": "Patient", "id": "p"}, {"resourceType": "MedicationRequest"}]}
        )
        == ()
    )


def test_a_draft_whose_id_is_not_text_is_skipped_not_a_failure():
    # Found by a 3,000-request fuzz run: a draft with a list or object id made every card that links its drafts fail.
    good = {"resourceType": "MedicationRequest", "id": "d1", "status": "draft"}
    for odd_id in (["d1"], {"value": "d1"}, 7):
        odd = {"resourceType": "MedicationRequest", "id": odd_id, "status": "draft"}
        bundle = {"resourceType": "Bundle", "entry": [{"resource": odd}, {"resource": good}]}
        assert compact_drafts(bundle, ["d1"]) == [good]


def test_page_from_walters_card_shows_130_with_the_order_and_90_without():
    walter, sent, context = walter_card_context()
    page_input = PageInput(tuple(walter.resources()), (), ())
    with_draft = assemble(page_input, CONFIG, walter.id, NOW, {}, drafts=drafts_from_app_context(context))
    meds = with_draft.section("medications").content
    assert meds.total == "130.0 MME/day"
    assert meds.comparison == (
        "90.0 MME/day now; 130.0 with the order being signed (hydrocodone 10 mg / acetaminophen 325 mg tablet)"
    )
    # the same findings as the chart's order-sign cards
    alerts = with_draft.section("alerts").content
    assert sent["summary"] in [c.summary for c in alerts.cards]
    assert {c.check_id for c in alerts.cards} == {"high-mme", "naloxone"}
    standing = assemble(page_input, CONFIG, walter.id, NOW, {})
    assert standing.section("medications").content.total == "90.0 MME/day"
    assert standing.section("medications").content.comparison is None
    assert [c.check_id for c in standing.section("alerts").content.cards] == ["high-mme", "naloxone"]


def test_the_launched_page_names_the_draft_by_its_drug_and_shows_both_figures(tmp_path: Any) -> None:
    walter, _, context = walter_card_context()
    # The fake EHR's launch is for patient p1: Walter's chart is moved to that id, his resources' subjects with it
    # (a resource about another patient is left out of the page).
    moved = json.dumps(list(walter.resources())).replace(f'"Patient/{walter.id}"', '"Patient/p1"')
    resources = [{**r, "id": "p1"} if r["resourceType"] == "Patient" else r for r in json.loads(moved)]
    html = _launched_plan_html(tmp_path, resources, context)
    assert 'id="mme-with-drafts"' in html
    assert (
        "90.0 MME/day now; 130.0 with the order being signed (hydrocodone 10 mg / acetaminophen 325 mg tablet)" in html
    )
    assert "not in the EHR record yet" not in html  # the draft is on the page, named by its drug
    assert context["orders"][0] not in html.split('id="medications"', 1)[1].split("</section>", 1)[0]
    assert "No guideline alerts" not in html


def test_fills_only_patient_has_an_mme_on_the_page():
    fill = {
        "resourceType": "MedicationDispense",
        "id": "f1",
        "status": "completed",
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "891888"}]
        },
        "quantity": {"value": 60, "unit": "tablet"},
        "daysSupply": {"value": 30, "unit": "d", "code": "d"},
        "whenHandedOver": "2026-06-05",
    }
    patient = {"resourceType": "Patient", "id": "p9", "birthDate": "1960-01-01"}
    view = assemble(PageInput((patient, fill), (), ()), CONFIG, "p9", NOW, {})
    meds = view.section("medications").content
    assert meds.total == "60.0 MME/day from pharmacy fills"
    assert [r.mme for r in meds.fills] == ["60.0"] and "filled 2026-06-05" in meds.fills[0].explanation
    assert [c.check_id for c in view.section("alerts").content.cards] == ["high-mme", "naloxone"]  # 60 ≥ 50


def test_agreement_and_consent_are_due_before_starting_long_term_therapy():
    priya, _, link = priya_plan_link()
    page_input = PageInput(tuple(priya.resources()), (), ())
    view = assemble(
        page_input, CONFIG, priya.id, NOW, {}, drafts=drafts_from_app_context(json.loads(link["appContext"]))
    )
    tasks = {t.key: t for t in view.section("tasks").content}
    assert tasks["agreement"].state == "due-before-start" and tasks["consent"].state == "due-before-start"
    # opened without the draft, nothing is being started: not needed now
    tasks = {t.key: t for t in assemble(page_input, CONFIG, priya.id, NOW, {}).section("tasks").content}
    assert tasks["agreement"].state == "not-applicable"


def test_treatment_plan_card_opens_the_step_where_the_plan_is_started(tmp_path: Any) -> None:
    priya, _, link = priya_plan_link()
    context = json.loads(link["appContext"])
    assert context["view"] == "plan-start"
    resources = [{**r, "id": "p1"} if r["resourceType"] == "Patient" else r for r in priya.resources()]
    html = _launched_plan_html(tmp_path, resources, context)
    assert 'id="step-initiate" class="section step' in html and "focused" in html.split('id="step-initiate"', 1)[1][:80]
    assert "Due before starting" in html and "Not needed now" not in html


def test_the_page_leaves_out_and_names_another_patients_resource() -> None:
    walter, _, _ = walter_card_context()
    stray = {
        "resourceType": "MedicationRequest",
        "id": "mr-stray",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/not-walter"},
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "197901"}]
        },
    }
    view = assemble(PageInput((*walter.resources(), stray), (), ()), CONFIG, walter.id, NOW, {})
    assert any(item.startswith("MedicationRequest/mr-stray") and "another patient" in item for item in view.unreadable)
    assert view.section("medications").content.sedatives == ()  # another patient's lorazepam is not Walter's


def test_a_renewal_is_compared_with_the_order_it_replaces_not_with_no_opioid():
    # Tanya renews her oxycodone/acetaminophen: the draft replaces her active order, and the page said "no current
    # opioid now; 30.0 with the order being signed" of a patient on that oxycodone for months, beside a patient-view
    # card that counted it. Her dose now is the order being renewed.
    tanya = load_demo_patients(DAY)["tanya-greene"]
    drafts = draft_bundle([story_draft(tanya, NOW)])
    page_input = PageInput(tuple(tanya.resources()), (), ())
    view = assemble(page_input, CONFIG, tanya.id, NOW, {}, drafts=tuple(e["resource"] for e in drafts["entry"]))
    meds = view.section("medications").content
    assert meds.comparison == (
        "30.0 MME/day now; 30.0 with the order being signed (oxycodone 5 mg / acetaminophen 325 mg tablet)"
    )


def _tasks_signing(patient_id: str) -> dict[str, Any]:
    """The status-strip tiles of a demo patient's page opened from the card of the story's order."""
    chart = load_demo_patients(DAY)[patient_id]
    drafts = draft_bundle([story_draft(chart, NOW)])
    page_input = PageInput(tuple(chart.resources()), (), ())
    view = assemble(page_input, CONFIG, chart.id, NOW, {}, drafts=tuple(e["resource"] for e in drafts["entry"]))
    return {t.key: t for t in view.section("tasks").content}


def test_a_start_being_signed_asks_for_the_review_1_to_4_weeks_later_not_today():
    # Priya's first morphine ER: step 5 said "Due now", next due today, "at least every 91 days during longer-term
    # therapy", for opioids not yet started (the reassessment card quiet).
    tile = _tasks_signing("priya-natarajan")["reassessment"]
    assert tile.state == "due-soon"
    assert tile.next_due == DAY + timedelta(weeks=4)
    assert "with the order being signed" in tile.detail and "1–4 weeks" in tile.detail


def test_an_acute_start_being_signed_asks_for_no_review():
    # Kevin's ten days of oxycodone for an ankle fracture: Rec 7's review 1–4 weeks after a start is for subacute and
    # chronic pain, and the reassessment card never follows an acute course; the tile said "Due soon".
    tile = _tasks_signing("kevin-obrien")["reassessment"]
    assert tile.state == "not-applicable" and tile.next_due is None


def test_a_dose_increase_being_signed_brings_the_review_forward():
    # Walter: the hydrocodone being signed takes him from 90 to 130 MME/day; the tile said "Up to date, next due
    # 2026-08-05" (his last review plus 91 days), where Rec 7 asks for a review 1–4 weeks after an increase.
    tile = _tasks_signing("walter-brooks")["reassessment"]
    assert tile.state == "due-soon" and tile.next_due == DAY + timedelta(weeks=4)
    assert tile.detail.startswith("The order being signed raises the daily dose today (90.0 to 130.0 MME/day)")
    assert "1–4 weeks" in tile.detail


def test_a_renewal_at_the_same_dose_leaves_the_review_where_it_was():
    tile = _tasks_signing("tanya-greene")["reassessment"]
    assert tile.state == "done" and "1–4 weeks" not in tile.detail


def _taper_signing(patient_id: str) -> Any:
    """The tapering calculator of a demo patient's page opened from the card of the story's order."""
    chart = load_demo_patients(DAY)[patient_id]
    drafts = draft_bundle([story_draft(chart, NOW)])
    page_input = PageInput(tuple(chart.resources()), (), ())
    view = assemble(page_input, CONFIG, chart.id, NOW, {}, drafts=tuple(e["resource"] for e in drafts["entry"]))
    return view.section("taper").content


def test_the_taper_starts_from_what_the_patient_takes_now_not_from_the_order_being_signed():
    # Walter: the MME schedule ran "From 130.0 MME/day" with the unsigned hydrocodone among the "current orders",
    # beside a dose schedule starting at 90 (the two tables disagreed at every step).
    taper = _taper_signing("walter-brooks")
    assert taper.plan.start_mme == Decimal("90")
    assert [name for name, _ in taper.per_order] == ["morphine ER 30 mg tablet", "oxycodone 5 mg tablet"]
    assert [step.target_mme for step in taper.doses.schedule.steps[:2]] == [Decimal("90"), Decimal("81")]


def test_a_renewal_is_tapered_in_tablets_from_the_order_it_renews():
    # Tanya: "No current opioid could be expressed in tablets" of her oxycodone 5 mg / acetaminophen 325 mg tablets,
    # because the draft was skipped and the order it renews was no longer current.
    taper = _taper_signing("tanya-greene")
    assert taper.plan.start_mme == Decimal("30")
    assert [r.name for r in taper.doses.regimens] == ["oxycodone 5 mg / acetaminophen 325 mg tablet"]


def test_no_taper_is_offered_for_a_first_opioid_not_yet_taken():
    # Kevin, opioid-naive, 10 days for a broken ankle: the page offered a ten-month taper "From 30.0 MME/day".
    taper = _taper_signing("kevin-obrien")
    assert taper.plan is None and "no current opioid dose" in taper.message.lower()


def test_the_page_works_out_what_the_patient_takes_now_once_and_shows_it_in_all_three_places(monkeypatch: Any):
    # The MME without the drafts (`mme_now`) is read by the comparison beside the total, the reassessment tile and the
    # tapering calculator: each computed it again, three times a page with an order being signed.
    from guideline.plan import medications

    computed: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        computed.append(1)
        return real(*args, **kwargs)

    # Each computation of `mme_now` reads the orders now once.
    real = medications._opioids_now
    monkeypatch.setattr(medications, "_opioids_now", counting)
    walter = load_demo_patients(DAY)["walter-brooks"]
    drafts = draft_bundle([story_draft(walter, NOW)])
    page_input = PageInput(tuple(walter.resources()), (), ())
    view = assemble(page_input, CONFIG, walter.id, NOW, {}, drafts=tuple(e["resource"] for e in drafts["entry"]))
    assert len(computed) == 1
    assert view.section("medications").content.comparison.startswith("90.0 MME/day now; 130.0 with")
    tasks = {t.key: t for t in view.section("tasks").content}
    assert tasks["reassessment"].detail.startswith("The order being signed raises the daily dose today (90.0 to 130.0")
    assert view.section("taper").content.plan.start_mme == Decimal("90")

    computed.clear()
    standing = assemble(page_input, CONFIG, walter.id, NOW, {})  # no drafts: the taper alone reads it
    assert len(computed) == 1 and standing.section("taper").content.plan.start_mme == Decimal("90")


# ---- drafts that name their medicine by reference ----

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
OXYCODONE_SOLUTION = "1049604"  # oxycodone hydrochloride 1 MG/ML Oral Solution


def liquid_draft(**named: Any) -> dict[str, Any]:
    """A draft as Epic and Oracle send a liquid or compounded product: the medicine a contained Medication named only
    by "#med1" (no display to read a name from), 10 mL of 1 mg/mL every 4 hours = 60 mg oxycodone = 90 MME/day."""
    return {
        "resourceType": "MedicationRequest",
        "id": "draft-liquid",
        "status": "draft",
        "intent": "order",
        "category": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category", "code": "community"}
                ]
            }
        ],  # fmt: skip
        "subject": {"reference": "Patient/p1"},
        "authoredOn": DAY.isoformat(),
        "contained": [
            {
                "resourceType": "Medication",
                "id": "med1",
                "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-medication"]},
                "code": {"coding": [{"system": RXNORM, "code": OXYCODONE_SOLUTION}], "text": "oxyCODONE 1 mg/mL soln"},
                "form": {"text": "Solution"},
            },
            {"resourceType": "Organization", "id": "pharm", "name": "Compounding pharmacy"},
        ],
        "medicationReference": {"reference": "#med1"},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 4, "periodUnit": "h"}},
                "doseAndRate": [
                    {"doseQuantity": {"value": 10, "unit": "mL", "system": "http://unitsofmeasure.org", "code": "mL"}}
                ],  # fmt: skip
            }
        ],
        "dispenseRequest": {"expectedSupplyDuration": {"value": 7, "unit": "days", "code": "d"}},
        **named,
    }


def _card_and_context(draft: dict[str, Any], *chart: dict[str, Any]) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The order-sign evaluation of `draft` on `chart` (patient p1), its high-mme card, and that card's appContext."""
    drafts = draft_bundle([draft])
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1960-01-01"}
    record = build_record([patient, *chart], TZ, draft_orders=drafts, fhir_server=FHIR)
    evaluation = evaluate(record, HookContext("order-sign", "p1"), CONFIG, NOW)
    high = next(c for c in evaluation.cards if c.check_id == "high-mme")
    sent = card_json(high, options_for(CONFIG, "https://cds.example.org", "p1", drafts))
    link = next(link for link in sent["links"] if link["type"] == "smart")
    return evaluation, sent, json.loads(link["appContext"])


def test_a_draft_naming_a_contained_medication_gives_the_page_the_cards_mme(tmp_path: Any) -> None:
    evaluation, sent, context = _card_and_context(liquid_draft())
    assert evaluation.facts.mme.total == Decimal("90") and "90.0 MME/day" in sent["summary"]
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1960-01-01"}
    page = assemble(PageInput((patient,), (), ()), CONFIG, "p1", NOW, {}, drafts=drafts_from_app_context(context))
    assert page.section("medications").content.comparison == (
        "no current opioid now; 90.0 with the order being signed (oxyCODONE 1 mg/mL soln)"
    )
    html = _launched_plan_html(tmp_path, [patient], context)
    assert "90.0 with the order being signed" in html
    assert "could not be identified" not in html


def test_only_the_contained_medication_the_draft_names_travels_and_only_what_is_read_of_it() -> None:
    [carried] = compact_drafts(draft_bundle([liquid_draft()]), ["draft-liquid"])
    assert carried["contained"] == [
        {
            "resourceType": "Medication",
            "id": "med1",
            "code": {"coding": [{"system": RXNORM, "code": OXYCODONE_SOLUTION}], "text": "oxyCODONE 1 mg/mL soln"},
            "form": {"text": "Solution"},
        }
    ]
    r5 = {**liquid_draft(), "medication": {"reference": {"reference": "#med1"}}}  # R5: a CodeableReference
    del r5["medicationReference"]
    assert compact_drafts(draft_bundle([r5]), ["draft-liquid"])[0]["contained"] == carried["contained"]
    # The page reads what arrives as untrusted: no other resource type, no Medication the draft does not name.
    sent = {**liquid_draft(), "contained": [*liquid_draft()["contained"], {"resourceType": "Medication", "id": "x"}]}
    [read] = drafts_from_app_context({"drafts": [sent]})
    assert [c["id"] for c in read["contained"]] == ["med1"] and "meta" not in read["contained"][0]
    for odd in ("nope", [{"resourceType": "Patient", "id": "med1"}], ["med1"], [{"resourceType": "Medication"}]):
        [read] = drafts_from_app_context({"drafts": [{**liquid_draft(), "contained": odd}]})
        assert "contained" not in read
    # Still bounded: a contained Medication too large for appContext leaves the drafts out, as before.
    big = {**liquid_draft(), "contained": [{"resourceType": "Medication", "id": "med1", "code": {"text": "x" * 5000}}]}
    assert compact_drafts(draft_bundle([big]), ["draft-liquid"]) is None


def test_the_page_reads_the_medication_a_carried_draft_names_as_the_hook_did(tmp_path: Any) -> None:
    # Epic's order composer names the medicine of a draft by `Medication/<id>`: the hook read it, the page did not,
    # and the draft it had just counted at 90 MME/day was "unidentified (not found)" there.
    medication = {"resourceType": "Medication", "id": "m-soln", "code": liquid_draft()["contained"][0]["code"]}
    draft = {**liquid_draft(medicationReference={"reference": "Medication/m-soln"})}
    del draft["contained"]
    evaluation, _, context = _card_and_context(draft, medication)
    assert evaluation.facts.mme.total == Decimal("90")
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1960-01-01"}
    html = _launched_plan_html(tmp_path, [patient, medication], context)
    assert "90.0 with the order being signed" in html
    assert "m-soln (not found)" not in html
