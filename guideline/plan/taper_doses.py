"""The taper section's dose schedule: today's opioid orders as tablets per day, then the schedule per drug."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from guideline.taper import TaperPlan
from guideline.taper_doses import MAX_SCHEDULED_UNITS_PER_DAY, DoseSchedule, Regimen, dose_schedule

if TYPE_CHECKING:
    from guideline.facts import Facts
    from guideline.mme import MmeSummary, OrderMme

# Dose forms counted in whole units; liquids, patches and sprays need a prescriber's own schedule.
UNIT_FORMS: dict[str, str] = {
    "Oral Tablet": "tablet",
    "Oral Capsule": "capsule",
    "Extended Release Oral Tablet": "extended-release tablet",
    "Extended Release Oral Capsule": "extended-release capsule",
    "Sublingual Tablet": "sublingual tablet",
    "Buccal Tablet": "buccal tablet",
}


@dataclass(frozen=True)
class TaperDoses:
    schedule: DoseSchedule
    regimens: tuple[Regimen, ...]
    not_scheduled: tuple[str, ...]  # orders whose doses cannot be expressed in tablets, named


def regimen_of(facts: Facts, row: OrderMme) -> Regimen | str:
    """A counted opioid order as a regimen, or the plain reason it cannot be one."""
    if row.state != "ok" or row.mme is None:
        return "its MME is not known"
    if len(row.ingredients) != 1 or not row.rxnorm_code:
        return "it has more than one opioid ingredient or no RxNorm code"
    ingredient = row.ingredients[0]
    drug_rows = facts.terms.drug_rows(row.rxnorm_code)
    if len(drug_rows) != 1 or ingredient.daily_amount is None or ingredient.factor is None:
        return "its strength is not in the drug table"
    drug = drug_rows[0]
    form = UNIT_FORMS.get(drug.dose_form)
    if form is None or drug.strength_unit != "MG" or ingredient.daily_unit != "mg":
        return f"it is a {drug.dose_form.lower()}, not a tablet or capsule"
    units = ingredient.daily_amount / drug.strength_value
    if units > MAX_SCHEDULED_UNITS_PER_DAY:
        # Steps take one unit off at a time: an order read as thousands of tablets a day is a dose to check, not a
        # schedule to work out (a period of 1e-300 hours once kept the plan page computing without end).
        return f"as ordered it is {_count(units)} {form.rsplit(' ', 1)[-1]}s a day; check the order's dose"
    return Regimen(
        name=row.display_name,
        ingredient=drug.ingredient,
        strength_mg=drug.strength_value,
        units_per_day=units,
        factor=ingredient.factor,
        unit_word=form.rsplit(" ", 1)[-1],
        form=form,
        other_strengths_mg=facts.terms.same_form_strengths(row.rxnorm_code),
    )


def build_taper_doses(facts: Facts, plan: TaperPlan | None, now: MmeSummary) -> TaperDoses | None:
    """None without an MME schedule; otherwise the per-drug schedule of the opioids the patient takes now (`now`, the
    schedule's own total: no draft, an order a draft renews included) and the orders it could not include."""
    if plan is None:
        return None
    regimens: list[Regimen] = []
    skipped: list[str] = []
    for row in now.orders:
        if row.is_draft:
            continue  # a taper starts from what the patient takes now, not from an unsigned order
        found = regimen_of(facts, row)
        if isinstance(found, Regimen):
            regimens.append(found)
        else:
            skipped.append(f"{row.display_name}: {found}")
    for fill in now.fills:
        skipped.append(f"{fill.display_name}: a pharmacy fill without an order is not scheduled")
    schedule = dose_schedule(plan, tuple(regimens))
    return TaperDoses(schedule, tuple(regimens), tuple(skipped))


def regimen_total(doses: TaperDoses) -> Decimal:
    return sum((r.mme for r in doses.regimens), Decimal(0))


def _count(units: Decimal) -> str:
    return format(units.quantize(Decimal(1)), ",f") if units < Decimal("1e15") else "more than a thousand trillion"
