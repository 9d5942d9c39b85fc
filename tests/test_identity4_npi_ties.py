"""One prescriber whose NPI only another order's reference gives: Dr Adams's first prescription of a staggered
series names her `{"reference": "Practitioner/eDrA", "identifier": <NPI>}` (a gateway writes both), the next names her
by NPI alone (`{"identifier": <NPI>, "display": …}`, as a relayed or claim-converted order does), and no Practitioner
resource is sent. The chart itself ties eDrA to that NPI, so the two are hers: the series hands over (60 MME/day).
Before, the NPI answered only to a Practitioner resource sent with the chart, so the two prescriptions were "not known
to be one prescriber's" and counted together (120). Where nothing ties them, or two references tie one NPI to two
practitioners, they stay apart (both count)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from builders import TZ, run
from test_identity3_actor_references import epic_adams
from test_staggered_hand_over import overlapping
from test_staggered_prescriptions import medication

from guideline.record import build_record

NPI = "http://hl7.org/fhir/sid/us-npi"
ADAMS_NPI = "1467586115"
EVANS_NPI = "1942284192"


def by_reference(ident: str = "eDrA", npi: str | None = ADAMS_NPI) -> dict[str, Any]:
    """A requester by reference, with her NPI beside it when given."""
    named: dict[str, Any] = {"reference": f"Practitioner/{ident}", "display": "Adams, Ann, MD"}
    if npi:
        named["identifier"] = {"system": NPI, "value": npi}
    return named


def by_npi(npi: str = ADAMS_NPI) -> dict[str, Any]:
    """A requester by NPI alone, as a relayed or claim-converted order names her."""
    return {"type": "Practitioner", "identifier": {"system": NPI, "value": npi}, "display": "ADAMS, ANN"}


def series(first_by: dict[str, Any], next_by: dict[str, Any]) -> list[dict[str, Any]]:
    """Two prescriptions of a staggered series (the next fillable from today, 2 days before the first runs out),
    their requesters as given."""
    first, second = overlapping(2)
    return [{**first, "requester": first_by}, {**second, "requester": next_by}]


def total(resources: list[dict[str, Any]]) -> Decimal:
    return run("patient-view", resources=[medication(), *resources]).facts.mme.total


def test_an_npi_another_orders_reference_ties_to_her_is_her() -> None:
    resources = series(by_reference(), by_npi())
    assert total(resources) == Decimal(60)
    requesters = {o.id: o.requester for o in build_record(resources, TZ).orders}
    assert requesters == {"eOxy.1": "Practitioner/eDrA", "eOxy.2": "Practitioner/eDrA"}


def test_a_fills_performer_can_tie_the_npi_too() -> None:
    # The pharmacy's fill names its prescriber as a claim does: by reference with her NPI beside it.
    fill = {
        "resourceType": "MedicationDispense",
        "id": "eDisp.9",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "medicationReference": {"reference": "Medication/eMed10"},
        "performer": [
            {"actor": {"reference": "Organization/ePharm1", "display": "Main Street Pharmacy"}},
            {
                "function": {"coding": [{"code": "prescribing"}]},
                "actor": by_reference(),
            },
        ],
    }
    resources = [*series(by_reference(npi=None), by_npi()), fill]
    requesters = {o.id: o.requester for o in build_record(resources, TZ).orders}
    assert requesters["eOxy.2"] == "Practitioner/eDrA"


def test_where_nothing_ties_the_npi_they_stay_apart() -> None:
    assert total(series(by_reference(npi=None), by_npi())) == Decimal(120)  # no NPI anywhere beside eDrA
    assert total(series(by_reference(npi=EVANS_NPI), by_npi())) == Decimal(120)  # another person's NPI
    [_, second] = build_record(series(by_reference(npi=None), by_npi()), TZ).orders
    assert second.requester == f"Practitioner?identifier={NPI}|{ADAMS_NPI}"


def test_one_npi_tied_to_two_practitioners_ties_neither() -> None:
    # Two references say the NPI is two people's: which one is not known, so it is left as written.
    third = {**overlapping(2)[0], "id": "eOxy.0", "requester": by_reference("eDrE")}
    resources = [*series(by_reference(), by_npi()), third]
    [order] = [o for o in build_record(resources, TZ).orders if o.id == "eOxy.2"]
    assert order.requester == f"Practitioner?identifier={NPI}|{ADAMS_NPI}"
    # Nor when her Practitioner, sent with the chart, carries it and a reference ties it to another.
    resources = [*series(by_reference("eDrE"), by_npi()), epic_adams()]
    [order] = [o for o in build_record(resources, TZ).orders if o.id == "eOxy.2"]
    assert order.requester == f"Practitioner?identifier={NPI}|{ADAMS_NPI}"


def test_an_organisations_npi_on_a_reference_is_no_practitioners() -> None:
    clinic = {"reference": "Organization/ePain", "identifier": {"system": NPI, "value": ADAMS_NPI}}
    fill = {
        "resourceType": "MedicationDispense",
        "id": "eDisp.8",
        "status": "completed",
        "performer": [{"actor": clinic}],
    }
    [_, second] = build_record([*series(by_reference(npi=None), by_npi()), fill], TZ).orders
    assert second.requester == f"Practitioner?identifier={NPI}|{ADAMS_NPI}"
