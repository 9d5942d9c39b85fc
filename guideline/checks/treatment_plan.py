"""`treatment-plan` (guideline 10.12, CDC 2022 Recommendation 2): no pain treatment plan documented when longer-term
opioid therapy starts."""

from __future__ import annotations

from dataclasses import dataclass

from guideline.cards import Card
from guideline.care_plans import CurrentPlan, current_pain_plan, plan_window_days, status_words
from guideline.checks.common import (
    and_more,
    based_on,
    bullet_list,
    first_fitting,
    guideline_link,
    override_reasons,
    plan_link,
    prescriptions_and_dispenses,
    unread_of,
)
from guideline.config import CheckSettings
from guideline.facts import Facts
from guideline.record import DocumentReference, MedOrder
from guideline.supply import one_place
from guideline.terminology import PAIN_MANAGEMENT_PROCEDURE, PAIN_TREATMENT_PLAN
from guideline.timeutil import iso_day
from guideline.unread_data import CARE_PLANS, MEDICINES, PLAN_DOCUMENTS, PROCEDURES, Source
from guideline.words import and_list

CHECK_ID = "treatment-plan"
# The hooks this check can judge: it is about a new order, so patient-view has nothing for it to judge.
HOOKS = frozenset({"order-select", "order-sign"})
TITLE = "Pain treatment plan"
# A plan is documented as a care plan, a pain-management procedure or a plan note.
PLANS_READ = (CARE_PLANS, PROCEDURES, PLAN_DOCUMENTS)


def evaluate(facts: Facts, settings: CheckSettings) -> Card | None:
    """Fires when an opioid-naive patient gets a new subacute/chronic opioid order and no pain treatment plan
    (CarePlan, pain-management Procedure or plan note) is documented in the last 90 days. Opioid cough medicines are
    left out."""
    # A plan for pain: an opioid cough medicine is no pain prescription (docs/clinical-logic.md).
    longer_term = tuple(o for o in facts.pain_prescriptions(CHECK_ID) if facts.duration(o) == "subacute-chronic")
    if not longer_term or not facts.exposure.naive:
        return None
    lookback = plan_window_days(facts.config)
    current = current_pain_plan(facts.record.care_plans, facts.terms, facts.today)
    if _plan_documented(facts, current, lookback, bool(settings["accept_document_reference"])):
        return None

    names = [facts.name(o) for o in longer_term]
    days = [_days_text(facts, o) for o in longer_term]
    # Plan notes are read only where the site counts them.
    plans_read = PLANS_READ if settings["accept_document_reference"] else PLANS_READ[:-1]
    unread = facts.not_read(*plans_read, *MEDICINES)
    detail = "\n\n".join(
        part
        for part in (
            "**Longer-term opioid order"
            + ("s" if len(names) > 1 else "")
            + ":**\n"
            + bullet_list(f"{name}{day}" for name, day in zip(names, days, strict=True)),
            f"No opioids in the last 90 days and no pain treatment plan documented in the last {lookback} days were "
            "found in what could be read."
            if unread.any
            else f"The patient has had no opioids in the last 90 days, and no pain treatment plan is documented in the "
            f"last {lookback} days.",
            unread.of(*plans_read).paragraph(f"a pain treatment plan of the last {lookback} days"),
            unread.of(*MEDICINES).paragraph("opioid use in the past 90 days"),
            *_uncounted_plans(current),
            "Agreeing on a plan before longer-term opioid therapy starts sets shared expectations and makes it "
            "easier to judge later whether the opioid is helping.",
            "**With the patient, agree on:** realistic goals for pain and function; how benefit will be judged "
            "and when; the non-opioid therapies to continue; and how opioids will be tapered and stopped if "
            "benefits do not outweigh risks.",
            _basis(facts, lookback, bool(settings["accept_document_reference"])),
        )
        if part
    )
    return Card(
        check_id=CHECK_ID,
        indicator=settings["indicator"],
        summary=_summary(names, lookback, unread.any),
        detail=detail,
        links=(
            plan_link("plan-start", "Create or review pain treatment plan"),
            guideline_link(facts.config, "rec2", "CDC 2022 Recommendation 2"),
        ),
        override_reasons=override_reasons(
            facts.config,
            "plan-documented",
            "benefits-outweigh-risks",
            "excluded-condition",
            "wrong-clinician",
        ),
        view="plan",
        orders=tuple(o.id for o in longer_term if o.id),
        facts={"naive": True, "orders": names, "lookback_days": lookback, "not_read": list(unread.kinds)},
    )


def _basis(facts: Facts, lookback: int, notes: bool) -> str:
    """The card's "Based on" line: the plans and the opioids as far as they were read (`Unread.basis`), and today's
    drafts; plan notes only where the site counts them."""
    record = facts.record
    plans = (
        Source("care plans", (CARE_PLANS,), bool(record.care_plans), "the care plans read"),
        Source(
            "pain management procedures",
            (PROCEDURES,),
            bool(record.procedures),
            "the pain management procedures read",
        ),
        *(
            [Source("pain plan notes", (PLAN_DOCUMENTS,), bool(record.documents), "the pain plan notes read")]
            if notes
            else []
        ),
    )
    opioids = prescriptions_and_dispenses(facts)
    (written, taken), gaps = unread_of(facts, (*plans, *opioids)).grouped(plans, opioids)
    return based_on(
        f"{and_list(written)} in this record from the last {lookback} days; {and_list(taken)} from the last 90 days; "
        f"today's draft outpatient opioid orders (28 days' supply or more, or marked continuous){gaps}."
    )


def _note_counts(document: DocumentReference, facts: Facts, lookback: int) -> bool:
    return (
        document.status == "current"
        and facts.terms.contains(PAIN_TREATMENT_PLAN, document.type)
        and facts.within_days(document.date, lookback)
    )


@dataclass(frozen=True)
class _Uncounted:
    """Pain treatment plans on record that were not counted, of one kind, and why, said of one plan and of several:
    each is named, so the card's "no plan documented" never reads as "no plan on record"."""

    kind: str  # after "A pain treatment plan" / "Pain treatment plans"
    one: str  # after "is on record (…): "
    many: str  # after "are on record (…): "


# Not counted, as it may be years old.
UNDATED = _Uncounted(
    "with no date",
    "PainPlan could not tell when it was made, so it was not counted; check whether it is current.",
    "PainPlan could not tell when they were made, so they were not counted; check whether they are current.",
)
# Not yet in force, or written by a wrong clock.
AHEAD = _Uncounted(
    "dated after today",
    "it was not counted; check its date.",
    "they were not counted; check their dates.",
)


# A draft, a plan on hold or one with no status: nobody has agreed to it yet, or nothing says so.
NOT_IN_FORCE = _Uncounted(
    "not in force",
    "only an active or completed plan counts, so it was not counted; if it is the plan, finish and sign it, or check "
    "its status.",
    "only an active or completed plan counts, so they were not counted; if one is the plan, finish and sign it, or "
    "check their status.",
)


def _uncounted_text(named: list[str], why: _Uncounted) -> tuple[str, ...]:
    """A paragraph naming the pain treatment plans of one kind that were not counted (`named`), if any."""
    if not named:
        return ()
    if len(named) == 1:
        return (f"A pain treatment plan {why.kind} is on record ({named[0]}): {why.one}",)
    return (f"Pain treatment plans {why.kind} are on record ({'; '.join(named)}): {why.many}",)


def _uncounted_plans(current: CurrentPlan) -> tuple[str, ...]:
    """The paragraphs naming each pain treatment plan on record that was not counted: undated, dated ahead, then not
    in force."""
    undated = [plan.title or "untitled" for plan in current.undated]
    ahead = [f"{plan.title or 'untitled'}, dated {iso_day(day)}" for plan, day in current.ahead]
    not_in_force = [
        f"{plan.title or 'untitled'}, {status_words(plan)}" + (f", dated {iso_day(day)}" if day else "")
        for plan, day in current.not_in_force
    ]
    return (
        *_uncounted_text(undated, UNDATED),
        *_uncounted_text(ahead, AHEAD),
        *_uncounted_text(not_in_force, NOT_IN_FORCE),
    )


def _plan_documented(facts: Facts, current: CurrentPlan, lookback: int, accept_notes: bool) -> bool:
    """Any author's plan counts: the current care plan (as the plan page's Decide step takes it), a pain-management
    procedure or (if accepted) a plan note."""
    if facts.within_days(current.day, lookback):
        return True
    if facts.procedures_in(PAIN_MANAGEMENT_PROCEDURE, days=lookback):
        return True
    return accept_notes and any(_note_counts(d, facts, lookback) for d in facts.record.documents)


def _days_text(facts: Facts, order: MedOrder) -> str:
    total = facts.supply(order).total_days
    if total is None:
        return " (marked for continuous use)"
    return f" ({one_place(total)} days' supply)"


def _summary(names: list[str], lookback: int, unread: bool = False) -> str:
    return first_fitting(
        f"Longer-term opioid ({and_more(names)}) starting with no pain treatment plan documented",
        f"Longer-term opioid starting with no pain treatment plan documented in {lookback} days",
        unread=unread,
    )
