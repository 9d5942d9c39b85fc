"""An HIE's copy of the pharmacy's fill: the same fill, relayed under the HIE's own id (its fullUrl on the HIE, the
pharmacy's fill number kept) or unchanged under the same id. Read twice it queued as a second fill and stood for an
order of its own (the HIE's `MedicationRequest/eRx.1`, never sent): 120 MME/day for 60. It is read once, as a fill
sent twice is: named on the card ("sent twice was counted once"), on the plan page by its HIE URL and in
`painplan mme` (`copy_of`). Only a shared fill number (system and value) with exactly one EHR fill of the same
identified drug, day, quantity and days' supply is evidence: anything less stays two fills (an over-count)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from builders import card, patient, run
from test_hie_relay import EPIC, HIE, _entry, _hie_medication, _order, _searchset
from test_signed_renewal import fill, medication

from guideline.engine import Evaluation
from guideline.plan.medications import build_medications
from guideline.plan.medications import mme_now as page_now

RX_FILL = "urn:oid:2.16.840.1.113883.3.7418.1.4"  # a pharmacy's prescription-fill number system (NCPDP Rx + fill)
HIE_COPY = f"{HIE}/MedicationDispense/hDisp.9"


def numbered(resource: dict[str, Any], number: str = "RX884213-0") -> dict[str, Any]:
    """The fill with the pharmacy's prescription-fill number."""
    return {**resource, "identifier": [{"system": RX_FILL, "value": number}]}


def relayed(ehr_fill: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The HIE's copy of `ehr_fill` under its own id, its links relative (so the HIE's own)."""
    return {**copy.deepcopy(ehr_fill), "id": "hDisp.9", **changes}


def evaluate(ehr: list[dict[str, Any]], hie: list[dict[str, Any]], hie_first: bool = False) -> Evaluation:
    """patient-view with the EHR's search answer and the HIE's, each under its own fullUrls."""
    ours = _searchset(_entry(EPIC, patient()), _entry(EPIC, medication()), *(_entry(EPIC, r) for r in ehr))
    theirs = _searchset(_entry(HIE, _hie_medication()), *(_entry(HIE, r) for r in hie))
    resources = [theirs, ours] if hie_first else [ours, theirs]
    return run("patient-view", resources=resources, fhir_server=EPIC, with_patient=False)


def test_an_hies_copy_of_an_orders_fill_under_its_own_id_is_read_once() -> None:
    order, ehr_fill = _order("eRx.1", ago=5), numbered(fill("eRx.1", fill_id="eDisp.1", ago=4))
    facts = evaluate([order, ehr_fill], [relayed(ehr_fill)]).facts
    assert facts.mme.total == Decimal(60)
    assert [(s.copy.located, s.kept.id) for s in facts.fills_sent_twice] == [(HIE_COPY, "eDisp.1")]


def test_an_hies_copy_of_a_fill_with_no_order_is_counted_once_and_named() -> None:
    # The fill of an outside prescriber's order (not in the record) stands alone: read twice, 60 + 60.
    ehr_fill = numbered(fill("eRx.outside", fill_id="eDisp.1", ago=4))
    evaluation = evaluate([ehr_fill], [relayed(ehr_fill)])
    assert evaluation.facts.mme.total == Decimal(60)
    high = card(evaluation, "high-mme")
    assert high is not None and "1 pharmacy fill sent twice was counted once." in high.detail
    rows = build_medications(evaluation.facts, page_now(evaluation.facts)).fills
    assert [r.sent_twice for r in rows] == [f"also sent as {HIE_COPY} (read once)"]


def test_without_a_shared_fill_number_the_copy_stays_a_second_fill() -> None:
    ehr_fill = fill("eRx.outside", fill_id="eDisp.1", ago=4)  # no number on either
    assert evaluate([ehr_fill], [relayed(ehr_fill)]).facts.mme.total == Decimal(120)
    numbered_fill = numbered(ehr_fill)
    other = relayed(numbered_fill, identifier=[{"system": RX_FILL, "value": "RX884213-1"}])  # the next refill's
    assert evaluate([numbered_fill], [other]).facts.mme.total == Decimal(120)


def test_a_copy_that_differs_is_another_fill() -> None:
    ehr_fill = numbered(fill("eRx.outside", fill_id="eDisp.1", ago=4))
    later = relayed(ehr_fill, whenHandedOver=fill("x", ago=3)["whenHandedOver"])  # another day
    assert evaluate([ehr_fill], [later]).facts.mme.total == Decimal(120)
    half = relayed(ehr_fill, quantity={**ehr_fill["quantity"], "value": 60})  # another quantity
    assert evaluate([ehr_fill], [half]).facts.mme.total > Decimal(60)


def test_a_number_two_ehr_fills_carry_ties_the_copy_to_neither() -> None:
    first = numbered(fill("eRx.outside", fill_id="eDisp.1", ago=4))
    second = numbered(fill("eRx.outside", fill_id="eDisp.2", ago=40))
    facts = evaluate([first, second], [relayed(first)]).facts
    assert facts.fills_sent_twice == ()
    assert facts.mme.total == Decimal(120)


def test_an_unchanged_copy_under_the_same_id_met_first_leaves_the_ehrs_fill_read() -> None:
    # The HIE's answer came first: its copy was kept and the EHR's fill dropped, so the fill named the HIE's order
    # eRx.1 (never sent) and stood for it beside the EHR's order: 120.
    order, ehr_fill = _order("eRx.1", ago=5), fill("eRx.1", fill_id="eDisp.1", ago=4)
    for hie_first in (False, True):
        facts = evaluate([order, ehr_fill], [copy.deepcopy(ehr_fill)], hie_first=hie_first).facts
        assert facts.mme.total == Decimal(60)
        assert [d.authorizing_prescriptions for d in facts.record.dispenses] == [("MedicationRequest/eRx.1",)]


def test_an_unchanged_copy_under_the_same_id_is_named_as_a_copy_under_its_own_id_is() -> None:
    # Dropped when the record was pooled, it was read once but named nowhere, though the EHR may list both.
    ehr_fill = fill("eRx.outside", fill_id="eDisp.1", ago=4)
    for hie_first in (False, True):
        evaluation = evaluate([ehr_fill], [copy.deepcopy(ehr_fill)], hie_first=hie_first)
        assert evaluation.facts.mme.total == Decimal(60)
        high = card(evaluation, "high-mme")
        assert high is not None and "1 pharmacy fill sent twice was counted once." in high.detail
        rows = build_medications(evaluation.facts, page_now(evaluation.facts)).fills
        assert [r.sent_twice for r in rows] == [f"also sent as {HIE}/MedicationDispense/eDisp.1 (read once)"]


def test_an_hies_copy_of_a_urine_drug_test_result_is_one_result_on_the_card(monkeypatch: Any) -> None:
    # Relayed unchanged under the same id it is read once; under its own id it is read as a second result of the same
    # test and day, which the card groups by day and substance: one unexpected cocaine positive, never two.
    from builders import med_request, observation
    from test_check_unexpected_uds import COCAINE

    from guideline.checks import CHECKS, unexpected_uds_result

    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    result = {**observation(COCAINE, when="2026-05-26", value_string="Positive"), "id": "eObs.1"}
    draft = med_request("1049621", draft=True, id="ox1", supply_days=5)
    for relayed_copy, read in ((copy.deepcopy(result), ["eObs.1"]), ({**result, "id": "hObs.5"}, None)):
        ours = _searchset(_entry(EPIC, patient()), _entry(EPIC, result))
        evaluation = run(
            "order-sign",
            drafts=[draft],
            resources=[ours, _searchset(_entry(HIE, relayed_copy))],
            fhir_server=EPIC,
            with_patient=False,
        )
        if read is not None:
            assert [o.located for o in evaluation.facts.record.observations] == read
        found = card(evaluation, unexpected_uds_result.CHECK_ID)
        assert found is not None
        assert found.detail.count("2026-05-26: positive for cocaine") == 1
        assert found.detail.count("| cocaine |") == 1


def test_a_copy_that_spells_its_units_another_way_is_still_the_same_fill() -> None:
    # An HIE writes the pharmacy's 120 tablets for 30 days in its own words: "TAB" with no code, and the days' supply
    # as "30 d". Before, the relayed fill had to repeat the EHR's quantity element exactly (unit, system and code),
    # where *One fill sent twice* reads units as one key however spelled: the copy stayed a second fill (120 MME/day
    # for 60).
    ehr_fill = numbered(fill("eRx.outside", fill_id="eDisp.1", ago=4))
    spelled = relayed(
        ehr_fill,
        quantity={"value": 120.0, "unit": "TAB"},
        daysSupply={"value": 30, "unit": "d", "system": "http://unitsofmeasure.org", "code": "d"},
    )
    facts = evaluate([ehr_fill], [spelled]).facts
    assert facts.mme.total == Decimal(60)
    assert [(s.copy.located, s.kept.id) for s in facts.fills_sent_twice] == [(HIE_COPY, "eDisp.1")]
    # Another unit is another amount: 120 mL is not 120 tablets, and stays a fill of its own (named as unread).
    liquid = relayed(
        ehr_fill, quantity={"value": 120, "unit": "mL", "system": "http://unitsofmeasure.org", "code": "mL"}
    )
    facts = evaluate([ehr_fill], [liquid]).facts
    assert facts.fills_sent_twice == ()
    assert facts.mme.state == "partial"
