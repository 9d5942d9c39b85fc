"""Durations written as FHIR Quantities (a days' supply, a timing bound), in days: guideline 4.1's unit table."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from guideline.fhirdata import Quantity
from guideline.units import HOURS, normalise_unit

MAX_DAYS_SUPPLY = Decimal(999)  # the largest days' supply a pharmacy claim can carry (three digits)
# How a supply longer than that is said, wherever it is (an MME's reason, an order's supply not counted).
BEYOND_A_PRESCRIPTION = "more than a prescription can hold"
# Pharmacies count whole days: a days' supply written as less than one (0.01 days, 10 minutes) is a keying or unit
# error, which would end the supply before it starts, or divide a quantity into thousands of tablets a day.
FEWEST_DAYS_SUPPLY = Decimal(1)
# How a supply shorter than that is said, wherever it is (an MME's reason, an order's supply not counted).
SHORT_OF_A_PRESCRIPTION = "less than one day, shorter than any prescription's days' supply"

# Guideline 4.1's unit table (also used for timing bounds and maxDosePerPeriod denominators): (multiply, divide) → days.
_DAYS: dict[str, tuple[Decimal, Decimal]] = {
    **dict.fromkeys(("d", "day", "days"), (Decimal(1), Decimal(1))),
    **dict.fromkeys(("wk", "wks", "week", "weeks"), (Decimal(7), Decimal(1))),
    **dict.fromkeys(("mo", "mos", "month", "months"), (Decimal(30), Decimal(1))),
    **dict.fromkeys(("a", "yr", "yrs", "year", "years"), (Decimal(365), Decimal(1))),
    **dict.fromkeys(HOURS, (Decimal(1), Decimal(24))),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), (Decimal(1), Decimal(1440))),
    **dict.fromkeys(("s",), (Decimal(1), Decimal(86400))),
}


def quantity_days(q: Quantity | None) -> Decimal | None:
    """A duration in days (guideline 4.1 table): UCUM code first, then the unit text; unknown units give None."""
    if q is None or q.value is None or q.value <= 0:
        return None
    for raw in (q.code, q.unit):
        # Read as doses and strengths read their units: "Day(s)", "{days}", "days.", "24 hr" as EHRs write them.
        key = raw if raw in _DAYS else normalise_unit(raw)
        if key in _DAYS:
            multiply, divide = _DAYS[key]
            return q.value * multiply / divide
    return None


def plausible_days(days: Decimal | None) -> Decimal | None:
    """A supply of days a prescription or claim can hold (at most 999); anything longer is unknown, not a date
    thousands of years ahead (which overflowed the calendar and cost the whole evaluation), nor a daily dose
    estimated from it (90 tablets "over 1200 days"). The bound of every supply, worked out or written; one worked
    out from a quantity and a dose read may be under a day (1 tablet at 4 a day lasts 6 hours, an emergency
    department's order), one written may not (`held_days`)."""
    return days if days is not None and days <= MAX_DAYS_SUPPLY else None


def held_days(days: Decimal | None) -> Decimal | None:
    """A days' supply as written (a fill's daysSupply, an order's expected supply duration) when a prescription or
    fill can hold it: at least one day (`FEWEST_DAYS_SUPPLY`), at most 999 (`plausible_days`); else None."""
    return plausible_days(days) if days is not None and days >= FEWEST_DAYS_SUPPLY else None


def why_not_held(days: Decimal) -> Literal["under-a-day", "over-999"] | None:
    """Why a days' supply as written is none a prescription or fill can hold (`held_days`), or None when it is."""
    if days < FEWEST_DAYS_SUPPLY:
        return "under-a-day"
    return "over-999" if plausible_days(days) is None else None
