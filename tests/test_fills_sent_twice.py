"""One pharmacy fill sent twice reaches a card once: an Epic dispense that comes back under a gateway's id, or a
fill in the prefetch and its pharmacy claim. Two fills of one drug on one day that anything tells apart (another
prescription, another fill number, another quantity) both count."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from builders import NOW, PATIENT_ID, TZ, patient
from cds_support import bundle, full_prefetch, hook_request, make_app, oxycodone_draft
from werkzeug.datastructures import MultiDict

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.engine import evaluate
from guideline.fills import counts_as_fill, same_drug_key
from guideline.record import Dispense, build_record
from guideline.sent_twice import FillMarks, fill_marks, read_once, same_fill
from guideline.terminology import load_terminology
from smart_app.plan_view import PageInput, assemble

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
OXYCODONE_10 = "1049683"  # oxycodone hydrochloride 10 MG Oral Tablet
EPIC_RX_NUMBER = "urn:oid:1.2.840.114350.1.13.0.1.7.2.798268"  # an Epic instance's prescription-fill number
NPI = "http://hl7.org/fhir/sid/us-npi"
NCPDP = "http://terminology.hl7.org/NamingSystem/NCPDPProviderIdentificationNumber"
CARIN_INFO = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType"


def epic_dispense(ident: str = "eZ8m1kq0Rb3sT6vXyA2dFhg3", **changes: Any) -> dict[str, Any]:
    """An Epic MedicationDispense from the pharmacy's fill history: oxycodone 10 mg, 180 tablets for 30 days
    (90 MME/day) handed over on 2026-05-06 (its supply ran out on 2026-06-04, before today, 2026-06-15), the
    prescriber and pharmacy named by NPI and NCPDP number."""
    fill: dict[str, Any] = {
        "resourceType": "MedicationDispense",
        "id": ident,
        "identifier": [{"use": "usual", "system": EPIC_RX_NUMBER, "value": "4471920-00"}],
        "status": "completed",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": OXYCODONE_10, "display": "oxycodone HCl 10 mg tablet"}],
            "text": "oxyCODONE (ROXICODONE) 10 mg tablet",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}", "display": "Ramirez, Ana"},
        "performer": [
            {"actor": {"type": "Practitioner", "identifier": {"system": NPI, "value": "1467586115"}}},
            {"actor": {"type": "Organization", "identifier": {"system": NCPDP, "value": "3349217"}}},
        ],
        "authorizingPrescription": [{"reference": "MedicationRequest/eQ1wXc7TnB0", "display": "oxyCODONE"}],
        "quantity": {"value": 180, "unit": "Tablet"},
        "daysSupply": {"value": 30, "unit": "Day", "system": "http://unitsofmeasure.org", "code": "d"},
        "whenHandedOver": "2026-05-06T15:32:00Z",
    }
    fill.update(changes)
    return fill


def carin_claim(claim_id: str = "eob-pde-8812") -> dict[str, Any]:
    """The payer's CARIN Blue Button pharmacy claim for the same fill: same day, drug, quantity, days' supply,
    prescriber (NPI) and pharmacy (NCPDP); its prescription number is under the payer's system, not Epic's."""
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": claim_id,
        "meta": {"profile": ["http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-Pharmacy"]},
        "identifier": [{"system": "https://bluebutton.cms.gov/resources/variables/rx_srvc_rfrnc_num", "value": "88"}],
        "status": "active",
        "use": "claim",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "pharmacy"}]},
        "patient": {"reference": f"Patient/{PATIENT_ID}"},
        "billablePeriod": {"start": "2026-05-06"},
        "provider": {"identifier": {"system": NCPDP, "value": "3349217"}},
        "careTeam": [
            {
                "sequence": 1,
                "provider": {"identifier": {"system": NPI, "value": "1467586115"}},
                "role": {"coding": [{"code": "prescribing"}]},
            }
        ],
        "outcome": "complete",
        "supportingInfo": [
            {
                "sequence": 1,
                "category": {"coding": [{"system": CARIN_INFO, "code": "dayssupply"}]},
                "valueQuantity": {"value": 30},
            }
        ],
        "item": [
            {
                "sequence": 1,
                "servicedDate": "2026-05-06",
                "productOrService": {"coding": [{"system": RXNORM, "code": OXYCODONE_10}]},
                "quantity": {"value": 180},
            }
        ],
    }


def total_on_card(tmp_path: Path, *chart: dict[str, Any]) -> str:
    """The MME/day the high-dose card of an order-sign gives: a draft of oxycodone 5 mg, 2 tablets every 4 hours
    (90 MME/day), with these resources in the prefetch's dispenses."""
    prefetch = full_prefetch("order-sign", dispenses=bundle(*chart))
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch)
    cards = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body).json["cards"]
    high = next(c for c in cards if c["source"]["topic"]["code"] == "high-mme")
    found = re.search(r"(\d+)(?:\.0)? MME/day", high["summary"])
    assert found, high["summary"]
    return found.group(1)


def test_an_epic_dispense_sent_again_under_a_gateway_id_counts_once(tmp_path: Path) -> None:
    # The prefetch holds the Epic fill; a Bulk page or an HIE gateway sends it again under an id of its own. Read
    # twice, the copy queued as an early refill of the same prescription: a supply that ran out on 2026-06-04 seemed
    # to last to 2026-07-04, and its 90 MME/day were added to the draft's 90 as a current dose.
    resent = epic_dispense("hie-gw-MedicationDispense-20260506-7781")
    assert total_on_card(tmp_path, epic_dispense(), resent) == "90"


def high_mme_card(tmp_path: Path, *chart: dict[str, Any]) -> dict[str, Any]:
    """The high-dose card of an order-sign for the draft of oxycodone 5 mg (90 MME/day), with these fills."""
    prefetch = full_prefetch("order-sign", dispenses=bundle(*chart))
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch)
    cards = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body).json["cards"]
    return next(c for c in cards if c["source"]["topic"]["code"] == "high-mme")


def gateway_copy(fill: dict[str, Any], ident: str = "hie-gw-MedicationDispense-20260610-7781") -> dict[str, Any]:
    """An HIE gateway's copy of an Epic fill: its own id and identifier (no Epic fill number), no order named, the
    same prescriber and pharmacy (NPI, NCPDP), day, drug, quantity and days' supply."""
    return {
        **fill,
        "id": ident,
        "identifier": [{"system": "urn:oid:2.16.840.1.113883.3.7781.1", "value": ident.rpartition("-")[2]}],
        "authorizingPrescription": [],
    }


def test_the_dose_card_says_a_fill_it_counted_was_sent_twice(tmp_path: Path) -> None:
    # A current Epic fill (2026-06-10, no order for it in this record) counts in the total, and the gateway's copy of
    # it is left out. The clinician who sees both fills in the EHR must read why the card counted one.
    current = epic_dispense(whenHandedOver="2026-06-10T15:32:00Z")
    card = high_mme_card(tmp_path, current, gateway_copy(current))
    assert "180.0 MME/day" in card["summary"]  # 90 from the draft, 90 from the fill read once
    assert "1 pharmacy fill sent twice was counted once." in card["detail"]
    assert card["source"]["topic"]["code"] == "high-mme" and card["indicator"] == "critical"


def test_the_dose_card_says_nothing_of_a_copy_it_did_not_count(tmp_path: Path) -> None:
    # The fill ran out on 2026-06-04: it is not in the total, so neither is its copy, and the card does not mention it.
    ended = epic_dispense()
    card = high_mme_card(tmp_path, ended, gateway_copy(ended))
    assert "90.0 MME/day" in card["summary"]
    assert "sent twice" not in card["detail"]
    assert "sent twice" not in high_mme_card(tmp_path, epic_dispense(whenHandedOver="2026-06-10T15:32:00Z"))["detail"]


def test_an_epic_dispense_and_its_pharmacy_claim_count_once(tmp_path: Path) -> None:
    # An integrated payer-provider feed: the EHR's fill and the payer's claim for it.
    assert total_on_card(tmp_path, epic_dispense(), carin_claim()) == "90"


def test_two_prescriptions_filled_together_both_count(tmp_path: Path) -> None:
    # Two prescriptions of one drug filled on one day at one pharmacy (two fill numbers, two orders): two fills,
    # both current (2026-06-10), both added to the draft's 90.
    first = epic_dispense(whenHandedOver="2026-06-10T15:32:00Z")
    second = epic_dispense(
        "eT2kq9Vb4Lr7",
        whenHandedOver="2026-06-10T15:32:00Z",
        identifier=[{"use": "usual", "system": EPIC_RX_NUMBER, "value": "4471933-00"}],
        authorizingPrescription=[{"reference": "MedicationRequest/eQ1wXc7TnB9"}],
    )
    assert total_on_card(tmp_path, first, second) == "270"


def test_two_fills_that_name_different_prescriptions_both_count(tmp_path: Path) -> None:
    # No fill number on either, but each names its own prescription: two fills, not one sent twice.
    today = "2026-06-10T15:32:00Z"
    first = epic_dispense(identifier=[], whenHandedOver=today)
    second = epic_dispense(
        "eT2kq9Vb4Lr7",
        identifier=[],
        whenHandedOver=today,
        authorizingPrescription=[{"reference": "MedicationRequest/eQ1wXc7TnB9"}],
    )
    assert total_on_card(tmp_path, first, second) == "270"


def test_two_copies_that_disagree_on_quantity_are_two_fills(tmp_path: Path) -> None:
    # The same fill number with another quantity is no copy PainPlan can drop: both are counted, the second as an
    # early refill of the same prescription, current today (45 MME/day on top of the draft's 90).
    other = epic_dispense("hie-gw-7782", quantity={"value": 90, "unit": "Tablet"})
    assert total_on_card(tmp_path, epic_dispense(), other) == "135"


def test_one_fill_billed_under_two_claim_numbers_counts_once(tmp_path: Path) -> None:
    assert total_on_card(tmp_path, carin_claim("eob-pde-8812"), carin_claim("eob-pde-8812-rebill")) == "90"


def test_a_fill_sent_twice_is_read_once_for_the_engine_and_the_record_is_left_as_read() -> None:
    record = build_record([patient(), epic_dispense(), epic_dispense("hie-gw-7781")], TZ)
    facts = evaluate(record, HookContext("patient-view", PATIENT_ID), GuidelineConfig.from_mapping(), NOW).facts
    assert [d.id for d in facts.record.dispenses] == ["eZ8m1kq0Rb3sT6vXyA2dFhg3"]
    assert [(s.copy.id, s.kept.id) for s in facts.fills_sent_twice] == [("hie-gw-7781", "eZ8m1kq0Rb3sT6vXyA2dFhg3")]
    assert facts.mme.total == 0  # the one fill ran out on 2026-06-04
    assert len(record.dispenses) == 2


def test_the_plan_page_dose_history_ends_when_the_one_fill_ran_out(tmp_path: Path) -> None:
    # The page's MME chart read the copy as an early refill: 90 MME/day up to today instead of none since 2026-06-05.
    app = make_app(tmp_path)
    with app.test_request_context("/plan"):
        resources = (patient(), epic_dispense(), epic_dispense("hie-gw-7781"))
        view = assemble(PageInput(resources, (), ()), app.config["PAINPLAN"].guideline, PATIENT_ID, NOW, MultiDict())
    history = view.by_key["mme_history"].content
    assert [(p.day.isoformat(), p.value) for p in history.opioid if p.day.isoformat() >= "2026-05-06"][:2] == [
        ("2026-05-06", 90),
        ("2026-06-05", 0),
    ]


def _marks(**changes: Any) -> FillMarks:
    """Oxycodone 10 mg #180 for 30 days on 2026-05-06, by drA at ph1, fill number RX1 under the pharmacy's system."""
    marks = FillMarks(
        day=date(2026, 5, 6),
        drug=f"rxnorm:{OXYCODONE_10}",
        quantity=Decimal(180),
        days_supply=Decimal(30),
        prescriber="Practitioner/drA",
        pharmacy="Organization/ph1",
        numbers=frozenset({(EPIC_RX_NUMBER, "RX1")}),
        prescriptions=frozenset({"MedicationRequest/o1"}),
        claim=None,
    )
    return replace(marks, **changes)


def test_the_rule_reads_as_its_sentence() -> None:
    one = _marks()
    assert same_fill(one, _marks())
    # the payer's copy: its own number system, no prescription named, read from a claim
    assert same_fill(one, _marks(numbers=frozenset({("payer", "88")}), prescriptions=frozenset(), claim="eob-1"))
    for other in (
        _marks(day=date(2026, 5, 7)),  # an early refill
        _marks(quantity=Decimal(90)),
        _marks(days_supply=Decimal(15)),
        _marks(prescriber="Practitioner/drB"),
        _marks(pharmacy="Organization/ph2"),
        _marks(numbers=frozenset({(EPIC_RX_NUMBER, "RX2")})),
        _marks(prescriptions=frozenset({"MedicationRequest/o2"})),
        _marks(drug="rxnorm:1049621"),
    ):
        assert not same_fill(one, other), other
    line = _marks(claim="eob-1")
    assert not same_fill(line, _marks(claim="eob-1"))  # two lines of one claim: two prescriptions filled together
    assert same_fill(line, _marks(claim="eob-2"))  # one fill billed twice


def test_fills_that_name_nothing_to_tie_them_are_two_fills() -> None:
    # No prescriber, pharmacy, fill number or order on either: nothing says they are one fill, and merged on day,
    # drug and quantity alone a second real fill was dropped (90 MME/day read where 180 were dispensed).
    bare = _marks(prescriber=None, pharmacy=None, numbers=frozenset(), prescriptions=frozenset())
    assert not same_fill(bare, bare)
    # one shared mark is enough: the pharmacy both name, or the order both fill
    assert same_fill(replace(bare, pharmacy="Organization/ph1"), replace(bare, pharmacy="Organization/ph1"))
    ordered = replace(bare, prescriptions=frozenset({"MedicationRequest/o1"}))
    assert same_fill(ordered, ordered)


def test_two_bare_same_day_fills_both_count_on_the_card(tmp_path: Path) -> None:
    bare = {k: v for k, v in epic_dispense().items() if k not in ("identifier", "authorizingPrescription", "performer")}
    assert total_on_card(tmp_path, bare, {**bare, "id": "other-fill-2"}) == "180"


def test_two_fills_each_naming_its_own_contained_order_are_not_tied_by_it(tmp_path: Path) -> None:
    # "#rx1" names a MedicationRequest contained in the fill itself: two fills that each contain their own "#rx1"
    # name two orders, not one, and were read as one fill sent twice (the second fill's 90 MME/day dropped).
    def contained(ident: str) -> dict[str, Any]:
        bare = {
            k: v
            for k, v in epic_dispense(ident).items()
            if k not in ("identifier", "authorizingPrescription", "performer")
        }
        order = {"resourceType": "MedicationRequest", "id": "rx1", "status": "completed", "intent": "order"}
        return {**bare, "contained": [order], "authorizingPrescription": [{"reference": "#rx1"}]}

    assert total_on_card(tmp_path, contained("fill-a"), contained("fill-b")) == "180"


def two_prescriptions_and_a_gateway_copy() -> tuple[dict[str, Any], ...]:
    """Two prescriptions of oxycodone 10 mg filled together on 2026-06-10 (two fill numbers, two orders), and an HIE
    gateway's copy of the first that carries neither a fill number nor its order (its id sorts before both)."""
    today = "2026-06-10T15:32:00Z"
    first = epic_dispense(whenHandedOver=today)
    second = epic_dispense(
        "eT2kq9Vb4Lr7",
        whenHandedOver=today,
        identifier=[{"use": "usual", "system": EPIC_RX_NUMBER, "value": "4471933-00"}],
        authorizingPrescription=[{"reference": "MedicationRequest/eQ1wXc7TnB9"}],
    )
    return first, second, epic_dispense("100234", whenHandedOver=today, identifier=[], authorizingPrescription=[])


def test_a_copy_without_a_fill_number_never_makes_two_fills_numbered_apart_one() -> None:
    # Each real fill matches the copy, but they are numbered apart from each other: one is the copy's fill, the
    # other a fill of its own. Both were read as copies of the gateway's, leaving one fill of two.
    record = build_record([patient(), *two_prescriptions_and_a_gateway_copy()], TZ)
    facts = evaluate(record, HookContext("patient-view", PATIENT_ID), GuidelineConfig.from_mapping(), NOW).facts
    assert len(facts.record.dispenses) == 2
    assert len(facts.fills_sent_twice) == 1


def test_the_copy_read_is_the_one_that_names_its_prescription(tmp_path: Path) -> None:
    # The gateway's copy, read in place of the Epic fill it repeats, named no order: it queued as an early refill
    # behind the other prescription's fill instead of being current with it, and the card said 180 MME/day for 270.
    assert total_on_card(tmp_path, *two_prescriptions_and_a_gateway_copy()) == "270"


def test_the_copy_read_is_the_one_known_handed_over() -> None:
    # A completed fill and its gateway copy of unknown status: the completed one is read, so the fill shows past
    # opioid use (a copy of unknown status would be counted only on trust).
    unknown = epic_dispense("100234", status="unknown")
    record = build_record([patient(), epic_dispense(), unknown], TZ)
    facts = evaluate(record, HookContext("patient-view", PATIENT_ID), GuidelineConfig.from_mapping(), NOW).facts
    assert [d.id for d in facts.record.dispenses] == ["eZ8m1kq0Rb3sT6vXyA2dFhg3"]


def test_marks_are_worked_out_only_for_fills_that_share_a_day_and_a_quantity() -> None:
    # Asked on every call: a chart's fills on days of their own, or in a quantity no other fill of the day has, can
    # be no copy, so neither `counts` nor `marks_of` (a drug key, the actors) is worked out for them.
    same_day = "2026-06-10T15:32:00Z"
    chart = [
        epic_dispense("fill-may", whenHandedOver="2026-05-06T15:32:00Z"),
        epic_dispense("fill-june", whenHandedOver=same_day),
        epic_dispense("gateway-copy", whenHandedOver=same_day),
        epic_dispense("fill-june-90", whenHandedOver=same_day, quantity={"value": 90.0, "unit": "Tablet"}),
    ]
    dispenses = build_record(chart, TZ).dispenses
    counted: list[str | None] = []
    marked: list[str | None] = []
    config = GuidelineConfig.from_mapping()

    def counts(dispense: Dispense) -> bool:
        counted.append(dispense.id)
        return counts_as_fill(dispense)

    def marks_of(dispense: Dispense) -> FillMarks:
        marked.append(dispense.id)
        return fill_marks(
            dispense, same_drug_key(dispense, load_terminology(config)), "npi-1467586115", "ncpdp-3349217"
        )

    kept, copies = read_once(dispenses, counts, marks_of)
    assert [d.id for d in kept] == ["fill-may", "fill-june", "fill-june-90"]
    assert [(c.copy.id, c.kept.id) for c in copies] == [("gateway-copy", "fill-june")]
    assert sorted(counted) == ["fill-june", "fill-june-90", "gateway-copy"]
    assert sorted(marked) == ["fill-june", "gateway-copy"]
    assert read_once(dispenses[:1], counts, marks_of) == (dispenses[:1], ())
    assert len(counted) == 3


def test_each_fill_is_marked_once_per_call_for_its_copies_and_its_possible_copies(monkeypatch) -> None:
    # Two same-day fills of 180 tablets that name other fill numbers are two fills; the cards then ask whether either
    # may be a copy of the other. Both questions compare the same fills, so each fill's marks (its drug key, its
    # prescriber through its order, its pharmacy) are worked out once, not once per question.
    import guideline.sent_twice as sent_twice

    second = epic_dispense("eZ8m1kq0Rb3sT6vXyA2dFhg4", identifier=[{"system": EPIC_RX_NUMBER, "value": "4471921-00"}])
    record = build_record([patient(), epic_dispense(), second], TZ)
    marked: list[str | None] = []

    def counted_marks(dispense: Dispense, *args: Any, **kwargs: Any) -> FillMarks:
        marked.append(dispense.id)
        return fill_marks(dispense, *args, **kwargs)

    monkeypatch.setattr(sent_twice, "fill_marks", counted_marks)
    facts = evaluate(record, HookContext("patient-view", PATIENT_ID), GuidelineConfig.from_mapping(), NOW).facts
    assert len(facts.record.dispenses) == 2 and facts.fills_possibly_sent_twice == ()
    assert sorted(marked) == ["eZ8m1kq0Rb3sT6vXyA2dFhg3", "eZ8m1kq0Rb3sT6vXyA2dFhg4"]


def test_the_fills_sharing_a_day_are_found_once_per_call_for_copies_and_possible_copies(monkeypatch) -> None:
    # The cards read fills sent twice once, then ask whether any fill left may be a copy of another: both look among
    # the same day's fills, so the record's fills are gone through by day once, and the second question reads the
    # days the first found, less the copies it left out.
    import guideline.sent_twice as sent_twice

    second = epic_dispense("eZ8m1kq0Rb3sT6vXyA2dFhg4", identifier=[{"system": EPIC_RX_NUMBER, "value": "4471921-00"}])
    record = build_record([patient(), epic_dispense(), second], TZ)
    found = sent_twice._same_day_fills
    calls: list[int] = []

    def counted_days(dispenses: Any, counts: Any) -> list[list[Dispense]]:
        calls.append(len(dispenses))
        return found(dispenses, counts)

    monkeypatch.setattr(sent_twice, "_same_day_fills", counted_days)
    facts = evaluate(record, HookContext("patient-view", PATIENT_ID), GuidelineConfig.from_mapping(), NOW).facts
    assert len(facts.record.dispenses) == 2 and facts.fills_possibly_sent_twice == ()
    assert calls == [2]
