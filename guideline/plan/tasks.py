"""The status strip: when each recurring guideline task was last done, when it is next due, and its state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from guideline.checks.pdmp_review import CHECK_ID as PDMP_CHECK
from guideline.checks.pdmp_review import last_review
from guideline.checks.urine_drug_test import CHECK_ID as UDS_CHECK
from guideline.facts import NALOXONE_FILL_STATUSES
from guideline.fhirdata import LOINC
from guideline.fills import fill_date
from guideline.orders import is_taken, order_start
from guideline.plan.mme_history import MmeHistory
from guideline.plan.reading import latest, words_of
from guideline.record import Procedure
from guideline.terminology import ER_LA, NALOXONE_RESCUE, OPIOID_TREATMENT_ASSESSMENT
from guideline.timeutil import local_date, months_after

if TYPE_CHECKING:
    from guideline.facts import Facts

DUE_SOON_DAYS = 30
DOSE_CHANGE_DAYS = 28
AGREEMENT_LOINC = "94136-9"
DONE_OBSERVATION = frozenset({"final", "amended", "corrected"})


@dataclass(frozen=True)
class Task:
    """One guideline task of the status strip: state is done, due-soon, overdue, never, due-before-start (a patient
    about to start longer-term or extended-release opioids with the order being signed) or not-applicable."""

    key: str
    label: str
    last_done: date | None
    next_due: date | None
    state: str
    detail: str


def _task_state(last: date | None, due: date | None, today: date) -> str:
    if last is None:
        return "never"
    if due is None:
        return "done"
    if due < today:
        return "overdue"
    if due <= today + timedelta(days=DUE_SOON_DAYS):
        return "due-soon"
    return "done"


def _on_opioids(facts: Facts) -> bool:
    return bool(facts.current_opioids) or facts.exposure.ltot


def _recurring(facts: Facts, key: str, label: str, last: date | None, due: date | None, detail: str) -> Task:
    """A task that only applies to a patient on opioids, unless it was done anyway."""
    applies = _on_opioids(facts) or last is not None
    return Task(key, label, last, due, _task_state(last, due, facts.today) if applies else "not-applicable", detail)


def _due_now_if_on_opioids(facts: Facts) -> date | None:
    """Never done: due today for a patient on opioids, not due at all otherwise."""
    return facts.today if _on_opioids(facts) else None


def _performed_day(procedure: Procedure) -> date | None:
    return local_date(procedure.performed or procedure.performed_end or procedure.performed_start)


# -- urine drug test (Rec 10) ----------------------------------------------------------------------------------


def uds_task(facts: Facts) -> Task:
    # The card's window (lookback_months): read as 12 months whatever the site set, the tile showed "up to date"
    # beside a card asking for a test.
    months = int(facts.config.check(UDS_CHECK)["lookback_months"])
    last = facts.last_drug_test_day()
    due = months_after(last, months) if last else _due_now_if_on_opioids(facts)
    every = "yearly" if months == 12 else f"every {months} months"
    detail = f"At least {every} during longer-term opioid therapy (Rec 10)."
    return _recurring(facts, "uds", "Urine drug test", last, due, detail)


# -- PDMP review (Rec 9) ---------------------------------------------------------------------------------------


def pdmp_task(facts: Facts) -> Task:
    # The card's own reading, so the task and the card agree: a review procedure or finding, or a clinician's
    # "PDMP reviewed" override (which the task once ignored, showing "never" beside a card that stayed quiet); and the
    # card's window (lookback_days), which the task read as 90 days whatever the site set.
    last = last_review(facts)
    every = int(facts.config.check(PDMP_CHECK)["lookback_days"])
    due = last + timedelta(days=every) if last else _due_now_if_on_opioids(facts)
    label = facts.config["pdmp"]["label"]
    detail = f"Before each controlled prescription and at least every {every} days (Rec 9). {label}."
    return _recurring(facts, "pdmp", "PDMP review", last, due, detail)


# -- benefit/harm reassessment (Rec 7) -------------------------------------------------------------------------


def _dose_increase(history: MmeHistory | None, today: date) -> date | None:
    """The latest day in the last 4 weeks when the daily MME rose (a start or a dose increase)."""
    if history is None:
        return None
    previous = Decimal(0)
    found = None
    for point in history.opioid:
        if (
            point.value > previous
            and point.day >= today - timedelta(days=DOSE_CHANGE_DAYS)
            and point.day != history.start
        ):
            found = point.day
        previous = point.value
    return found


def reassessment_task(facts: Facts, history: MmeHistory | None) -> Task:
    """Every 3 months; after a start or a dose increase, 1–4 weeks after it unless reassessed since."""
    last = latest(_performed_day(p) for p in facts.procedures_in(OPIOID_TREATMENT_ASSESSMENT))
    increase = _dose_increase(history, facts.today)
    detail = "Every 3 months during longer-term therapy (Rec 7)."
    if increase and (last is None or last < increase):
        due = increase + timedelta(weeks=4)
        detail = (
            f"Opioids were started or the dose increased on {increase.isoformat()}: reassess 1–4 weeks "
            f"after ({(increase + timedelta(weeks=1)).isoformat()} to {due.isoformat()})."
        )
    elif last:
        due = months_after(last, 3)
    else:
        due = _due_now_if_on_opioids(facts)
    return _recurring(facts, "reassessment", "Benefit/harm reassessment", last, due, detail)


# -- naloxone on hand (Rec 8) ----------------------------------------------------------------------------------


def _naloxone_last(facts: Facts) -> date | None:
    """The day of the latest naloxone rescue order or fill of the statuses the cards read (whether it is on hand is
    Facts.has_naloxone): an on-hold order or a fill in progress left the tile "up to date" with no last day."""
    days: list[date | None] = []
    for order in facts.record.orders:
        if (
            not order.is_draft
            and order.status in ("active", "on-hold", "completed")
            and is_taken(order)
            and facts.is_in(NALOXONE_RESCUE, order)
        ):
            days.append(local_date(order.authored_on or order_start(order)))
    for dispense in facts.record.dispenses:
        if dispense.status in NALOXONE_FILL_STATUSES and facts.is_in(NALOXONE_RESCUE, dispense):
            days.append(fill_date(dispense))
    return latest(days)


def naloxone_task(facts: Facts) -> Task:
    last = _naloxone_last(facts)
    # The same test as the cards, so the plan never says "done" where a card says "offer naloxone" (or back), and
    # the cards' window: read as 12 months whatever the site set, the tile gave a next due date months ahead beside a
    # card asking to offer naloxone.
    on_hand = facts.has_naloxone
    months = int(facts.config.check("naloxone")["possession_months"])
    return Task(
        "naloxone",
        "Naloxone on hand",
        last,
        months_after(last, months) if last else None,
        "done" if on_hand else ("never" if _on_opioids(facts) else "not-applicable"),
        f"An active naloxone rescue order, or one ordered or dispensed in the last {months} months (Rec 8)."
        if on_hand
        else f"No naloxone rescue product ordered or dispensed in the last {months} months (Rec 8).",
    )


# -- treatment agreement and informed consent (Rec 2) ----------------------------------------------------------


def signed_documents(facts: Facts) -> tuple[list[tuple[date | None, str]], list[tuple[date | None, str]]]:
    """Every treatment agreement and every informed consent on record (DocumentReference or Consent), each with
    its day and how it is named, so the plan's steps can list them all."""
    agreements: list[tuple[date | None, str]] = []
    consents: list[tuple[date | None, str]] = []
    for document in facts.record.documents:
        if document.status not in (None, "current"):
            continue
        words = f"{words_of(document.type)} {(document.description or '').lower()}"
        day = local_date(document.date)
        named = document.description or (document.type.display() if document.type else None) or "Document"
        if (document.type is not None and document.type.has(LOINC, AGREEMENT_LOINC)) or "agreement" in words:
            agreements.append((day, named))
        elif "consent" in words and ("opioid" in words or "informed" in words):
            consents.append((day, named))
    for consent in facts.record.consents:
        if consent.status not in (None, "active"):
            continue
        words = " ".join(words_of(c) for c in consent.categories)
        day = local_date(consent.date_time)
        named = next((c.display() for c in consent.categories if c.display()), None) or "Consent"
        if any(c.has(LOINC, AGREEMENT_LOINC) for c in consent.categories) or "agreement" in words:
            agreements.append((day, named))
        else:
            consents.append((day, named))
    return agreements, consents


def _document_days(facts: Facts) -> tuple[date | None, date | None]:
    """Last treatment agreement and last informed consent (DocumentReference or Consent)."""
    agreements, consents = signed_documents(facts)
    return latest(d for d, _ in agreements), latest(d for d, _ in consents)


def _starting_longer_term(facts: Facts) -> bool:
    """No opioid now, and a draft being signed for longer-term or extended-release/long-acting use (Rec 2: the
    agreement and consent come before the first such prescription)."""
    if facts.exposure.ltot or any(not o.is_draft for o in facts.current_opioids):
        return False
    return any(
        facts.duration(o) == "subacute-chronic" or facts.is_in(ER_LA, o) for o in facts.current_opioids if o.is_draft
    )


def document_tasks(facts: Facts) -> tuple[Task, Task]:
    agreement, consent = _document_days(facts)
    detail = "Reviewed and signed with the patient, renewed yearly (Rec 2, HUSKY toolkit)."

    def yearly(key: str, label: str, last: date | None) -> Task:
        if last is None and _starting_longer_term(facts):
            return Task(key, label, None, facts.today, "due-before-start", detail)
        due = months_after(last, 12) if last else _due_now_if_on_opioids(facts)
        return _recurring(facts, key, label, last, due, detail)

    return yearly("agreement", "Treatment agreement", agreement), yearly("consent", "Informed consent", consent)


def build_tasks(facts: Facts, history: MmeHistory | None) -> tuple[Task, ...]:
    return (
        uds_task(facts),
        pdmp_task(facts),
        reassessment_task(facts, history),
        naloxone_task(facts),
        *document_tasks(facts),
    )
