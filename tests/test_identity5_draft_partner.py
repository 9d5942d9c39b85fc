"""A draft naming no prior order (no priorPrescription: Epic's "reorder", Oracle Health's "renew" often leave it out)
beside two or more current orders of its product is read as the renewal of one of them. Which one must follow the
data, never the order of the resources in the request: the latest written (authoredOn, or the validity start) first,
then the order id. Epic-shaped orders of oxycodone 5 mg (RxNorm 1049621), evaluated on 2026-06-15."""

from __future__ import annotations

from decimal import Decimal
from itertools import permutations
from typing import Any

from builders import UCUM, days_ago, dispense, med_request, patient, run

OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet


def epic_order(order_id: str, written: int, tablets: int, *, draft: bool = False) -> dict[str, Any]:
    """An Epic outpatient order: `tablets` every 6 hours (30 MME/day a tablet), written `written` days ago."""
    order = med_request(
        OXYCODONE_5, id=order_id, authored=days_ago(written), dose=tablets, quantity=120 * tablets, draft=draft
    )
    order["requester"] = {"reference": "Practitioner/eDrAdams", "display": "Adams, Ann MD"}
    order["dosageInstruction"][0]["text"] = f"Take {tablets} tablet(s) by mouth every 6 hours as needed for pain"
    return order


def older() -> dict[str, Any]:
    return epic_order("eOxy.A", 20, 1)  # 30 MME/day, written 20 days ago


def newer() -> dict[str, Any]:
    return epic_order("eOxy.B", 5, 4)  # 120 MME/day, written 5 days ago


def draft() -> dict[str, Any]:
    return epic_order("eOxy.D", 0, 2, draft=True)  # 60 MME/day, no priorPrescription


def answer(resources: list[dict[str, Any]]) -> tuple[Decimal, dict[str, str], list[tuple[str, list[str]]]]:
    evaluation = run("order-sign", drafts=[draft()], resources=resources)
    states = dict(sorted((r.order.id, f"{r.state}:{r.reason}") for r in evaluation.facts.mme.orders))
    # The lines of a list follow the record's order (as the EHR sent them); what they say must not change.
    cards = [(c.check_id, sorted(c.detail.splitlines())) for c in evaluation.cards]
    return evaluation.facts.mme.total, states, cards


def test_the_draft_is_read_as_the_renewal_of_the_latest_written_order_whatever_the_prefetch_order() -> None:
    # Paired with eOxy.B (120 > 60): the draft is left out, 30 + 120 = 150. Paired with eOxy.A by record order, the
    # draft's 60 replaced eOxy.A's 30: 60 + 120 = 180, and the card changed with the order of the prefetch.
    answers = {
        str(order): answer([resource() for resource in order]) for order in permutations((older, newer, patient))
    }
    totals = {total for total, _, _ in answers.values()}
    assert totals == {Decimal(150)}, answers
    assert len({repr((states, cards)) for _, states, cards in answers.values()}) == 1
    _, states, cards = next(iter(answers.values()))
    assert states == {"eOxy.A": "ok:None", "eOxy.B": "ok:None", "eOxy.D": "excluded:renewal"}
    high = dict(cards)["high-mme"]
    assert "**Total: 150.0 MME/day (CDC 2022 factors).**" in high


def test_written_on_one_day_the_order_id_decides() -> None:
    # Both written 5 days ago: the first by id (eOxy.A, 30) is the partner, whichever comes first; the draft's 60
    # counts in its place, beside eOxy.B's 120.
    first, second = epic_order("eOxy.A", 5, 1), epic_order("eOxy.B", 5, 4)
    for resources in ([first, second], [second, first]):
        total, states, _ = answer(resources)
        assert total == Decimal(180)
        assert states == {"eOxy.A": "excluded:renewed", "eOxy.B": "ok:None", "eOxy.D": "ok:None"}


def test_the_draft_prescribers_own_order_is_its_partner_before_a_later_one_of_another() -> None:
    # Dr Baker's order (eOxy.B, the latest) is not the draft's prescriber's: Dr Adams's eOxy.A is read as renewed.
    baker = newer()
    baker["requester"] = {"reference": "Practitioner/eDrBaker", "display": "Baker, Ben MD"}
    for resources in ([older(), baker], [baker, older()]):
        _, states, _ = answer(resources)
        assert states == {"eOxy.A": "excluded:renewed", "eOxy.B": "ok:None", "eOxy.D": "ok:None"}


def test_an_order_with_no_date_is_paired_after_the_dated_ones() -> None:
    undated = epic_order("eOxy.A", 20, 1)
    del undated["authoredOn"]
    for resources in ([undated, newer()], [newer(), undated]):
        evaluation = run("order-sign", drafts=[draft()], resources=resources)
        pairs = [(p.renewal.id, p.order.id) for p in evaluation.facts.implied_renewals]
        assert pairs == [("eOxy.D", "eOxy.B")]


def test_a_renewal_counted_beside_two_orders_names_them_in_one_order_whatever_the_prefetch_order() -> None:
    # Dr Baker's finished order eOxy.F renewed by Dr Adams (eOxy.R): not her series, so counted beside her two
    # current orders of the product, which its line names, by when they began, not as the EHR listed them.
    finished = epic_order("eOxy.F", 60, 1)
    finished["status"] = "completed"
    finished["requester"] = {"reference": "Practitioner/eDrBaker", "display": "Baker, Ben MD"}
    renewal = {**epic_order("eOxy.R", 1, 1), "priorPrescription": {"reference": "MedicationRequest/eOxy.F"}}
    first, second = epic_order("eOxy.A2", 10, 1), epic_order("eOxy.A1", 5, 1)
    lines = set()
    for resources in permutations((first, second, renewal, finished)):
        evaluation = run("patient-view", resources=list(resources))
        lines.add(next(r.explanation for r in evaluation.facts.mme.orders if r.order.id == "eOxy.R"))
    assert len(lines) == 1, lines
    (line,) = lines
    assert "it does not name order eOxy.A2 and order eOxy.A1, current orders of the same product" in line


def test_a_fill_of_a_finished_order_is_counted_once_with_its_first_reorder_whatever_the_prefetch_order() -> None:
    # Dr Adams's finished eOxy.F (filled 20 days ago: 240 tablets for 30 days, 60 MME/day) and two signed orders of
    # the same product with no priorPrescription: eOxy.R1 (30, written 3 days ago) and eOxy.R2 (120, yesterday). The
    # fill is read as the supply of the first reorder (R1, the fill's 60 counted in its place, beside R2's 120: 180),
    # never of whichever the EHR listed first (R2 first read 150).
    finished = epic_order("eOxy.F", 40, 8)
    finished["status"] = "completed"
    fill = dispense(OXYCODONE_5, days_ago(20), 30)
    fill["id"] = "eFill.F"
    fill["authorizingPrescription"] = [{"reference": "MedicationRequest/eOxy.F"}]
    fill["quantity"] = {"value": 240, "unit": "{tbl}", "system": UCUM, "code": "{tbl}"}
    first, second = epic_order("eOxy.R1", 3, 1), epic_order("eOxy.R2", 1, 4)
    totals = set()
    for resources in permutations((first, second, finished, fill)):
        evaluation = run("patient-view", resources=list(resources))
        pairs = [(p.renewal.id, p.fill.id) for p in evaluation.facts.reorders]
        totals.add((evaluation.facts.mme.total, tuple(pairs)))
    assert totals == {(Decimal(180), (("eOxy.R1", "eFill.F"),))}
