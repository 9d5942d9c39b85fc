"""Calendar windows of guideline 1.1: closed day ranges, calendar months, local dates."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import overload


# A call adds a few hundred spans of a handful of lengths to dates (supplies, windows); making a timedelta costs
# several times more than adding one, so each length is made once.
@lru_cache(maxsize=512)
def day_span(count: int) -> timedelta:
    """A span of `count` days."""
    return timedelta(days=count)


ONE_DAY = timedelta(days=1)


# A card writes each result's date several times (table, findings, summary, its facts), and formatting a date costs
# many times more than finding it again.
@lru_cache(maxsize=4096)
def iso_day(day: date) -> str:
    """`day.isoformat()` (YYYY-MM-DD)."""
    return day.isoformat()


# What follows a date written beside an item dated after today ("dated 2026-07-05, after today"): a clause, which a
# sentence going on after the date closes. One wording for every card, tile and note line that names such an item.
AFTER_TODAY = ", after today"


# Every window of a call starts from the same today, so a handful of (day, months) pairs recur many times a call.
@lru_cache(maxsize=1024)
def months_before(day: date, months: int) -> date:
    """The same day of the month `months` earlier, clamped to the month's end (Mar 31 − 1 month = Feb 28/29)."""
    total = day.year * 12 + (day.month - 1) - months
    year, month = divmod(total, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last_day))


def months_after(day: date, months: int) -> date:
    return months_before(day, -months)


@overload
def local_date(moment: datetime | date) -> date: ...
@overload
def local_date(moment: None) -> None: ...
@overload
def local_date(moment: datetime | date | None) -> date | None: ...
def local_date(moment: datetime | date | None) -> date | None:
    """A record's datetimes are already in the configured zone; the date is its calendar day."""
    if moment is None:
        return None
    return moment.date() if isinstance(moment, datetime) else moment


def in_last_days(moment: datetime | date | None, days: int, today: date) -> bool:
    """True when the date lies in [today − days, today], both ends included."""
    day = local_date(moment)
    return day is not None and today - day_span(days) <= day <= today


def in_last_months(moment: datetime | date | None, months: int, today: date) -> bool:
    """True when the date lies in [today − months calendar months, today]."""
    day = local_date(moment)
    return day is not None and months_before(today, months) <= day <= today


def period_in_last_days(start: datetime | date | None, end: datetime | date | None, days: int, today: date) -> bool:
    """A Period is within [today − days, today] when its start or end falls in it, or it spans the whole window
    (1.1); an open end is not read as "still going", because a completed record often omits it."""
    if in_last_days(start, days, today) or in_last_days(end, days, today):
        return True
    first, last = local_date(start), local_date(end)
    return first is not None and last is not None and first < today - day_span(days) and last > today


def dated_in_last_days(
    moment: datetime | None, start: datetime | None, end: datetime | None, days: int, today: date
) -> bool:
    """An event dated by a moment (a dateTime) or a Period, as procedures and administrations are, within
    [today − days, today]: the moment in it, or the Period starting, ending in or spanning it."""
    return in_last_days(moment, days, today) or period_in_last_days(start, end, days, today)


def day_only(collected: datetime) -> bool:
    """A collection time at local midnight: what a date with no time reads as. A sample truly taken at midnight is
    taken for one dated by its day, so it replaces nothing and both results are judged, as before corrections were
    read: never a positive dropped for a correction of another sample."""
    return collected.hour == 0 and collected.minute == 0 and collected.second == 0 and collected.microsecond == 0
