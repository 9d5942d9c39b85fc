"""One pharmacy and one prescriber, however two copies of a fill or two orders name them: a STU3 fill's pharmacy
(performer.onBehalfOf), a pharmacy named by NPI alone, and a prescriber named by a PractitionerRole whose
practitioner the bundle (or the resource itself) names. Unsure (a role nobody resolves), they stay two."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from builders import PATIENT_ID, TZ, card, run
from cds_support import bundle, full_prefetch, hook_request, make_app, oxycodone_draft
from test_signed_renewal import fill as renewal_fill
from test_signed_renewal import medication, old, renewal

from guideline.record import build_record

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
OXYCODONE_10 = "1049683"  # oxycodone hydrochloride 10 MG Oral Tablet
NPI = "http://hl7.org/fhir/sid/us-npi"
GATEWAY_NUMBER = "urn:oid:2.16.840.1.113883.3.7781.1"  # an HIE gateway's own fill numbers
EPIC_RX_NUMBER = "urn:oid:1.2.840.114350.1.13.0.1.7.2.798268"


def stu3_dispense(ident: str, *, number: tuple[str, str] | None = None, **changes: Any) -> dict[str, Any]:
    """A STU3 MedicationDispense as a Cerner/Oracle Health Millennium STU3 server sends it: oxycodone 10 mg, #180 for
    30 days (90 MME/day) handed over on 2026-05-06 (it ran out on 2026-06-04, before today, 2026-06-15: read twice,
    the copy queues as an early refill and seems current), the pharmacist named by display only and the pharmacy as
    the organisation they acted on behalf of (STU3's performer.onBehalfOf, dropped in R4)."""
    fill: dict[str, Any] = {
        "resourceType": "MedicationDispense",
        "id": ident,
        "status": "completed",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": OXYCODONE_10, "display": "oxycodone HCl 10 MG Oral Tablet"}],
            "text": "oxyCODONE 10 mg tablet",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "performer": [
            {
                "actor": {"display": "Lee, Pat, RPh"},
                "onBehalfOf": {"reference": "Organization/4471023", "display": "Main Street Pharmacy"},
            }
        ],
        "quantity": {"value": 180, "unit": "tablet", "system": "http://unitsofmeasure.org", "code": "{tbl}"},
        "daysSupply": {"value": 30, "unit": "day", "system": "http://unitsofmeasure.org", "code": "d"},
        "whenHandedOver": "2026-05-06T15:32:00.000Z",
    }
    if number:
        fill["identifier"] = [{"system": number[0], "value": number[1]}]
    fill.update(changes)
    return fill


def total_on_card(tmp_path: Path, *chart: dict[str, Any]) -> str:
    """The MME/day the high-dose card of an order-sign gives: a draft of oxycodone 5 mg, 2 tablets every 4 hours
    (90 MME/day), with these resources in the prefetch's dispenses: "90" when a fill of 2026-05-06 is read once, "180"
    when its copy is read as an early refill, current today."""
    prefetch = full_prefetch("order-sign", dispenses=bundle(*chart))
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch)
    cards = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body).json["cards"]
    high = next(c for c in cards if c["source"]["topic"]["code"] == "high-mme")
    found = re.search(r"(\d+)(?:\.0)? MME/day", high["summary"])
    assert found, high["summary"]
    return found.group(1)


# ---------------------------------------------------------------------------------------------------------------
# 1. A STU3 fill's pharmacy


def test_a_stu3_fill_sent_twice_by_two_sources_counts_once(tmp_path: Path) -> None:
    # The EHR's STU3 fill (its fill number under the pharmacy system) and a gateway's copy under its own id and
    # number: same day, drug, quantity, days' supply and pharmacy (onBehalfOf). Read without its pharmacy, nothing tied
    # them, and the copy, queued as an early refill, added 90 MME/day as current: 180 instead of 90.
    ehr = stu3_dispense("4471920", number=(EPIC_RX_NUMBER, "4471920-00"))
    copy = stu3_dispense("hie-gw-20260610-7781", number=(GATEWAY_NUMBER, "7781"))
    assert total_on_card(tmp_path, ehr, copy) == "90"


def test_two_stu3_fills_at_two_pharmacies_both_count(tmp_path: Path) -> None:
    # Same day, drug and quantity, but dispensed on behalf of two pharmacies: two fills (a patient filling twice).
    first = stu3_dispense("4471920", number=(EPIC_RX_NUMBER, "4471920-00"))
    second = stu3_dispense("hie-gw-20260610-7781", number=(GATEWAY_NUMBER, "7781"))
    second["performer"] = [{"actor": {"display": "Kim, Jo, RPh"}, "onBehalfOf": {"reference": "Organization/5512"}}]
    assert total_on_card(tmp_path, first, second) == "180"


def test_the_record_reads_a_stu3_fills_pharmacy_from_on_behalf_of() -> None:
    record = build_record([stu3_dispense("4471920")], TZ)
    assert record.dispenses[0].pharmacy == "Organization/4471023"


def test_an_organization_performer_is_the_pharmacy_before_on_behalf_of_and_location() -> None:
    fill = stu3_dispense("d1", location={"reference": "Location/rx-counter-2"})
    fill["performer"].insert(0, {"actor": {"reference": "Organization/ph-central"}})
    assert build_record([fill], TZ).dispenses[0].pharmacy == "Organization/ph-central"
    fill = stu3_dispense("d2", location={"reference": "Location/rx-counter-2"})
    del fill["performer"]
    assert build_record([fill], TZ).dispenses[0].pharmacy == "Location/rx-counter-2"


# ---------------------------------------------------------------------------------------------------------------
# 2. A pharmacy named by NPI alone


def r4_fill(ident: str, number: tuple[str, str], pharmacy: dict[str, Any]) -> dict[str, Any]:
    """An R4 fill (2026-05-06) whose only performer is its pharmacy, as given."""
    fill = stu3_dispense(ident, number=number)
    fill["performer"] = [{"actor": pharmacy}]
    return fill


def main_street(npi: str = "1730166049") -> dict[str, Any]:
    """The pharmacy as the bundle sends it (included with the fills): an Organization with its NPI."""
    return {
        "resourceType": "Organization",
        "id": "4471023",
        "identifier": [{"system": NPI, "value": npi}],
        "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "prov"}]}],
        "name": "Main Street Pharmacy",
    }


def test_a_pharmacy_named_by_npi_alone_on_both_copies_ties_them(tmp_path: Path) -> None:
    # A gateway relays the fill naming the pharmacy by NPI with no type, as does the EHR's copy: the same dispenser,
    # yet read as no pharmacy at all, nothing tied the copies and the fill was counted twice.
    by_npi = {"identifier": {"system": NPI, "value": "1730166049"}, "display": "MAIN STREET PHARMACY"}
    ehr = r4_fill("4471920", (EPIC_RX_NUMBER, "4471920-00"), by_npi)
    copy = r4_fill("hie-gw-20260610-7781", (GATEWAY_NUMBER, "7781"), by_npi)
    assert total_on_card(tmp_path, ehr, copy) == "90"


def test_a_pharmacy_named_by_npi_is_the_organization_that_carries_that_npi(tmp_path: Path) -> None:
    # One copy names Organization/4471023, the other its NPI; the Organization in the bundle carries that NPI.
    ehr = r4_fill("4471920", (EPIC_RX_NUMBER, "4471920-00"), {"reference": "Organization/4471023"})
    copy = r4_fill(
        "hie-gw-20260610-7781", (GATEWAY_NUMBER, "7781"), {"identifier": {"system": NPI, "value": "1730166049"}}
    )
    assert total_on_card(tmp_path, ehr, copy, main_street()) == "90"
    # Without the Organization nothing says the NPI is that pharmacy's: both are counted.
    assert total_on_card(tmp_path, ehr, copy) == "180"
    # Nor when the Organization carries another NPI.
    assert total_on_card(tmp_path, ehr, copy, main_street("1942284192")) == "180"


def test_two_pharmacies_named_by_two_npis_stay_two(tmp_path: Path) -> None:
    first = r4_fill("4471920", (EPIC_RX_NUMBER, "4471920-00"), {"identifier": {"system": NPI, "value": "1730166049"}})
    second = r4_fill("hie-gw-7781", (GATEWAY_NUMBER, "7781"), {"identifier": {"system": NPI, "value": "1942284192"}})
    assert total_on_card(tmp_path, first, second) == "180"


# ---------------------------------------------------------------------------------------------------------------
# 3. A PractitionerRole and its practitioner are one prescriber

ROLE_ID = "eFHqV2rVgH7Ir0x8Bt4DYmA3"  # an Epic PractitionerRole id
DR_ADAMS = "Practitioner/eDrA"


def epic_role(practitioner: str = DR_ADAMS, ident: str = ROLE_ID) -> dict[str, Any]:
    """Epic's PractitionerRole for Dr Adams at the pain clinic (as _include=MedicationRequest:requester returns it)."""
    return {
        "resourceType": "PractitionerRole",
        "id": ident,
        "active": True,
        "practitioner": {"reference": practitioner, "display": "Adams, Ann, MD"},
        "organization": {"reference": "Organization/eOrgPain", "display": "Pain Management Clinic"},
        "code": [{"coding": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.10.836982.1050", "code": "1"}]}],
    }


ROLE_REF = {"reference": f"PractitionerRole/{ROLE_ID}", "type": "PractitionerRole", "display": "Adams, Ann, MD"}


def test_a_signed_renewal_by_the_prescribers_role_retires_the_order_it_renews() -> None:
    # Dr Adams renews her own order; Epic names the requester of the renewal by her PractitionerRole. Read as another
    # prescriber, the renewal ran beside the old order (still active, its fill still supplying): 120 instead of 60.
    resources = [medication(), old("active"), renewal_fill("eOxy.Old"), renewal(requester=ROLE_REF), epic_role()]
    assert run("patient-view", resources=resources).facts.mme.total == Decimal(60)


def test_a_contained_role_names_its_practitioner_too() -> None:
    new = renewal(requester={"reference": "#role"})
    new["contained"] = [{**epic_role(), "id": "role"}]
    resources = [medication(), old("active"), renewal_fill("eOxy.Old"), new]
    assert run("patient-view", resources=resources).facts.mme.total == Decimal(60)


def test_a_role_nobody_resolves_stays_another_prescriber() -> None:
    # No PractitionerRole in the bundle: the role may be anyone's, and the renewal runs beside the old order.
    resources = [medication(), old("active"), renewal_fill("eOxy.Old"), renewal(requester=ROLE_REF)]
    evaluation = run("patient-view", resources=resources)
    assert evaluation.facts.mme.total == Decimal(120)
    high = card(evaluation, "high-mme")
    assert high is not None and "another prescriber's, still current" in high.detail


def test_another_practitioners_role_stays_another_prescriber() -> None:
    resources = [medication(), old("active"), renewal_fill("eOxy.Old"), renewal(requester=ROLE_REF)]
    assert run("patient-view", resources=[*resources, epic_role("Practitioner/eDrE")]).facts.mme.total == Decimal(120)


def test_a_fill_copy_naming_the_role_is_the_fill_naming_the_practitioner(tmp_path: Path) -> None:
    # The EHR's fill names Dr Adams as performer (as the population review reads a practitioner performer, her
    # prescription), the gateway's copy her PractitionerRole; no pharmacy on either, no number shared.
    ehr = r4_fill("4471920", (EPIC_RX_NUMBER, "4471920-00"), {"reference": DR_ADAMS})
    copy = r4_fill("hie-gw-7781", (GATEWAY_NUMBER, "7781"), {"reference": f"PractitionerRole/{ROLE_ID}"})
    assert total_on_card(tmp_path, ehr, copy, epic_role()) == "90"
    assert total_on_card(tmp_path, ehr, copy) == "180"  # the role unresolved: unsure, both count


# ---------------------------------------------------------------------------------------------------------------
# A contained prescriber is its container's own, unless its NPI says who it is


def _contained_prescriber(order: dict[str, Any], family: str, npi: str | None = None) -> dict[str, Any]:
    """The order naming its prescriber by a Practitioner it contains (`#pr`), as a relayed order may."""
    practitioner: dict[str, Any] = {"resourceType": "Practitioner", "id": "pr", "name": [{"family": family}]}
    if npi:
        practitioner["identifier"] = [{"system": NPI, "value": npi}]
    return {**order, "contained": [practitioner], "requester": {"reference": "#pr"}}


def test_two_orders_each_containing_their_own_prescriber_are_two_prescribers() -> None:
    # Each order's "#pr" means something only inside that order: Dr Evans's renewal of Dr Adams's current order
    # runs beside it (120). Read by the bare "#pr", they were one prescriber and the renewal retired the order (60).
    resources = [medication(), _contained_prescriber(old("active"), "Adams"), renewal_fill("eOxy.Old")]
    resources.append(_contained_prescriber(renewal(), "Evans"))
    assert run("patient-view", resources=resources).facts.mme.total == Decimal(120)


def test_two_contained_prescribers_with_one_npi_are_one_prescriber() -> None:
    resources = [medication(), _contained_prescriber(old("active"), "Adams", "1467586115"), renewal_fill("eOxy.Old")]
    resources.append(_contained_prescriber(renewal(), "Adams", "1467586115"))
    assert run("patient-view", resources=resources).facts.mme.total == Decimal(60)


# ---------------------------------------------------------------------------------------------------------------
# Nothing is guessed: an identifier two resources carry, another server's role


def test_an_npi_two_organizations_carry_names_neither(tmp_path: Path) -> None:
    # The NPI is carried by the pharmacy and by another Organization (a data error, or a chain's two stores under
    # one billing NPI): it does not say which, so the copies are not tied by it and both count.
    ehr = r4_fill("4471920", (EPIC_RX_NUMBER, "4471920-00"), {"reference": "Organization/4471023"})
    copy = r4_fill("hie-gw-7781", (GATEWAY_NUMBER, "7781"), {"identifier": {"system": NPI, "value": "1730166049"}})
    other_store = {**main_street(), "id": "5512", "name": "Main Street Pharmacy #2"}
    assert total_on_card(tmp_path, ehr, copy, main_street(), other_store) == "180"


def test_an_npi_reference_typed_practitioner_is_not_an_organization_with_that_npi() -> None:
    fill = r4_fill(
        "d1", (EPIC_RX_NUMBER, "1"), {"type": "Practitioner", "identifier": {"system": NPI, "value": "1730166049"}}
    )
    [read] = build_record([fill, main_street()], TZ).dispenses
    assert read.performers == (f"Practitioner?identifier={NPI}|1730166049",)
    assert read.pharmacy is None


EPIC_BASE = "https://fhir.epic.example/interconnect-fhir-oauth/api/FHIR/R4"
HIE_BASE = "https://hie.example.org/fhir"


def test_another_servers_role_names_that_servers_practitioner() -> None:
    # The HIE's order names the HIE's PractitionerRole, whose practitioner is the HIE's eDrA, not the EHR's eDrA; and
    # the EHR's role of the same id (another person's) does not answer for it.
    hie_order = renewal(requester=ROLE_REF)
    entries = [
        {"fullUrl": f"{HIE_BASE}/MedicationRequest/eOxy.New", "resource": hie_order},
        {"fullUrl": f"{HIE_BASE}/PractitionerRole/{ROLE_ID}", "resource": epic_role()},
        {"fullUrl": f"{EPIC_BASE}/PractitionerRole/{ROLE_ID}", "resource": epic_role("Practitioner/eDrE")},
    ]
    record = build_record(
        [{"resourceType": "Bundle", "type": "searchset", "entry": entries}], TZ, fhir_server=EPIC_BASE
    )
    [order] = record.orders
    assert order.requester == f"{HIE_BASE}/Practitioner/eDrA"


def _contained_role_and_practitioner(order: dict[str, Any], npi: str) -> dict[str, Any]:
    """The order naming its prescriber by a contained role whose practitioner is contained beside it, with an NPI."""
    practitioner = {"resourceType": "Practitioner", "id": "pr", "identifier": [{"system": NPI, "value": npi}]}
    role = {"resourceType": "PractitionerRole", "id": "role", "practitioner": {"reference": "#pr"}}
    return {**order, "contained": [role, practitioner], "requester": {"reference": "#role"}}


def test_a_contained_role_of_a_contained_practitioner_is_that_practitioners_npi() -> None:
    for npi, total in (("1467586115", 60), ("1942284192", 120)):
        resources = [medication(), _contained_role_and_practitioner(old("active"), "1467586115")]
        resources += [renewal_fill("eOxy.Old"), _contained_role_and_practitioner(renewal(), npi)]
        assert run("patient-view", resources=resources).facts.mme.total == Decimal(total), npi


def test_two_contained_roles_naming_each_other_name_nobody() -> None:
    order = renewal()
    order["contained"] = [
        {"resourceType": "PractitionerRole", "id": "a", "practitioner": {"reference": "#b"}},
        {"resourceType": "PractitionerRole", "id": "b", "practitioner": {"reference": "#a"}},
    ]
    order["requester"] = {"reference": "#a"}
    [read] = build_record([order], TZ).orders
    assert read.requester == "MedicationRequest/eOxy.New#a"
