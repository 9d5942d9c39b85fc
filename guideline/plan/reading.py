"""Small readers the section builders share: numbers and dates as shown, concept names and words."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from guideline.exclusions import age_in_years
from guideline.fhirdata import Concept
from guideline.mme import format_mme
from guideline.record import Component, MedOrder, Observation
from guideline.timeutil import local_date

if TYPE_CHECKING:
    from guideline.facts import Facts


def one_decimal(value: Decimal | None) -> str:
    """An MME as the clinician reads it: `mme.format_mme`'s one place, half up ("90.0"), or "not available"."""
    return "not available" if value is None else format_mme(value)


def concept_name(concept: Concept | None, fallback: str = "unnamed") -> str:
    return (concept.display() if concept else None) or fallback


def words_of(concept: Concept | None) -> str:
    """The concept's text and coding displays in lower case, for the keyword matches local codes need."""
    if concept is None:
        return ""
    return " ".join([concept.text or "", *(c.display or "" for c in concept.codings)]).lower()


def dated(moment: datetime | None) -> str:
    day = local_date(moment)
    return f", {day.isoformat()}" if day else ""


def latest(days: Iterable[date | None]) -> date | None:
    found = [d for d in days if d is not None]
    return max(found) if found else None


# A score as text: "7", "7/10", "8 out of 10", "10 (worst)". Anything else ("NaN", "1e999", "5-6") is no score. Its
# runs of spaces are possessive (`\s*+`): handed back, each was retried by the next, and a long run took seconds.
_SCORE_TEXT = re.compile(r"^\s*+(\d{1,4}(?:\.\d{1,4})?)\s*+(?:(?:/|out of)\s*+\d{1,4})?\s*+(?:\([^()]*\))?\s*$", re.I)


def observation_number(observation: Observation | Component) -> Decimal | None:
    """valueQuantity (or valueInteger), a valueString that holds a number (some EHRs send scores as text), or a
    coded answer named by its number, of a result or of a panel's component; never a value that is not a finite
    number of zero or more, which no score is ("NaN" as text lost the page's whole score chart)."""
    number = None
    if observation.value_quantity and observation.value_quantity.value is not None:
        number = observation.value_quantity.value
    elif observation.value_string:
        written = _SCORE_TEXT.match(observation.value_string)
        number = Decimal(written.group(1)) if written else None
    elif observation.value_concept is not None:
        # A score from a coded answer list (LOINC's 0-10 answers for pain and the PEG items) is named by its number.
        concept = observation.value_concept
        names = (concept.text, *(coding.display for coding in concept.codings))
        written = next(filter(None, (_SCORE_TEXT.match(name) for name in names if name)), None)
        number = Decimal(written.group(1)) if written else None
    if number is None or not number.is_finite() or number < 0:
        return None
    return number


def order_status(order: MedOrder) -> str:
    """draft, the order's status, and whether the medication was reported as taken rather than ordered here."""
    if order.is_draft:
        return "draft"
    status = order.status or "unknown status"
    return f"{status}, reported as taken" if order.reported else status


def patient_age(facts: Facts) -> int | None:
    patient = facts.record.patient
    return age_in_years(patient.birth_date, facts.today) if patient and patient.birth_date else None
