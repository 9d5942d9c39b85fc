"""The plan as plain text for the progress note (EHR note editors rarely accept images or HTML)."""

from __future__ import annotations

from guideline.plan.alerts import Alerts
from guideline.plan.banner import Banner
from guideline.plan.medications import Medications
from guideline.plan.model import PlanView
from guideline.plan.risks import Risk, Risks
from guideline.plan.tasks import Task


def _alert_lines(view: PlanView) -> list[str]:
    """The alerts the page shows above the steps (the chart's cards), snoozed ones and checks that did not run. A note
    pasted into the chart named the risk factors and tiles but not the findings: an unexpected fentanyl result or a
    call to offer naloxone was left out of the record of the visit."""
    alerts = view.by_key.get("alerts")
    if not alerts or not isinstance(alerts.content, Alerts):
        return []  # the section failed: "Sections that could not be built" names it
    found = alerts.content
    lines = []
    if found.cards:
        lines.append("Alerts (as on the chart's cards):")
        lines.extend(f"- {card.summary}" for card in found.cards)
        if found.incomplete:  # as the chart's data-incomplete card
            lines.append(f"- {found.incomplete_summary}")
    elif found.incomplete:  # a check with no card may have lacked the data named below: no all clear
        lines.append("Alerts: none today, but some patient data could not be read, so the checks may be incomplete.")
    else:
        lines.append("Alerts: none today.")
    if found.snoozed:
        lines.append("Alerts snoozed by a clinician:")
        lines.extend(f"- {card.summary} ({note})" for card, note in found.snoozed)
    if found.failures:
        lines.append("Checks that could not run: " + ", ".join(found.failures))
    return lines


def _risk_text(risk: Risk) -> str:
    """A risk factor with its evidence, and whether the naloxone card counts it."""
    counted = "" if risk.card_counts else "; not counted by the naloxone card"
    return f"{risk.label} ({risk.evidence}{counted})"


def _not_counted(task: Task) -> str:
    """The tests on record a tile does not count, in the tile's own words (`Task.not_counted`): "none readable on
    record" alone named no test, beside one the chart shows."""
    return f". {task.not_counted}" if task.not_counted else ""


def _named_on_a_line(view: PlanView) -> frozenset[str]:
    """The items of the named-gaps kinds that the plan status lines name already (`Task.also_named`): a result of
    unknown status the urine drug test line names ("1 result of unknown status, not counted: Fentanyl Ur Ql Scn
    (2026-03-02).") was named again among the results not judged for unexpected results."""
    tasks = view.by_key.get("tasks")
    if not tasks or not tasks.content:
        return frozenset()
    # A "not known" line names no test it does not count (`_task_line`): left off the kind's list too, such a result
    # was named nowhere in the note.
    return frozenset(item for task in tasks.content if task.state != "not-read" for item in task.also_named)


def _task_line(task: Task) -> str:
    """A status tile as the note's line: what is known of it, or "not known" and why."""
    if task.state == "not-read":  # never "none on record" of what a search not read may hold
        found = f" (last found {task.last_text})" if task.last_done else ""
        return f"- {task.label}: not known, {task.unread}{found}"
    last = f"last {task.last_text}" if task.last_done else task.none_found
    if task.carried_by:  # the date is another record's (the agreement's): say whose
        last += f" (recorded with {task.carried_by})"
    due = f", next due {task.next_due.isoformat()}" if task.next_due else ""
    # "never" reads "none on record" (or "none in the last 2 years", "none readable on record") already, due date or
    # not; said twice, the line looked like a template error.
    state = "" if task.state == "never" else f" ({task.state_label.lower()})"
    return f"- {task.label}: {last}{due}{state}{_not_counted(task)}"


def note_text(view: PlanView) -> str:
    """Patient, alerts, total dose and orders, task status, risk factors, exclusions, and what data was missing."""
    lines = [f"Pain treatment plan summary ({view.now.date().isoformat()}, PainPlan, CDC 2022 guideline)"]
    banner = view.banner.content
    if isinstance(banner, Banner):
        lines.append(f"Patient: {banner.name}, DOB {banner.birth_date or 'unknown'}, MRN {banner.mrn or 'unknown'}")
    lines.extend(_alert_lines(view))
    meds = view.by_key.get("medications")
    if meds and isinstance(meds.content, Medications):
        lines.append(f"Total opioid dose: {meds.content.total}")
        lines.extend(f"- {r.name} ({r.status}): {r.mme} MME/day" for r in meds.content.opioids)
        lines.extend(f"- {r.name} ({r.status}): {r.why or 'not counted in MME'}" for r in meds.content.not_counted)
    tasks = view.by_key.get("tasks")
    if tasks and tasks.content:
        lines.append("Plan status:")
        lines.extend(_task_line(task) for task in tasks.content)
    steps = view.by_key.get("steps")
    if steps is not None and steps.content is not None:
        if steps.content.not_applicable:
            lines.append(steps.content.not_applicable)
        lines.append("Treatment planning steps (HUSKY):")
        for step in steps.content.steps:
            due = f" Due: {' '.join(step.due)}" if step.due else ""
            unknown = "; ".join(f"{e.label} ({e.unread})" for e in step.evidence if e.unread)
            known = f" Not known: {unknown}." if unknown else ""
            lines.append(f"- {step.title}: {step.status_label}.{due}{known}")
        if steps.content.decision is not None:
            decision = steps.content.decision
            day = decision.day.isoformat() if decision.day else "undated"
            lines.append(
                f"Last decision ({day}): {decision.label}" + (f"; {decision.reasons}" if decision.reasons else "")
            )
    risks = view.by_key.get("risks")
    if risks and isinstance(risks.content, Risks) and risks.content.present:
        lines.append("Risk factors: " + "; ".join(_risk_text(r) for r in risks.content.present))
    alerts = view.by_key.get("alerts")
    if alerts and isinstance(alerts.content, Alerts) and alerts.content.exclusions:
        lines.append("Guideline exclusions: " + "; ".join(label for label, _ in alerts.content.exclusions))
    if view.unreadable:  # each with why, as the card and the page's panel name them
        lines.append("Records that could not be read (not counted): " + "; ".join(view.unreadable))
    # Each item once: a kind lists those a status line above does not name already.
    on_a_line = _named_on_a_line(view)
    for kind in view.note_kinds:
        named = [item for item in view.named[kind.key] if item not in on_a_line]
        if named:
            lines.append(f"{kind.note}: " + "; ".join(named))
    missing = [s.label for s in view.completeness if not s.ok]
    if missing:
        lines.append("Data not available when this was generated: " + ", ".join(missing))
    failed = [title for title, _ in view.not_built]  # the patient banner too
    if failed:
        lines.append("Sections that could not be built: " + ", ".join(failed))
    return "\n".join(lines)
