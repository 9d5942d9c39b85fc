"""`acute-duration` (guideline 10.7, CDC 2022 Recommendation 6): acute opioid prescription longer than needed."""

from __future__ import annotations

from decimal import Decimal

from guideline.cards import Card, Indicator
from guideline.checks.common import (
    based_on,
    bullet_list,
    first_fitting,
    guideline_link,
    override_reasons,
    prescriptions_and_dispenses,
    unread_of,
)
from guideline.config import CheckSettings
from guideline.facts import Facts
from guideline.mme import quantize6
from guideline.supply import Supply, one_place
from guideline.words import and_list

CHECK_ID = "acute-duration"
# The hooks this check can judge: it is about a new order, so patient-view has nothing for it to judge.
HOOKS = frozenset({"order-select", "order-sign"})
TITLE = "Acute opioid prescription longer than needed"

# How `guideline.supply` derived the days (4.1), in words a prescriber recognises on the order form.
SOURCE_WORDS = {
    "expected supply duration": "from the order's days' supply",
    "quantity ÷ daily dose": "estimated as quantity ÷ daily dose",
    "quantity along the dosing steps": "estimated from the quantity taken along the dosing steps",
    "timing bounds": "from the dosage duration",
}


def evaluate(facts: Facts, settings: CheckSettings) -> Card | None:
    """Fires when a new acute opioid order supplies more than 3 days (info) or more than 7 days (warning); patients
    on long-term therapy are left to `reassessment-due`, and opioid cough medicines to the risk checks."""
    info_days = Decimal(str(settings["info_days"]))
    warning_days = Decimal(str(settings["warning_days"]))
    if settings["skip_if_ltot"] and facts.exposure.ltot:
        return None
    qualifying = [
        (order, supply)
        # Its durations are acute pain's: an opioid cough medicine is no pain prescription (docs/clinical-logic.md).
        for order, supply in ((o, facts.supply(o)) for o in facts.pain_prescriptions(CHECK_ID))
        if facts.duration(order) == "acute"
        and supply.total_days is not None
        and quantize6(supply.total_days) > info_days
    ]
    if not qualifying:
        return None

    qualifying.sort(key=lambda pair: pair[1].total_days or Decimal(0), reverse=True)
    longest_order, longest = qualifying[0]
    longest_days = quantize6(longest.total_days or Decimal(0))
    indicator: Indicator = "warning" if longest_days > warning_days else "info"
    name = facts.name(longest_order)
    detail = "\n\n".join(
        (
            "**New acute opioid prescription"
            + ("s" if len(qualifying) > 1 else "")
            + ":**\n"
            + bullet_list(f"{facts.name(o)}: {_supply_text(s)}" for o, s in qualifying),
            f"Acute pain often needs opioids for {one_place(info_days)} days or less and rarely for more than "
            f"{one_place(warning_days)} days; unused opioids left at home add risk for the patient and household.",
            "**Options:** prescribe no more than the expected duration of pain severe enough to need an opioid, "
            "and re-evaluate the patient if pain continues longer than expected.",
            _basis(facts),
        )
    )
    return Card(
        check_id=CHECK_ID,
        indicator=indicator,
        summary=_summary(name, longest, len(qualifying), info_days, warning_days),
        detail=detail,
        links=(guideline_link(facts.config, "rec6", "CDC 2022 Recommendation 6"),),
        override_reasons=override_reasons(
            facts.config,
            "benefits-outweigh-risks",
            "short-term-benefit",
            "excluded-condition",
            "wrong-clinician",
        ),
        view="medications",
        orders=tuple(o.id for o, _ in qualifying if o.id),
        facts={
            "longest_days": one_place(longest_days),
            "orders": {facts.name(o): str(s.total_days) for o, s in qualifying},
        },
        level=longest_days,  # an override of this supply does not hide a longer one
    )


def _basis(facts: Facts) -> str:
    """The card's "Based on" line: the drafts, and the prescriptions and dispenses that tell a new course, as far as
    they were read (`Unread.basis`)."""
    sources = prescriptions_and_dispenses(facts)
    named, gaps = unread_of(facts, sources).basis(sources)
    return based_on(
        "today's draft outpatient opioid orders (days' supply including refills); "
        f"{and_list(named)} from the last 90 days to tell a new course from long-term therapy{gaps}."
    )


def _supply_text(supply: Supply) -> str:
    """The days' supply and how it was derived, so the prescriber can see what to change."""
    total = f"{one_place(supply.total_days or Decimal(0))} days' supply"
    source = SOURCE_WORDS.get(supply.source or "", "derived from the order")
    if supply.refills and supply.per_fill_days is not None:
        fills = supply.refills + 1
        refill_word = "refill" if supply.refills == 1 else "refills"
        return (
            f"{total} ({one_place(supply.per_fill_days)} days per fill {source}, × {fills} fills including "
            f"{supply.refills} {refill_word})"
        )
    return f"{total} ({source})"


def _summary(name: str, longest: Supply, count: int, info_days: Decimal, warning_days: Decimal) -> str:
    total = quantize6(longest.total_days or Decimal(0))
    if total > warning_days:
        advice = f"more than {one_place(warning_days)} days is rarely needed"
    else:
        advice = f"{one_place(info_days)} days or less is often enough"
    others = f" and {count - 1} more" if count > 1 else ""
    return first_fitting(
        f"{one_place(total)}-day opioid supply for acute pain ({name}{others}): {advice}",
        f"{one_place(total)}-day opioid supply for acute pain: {advice}",
    )
