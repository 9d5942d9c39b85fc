"""Opioid exposure history (guideline 5): intervals, long-term therapy windows, recent start and opioid-naive."""

from __future__ import annotations

from datetime import date, timedelta

from builders import NOW, TODAY, days_ago, dispense, med_request, run

from guideline.history import HISTORY_DAYS, Exposure, covered_days, history_start, merge, naive_window

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
MORPHINE_ER = "891888"  # morphine sulfate 30 MG Extended Release Oral Tablet
BUP_NALOXONE = "1010604"  # buprenorphine 8 MG / naloxone 2 MG Sublingual Film (MOUD, also OPIOID)
METHADONE = "864706"  # methadone hydrochloride 10 MG Oral Tablet
NALTREXONE = "1483744"  # naltrexone hydrochloride 50 MG Oral Tablet (MOUD, not an opioid)
IBUPROFEN = "197806"


def history(*resources: dict, drafts: tuple[dict, ...] = ()) -> Exposure:
    return run("order-sign", drafts=list(drafts), resources=list(resources)).facts.exposure


def day(ago: int) -> date:
    return TODAY - timedelta(days=ago)


def test_merge_joins_overlapping_and_adjacent_intervals() -> None:
    merged = merge([(day(20), day(11)), (day(10), day(5)), (day(7), day(1)), (day(40), day(35))])
    assert merged == ((day(40), day(35)), (day(20), day(1)))
    assert covered_days(merged, day(29), TODAY) == 20


def test_windows_are_three_consecutive_30_day_periods_ending_today() -> None:
    exposure = history()
    assert exposure.windows == (
        (date(2026, 3, 18), date(2026, 4, 16)),
        (date(2026, 4, 17), date(2026, 5, 16)),
        (date(2026, 5, 17), date(2026, 6, 15)),
    )
    assert exposure.window_days == (0, 0, 0) and exposure.naive and not exposure.ltot


def test_the_history_reads_the_last_90_days_today_included() -> None:
    # One window for the history (5.1-5.3): the long-term therapy windows open on its first day, and the
    # opioid-naive window runs from 90 days before now to 24 hours before now.
    assert HISTORY_DAYS == 90
    assert history_start(TODAY) == day(89)
    assert history().windows[0][0] == history_start(TODAY)
    assert naive_window(NOW) == (NOW - timedelta(days=90), NOW - timedelta(hours=24))


def test_continuous_supply_is_long_term_therapy() -> None:
    exposure = history(*(dispense(OXYCODONE, days_ago(ago), days_supply=30) for ago in (89, 59, 29)))
    assert exposure.window_days == (30, 30, 30)
    assert exposure.ltot and not exposure.recent_start and not exposure.naive


def test_21_days_in_each_window_is_enough_and_20_is_not() -> None:
    # Supply starts on the first day of each window and lasts 21 days.
    enough = history(*(dispense(OXYCODONE, days_ago(ago), days_supply=21) for ago in (89, 59, 29)))
    assert enough.window_days == (21, 21, 21) and enough.ltot
    short = history(
        dispense(OXYCODONE, days_ago(89), days_supply=21),
        dispense(OXYCODONE, days_ago(59), days_supply=20),
        dispense(OXYCODONE, days_ago(29), days_supply=21),
    )
    assert short.window_days == (21, 20, 21) and not short.ltot


def test_overlapping_fills_are_not_double_counted() -> None:
    exposure = history(
        dispense(OXYCODONE, days_ago(29), days_supply=30), dispense(OXYCODONE, days_ago(20), days_supply=30)
    )
    assert exposure.window_days[2] == 30


def test_order_supply_includes_refills() -> None:
    # 30 days per fill × (1 + 2 refills) = 90 days from 89 days ago: every window covered.
    order = med_request(OXYCODONE, authored=days_ago(89), supply_days=30, refills=2)
    assert history(order).ltot


def test_unknown_supply_counts_as_30_days() -> None:
    order = med_request(OXYCODONE, authored=days_ago(29), supply_days=None)
    assert history(order).window_days == (0, 0, 30)


def test_dispense_without_days_supply_counts_as_30_days() -> None:
    assert history(dispense(OXYCODONE, days_ago(29), days_supply=None)).window_days == (0, 0, 30)


def test_only_real_orders_with_exposure_statuses_count() -> None:
    cancelled = med_request(OXYCODONE, authored=days_ago(20), status="cancelled")
    inpatient = med_request(OXYCODONE, authored=days_ago(20), category="inpatient")
    uncategorised = med_request(OXYCODONE, authored=days_ago(20), category=None, status="completed")
    assert history(cancelled, inpatient).window_days == (0, 0, 0)
    assert history(uncategorised).window_days == (0, 0, 21)


def test_draft_orders_never_count() -> None:
    exposure = history(drafts=(med_request(OXYCODONE, draft=True, supply_days=90),))
    assert exposure.window_days == (0, 0, 0) and exposure.naive


def test_non_opioid_supply_does_not_count() -> None:
    assert history(dispense(IBUPROFEN, days_ago(20))).window_days == (0, 0, 0)


def test_recent_start_needs_7_of_the_last_10_days() -> None:
    started = history(dispense(OXYCODONE, days_ago(6), days_supply=30))
    assert started.recent_days == 7 and started.recent_start
    too_few = history(dispense(OXYCODONE, days_ago(5), days_supply=30))
    assert too_few.recent_days == 6 and not too_few.recent_start


def test_long_term_patient_is_not_a_recent_start() -> None:
    exposure = history(*(dispense(OXYCODONE, days_ago(ago), days_supply=30) for ago in (89, 59, 29)))
    assert exposure.recent_days == 10 and not exposure.recent_start


def test_er_order_written_92_days_ago_for_90_days_is_not_naive() -> None:
    """Reference differs: only orders authored in the window count there, so this patient would be naive."""
    order = med_request(MORPHINE_ER, authored=days_ago(92), supply_days=90)
    exposure = history(order)
    assert not exposure.naive
    assert exposure.intervals == ((day(92), day(3)),)


def test_order_authored_in_the_window_is_exposure() -> None:
    assert not history(med_request(OXYCODONE, authored=days_ago(60), supply_days=3, status="completed")).naive


def test_supply_ending_before_the_window_leaves_the_patient_naive() -> None:
    # [today − 120, today − 91]: ends one day before the naive window opens.
    assert history(med_request(OXYCODONE, authored=days_ago(120), supply_days=30, status="completed")).naive
    assert not history(med_request(OXYCODONE, authored=days_ago(120), supply_days=31, status="completed")).naive


def test_exposure_in_the_last_24_hours_does_not_end_naivety() -> None:
    this_morning = (NOW - timedelta(hours=4)).isoformat()
    assert history(dispense(OXYCODONE, this_morning, days_supply=5)).naive
    yesterday_morning = (NOW - timedelta(hours=28)).isoformat()
    assert not history(dispense(OXYCODONE, yesterday_morning, days_supply=5)).naive


def test_moud_counts_as_exposure_for_naive() -> None:
    assert not history(dispense(BUP_NALOXONE, days_ago(30), days_supply=7)).naive
    assert not history(med_request(METHADONE, authored=days_ago(50), supply_days=30)).naive


def test_naltrexone_is_not_opioid_exposure() -> None:
    """5.3 counts buprenorphine and methadone only: an antagonist lowers tolerance, it never builds it."""
    exposure = history(dispense(NALTREXONE, days_ago(20), days_supply=30))
    assert exposure.window_days == (0, 0, 0)
    assert exposure.naive


def test_dispense_statuses() -> None:
    assert history(dispense(OXYCODONE, days_ago(20), status="in-progress")).window_days[2] == 21
    assert history(dispense(OXYCODONE, days_ago(20), status="cancelled")).naive
