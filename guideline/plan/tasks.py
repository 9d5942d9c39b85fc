"""The status strip: when each recurring guideline task was last done, when it is next due, and its state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from guideline.checks.naloxone import planned_opioids
from guideline.checks.pdmp_review import CHECK_ID as PDMP_CHECK
from guideline.checks.pdmp_review import last_review
from guideline.checks.reassessment_due import CHECK_ID as REASSESS_CHECK
from guideline.checks.reassessment_due import follows as reassessment_follows
from guideline.checks.reassessment_due import last_assessment, pending_assessments
from guideline.checks.unexpected_uds_result import unknown_status_named
from guideline.checks.urine_drug_test import CHECK_ID as UDS_CHECK
from guideline.checks.urine_drug_test import applies as uds_applies
from guideline.checks.urine_drug_test import (
    awaiting_result_since_last,
    not_counted_words,
    pending_orders,
    unknown_status_listed,
    unknown_status_since_last,
    unreadable_since_last,
)
from guideline.fhirdata import LOINC
from guideline.fills import fill_date, known_in_hand
from guideline.mme import MmeSummary
from guideline.orders import is_taken, order_start, starts_after
from guideline.plan.mme_history import MmeHistory
from guideline.plan.model import QueryStatus
from guideline.plan.reading import latest, one_decimal, words_of
from guideline.plan.reads import unread, where_found
from guideline.record import Dispense, MedOrder, ServiceRequest
from guideline.terminology import ER_LA, NALOXONE_RESCUE
from guideline.timeutil import local_date, months_after
from guideline.words import capitalised

if TYPE_CHECKING:
    from guideline.facts import Facts

DUE_SOON_DAYS = 30
DOSE_CHANGE_DAYS = 28
AGREEMENT_LOINC = "94136-9"


@dataclass(frozen=True)
class Task:
    """One guideline task of the status strip: state is done, due-soon, overdue, never, due-before-start (a patient
    about to start longer-term or extended-release opioids with the order being signed), ordered (ordered and
    pending: the order keeps the card quiet) or not-applicable."""

    key: str
    label: str
    last_done: date | None
    next_due: date | None
    state: str
    detail: str
    pending: str = ""  # state ordered: "ordered 2026-06-10, result pending"
    # last_done as written when it names a month or a year only ("2025-06"): shown so, never as the 1st
    last_written: str | None = None
    unread: str = ""  # state not-read: "Documents (2 years) could not be read"
    # Where its searches looked: "in the last 2 years" where one looks back only so far, else "on record"
    # (reads.where_found, set by `_windowed`); `none_found` says it after "none" (or "none readable").
    looked: str = "on record"
    # The record that stands for it when it has none of its own: "the treatment agreement" (consent_by_agreement)
    carried_by: str = ""
    # Tests on record it does not count, and why ("The test of 2026-03-02 could not be read as a result: ..."): none
    # found then reads "none readable on record", never "none on record" of a test the chart shows.
    not_counted: str = ""
    # The items of a named-gaps kind that `not_counted` names too, as the kind words them: the results of unknown
    # status it names by name (`unknown_status_named`; the first five, it counts the rest). The note names each once,
    # on this line, and still lists with the kind those the line only counts.
    also_named: tuple[str, ...] = ()
    # Whether `not_counted` names a test it could not read (one unreadable, a result of unknown status): none found
    # then reads "none readable on record". A test only waiting for its result ("A urine drug test collected on
    # 2026-03-02 has no result yet (status registered).") has none to read, so beside it none found still reads "none
    # on record", as the card's "no urine drug test result on record" beside it.
    none_readable: bool = False

    @property
    def last_text(self) -> str | None:
        """When it was last done, as the page and the note write it: as written for a month or a year only."""
        return self.last_written or (self.last_done.isoformat() if self.last_done else None)

    @property
    def none_found(self) -> str:
        """What none found means, naming how far back its searches looked ("none in the last 2 years", as
        reads.none_found): "none readable …" beside a test it does not count for want of a reading (`none_readable`);
        beside one only waiting for its result, "none …", as the card says."""
        return f"{'none readable' if self.none_readable else 'none'} {self.looked}"

    @property
    def state_label(self) -> str:
        """The state in the words the status strip and the note show ("Overdue", "Not needed now"); none found is
        "None in the last 2 years" where the searches look back only so far."""
        if self.state == "never":
            return capitalised(self.none_found)
        return STATE_LABELS.get(self.state, self.state)


# The states in words: the status strip shows these, and the copied note too (a pasted note read "[not-applicable]").
STATE_LABELS = {
    "done": "Up to date",
    "due-soon": "Due soon",
    "ordered": "Ordered, pending",
    "overdue": "Overdue",
    "never": "None on record",
    "due-before-start": "Due before starting",
    "not-applicable": "Not needed now",
    "not-read": "Unknown — data not read",
}


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


def on_opioid_therapy(facts: Facts) -> bool:
    """Opioids now (orders, fills or a draft being signed) or longer-term therapy in the record: what the cards follow
    on patient-view. Read from orders alone, a patient whose opioid came only as a pharmacy fill had every tile "Not
    needed now" beside a card offering naloxone."""
    return bool(facts.has_current_opioid or facts.exposure.ltot)


def naloxone_followed(facts: Facts) -> bool:
    """Whether naloxone is offered: on opioids now, or a signed opioid prescription starts within the later-start
    window (`naloxone.planned_opioids`). One rule for the naloxone tile and the decision step, which disagreed."""
    return on_opioid_therapy(facts) or bool(facts.once(planned_opioids))


def first_planned_start(facts: Facts) -> date | None:
    """The day the first of those planned opioid prescriptions starts (named by the decision step). The tile, the
    decision step and this read one answer (`Facts.once`)."""
    return min(
        (d for o in facts.once(planned_opioids) if (d := starts_after(o, facts.today)) is not None), default=None
    )


def _recurring(facts: Facts, key: str, label: str, last: date | None, due: date | None, detail: str) -> Task:
    """A task that only applies to a patient on opioids, unless it was done anyway."""
    applies = on_opioid_therapy(facts) or last is not None
    return Task(key, label, last, due, _task_state(last, due, facts.today) if applies else "not-applicable", detail)


def _due_now_if_on_opioids(facts: Facts) -> date | None:
    """Never done: due today for a patient on opioids, not due at all otherwise."""
    return facts.today if on_opioid_therapy(facts) else None


# A tile not up to date, which an order the card counts as pending turns into "ordered".
_WANTING = frozenset({"overdue", "never", "due-soon"})


def _asked_of(task: Task, followed: bool) -> Task:
    """The tile as its card asks it of this patient: "Not needed now", with no due date, where it would want doing
    for a patient the card does not follow (`followed`: the card's own rule); a tile done stands."""
    if task.state in _WANTING and not followed:
        return replace(task, state="not-applicable", next_due=None)
    return task


def _while_pending(task: Task, orders: Sequence[ServiceRequest]) -> Task:
    """While an order the card counts as pending is on record (its own rule and window), the tile says it is ordered
    and when, with no due date: it said "Overdue" beside a card the order kept quiet, asking for a test already
    ordered; "Up to date" would say it was done."""
    if not orders or task.state not in _WANTING:
        return task
    days = [day for day in (local_date(o.authored_on) for o in orders) if day is not None]
    when = f"ordered {max(days).isoformat()}" if days else "ordered in this session"
    pending = f"{when}, result pending"
    return replace(
        task, state="ordered", next_due=None, detail=f"{task.label} {pending}. {task.detail}", pending=pending
    )


# -- urine drug test (Rec 10) ----------------------------------------------------------------------------------


def uds_task(facts: Facts) -> Task:
    # The card's window (lookback_months): read as 12 months whatever the site set, the tile showed "up to date"
    # beside a card asking for a test.
    settings = facts.config.check(UDS_CHECK)
    months = int(settings["lookback_months"])
    last = facts.last_drug_test_day()
    due = months_after(last, months) if last else _due_now_if_on_opioids(facts)
    every = "yearly" if months == 12 else f"every {months} months"
    detail = f"At least {every} during longer-term opioid therapy (Rec 10)."
    unreadable = unreadable_since_last(facts, months)
    # The card's words: a test the chart shows, not counted, is never left unexplained.
    unknown_status = unknown_status_since_last(facts, months)
    not_counted = not_counted_words(unreadable, unknown_status, awaiting_result_since_last(facts, months))
    detail = f"{not_counted} {detail}" if not_counted else detail
    task = _recurring(facts, "uds", "Urine drug test", last, due, detail)
    # Only those the tile's line names by name (`Task.also_named`), never those it counts.
    listed = tuple(unknown_status_named(name, written) for name, written in unknown_status_listed(unknown_status))
    task = replace(task, not_counted=not_counted, also_named=listed, none_readable=bool(unreadable or unknown_status))
    task = replace(task, last_written=facts.last_drug_test_written()) if last else task
    # Rec 10 is for subacute and chronic pain: the card asks for a test only from a patient starting or on
    # longer-term opioids (its own rule), and the tile said "Due now" beside it for a 5-day course after surgery.
    task = _asked_of(task, uds_applies(facts))
    return _while_pending(task, pending_orders(facts, int(settings["pending_order_days"])))


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


def _signed_start_or_increase(facts: Facts, now: MmeSummary) -> str | None:
    """An order being signed starts opioids or raises the daily dose (Rec 7: review 1–4 weeks after either). The MME
    history reads the orders on record only, so a draft was no start there: a patient about to take a first opioid
    had the review "due now", before the first dose, and a dose raised from 90 to 130 MME/day left it "up to date"
    for two more months. The words saying which, or None. `now`: the daily MME without the drafts (`mme_now`)."""
    if facts.mme.state == "none" or not any(o.is_draft for o in facts.current_opioids):
        return None
    if not (now.orders or facts.current_fills or facts.exposure.ltot):
        return "Opioids start with the order being signed today"
    # Only known totals tell a rise: beside a dose not known (a fill with no quantity) the draft may be the next supply.
    if now.state == "complete" and facts.mme.state == "complete" and facts.mme.total > now.total:
        return (
            f"The order being signed raises the daily dose today ({one_decimal(now.total)} to "
            f"{one_decimal(facts.mme.total)} MME/day)"
        )
    return None


def reassessment_task(facts: Facts, history: MmeHistory | None, now: MmeSummary) -> Task:
    """Within the card's window (`reassessment-due` `lookback_days`, 91 days by default); after a start or a dose
    increase, 1–4 weeks after it unless reassessed since, and never later than the window allows. Read as 3 months,
    and moved later by a dose increase, the tile said "Due soon" or "Up to date" beside a card finding no review."""
    lookback = int(facts.config.check(REASSESS_CHECK)["lookback_days"])
    last = last_assessment(facts)
    window_due = last + timedelta(days=lookback) if last else None
    signed = _signed_start_or_increase(facts, now)
    increase = facts.today if signed else _dose_increase(history, facts.today)
    detail = f"At least every {lookback} days during longer-term therapy (Rec 7)."
    if increase and (last is None or last < increase):
        after = increase + timedelta(weeks=4)
        due: date | None = min(after, window_due) if window_due else after
        when = signed or f"Opioids were started or the dose increased on {increase.isoformat()}"
        detail = (
            f"{when}: reassess 1–4 weeks after ({(increase + timedelta(weeks=1)).isoformat()} to {after.isoformat()})."
        )
    elif window_due:
        due = window_due
    else:
        due = _due_now_if_on_opioids(facts)
    task = _recurring(facts, "reassessment", "Benefit/harm reassessment", last, due, detail)
    # The card's own rule: Rec 7's reviews are for longer-term therapy, and the tile said "Due now", every 91 days,
    # beside a quiet card for a patient whose only opioid was a 30-day fill from an outside prescriber.
    task = _asked_of(task, reassessment_follows(facts, starting=bool(signed)))
    if signed and task.state == "never":
        # Nothing to review yet: the first review comes 1–4 weeks after the first dose, not before it.
        task = replace(task, state="due-soon")
    pending_days = int(facts.config.check(REASSESS_CHECK)["pending_order_days"])
    return _while_pending(task, pending_assessments(facts, pending_days))


# -- naloxone on hand (Rec 8) ----------------------------------------------------------------------------------


# An order the cards count as naloxone on hand whatever its age (Facts.naloxone_on_hand): it has no due date.
STANDING_NALOXONE_STATUSES = ("active", "on-hold")


def _naloxone_day(item: MedOrder | Dispense) -> date | None:
    """The day a naloxone order was written (else started) or a fill handed over."""
    if isinstance(item, Dispense):
        return fill_date(item)
    return local_date(item.authored_on or order_start(item))


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
            days.append(_naloxone_day(order))
    for dispense in facts.record.dispenses:
        if known_in_hand(dispense) and facts.is_in(NALOXONE_RESCUE, dispense):
            days.append(_naloxone_day(dispense))
    return latest(days)


def _standing_naloxone(facts: Facts) -> tuple[MedOrder, ...]:
    """The naloxone on hand that no window ends: a draft being signed, or an active or on-hold order, which the cards
    count however long ago it was written."""
    return tuple(
        item
        for item in facts.naloxone_on_hand
        if isinstance(item, MedOrder) and (item.is_draft or item.status in STANDING_NALOXONE_STATUSES)
    )


def _standing_detail(standing: tuple[MedOrder, ...]) -> str:
    """What an order with no due date stands on: the card counts it as on hand, but only the patient knows whether the
    kit written years ago is still at home and in date."""
    if any(o.is_draft for o in standing):
        return "Naloxone is in the orders being signed (Rec 8)."
    newest = max(standing, key=lambda o: _naloxone_day(o) or date.min)
    day = _naloxone_day(newest)
    status = "On-hold" if newest.status == "on-hold" else "Active"
    written = f"from {day.isoformat()}" if day else "with no date"
    return (
        f"{status} naloxone order {written}: counted as on hand whatever its age; confirm the patient still has "
        "it and that it is in date (Rec 8)."
    )


def naloxone_task(facts: Facts) -> Task:
    """Naloxone on hand exactly as the cards count it (Facts.naloxone_on_hand), with a due date only where the cards'
    window ends one: an active order has none (a past date beside "up to date" contradicted the quiet card), and
    naloxone older than the window is named with its day (it read "None on record")."""
    last = _naloxone_last(facts)
    months = int(facts.config.check("naloxone")["possession_months"])
    if facts.has_naloxone:
        standing = _standing_naloxone(facts)
        if standing:
            return Task("naloxone", "Naloxone on hand", last, None, "done", _standing_detail(standing))
        due = months_after(last, months) if last else None
        day = last.isoformat() if last else "undated"
        detail = f"Ordered or filled {day}; counted as on hand for {months} months (Rec 8)."
        return Task("naloxone", "Naloxone on hand", last, due, "done", detail)
    # A signed opioid that starts within days is followed as the card follows it (`naloxone.planned_opioids`).
    on_opioids = naloxone_followed(facts)
    if last is None:
        detail = f"No naloxone rescue product ordered or dispensed in the last {months} months (Rec 8)."
        return Task("naloxone", "Naloxone on hand", None, None, "never" if on_opioids else "not-applicable", detail)
    detail = (
        f"Last ordered or filled {last.isoformat()}, outside the {months}-month window: not counted as on hand (Rec 8)."
    )
    if not on_opioids:
        return Task("naloxone", "Naloxone on hand", last, None, "not-applicable", detail)
    return Task("naloxone", "Naloxone on hand", last, months_after(last, months), "overdue", detail)


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
        # Rec 2 and the HUSKY guide tie both to longer-term therapy (90 days or more, or expected to be): read by the
        # one rule for starting or on longer-term therapy the urine drug test tile follows too. Both said "Due now"
        # for 5 days of oxycodone after surgery.
        return _asked_of(_recurring(facts, key, label, last, due, detail), uds_applies(facts))

    return yearly("agreement", "Treatment agreement", agreement), yearly("consent", "Informed consent", consent)


AGREEMENT_CARRIES = "the treatment agreement"


def consent_by_agreement(tasks: tuple[Task, ...]) -> tuple[Task, ...]:
    """No separate consent, but a current treatment agreement: the HUSKY agreement carries the consent discussion, so
    the consent tile is the agreement's, and says so. One rule for the step, its tile and the copied note (the note
    read the consent's own tile and said "none on record, next due today" beside a step up to date). A consent search
    not read leaves it so (a consent form there could only be newer), naming that search instead of "no separate
    consent form on record"."""
    by_key = {t.key: t for t in tasks}
    consent, agreement = by_key.get("consent"), by_key.get("agreement")
    if consent is None or agreement is None or consent.last_done is not None or agreement.last_done is None:
        return tasks
    if agreement.state not in ("done", "due-soon"):
        return tasks
    where = (
        f"; {consent.unread}, so a separate consent form may be on record."
        if consent.unread
        else " (no separate consent form on record)."
    )
    carried = replace(
        consent,
        state=agreement.state,
        last_done=agreement.last_done,
        last_written=agreement.last_written,
        next_due=agreement.next_due,
        detail=f"Recorded with {AGREEMENT_CARRIES}{where}",
        unread="",
        carried_by=AGREEMENT_CARRIES,
    )
    return tuple(carried if t is consent else t for t in tasks)


# -- a tile resting on a search not read ------------------------------------------------------------------------


# A tile found up to date or due soon that data not read could still undo, and the evidence that would: an opioid
# started or its dose raised after the last reassessment makes the reassessment due 1-4 weeks after (Rec 7), sooner
# than its window, and the orders or fills that show it may be in a medication search not read, and only the MME
# history reads them. Overdue, none on record and ordered stand (an increase only brings the due date forward), and so
# does a date set by an order being signed (1-4 weeks after today, whatever came before). The other tiles rest only
# on what was found.
UNDONE_BY: dict[str, str] = {"reassessment": "dose_change"}
UNDONE_WORDS: dict[str, str] = {
    "reassessment": "an opioid started or a dose raised there since the last reassessment would make it due again",
}
UNDONE_STATES = frozenset({"done", "due-soon"})


def _undoable(task: Task, today: date | None, signed: bool) -> bool:
    """Whether a dose change not seen could move the tile's state (UNDONE_BY): not for a review done today (nothing
    can have come after it) nor for a date an order being signed set (`signed`)."""
    if task.key not in UNDONE_BY or task.state not in UNDONE_STATES or signed:
        return False
    return today is None or task.last_done is None or task.last_done < today


def _unread_words(task: Task, statuses: Mapping[str, QueryStatus], today: date | None, signed: bool = False) -> str:
    """The searches not read that leave the tile's state unknown, with what they might hold; "" when it is known."""
    own = (
        ""
        if task.state == "done"
        else unread("opioid_therapy" if task.state == "not-applicable" else task.key, statuses)
    )
    words = unread(UNDONE_BY[task.key], statuses) if _undoable(task, today, signed) else ""
    undone = f"{words}, and {UNDONE_WORDS[task.key]}" if words else ""
    return "; ".join(part for part in (own, undone) if part)


def unread_task(
    task: Task, statuses: Mapping[str, QueryStatus], today: date | None = None, signed: bool = False
) -> Task:
    """The tile as "not known" when a search that could hold what it lacks was not read in full: "None on record",
    "Overdue" or "Due soon" would rest on the missing data (a newer agreement, a review, a pending order), and
    "Not needed now" on the medication searches. Up to date stands, unless what was not read could undo it
    (UNDONE_BY: a reassessment done, or due soon, before a dose increase in the orders not read)."""
    words = _unread_words(task, statuses, today, signed)
    if not words:
        return task
    # The other tiles' detail is their rule; naloxone's says what was found ("No naloxone … in the last 12 months").
    rule = "" if task.key == "naloxone" else f" {task.detail}"
    return replace(task, state="not-read", next_due=None, detail=f"Not known: {words}.{rule}", unread=words)


# The reassessment rests on the MME history too: a start or a dose increase since the last review, which only the
# history shows, brings its due date forward (UNDONE_BY says which states that can move).
NO_HISTORY = "the MME history could not be built"


def without_history(task: Task, history: MmeHistory | None, today: date, signed: bool = False) -> Task:
    """The reassessment tile as "not known" when it is up to date or due soon and the MME history it rests on could not
    be built (`history` None): the page said "Up to date" or "Due soon" with a date beside an MME history section that
    had failed, though a dose raised since the review would have made it due sooner. A review done today stands:
    nothing can have come after it; so does a due date set by an order being signed (`signed`)."""
    if task.key != "reassessment" or history is not None or not _undoable(task, today, signed):
        return task
    words = f"{NO_HISTORY}, and an opioid started or a dose raised since the last reassessment would make it due again"
    return replace(task, state="not-read", next_due=None, detail=f"Not known: {words}. {task.detail}", unread=words)


def _windowed(task: Task, statuses: Mapping[str, QueryStatus]) -> Task:
    """The tile with where its searches looked (`reads.where_found`), which its none found names (`Task.none_found`)."""
    return replace(task, looked=where_found(task.key, statuses))


def build_tasks(
    facts: Facts, history: MmeHistory | None, now: MmeSummary, statuses: Mapping[str, QueryStatus] | None = None
) -> tuple[Task, ...]:
    """The status tiles; `history` is the page's MME history, None when it could not be built (a tile resting on it
    says so); `now` is the daily MME without the drafts (`mme_now`), worked out once for the page, and `statuses`
    what each search returned (a tile resting on one not read says so)."""
    tasks = (
        uds_task(facts),
        pdmp_task(facts),
        reassessment_task(facts, history, now),
        naloxone_task(facts),
        *document_tasks(facts),
    )
    searched = statuses or {}
    windowed = (_windowed(t, searched) for t in tasks)
    signed = _signed_start_or_increase(facts, now) is not None
    read = (unread_task(t, searched, facts.today, signed) for t in windowed)
    return consent_by_agreement(tuple(without_history(t, history, facts.today, signed) for t in read))
