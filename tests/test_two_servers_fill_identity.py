"""The order a fill names is one identity everywhere: another server's order 123 is never the EHR's order 123.

An Epic chart and a regional exchange (HIE) that relays another practice's orders and pharmacy fills. Ids are unique
on their own server only: the HIE's fill naming `authorizingPrescription: MedicationRequest/123` fills the HIE's order
123, not the EHR's. The rule for a fill sent twice (guideline.sent_twice) made such a reference relative, so an HIE
fill of another practice's prescription was tied to the EHR's fill of its own order 123 and dropped as "sent twice"
(a second prescriber's opioid gone from the MME total); and a fill's prescription course keyed an order with no
prescriber by its bare `MedicationRequest/123`, so the two practices' fills queued one behind the other instead of
adding up. Both now read the one identity (`guideline.record.identity.prescription_named`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from builders import NOW, RXNORM, TZ, UCUM, days_ago, patient
from test_signed_renewal import OXYCODONE_10, epic_order, medication

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.facts import Facts
from guideline.fills import prescription_course
from guideline.record import Dispense, build_record
from guideline.record.identity import prescription_named
from guideline.sent_twice import fill_marks

EPIC = "https://fhir.epic.example/interconnect-fhir-oauth/api/FHIR/R4"
HIE = "https://hie.example.org/fhir"
NPI = "http://hl7.org/fhir/sid/us-npi"
NCPDP = "http://terminology.hl7.org/NamingSystem/NCPDPProviderIdentificationNumber"
OXYCODONE = {
    "coding": [{"system": RXNORM, "code": OXYCODONE_10, "display": "oxycodone HCl 10 MG Oral Tablet"}],
    "text": "oxycodone 10 mg tablet",
}


def _entry(base: str, resource: dict[str, Any]) -> dict[str, Any]:
    url = f"{base}/{resource['resourceType']}/{resource['id']}"
    return {"fullUrl": url, "resource": resource, "search": {"mode": "match"}}


def _searchset(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": list(entries)}


def _fill(fill_id: str, order_ref: str, ago: int) -> dict[str, Any]:
    """A pharmacy fill of oxycodone 10 mg, 120 tablets for 30 days (60 MME a day), handed over `ago` days ago at one
    CVS store (NCPDP number), its prescriber named by NPI, filling `order_ref`."""
    return {
        "resourceType": "MedicationDispense",
        "id": fill_id,
        "status": "completed",
        "medicationCodeableConcept": OXYCODONE,
        "subject": {"reference": "Patient/p1"},
        "performer": [
            {"actor": {"type": "Practitioner", "identifier": {"system": NPI, "value": "1467586115"}}},
            {"actor": {"type": "Organization", "identifier": {"system": NCPDP, "value": "0712459"}}},
        ],
        "authorizingPrescription": [{"reference": order_ref}],
        "quantity": {"value": 120, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
        "daysSupply": {"value": 30, "unit": "Day", "system": UCUM, "code": "d"},
        "whenHandedOver": f"{days_ago(ago)}T14:40:00-04:00",
    }


def _facts(*bundles: dict[str, Any]) -> Facts:
    record = build_record(
        [_searchset(_entry(EPIC, patient()), _entry(EPIC, medication())), *bundles], TZ, fhir_server=EPIC
    )
    return Facts(record, HookContext("patient-view", "p1"), GuidelineConfig.from_mapping(), NOW)


# ---- the one identity ------------------------------------------------------------------------------------------------


def test_the_identity_of_a_named_order() -> None:
    # As the reader leaves a fill's reference (`pool.located_reference`): the EHR's relative, another server's whole.
    assert prescription_named("MedicationRequest/123", "eDisp.1") == "MedicationRequest/123"
    assert prescription_named("MedicationRequest/123/_history/4", "eDisp.1") == "MedicationRequest/123"
    assert prescription_named("123", "eDisp.1") == "MedicationRequest/123"  # a sandbox's bare id
    assert prescription_named(f"{HIE}/MedicationRequest/123", "eDisp.1") == f"{HIE}/MedicationRequest/123"
    assert prescription_named("#rx1", "eDisp.1") == "eDisp.1#rx1"  # contained: the fill's own
    assert prescription_named("#rx1", "eDisp.2") != prescription_named("#rx1", "eDisp.1")
    assert prescription_named("#rx1", None) is None  # a contained order with no fill to tie it to names no order
    assert prescription_named("", "eDisp.1") is None  # an empty reference names none (and never raises)


def test_a_fill_sent_twice_keeps_another_servers_order_whole() -> None:
    facts = _facts(_searchset(_entry(HIE, _fill("hDisp.9", "MedicationRequest/123", 5))))
    [hie] = facts.record.dispenses
    marks = fill_marks(hie, "oxycodone", None, None)
    assert marks.prescriptions == frozenset({f"{HIE}/MedicationRequest/123"})


# ---- a fill sent twice -----------------------------------------------------------------------------------------------


def test_an_hie_fill_of_its_own_order_123_is_not_the_ehrs_fill_of_123_sent_twice() -> None:
    # The EHR's fill of its order 123 and, the same day at the same pharmacy from the same prescriber, the HIE's fill
    # of the HIE's order 123 (another prescription of that prescriber's, written at another practice). Tied by a
    # prescription "both name", the HIE's fill was dropped as a copy: 60 MME a day were left out.
    ehr = _searchset(_entry(EPIC, _fill("eDisp.1", "MedicationRequest/123", 5)))
    hie = _searchset(_entry(HIE, _fill("hDisp.9", "MedicationRequest/123", 5)))
    facts = _facts(ehr, hie)
    assert facts.fills_sent_twice == ()
    assert sorted(s.dispense.id for s in facts.current_fills) == ["eDisp.1", "hDisp.9"]
    assert facts.mme.total == Decimal(120)


@pytest.mark.parametrize("named", [f"{EPIC}/MedicationRequest/123", "MedicationRequest/123/_history/2"])
def test_the_same_fill_relayed_by_the_hie_naming_the_ehrs_order_is_still_read_once(named: str) -> None:
    # The HIE relays the EHR's fill under its own id, naming the EHR's order on the EHR (absolutely): one fill.
    ehr = _searchset(_entry(EPIC, _fill("eDisp.1", "MedicationRequest/123", 5)))
    relayed = _searchset(_entry(HIE if "://" in named else EPIC, _fill("hDisp.9", named, 5)))
    facts = _facts(ehr, relayed)
    assert [(c.copy.id, c.kept.id) for c in facts.fills_sent_twice] == [("hDisp.9", "eDisp.1")]
    assert facts.mme.total == Decimal(60)


# ---- a fill's prescription course ------------------------------------------------------------------------------------


def _unsigned(order_id: str, ago: int) -> dict[str, Any]:
    """A completed order written `ago` days ago with no requester (a converted legacy order, as an HIE relays it): its
    prescriber unknown."""
    order = {**epic_order(order_id, "completed", days_ago(ago))}
    del order["requester"]
    del order["medicationReference"]
    order["medicationCodeableConcept"] = OXYCODONE
    return order


def test_two_servers_orders_123_with_no_prescriber_are_two_prescription_courses() -> None:
    # The EHR's fill of its order 123, 20 days ago, still supplies 9 days; the HIE's fill of the HIE's order 123
    # (another practice's), 5 days ago. Both orders name no prescriber, so each fill's course is its order's: keyed by
    # the bare `MedicationRequest/123`, the two were one course, the HIE's fill queued behind the EHR's, and today's
    # total held one of the two (60 MME a day where 120 are taken).
    ehr = _searchset(_entry(EPIC, _unsigned("123", 21)), _entry(EPIC, _fill("eDisp.1", "MedicationRequest/123", 20)))
    hie = _searchset(_entry(HIE, _unsigned("123", 6)), _entry(HIE, _fill("hDisp.9", "MedicationRequest/123", 5)))
    facts = _facts(ehr, hie)
    by_id = {d.id: d for d in facts.record.dispenses}
    assert prescription_course(by_id["eDisp.1"], facts.real_orders) == "order:MedicationRequest/123"
    assert prescription_course(by_id["hDisp.9"], facts.real_orders) == f"order:{HIE}/MedicationRequest/123"
    assert sorted(s.dispense.id for s in facts.current_fills) == ["eDisp.1", "hDisp.9"]
    assert facts.mme.total == Decimal(120)


def test_one_servers_refill_of_an_order_with_no_prescriber_still_queues() -> None:
    # Two fills of the EHR's own order 123: the refill made early queues behind the first (60 MME a day, not 120).
    first, refill = _fill("eDisp.1", "MedicationRequest/123", 20), _fill("eDisp.2", "MedicationRequest/123", 5)
    facts = _facts(_searchset(_entry(EPIC, _unsigned("123", 21)), _entry(EPIC, first), _entry(EPIC, refill)))
    assert facts.mme.total == Decimal(60)


def test_a_fill_naming_only_its_contained_prescription_joins_no_other_fills_course_by_that_id() -> None:
    # Two fills each containing their own "#rx1" (a converted pharmacy feed): "#rx1" names an order inside each fill
    # only, so it ties neither to a course; each queues as a fill naming no prescription does.
    def contained(fill_id: str, ago: int) -> Dispense:
        fill = _fill(fill_id, "#rx1", ago)
        fill["contained"] = [{"resourceType": "MedicationRequest", "id": "rx1", "status": "completed"}]
        [dispense] = build_record([fill], TZ, fhir_server=EPIC).dispenses
        return dispense

    assert prescription_course(contained("eDisp.1", 20), ()) is None
    assert fill_marks(contained("eDisp.1", 20), "oxycodone", None, None).prescriptions == {"eDisp.1#rx1"}


# ---- the population review: one Bulk export, one server --------------------------------------------------------------


def test_a_bulk_exports_fill_naming_its_order_absolutely_or_by_version_is_still_one_fill_sent_twice() -> None:
    # A Bulk export comes from one server and carries no fullUrls, so nothing in it is marked as another server's and
    # the review reads with no EHR server known: an absolute reference (Epic's Bulk export writes its own so) is its
    # `Type/id`. A payer feed's resent copy naming the order absolutely, or by a version, is the same prescription as
    # the dispense naming it relatively: one fill, not two (kept whole, 30 phantom days would put the patient in AMO).
    from synthetic_export import dispense as export_fill
    from synthetic_export import patient as export_patient
    from test_population_measures import PERIOD, TODAY

    from guideline.population import Directory, evaluate_patient

    base = "https://fhir.ehr.example/api/FHIR/R4"
    fill = export_fill("f1", "a", ("1049683", "oxycodone hydrochloride 10 MG Oral Tablet"), "2026-01-05", 120, 30)
    fill |= {"performer": [{"actor": {"reference": "Practitioner/drA"}}, {"actor": {"reference": "Organization/ph1"}}]}
    fill["authorizingPrescription"] = [{"reference": "MedicationRequest/o1"}]
    for named in (f"{base}/MedicationRequest/o1", f"{base}/MedicationRequest/o1/_history/3"):
        resent = {**fill, "id": "f1-resent", "authorizingPrescription": [{"reference": named}]}
        outcome = evaluate_patient(
            "a", [export_patient("a"), fill, resent], PERIOD, GuidelineConfig.from_mapping(), TODAY, Directory()
        )
        assert outcome.row is not None
        assert (outcome.row["opioid_fills"], outcome.row["days_supply"]) == (1, 30.0), named
        assert outcome.quality.duplicate_fills == 1


# ---- who prescribed and who dispensed --------------------------------------------------------------------------------


def _by_reference(fill: dict[str, Any]) -> dict[str, Any]:
    """The fill naming its prescriber and pharmacy by reference on its own server, and no prescription."""
    fill = {k: v for k, v in fill.items() if k != "authorizingPrescription"}
    fill["performer"] = [
        {"actor": {"reference": "Practitioner/dr1", "display": "Adams, Ann, MD"}},
        {"actor": {"reference": "Organization/ph1", "display": "CVS Pharmacy #0712"}},
    ]
    return fill


def test_two_servers_fills_by_their_own_practitioner_and_pharmacy_dr1_ph1_are_two_fills() -> None:
    # The EHR's fill and the HIE's fill of the same day and drug, each naming `Practitioner/dr1` and
    # `Organization/ph1` on its own server: two prescribers and two pharmacies that share ids, not one fill sent twice.
    # Tied by the bare ids, the HIE's fill was dropped as a copy and its 30 days' supply lost. (Naming no
    # prescription, the second queues behind the first, as any fill naming none does.)
    ehr = _searchset(_entry(EPIC, _by_reference(_fill("eDisp.1", "MedicationRequest/123", 5))))
    hie = _searchset(_entry(HIE, _by_reference(_fill("hDisp.9", "MedicationRequest/123", 5))))
    facts = _facts(ehr, hie)
    assert facts.fills_sent_twice == ()
    assert sorted(d.id for d in facts.record.dispenses) == ["eDisp.1", "hDisp.9"]


def test_one_servers_fill_sent_twice_by_reference_is_still_read_once() -> None:
    # The same fill under a gateway's id on the EHR's own host, naming the EHR's dr1 and ph1 (one absolutely).
    copy = _by_reference(_fill("gw-77", "MedicationRequest/123", 5))
    copy["performer"][0]["actor"]["reference"] = f"{EPIC}/Practitioner/dr1"
    ehr = _searchset(_entry(EPIC, _by_reference(_fill("eDisp.1", "MedicationRequest/123", 5))), _entry(EPIC, copy))
    facts = _facts(ehr)
    assert [(c.copy.id, c.kept.id) for c in facts.fills_sent_twice] == [("gw-77", "eDisp.1")]
    assert facts.mme.total == Decimal(60)


def test_two_servers_orders_by_their_own_practitioner_dr1_are_two_prescription_courses() -> None:
    # The EHR's dr1 and the HIE's dr1 are two prescribers: each one's fill is its own course, and the two add up
    # (one course by the bare id, the HIE's fill queued behind the EHR's: 60 MME a day where 120 are taken).
    def signed(order_id: str, ago: int) -> dict[str, Any]:
        return {**_unsigned(order_id, ago), "requester": {"reference": "Practitioner/dr1", "display": "Adams, Ann"}}

    ehr = _searchset(_entry(EPIC, signed("123", 21)), _entry(EPIC, _fill("eDisp.1", "MedicationRequest/123", 20)))
    hie = _searchset(_entry(HIE, signed("h7", 6)), _entry(HIE, _fill("hDisp.9", "MedicationRequest/h7", 5)))
    facts = _facts(ehr, hie)
    by_id = {d.id: d for d in facts.record.dispenses}
    assert prescription_course(by_id["eDisp.1"], facts.real_orders) == "prescriber:Practitioner/dr1"
    assert prescription_course(by_id["hDisp.9"], facts.real_orders) == f"prescriber:{HIE}/Practitioner/dr1"
    assert facts.mme.total == Decimal(120)


def test_one_prescribers_orders_named_by_npi_on_two_servers_are_one_course() -> None:
    # An NPI names one person on every server: the HIE's order by the same NPI continues the EHR's course.
    def by_npi(order_id: str, ago: int) -> dict[str, Any]:
        npi = {"type": "Practitioner", "identifier": {"system": NPI, "value": "1467586115"}}
        return {**_unsigned(order_id, ago), "requester": npi}

    ehr = _searchset(_entry(EPIC, by_npi("123", 21)), _entry(EPIC, _fill("eDisp.1", "MedicationRequest/123", 20)))
    hie = _searchset(_entry(HIE, by_npi("h7", 6)), _entry(HIE, _fill("hDisp.9", "MedicationRequest/h7", 5)))
    assert _facts(ehr, hie).mme.total == Decimal(60)


def test_which_prescriber_references_can_tell_two_prescribers_apart() -> None:
    from guideline.identifiers import comparable

    npi = "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1467586115"
    assert comparable("Practitioner/dr1", "Practitioner/dr2")  # both the EHR's
    assert comparable(f"{HIE}/Practitioner/dr1", f"{HIE}/Practitioner/dr2")  # both the HIE's
    assert comparable(npi, "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1306849450")
    assert not comparable("Practitioner/dr1", f"{HIE}/Practitioner/dr1")  # two servers: no evidence either way
    assert not comparable("Practitioner/dr1", npi)


def test_an_ehr_order_is_never_read_as_the_unlinked_reorder_of_another_servers_order() -> None:
    # The HIE's completed order h7 (another practice's prescriber, the HIE's `Practitioner/dr9`) was filled 5 days ago
    # and still supplies 60 MME a day; the EHR's PCP (the EHR's `Practitioner/dr1`) wrote oxycodone 10 mg 2 days ago,
    # naming no priorPrescription. Two servers' references cannot say the two prescribers are one: the EHR's order is
    # no reorder of the HIE's, and both count (read as one regimen, the HIE's fill was dropped from the total).
    def order(order_id: str, status: str, ago: int, prescriber: str) -> dict[str, Any]:
        return {**_unsigned(order_id, ago), "status": status, "requester": {"reference": prescriber}}

    hie = _searchset(
        _entry(HIE, order("h7", "completed", 6, "Practitioner/dr9")),
        _entry(HIE, _fill("hDisp.9", "MedicationRequest/h7", 5)),
    )
    ehr = _searchset(_entry(EPIC, order("e1", "active", 2, "Practitioner/dr1")))
    assert _facts(ehr, hie).mme.total == Decimal(120)


def test_two_servers_fills_dispensed_at_their_own_location_l1_are_two_fills() -> None:
    # No organisation performer: the pharmacy is where each was dispensed, `Location/l1` on its own server.
    def at_l1(fill_id: str) -> dict[str, Any]:
        fill = _by_reference(_fill(fill_id, "MedicationRequest/123", 5))
        fill["performer"] = [{"actor": {"reference": "Practitioner/dr1"}}]
        fill["location"] = {"reference": "Location/l1", "display": "Outpatient Pharmacy"}
        return fill

    hie_fill = {**at_l1("hDisp.9"), "performer": [{"actor": {"identifier": {"system": NPI, "value": "1467586115"}}}]}
    ehr_fill = {**at_l1("eDisp.1"), "performer": [{"actor": {"identifier": {"system": NPI, "value": "1467586115"}}}]}
    facts = _facts(_searchset(_entry(EPIC, ehr_fill)), _searchset(_entry(HIE, hie_fill)))
    assert facts.fills_sent_twice == ()
    assert sorted(d.id for d in facts.record.dispenses) == ["eDisp.1", "hDisp.9"]


def test_a_bulk_exports_copy_naming_its_prescriber_and_pharmacy_absolutely_is_still_one_fill_sent_twice() -> None:
    # The export's own server names dr1 and ph1 relatively in one copy and absolutely in the other: one fill.
    from synthetic_export import dispense as export_fill
    from synthetic_export import patient as export_patient
    from test_population_measures import PERIOD, TODAY

    from guideline.population import Directory, evaluate_patient

    base = "https://fhir.ehr.example/api/FHIR/R4"
    fill = export_fill("f1", "a", ("1049683", "oxycodone hydrochloride 10 MG Oral Tablet"), "2026-01-05", 120, 30)
    fill |= {"performer": [{"actor": {"reference": "Practitioner/drA"}}, {"actor": {"reference": "Organization/ph1"}}]}
    resent = {
        **fill,
        "id": "f1-resent",
        "performer": [
            {"actor": {"reference": f"{base}/Practitioner/drA"}},
            {"actor": {"reference": f"{base}/Organization/ph1/_history/2"}},
        ],
    }
    config = GuidelineConfig.from_mapping()
    outcome = evaluate_patient("a", [export_patient("a"), fill, resent], PERIOD, config, TODAY, Directory())
    assert outcome.row is not None
    assert (outcome.row["opioid_fills"], outcome.row["days_supply"]) == (1, 30.0)
    assert outcome.quality.duplicate_fills == 1
