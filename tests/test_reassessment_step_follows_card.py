"""Step 5 (reassessment) and its tile ask for a review only from the patient the `reassessment-due` card follows (its
own rule, `reassessment_due.follows`): on long-term therapy, or started recently with an order for subacute or
chronic use."""

from __future__ import annotations

from builders import days_ago, dispense, med_request, patient, run
from test_plan import OXYCODONE_5, plan_for
from test_plan_steps import by_key

from guideline.plan.steps import NOT_LONGER_TERM


def _reassessment(resources):
    plan = plan_for(resources)
    tile = next(t for t in plan.section("tasks").content if t.key == "reassessment")
    step = by_key(plan.section("steps").content)["reassess"]
    topics = [c.check_id for c in plan.section("alerts").content.cards]
    return tile, step, topics


def test_a_30_day_fill_from_an_outside_prescriber_alone_is_not_asked_a_review_the_card_does_not_ask() -> None:
    # Before: step 5 "Due now: At least every 91 days during longer-term therapy (Rec 7)." beside a quiet card.
    outside_fill = dispense(OXYCODONE_5, days_ago(3), days_supply=30)  # no order of ours: another prescriber's
    tile, step, topics = _reassessment([patient(), outside_fill])
    assert "reassessment-due" not in topics
    assert tile.state == "not-applicable" and tile.next_due is None
    assert step.status == "not-applicable" and step.due == ()
    assert step.summary == NOT_LONGER_TERM


def test_a_patient_the_card_follows_is_still_asked() -> None:
    # Started 8 days ago on a 30-day order (subacute use): the card asks for a review, and so does step 5.
    order = med_request(OXYCODONE_5, id="month", status="active", authored=days_ago(8), supply_days=30)
    tile, step, topics = _reassessment([patient(), order, dispense(OXYCODONE_5, days_ago(8), days_supply=30)])
    assert "reassessment-due" in topics
    assert tile.state == "never" and step.status == "due" and step.due


def test_the_card_and_the_tile_read_one_rule() -> None:
    from guideline.checks import reassessment_due

    fill_only = run("patient-view", resources=[patient(), dispense(OXYCODONE_5, days_ago(3), days_supply=30)])
    assert not reassessment_due.follows(fill_only.facts)
