"""Durations written as FHIR Quantities (a days' supply, a timing bound), in days: guideline 4.1's unit table."""

from __future__ import annotations

from decimal import Decimal

from guideline.fhirdata import Quantity
from guideline.units import HOURS, normalise_unit

MAX_DAYS_SUPPLY = Decimal(999)  # the largest days' supply a pharmacy claim can carry (three digits)
# How a supply longer than that is said, wherever it is (an MME's reason, an order's supply not counted).
BEYOND_A_PRESCRIPTION = "more than a prescription can hold"

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
    estimated from it (90 tablets "over 1200 days")."""
    return days if days is not None and days <= MAX_DAYS_SUPPLY else None
