"""The six HUSKY treatment-planning steps, each with its status, dated evidence, what is due and the next action."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

from guideline.care_plans import CurrentPlan, plan_window_days, status_words
from guideline.plan.decision import Decision, last_decision, plans_on_record
from guideline.plan.goals import Goals, build_goals
from guideline.plan.model import QueryStatus, Section
from guideline.plan.reads import CHART_WINDOW, none_found, unread
from guideline.plan.screens import Screens, build_screens
from guideline.plan.tasks import Task, first_planned_start, naloxone_followed, on_opioid_therapy, signed_documents
from guideline.timeutil import iso_day, months_after

if TYPE_CHECKING:
    from guideline.exclusions import ExclusionFinding
    from guideline.facts import Facts
    from guideline.plan.oud import OudBlock
    from guideline.plan.risks import Risks
    from guideline.record import CarePlan

PEG_EVERY_MONTHS = 3
SCREEN_EVERY_MONTHS = 12
OFFER_NALOXONE = "Offer naloxone as part of the plan."
RECORD_DECISION = "Record the decision (continue, adjust, taper or stop), its reasons and the follow-up date."
OUD_TREATMENT_DUE = "Opioid use disorder criteria are met: offer medication treatment or a referral (below)."
OUD_WITHOUT_THERAPY = "opioid use disorder criteria are met without medication treatment."
OFFER_OUD_TREATMENT = "Offer or arrange medication treatment for opioid use disorder (Rec 12)."
# A step for longer-term therapy beside opioids that are none (the tile's rule says which): not "no opioid therapy".
NOT_LONGER_TERM = (
    "Not needed now — short course: the opioids on record are no longer-term therapy (not taken on most days for 90 "
    "days, and no order for subacute or chronic use)."
)

STEP_KEYS = ("assess", "consent", "agreement", "initiate", "reassess", "decide")
STEP_TITLES: dict[str, str] = {
    "assess": "1. Assessment",
    "consent": "2. Informed consent",
    "agreement": "3. Treatment agreement",
    "initiate": "4. Initiate treatment",
    "reassess": "5. Reassessment",
    "decide": "6. Clinical decision making",
}
# The detail sections each step shows below its own summary (keys of the plan's other sections).
STEP_SECTIONS: dict[str, tuple[str, ...]] = {
    "assess": ("medications", "mme_history", "scores", "risks", "uds"),
    "consent": (),
    "agreement": (),
    "initiate": ("nonopioid",),
    "reassess": (),
    "decide": ("oud", "taper"),
}
STATUS_LABELS: dict[str, str] = {
    "done": "Up to date",
    "due-soon": "Due soon",
    "ordered": "Ordered, pending",
    "due": "Due now",
    "overdue": "Overdue",
    "not-applicable": "Not applicable",
    "unknown": "Could not be checked",
    "not-read": "Unknown — data not read",
}
# Worst first: a step shows the most pressing state among its parts. "not-read" (evidence a failed search might hold)
# comes after what is known to be due, which the clinician can act on, and before anything that would read as fine.
STATUS_ORDER = ("unknown", "overdue", "due", "not-read", "due-soon", "ordered", "done", "not-applicable")
# Why the guideline does not apply, as the page says it (the exclusion names of guideline 7), most telling first.
EXCLUSION_WORDS: dict[str, str] = {
    "hospice_palliative": "receiving hospice or palliative care",
    "terminal_condition": "a terminal or limited-life-expectancy condition",
    "active_cancer": "in active cancer treatment",
    "sickle_cell": "sickle cell disease",
    "age_under_18": "under 18 years old",
}


@dataclass(frozen=True)
class Evidence:
    """One dated item on record that the step rests on (day None: nothing dated to show). `unread` names the searches
    not read that leave it unknown ("Documents (2 years) could not be read"), so the note can name them too."""

    label: str
    day: date | None = None
    detail: str = ""
    unread: str = ""
    written: str | None = None  # day as written when it names a month or a year only ("2025-06"), shown so


def unknown_evidence(label: str, words: str, found: bool = False) -> Evidence:
    """A line whose evidence a search not read might hold: "not known", or, beside what was found, that more is."""
    return Evidence(label, None, f"{'others ' if found else ''}not known: {words}", words)


class DueKind(Enum):
    """What a due item of the decision step asks for: the step keeps or drops items by kind, never by their words
    (matched by text, "opioid use disorder" never matched the line's capital O, and the offer of treatment was lost)."""

    DECISION = "decision"
    NALOXONE = "naloxone"
    OUD_TREATMENT = "oud-treatment"


@dataclass(frozen=True)
class Due:
    """One due item: what it asks for, and its words as the page and the note show them."""

    kind: DueKind
    text: str


# What the decision step still asks with no opioid therapy today: treatment for opioid use disorder stands apart
# from opioids; naloxone too, when a signed opioid prescription starts within days.
KEPT_WITHOUT_THERAPY = frozenset({DueKind.OUD_TREATMENT})
KEPT_BEFORE_START = frozenset({DueKind.NALOXONE, DueKind.OUD_TREATMENT})


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    status: str
    summary: str
    evidence: tuple[Evidence, ...]
    due: tuple[str, ...]
    action: str
    sections: tuple[str, ...] = ()
    tasks: tuple[Task, ...] = ()
    not_applicable: str | None = None

    @property
    def anchor(self) -> str:
        return f"step-{self.key}"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class Steps:
    steps: tuple[Step, ...]
    not_applicable: str | None  # the whole-page reason when a general exclusion applies
    screens: Screens
    goals: Goals
    decision: Decision | None

    def step(self, key: str) -> Step:
        return next(s for s in self.steps if s.key == key)


def worst(states: list[str]) -> str:
    present = [s for s in states if s in STATUS_ORDER]
    return min(present, key=STATUS_ORDER.index) if present else "done"


def _task_status(task: Task | None) -> str:
    """A status-strip task as a step status ("never" on therapy is due now, not a separate red state)."""
    if task is None:
        return "unknown"
    return {
        "not-read": "not-read",
        "done": "done",
        "due-soon": "due-soon",
        "ordered": "ordered",  # ordered and pending: nothing is asked of the clinician, nor is it done
        "overdue": "overdue",
        "never": "due",
        "due-before-start": "due",
        "not-applicable": "not-applicable",
    }.get(task.state, "unknown")


def exclusion_reason(exclusions: tuple[ExclusionFinding, ...]) -> str | None:
    """ "Not applicable: receiving hospice or palliative care — …" for the most telling exclusion, or None."""
    if not exclusions:
        return None
    ranked = sorted(exclusions, key=lambda e: list(EXCLUSION_WORDS).index(e.name) if e.name in EXCLUSION_WORDS else 9)
    words = EXCLUSION_WORDS.get(ranked[0].name, ranked[0].label.lower())
    return f"Not applicable: {words} — the guideline's checks do not apply."


def not_applicable_tasks(tasks: tuple[Task, ...], reason: str) -> tuple[Task, ...]:
    """The status strip for an excluded patient: nothing is due, and each tile says why."""
    return tuple(replace(t, state="not-applicable", next_due=None, detail=reason, unread="") for t in tasks)


MEDICATION_QUERIES = ("orders", "medications", "dispenses", "claims")


def _failed_medication_queries(sections: Mapping[str, Section]) -> list[str]:
    """The labels of the failed searches that show whether the patient takes opioids now (orders, fills)."""
    failed = {q.key: q.label for s in sections.values() for q in s.queried if q.key in MEDICATION_QUERIES and not q.ok}
    return [failed[k] for k in MEDICATION_QUERIES if k in failed]


def _content(sections: Mapping[str, Section], key: str) -> Any:
    section = sections.get(key)
    return section.content if section is not None else None


def _tasks_by_key(sections: Mapping[str, Section]) -> dict[str, Task]:
    return {t.key: t for t in (_content(sections, "tasks") or ())}


def _task_evidence(task: Task | None, label: str) -> Evidence:
    if task is None:
        return Evidence(label, None, "could not be checked")
    if task.state == "not-read":  # what was found is shown, with why its status is not known
        detail = f"status not known: {task.unread}" if task.last_done else f"not known: {task.unread}"
        return Evidence(label, task.last_done, detail, task.unread, task.last_written)
    if task.state == "ordered":
        return Evidence(label, task.last_done, task.pending, written=task.last_written)
    return Evidence(label, task.last_done, "" if task.last_done else task.none_found, written=task.last_written)


def _naloxone_evidence(task: Task | None) -> Evidence:
    """The naloxone tile as evidence; naloxone older than the cards' window is said to be so, since its day alone
    would read as naloxone on hand."""
    if task is not None and task.state == "overdue":
        return Evidence("Naloxone", task.last_done, "outside the window the cards count as on hand")
    return _task_evidence(task, "Naloxone")


# -- 1. Assessment ---------------------------------------------------------------------------------------------


def _assess(
    facts: Facts, sections: Mapping[str, Section], screens: Screens, therapy: bool, statuses: Mapping[str, QueryStatus]
) -> Step:
    tasks = _tasks_by_key(sections)
    scores = _content(sections, "scores")
    risks = _content(sections, "risks")
    evidence: list[Evidence] = []
    due: list[str] = []
    states = [_task_status(tasks.get("pdmp")), _task_status(tasks.get("uds"))]
    # A score is only "none in the last 2 years" (and due) when a search that would hold it was read; the words name
    # the window of the searches made, as the tiles do.
    scores_unread = unread("scores", statuses)
    no_peg = no_screen = none_found("scores", statuses, CHART_WINDOW)
    if scores is None:
        evidence.append(Evidence("PEG (pain, enjoyment, general activity)", None, "could not be read"))
        states.append("unknown")
    elif scores.latest_peg is None and scores_unread:
        evidence.append(unknown_evidence("PEG (pain, enjoyment, general activity)", scores_unread))
        states.append("not-read")
    elif scores.latest_peg is not None:
        trend = f"; {scores.peg_change}" if scores.peg_change else ""
        evidence.append(Evidence(f"PEG {scores.latest_peg.value} of 10", scores.latest_peg.day, trend.lstrip("; ")))
        peg_due = months_after(scores.latest_peg.day, PEG_EVERY_MONTHS)
        if therapy and peg_due < facts.today:
            due.append(f"A PEG score (last {scores.latest_peg.day.isoformat()}; at least every 3 months).")
            states.append("due")
    else:
        evidence.append(Evidence("PEG (pain, enjoyment, general activity)", None, no_peg))
        if therapy:
            due.append(f"A PEG score: {no_peg}.")
            states.append("due")
    for instrument in ("PHQ-9 (depression)", "GAD-7 (anxiety)"):
        result = screens.latest(instrument)
        beyond = screens.unread_of(instrument)
        if beyond:  # a total the screen cannot give is named, never shown as a band nor left out unseen
            evidence.append(Evidence(instrument, None, "not read, beyond its scale: " + "; ".join(beyond)))
        if result is None and scores_unread:
            evidence.append(unknown_evidence(instrument, scores_unread))
            states.append("not-read")
        elif result is None:
            evidence.append(Evidence(instrument, None, no_screen))
            if therapy:
                due.append(f"A {instrument.split(' ')[0]} screen: {no_screen}.")
                states.append("due")
        else:
            note = f"{result.band}{'; follow up' if result.needs_follow_up else ''}"
            evidence.append(Evidence(f"{instrument.split(' ')[0]} {result.score}", result.day, note))
            if therapy and months_after(result.day, SCREEN_EVERY_MONTHS) < facts.today:
                due.append(f"A {instrument.split(' ')[0]} screen (last {result.day.isoformat()}; yearly).")
                states.append("due")
    evidence.append(_task_evidence(tasks.get("pdmp"), facts.config["pdmp"]["label"] + " review"))
    evidence.append(_task_evidence(tasks.get("uds"), "Urine drug test"))
    if risks is not None:
        evidence.append(_risk_evidence(risks, unread("risks", statuses)))
    for key, words in (("pdmp", "PDMP/CPMRS review"), ("uds", "Urine drug test")):
        task = tasks.get(key)
        if task is not None and _task_status(task) in ("due", "overdue", "due-soon"):
            when = f"by {task.next_due.isoformat()}" if task.next_due else "now"
            due.append(f"{words} {when}.")
    if not therapy:
        return Step(
            "assess",
            STEP_TITLES["assess"],
            "not-applicable",
            "No opioid therapy now or planned: the assessment below is for information.",
            tuple(evidence),
            (),
            "Assess pain, function, mental health and overdose risk before starting opioids.",
            STEP_SECTIONS["assess"],
        )
    return Step(
        "assess",
        STEP_TITLES["assess"],
        worst(states),
        "Pain and function, mental health, overdose risk, the PDMP and urine drug tests.",
        tuple(evidence),
        tuple(due),
        "Record a PEG score, review the CPMRS and order a urine drug test when due.",
        STEP_SECTIONS["assess"],
        tuple(t for k in ("pdmp", "uds") if (t := tasks.get(k)) is not None),
    )


def _risk_evidence(risks: Risks, words: str) -> Evidence:
    """The risk factors found; with a search they rest on not read, those not found are not known to be absent."""
    labels = ", ".join(r.label for r in risks.present)
    if not words:
        return Evidence("Overdose risk factors", None, labels or "none found in the data read")
    if not labels:
        return unknown_evidence("Overdose risk factors", words)
    return Evidence("Overdose risk factors", None, f"{labels}; others not known: {words}", words)


# -- 2. Informed consent and 3. treatment agreement ------------------------------------------------------------


def _document_step(
    key: str,
    task: Task | None,
    therapy: bool,
    records: list[tuple[date | None, str]] | None = None,
) -> Step:
    label = "Informed consent" if key == "consent" else "Treatment agreement"
    action = (
        "Discuss the benefits, risks and alternatives of opioid therapy and record the patient's informed consent."
        if key == "consent"
        else "Review the treatment agreement with the patient and record it, signed and dated."
    )
    listed = sorted(records or (), key=lambda r: r[0] or date.min, reverse=True)
    evidence = tuple(Evidence(f"{label}: {named}", day) for day, named in listed) or (_task_evidence(task, label),)
    if task is not None and not listed and task.last_done is not None and task.state != "not-read":
        evidence = (Evidence(label, task.last_done, task.detail),)  # carried by the agreement: say where
    if task is not None and listed and task.state == "not-read":  # what was found, and that a newer one may exist
        evidence = (*evidence, Evidence(label, None, f"status not known: {task.unread}", task.unread))
    if task is None:
        return Step(key, STEP_TITLES[key], "unknown", f"{label} could not be checked.", evidence, (), action)
    status = _task_status(task)
    if status == "not-applicable" or not therapy and task.last_done is None:
        why = NOT_LONGER_TERM if therapy else "Not needed now: no opioid therapy now or planned."
        return Step(
            key,
            STEP_TITLES[key],
            "not-applicable",
            f"{why} {label} comes before longer-term opioids.",
            evidence,
            (),
            action,
            tasks=(task,),
        )
    due: tuple[str, ...] = ()
    if status == "overdue" and task.next_due:
        due = (f"{label}: renewal overdue since {task.next_due.isoformat()}.",)
    elif status == "due":
        due = (f"{label}: {task.none_found} for a patient on opioid therapy.",)
    elif status == "due-soon" and task.next_due:
        due = (f"{label} renewal by {task.next_due.isoformat()} (yearly).",)
    if status == "not-read":
        summary = f"Not known: {task.unread}." + (
            f" The last found is from {task.last_text}." if task.last_done else ""
        )
    elif task.last_done:
        summary = f"{label} on record {task.last_text}."
    else:
        summary = _none_summary(label, task)
    return Step(key, STEP_TITLES[key], status, summary, evidence, due, action, tasks=(task,))


def _none_summary(label: str, task: Task) -> str:
    """ "No treatment agreement on record.", or "... in the last 2 years." where the documents searched look back
    only so far (an older one may be on record): where the tile says it looked (`Task.looked`), as its evidence and
    due line say it, never worked out again from the searches."""
    return f"No {label.lower()} {task.looked}."


# -- 4. Initiate treatment -------------------------------------------------------------------------------------


def _initiate(
    sections: Mapping[str, Section], goals: Goals, therapy: bool, statuses: Mapping[str, QueryStatus]
) -> Step:
    nonopioid = _content(sections, "nonopioid")
    evidence = [Evidence(f"Goal ({g.kind}): {g.description}", g.start, "; ".join(g.targets)) for g in goals.rows]
    goals_unread = unread("goals", statuses)
    if goals_unread:  # a goal missing from what was read may be in what was not: not known, and not asked for
        evidence.append(unknown_evidence("Goals for pain and function", goals_unread, found=bool(goals.rows)))
    elif not goals.rows:
        evidence.append(Evidence("Goals for pain and function", None, "none on record"))
    due: list[str] = []
    states: list[str] = []
    if therapy and not goals.pain:
        due.append("A goal for pain (for example a PEG or pain score to reach).")
    if therapy and not goals.function:
        due.append("A goal for function (an activity the patient wants to get back to).")
    if due and goals_unread:
        due = []
        states.append("not-read")
    elif due:
        states.append("due")
    if nonopioid is None:
        states.append("unknown")
        evidence.append(Evidence("Non-opioid therapies", None, "could not be read"))
    else:
        tried = [t for t in (*nonopioid.services, *nonopioid.medicines) if t.has]
        for therapy_tried in tried:
            evidence.append(Evidence(therapy_tried.label, None, ", ".join(therapy_tried.evidence)))
        tried_unread = unread("nonopioid", statuses)
        if tried_unread:
            evidence.append(unknown_evidence("Non-opioid therapies", tried_unread, found=bool(tried)))
        offer = [t.label for t in nonopioid.services if t.covered and not t.has]
        if offer and tried_unread:  # "not yet tried" would rest on the search not read
            due.append(
                f"Offer covered non-opioid services not found in the data read ({tried_unread}): {', '.join(offer)}."
            )
        elif offer:
            due.append("Offer covered non-opioid services not yet tried: " + ", ".join(offer) + ".")
    action = "Set goals for pain and function with the patient, and offer non-opioid therapies first."
    if not therapy:
        return Step(
            "initiate",
            STEP_TITLES["initiate"],
            "not-applicable",
            "No opioid therapy now or planned: non-opioid therapies are the first choice.",
            tuple(evidence),
            (),
            action,
            STEP_SECTIONS["initiate"],
        )
    return Step(
        "initiate",
        STEP_TITLES["initiate"],
        worst(states),
        "Goals for pain and function, and non-opioid therapies first (Rec 1 and 2).",
        tuple(evidence),
        tuple(due),
        action,
        STEP_SECTIONS["initiate"],
    )


# -- 5. Reassessment -------------------------------------------------------------------------------------------


def _reassess(
    sections: Mapping[str, Section], goals: Goals, therapy: bool, statuses: Mapping[str, QueryStatus]
) -> Step:
    task = _tasks_by_key(sections).get("reassessment")
    scores = _content(sections, "scores")
    evidence = [_task_evidence(task, "Benefit and harm reassessment")]
    if scores is not None and scores.peg_change:
        evidence.append(
            Evidence("Progress in PEG", scores.latest_peg.day if scores.latest_peg else None, scores.peg_change)
        )
    for goal in goals.rows:
        evidence.append(
            Evidence(
                f"Goal: {goal.description}", goal.start, goal.achievement or f"{goal.status}, progress not recorded"
            )
        )
    goals_unread = unread("goals", statuses)
    if goals_unread:
        evidence.append(unknown_evidence("Progress against goals", goals_unread, found=bool(goals.rows)))
    action = "Review benefits and harms with the patient, and progress against the goals for pain and function."
    if task is None:
        return Step(
            "reassess", STEP_TITLES["reassess"], "unknown", "Could not be checked.", tuple(evidence), (), action
        )
    status = _task_status(task)
    if not therapy and task.last_done is None or status == "not-applicable":
        return Step(
            "reassess",
            STEP_TITLES["reassess"],
            "not-applicable",
            NOT_LONGER_TERM if therapy else "Not needed now: no opioid therapy now or planned.",
            tuple(evidence),
            (),
            action,
            tasks=(task,),
        )
    due = (task.detail,) if status in ("due", "overdue", "due-soon") else ()
    summary = "1–4 weeks after starting or increasing opioids, then at least every 3 months (Rec 7)."
    return Step("reassess", STEP_TITLES["reassess"], status, summary, tuple(evidence), due, action, tasks=(task,))


# -- 6. Clinical decision making -------------------------------------------------------------------------------


# Beside a plan or decision with no date: shown without a day, it read as the plan in force.
NO_PLAN_DATE = "no date on record, so it was not taken for a current plan; check when it was made"


def _plan_ahead_detail(day: date) -> str:
    """Beside a plan dated only after today: not yet in force, or its date is wrong."""
    return f"dated after today ({iso_day(day)}), so it was not taken for a current plan; check its date"


def _care_plan_evidence(current: CurrentPlan, decision: Decision | None) -> list[Evidence]:
    """The pain treatment plans on record beside the decision, each taken or not by the rule the `treatment-plan` card
    counts them by: the current plan, then each with no date, dated only after today or not in force, named and never
    taken for it. The decision's own plan is not listed twice."""
    own = decision.plan if decision is not None else None
    evidence: list[Evidence] = []
    if current.plan is not None and current.plan is not own:
        evidence.append(Evidence(f"Care plan on record: {current.plan.title or 'untitled'}", current.day, ""))
    evidence.extend(
        Evidence(f"Care plan on record: {plan.title or 'untitled'}", None, NO_PLAN_DATE)
        for plan in current.undated
        if plan is not own
    )
    evidence.extend(
        Evidence(f"Care plan on record: {plan.title or 'untitled'}", None, _plan_ahead_detail(day))
        for plan, day in current.ahead
        if plan is not own
    )
    evidence.extend(
        Evidence(f"Care plan on record: {plan.title or 'untitled'}", day, _not_in_force_detail(plan))
        for plan, day in current.not_in_force
    )
    return evidence


def _not_in_force_detail(plan: CarePlan) -> str:
    """Beside a plan not in force (a draft, on hold, no status): shown, as a clinician would look for it, but never
    taken for the current plan, as the `treatment-plan` card does not count it."""
    if plan.status is None:
        return "no status recorded, so it was not taken for a current plan; check whether it is in force"
    words = status_words(plan)
    if words == "draft":
        return "a draft, not in force, so it was not taken for a current plan; if it is the plan, finish and sign it"
    return f"{words}, not in force, so it was not taken for a current plan; check its status"


def _decision_detail(decision: Decision) -> str:
    """The decision's reasons, and that it has no date when it has none."""
    if decision.day is not None:
        return decision.reasons or ""
    return "; ".join(part for part in (decision.reasons, NO_PLAN_DATE) if part)


def _decide(
    facts: Facts,
    sections: Mapping[str, Section],
    decision: Decision | None,
    therapy: bool,
    statuses: Mapping[str, QueryStatus],
) -> Step:
    tasks = _tasks_by_key(sections)
    oud = _content(sections, "oud")
    evidence: list[Evidence] = []
    due: list[Due] = []
    states: list[str] = []
    plans_unread = unread("decision", statuses)
    current = plans_on_record(facts)
    if decision is None and plans_unread:
        evidence.append(unknown_evidence("Decision (continue, adjust, taper or stop)", plans_unread))
    elif decision is not None:
        evidence.append(Evidence(f"Decision: {decision.label}", decision.day, _decision_detail(decision)))
        evidence.extend(Evidence(f"Plan: {a}") for a in decision.activities)
        evidence.extend(Evidence(f"Note: {n}") for n in decision.notes)
    else:
        evidence.append(Evidence("Decision (continue, adjust, taper or stop)", None, "none recorded with PainPlan"))
    evidence.extend(_care_plan_evidence(current, decision))
    # The later of the decision and the current plan: a plan the EHR revised after an old decision is current for the
    # card, and was not for the page when it looked at the decision alone.
    latest_plan = max((d for d in (decision.day if decision else None, current.day) if d is not None), default=None)
    reassessed = tasks.get("reassessment")
    # The `treatment-plan` card's window: the page's own 92 days called a plan current that the card did not count.
    stale = latest_plan is None or latest_plan < facts.today - timedelta(days=plan_window_days(facts.config))
    if therapy and (
        stale
        or (reassessed and reassessed.last_done and decision and decision.day and decision.day < reassessed.last_done)
    ):
        if plans_unread:  # a newer decision may be in the care plans not read
            states.append("not-read")
        else:
            due.append(Due(DueKind.DECISION, RECORD_DECISION))
            states.append("due")
    naloxone = tasks.get("naloxone")
    evidence.append(_naloxone_evidence(naloxone))
    # The tile's rule, not the step's own: an opioid signed to start within days is followed too (it read "not
    # applicable" beside a tile saying "due").
    offers_naloxone = naloxone_followed(facts)
    if naloxone is None:  # the status strip could not be built: naloxone was not checked
        states.append("unknown")
    elif offers_naloxone and naloxone.state in ("never", "overdue"):  # none on hand as the cards count it
        due.append(Due(DueKind.NALOXONE, OFFER_NALOXONE))
        states.append(_task_status(naloxone))
    elif offers_naloxone and naloxone.state == "not-read":
        states.append("not-read")
    if oud is None:
        evidence.append(Evidence("Opioid use disorder", None, "could not be checked"))
        states.append("unknown")
    else:
        _oud_evidence(oud, statuses, evidence, due, states)
    action = "Decide with the patient to continue, adjust, taper or stop; give the reasons and the follow-up plan."
    starts = first_planned_start(facts) if not therapy and offers_naloxone else None
    if not therapy and starts is None:
        kept = tuple(d.text for d in due if d.kind in KEPT_WITHOUT_THERAPY)
        # "Not applicable" beside an offer of treatment read as nothing to do: the offer stands alone
        return Step(
            "decide",
            STEP_TITLES["decide"],
            "due" if kept else "not-applicable",
            f"No opioid therapy now or planned; {OUD_WITHOUT_THERAPY}" if kept else "No opioid therapy now or planned.",
            tuple(evidence),
            kept,
            OFFER_OUD_TREATMENT if kept else action,
            STEP_SECTIONS["decide"],
        )
    summary = "Continue, adjust, taper or stop, with the reasons and the plan for follow-up (Rec 5 and 7)."
    if starts is not None:  # no opioid today, one signed to start within days: naloxone before it starts
        summary = (
            f"No opioid therapy now; a signed opioid prescription starts on {starts.isoformat()}: naloxone comes"
            " before it starts (Rec 8)."
        )
        due = [d for d in due if d.kind in KEPT_BEFORE_START]
    return Step(
        "decide",
        STEP_TITLES["decide"],
        worst(states),
        summary,
        tuple(evidence),
        tuple(d.text for d in due),
        action,
        STEP_SECTIONS["decide"],
        tuple(t for t in (naloxone,) if t is not None),
    )


def _oud_evidence(
    oud: OudBlock, statuses: Mapping[str, QueryStatus], evidence: list[Evidence], due: list[Due], states: list[str]
) -> None:
    """Opioid use disorder and its treatment: named when found; not known when the search that holds it was not
    read; treatment asked for only when the searches that would show it were read."""
    if oud.diagnoses or oud.assessment.severity != "none":
        found = "; ".join(oud.diagnoses) or oud.assessment.label
        evidence.append(Evidence("Opioid use disorder", None, found))
        treatment_unread = unread("oud_treatment", statuses)
        if oud.treatment:
            evidence.append(Evidence("Medication treatment", None, "; ".join(oud.treatment)))
        elif treatment_unread:
            evidence.append(unknown_evidence("Medication treatment", treatment_unread))
            states.append("not-read")
        else:
            due.append(Due(DueKind.OUD_TREATMENT, OUD_TREATMENT_DUE))
            states.append("due")
    elif diagnoses_unread := unread("oud", statuses):
        evidence.append(unknown_evidence("Opioid use disorder", diagnoses_unread))
        states.append("not-read")


def _statuses_of(sections: Mapping[str, Section]) -> dict[str, QueryStatus]:
    """What each search returned, as the sections were told it (when the caller gave no statuses of its own)."""
    return {q.key: q for s in sections.values() for q in s.queried}


def build_steps(
    facts: Facts, sections: Mapping[str, Section], statuses: Mapping[str, QueryStatus] | None = None
) -> Steps:
    """Each step from the sections already built and what each search returned (`statuses`: evidence a search not
    read might hold is "not known", never due); a general exclusion makes every step "not applicable"."""
    statuses = _statuses_of(sections) if statuses is None else statuses
    therapy = on_opioid_therapy(facts)
    screens = build_screens(facts)
    goals = build_goals(facts)
    decision = last_decision(facts)
    tasks = _tasks_by_key(sections)
    agreements, consents = signed_documents(facts)
    steps = [
        _assess(facts, sections, screens, therapy, statuses),
        _document_step("consent", tasks.get("consent"), therapy, consents),
        _document_step("agreement", tasks.get("agreement"), therapy, agreements),
        _initiate(sections, goals, therapy, statuses),
        _reassess(sections, goals, therapy, statuses),
        _decide(facts, sections, decision, therapy, statuses),
    ]
    reason = exclusion_reason(facts.exclusions)
    if reason:
        steps = [replace(s, status="not-applicable", summary=reason, due=(), not_applicable=reason) for s in steps]
    elif not therapy and (failed := _failed_medication_queries(sections)):
        # "No opioid therapy" rests on the medication searches: when one failed, the step could not be checked.
        summary = f"Could not be checked: the search for {', '.join(failed)} failed, so current opioids are unknown."
        steps = [replace(s, status="unknown", summary=summary) if s.status == "not-applicable" else s for s in steps]
    return Steps(tuple(steps), reason, screens, goals, decision)
