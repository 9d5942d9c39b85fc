"""Steps 2 and 3 (informed consent, treatment agreement) and their tiles are for longer-term opioid therapy (CDC 2022
Rec 2 and the HUSKY guide: 90 days or more, or expected to be): a short acute course asks for neither."""

from __future__ import annotations

from builders import days_ago, med_request, patient
from test_plan import OXYCODONE_5, plan_for
from test_plan_steps import by_key

from guideline.plan.steps import NOT_LONGER_TERM


def _documents(resources):
    plan = plan_for(resources)
    tiles = {t.key: t for t in plan.section("tasks").content}
    steps = by_key(plan.section("steps").content)
    return tiles, steps


def test_a_five_day_course_after_surgery_asks_for_no_consent_or_agreement() -> None:
    # Before: both steps "Due now: ... none in the last 2 years for a patient on opioid therapy" for 5 days of
    # oxycodone written 2 days after surgery.
    post_op = med_request(
        OXYCODONE_5, id="post-op", status="active", authored=days_ago(2), dose=1, period=6, supply_days=5
    )
    tiles, steps = _documents([patient(), post_op])
    for key in ("consent", "agreement"):
        assert tiles[key].state == "not-applicable" and tiles[key].next_due is None, key
        assert steps[key].status == "not-applicable" and steps[key].due == (), key
        assert steps[key].summary.startswith(NOT_LONGER_TERM), key
    assert steps["agreement"].summary.endswith("Treatment agreement comes before longer-term opioids.")


def test_an_order_for_a_month_still_asks_for_both() -> None:
    month = med_request(
        OXYCODONE_5, id="month", status="active", authored=days_ago(2), dose=1, period=6, supply_days=30
    )
    tiles, steps = _documents([patient(), month])
    for key in ("consent", "agreement"):
        assert tiles[key].state == "never" and steps[key].status == "due", key
