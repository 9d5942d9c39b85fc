"""Procedures and doses given that matter to a check but that PainPlan cannot count (no date it can read, or a review
or a urine drug test dated after today; a dose of unknown status): each named, never counted as recent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

from guideline.checks import urine_drug_test
from guideline.checks.common import named_not_counted
from guideline.checks.oud_treatment import is_moud_procedure, moud_dose_kind
from guideline.checks.pdmp_review import future_reviews
from guideline.checks.reassessment_due import future_assessments
from guideline.clinical import dated_ahead, undated_done, undated_words
from guideline.facts import Facts, named_item
from guideline.fhirdata import Concept
from guideline.record import Observation, Procedure
from guideline.terminology import (
    HOSPICE_PROCEDURE,
    OPIOID_TREATMENT_ASSESSMENT,
    PAIN_MANAGEMENT_PROCEDURE,
    PDMP_REVIEW,
)
from guideline.uds import is_drug_test_procedure

# What each check reads procedures for, in the words the card and the page name an undated one by.
_SETS: tuple[tuple[str, str], ...] = (
    (HOSPICE_PROCEDURE, "hospice or end-of-life care"),
    (PDMP_REVIEW, "PDMP review"),
    (OPIOID_TREATMENT_ASSESSMENT, "opioid treatment evaluation"),
    (PAIN_MANAGEMENT_PROCEDURE, "pain management procedure"),
)


def _kind(procedure: Procedure, contains: Callable[[str, Concept | None], bool]) -> str | None:
    """What the procedure is to a check (hospice care, a PDMP review, an OUD medication dose, ...), or None."""
    for set_name, label in _SETS:
        if contains(set_name, procedure.code):
            return label
    if is_moud_procedure(procedure.code):
        return moud_dose_kind(procedure.code)
    if is_drug_test_procedure(procedure.code):
        return "urine drug test"
    return None


def undated_procedures(facts: Facts) -> tuple[str, ...]:
    """Done (or unstated) procedures that a check reads, with no date PainPlan can read, each named with how its
    date was given: R4's performedAge or performedRange, words, or nothing. No window can count them (a PDMP review
    at "age 55" may be this week's or twenty years old), so they count as not done in any window, and the card and
    the page name them so that no card from them does not read as "nothing on record"."""
    return tuple(dict.fromkeys(named for _, named in _undated_named(facts)))


def _undated_named(facts: Facts) -> Iterator[tuple[Procedure, str]]:
    """Each undated done procedure a check reads, with how the card names it."""
    contains = facts.terms.contains
    for procedure in undated_done(facts.record.procedures):
        kind = _kind(procedure, contains)
        if kind is None:
            continue
        yield procedure, named_not_counted(procedure, "procedure", undated_words(procedure), kind)


def future_dated_reviews(facts: Facts) -> tuple[str, ...]:
    """Benefit/harm evaluations and PDMP reviews dated after today, each named with its date: no review done yet, so
    neither card nor tile counts them (as the last drug test ignores a result dated ahead), and naming them keeps
    "no review on record" from reading as if the chart held none."""
    named = [_named_ahead(item, "opioid treatment evaluation", day) for item, day in future_assessments(facts)] + [
        _named_ahead(item, "PDMP review", day) for item, day in future_reviews(facts)
    ]
    return tuple(dict.fromkeys(named))


def future_dated_drug_tests(facts: Facts) -> tuple[str, ...]:
    """Urine drug tests dated after today, each named with its date, where a urine drug test check reads the patient's
    tests (`urine_drug_test.drug_tests_read`: it is on for the call's hook, the general exclusions leave it on as far
    as they can be read, and it applies): no test done yet nor judged for unexpected substances, so "no urine drug
    test" and no unexpected-result card must not read as if the chart held none."""
    if not urine_drug_test.drug_tests_read(facts):
        return ()
    named = (
        f"{named_item(test.name, test.kind, test.ident)}, {dated_ahead(test.written)}"
        for test in urine_drug_test.tests_after_today(facts)
    )
    return tuple(dict.fromkeys(named))


def _named_ahead(item: Procedure | Observation, kind: str, day: date) -> str:
    """ "Opioid benefit/harm review (procedure pr-7), dated 2026-07-01, after today"."""
    what = "procedure" if isinstance(item, Procedure) else "observation"
    return named_not_counted(item, what, dated_ahead(day), kind)
