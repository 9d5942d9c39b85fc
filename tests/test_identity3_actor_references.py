"""One prescriber, however a Bundle names them: a transaction or collection Bundle (and some HIE feeds) names an
order's requester, a fill's performer or a role's practitioner as `urn:uuid:…`, the fullUrl of another entry. Read
as written, Dr Adams by her Practitioner's fullUrl and Dr Adams by `Practitioner/eDrA` were two prescribers, and her
own renewal ran beside the order it renews (120 MME/day for 60, "another prescriber's" on the card). Resolved only
where the entry is in the data: a fullUrl nothing in the Bundle is sent under stays apart."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from builders import TZ, card, run
from test_signed_renewal import PCP, medication, old, renewal
from test_signed_renewal import fill as renewal_fill

from guideline.record import build_record

NPI = "http://hl7.org/fhir/sid/us-npi"
DR_ADAMS_URL = "urn:uuid:6f1d2c44-8b7e-4c1a-9d3e-0a5b7c9e1f20"
ROLE_URL = "urn:uuid:0b9e3f1a-2c4d-4e6f-8a1b-3c5d7e9f0a12"
PHARMACY_URL = "urn:uuid:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


def adams(ident: str | None = "eDrA", npi: str = "1467586115") -> dict[str, Any]:
    """Dr Adams as a Practitioner entry of the Bundle, with her NPI (an id-less one in a transaction Bundle)."""
    practitioner: dict[str, Any] = {
        "resourceType": "Practitioner",
        "identifier": [{"system": NPI, "value": npi}],
        "name": [{"family": "Adams", "given": ["Ann"], "suffix": ["MD"]}],
    }
    if ident:
        practitioner["id"] = ident
    return practitioner


def role(practitioner: str) -> dict[str, Any]:
    """Dr Adams's PractitionerRole at the pain clinic, naming her practitioner as given."""
    return {
        "resourceType": "PractitionerRole",
        "id": "role-adams-pain",
        "active": True,
        "practitioner": {"reference": practitioner, "display": "Adams, Ann, MD"},
        "organization": {"display": "Pain Management Clinic"},
    }


def collection(*entries: tuple[str | None, dict[str, Any]]) -> dict[str, Any]:
    """A collection Bundle (an HIE's or a payer's document): each (fullUrl, resource)."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": url, "resource": r} if url else {"resource": r} for url, r in entries],
    }


def total(*entries: tuple[str | None, dict[str, Any]]) -> Decimal:
    """Today's MME/day on patient-view with these entries sent as one collection Bundle."""
    return run("patient-view", resources=[collection(*entries)]).facts.mme.total


def chart(renewed_by: Any, *directory: tuple[str | None, dict[str, Any]]) -> list[tuple[str | None, dict[str, Any]]]:
    """Dr Adams's active oxycodone order (requester `Practitioner/eDrA`), its fill, and her renewal naming its
    requester as given, with these directory entries."""
    return [
        (None, medication()),
        (None, old("active")),
        (None, renewal_fill("eOxy.Old")),
        (None, renewal(requester=renewed_by)),
        *directory,
    ]


def test_a_requester_named_by_the_practitioners_full_url_is_that_practitioner() -> None:
    entries = chart({"reference": DR_ADAMS_URL, "display": "Adams, Ann, MD"}, (DR_ADAMS_URL, adams()))
    evaluation = run("patient-view", resources=[collection(*entries)])
    assert evaluation.facts.mme.total == Decimal(60)
    [renewed] = [o for o in evaluation.facts.record.orders if o.id == "eOxy.New"]
    assert renewed.requester == "Practitioner/eDrA"


def test_a_requester_named_by_a_roles_full_url_is_the_roles_practitioner() -> None:
    # The role's own practitioner named by her fullUrl too, as a transaction Bundle ties every entry.
    entries = chart({"reference": ROLE_URL}, (ROLE_URL, role(DR_ADAMS_URL)), (DR_ADAMS_URL, adams()))
    assert total(*entries) == Decimal(60)
    # And a role naming her by `Practitioner/eDrA`, the Practitioner not sent.
    assert total(*chart({"reference": ROLE_URL}, (ROLE_URL, role("Practitioner/eDrA")))) == Decimal(60)


def test_a_full_url_no_entry_is_sent_under_stays_another_prescriber() -> None:
    entries = chart({"reference": DR_ADAMS_URL})
    evaluation = run("patient-view", resources=[collection(*entries)])
    assert evaluation.facts.mme.total == Decimal(120)
    high = card(evaluation, "high-mme")
    assert high is not None and "another prescriber's, still current" in high.detail


def test_a_full_url_naming_another_practitioner_stays_another_prescriber() -> None:
    evans = {**adams("eDrE", "1942284192"), "name": [{"family": "Evans"}]}
    assert total(*chart({"reference": DR_ADAMS_URL}, (DR_ADAMS_URL, evans))) == Decimal(120)
    # A role whose practitioner's fullUrl names nobody sent names nobody either.
    assert total(*chart({"reference": ROLE_URL}, (ROLE_URL, role(DR_ADAMS_URL)))) == Decimal(120)


def test_an_id_less_practitioner_under_a_full_url_is_her_npi() -> None:
    # A transaction Bundle's Practitioner has no id: its fullUrl is all that names it, and her NPI says who she is
    # to an order that names her by NPI.
    by_npi = {"type": "Practitioner", "identifier": {"system": NPI, "value": "1467586115"}}
    first = {**old("active"), "requester": {"reference": DR_ADAMS_URL}}
    entries = [(None, medication()), (None, first), (None, renewal_fill("eOxy.Old")), (None, renewal(requester=by_npi))]
    record = build_record([collection(*entries, (DR_ADAMS_URL, adams(ident=None)))], TZ)
    assert {o.id: o.requester for o in record.orders}["eOxy.Old"] == f"Practitioner?identifier={NPI}|1467586115"
    assert total(*entries, (DR_ADAMS_URL, adams(ident=None))) == Decimal(60)


def test_one_full_url_two_entries_are_sent_under_names_neither() -> None:
    # Two Bundles reusing one fullUrl for two people: it does not say which, so it is left as written.
    evans = {**adams("eDrE", "1942284192"), "name": [{"family": "Evans"}]}
    resources = [
        collection(*chart({"reference": DR_ADAMS_URL}, (DR_ADAMS_URL, adams()))),
        collection((DR_ADAMS_URL, evans)),
    ]
    [renewed] = [o for o in build_record(resources, TZ).orders if o.id == "eOxy.New"]
    assert renewed.requester == DR_ADAMS_URL


def test_a_fills_pharmacy_named_by_full_url_is_that_organization() -> None:
    pharmacy = {
        "resourceType": "Organization",
        "id": "4471023",
        "identifier": [{"system": NPI, "value": "1730166049"}],
        "name": "Main Street Pharmacy",
    }
    fill = {**renewal_fill("eOxy.Old"), "performer": [{"actor": {"reference": PHARMACY_URL}}]}
    record = build_record([collection((None, fill), (PHARMACY_URL, pharmacy))], TZ)
    [read] = record.dispenses
    assert read.pharmacy == "Organization/4471023"


def test_the_usual_chart_reads_its_requester_as_written() -> None:
    [order] = build_record([old("active")], TZ).orders
    assert order.requester == PCP["reference"]


# ---------------------------------------------------------------------------------------------------------------
# A PractitionerRole not sent, whose reference carries its practitioner's NPI

ROLE_ID = "eFHqV2rVgH7Ir0x8Bt4DYmA3"  # an Epic PractitionerRole id


def role_by_reference(npi: str | None = "1467586115") -> dict[str, Any]:
    """The renewal's requester as a gateway writes it: Epic's PractitionerRole (not sent), with the practitioner's NPI
    beside the reference (a Reference may carry both)."""
    named: dict[str, Any] = {"reference": f"PractitionerRole/{ROLE_ID}", "type": "PractitionerRole"}
    if npi:
        named["identifier"] = {"system": NPI, "value": npi}
    return {**named, "display": "Adams, Ann, MD"}


def epic_adams(npi: str = "1467586115") -> dict[str, Any]:
    """Dr Adams's Practitioner as Epic includes it with the chart (Practitioner/eDrA), with her NPI."""
    return {
        "resourceType": "Practitioner",
        "id": "eDrA",
        "identifier": [
            {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.0", "value": "E1234"},
            {"system": NPI, "value": npi},
        ],
        "name": [{"family": "Adams", "given": ["Ann"]}],
    }


def plain(requester: Any, *directory: dict[str, Any]) -> Decimal:
    """Today's MME/day with Dr Adams's order, its fill and her renewal by `requester`, and these resources."""
    resources = [medication(), old("active"), renewal_fill("eOxy.Old"), renewal(requester=requester), *directory]
    return run("patient-view", resources=resources).facts.mme.total


def test_a_role_not_sent_whose_reference_carries_her_npi_is_her() -> None:
    # Her Practitioner, sent with the chart, carries that NPI: the data says the role is hers.
    assert plain(role_by_reference(), epic_adams()) == Decimal(60)
    [renewed] = [
        o for o in build_record([renewal(requester=role_by_reference()), epic_adams()], TZ).orders if o.id == "eOxy.New"
    ]
    assert renewed.requester == "Practitioner/eDrA"


def test_a_role_not_sent_with_no_npi_to_match_stays_another_prescriber() -> None:
    assert plain(role_by_reference(), epic_adams("1942284192")) == Decimal(120)  # another person's NPI
    assert plain(role_by_reference()) == Decimal(120)  # her Practitioner not sent: nothing says whose the NPI is
    assert plain(role_by_reference(npi=None), epic_adams()) == Decimal(120)  # no NPI beside the role
    clinic = {"resourceType": "Organization", "id": "eOrgPain", "identifier": [{"system": NPI, "value": "1467586115"}]}
    assert plain(role_by_reference(), clinic) == Decimal(120)  # an organisation's NPI is no practitioner's


def test_a_role_named_by_her_npi_alone_is_her_practitioner_sent_with_the_chart() -> None:
    # Read as `PractitionerRole?identifier=…`, the prescriber was "unknown" beside `Practitioner/eDrA`: no evidence of
    # two for a renewal, but no evidence of one for a reorder (`orders.one_prescriber`). Her NPI says she is eDrA.
    by_npi = {"type": "PractitionerRole", "identifier": {"system": NPI, "value": "1467586115"}}
    [order] = build_record([renewal(requester=by_npi), epic_adams()], TZ).orders
    assert order.requester == "Practitioner/eDrA"
    [order] = build_record([renewal(requester=by_npi), epic_adams("1942284192")], TZ).orders
    assert order.requester == f"PractitionerRole?identifier={NPI}|1467586115"
