"""Reading Conditions and Procedures (guideline 6.1–6.3): visible, active, performed in a window, references."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime

from guideline.config import GuidelineConfig
from guideline.fhirdata import CONDITION_CATEGORY, US_CORE_CONDITION_CATEGORY
from guideline.orders import is_order
from guideline.record import Administration, Condition, Procedure, ServiceRequest
from guideline.terminology import Terminology
from guideline.timeutil import AFTER_TODAY, dated_in_last_days, in_last_days

HIDING_VERIFICATION = frozenset({"refuted", "entered-in-error"})
# DSTU2 named the problem list and encounter diagnoses one way, "diagnosis" (its other codes, complaint, symptom
# and finding, are not diagnoses): read as an unknown category, a DSTU2 cancer diagnosis excluded no one.
VISIBLE_CATEGORIES = frozenset({"problem-list-item", "encounter-diagnosis", "health-concern", "diagnosis"})
CATEGORY_SYSTEMS = frozenset({CONDITION_CATEGORY, US_CORE_CONDITION_CATEGORY})
ACTIVE_CLINICAL = frozenset({"active", "recurrence", "relapse"})
PROCEDURE_DONE = frozenset({"completed", "in-progress"})
# Done as every procedure is (6.3), or with no status: procedures made from claims carry none.
DONE_OR_UNSTATED = PROCEDURE_DONE | {None}
# An administration given, or being given (an injection under way). Not done (STU3 notGiven, DSTU2 wasNotGiven),
# entered in error, stopped before it was given, on hold or of unknown status is no dose the patient received.
GIVEN_STATUSES = frozenset({"completed", "in-progress"})


def is_visible(condition: Condition, config: GuidelineConfig) -> bool:
    """Not refuted or in error; uncategorised, or at least one problem/encounter/concern category (6.1)."""
    if condition.verification_status in HIDING_VERIFICATION:
        return False
    extra = config["condition"]["extra_categories"]
    coded = False
    for concept in condition.categories:
        for coding in concept.codings:
            coded = True
            code = coding.code or ""
            if coding.system in CATEGORY_SYSTEMS and (code.lower() in VISIBLE_CATEGORIES or code in extra):
                return True  # "Problem-List-Item" in capitals is that code too
            if coding.system not in CATEGORY_SYSTEMS and _names_visible_category(coding.display):
                return True  # a site's own category coding, named "Problem List"
        if _names_visible_category(concept.text):
            return True
    return not coded


# The visible categories as sites name them in words, for a category sent as text or under a site's own code.
_VISIBLE_CATEGORY_WORDS = (
    "problem list",
    "problem-list",
    "encounter diagnosis",
    "encounter-diagnosis",
    "health concern",
)


def _names_visible_category(words: str | None) -> bool:
    return bool(_named_categories(words))


_ENCOUNTER_DIAGNOSIS = frozenset({"encounter-diagnosis", "encounter diagnosis"})


def _named_categories(words: str | None) -> tuple[str, ...]:
    """The visible categories a site's words name ("Encounter Diagnosis", "Problem List")."""
    if not words:
        return ()
    lowered = words.lower()
    return tuple(name for name in _VISIBLE_CATEGORY_WORDS if name in lowered)


def is_active(condition: Condition) -> bool:
    """clinicalStatus active/recurrence/relapse, or no clinicalStatus and no abatement (6.2)."""
    if condition.clinical_status is not None:
        return condition.clinical_status in ACTIVE_CLINICAL
    return not condition.abatement_present


def is_encounter_diagnosis_only(condition: Condition) -> bool:
    """Categorised only as an encounter diagnosis (G3a ignores those; a problem-list entry counts), by HL7's code or
    by a site's coding or text that names it, as visibility reads them: read by HL7's code alone, a site's
    "Encounter Diagnosis" was a problem-list entry, and one visit's cancer diagnosis switched every check off."""
    kinds: set[str] = set()
    for concept in condition.categories:
        for coding in concept.codings:
            if coding.system in CATEGORY_SYSTEMS:
                kinds.add((coding.code or "").lower())
            else:
                kinds.update(_named_categories(coding.display))
        kinds.update(_named_categories(concept.text))
    return bool(kinds) and kinds <= _ENCOUNTER_DIAGNOSIS


def condition_date(condition: Condition) -> date | None:
    moment = condition.recorded_date or condition.onset
    return moment.date() if moment else None


def procedure_counts(procedure: Procedure, completed_only: bool = False) -> bool:
    """completed or in-progress; completed only where a rule says so (PDMP review) (6.3)."""
    if completed_only:
        return procedure.status == "completed"
    return procedure.status in PROCEDURE_DONE


# A procedure status that says nothing of whether it was done: "unknown", or none PainPlan could read (missing, or
# sent as a list or an object, which the reader takes as none).
UNSTATED_STATUSES = frozenset({"unknown", None})


def unstated_in_window(
    procedures: Iterable[Procedure], days: int, today: date, *, dated: bool = False
) -> list[tuple[Procedure, str]]:
    """The procedures of unstated status (`UNSTATED_STATUSES`) dated in [today - days, today] or only after today,
    or of status "unknown" and undated, each with why it was not counted ("status unknown", with its day where
    `dated` asks: "status unknown, dated 2026-05-02"; "status unknown, dated 2026-07-01, after today"; "status unknown,
    no date", or its date as written: "status unknown, performed weekly"). One with no status and no date is left to
    `undated_procedures`, which names it already."""
    found = []
    for procedure in procedures:
        if procedure.status not in UNSTATED_STATUSES:
            continue
        ahead = dated_after(procedure, today)
        if performed_within(procedure, days, today):
            found.append(
                (procedure, f"status unknown, dated {last_performed(procedure, today)}" if dated else "status unknown")
            )
        elif ahead is not None:
            # No review done yet whatever its status; dropped as outside the window, it went unseen.
            found.append((procedure, unknown_status_ahead(ahead)))
        elif procedure.status is not None and not any(procedure_dates(procedure)):
            found.append((procedure, f"status unknown, {undated_words(procedure)}"))
    return found


def undated_words(procedure: Procedure) -> str:
    """How a procedure with no date is dated where it is named: its date as written ("performed weekly", "performed
    at age 55 years"; R4's performedString, performedAge, performedRange), else "no date"."""
    return f"performed {procedure.performed_as}" if procedure.performed_as else "no date"


def unknown_status_ahead(day: date) -> str:
    """Why a review of unknown status dated after today was not counted: "status unknown, dated 2026-07-01, after
    today"."""
    return f"status unknown, {dated_ahead(day)}"


def dated_ahead(day: date | str) -> str:
    """ "dated 2026-07-01, after today": why an item dated only after today was not counted, its day as a date or as
    already written ("2027" for a year only). One wording for every line naming such an item."""
    return f"dated {day if isinstance(day, str) else day.isoformat()}{AFTER_TODAY}"


def procedure_dates(procedure: Procedure) -> tuple[datetime | None, ...]:
    """performedDateTime and performedPeriod start and end are all read (6.3)."""
    return procedure.performed, procedure.performed_start, procedure.performed_end


def given_dates(dose: Administration) -> tuple[datetime | None, ...]:
    """effective[x] as a moment and as a Period's start and end, as `procedure_dates` reads a procedure's."""
    return dose.given, dose.given_start, dose.given_end


def undated_done(procedures: Iterable[Procedure]) -> Iterator[Procedure]:
    """The procedures recorded as done (or of no stated status) with no date PainPlan can read (none, words, an age,
    a date that is no date): the one rule of both faces, the card naming those a check reads
    (`guideline.undated.undated_procedures`), the population review counting those a measure reads
    (`procedures_without_date`)."""
    for procedure in procedures:
        if procedure.performed or procedure.performed_start or procedure.performed_end:
            continue  # the usual case, dated: no further work
        if procedure.status in DONE_OR_UNSTATED:
            yield procedure


def performed_within(procedure: Procedure, days: int, today: date) -> bool:
    """performedDateTime in the window, or performedPeriod starting, ending in or spanning it (1.1, 6.3)."""
    return dated_in_last_days(procedure.performed, procedure.performed_start, procedure.performed_end, days, today)


def given_within(dose: Administration, days: int, today: date) -> bool:
    """Given at a moment in the window, or over a period starting, ending in or spanning it (as a procedure)."""
    return dated_in_last_days(dose.given, dose.given_start, dose.given_end, days, today)


def last_performed(procedure: Procedure, today: date | None = None) -> date | None:
    """The latest performed date; with `today`, the latest that is not in the future (a Period still open ends
    later, but it started, or was done, on its earlier date)."""
    return _last_of(procedure_dates(procedure), today)


def last_given(dose: Administration, today: date) -> date | None:
    """The latest day a dose was given that is not after today (an injection's period may run on): `last_performed`,
    for an administration."""
    return _last_of(given_dates(dose), today)


def _last_of(moments: Iterable[datetime | None], today: date | None) -> date | None:
    dates = [m.date() for m in moments if m is not None]
    if today is not None:
        dates = [d for d in dates if d <= today]
    return max(dates) if dates else None


def dated_after(procedure: Procedure, today: date) -> date | None:
    """The first date of a procedure dated only after today (a mistyped year, a review charted ahead), else None:
    such a procedure shows nothing done yet, and is named rather than counted."""
    return _only_after(procedure_dates(procedure), today)


def given_after(dose: Administration, today: date) -> date | None:
    """The first date of a dose given dated only after today, else None: `dated_after`, for an administration."""
    return _only_after(given_dates(dose), today)


def _only_after(moments: Iterable[datetime | None], today: date) -> date | None:
    dates = [m.date() for m in moments if m is not None]
    return min(dates) if dates and min(dates) > today else None


def condition_name(condition: Condition, terms: Terminology) -> str:
    """The condition's own text, else the code's display from our value sets, else the code itself."""
    if condition.code is None:
        return "a condition without a code"
    named = condition.code.display()
    if named:
        return named
    for coding in condition.code.codings:
        if coding.system and coding.code:
            return terms.display(coding.system, coding.code) or coding.code
    return "a coded condition"


PENDING_REQUEST_STATUSES = frozenset({"active", "draft"})
VOID_REQUEST_STATUSES = frozenset({"cancelled", "entered-in-error", "revoked"})


def is_pending_request(request: ServiceRequest, days: int, today: date) -> bool:
    """An order that suppresses a "not done" card (10.3, 10.8), and that the plan page shows as pending: drafted in
    this very order session, whatever its intent (an accepted suggestion comes back as such a draft, of intent
    proposal by default), or an order (not a proposal, plan or option: `is_order`), active or draft and authored in
    the last `days` days. A proposal nobody signed, such as another decision-support tool's suggestion, silenced
    the card for a test nobody had ordered."""
    if request.is_draft:
        return request.status not in VOID_REQUEST_STATUSES
    return (
        request.status in PENDING_REQUEST_STATUSES
        and is_order(request)
        and in_last_days(request.authored_on, days, today)
    )
