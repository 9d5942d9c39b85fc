"""`reassessment-due` (guideline 10.8, CDC 2022 Recommendation 7): benefit/harm evaluation overdue for a patient on
or starting longer-term opioids."""

from __future__ import annotations

from datetime import date, timedelta

from guideline.cards import Card
from guideline.checks.common import (
    based_on,
    dated_after_today,
    guideline_link,
    named_not_counted,
    opioids_to_judge,
    order_suggestion,
    override_reasons,
    plan_link,
    prescriptions_and_dispenses,
    service_request,
    unread_of,
)
from guideline.clinical import dated_after, is_pending_request, last_performed, unstated_in_window
from guideline.config import CheckSettings
from guideline.facts import Facts
from guideline.record import Procedure, ServiceRequest
from guideline.terminology import OPIOID_TREATMENT_ASSESSMENT
from guideline.timeutil import iso_day
from guideline.unread_data import PROCEDURES, SERVICE_REQUESTS, Source
from guideline.words import and_list

CHECK_ID = "reassessment-due"
# The hooks this check can judge: a new order, or (patient-view) the patient's current state too.
HOOKS = frozenset({"order-select", "order-sign", "patient-view"})
TITLE = "Opioid benefit/harm review overdue"

ASSESSMENT_CODING = {
    "system": "http://snomed.info/sct",
    "code": "454281000124100",
    "display": "Assessment of risk for opioid abuse (procedure)",
}
ASSESSMENT_TEXT = "Opioid therapy benefit and risk assessment"


def evaluate(facts: Facts, settings: CheckSettings) -> Card | None:
    """Fires on a new opioid order (on patient-view: on the patient's current opioids) when the patient is on
    long-term opioids (branch A) or started recently with a subacute/chronic order (branch B), and no benefit/harm
    evaluation is documented or ordered."""
    standing = facts.context.hook == "patient-view"
    triggers = facts.pain_triggers(CHECK_ID)
    branch = longer_term_branch(facts)
    if branch is None:
        return None
    exposure = facts.exposure

    lookback = int(settings["lookback_days"])
    if facts.procedures_in(OPIOID_TREATMENT_ASSESSMENT, days=lookback):
        return None
    if pending_assessments(facts, int(settings["pending_order_days"])):
        return None

    last = last_assessment(facts)
    # An evaluation is documented as a procedure, or ordered as a service request.
    unread = facts.not_read(PROCEDURES, SERVICE_REQUESTS)
    last_text = _last_text(facts, last, lookback, unread.any)
    missing = f"a benefit/harm evaluation of the last {lookback} days, or one already ordered,"
    if branch == "A":
        summary = (
            f"Opioids on {sum(exposure.window_days)} of the last 90 days; no benefit/harm review documented in the "
            f"last {lookback} days"
        )
        finding = (
            "The patient has had opioid supply on most days in each of the last three 30-day periods "
            f"(long-term therapy), with no documented benefit/harm evaluation in the last {lookback} days. " + last_text
        )
    else:
        summary = (
            f"Opioids started recently ({exposure.recent_days} of the last 10 days) and a longer-term order; "
            "no benefit/harm review documented yet"
        )
        finding = (
            f"Opioid supply covers {exposure.recent_days} of the last 10 days and "
            f"{'a current order' if standing else 'a new order'} is for "
            f"subacute/chronic use, but no benefit/harm evaluation is documented in the last {lookback} days. "
            + last_text
        )
    detail = "\n\n".join(
        part
        for part in (
            finding,
            unread.paragraph(missing),
            _window_table(facts),
            "Reviewing benefits (pain, function, the patient's goals) and harms (side effects, signs of opioid use "
            "disorder, overdose risk) within 1–4 weeks of starting longer-term therapy and at least every "
            "3 months after that keeps the plan safe and effective.",
            "**Options:** review benefits and harms with the patient now or order the evaluation below, then "
            "decide together whether to continue, adjust or gradually taper.",
            _basis(facts, lookback, settings["pending_order_days"]),
        )
        if part
    )
    resource = service_request(facts, ASSESSMENT_CODING, ASSESSMENT_TEXT)
    return Card(
        check_id=CHECK_ID,
        indicator=settings["indicator"],
        summary=unread.fitted(summary),
        detail=detail,
        suggestions=(
            order_suggestion(
                "Order an opioid benefit/risk assessment",
                "Create an order for an opioid therapy benefit and risk assessment.",
                resource,
                recommended=True,
            ),
        ),
        links=(
            guideline_link(facts.config, "rec7", "CDC 2022 Recommendation 7"),
            plan_link("history"),
        ),
        override_reasons=override_reasons(
            facts.config,
            "assessment-done",
            "benefits-outweigh-risks",
            "excluded-condition",
            "wrong-clinician",
        ),
        view="history",
        orders=tuple(o.id for o in triggers if o.id),
        facts={
            "branch": branch,
            "window_days": list(exposure.window_days),
            "recent_days": exposure.recent_days,
            "last_assessment": last.isoformat() if last else None,
            "not_read": list(unread.kinds),
        },
    )


def longer_term_branch(facts: Facts) -> str | None:
    """The patient this check follows: "A" on long-term therapy, "B" started recently with an order for subacute or
    chronic use (on patient-view a current one, on an order hook a new one); None for neither (an acute course, or a
    pharmacy fill with no such order), or no opioid to judge."""
    if not opioids_to_judge(facts, facts.pain_triggers(CHECK_ID)):
        return None
    if facts.exposure.ltot:
        return "A"
    if facts.exposure.recent_start and _longer_term_orders(facts):
        return "B"
    return None


def _longer_term_orders(facts: Facts) -> bool:
    """An order for subacute or chronic use among those judged: the current ones on patient-view (drafts aside), the
    new ones on an order hook."""
    standing = facts.context.hook == "patient-view"
    judged = tuple(o for o in facts.current_opioids if not o.is_draft) if standing else facts.pain_triggers(CHECK_ID)
    return any(facts.duration(o) == "subacute-chronic" for o in judged)


def follows(facts: Facts, starting: bool = False) -> bool:
    """Whether a review is asked of this patient: the card's own rule (`longer_term_branch`), which the plan page's
    reassessment tile and step 5 read too. `starting`: an order being signed starts opioids or raises the dose, whose
    review comes 1–4 weeks after; one for subacute or chronic use is followed before its supply starts, which the
    card waits for (Rec 7 is for subacute and chronic pain)."""
    if longer_term_branch(facts) is not None:
        return True
    return starting and opioids_to_judge(facts, facts.pain_triggers(CHECK_ID)) and _longer_term_orders(facts)


def _basis(facts: Facts, lookback: int, pending_days: int) -> str:
    """The card's "Based on" line: the opioids and the evaluations done or ordered, as far as they were read
    (`Unread.basis`)."""
    opioids = prescriptions_and_dispenses(facts)
    evaluations = (
        Source(
            f"benefit/harm evaluation procedures in the last {lookback} days",
            (PROCEDURES,),
            bool(facts.record.procedures),
            f"the benefit/harm evaluation procedures read in the last {lookback} days",
        ),
        Source(
            f"evaluations ordered in the last {pending_days} days",
            (SERVICE_REQUESTS,),
            any(not request.is_draft for request in facts.record.service_requests),
            f"the evaluations ordered in the last {pending_days} days that could be read",
        ),
    )
    (taken, done), gaps = unread_of(facts, (*opioids, *evaluations)).grouped(opioids, evaluations)
    return based_on(
        f"{and_list(taken)} in this record over the last 90 days (today's drafts are not counted); "
        f"{and_list(done)}{gaps}."
    )


def pending_assessments(facts: Facts, days: int) -> tuple[ServiceRequest, ...]:
    """Evaluations ordered in the last `days` days or drafted now (`is_pending_request`): the card is quiet while
    there is one, and the plan page's tile shows it as ordered."""
    return tuple(
        request
        for request in facts.record.service_requests
        if facts.terms.contains(OPIOID_TREATMENT_ASSESSMENT, request.code)
        and is_pending_request(request, days, facts.today)
    )


def last_assessment(facts: Facts) -> date | None:
    """The day of the latest benefit/harm evaluation on record not after today (the plan page's tile reads it too).
    One dated after today shows no review done yet: taken as the last, the tile said "Up to date" and the card named
    it as the last evaluation beside its finding of none. It is named instead (`future_assessments`)."""
    today = facts.today
    dates = [
        d for d in (last_performed(p, today) for p in facts.procedures_in(OPIOID_TREATMENT_ASSESSMENT)) if d is not None
    ]
    return max(dates) if dates else None


def future_assessments(facts: Facts) -> tuple[tuple[Procedure, date], ...]:
    """The benefit/harm evaluations dated only after today, each with its first date."""
    found = ((p, dated_after(p, facts.today)) for p in facts.procedures_in(OPIOID_TREATMENT_ASSESSMENT))
    return tuple((p, day) for p, day in found if day is not None)


def unread_assessments(facts: Facts) -> tuple[str, ...]:
    """The benefit/harm evaluations in the check's window whose status is unknown or unreadable (a list), each
    named, when nothing counted or pending already shows a review in hand (beside one, they could change nothing).
    Not counted as done, such an evaluation turned the tile from done to due and the card fired, with nothing to
    say one was on record."""
    settings = facts.config.check(CHECK_ID)
    lookback = int(settings["lookback_days"])
    if facts.procedures_in(OPIOID_TREATMENT_ASSESSMENT, days=lookback):
        return ()
    if pending_assessments(facts, int(settings["pending_order_days"])):
        return ()
    procedures = (p for p in facts.record.procedures if facts.terms.contains(OPIOID_TREATMENT_ASSESSMENT, p.code))
    named = []
    for procedure, why in unstated_in_window(procedures, lookback, facts.today):
        named.append(named_not_counted(procedure, "procedure", why, "opioid treatment evaluation"))
    return tuple(dict.fromkeys(named))


def _last_text(facts: Facts, last: date | None, lookback: int, unread: bool = False) -> str:
    """The last dated evaluation, and any on record without a date: saying "none" of one the clinician can see would
    make the card plainly wrong."""
    said = [f"The last documented evaluation was on {last}."] if last else []
    if any(last_performed(p) is None for p in facts.procedures_in(OPIOID_TREATMENT_ASSESSMENT)):
        said.append(
            f"An evaluation is on record without a date, so it cannot show a review in the last {lookback} days."
        )
    ahead = dated_after_today("An evaluation", (day for _, day in future_assessments(facts)))
    if ahead:
        said.append(ahead)
    none = "No evaluation was found in what could be read." if unread else "No evaluation is on record."
    return " ".join(said) or none


def _window_table(facts: Facts) -> str:
    """Covered days per 30-day window (5.2), oldest first, plus the last 10 days."""
    exposure = facts.exposure
    rows = [
        f"| {iso_day(start)} to {iso_day(end)} | {days} of {(end - start).days + 1} |"
        for (start, end), days in zip(exposure.windows, exposure.window_days, strict=True)
    ]
    recent_start = facts.today - timedelta(days=9)
    rows.append(f"| last 10 days, {iso_day(recent_start)} to {iso_day(facts.today)} | {exposure.recent_days} of 10 |")
    return "| Period | Days with opioid supply |\n|---|---|\n" + "\n".join(rows)
