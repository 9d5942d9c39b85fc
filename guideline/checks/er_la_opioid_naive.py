"""`er-la-opioid-naive` (guideline 10.6, CDC 2022 Recommendation 3): extended-release/long-acting opioid for an
opioid-naive patient."""

from __future__ import annotations

from datetime import timedelta

from guideline.cards import Card
from guideline.checks.common import (
    based_on,
    bullet_list,
    first_fitting,
    guideline_link,
    override_reasons,
    plan_link,
    present,
    remove_draft,
)
from guideline.config import CheckSettings
from guideline.facts import Facts
from guideline.terminology import ER_LA

CHECK_ID = "er-la-opioid-naive"
# The hooks this check can judge: it is about a new order, so patient-view has nothing for it to judge.
HOOKS = frozenset({"order-select", "order-sign"})
TITLE = "Extended-release opioid for an opioid-naive patient"

NAIVE_WINDOW_DAYS = 90  # guideline 5.3: [now − 90 days, now − 24 hours]


def evaluate(facts: Facts, settings: CheckSettings) -> Card | None:
    """Fires when a new order is for an ER/LA opioid (any pain duration) and the record shows no opioid
    prescription, dispense or overlapping supply in the past 90 days."""
    er_la_orders = tuple(o for o in facts.trigger_orders if facts.is_in(ER_LA, o))
    if not er_la_orders or not facts.exposure.naive:
        return None

    names = [facts.name(o) for o in er_la_orders]
    window_start = (facts.now - timedelta(days=NAIVE_WINDOW_DAYS)).date()
    window_end = (facts.now - timedelta(hours=24)).date()
    summary = _summary(names)
    detail = "\n\n".join(
        (
            _heading(names) + bullet_list(names),
            f"No opioid prescription, dispense or supply was found from {window_start} to {window_end}: "
            "the patient appears to be opioid-naive.",
            "Starting opioid therapy with an extended-release/long-acting product carries a higher risk of "
            "overdose than starting with an immediate-release opioid. Several of these products (notably "
            "fentanyl patches and some high-strength extended-release tablets) are approved only for patients "
            "who are already opioid-tolerant.",
            "**Options:** if an opioid is needed, start with an immediate-release opioid at the lowest effective "
            "dose instead. If the patient takes opioids prescribed elsewhere, check the PDMP and record it.",
            based_on(
                f"opioid and opioid use disorder medication prescriptions and dispenses in this record from "
                f"{window_start} to {window_end} ({NAIVE_WINDOW_DAYS} days), including earlier supply that "
                "lasts into that window."
            ),
        )
    )
    return Card(
        check_id=CHECK_ID,
        indicator=settings["indicator"],
        summary=summary,
        detail=detail,
        suggestions=present(remove_draft(o, name) for o, name in zip(er_la_orders, names, strict=True)),
        links=(
            guideline_link(facts.config, "rec3", "CDC 2022 Recommendation 3"),
            plan_link("history"),
        ),
        override_reasons=override_reasons(
            facts.config,
            "opioid-tolerant-elsewhere",
            "benefits-outweigh-risks",
            "excluded-condition",
            "wrong-clinician",
        ),
        view="history",
        orders=tuple(o.id for o in er_la_orders if o.id),
        facts={"naive": True, "er_la_orders": names},
    )


def _summary(names: list[str]) -> str:
    """Name the drugs when they fit in a summary; otherwise count the orders."""
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    verb = "is" if len(names) == 1 else "are"
    orders = "order" if len(names) == 1 else f"orders ({len(names)})"
    return first_fitting(
        f"{joined} {verb} extended-release/long-acting; no opioid use found in the past 90 days",
        f"New extended-release/long-acting opioid {orders}; no opioid use found in the past 90 days",
    )


def _heading(names: list[str]) -> str:
    plural = "s" if len(names) > 1 else ""
    return f"**New extended-release/long-acting opioid order{plural}:**\n"
