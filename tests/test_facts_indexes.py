"""Facts reads each medication, test code and supply once per call: the answers must be the ones reading every
order, dispense and result on its own gives."""

from __future__ import annotations

from datetime import timedelta

from guideline.facts import Facts
from guideline.history import dispense_interval, order_interval
from guideline.terminology import BENZO, MOUD, OPIOID
from tests.builders import TODAY, days_ago, dispense, med_request, observation, run

OXYCODONE = "1049621"
LORAZEPAM = "197901"
BUP_NALOXONE = "1010604"
IBUPROFEN = "197806"
OXYCODONE_SCREEN = "58430-0"
OPIATE_SCREEN = "19295-5"


def facts_of(*resources: dict, drafts: tuple[dict, ...] = ()) -> Facts:
    drafts = drafts or (med_request(OXYCODONE, draft=True, id="new", supply_days=5),)
    return run("order-sign", drafts=list(drafts), resources=list(resources)).facts


def test_only_in_keeps_the_record_order_and_agrees_with_asking_each_item() -> None:
    facts = facts_of(
        med_request(OXYCODONE, status="active", authored=days_ago(10)),
        med_request(LORAZEPAM, status="active", authored=days_ago(9)),
        med_request(IBUPROFEN, status="active", authored=days_ago(8)),
        med_request(BUP_NALOXONE, status="completed", authored=days_ago(40)),
        dispense(OXYCODONE, days_ago(9)),
        dispense(LORAZEPAM, days_ago(8)),
        dispense(OXYCODONE, days_ago(3)),
    )
    items = (*facts.record.orders, *facts.record.dispenses)
    for set_name in (OPIOID, BENZO, MOUD):
        assert facts.only_in(set_name, items) == tuple(i for i in items if facts.is_in(set_name, i))
    assert [facts.name(i) for i in facts.only_in(BENZO, items)] == ["lorazepam 1 MG Oral Tablet"] * 2


def test_supply_intervals_are_the_history_rules_and_one_answer_per_object() -> None:
    facts = facts_of(
        med_request(OXYCODONE, status="active", authored=days_ago(10), supply_days=14, refills=1),
        med_request(OXYCODONE, status="completed", authored=days_ago(60), supply_days=None),
        dispense(OXYCODONE, days_ago(5), days_supply=None),
        dispense(OXYCODONE, days_ago(4), days_supply=7),
    )
    for order in facts.record.orders:
        assert facts.order_interval(order) == order_interval(order, facts.supply(order))
        assert facts.order_interval(order) is facts.order_interval(order)
    for item in facts.record.dispenses:
        assert facts.dispense_interval(item) == dispense_interval(item)


def test_each_result_is_judged_as_if_it_were_the_only_one_on_record() -> None:
    """A screen and its confirmation share a code and a day: they are judged once, and must read as each alone."""
    supply = (med_request(OXYCODONE, status="completed", authored=days_ago(40), supply_days=30),)
    results = (
        observation(OXYCODONE_SCREEN, when=days_ago(20), value_string="Negative"),
        observation(OXYCODONE_SCREEN, when=days_ago(20), value_string="Positive"),
        observation(OXYCODONE_SCREEN, when=days_ago(20), value_string="Positive"),
        observation(OPIATE_SCREEN, when=days_ago(20), value_string="Positive"),
        observation(OPIATE_SCREEN, when=days_ago(90), value_string="Negative"),
        observation("2345-7", when=days_ago(20), value_string="Positive"),  # glucose: not a urine drug test
    )
    together = facts_of(*supply, *results).uds_results_since(12)
    alone = [facts_of(*supply, r).uds_results_since(12) for r in results]
    assert len(together) == 5
    assert sorted(repr((r.day, r.name, r.value, r.substances)) for r in together) == sorted(
        repr((r.day, r.name, r.value, r.substances)) for one in alone for r in one
    )
    assert any(s.unexpected for r in together for s in r.substances)  # the judging is exercised, not only reading


def test_results_within_a_window_end_today_while_since_keeps_a_future_date() -> None:
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    facts = facts_of(
        observation(OPIATE_SCREEN, when=tomorrow, value_string="Negative"),
        observation(OPIATE_SCREEN, when=days_ago(0), value_string="Negative"),
        observation(OPIATE_SCREEN, when=days_ago(400), value_string="Negative"),
    )
    assert [r.day.isoformat() for r in facts.uds_results_since(12) if r.day] == [tomorrow, days_ago(0)]
    assert [r.day.isoformat() for r in facts.uds_results_within(12) if r.day] == [days_ago(0)]
