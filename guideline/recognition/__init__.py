"""Medication recognition: which class an order or fill's medication is in, from its codes, else its names.

The one place the cards, the plan page and `painplan mme` learn what a medication is. Codes decide when any is
known; otherwise ingredient, salt and brand names with strength, form and release; otherwise it is unidentified
and named, never silently dropped.
"""

from guideline.recognition.classify import (
    KIND_TEXT,
    KINDS,
    OPIOID_KINDS,
    Kind,
    Recognition,
    in_set,
    medication_names,
    partly_read,
    recognise,
    sedative_doubt,
    sedatives_maybe_unread,
    unidentified_name,
)
from guideline.recognition.names import NamedStrength, NameReading, read_name

__all__ = [
    "KINDS",
    "KIND_TEXT",
    "OPIOID_KINDS",
    "Kind",
    "NameReading",
    "NamedStrength",
    "Recognition",
    "medication_names",
    "in_set",
    "partly_read",
    "read_name",
    "recognise",
    "sedative_doubt",
    "sedatives_maybe_unread",
    "unidentified_name",
]
