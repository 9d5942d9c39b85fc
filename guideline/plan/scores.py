"""Pain and function scores over 2 years: PEG (the mean of its three items) and pain intensity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from guideline.dosage import to_one_place
from guideline.fhirdata import LOINC
from guideline.plan.model import Point, QueryStatus
from guideline.plan.reading import observation_number
from guideline.plan.reads import CHART_MONTHS, CHART_WINDOW, NONE_IN_CHART_WINDOW, none_found
from guideline.record import Component, Observation
from guideline.timeutil import local_date, months_before

if TYPE_CHECKING:
    from guideline.facts import Facts

PEG_MEAN = "91147-9"
PEG_PANEL = "91148-7"
PEG_WHOLE = frozenset({PEG_MEAN, PEG_PANEL})
PEG_ITEMS = ("75893-8", "91145-3", "91146-1")  # average pain, enjoyment of life, general activity
PEG_ITEM_CODES = frozenset(PEG_ITEMS)
PEG_ITEM_NAMES = {"75893-8": "average pain", "91145-3": "enjoyment of life", "91146-1": "general activity"}
PAIN_SEVERITY = "72514-3"
# Pain severity as many EHRs file their 0-10 score (often a vital sign): the same score under another LOINC code.
PAIN_SEVERITY_REPORTED = "38208-5"
PAIN_CODES = frozenset({PAIN_SEVERITY, PAIN_SEVERITY_REPORTED})
SCORE_CODES = frozenset({*PEG_WHOLE, *PEG_ITEMS, *PAIN_CODES})
VOID_STATUSES = frozenset({"entered-in-error", "cancelled"})
MEANINGFUL_PERCENT = 30
SCALE_TOP = Decimal(10)


@dataclass(frozen=True)
class Scores:
    start: date
    end: date
    peg: tuple[Point, ...]
    pain: tuple[Point, ...]
    latest_peg: Point | None
    latest_pain: Point | None
    peg_change: str | None
    # Scores sent with a value that is no 0-10 number ("NaN", "see note", 14): named, never dropped unseen.
    unread: tuple[str, ...] = ()
    # What none found means, naming how far back the score searches looked (reads.none_found)
    none_found: str = NONE_IN_CHART_WINDOW


def _peg_value(observation: Observation, loinc: frozenset[str]) -> Decimal | None:
    """A whole PEG: its own value, else the mean of its three item components when all three are there."""
    if not loinc & PEG_WHOLE:
        return None
    value = observation_number(observation)
    if value is not None:
        return value
    # An item's number is read as a whole result's is: a quantity, an integer or text ("6"), as flowsheet rows of a
    # 0-10 list are sent; read from quantities only, a PEG panel of text items was no PEG at all.
    numbers = [
        observation_number(c)
        for c in observation.components
        if c.code is not None and not PEG_ITEM_CODES.isdisjoint(c.code.codes(LOINC))
    ]
    items = [n for n in numbers if n is not None and n <= SCALE_TOP]
    return sum(items, Decimal(0)) / len(items) if len(items) == len(PEG_ITEMS) else None


def _peg_change(peg: tuple[Point, ...]) -> str | None:
    if len(peg) < 2 or peg[0].value <= 0:
        return None
    first, last = peg[0].value, peg[-1].value
    percent = ((first - last) / first * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    direction = "improved" if percent > 0 else ("worsened" if percent < 0 else "unchanged")
    meaningful = " (a 30 % improvement is usually called meaningful)" if 0 < percent < MEANINGFUL_PERCENT else ""
    return f"PEG {direction} by {abs(percent)} % since {peg[0].day.isoformat()}{meaningful}"


def build_scores(facts: Facts, statuses: Mapping[str, QueryStatus] | None = None) -> Scores:
    """A PEG is read whole, or from its three items recorded on the same day; pain intensity (0–10) apart. None
    found names the window of the score searches made (reads.none_found)."""
    end = facts.today
    start = months_before(end, CHART_MONTHS)
    peg: dict[date, Decimal] = {}
    items: dict[date, dict[str, Decimal]] = {}
    pain: dict[date, Decimal] = {}
    unread: list[str] = []
    for observation in facts.record.observations:
        if observation.status in VOID_STATUSES or observation.code is None:
            continue
        loinc = SCORE_CODES.intersection(observation.code.codes(LOINC))
        if not loinc:
            continue
        day = local_date(observation.result_time)
        if day is None or not start <= day <= end:
            continue
        value = _peg_value(observation, loinc)
        if value is not None and value <= SCALE_TOP:
            peg[day] = value
            continue
        number = observation_number(observation)
        if number is None or number > SCALE_TOP:
            # PEG and pain intensity are 0-10: a larger number is another scale or an error
            sent = _sent_value(observation)
            if sent is None and loinc & PEG_WHOLE:  # a panel has no value of its own: its items say why
                sent = _items_not_read(observation)
            if sent is not None:
                unread.append(f"{'pain intensity' if PAIN_CODES & loinc else 'PEG'} on {day.isoformat()}: {sent}")
            continue
        for code in PEG_ITEMS:
            if code in loinc:
                items.setdefault(day, {})[code] = number
        if PAIN_CODES & loinc:
            pain[day] = number
    for day, found in items.items():
        if day not in peg and len(found) == len(PEG_ITEMS):
            peg[day] = sum(found.values(), Decimal(0)) / len(found)
    # A PEG as read, to one place; its change is worked from these figures so it agrees with what is shown.
    peg_points = tuple(Point(d, to_one_place(v)) for d, v in sorted(peg.items()))
    pain_points = tuple(Point(d, v) for d, v in sorted(pain.items()))
    return Scores(
        start,
        end,
        peg_points,
        pain_points,
        peg_points[-1] if peg_points else None,
        pain_points[-1] if pain_points else None,
        _peg_change(peg_points),
        tuple(unread),
        none_found("scores", statuses or {}, CHART_WINDOW),
    )


def _items_not_read(observation: Observation) -> str | None:
    """A PEG panel's items that give no 0-10 number, each with what was sent ("enjoyment of life 'see note'",
    "general activity not sent"): a panel read from its items was dropped unseen when one was not a score. None for a
    panel that carries no item at all."""
    sent: dict[str, Component] = {}
    for component in observation.components:
        codes = component.code.codes(LOINC) if component.code is not None else ()
        sent.update((code, component) for code in PEG_ITEMS if code in codes)
    if not sent:
        return None
    problems = []
    for code in PEG_ITEMS:
        item = sent.get(code)
        number = observation_number(item) if item is not None else None
        if item is None:
            problems.append(f"{PEG_ITEM_NAMES[code]} not sent")
        elif number is None or number > SCALE_TOP:
            problems.append(f"{PEG_ITEM_NAMES[code]} {_sent_value(item) or 'with no value'}")
    return ", ".join(problems) or None


def _sent_value(observation: Observation | Component) -> str | None:
    """The value a score was sent with, as written, when there is one (a panel with no value of its own has none)."""
    if observation.value_string:
        return repr(observation.value_string[:40])
    quantity = observation.value_quantity
    if quantity is not None and quantity.value is not None:
        return str(quantity.value)
    # A coded answer that names no number ("Moderate"): named too, where it was left out unseen.
    concept = observation.value_concept
    named = concept.display() if concept is not None else None
    return repr(named[:40]) if named else None
