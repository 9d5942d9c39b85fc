"""The patient banner: name, birth date and age, MRN and gender."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from guideline.plan.reading import patient_age

if TYPE_CHECKING:
    from guideline.facts import Facts


@dataclass(frozen=True)
class Banner:
    name: str
    birth_date: date | None
    age: int | None
    mrn: str | None
    gender: str | None


def build_banner(facts: Facts) -> Banner:
    patient = facts.record.patient
    if patient is None:
        raise LookupError("The patient's demographics were not returned by the EHR.")
    return Banner(
        patient.name or "Name not recorded", patient.birth_date, patient_age(facts), patient.mrn, patient.gender
    )
