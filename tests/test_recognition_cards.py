"""Issue examples for recognition, end to end: a text-only brand, a code newer than the drug table, NDC-only
orders, STU3 MedicationOrder, an Epic-style referenced Medication with only text, and brand-name
benzodiazepines and naloxone reaching the checks; what cannot be identified gets a card, a plan-page line and
`painplan mme` status `unidentified`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from builders import assert_person_centred, card, days_ago, dispense, med_request, run

from guideline.checks.unidentified_medication import CHECK_ID
from guideline.fhirdata import RXNORM
from guideline.plan import build_plan
from smart_app.cli import main

NDC = "http://hl7.org/fhir/sid/ndc"
NOW_DRAFT = {"draft": True, "supply_days": 5}
# Why a medication known only by an NDC that nothing maps was not read: its line says so, as its MME line does.
NOT_MAPPED = (
    "known only by its NDC, which neither PainPlan's packaged data nor the site's NDC crosswalk ndc.rxnorm maps to a "
    "product, so PainPlan cannot tell what it is; it may be an opioid"
)


def with_medication(resource: dict[str, Any], concept: dict[str, Any]) -> dict[str, Any]:
    resource["medicationCodeableConcept"] = concept
    return resource


def percocet_text_draft(**kwargs: Any) -> dict[str, Any]:
    # 2 tablets every 4 hours: 12 a day × 10 mg oxycodone × 1.5 = 180 MME/day
    draft = med_request("0", id="pc1", dose=2, period=4, **{**NOW_DRAFT, **kwargs})
    return with_medication(draft, {"text": "Percocet 10/325 mg tablet"})


def test_text_only_percocet_gets_its_mme_and_says_it_was_identified_from_its_name() -> None:
    evaluation = run("order-sign", drafts=[percocet_text_draft()])
    high = card(evaluation, "high-mme")
    assert high is not None and high.indicator == "critical"
    assert "180.0 MME/day" in high.summary or "180.0 MME/day" in high.detail
    assert "identified from its name" in high.detail
    assert card(evaluation, CHECK_ID) is None


def test_a_code_newer_than_the_drug_table_is_an_opioid_by_its_display() -> None:
    draft = med_request("0", id="n1", dose=1, period=12, **NOW_DRAFT)
    with_medication(
        draft,
        {"coding": [{"system": RXNORM, "code": "99999901", "display": "oxycodone hydrochloride 30 MG Oral Tablet"}]},
    )
    evaluation = run("order-sign", drafts=[draft])
    high = card(evaluation, "high-mme")
    assert high is not None and high.indicator == "critical"  # 30 mg × 2 a day × 1.5 = 90
    assert "90.0 MME/day" in high.summary + high.detail
    assert "identified from its name" in high.detail


def test_an_ndc_only_order_with_a_display_is_read_by_name() -> None:
    draft = with_medication(
        med_request("0", id="ndc1", dose=2, period=4, **NOW_DRAFT),
        {"coding": [{"system": NDC, "code": "0406-0512-01", "display": "Percocet 10/325 mg tablet"}]},
    )
    evaluation = run("order-sign", drafts=[draft])
    assert card(evaluation, "high-mme") is not None
    assert card(evaluation, CHECK_ID) is None


def test_an_ndc_only_order_without_a_name_gets_a_card_that_names_its_code() -> None:
    draft = with_medication(
        med_request("0", id="ndc2", **NOW_DRAFT), {"coding": [{"system": NDC, "code": "0406-0512-01"}]}
    )
    evaluation = run("order-sign", drafts=[draft])
    found = card(evaluation, CHECK_ID)
    assert found is not None and found.indicator == "info"
    assert "NDC 0406-0512-01" in found.summary
    assert "NDC 0406-0512-01" in found.detail
    assert "the total daily dose in MME (`high-mme`)" in found.detail
    assert "whether to offer naloxone (`naloxone`)" in found.detail
    assert found.orders == ("ndc2",)
    assert_person_centred(found)
    assert evaluation.failures == ()


def test_a_bare_rxnorm_code_outside_the_packaged_data_gets_a_card_and_with_a_name_does_not() -> None:
    # An RxNorm code newer than the packaged tables, sent with no display or text: nothing says it is not an opioid.
    bare = with_medication(
        med_request("0", id="rx-new", **NOW_DRAFT), {"coding": [{"system": RXNORM, "code": "2670001"}]}
    )
    evaluation = run("order-sign", drafts=[bare])
    found = card(evaluation, CHECK_ID)
    assert found is not None and "RxNorm 2670001" in found.summary
    assert found.orders == ("rx-new",)
    named = with_medication(
        med_request("0", id="rx-named", **NOW_DRAFT),
        {"coding": [{"system": RXNORM, "code": "2670001", "display": "atorvastatin 20 MG Oral Tablet"}]},
    )
    assert card(run("order-sign", drafts=[named]), CHECK_ID) is None


def _ndc_only_fill() -> dict[str, Any]:
    fill = {**dispense("0", days_ago(3)[:10], days_supply=30), "id": "d-ndc"}
    fill["medicationCodeableConcept"] = {"coding": [{"system": NDC, "code": "0406-0512-01"}]}
    return fill


def _ndc_only_order() -> dict[str, Any]:
    current = med_request("0", id="mr-ndc", authored=days_ago(5))
    return with_medication(current, {"coding": [{"system": NDC, "code": "0406-0552-01"}]})


def test_an_opioid_order_names_current_medications_nobody_could_identify() -> None:
    oxycodone = med_request("1049621", id="oxy", **NOW_DRAFT)  # oxycodone 5 mg, identified
    evaluation = run("order-sign", drafts=[oxycodone], resources=[_ndc_only_fill(), _ndc_only_order()])
    found = card(evaluation, CHECK_ID)
    assert found is not None and found.indicator == "info"
    assert found.summary.startswith("Could not identify current medication NDC 0406-0552-01 (current order mr-ndc)")
    assert "the MME total may be too low" in found.summary
    assert "**Current medications not identified:**" in found.detail
    assert f"- NDC 0406-0512-01 (pharmacy fill d-ndc, {NOT_MAPPED})\n" in found.detail
    assert f"- NDC 0406-0552-01 (current order mr-ndc, {NOT_MAPPED})\n" in found.detail
    # An override goes by the name, as before: the why is no part of what it quiets.
    assert found.about == {"NDC 0406-0512-01 (pharmacy fill d-ndc)", "NDC 0406-0552-01 (current order mr-ndc)"}
    assert "Order not identified" not in found.detail  # the oxycodone draft itself was identified
    assert found.orders == ()  # nothing being signed is unidentified: no order to remove
    assert_person_centred(found)


def test_a_non_opioid_order_leaves_current_unidentified_medications_to_the_plan_page() -> None:
    amoxicillin = med_request("308191", id="amox", display="amoxicillin 500 MG Oral Capsule", **NOW_DRAFT)
    evaluation = run("order-sign", drafts=[amoxicillin], resources=[_ndc_only_fill(), _ndc_only_order()])
    assert card(evaluation, CHECK_ID) is None


def test_an_unidentified_draft_with_unidentified_current_medications_names_both() -> None:
    oxycodone = med_request("1049621", id="oxy", **NOW_DRAFT)
    unknown = with_medication(med_request("0", id="u1", **NOW_DRAFT), {"text": "Zorvolex-like trial drug 35 mg"})
    found = card(run("order-sign", drafts=[oxycodone, unknown], resources=[_ndc_only_fill()]), CHECK_ID)
    assert found is not None and "Zorvolex-like trial drug 35 mg" in found.summary
    assert "**Order not identified:**" in found.detail
    assert f"NDC 0406-0512-01 (pharmacy fill d-ndc, {NOT_MAPPED})" in found.detail
    assert found.orders == ("u1",)


def test_a_text_only_order_nobody_knows_is_named_and_a_known_other_drug_is_not() -> None:
    unknown = with_medication(med_request("0", id="u1", **NOW_DRAFT), {"text": "Zorvolex-like trial drug 35 mg"})
    evaluation = run("order-sign", drafts=[unknown])
    found = card(evaluation, CHECK_ID)
    assert found is not None and "Zorvolex-like trial drug 35 mg" in found.summary
    ibuprofen = with_medication(med_request("0", id="i1", **NOW_DRAFT), {"text": "ibuprofen 800 mg tablet"})
    assert card(run("order-sign", drafts=[ibuprofen]), CHECK_ID) is None


def test_the_unidentified_card_can_be_switched_off() -> None:
    draft = with_medication(med_request("0", id="u1", **NOW_DRAFT), {"text": "Zorvolex-like trial drug 35 mg"})
    config = {"checks": {CHECK_ID: {"enabled": False}}}
    assert card(run("order-sign", drafts=[draft], config=config), CHECK_ID) is None


def test_stu3_medication_order_with_text_and_dose_on_the_dosage() -> None:
    stu3 = {
        "resourceType": "MedicationOrder",
        "id": "stu3",
        "status": "draft",
        "medicationCodeableConcept": {"text": "oxyCODONE 30 mg tablet"},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 12, "periodUnit": "h"}},
                "doseQuantity": {"value": 1, "unit": "tablet"},
            }
        ],
        "dispenseRequest": {"expectedSupplyDuration": {"value": 5, "unit": "days", "code": "d"}},
    }
    evaluation = run("order-sign", drafts=[stu3])
    assert [o.id for o in evaluation.facts.trigger_orders] == ["stu3"]
    assert evaluation.facts.mme.total == 90
    high = card(evaluation, "high-mme")
    assert high is not None and "identified from its name" in high.detail


def test_epic_style_medication_reference_with_only_text() -> None:
    medication = {"resourceType": "Medication", "id": "epic-med-1", "code": {"text": "HYDROmorphone 4 MG tablet"}}
    draft = med_request("0", id="ep1", dose=1, period=4, **NOW_DRAFT)  # 6 a day × 4 mg × 5 = 120 MME
    del draft["medicationCodeableConcept"]
    draft["medicationReference"] = {"reference": "Medication/epic-med-1", "display": "HYDROmorphone 4 MG tablet"}
    evaluation = run("order-sign", drafts=[draft], resources=[medication])
    assert evaluation.facts.mme.total == 120
    assert card(evaluation, "high-mme") is not None


def test_a_brand_name_benzodiazepine_reaches_the_opioid_benzodiazepine_check() -> None:
    xanax = with_medication(med_request("0", authored=days_ago(5)), {"text": "Xanax 1 mg tablet"})
    opioid = med_request("1049621", id="ox1", **NOW_DRAFT)
    evaluation = run("order-sign", drafts=[opioid], resources=[xanax])
    found = card(evaluation, "opioid-benzodiazepine")
    assert found is not None and "Xanax 1 mg tablet" in found.detail


def test_a_brand_name_naloxone_counts_as_naloxone_the_patient_has() -> None:
    def naloxone_card(resources: list[dict[str, Any]]):
        # fentanyl 75 mcg/hr by name: 180 MME/day, a naloxone risk on its own
        draft = med_request("0", id="f1", dose=1, unit="{patch}", period=72, **NOW_DRAFT)
        with_medication(draft, {"text": "fentanyl 75 mcg/hr transdermal patch"})
        return card(run("order-sign", drafts=[draft], resources=resources), "naloxone")

    assert naloxone_card([]) is not None
    narcan = with_medication(
        med_request("0", authored=days_ago(20), status="completed"), {"text": "Narcan 4 mg nasal spray"}
    )
    assert naloxone_card([narcan]) is None


def test_the_plan_page_lists_unidentified_current_orders() -> None:
    unknown = with_medication(
        med_request("0", id="u9", authored=days_ago(5)), {"coding": [{"system": NDC, "code": "0406-0512-01"}]}
    )
    evaluation = run("patient-view", resources=[unknown, med_request("1049621", authored=days_ago(5))])
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    assert view.named["unidentified-medications"] == (f"NDC 0406-0512-01 (current order u9, {NOT_MAPPED})",)
    assert f"NDC 0406-0512-01 (current order u9, {NOT_MAPPED})" in view.note


def test_the_plan_page_html_shows_the_unidentified_list(tmp_path: Path) -> None:
    import responses
    from builders import patient
    from test_plan_view import FakeFhir, _app, _open_plan

    unknown = with_medication(
        med_request("0", id="u9", authored="2026-06-10T09:00:00-04:00"), {"text": "Zorvolex-like trial drug 35 mg"}
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, [patient(patient_id="p1"), unknown])
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert 'id="unidentified-medications"' in html
    assert "Zorvolex-like trial drug 35 mg (current order u9)" in html


def _mme_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], data: object) -> dict[str, Any]:
    path = tmp_path / "in.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["mme", str(path)]) == 0
    return json.loads(capsys.readouterr().out)


def test_painplan_mme_counts_a_named_opioid_and_reports_an_unidentified_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    percocet = percocet_text_draft()
    ndc = with_medication(med_request("0", id="ndc2"), {"coding": [{"system": NDC, "code": "0406-0512-01"}]})
    report = _mme_cli(
        tmp_path, capsys, {"resourceType": "Bundle", "entry": [{"resource": percocet}, {"resource": ndc}]}
    )
    by_id = {o["id"]: o for o in report["orders"]}
    assert by_id["pc1"]["status"] == "converted" and by_id["pc1"]["mme_per_day"] == 180.0
    assert (by_id["pc1"]["class"], by_id["pc1"]["identified_by"]) == ("opioid-by-name", "name")
    assert by_id["ndc2"]["status"] == "unidentified" and by_id["ndc2"]["medication"] == "NDC 0406-0512-01"
    assert report["complete"] is False
    only_percocet = _mme_cli(tmp_path, capsys, percocet)
    assert only_percocet["complete"] is True


def test_painplan_mme_names_the_class_of_what_is_not_an_opioid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xanax = with_medication(med_request("0", id="x1"), {"text": "Xanax 1 mg tablet"})
    report = _mme_cli(tmp_path, capsys, xanax)
    line = report["orders"][0]
    assert (line["status"], line["class"]) == ("not-opioid", "benzodiazepine")
    assert "benzodiazepine, not an opioid" in line["explanation"]
    assert report["complete"] is True


def test_a_fill_sent_by_name_only_counts_as_an_opioid_fill() -> None:
    from builders import dispense

    from guideline.fills import fill_mme

    fill = dispense("0", handed_over=days_ago(3), days_supply=30)
    fill["medicationCodeableConcept"] = {"text": "Percocet 10/325 mg tablet"}
    fill["quantity"] = {"value": 120, "unit": "tablet"}
    evaluation = run("patient-view", resources=[fill])
    facts = evaluation.facts
    (read,) = facts.record.dispenses
    assert facts.is_in("OPIOID", read)
    result = fill_mme(read, facts.terms, facts.config)
    assert (result.state, result.mme) == ("ok", 60)  # 120 tablets ÷ 30 days × 10 mg × 1.5


def test_the_plan_page_lists_unidentified_current_fills() -> None:
    unknown = {**dispense("0", days_ago(5)[:10]), "id": "d9"}
    unknown["medicationCodeableConcept"] = {"text": "Zorblex 10 mg tablet"}
    evaluation = run("patient-view", resources=[unknown])
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    assert view.named["unidentified-medications"] == ("Zorblex 10 mg tablet (current fill d9)",)


def test_the_plan_page_names_fills_without_a_date_and_not_everyday_ones() -> None:
    undated_opioid = {**dispense("1049621", days_ago(5)[:10]), "id": "d-oxy"}
    del undated_opioid["whenHandedOver"]
    undated_statin = {**dispense("617310", days_ago(5)[:10]), "id": "d-statin"}
    undated_statin["medicationCodeableConcept"]["coding"][0]["display"] = "atorvastatin 20 MG Oral Tablet"
    del undated_statin["whenHandedOver"]
    prepared_only = {**dispense("197901", days_ago(5)[:10]), "id": "d-lz", "whenPrepared": days_ago(6)}
    del prepared_only["whenHandedOver"]
    evaluation = run("patient-view", resources=[undated_opioid, undated_statin, prepared_only])
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    (named,) = view.named["undated-fills"]
    assert named.endswith("(fill d-oxy)") and "oxycodone" in named.lower()
    assert "Pharmacy fills with no date" in view.note and "d-oxy" in view.note


def test_the_plan_page_html_shows_undated_fills(tmp_path: Path) -> None:
    import responses
    from builders import patient
    from test_plan_view import FakeFhir, _app, _open_plan

    undated = {**dispense("1049621", "2026-06-10"), "id": "d-oxy"}
    del undated["whenHandedOver"]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, [patient(patient_id="p1"), undated])
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert 'id="undated-fills"' in html and "(fill d-oxy)" in html
    assert "could not be placed in time" in html


def test_the_plan_page_names_current_orders_of_unknown_category(tmp_path: Path) -> None:
    import responses
    from builders import patient
    from test_plan_view import FakeFhir, _app, _open_plan

    order = {**med_request("1049621", authored="2026-06-10"), "id": "mr-oxy"}
    order["category"] = [{"text": "Normal"}]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, [patient(patient_id="p1"), order])
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert 'id="unread-categories"' in html and "(current order mr-oxy): category Normal" in html
    assert "checked as an outpatient prescription" in html


def test_a_snooze_may_quiet_the_current_medicines_reminder_but_never_a_new_unidentified_order() -> None:
    from datetime import timedelta

    from builders import NOW, PATIENT_ID

    from guideline.cards import Snooze

    snoozed = (Snooze(CHECK_ID, PATIENT_ID, NOW + timedelta(days=30), "info", reason="data-incorrect"),)
    oxycodone = med_request("1049621", id="oxy", **NOW_DRAFT)
    quiet = run("order-sign", drafts=[oxycodone], resources=[_ndc_only_fill()], snoozes=snoozed)
    assert card(quiet, CHECK_ID) is None and [c.check_id for c in quiet.snoozed].count(CHECK_ID) == 1
    unknown = with_medication(med_request("0", id="u2", **NOW_DRAFT), {"text": "Zorvolex-like trial drug 35 mg"})
    loud = run("order-sign", drafts=[oxycodone, unknown], resources=[_ndc_only_fill()], snoozes=snoozed)
    found = card(loud, CHECK_ID)
    assert found is not None and "Zorvolex-like trial drug 35 mg" in found.summary


def test_a_snooze_on_the_current_medicines_reminder_does_not_hide_another_unidentified_medicine() -> None:
    from datetime import timedelta

    from builders import NOW, PATIENT_ID

    from guideline.cards import Snooze, finding_keys

    oxycodone = med_request("1049621", id="oxy", **NOW_DRAFT)
    first = card(run("order-sign", drafts=[oxycodone], resources=[_ndc_only_fill()]), CHECK_ID)
    assert first is not None
    snoozed = (
        Snooze(
            CHECK_ID,
            PATIENT_ID,
            NOW + timedelta(days=30),
            "info",
            reason="data-incorrect",
            about=finding_keys(first.about),
        ),
    )
    quiet = run("order-sign", drafts=[oxycodone], resources=[_ndc_only_fill()], snoozes=snoozed)
    assert card(quiet, CHECK_ID) is None
    other = {**_ndc_only_fill(), "id": "d-other"}
    other["medicationCodeableConcept"] = {"coding": [{"system": NDC, "code": "0406-0523-01"}]}  # another product
    loud = run("order-sign", drafts=[oxycodone], resources=[_ndc_only_fill(), other], snoozes=snoozed)
    found = card(loud, CHECK_ID)
    assert found is not None and "d-other" in found.detail


def _text_order(order_id: str, name: str, dose: float, unit: str, every_hours: int) -> dict[str, Any]:
    order = med_request("0", id=order_id, dose=dose, unit=unit, period=every_hours)
    return with_medication(order, {"text": name})


@pytest.mark.parametrize(
    ("name", "dose", "unit", "every_hours", "mme"),
    [
        # Opioid cough medicines, by brand: 5 mL of 10 mg hydrocodone / 8 mg chlorpheniramine per 5 mL twice a day
        ("Tussionex Pennkinetic 10-8 mg/5 mL ER suspension", 5, "mL", 12, 20.0),
        ("TUSSICAPS 10-8 MG CP12", 1, "{tbl}", 12, 20.0),
        ("Hycodan 5-1.5 mg tablet", 1, "{tbl}", 6, 20.0),
        ("HYDROMET 5-1.5 MG/5ML SYRP", 5, "mL", 6, 20.0),
        ("Tussigon 5-1.5 mg tablet", 1, "{tbl}", 6, 20.0),
        ("Tuxarin ER 54.3-8 mg tablet", 1, "{tbl}", 12, 16.3),  # codeine 108.6 mg/day × 0.15 = 16.29
        # Pain combinations and single-ingredient brands
        ("HYCET 7.5-325 MG/15ML SOLN", 15, "mL", 6, 30.0),
        ("Xodol 10-300 mg tablet", 1, "{tbl}", 6, 40.0),
        ("Zydone 10-400 mg tablet", 1, "{tbl}", 6, 40.0),
        ("Reprexain 5-200 mg tablet", 1, "{tbl}", 6, 20.0),
        ("Ibudone 10-200 mg tablet", 1, "{tbl}", 6, 40.0),
        ("Combunox 5-400 mg tablet", 1, "{tbl}", 6, 30.0),
        ("Oxecta 5 mg tablet", 1, "{tbl}", 6, 30.0),
        ("ROXANOL 20 MG/ML CONC", 0.5, "mL", 4, 60.0),
        ("Qdolo 5 mg/mL oral solution", 10, "mL", 6, 40.0),
        ("Rybix ODT 50 mg tablet", 1, "{tbl}", 6, 40.0),
    ],
)
def test_opioid_brands_of_cough_medicines_and_older_combinations_are_read_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, dose: float, unit: str, every_hours: int, mme: float
) -> None:
    # An order known only by such a brand (a free-text or outside medication) was "unidentified": the total left it
    # out, and an opioid cough syrup beside a benzodiazepine gave no opioid + benzodiazepine card.
    report = _mme_cli(tmp_path, capsys, _text_order("b1", name, dose, unit, every_hours))
    order = report["orders"][0]
    assert (order["status"], order["class"], order["mme_per_day"]) == ("converted", "opioid-by-name", mme)


@pytest.mark.parametrize("name", ["ORAMORPH SR 30 MG TAB", "Palladone 12 mg capsule", "Ryzolt 100 mg tablet"])
def test_extended_release_only_brands_are_long_acting(name: str) -> None:
    from guideline.config import GuidelineConfig
    from guideline.fhirdata import Concept
    from guideline.recognition import recognise
    from guideline.record.model import ResolvedMedication
    from guideline.terminology import load_terminology

    reading = recognise(
        ResolvedMedication(concept=Concept((), name)), load_terminology(GuidelineConfig.from_mapping({}))
    )
    assert reading.kind == "opioid" or reading.kind.startswith("opioid")
    assert reading.extended_release


@pytest.mark.parametrize(
    ("name", "kind"),
    [("Versed 2 mg/2 mL injection", "benzodiazepine"), ("Serax 15 mg capsule", "benzodiazepine"),
     ("Gralise 600 mg tablet", "not-relevant"), ("Sublimaze 50 mcg/mL injection", "opioid")],
)  # fmt: skip
def test_other_brands_are_read_by_their_class(name: str, kind: str) -> None:
    from guideline.config import GuidelineConfig
    from guideline.fhirdata import Concept
    from guideline.recognition import recognise
    from guideline.record.model import ResolvedMedication
    from guideline.terminology import load_terminology

    reading = recognise(
        ResolvedMedication(concept=Concept((), name)), load_terminology(GuidelineConfig.from_mapping({}))
    )
    assert reading.kind.startswith(kind)


def test_an_opioid_cough_syrup_known_by_brand_beside_a_benzodiazepine_gets_the_card() -> None:
    cough = _text_order("t1", "Tussionex Pennkinetic ER suspension", 5, "mL", 12)
    benzo = med_request("0", id="x1")
    with_medication(benzo, {"text": "Xanax 1 mg tablet"})
    evaluation = run("order-sign", drafts=[cough], resources=[benzo])
    assert card(evaluation, "opioid-benzodiazepine") is not None


@pytest.mark.parametrize(
    "name", ["Movantik 25 mg tablet", "Relistor 150 mg tablet", "Lomotil 2.5-0.025 mg tablet", "benzonatate 100 mg"]
)
def test_a_medicine_ordered_beside_an_opioid_by_text_gets_no_could_not_identify_card(name: str) -> None:
    # Naloxegol for opioid-induced constipation, signed with the oxycodone: known by name, not relevant.
    oxycodone = med_request("1049621", id="oxy", **NOW_DRAFT)
    companion = with_medication(med_request("0", id="oic", period=24, **NOW_DRAFT), {"text": name})
    evaluation = run("order-sign", drafts=[oxycodone, companion])
    assert card(evaluation, CHECK_ID) is None


def test_librax_by_brand_beside_an_opioid_gets_the_opioid_benzodiazepine_card() -> None:
    librax = with_medication(med_request("0", id="lbx", authored=days_ago(10), period=8), {"text": "Librax capsule"})
    oxycodone = med_request("1049621", id="oxy", **NOW_DRAFT)
    found = card(run("order-sign", drafts=[oxycodone], resources=[librax]), "opioid-benzodiazepine")
    assert found is not None and "Librax" in found.detail
