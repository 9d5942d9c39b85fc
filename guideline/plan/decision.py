"""The last recorded treatment decision: the newest CarePlan carrying PainPlan's decision category (Rec 7)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING

from guideline.care_plans import CurrentPlan, current_pain_plan, in_force, not_in_force_days, pain_category
from guideline.timeutil import local_date

if TYPE_CHECKING:
    from guideline.config import GuidelineConfig
    from guideline.facts import Facts
    from guideline.record import CarePlan

# The category a decision CarePlan carries: {canonical_base}/CodeSystem/painplan-care-plan#opioid-treatment-decision,
# and the decision itself as a second category from {canonical_base}/CodeSystem/painplan-decision.
CARE_PLAN_SYSTEM = "/CodeSystem/painplan-care-plan"
DECISION_CATEGORY = "opioid-treatment-decision"
DECISION_SYSTEM = "/CodeSystem/painplan-decision"
DECISIONS: dict[str, str] = {
    "continue": "Continue the current plan",
    "adjust": "Adjust the dose or regimen",
    "taper": "Taper",
    "stop": "Stop opioid therapy",
}


def care_plan_category(config: GuidelineConfig) -> dict[str, str]:
    """The coding that marks a CarePlan as PainPlan's treatment decision (written by the page, read here)."""
    return {
        "system": config["canonical_base"].rstrip("/") + CARE_PLAN_SYSTEM,
        "code": DECISION_CATEGORY,
        "display": "Opioid treatment decision",
    }


def decision_system(config: GuidelineConfig) -> str:
    return config["canonical_base"].rstrip("/") + DECISION_SYSTEM


@dataclass(frozen=True)
class Decision:
    day: date | None
    decision: str | None  # a DECISIONS key, or None when the plan does not say
    label: str
    status: str
    reasons: str | None
    activities: tuple[str, ...]
    notes: tuple[str, ...]
    follow_up: date | None = None  # the follow-up visit the decision scheduled
    # The CarePlan it was read from: the Decide step lists the other pain treatment plans beside it, not this one again.
    plan: CarePlan | None = field(default=None, compare=False, repr=False)


def _decided(plan: CarePlan) -> date | None:
    """When the decision was recorded: created (or the period's start), or the last update when later, as the
    plan page updates a plan in place (keeping its created date) when a new decision revises it."""
    moments = [m for m in (plan.created or plan.period_start, plan.last_updated) if m is not None]
    return local_date(max(moments)) if moments else None


def _is_decision(plan: CarePlan, config: GuidelineConfig) -> bool:
    """Whether the CarePlan carries PainPlan's decision category, whatever its status."""
    category = care_plan_category(config)
    return any(c.has(category["system"], category["code"]) for c in plan.categories)


def plans_on_record(facts: Facts) -> CurrentPlan:
    """The pain treatment plans the Decide step lists beside the decision (`care_plans.current_pain_plan`, the
    `treatment-plan` card's rule), with the decisions not in force that carry no pain treatment plan code (LOINC
    80764-4) named among the plans not in force: neither rule read such a draft, and the step said nothing of it."""
    current = current_pain_plan(facts.record.care_plans, facts.terms, facts.today)
    drafts = not_in_force_days(
        p
        for p in facts.record.care_plans
        if not p.void and _is_decision(p, facts.config) and not pain_category(p, facts.terms)
    )
    return replace(current, not_in_force=(*current.not_in_force, *drafts)) if drafts else current


def last_decision(facts: Facts) -> Decision | None:
    """The newest decision in force: a draft (or one on hold, or with no status) is no decision made, as the
    `treatment-plan` card counts no such plan; the Decide step names it beside the care plans instead."""
    kinds = decision_system(facts.config)
    found: list[Decision] = []
    for plan in facts.record.care_plans:
        if not in_force(plan) or not _is_decision(plan, facts.config):
            continue
        chosen = next((code for c in plan.categories for code in c.codes(kinds) if code in DECISIONS), None)
        found.append(
            Decision(
                _decided(plan),
                chosen,
                DECISIONS.get(chosen or "", plan.title or "Decision recorded"),
                plan.status or "status not recorded",
                plan.description,
                plan.activities,
                plan.notes,
                plan.follow_up,
                plan,
            )
        )
    found.sort(key=lambda d: d.day or date.min)
    return found[-1] if found else None
