"""Reading one dosage instruction: doses per day, the dose entry, its unit class, the daily cap (guideline 8.4, 8.5)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from itertools import product
from typing import Final, Literal

from guideline.commas import NUMBER, comma_readings, commas_read
from guideline.durations import quantity_days
from guideline.fhirdata import ORDERABLE_DRUG_FORM, UCUM, Quantity
from guideline.record import Dosage, DoseAndRate, TimingRepeat
from guideline.units import HOURS, nci_unit, normalise_unit
from guideline.words import longest_not_read

TENTH = Decimal("0.1")  # display rounding's one decimal place (`to_one_place`)

UnitClass = Literal["mass", "volume", "patch-rate", "per-other", "count", "unknown"]

# Canonical units: mass in mg, volume in mL, patch rate in mcg/h, counts as they are.
CANONICAL_UNIT: dict[str, str] = {"mass": "mg", "volume": "mL", "patch-rate": "mcg/h", "count": "unit"}

_MASS: dict[str, tuple[Decimal, Decimal]] = {
    # unit → (multiply, divide) into mg; multiply first so nothing is rounded on the way
    **dict.fromkeys(("mg", "mgs", "milligram", "milligrams"), (Decimal(1), Decimal(1))),
    **dict.fromkeys(("ug", "mcg", "mcgs", "µg", "μg", "microgram", "micrograms"), (Decimal(1), Decimal(1000))),
    **dict.fromkeys(("g", "gm", "gram", "grams"), (Decimal(1000), Decimal(1))),
}
_VOLUME: dict[str, tuple[Decimal, Decimal]] = {
    **dict.fromkeys(
        ("ml", "mls", "milliliter", "milliliters", "millilitre", "millilitres", "cc"), (Decimal(1), Decimal(1))
    ),
    **dict.fromkeys(("l", "liter", "liters", "litre", "litres"), (Decimal(1000), Decimal(1))),
    # Spoons as pharmacies measure them (5 and 15 mL): a liquid dosed "1 tsp" has a dose, and a tablet dosed in
    # spoons is a unit error, never a count of one tablet.
    **dict.fromkeys(("tsp", "teaspoon", "teaspoons", "teaspoonful", "[tsp_us]"), (Decimal(5), Decimal(1))),
    **dict.fromkeys(("tbsp", "tablespoon", "tablespoons", "tablespoonful", "[tbs_us]"), (Decimal(15), Decimal(1))),
}
_PATCH_RATE: dict[str, tuple[Decimal, Decimal]] = {
    **dict.fromkeys(
        ("ug/h", "mcg/h", "mcg/hr", "ug/hr", "µg/h", "μg/h", "mcg/hour", "microgram/hour", "micrograms/hour"),
        (Decimal(1), Decimal(1)),
    ),
    **dict.fromkeys(("mg/h", "mg/hr"), (Decimal(1000), Decimal(1))),
}


# timing.repeat.periodUnit → (A, B) with doses/day = f × A ÷ (p × B) (guideline 8.4 rule 1, multiply first).
_PERIOD: dict[str, tuple[Decimal, Decimal]] = {
    "s": (Decimal(86400), Decimal(1)),
    "min": (Decimal(1440), Decimal(1)),
    "h": (Decimal(24), Decimal(1)),
    "d": (Decimal(1), Decimal(1)),
    "wk": (Decimal(1), Decimal(7)),
    "mo": (Decimal(1), Decimal(30)),
    "a": (Decimal(1), Decimal(365)),
}

# Meal-generic `when` codes stand for three meals a day; every other code is one event (rule 3).
_MEAL_GENERIC = frozenset({"C", "AC", "PC"})

# Times of day as sigs and timing codes write them, and the time each names: the one list that the frequency rules
# ("every morning and at bedtime" is twice a day), the timing codes (HS, QHS, AM) and the doses by time of day ("1 tab
# every morning and 2 tabs at bedtime") read. Each is once a day.
TIMES_OF_DAY: dict[str, str] = {
    "morning": "morning",
    "noon": "noon",
    "midday": "noon",
    "afternoon": "afternoon",
    "evening": "evening",
    "night": "night",
    "nightly": "night",
    "bedtime": "night",
    # Abbreviations: GTS timing codes and sig shorthand ("qAM", "qHS").
    "am": "morning",
    "qam": "morning",
    "pm": "evening",
    "qpm": "evening",
    "bed": "night",
    "hs": "night",
    "qhs": "night",
}
_ABBREVIATED_TIMES = ("am", "qam", "pm", "qpm", "bed", "hs", "qhs")
# The abbreviations read in a sig's words: as text AM and PM are as likely a clock time, and "bed" a word.
_TEXT_TIME_CODES = tuple(code for code in _ABBREVIATED_TIMES if code not in ("am", "pm", "bed"))
# Each time of day in the words an explanation uses.
_TIME_WORDS = {
    "morning": "every morning",
    "noon": "at noon",
    "afternoon": "every afternoon",
    "evening": "every evening",
    "night": "at bedtime",
}

_TIMING_CODES: dict[str, Decimal] = {
    "QD": Decimal(1),
    "BID": Decimal(2),
    "TID": Decimal(3),
    "QID": Decimal(4),
    **{code.upper(): Decimal(1) for code in _ABBREVIATED_TIMES},
    "QOD": Decimal("0.5"),
    "WK": Decimal(1) / Decimal(7),
    "MO": Decimal(1) / Decimal(30),
}
_QNH = re.compile(r"^Q(\d+(?:\.\d+)?)H$")
_QND = re.compile(r"^Q(\d+(?:\.\d+)?)D$")

# Counts in words as sigs write them ("every twelve hours", "Four (4) times daily", "two tablets at bedtime"): the one
# list the frequency rules and the doses by time of day read.
_NUMBER_WORDS: dict[str, Decimal] = {
    word: Decimal(value)
    for value, word in enumerate(
        ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"), start=1
    )
}
_NUMBER_WORDS.update({"twenty-four": Decimal(24), "twenty four": Decimal(24), "seventy-two": Decimal(72)})
# How often in one word ("once a day", "twice daily"): read by the frequency rules and written by the explanations.
_TIMES_IN_WORDS: dict[str, Decimal] = {"once": Decimal(1), "twice": Decimal(2)}
# A decimal comma is kept in a count of hours, days or times and weighed there (`_counts`); every other text the
# number is read in has had its commas read (`commas_read`), so none is left in it.
_NUM = rf"(?:{NUMBER}|(?:{'|'.join(sorted(_NUMBER_WORDS, key=len, reverse=True))})(?![a-z]))"
_NUMBER = rf"({_NUM})"
# Epic writes "every 4 (four) hours" and "Four (4) times daily": the number repeated in brackets is skipped. Unread,
# "4 (four) times daily" fell through to the bare "daily" of once a day. Its spaces are possessive (`\s*+`): what
# follows takes no space back it could use, and handed back, a long run of spaces was retried space by space.
_SPELLED = r"\s*+(?:\([a-z0-9 -]+\)\s*+)?"
# The hour words of guideline.units (the ones durations and strengths read), longest first: one fixed order.
_HOURS = rf"(?:{'|'.join(sorted(HOURS, key=len, reverse=True))})\b"
_TIME_NAMES = "|".join(sorted((w for w in TIMES_OF_DAY if w not in _ABBREVIATED_TIMES), key=len, reverse=True))
# A time of day as a sig names it: "every morning", "in the evening", "at bedtime", "at night", "nightly". As text the
# abbreviations are left to the timing codes below, and "morning" alone needs its "every", "each", "in the" or "at".
_TIME_OF_DAY = rf"\b(?:(?:every|each|in the|at)\s+(?:{_TIME_NAMES})|bedtime|nightly|night)\b"
# A time of day anywhere in a sig, for the doses by time of day: also "morning" alone, and "qAM", "q PM", "HS".
_SPACED_CODES = "|".join(code.replace("q", r"q\s*", 1) for code in _TEXT_TIME_CODES)  # "qHS", "q HS"
_ANY_TIME = re.compile(
    rf"\b(?:(?:(?:every|each|in the|at)\s+)?(?:{_TIME_NAMES})|(?:every|in the)\s+[ap]m|{_SPACED_CODES})\b"
)
# "a day", "per day", "each day", and Epic's "daily" ("3 times daily" is Epic's name for TID).
_A_DAY = r"(?:(?:a|per|each|every)\s+day|daily)\b"
# First match wins, so "3 times daily" is read before the bare "daily" of once a day, and a range "every 4-6 hours"
# before its "6 hours".
# "every 4 hours", and Cerner's and pharmacies' "q4hr", "q 6 h".
_EVERY = r"\b(?:every\s+|q\s*)"
_TEXT_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"{_EVERY}{_NUMBER}{_SPELLED}\s*(?:-|to)\s*{_NUMBER}{_SPELLED}{_HOURS}"), "hour range"),
    (re.compile(rf"{_EVERY}{_NUMBER}{_SPELLED}{_HOURS}"), "hours"),
    (re.compile(rf"\bevery\s+{_NUMBER}{_SPELLED}(?:days|day|d)\b"), "days"),
    (re.compile(r"\bevery other day\b"), "0.5"),
    (re.compile(rf"\b({'|'.join(_TIMES_IN_WORDS)})\s+{_A_DAY}"), "word"),
    (re.compile(rf"\b{_NUMBER}{_SPELLED}\s*(?:times?|x)\s+{_A_DAY}"), "times"),
    # Two times of day joined by "and" ("every morning and at bedtime", "nightly and every morning", "1 tab every
    # morning and 1 tab at bedtime", "in the morning and evening", "qAM and qHS") are twice a day: read before the
    # "every morning" of once a day.
    (
        re.compile(
            rf"(?:{_TIME_OF_DAY}|\b(?:{_SPACED_CODES})\b)\s+and\s+(?:{_NUM}{_SPELLED}\s*[a-z()]+\s+)?"
            rf"(?:{_TIME_OF_DAY}|\b(?:{_TIME_NAMES}|{_SPACED_CODES})\b)"
        ),
        "2",
    ),
    (re.compile(r"\b(?:daily|every\s+day)\b"), "1"),
    (re.compile(_TIME_OF_DAY), "1"),  # one time of day alone: once ("every morning", "each evening", "at bedtime")
    # The timing abbreviations of rule 4, written as text ("Q6H PRN", "BID", "qHS"); AM and PM are left out, since
    # as text they are as likely a clock time.
    (re.compile(rf"\b(q\d+(?:\.\d+)?[hd]|qd|bid|tid|qid|qod|{'|'.join(_TEXT_TIME_CODES)})\b"), "code"),
)

# Preference among typed doseAndRate entries (guideline 8.5): lower is better.
_CONVERTIBLE_PREFERENCE = {"calculated": 0, "ordered": 1, None: 2, "admin-amount": 3}
_FALLBACK_PREFERENCE = {"ordered": 0, None: 1, "admin-amount": 2}


@dataclass(frozen=True)
class Amount:
    """A dose in its unit class; `value` is canonical (mg, mL, mcg/h or a count), `shown` is the original text."""

    value: Decimal
    unit_class: UnitClass
    shown: str


@dataclass(frozen=True)
class Frequency:
    """Doses per day and the words that explain where the number came from."""

    per_day: Decimal
    text: str


def to_one_place(value: Decimal) -> Decimal:
    """A number rounded for display to one decimal place, half up (6.75 → 6.8; 30 → 30.0): the one rounding of the
    MME and the days' supply a clinician reads (`mme.format_mme`, `supply.one_place`), which differ only in whether
    a whole number keeps its ".0". For display; the one figure worked from rounded ones is the PEG's change, so it
    agrees with the scores shown beside it (`plan.scores`)."""
    try:
        return value.quantize(TENTH, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the context holds (an absurd number from bad data): as it is
        return value


def number_text(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros, for explanations: 60.000 → "60", 0.6 → "0.6"."""
    try:
        if value == value.to_integral_value():
            return format(value.quantize(Decimal(1)), "f")
        # A letter for a NaN ("n", "N") or an infinity ("F"): such a value is written as it is.
        exponent = value.as_tuple().exponent
        rounded = (
            value.quantize(Decimal("0.0001")).normalize() if isinstance(exponent, int) and abs(exponent) > 4 else value
        )
    except InvalidOperation:  # more digits than the context holds (an absurd number from bad data): as it is
        return format(value, "f") if value.is_finite() else str(value)
    return format(rounded.normalize(), "f")


# Count units as EHRs write them (after normalise_unit) → the word an explanation uses ("2 TAB" reads "2 tablets");
# "" means no word. Only these are counts of dose units: any other word is unknown, never a count.
_COUNT_NOUNS: dict[str, str] = {
    **dict.fromkeys(("tab", "tabs", "tablet", "tablets", "tbl", "pill", "pills"), "tablet"),
    **dict.fromkeys(("cap", "caps", "capsule", "capsules"), "capsule"),
    **dict.fromkeys(("patch", "patches", "system", "systems"), "patch"),
    **dict.fromkeys(("film", "films"), "film"),
    **dict.fromkeys(("spray", "sprays", "actuat", "actuation", "actuations"), "spray"),
    **dict.fromkeys(("puff", "puffs"), "puff"),
    **dict.fromkeys(("lozenge", "lozenges", "troche", "troches"), "lozenge"),
    **dict.fromkeys(("suppository", "suppositories", "supp"), "suppository"),
    **dict.fromkeys(("each", "ea", "1", "unit", "units", "dose", "doses"), ""),
}
_PLURALS = {"patch": "patches", "suppository": "suppositories"}

# HL7 orderable drug form codes that name one solid dose unit (TAB, ERTAB12, CAP, TPATH72, SUPP, ...); a liquid form
# (SOL, SUSP) is no amount, so it stays unknown.
_DRUG_FORM_COUNT = re.compile(r"tab|cap|patch|tpath|supp|troche|loz|pill|film")


def _known_class(key: str) -> tuple[UnitClass, Decimal, Decimal] | None:
    for table, unit_class in ((_MASS, "mass"), (_VOLUME, "volume"), (_PATCH_RATE, "patch-rate")):
        if key in table:
            multiply, divide = table[key]
            return unit_class, multiply, divide  # type: ignore[return-value]
    if key in _COUNT_NOUNS:
        return "count", Decimal(1), Decimal(1)
    return None


def classify_unit(q: Quantity) -> tuple[UnitClass, Decimal, Decimal]:
    """Unit class in guideline 8.5 table order, with (multiply, divide) into the canonical unit.

    The code is read first (UCUM, an HL7 drug form, or an NCI Thesaurus unit code), then the unit text. A quantity
    with no unit at all is a count (a dispense quantity of "60"); a unit word PainPlan does not know ("box", "vial",
    "drop") is "unknown", never a count of tablets: a box of patches read as one patch undercounted fivefold."""
    trusted = q.system in (None, UCUM, ORDERABLE_DRUG_FORM)
    code = normalise_unit(q.code) if q.code else None
    if code is not None and q.system == ORDERABLE_DRUG_FORM and _DRUG_FORM_COUNT.search(code):
        return "count", Decimal(1), Decimal(1)
    # An NCI Thesaurus unit code (FDA SPL, NCPDP) is read as the unit it names: "C48542" alone was an unknown unit.
    named = normalise_unit(nci_unit(q.system, q.code))
    keys = [key for key in (named, code if trusted else None, normalise_unit(q.unit)) if key is not None]
    for key in keys:
        known = _known_class(key)
        if known is not None:
            return known
    if not keys and code is None:
        return "count", Decimal(1), Decimal(1)
    if any("/" in key for key in keys):
        return "per-other", Decimal(1), Decimal(1)
    return "unknown", Decimal(1), Decimal(1)


def count_text(value: Decimal, unit: str) -> str:
    """ "1 tablet", "2 tablets", "1 patch"; a unit PainPlan has no word for is shown as written."""
    noun = _COUNT_NOUNS.get(normalise_unit(unit) or "")
    if noun is None:
        return f"{number_text(value)} {unit}".strip()
    if not noun:
        return number_text(value)
    return f"{number_text(value)} {noun if value == 1 else _PLURALS.get(noun, noun + 's')}"


def to_amount(q: Quantity | None) -> Amount | None:
    """The quantity as an Amount, or None when it has no positive value."""
    if q is None or q.value is None or q.value <= 0:
        return None
    unit_class, multiply, divide = classify_unit(q)
    shown_unit = (q.unit or nci_unit(q.system, q.code) or q.code or "").replace("{", "").replace("}", "")
    plain = f"{number_text(q.value)} {shown_unit}".strip()
    value = q.value * multiply / divide
    if unit_class == "volume" and multiply != divide:
        plain = f"{plain} ({number_text(value)} mL)"  # "1 tsp (5 mL)": the conversion is on the card
    shown = count_text(q.value, shown_unit) if unit_class == "count" else plain
    return Amount(value, unit_class, shown)


_UNIT_WORDS = {"s": "second", "min": "minute", "h": "hour", "d": "day", "wk": "week", "mo": "month", "a": "year"}


_WORDS_FOR_TIMES = {times: word for word, times in _TIMES_IN_WORDS.items()}


def _times(frequency: Decimal) -> str:
    return _WORDS_FOR_TIMES.get(frequency, f"{number_text(frequency)} times")


def _period_text(frequency: Decimal, period: Decimal, unit: str) -> str:
    """ "3 times a day", "once an hour", "every 4 hours", "twice every 3 days"."""
    word = _UNIT_WORDS.get(unit, unit)
    if period == 1:
        return f"{_times(frequency)} {'an' if word == 'hour' else 'a'} {word}"
    every = f"every {number_text(period)} {word}s"
    return every if frequency == 1 else f"{_times(frequency)} {every}"


def _from_repeat(repeat: TimingRepeat) -> tuple[Decimal, str] | None:
    """Rule 1: frequency over period, at the maximum-frequency reading; None when it does not apply."""
    if repeat.period is None and repeat.frequency is None and repeat.frequency_max is None:
        return None
    unit = (repeat.period_unit or "").strip().lower()
    if unit not in _PERIOD:
        return None
    # The larger count of the range, even sent the wrong way round (frequency 4, frequencyMax 2), as for periodMax;
    # one sent but unreadable (read as 0) leaves the frequency unknown, never the other count alone.
    counts = [f for f in (repeat.frequency, repeat.frequency_max) if f is not None]
    frequency = (min(counts) if min(counts) <= 0 else max(counts)) if counts else Decimal(1)  # else FHIR's implicit 1
    if frequency != frequency.to_integral_value():
        return None  # a count of times is whole (positiveInt): 2.5 times ("2,5" sent as text) is taken by no one
    # A periodMax with no period (FHIR requires one) is the only period the timing states, never the implicit 1.
    period = next((p for p in (repeat.period, repeat.period_max) if p is not None), Decimal(1))
    if repeat.period_max is not None and 0 < repeat.period_max < period:
        period = repeat.period_max
    if frequency <= 0 or period <= 0:
        return None
    multiply, divide = _PERIOD[unit]
    per_day = frequency * multiply / (period * divide)
    return per_day, _period_text(frequency, period, unit)


def _unreadable(items: tuple[str, ...]) -> bool:
    """Whether a timeOfDay or when list has an item that is no text (the reader keeps it as "")."""
    return any(not item.strip() for item in items)


def _when_count(when: tuple[str, ...]) -> int:
    return sum(3 if code.strip().upper() in _MEAL_GENERIC else 1 for code in when)


def _from_code(code: str) -> Decimal | None:
    key = code.strip().upper()
    if key in _TIMING_CODES:
        return _TIMING_CODES[key]
    hours = _QNH.match(key)
    if hours and Decimal(hours.group(1)) > 0:
        return Decimal(24) / Decimal(hours.group(1))
    days = _QND.match(key)
    if days and Decimal(days.group(1)) > 0:
        return Decimal(1) / Decimal(days.group(1))
    return None


_CODE_WORDS = {
    "QD": "once a day",
    "BID": "twice a day",
    "TID": "3 times a day",
    "QID": "4 times a day",
    **{code.upper(): _TIME_WORDS[TIMES_OF_DAY[code]] for code in _ABBREVIATED_TIMES},
    "QOD": "every other day",
    "WK": "once a week",
    "MO": "once a month",
}


def _code_text(code: str) -> str:
    """A timing code in words ("BID" → "twice a day", "Q4H" → "every 4 hours"), else the code as written."""
    key = code.strip().upper()
    if key in _CODE_WORDS:
        return _CODE_WORDS[key]
    for pattern, unit in ((_QNH, "hour"), (_QND, "day")):
        match = pattern.match(key)
        if match:
            count = Decimal(match.group(1))
            return f"every {unit}" if count == 1 else f"every {number_text(count)} {unit}s"
    return key


def _count(written: str) -> Decimal:
    """A count as the sig writes it, in digits or in words: "4" or "four"."""
    return _NUMBER_WORDS.get(written) or Decimal(written)


def _counts(written: str) -> tuple[Decimal, ...]:
    """What a count of hours, days or times may mean (`commas.comma_readings`): one value, or several when it is
    written with a decimal comma ("4,5": 4.5, or 4 or 5)."""
    return (_NUMBER_WORDS[written],) if written in _NUMBER_WORDS else comma_readings(written)


def _from_text(raw: str) -> Decimal | None:
    """Rule 5: the small timing-text grammar; first match wins. A thousands separator is read by the one rule names
    use ("every 1,000 hours"); a decimal comma in a count is weighed (`_counts`): a count that differs between its
    readings ("every 4,5 hours": 4.5, or 4 or 5; "2,5 times a day") is not read, never guessed."""
    lowered = commas_read(raw.lower(), decimal=False)
    for pattern, meaning in _TEXT_RULES:
        match = pattern.search(lowered)
        if not match:
            continue
        if meaning == "code":
            return _from_code(match.group(1))
        if meaning == "word":
            return _TIMES_IN_WORDS[match.group(1)]
        if meaning == "times":
            (times, *other) = _counts(match.group(1))
            # No one takes a dose 2.5 times a day ("2.5 times", or "2,5": 2 to 5?), so it is unread, not guessed.
            return times if not other and times > 0 and times == times.to_integral_value() else None
        if meaning in ("hours", "days", "hour range"):
            # A range counts at its shorter period, the most often it may be taken (as periodMax does in rule 1);
            # read only when every reading of its counts gives that one period ("every 4 to 6,5 hours": 4).
            shortest = {min(n) for n in product(*(_counts(group) for group in match.groups() if group is not None))}
            if len(shortest) != 1:
                return None
            (n,) = shortest
            if n <= 0:
                return None
            return (Decimal(24) if meaning != "days" else Decimal(1)) / n
        return Decimal(meaning)
    return None


# More often than every 15 minutes is no dose anyone takes: such a frequency (a period of 1e-12 hours) is a data
# error, and the daily amounts it makes overflowed the arithmetic and showed MME in the hundreds of trillions.
MAX_DOSES_PER_DAY = Decimal(96)


def plausible(frequency: Frequency | None) -> bool:
    return frequency is None or frequency.per_day <= MAX_DOSES_PER_DAY


def doses_per_day(dosage: Dosage, parse_timing_text: bool = True) -> Frequency | None:
    """Doses per day N (guideline 8.4 rules 1, 1b, 2, 3, 4, 5), or None when no rule yields a value; a daily
    schedule limited by dayOfWeek is averaged over the week, and None when a day cannot be read."""
    found = _doses_per_day(dosage, parse_timing_text)
    if found is None:
        return None
    frequency, within_day = found
    if within_day and dosage.repeat is not None and dosage.repeat.day_of_week:
        return _on_days(frequency, dosage.repeat.day_of_week)
    return frequency


def doses_per_dosing_day(dosage: Dosage, parse_timing_text: bool = True) -> Frequency | None:
    """Doses on each day the schedule is taken: `doses_per_day` before a dayOfWeek limit averages it over the week
    (and whatever day it names, read or not)."""
    found = _doses_per_day(dosage, parse_timing_text)
    return found[0] if found is not None else None


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _on_days(frequency: Frequency, day_of_week: tuple[str, ...]) -> Frequency | None:
    """A schedule taken only on some days of the week, as its average over the week (3 days of 7 → × 3/7); None
    when a day is no FHIR day code, whatever its letter case ("Mon" is mon; "monday", 3 or null are no day)."""
    listed = {day.strip().lower() for day in day_of_week}
    if not listed <= set(_WEEKDAYS):
        # Dropping the day left the others: "mon, <junk>" read as once a week, a seventh of the dose, unnamed.
        return None
    days = [day for day in _WEEKDAYS if day in listed]
    if len(days) == len(_WEEKDAYS):
        return frequency
    named = ", ".join(day.capitalize() for day in days)
    return Frequency(frequency.per_day * len(days) / len(_WEEKDAYS), f"{frequency.text} on {named}")


def _doses_per_day(dosage: Dosage, parse_timing_text: bool) -> tuple[Frequency, bool] | None:
    """Doses per day, and whether the schedule repeats within a day (so that dayOfWeek limits it)."""
    repeat = dosage.repeat
    if repeat is not None:
        rule1 = _from_repeat(repeat)
        if rule1 is not None:
            per_day, text = rule1
            unit = (repeat.period_unit or "").strip().lower()
            period = repeat.period if repeat.period is not None else Decimal(1)
            multiply, divide = _PERIOD[unit]
            within_day = period * divide <= multiply  # the period is a day or less
            one_day = (unit == "d" and period == 1) or (unit == "h" and period == 24)
            if one_day:
                listed = max(len(repeat.time_of_day), _when_count(repeat.when))
                if listed > per_day:
                    if _unreadable(repeat.time_of_day) or _unreadable(repeat.when):
                        return None  # the times would raise the dose, and one of them could not be read
                    return Frequency(Decimal(listed), f"{listed} times a day"), True
            return Frequency(per_day, text), within_day
        if _unreadable(repeat.time_of_day) or _unreadable(repeat.when):
            return None  # a time dropped would read as fewer doses a day
        if repeat.time_of_day:
            count = len(repeat.time_of_day)
            return Frequency(Decimal(count), f"at {', '.join(repeat.time_of_day)}"), True
        if repeat.when:
            return Frequency(Decimal(_when_count(repeat.when)), f"at {', '.join(repeat.when)}"), True
    if dosage.timing_code is not None:
        for coding in dosage.timing_code.codings:
            if coding.code:
                value = _from_code(coding.code)
                if value is not None:
                    return Frequency(value, _code_text(coding.code)), value >= 1
        if parse_timing_text and sig_length_not_read(dosage) is None:
            # The text, else each coding's display: Cerner and Epic send their own frequency codes, named only
            # by the display ("q4hr", "4 times daily"). One too long to read is not (`doses_by_time` says so).
            shown = [dosage.timing_code.text, *(c.display for c in dosage.timing_code.codings)]
            for words in filter(None, shown):
                value = _from_text(words)
                if value is not None:
                    return Frequency(value, f'"{words}"'), value >= 1
    return None


def entry_amount(entry: DoseAndRate) -> Amount | None:
    """The dose of one entry: doseQuantity, else the range's high (or low when high is absent); a range sent the wrong
    way round ("2 to 1 tablets") is read at its larger end, as any range is."""
    dose = to_amount(entry.dose)
    if dose is not None:
        return dose
    high, low = to_amount(entry.dose_high), to_amount(entry.dose_low)
    if high is not None and low is not None and high.unit_class == low.unit_class and low.value > high.value:
        return low
    return high or low


def _rate_amount(entry: DoseAndRate) -> Amount | None:
    amount = to_amount(entry.rate)
    return amount if amount is not None and amount.unit_class == "patch-rate" else None


def pick_dose(dosage: Dosage, transdermal: bool = False) -> Amount | None:
    """The dose per administration (guideline 8.5): a directly convertible entry first, Epic's choice order next.

    For a patch the convertible entry is a per-hour rate; a mass there could never be converted (8.5 table), so
    a mass-typed entry does not win over the patch count.
    """
    candidates: list[tuple[str | None, Amount]] = []
    for entry in dosage.dose_and_rate:
        amount = entry_amount(entry)
        if transdermal:
            amount = _rate_amount(entry) or amount
        if amount is not None:
            candidates.append((entry.kind, amount))
    wanted = "patch-rate" if transdermal else "mass"
    direct = [(k, a) for k, a in candidates if a.unit_class == wanted]
    if direct:
        return min(direct, key=lambda c: _CONVERTIBLE_PREFERENCE.get(c[0], 2))[1]
    if candidates:
        # An entry in a unit PainPlan cannot read loses to any it can (Epic's tablets beside a "box" entry).
        ranked = sorted(
            enumerate(candidates),
            key=lambda ic: (ic[1][1].unit_class == "unknown", _FALLBACK_PREFERENCE.get(ic[1][0], 3), ic[0]),
        )
        return ranked[0][1][1]
    for extension in (dosage.epic_ordered_dose, dosage.epic_admin_amount):
        amount = to_amount(extension)
        if amount is not None:
            return amount
    return None


# ---------------------------------------------------------------------------------------------------------------
# A different dose at each time of day ("1 tab every morning and 2 tabs at bedtime")

# The dose units a sig writes after a number ("2 tabs", "10 mg", "5 mL"), longest first; "each" is left out, since
# in a sig it is the "each" of "each morning".
_SIG_UNITS = "|".join(
    re.escape(word)
    for word in sorted(
        (w for w in (*_COUNT_NOUNS, *_MASS, *_VOLUME) if w.isalpha() and w not in ("each", "ea", "l")),
        key=len,
        reverse=True,
    )
)
# A dose in a sig: a number or a range ("1-2", at its higher number, as a doseRange is read), a unit, and the amount
# Epic repeats in brackets ("1 tablet (5 mg total)"). A number inside a clock time ("8:00") or a code, or one that
# opens brackets ("at bedtime (5 mg)", the dose said again), is none.
_SIG_DOSE = re.compile(
    rf"(?<![\w.:/#(])(?P<low>\d+/\d+|{_NUM})(?:\s*(?:-|to)\s*(?P<high>{_NUM}))?{_SPELLED}\s*"
    rf"(?:(?P<unit>(?:{_SIG_UNITS})(?:\((?:e?s)\))?)\.?(?![a-z])(?:\s*\([^)]*\))?)?"
)
# A number with no unit is a dose only right before its time of day ("1 in the morning and 2 at night").
_BEFORE_A_TIME = re.compile(rf"\s*(?:(?:by mouth|orally|po)\s+)?(?:{_ANY_TIME.pattern})")
# Between two doses, words that make them one: "5 mg = 1 tab", "1 tablet of 5 mg", "5 mg, 1 tab".
_SAME_DOSE = re.compile(r"\s*+(?:=|of|,)?\s*")  # `\s*+`: a long run of spaces is not retried space by space
# A number that is a limit or a quantity to dispense, not a dose: "max 3 tablets a day", "#90 tablets".
_NOT_A_DOSE = re.compile(r"(?:max(?:imum)?|exceed|more than|up to|dispense|disp|qty|quantity|total of|#)\W*$")
_LONGEST_LIMIT_WORD = len("more than")
_WORD_CHARACTER = re.compile(r"\w")


def _limit_words_from(text: str, dose: int) -> int:
    """Where a `_NOT_A_DOSE` match ending at `dose` can begin: at most its longest word before the run of non-word
    characters that ends there. Searched from the sig's start for each dose, a sig of many doses took seconds."""
    start = dose
    while start and not _WORD_CHARACTER.match(text, start - 1):
        start -= 1
    return max(0, start - _LONGEST_LIMIT_WORD)


@dataclass(frozen=True)
class TimedDose:
    """One dose of a sig and the times of day it is taken at, as the sig writes them."""

    amount: Amount
    times: tuple[str, ...]
    unit: str = ""  # the unit as the sig writes it ("tabs"), for the day's total in words


@dataclass(frozen=True)
class TimedDoses:
    """Doses a sig gives at named times of day, each taken once a day at each of its times."""

    doses: tuple[TimedDose, ...]

    @property
    def text(self) -> str:
        """ "1 tablet every morning + 2 tablets at bedtime"."""
        return " + ".join(f"{d.amount.shown} {' and '.join(d.times)}" for d in self.doses)


# Doses by time of day that cannot be paired with their times: the dose is unread, never one of them guessed.
UNPAIRED: Final = "unpaired"
# An instruction with a text too long to read (`sig_length_not_read`): no dose of it is trusted (named `sigs-not-read`).
SIG_NOT_READ: Final = "not-read"


def _texts(dosage: Dosage) -> tuple[str, ...]:
    """The texts of an instruction its doses and frequency may be read from: its sig, its timing's text and its
    timing code's displays."""
    code = dosage.timing_code
    return tuple(filter(None, (dosage.text, *((code.text, *(c.display for c in code.codings)) if code else ()))))


def sig_length_not_read(dosage: Dosage) -> int | None:
    """The length of the longest text of an instruction when one is longer than `words.TEXT_READ_CHARACTERS` (then
    none of them is read, and no dose of it is trusted, since what it says may change the dose), else None."""
    return longest_not_read(_texts(dosage))


def doses_by_time(dosage: Dosage) -> TimedDoses | Literal["unpaired", "not-read"] | None:
    """The doses a sig gives at different times of day: from the dosage's text, else its timing's text or a timing
    code's display. None when no text gives different doses at times of day (the dose and frequency stand), UNPAIRED
    when one does but its doses and times cannot be paired one to one, SIG_NOT_READ when a text is too long to read
    (`sig_length_not_read`)."""
    if sig_length_not_read(dosage) is not None:
        return SIG_NOT_READ
    for words in _texts(dosage):
        found = _timed_in_text(words.lower())
        if found is not None:
            return None if isinstance(found, TimedDoses) and _one_part(dosage, found) else found
    return None


def _one_part(dosage: Dosage, timed: TimedDoses) -> bool:
    """Whether the instruction's own timing lists fewer times of day than the sig: it is one part of the sig (an
    instruction "when MORN" of "1 tab every morning and 2 tabs at bedtime"), read by its own dose and times."""
    repeat = dosage.repeat
    listed = max(len(repeat.time_of_day), _when_count(repeat.when)) if repeat is not None else 0
    return 0 < listed < sum(len(d.times) for d in timed.doses)


@lru_cache(maxsize=4096)
def _timed_in_text(text: str) -> TimedDoses | Literal["unpaired"] | None:
    if _ANY_TIME.search(text) is None:
        return None  # most sigs name no time of day: one search
    # Read as names are: "1,5 tablets" is 1.5 (it was "5 tablets"), "1,000 mcg" one thousand (it was "000 mcg").
    text = commas_read(text)
    doses = _sig_doses(text)
    if len({written[:3] for _, _, _, written in doses}) < 2:
        return None  # one dose at every time: the order's dose, as many times a day as the frequency says
    times = [(m.start(), m.end(), " ".join(m.group().split())) for m in _ANY_TIME.finditer(text)]
    return _paired(text, doses, times)


def _sig_doses(text: str) -> list[tuple[int, int, Amount, tuple[str, ...]]]:
    """The doses a sig writes, with where each stands and its words; limits and dispense quantities are left out."""
    found: list[tuple[int, int, Amount, tuple[str, ...]]] = []
    for match in _SIG_DOSE.finditer(text):
        unit = match.group("unit")
        if unit is None and not _BEFORE_A_TIME.match(text, match.end()):
            continue
        if _NOT_A_DOSE.search(text, _limit_words_from(text, match.start()), match.start()):
            continue
        value = _sig_number(match.group("high") or match.group("low"))
        amount = to_amount(Quantity(value, unit)) if value is not None else None
        if amount is None:
            continue
        if found and _SAME_DOSE.fullmatch(text, found[-1][1], match.start()):
            continue  # "5 mg = 1 tab", "1 tab of 5 mg": one dose written twice, as Oracle Health writes a sig
        written = (amount.unit_class, match.group("low"), match.group("high") or "", unit or "")
        found.append((match.start(), match.end(), amount, written))
    return found


def _sig_number(written: str) -> Decimal | None:
    """A dose's number as a sig writes it: "2", "0.5", "1/2", "two"."""
    if "/" in written:
        top, bottom = written.split("/")
        return Decimal(top) / Decimal(bottom) if Decimal(bottom) else None
    return _count(written)


def _paired(
    text: str, doses: list[tuple[int, int, Amount, tuple[str, ...]]], times: list[tuple[int, int, str]]
) -> TimedDoses | Literal["unpaired"]:
    """Each dose with the times written after it ("1 tab every morning"), or before it when the sig names a time
    first ("in the morning take 1 tab"); UNPAIRED when a dose has no time, a time is left over or named twice, or
    the doses are of different kinds (tablets and mg)."""
    dose_first = doses[0][0] < times[0][0]
    paired: list[TimedDose] = []
    for index, (start, end, amount, written) in enumerate(doses):
        if dose_first:
            low, high = end, doses[index + 1][0] if index + 1 < len(doses) else len(text)
        else:
            low, high = doses[index - 1][1] if index else -1, start
        own = tuple(words for t_start, t_end, words in times if low <= t_start and t_end <= high)
        if not own:
            return UNPAIRED
        paired.append(TimedDose(amount, own, written[-1]))
    if sum(len(d.times) for d in paired) != len(times):
        return UNPAIRED  # a time before the first dose, or after the last, belongs to none
    named = [TIMES_OF_DAY[words.split()[-1]] for d in paired for words in d.times]  # "every morning", "q am"
    if len(set(named)) != len(named):
        return UNPAIRED  # two doses at one time are steps or choices, not a sum
    if len({d.amount.unit_class for d in paired}) != 1 or paired[0].amount.unit_class == "unknown":
        return UNPAIRED
    return TimedDoses(tuple(paired))


# Words that make a sig more than one dose and frequency: a later step ("then 2 tabs"), the next one after it.
_SIG_STEPS = re.compile(r"\b(?:then|followed by|after that)\b")


def sig_dose_and_frequency(dosage: Dosage) -> tuple[Amount, Decimal] | None:
    """The one dose and doses a day a sig's words give, at their most ("Take 1-2 tablets every 4-6 hours": 2 tablets 6
    times a day), or None when the sig is not read surely: no sig, one too long to read, doses at times of day (read
    by `doses_by_time`), a later step, other than one dose, or no frequency the timing-text grammar reads."""
    text = dosage.text
    if not text or sig_length_not_read(dosage) is not None:
        return None
    lowered = commas_read(text.lower())
    if _ANY_TIME.search(lowered) or _SIG_STEPS.search(lowered):
        return None
    doses = _sig_doses(lowered)
    if len(doses) != 1 or doses[0][2].unit_class == "unknown":
        return None  # two doses are a choice or steps ("1 tablet or 2"), never summed or guessed between
    per_day = _from_text(text)
    if per_day is None or per_day > MAX_DOSES_PER_DAY:
        return None
    return doses[0][2], per_day


def daily_cap(dosage: Dosage) -> Amount | None:
    """maxDosePerPeriod as a per-day Amount, or None when absent or its period unit is unknown."""
    numerator = to_amount(dosage.max_dose_numerator)
    if numerator is None:
        return None
    denominator = dosage.max_dose_denominator
    days = quantity_days(denominator) if denominator is not None else None
    if days is None:
        return None
    return Amount(
        numerator.value / days, numerator.unit_class, f"{numerator.shown} per {_denominator_text(denominator)}"
    )


def duration_words(q: Quantity) -> str:
    """A duration as sent, its UCUM unit in words as the card reads it: "10 minutes", "2 hours", "0.01 days"; a unit
    it has no words for as written ("3 shifts")."""
    unit = (q.unit or q.code or "").strip()
    word = _UNIT_WORDS.get(unit.lower())
    value = number_text(q.value) if q.value is not None else "?"
    if word is None:
        return f"{value} {unit}".strip()
    return f"{value} {word}" if q.value == 1 else f"{value} {word}s"


def _denominator_text(q: Quantity | None) -> str:
    """A rate's period as the card reads it: "hour" of one, else as a duration is said ("12 hours")."""
    if q is None or q.value is None:
        return "period"
    if q.value != 1:
        return duration_words(q)
    unit = q.unit or q.code or ""
    return _UNIT_WORDS.get(unit.strip().lower(), unit)  # a UCUM code ("d", "h") in words, as the card reads it
