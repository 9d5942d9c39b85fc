"""An HIE relaying the EHR's order under an id of its own: the regional exchange sends Epic's oxycodone order eRx.1
back as its MedicationRequest hie-77 (its own fullUrl), keeping Epic's order number as the identifier. Read as two
orders, the patient on 60 MME a day was at 120 (a false high-dose card). The copy is read once, and named.

Sure only when the copy shares an identifier (system and value) with exactly one EHR order, names the same
recognised drug and was authored the same day; anything less keeps both orders (an over-count, never a lost one)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from builders import NOW, TZ, card, days_ago, patient, run
from test_signed_renewal import epic_order, fill, medication

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.facts import Facts
from guideline.plan.medications import build_medications, mme_now
from guideline.record import build_record

EPIC = "https://fhir.epic.example/interconnect-fhir-oauth/api/FHIR/R4"
HIE = "https://hie.example.org/fhir"
EPIC_ORDER_ID = "urn:oid:1.2.840.114350.1.13.0.1.7.2.798268"  # Epic's order number (ORD ID) system
OTHER_SYSTEM = "urn:oid:2.16.840.1.113883.3.72.5.9.1"  # another organisation's order numbers
OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet


def _entry(base: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}", "resource": resource}


def _searchset(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": list(entries)}


def _order(
    order_id: str, ago: int = 5, number: str | None = "1066899", system: str = EPIC_ORDER_ID, tablets: int = 1
) -> dict[str, Any]:
    """Epic's active oxycodone 10 mg every 6 hours (60 MME a day a tablet), written `ago` days ago, numbered."""
    order = epic_order(order_id, "active", days_ago(ago), tablets=tablets)
    if number is not None:
        order["identifier"] = [{"use": "usual", "system": system, "value": number}]
    return order


def _hie_medication(rxcui: str | None = None) -> dict[str, Any]:
    """The HIE's own Medication eMed10: the same oxycodone 10 mg, or another drug."""
    med = medication()
    if rxcui is not None:
        med["code"] = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": rxcui}]}
    return med


def _facts(ehr_orders: list[dict[str, Any]], hie_orders: list[dict[str, Any]], hie_med: dict | None = None) -> Facts:
    ehr = _searchset(_entry(EPIC, patient()), _entry(EPIC, medication()), *(_entry(EPIC, o) for o in ehr_orders))
    hie = _searchset(_entry(HIE, hie_med or _hie_medication()), *(_entry(HIE, o) for o in hie_orders))
    record = build_record([ehr, hie], TZ, fhir_server=EPIC)
    return Facts(record, HookContext("patient-view", "p1"), GuidelineConfig.from_mapping(), NOW)


def test_the_hies_copy_of_the_ehr_order_is_read_once_and_named() -> None:
    facts = _facts([_order("eRx.1")], [_order("hie-77")])
    assert facts.mme.total == Decimal(60)
    assert [(r.copy.located, r.kept.id) for r in facts.orders_relayed] == [(f"{HIE}/MedicationRequest/hie-77", "eRx.1")]
    rows = build_medications(facts, mme_now(facts)).opioids
    assert [(r.order_id, r.sent_twice) for r in rows] == [
        ("eRx.1", f"also relayed as {HIE}/MedicationRequest/hie-77 (read once)")
    ]


def test_the_hies_fill_of_its_copy_is_the_ehr_orders_fill() -> None:
    # The HIE relays the pharmacy's fill too, naming its own copy hie-77: the fill stands for the kept order, not for
    # an order of its own beside it (else it adds 60).
    facts = _facts([_order("eRx.1", ago=5)], [_order("hie-77", ago=5), fill("hie-77", fill_id="hDisp.9", ago=4)])
    assert facts.mme.total == Decimal(60)
    assert facts.record.dispenses[0].authorizing_prescriptions == ("MedicationRequest/eRx.1",)


def test_the_same_number_under_another_system_is_another_order() -> None:
    facts = _facts([_order("eRx.1")], [_order("hie-77", system=OTHER_SYSTEM)])
    assert facts.mme.total == Decimal(120)
    assert facts.orders_relayed == ()


def test_orders_with_no_identifier_are_never_merged() -> None:
    facts = _facts([_order("eRx.1", number=None)], [_order("hie-77", number=None)])
    assert facts.mme.total == Decimal(120)
    assert facts.orders_relayed == ()


def test_an_identifier_with_no_system_is_no_evidence() -> None:
    ehr, hie = _order("eRx.1"), _order("hie-77")
    for order in (ehr, hie):
        del order["identifier"][0]["system"]
    facts = _facts([ehr], [hie])
    assert facts.mme.total == Decimal(120)


def test_the_same_number_for_another_drug_is_another_order() -> None:
    # The HIE's Medication eMed10 is oxycodone 5 mg: not the EHR's oxycodone 10 mg, whatever the number says.
    facts = _facts([_order("eRx.1")], [_order("hie-77")], _hie_medication(OXYCODONE_5))
    assert facts.orders_relayed == ()
    assert len(facts.mme.orders) == 2


def test_the_same_number_on_another_day_is_another_order() -> None:
    facts = _facts([_order("eRx.1", ago=5)], [_order("hie-77", ago=4)])
    assert facts.mme.total == Decimal(120)
    assert facts.orders_relayed == ()


def test_two_ehr_orders_sharing_the_number_are_ambiguous_and_nothing_is_merged() -> None:
    facts = _facts([_order("eRx.1"), _order("eRx.2")], [_order("hie-77")])
    assert facts.mme.total == Decimal(180)
    assert facts.orders_relayed == ()


def test_the_high_dose_card_counts_the_relayed_copy_once_and_says_so() -> None:
    # 2 tablets every 6 hours: 120 MME a day, read twice 240. The card shows 120 and names the copy.
    ehr = _searchset(_entry(EPIC, patient()), _entry(EPIC, medication()), _entry(EPIC, _order("eRx.1", tablets=2)))
    hie = _searchset(_entry(HIE, _hie_medication()), _entry(HIE, _order("hie-77", tablets=2)))
    evaluation = run("patient-view", resources=[ehr, hie], fhir_server=EPIC, with_patient=False)
    high = card(evaluation, "high-mme")
    assert high is not None and "120.0 MME/day" in high.summary
    assert f"1 order relayed by another server under its own id ({HIE}/MedicationRequest/hie-77) was counted once" in (
        high.detail
    )


def test_the_plan_page_names_the_relayed_copy_on_the_orders_row(tmp_path: Any, monkeypatch: Any) -> None:
    # The EHR's search answer holds both: its own order (no fullUrl) and the HIE's copy under the HIE's fullUrl.
    import json

    import responses
    import test_plan_view as view
    from builders import med_request
    from test_plan import OXYCODONE_5 as OXY

    def bundle(resources: list[dict[str, Any]], next_url: str | None = None) -> dict[str, Any]:
        entries = [{"resource": r} for r in resources]
        for entry, resource in zip(entries, resources, strict=True):
            if resource.get("id") == "hie-77":
                entry["fullUrl"] = f"{HIE}/MedicationRequest/hie-77"
        return {"resourceType": "Bundle", "type": "searchset", "entry": entries}

    monkeypatch.setattr(view, "_bundle", bundle)
    number = [{"use": "usual", "system": EPIC_ORDER_ID, "value": "1066899"}]
    ehr = {**med_request(OXY, id="eRx.1", status="active", authored="2026-06-10T09:12:00-04:00"), "identifier": number}
    copy = {**ehr, "id": "hie-77"}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        view.FakeFhir(rsps, [patient(), ehr, copy])
        html = view._open_plan(view._app(tmp_path)).get_data(as_text=True)
    assert '<strong id="total-mme">30.0 MME/day</strong>' in html, json.dumps(html[html.index("total-mme") :][:200])
    assert f"also relayed as {HIE}/MedicationRequest/hie-77 (read once)" in html
