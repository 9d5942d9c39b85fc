"""The hand-over days of a signed staggered series: three 30-day oxycodone prescriptions (60 MME a day each) written
one day, to be filled from day 0, 30 and 60. An order's supply runs to its start + its days' supply and it is current
while that end is today or later (guideline 3.3), so on day 30, and on each day a next prescription's earliest fill
date falls a few days before the one before runs out, the two counted together: 120 MME a day for a patient taking 60.
Once the later prescription of the series has begun the earlier one is not current; the card, `painplan mme`, the
plan page's "now", its MME history and the exposure history read one dose."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from builders import NOW, TODAY, card, med_request, run
from test_history_supply_start import facts_of, line
from test_staggered_prescriptions import OXYCODONE_5, day, epic_oxycodone, expiring, fill, medication, staggered

from guideline.config import GuidelineConfig
from guideline.plan import build_plan
from guideline.plan.medications import mme_now
from guideline.terminology import load_terminology
from smart_app.mme_command import mme_report

DR_BAKER = {"reference": "Practitioner/eDrB", "display": "Baker, Bo, MD"}


def report(resources: list[dict[str, Any]]) -> dict[str, Any]:
    config = GuidelineConfig.from_mapping()
    data = {"resourceType": "Bundle", "entry": [{"resource": r} for r in (medication(), *resources)]}
    return mme_report(data, config, load_terminology(config), TODAY)


def overlapping(overlap: int) -> list[dict[str, Any]]:
    """Two 30-day prescriptions written 40 days ago: the first to be filled from 28 days ago (its supply ends in 2
    days), the next `overlap` days before that end (so from today when `overlap` is 2)."""
    first = epic_oxycodone("eOxy.1", day(-40), starts=day(-28))
    second = epic_oxycodone("eOxy.2", day(-40), starts=day(2 - overlap))
    return [first, second]


def test_on_the_day_the_second_prescription_begins_one_dose_counts() -> None:
    # Day 30 of the series: the first's supply runs to day 30 (start + 30 days), the second begins on day 30.
    resources = staggered(-30)
    evaluation = run("patient-view", resources=[medication(), *resources])
    assert evaluation.facts.mme.total == Decimal(60)
    assert [o.id for o in evaluation.facts.current_opioids] == ["eOxy.2"]
    high = card(evaluation, "high-mme")
    assert high is not None and high.indicator == "warning" and "60.0 MME/day" in high.summary
    assert mme_now(evaluation.facts).total == Decimal(60)
    meds = build_plan(evaluation, (), evaluation.facts.config, NOW).section("medications").content
    assert [r.order_id for r in meds.opioids] == ["eOxy.2"]
    assert report(resources)["current_total_mme"] == 60.0
    assert [line["current"] for line in report(resources)["orders"]] == [False, True, False]


def test_the_mme_history_and_exposure_read_the_hand_over_day_as_one_supply() -> None:
    facts = facts_of(staggered(-30))
    assert facts.mme.total == Decimal(60)
    days = line(facts)
    assert days[TODAY] == Decimal(60) and days[TODAY - timedelta(days=1)] == Decimal(60)
    # Oldest window first: day -30 in the middle window; days -29 to today (the first to day -1, then the second).
    assert facts.exposure.window_days == (0, 1, 30)


def test_a_next_prescription_fillable_a_few_days_early_is_one_dose_on_the_overlap_days() -> None:
    # "A month apart" from 1 February: the next may be filled 2 days before the first's 30 days run out.
    resources = overlapping(2)
    evaluation = run("patient-view", resources=[medication(), *resources])
    assert evaluation.facts.mme.total == Decimal(60)
    assert [o.id for o in evaluation.facts.current_opioids] == ["eOxy.2"]
    assert card(evaluation, "high-mme").indicator == "warning"
    assert report(resources)["current_total_mme"] == 60.0
    assert mme_now(evaluation.facts).total == Decimal(60)
    assert line(facts_of(resources))[TODAY] == Decimal(60)


def test_a_fill_of_the_first_still_supplying_on_the_overlap_days_is_one_regimen_with_the_second() -> None:
    resources = [*overlapping(2), fill("eOxy.1", day(-28))]
    evaluation = run("patient-view", resources=[medication(), *resources])
    assert evaluation.facts.mme.total == Decimal(60)
    assert report(resources)["current_total_mme"] == 60.0
    assert line(facts_of(resources))[TODAY] == Decimal(60)


def test_a_second_prescription_fillable_a_week_before_the_first_runs_out_still_adds() -> None:
    # Not a series: the two supplies overlap for a week, so both may be taken together (the louder reading).
    evaluation = run("patient-view", resources=[medication(), *overlapping(7)])
    assert evaluation.facts.mme.total == Decimal(120)


def test_another_prescribers_prescription_on_the_overlap_days_still_adds() -> None:
    first, second = overlapping(2)
    second["requester"] = DR_BAKER
    evaluation = run("patient-view", resources=[medication(), first, second])
    assert evaluation.facts.mme.total == Decimal(120)


def test_a_reorder_written_today_with_no_later_fill_date_still_adds() -> None:
    # Not a staggered prescription: written today to be filled today, two days before the first runs out. Two
    # active orders of one product and prescriber that do not name each other both count, as before.
    first = epic_oxycodone("eOxy.1", day(-28), starts=day(-28))
    second = epic_oxycodone("eOxy.2", day(0), starts=day(0))
    evaluation = run("patient-view", resources=[medication(), first, second])
    assert evaluation.facts.mme.total == Decimal(120)


# -- a covering clinician's draft renewal of one prescription of another prescriber's series ----------------------


def covering_renewal(prior: str, starts: int = 0) -> dict[str, Any]:
    """Dr Baker's draft renewal (Epic's renew action: priorPrescription) of Dr Adams's order `prior`, to be filled
    from `starts` days on."""
    draft = epic_oxycodone("eOxy.Renew", day(0), starts=day(starts), prior=prior)
    draft["status"] = "draft"
    draft["requester"] = draft["recorder"] = DR_BAKER
    return draft


def line_of(evaluation: Any, order_id: str) -> str:
    return next(r.explanation for r in evaluation.facts.mme.orders if r.order.id == order_id)


def test_a_renewal_of_a_series_prescription_its_next_has_taken_over_does_not_call_it_still_current() -> None:
    # Day 35: the first prescription is not current (the second began on day 30 and stands for it). The renewal's
    # line said "it renews order eOxy.1 …, another prescriber's, still current: read as replaced by this renewal".
    # The second, today's supply, is the one the renewal carries on: counted once with it, at the larger dose (60; it
    # read 120 beside it, tests/test_later4_series_renewal.py).
    evaluation = run("order-sign", drafts=[covering_renewal("eOxy.1")], resources=[medication(), *expiring(-35)])
    assert evaluation.facts.mme.total == Decimal(60)
    assert [o.id for o in evaluation.facts.current_opioids] == ["eOxy.Renew", "eOxy.2"]
    assert "still current" not in line_of(evaluation, "eOxy.Renew")
    assert evaluation.facts.replaced_of_another == ()


def test_a_renewal_of_another_prescribers_prescription_that_starts_later_says_which_it_replaces() -> None:
    # Day 5 of Dr Adams's series: Dr Baker renews the third prescription (to be filled from day 60). The draft
    # replaces it, so it left the list of prescriptions that start later with no word on any line.
    evaluation = run("order-sign", drafts=[covering_renewal("eOxy.3", 55)], resources=[medication(), *staggered(-5)])
    words = (
        f"it renews order eOxy.3 (priorPrescription), another prescriber's, which starts on {day(55)}: read as "
        "replaced by this renewal, so that order is not listed as starting later"
    )
    assert words in line_of(evaluation, "eOxy.Renew")
    high = card(evaluation, "high-mme")
    assert high is not None and "it renews order eOxy.3" in high.detail


def test_a_renewal_of_a_prescription_that_starts_later_is_no_second_dose_beside_todays() -> None:
    # The renewal stands where the third prescription stood (from day 60): it renews no current order, and beside
    # the first, today's dose of the same product, it read 120 MME/day with this order (a false critical card).
    # As a draft of the product naming no current order, it is read as the current one's renewal: counted once.
    for prior, starts in (("eOxy.3", 55), ("eOxy.2", 25)):
        drafts = [covering_renewal(prior, starts)]
        evaluation = run("order-sign", drafts=drafts, resources=[medication(), *staggered(-5)])
        assert evaluation.facts.mme.total == Decimal(60), prior
        assert card(evaluation, "high-mme").indicator == "warning"
        assert mme_now(evaluation.facts).total == Decimal(60)
    # The same renewal by Dr Adams herself reads the same.
    own = covering_renewal("eOxy.3", 55)
    own["requester"] = own["recorder"] = staggered(-5)[0]["requester"]
    assert run("order-sign", drafts=[own], resources=[medication(), *staggered(-5)]).facts.mme.total == Decimal(60)


def test_a_renewal_of_a_prescription_that_starts_later_beside_another_product_still_adds() -> None:
    # Only the later prescription is on record, beside today's oxycodone 5 mg every 6 hours (30 MME a day), another
    # product: the renewal renews no dose of it, and the two add.
    five = med_request(OXYCODONE_5, id="eOxy5", authored=day(-5), dose=1, period=6)
    resources = [medication(), staggered(-5)[2], five]
    evaluation = run("order-sign", drafts=[covering_renewal("eOxy.3", 55)], resources=resources)
    assert evaluation.facts.mme.total == Decimal(90)
