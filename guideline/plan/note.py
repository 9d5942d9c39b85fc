"""The plan as plain text for the progress note (EHR note editors rarely accept images or HTML)."""

from __future__ import annotations

from guideline.plan.alerts import Alerts
from guideline.plan.banner import Banner
from guideline.plan.medications import Medications
from guideline.plan.model import PlanView
from guideline.plan.risks import Risks

# What the page could not read or count, in the order the note names it: (PlanView field, the note's heading).
NAMED_GAPS: tuple[tuple[str, str], ...] = (
    ("unidentified", "Medications PainPlan could not identify (not counted in MME or the checks)"),
    ("undated_fills", "Pharmacy fills with no date (not counted in MME or the checks)"),
    ("unknown_status", "Orders of unknown status (not counted as current)"),
    ("undated_procedures", "Procedures with no date (not counted as recent)"),
    ("future_dated", "Reviews dated after today (not counted as done)"),
    (
        "uncounted_administrations",
        "OUD medication given with no date or of unknown status (not counted as treatment)",
    ),
    ("unread_conditions", "Diagnoses recorded as text only (not read by the checks)"),
    ("unread_categories", "Orders of unknown category (checked as outpatient)"),
    (
        "unread_uds",
        "Urine drug test results not read as positive or negative, or of unknown date or status (not judged for "
        "unexpected results)",
    ),
)


def note_text(view: PlanView) -> str:
    """Patient, total dose and orders, task status, risk factors, exclusions, and what data was missing."""
    lines = [f"Pain treatment plan summary ({view.now.date().isoformat()}, PainPlan, CDC 2022 guideline)"]
    banner = view.banner.content
    if isinstance(banner, Banner):
        lines.append(f"Patient: {banner.name}, DOB {banner.birth_date or 'unknown'}, MRN {banner.mrn or 'unknown'}")
    meds = view.by_key.get("medications")
    if meds and isinstance(meds.content, Medications):
        lines.append(f"Total opioid dose: {meds.content.total}")
        lines.extend(f"- {r.name} ({r.status}): {r.mme} MME/day" for r in meds.content.opioids)
        lines.extend(f"- {r.name} ({r.status}): buprenorphine, not included in MME" for r in meds.content.buprenorphine)
    tasks = view.by_key.get("tasks")
    if tasks and tasks.content:
        lines.append("Plan status:")
        for task in tasks.content:
            last = f"last {task.last_done.isoformat()}" if task.last_done else "none on record"
            due = f", next due {task.next_due.isoformat()}" if task.next_due else ""
            lines.append(f"- {task.label}: {last}{due} ({task.state_label.lower()})")
    steps = view.by_key.get("steps")
    if steps is not None and steps.content is not None:
        if steps.content.not_applicable:
            lines.append(steps.content.not_applicable)
        lines.append("Treatment planning steps (HUSKY):")
        for step in steps.content.steps:
            due = f" Due: {' '.join(step.due)}" if step.due else ""
            lines.append(f"- {step.title}: {step.status_label}.{due}")
        if steps.content.decision is not None:
            decision = steps.content.decision
            day = decision.day.isoformat() if decision.day else "undated"
            lines.append(
                f"Last decision ({day}): {decision.label}" + (f"; {decision.reasons}" if decision.reasons else "")
            )
    risks = view.by_key.get("risks")
    if risks and isinstance(risks.content, Risks) and risks.content.present:
        lines.append("Risk factors: " + "; ".join(f"{r.label} ({r.evidence})" for r in risks.content.present))
    alerts = view.by_key.get("alerts")
    if alerts and isinstance(alerts.content, Alerts) and alerts.content.exclusions:
        lines.append("Guideline exclusions: " + "; ".join(label for label, _ in alerts.content.exclusions))
    for field, heading in NAMED_GAPS:
        named = getattr(view, field)
        if named:
            lines.append(f"{heading}: " + "; ".join(named))
    missing = [s.label for s in view.completeness if not s.ok]
    if missing:
        lines.append("Data not available when this was generated: " + ", ".join(missing))
    failed = [s.title for s in view.sections if s.error]
    if failed:
        lines.append("Sections that could not be built: " + ", ".join(failed))
    return "\n".join(lines)
