"""No join across two servers by a bare id: an HIE's `MedicationRequest/123` is the HIE's order 123.

A regional exchange (HIE) relays another practice's orders and fills beside the EHR's (Epic). An HIE renewal naming
`priorPrescription: MedicationRequest/123` renews the HIE's 123: read as the EHR's, it retired the EHR's current
opioid order 123 and lowered the total (a missed high-dose card). An HIE fill naming `authorizingPrescription:
MedicationRequest/123` is no fill of the EHR's order 123."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from builders import NOW, RXNORM, TZ, days_ago, patient
from test_signed_renewal import OXYCODONE_10, epic_order, fill, medication

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.facts import Facts
from guideline.fills import authorized_order
from guideline.record import build_record

EPIC = "https://fhir.epic.example/interconnect-fhir-oauth/api/FHIR/R4"
HIE = "https://hie.example.org/fhir"


def _entry(base: str, resource: dict[str, Any]) -> dict[str, Any]:
    url = f"{base}/{resource['resourceType']}/{resource['id']}"
    return {"fullUrl": url, "resource": resource, "search": {"mode": "match"}}


def _searchset(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": list(entries)}


def _coded(order: dict[str, Any]) -> dict[str, Any]:
    """The HIE's copy names its drug by code (its Medication ids are its own)."""
    order = dict(order)
    order.pop("medicationReference")
    coding = {"system": RXNORM, "code": OXYCODONE_10, "display": "oxycodone HCl 10 MG Oral Tablet"}
    order["medicationCodeableConcept"] = {"coding": [coding], "text": "oxycodone 10 mg tablet"}
    return order


def _ehr_order() -> dict[str, Any]:
    """The EHR's current order 123: oxycodone 10 mg, 2 tablets every 6 hours (120 MME a day), written 10 days ago."""
    return epic_order("123", "active", days_ago(10), tablets=2)


def _hie_renewal() -> dict[str, Any]:
    """The HIE's order h5 (60 MME a day), the same prescriber's, renewing the HIE's own MedicationRequest/123."""
    return _coded(epic_order("h5", "active", days_ago(2), tablets=1, prior="123"))


def _facts(*entries: dict[str, Any]) -> Facts:
    bundle = _searchset(_entry(EPIC, patient()), _entry(EPIC, medication()), *entries)
    record = build_record([bundle], TZ, fhir_server=EPIC)
    return Facts(record, HookContext("patient-view", "p1"), GuidelineConfig.from_mapping(), NOW)


def test_an_hie_renewal_naming_123_does_not_retire_the_ehrs_123() -> None:
    facts = _facts(_entry(EPIC, _ehr_order()), _entry(HIE, _hie_renewal()))
    assert sorted(o.id for o in facts.current_opioids) == ["123", "h5"]
    assert facts.mme.total == Decimal(180)


def test_the_ehrs_own_renewal_of_123_still_retires_it() -> None:
    ehr_renewal = epic_order("124", "active", days_ago(2), tablets=1, prior="123")
    facts = _facts(_entry(EPIC, _ehr_order()), _entry(EPIC, ehr_renewal))
    assert [o.id for o in facts.current_opioids] == ["124"]
    assert facts.mme.total == Decimal(60)


def test_an_hie_renewal_naming_the_ehrs_order_absolutely_retires_it() -> None:
    # The HIE relays a renewal written against the EHR's order, naming it by its EHR URL: that is the EHR's 123.
    hie = _hie_renewal()
    hie["priorPrescription"] = {"reference": f"{EPIC}/MedicationRequest/123"}
    facts = _facts(_entry(EPIC, _ehr_order()), _entry(HIE, hie))
    assert [o.id for o in facts.current_opioids] == ["h5"]


def test_an_hie_fill_naming_123_is_no_fill_of_the_ehrs_123() -> None:
    hie_fill = {**fill("123"), "id": "hDisp.1"}
    hie_fill.pop("medicationReference")
    hie_fill["medicationCodeableConcept"] = _hie_renewal()["medicationCodeableConcept"]
    bundle = _searchset(_entry(EPIC, patient()), _entry(EPIC, medication()), _entry(EPIC, _ehr_order()))
    record = build_record([bundle, _searchset(_entry(HIE, hie_fill))], TZ, fhir_server=EPIC)
    [dispense] = record.dispenses
    assert authorized_order(dispense, record.orders) is None
    ehr_fill = build_record([bundle, _searchset(_entry(EPIC, fill("123")))], TZ, fhir_server=EPIC)
    [own] = ehr_fill.dispenses
    assert authorized_order(own, ehr_fill.orders).id == "123"


# ---- report results ---------------------------------------------------------------------------------------------


def _udt_facts(*entries: dict[str, Any]):
    from guideline.terminology import load_terminology
    from guideline.uds import unread_drug_test_reports

    bundle = _searchset(_entry(EPIC, patient()), *entries)
    record = build_record([bundle], TZ, fhir_server=EPIC)
    return [u.report.id for u in unread_drug_test_reports(record, load_terminology(GuidelineConfig.from_mapping()))]


def _ehr_o9() -> dict[str, Any]:
    """The EHR's Observation o9: its own fentanyl screen, read as a urine drug test result."""
    from test_report_result_reads import FENTANYL, lab_result

    return lab_result("o9", FENTANYL[1], FENTANYL[2], "NEGATIVE", 40)


def test_an_hie_reports_o9_is_not_received_because_the_ehr_holds_an_o9() -> None:
    from test_report_result_reads import reflab_report

    hie_report = reflab_report(["Observation/o9"], ago=10, report_id="h-dr-1")
    assert _udt_facts(_entry(EPIC, _ehr_o9()), _entry(HIE, hie_report)) == ["h-dr-1"]
    # Named absolutely on the HIE too.
    absolute = reflab_report([f"{HIE}/Observation/o9"], ago=10, report_id="h-dr-1")
    assert _udt_facts(_entry(EPIC, _ehr_o9()), _entry(HIE, absolute)) == ["h-dr-1"]


def test_the_ehrs_report_of_its_own_o9_is_read_and_the_hies_of_its_own_too() -> None:
    from test_report_result_reads import FENTANYL, lab_result, reflab_report

    ehr_report = reflab_report([f"{EPIC}/Observation/o9"], ago=40, report_id="e-dr-1")
    assert _udt_facts(_entry(EPIC, _ehr_o9()), _entry(EPIC, ehr_report)) == []
    hie_o9 = lab_result("o9", FENTANYL[1], FENTANYL[2], "POSITIVE", 10)
    hie_report = reflab_report(["Observation/o9"], ago=10, report_id="h-dr-1")
    assert _udt_facts(_entry(EPIC, _ehr_o9()), _entry(HIE, hie_o9), _entry(HIE, hie_report)) == []


def test_an_hie_result_not_read_is_named_with_why_though_the_ehr_holds_that_id() -> None:
    from test_report_result_reads import ON, reflab_report

    from guideline.report_results import OTHER_SERVER, plan_result_reads
    from guideline.terminology import load_terminology
    from guideline.uds import unread_drug_test_reports

    hie_report = reflab_report(["Observation/o9"], ago=10, report_id="h-dr-1")
    bundle = _searchset(_entry(EPIC, patient()), _entry(EPIC, _ehr_o9()), _entry(HIE, hie_report))
    terms = load_terminology(GuidelineConfig.from_mapping(ON))
    plan = plan_result_reads([bundle], terms, EPIC)
    record = build_record([bundle], TZ, fhir_server=EPIC, results_not_received=plan.not_read)
    [unread] = unread_drug_test_reports(record, terms)
    assert unread.report.id == "h-dr-1" and OTHER_SERVER in unread.reading


# ---- a visit's place --------------------------------------------------------------------------------------------


def _visits(*entries: dict[str, Any]) -> dict[str, str | None]:
    from guideline.exclusions import hospice_place

    bundle = _searchset(_entry(EPIC, patient()), *entries)
    record = build_record([bundle], TZ, fhir_server=EPIC)
    return {e.id: hospice_place(e) for e in record.encounters}


def _stay(id_: str) -> dict[str, Any]:
    from test_hospice_point_of_care import epic_stay_at

    return {**epic_stay_at("p1", {"reference": "Location/l1", "display": "Inpatient unit"}), "id": id_}


def _hospice_l1() -> dict[str, Any]:
    from test_hospice_place_reads import epic_location

    return epic_location("l1")


def test_an_hie_visit_at_location_l1_does_not_take_the_ehrs_hospice_l1() -> None:
    found = _visits(_entry(EPIC, _hospice_l1()), _entry(EPIC, _stay("e-1")), _entry(HIE, _stay("h-1")))
    assert found["e-1"] is not None and found["h-1"] is None


def test_an_ehr_visit_at_location_l1_does_not_take_the_hies_hospice_l1() -> None:
    found = _visits(_entry(HIE, _hospice_l1()), _entry(EPIC, _stay("e-1")), _entry(HIE, _stay("h-1")))
    assert found["e-1"] is None and found["h-1"] is not None


def test_an_hie_renewal_never_retires_the_ehrs_order_along_a_chain() -> None:
    # The EHR's 123 (active, 120 MME) was renewed by its 124, since completed; the HIE's h5 names MedicationRequest/124,
    # the HIE's own. Followed into the EHR's chain, h5 retired the EHR's 123 through the EHR's 124.
    ehr_124 = epic_order("124", "completed", days_ago(5), tablets=1, prior="123")
    hie = _hie_renewal()
    hie["priorPrescription"] = {"reference": "MedicationRequest/124"}
    facts = _facts(_entry(EPIC, _ehr_order()), _entry(EPIC, ehr_124), _entry(HIE, hie))
    assert sorted(o.id for o in facts.current_opioids) == ["123", "h5"]
