"""One fill sent twice is told by its prescriber the one way the population review tells it: an Epic dispense names
its prescriber only through the prescription it fills (authorizingPrescription -> MedicationRequest.requester), and
an HIE's copy of it names the prescriber directly; read as naming none, the Epic fill was never one with its copy.
A pair whose prescriber is not known to be the same on both is counted twice, and the card names the copy."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from builders import PATIENT_ID
from cds_support import bundle, full_prefetch, hook_request, make_app, oxycodone_draft

from guideline.sent_twice import FillMarks, possibly_same_fill

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
OXYCODONE_10 = "1049683"  # oxycodone hydrochloride 10 MG Oral Tablet
EPIC_RX_NUMBER = "urn:oid:1.2.840.114350.1.13.0.1.7.2.798268"  # an Epic instance's prescription-fill number
HIE_NUMBER = "urn:oid:2.16.840.1.113883.3.7781.1"  # the HIE's own identifier of what it relays
HIE = "https://hie.example.org/fhir"


def epic_order(status: str = "completed") -> dict[str, Any]:
    """The Epic prescription the fill was filled from: oxycodone 10 mg, written by Practitioner/p1."""
    return {
        "resourceType": "MedicationRequest",
        "id": "eRx7Lq2Wm",
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": OXYCODONE_10}], "text": "oxyCODONE"},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "authoredOn": "2026-05-06",
        "requester": {"reference": "Practitioner/p1", "display": "Okafor, Grace, MD"},
        "dosageInstruction": [
            {
                "text": "Take 1 tablet by mouth every 4 hours as needed",
                "timing": {"repeat": {"frequency": 1, "period": 4, "periodUnit": "h"}},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet", "code": "{tbl}"}}],
            }
        ],
    }


def epic_dispense(handed_over: str = "2026-06-10T15:32:00Z") -> dict[str, Any]:
    """Epic's fill of that prescription: 180 tablets for 30 days (90 MME/day) at Organization/ph1. Like Epic's
    dispenses, it names its prescriber only through the prescription it fills."""
    return {
        "resourceType": "MedicationDispense",
        "id": "eDsp4Nq8Tz",
        "identifier": [{"use": "usual", "system": EPIC_RX_NUMBER, "value": "4471920-00"}],
        "status": "completed",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": OXYCODONE_10}], "text": "oxyCODONE"},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "performer": [{"actor": {"reference": "Organization/ph1", "display": "Main St Pharmacy"}}],
        "authorizingPrescription": [{"reference": "MedicationRequest/eRx7Lq2Wm"}],
        "quantity": {"value": 180, "unit": "Tablet"},
        "daysSupply": {"value": 30, "unit": "Day", "system": "http://unitsofmeasure.org", "code": "d"},
        "whenHandedOver": handed_over,
    }


def hie_copy(fill: dict[str, Any], *, prescriber: str | None = "Practitioner/p1", **changes: Any) -> dict[str, Any]:
    """An HIE's copy of the fill the EHR lists too: its own id and number, no order named, the prescriber named as a
    performer with the prescribing function (or none), and the same pharmacy, day, drug, quantity and days' supply."""
    performers: list[dict[str, Any]] = [{"actor": {"reference": "Organization/ph1"}}]
    if prescriber:
        function = {"coding": [{"code": "prescribing"}]}
        performers.insert(0, {"actor": {"reference": prescriber}, "function": function})
    copy = {
        **fill,
        "id": "hie-MedicationDispense-20260610-7781",
        "identifier": [{"system": HIE_NUMBER, "value": "7781"}],
        "performer": performers,
        "authorizingPrescription": [],
    }
    copy.update(changes)
    return copy


def high_mme_card(tmp_path: Path, orders: list[dict[str, Any]], fills: list[dict[str, Any]]) -> dict[str, Any]:
    """The high-dose card of an order-sign of oxycodone 5 mg 2 tablets every 4 h (90 MME/day) with this chart."""
    prefetch = full_prefetch("order-sign", medsRecent=bundle(*orders), dispenses=bundle(*fills))
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch)
    cards = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body).json["cards"]
    return next(c for c in cards if c["source"]["topic"]["code"] == "high-mme")


def total(card: dict[str, Any]) -> str:
    found = re.search(r"(\d+)(?:\.0)? MME/day", card["summary"])
    assert found, card["summary"]
    return found.group(1)


def test_an_epic_fill_naming_its_prescriber_through_its_order_is_one_with_the_hie_copy(tmp_path: Path) -> None:
    # The fill ran out on 2026-06-04. Read as naming no prescriber, the Epic fill was not one with the HIE's copy
    # naming Practitioner/p1: the copy queued as an early refill, and the ended supply seemed current to 2026-07-04
    # (180 MME/day for the draft's 90).
    fill = epic_dispense("2026-05-06T15:32:00Z")
    assert total(high_mme_card(tmp_path, [epic_order()], [fill, hie_copy(fill)])) == "90"


def test_the_dose_card_names_the_copy_of_a_current_fill(tmp_path: Path) -> None:
    # The order is completed, so the current fill counts on its own; its copy, read once, is named on the card.
    fill = epic_dispense()
    card = high_mme_card(tmp_path, [epic_order()], [fill, hie_copy(fill)])
    assert total(card) == "180"
    assert "1 pharmacy fill sent twice was counted once." in card["detail"]


def test_a_copy_marked_as_the_hies_and_naming_the_order_is_one_with_the_epic_fill(tmp_path: Path) -> None:
    # An HIE copy the EHR lists (meta.source the HIE's) that names the same order and the prescriber as a
    # practitioner performer: read twice, it queued as an early refill, and a supply that ran out on 2026-06-04
    # seemed current (180 MME/day for 90).
    fill = epic_dispense("2026-05-06T15:32:00Z")
    copy = hie_copy(
        fill,
        meta={"source": HIE},
        performer=[{"actor": {"reference": "Practitioner/p1"}}, {"actor": {"reference": "Organization/ph1"}}],
        authorizingPrescription=[{"reference": "MedicationRequest/eRx7Lq2Wm"}],
    )
    assert total(high_mme_card(tmp_path, [epic_order()], [fill, copy])) == "90"


def data_incomplete(tmp_path: Path, orders: list[dict[str, Any]], fills: list[dict[str, Any]]) -> str:
    """The data-incomplete card's detail of the order-sign `high_mme_card` makes."""
    prefetch = full_prefetch("order-sign", medsRecent=bundle(*orders), dispenses=bundle(*fills))
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch)
    cards = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body).json["cards"]
    return next(c for c in cards if c["source"]["topic"]["code"] == "data-incomplete")["detail"]


def test_a_copy_that_names_no_prescriber_is_counted_and_named(tmp_path: Path) -> None:
    # The HIE's copy names no prescriber at all, the Epic fill names Practitioner/p1 through its order: perhaps one
    # fill sent twice, perhaps a second fill. Unsure, both are counted (the copy queued as an early refill keeps the
    # ended supply current, 180 MME/day for 90) and the card names the copy, so the dose is never doubled silently.
    fill = epic_dispense("2026-05-06T15:32:00Z")
    copy = hie_copy(fill, prescriber=None)
    assert total(high_mme_card(tmp_path, [epic_order()], [fill, copy])) == "180"
    detail = data_incomplete(tmp_path, [epic_order()], [fill, copy])
    assert (
        "- oxyCODONE (pharmacy fill hie-MedicationDispense-20260610-7781, possibly the same fill as eDsp4Nq8Tz): "
        "check with the pharmacy whether it was filled once; both were counted in the MME total and the opioid "
        "history, as it matches that fill in day, drug, quantity, days' supply and pharmacy but its prescriber is not "
        "known to be the same: one of the two names none or only a practitioner who may be the pharmacist, or the two "
        "name the prescriber in ways that cannot be matched, such as a reference and an NPI\n"
    ) in detail


def test_two_fills_that_name_the_same_prescriber_or_none_are_not_named_as_possible_copies(tmp_path: Path) -> None:
    # Read once, the copy is no gap: the same prescriber on both, or none on either (then the pharmacy ties them).
    fill = epic_dispense("2026-05-06T15:32:00Z")
    unordered = {**fill, "authorizingPrescription": []}
    for chart in ([fill, hie_copy(fill)], [unordered, hie_copy(fill, prescriber=None)]):
        prefetch = full_prefetch("order-sign", medsRecent=bundle(epic_order()), dispenses=bundle(*chart))
        body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch)
        cards = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body).json["cards"]
        assert "possibly the same fill" not in str(cards)


def test_a_possible_copy_is_alike_in_all_but_a_prescriber_one_of_the_two_names() -> None:
    fill = FillMarks(
        day=date(2026, 5, 6),
        drug=f"rxnorm:{OXYCODONE_10}",
        quantity=Decimal(180),
        days_supply=Decimal(30),
        prescriber="Practitioner/p1",
        pharmacy="Organization/ph1",
        numbers=frozenset({(EPIC_RX_NUMBER, "4471920-00")}),
        prescriptions=frozenset({"MedicationRequest/eRx7Lq2Wm"}),
        claim=None,
        prescriber_sure=True,  # its order's requester
    )
    unnamed = replace(
        fill,
        prescriber=None,
        prescriber_sure=False,
        numbers=frozenset({(HIE_NUMBER, "7781")}),
        prescriptions=frozenset(),
    )
    assert possibly_same_fill(fill, unnamed) and possibly_same_fill(unnamed, fill)
    # a practitioner performer alone may be the pharmacist: not known to be another prescriber
    pharmacist = replace(unnamed, prescriber="Practitioner/rph9")
    assert possibly_same_fill(fill, pharmacist)
    assert not possibly_same_fill(fill, replace(fill, prescriber="Practitioner/p2"))  # two prescribers: two fills
    assert not possibly_same_fill(unnamed, unnamed)  # neither names one: `same_fill` settles it
    for other in (
        replace(unnamed, quantity=Decimal(90)),
        replace(unnamed, day=date(2026, 5, 7)),
        replace(unnamed, pharmacy="Organization/ph2"),
        replace(unnamed, pharmacy=None),  # then nothing but the prescriber could tie them
    ):
        assert not possibly_same_fill(fill, other), other


def test_a_copy_naming_only_the_pharmacist_is_counted_and_named(tmp_path: Path) -> None:
    # The Epic fill names its prescriber through its order (Practitioner/p1) and its pharmacist as a performer; the
    # HIE's copy dropped the order and names the pharmacist alone. A practitioner performer may be who prescribed or
    # who dispensed: the two are not known to be one fill, so both are counted, and the copy is named.
    pharmacist = {"actor": {"reference": "Practitioner/rph9", "display": "Lee, Dana, RPh"}}
    fill = {**epic_dispense("2026-05-06T15:32:00Z")}
    fill["performer"] = [pharmacist, *fill["performer"]]
    copy = hie_copy(fill, prescriber=None, performer=fill["performer"])
    assert total(high_mme_card(tmp_path, [epic_order()], [fill, copy])) == "180"
    detail = data_incomplete(tmp_path, [epic_order()], [fill, copy])
    assert "- oxyCODONE (pharmacy fill hie-MedicationDispense-20260610-7781, possibly the same fill as eDsp4Nq8Tz)" in (
        detail
    )


def test_possible_copies_are_named_in_the_order_of_the_fills_read_once(tmp_path: Path) -> None:
    # The HIE sent its copy of the June fill first, naming the prescriber (a copy, read once), and two more copies
    # naming none (possible copies, counted and named). They are named in the order of the fills read once, May's
    # first, as `sent_twice.possible_copies` finds them among those fills: the copy left out, the first fill sent,
    # must not place June's fills ahead of May's (`_left_after` re-sorts the days found before it was left out).
    june = epic_dispense("2026-06-10T15:32:00Z")
    may = {**epic_dispense("2026-05-06T15:32:00Z"), "id": "eDsp4Nq8Ua"}
    may["identifier"] = [{"use": "usual", "system": EPIC_RX_NUMBER, "value": "4471920-01"}]
    june_copy = hie_copy(june)
    may_maybe = hie_copy(may, prescriber=None, id="hie-MedicationDispense-20260506-7790")
    may_maybe["identifier"] = [{"system": HIE_NUMBER, "value": "7790"}]
    june_maybe = hie_copy(june, prescriber=None, id="hie-MedicationDispense-20260610-7782")
    june_maybe["identifier"] = [{"system": HIE_NUMBER, "value": "7782"}]
    detail = data_incomplete(tmp_path, [epic_order()], [june_copy, may, may_maybe, june, june_maybe])
    named = re.findall(r"pharmacy fill (\S+), possibly the same fill as (\S+)\)", detail)
    assert named == [
        ("hie-MedicationDispense-20260506-7790", "eDsp4Nq8Ua"),
        ("hie-MedicationDispense-20260610-7782", "eDsp4Nq8Tz"),
    ]
