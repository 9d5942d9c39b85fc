"""A taper in doses: each step of an MME schedule as whole tablets of each medicine, with the strength it needs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from guideline.dosage import to_one_place
from guideline.taper import TaperPlan

ONE = Decimal("1")
MAX_UNITS_PER_DAY = 6  # a finer strength is offered only if today's dose takes at most this many units a day
MAX_SCHEDULED_UNITS_PER_DAY = 100  # beyond this an order's dose is a data error to check, not a regimen to taper

# What belongs to every taper (HHS 2019 tapering guide; CDC 2022 Rec 5): said once with the schedule.
TAPER_PROMPTS: tuple[str, ...] = (
    "Agree on the pace with the patient; at each step ask about withdrawal, pain, sleep and mood, and slow down "
    "or pause when needed. Never stop abruptly.",
    "Screen for depression and anxiety (PHQ-9, GAD-7) before starting and during the taper, ask about thoughts of "
    "self-harm, and offer behavioural health support.",
    "Screen for opioid use disorder (DSM-5 criteria). If criteria are met, offer treatment with buprenorphine or "
    "methadone instead of continuing the taper.",
    "Offer naloxone and explain why: tolerance falls as the dose falls, so going back to an earlier dose can cause "
    "an overdose.",
    "Check the PDMP (CPMRS) and book a follow-up visit or call for each step.",
)


@dataclass(frozen=True)
class Regimen:
    """One current opioid as taken: `units_per_day` units (tablets, capsules) of `strength_mg` each."""

    name: str
    ingredient: str
    strength_mg: Decimal
    units_per_day: Decimal
    factor: Decimal  # MME per mg of this ingredient
    unit_word: str = "tablet"
    form: str = "tablet"  # dose form in words, for "use 15 mg extended-release tablets"
    other_strengths_mg: tuple[Decimal, ...] = ()  # other strengths of the same ingredient and dose form

    @property
    def mme(self) -> Decimal:
        return self.strength_mg * self.units_per_day * self.factor


@dataclass(frozen=True)
class DrugDose:
    """One medicine at one step."""

    name: str
    ingredient: str
    strength_mg: Decimal
    units_per_day: Decimal
    unit_word: str
    daily_mg: Decimal
    mme: Decimal
    prescribed_strength_mg: Decimal | None = None  # the strength of the order being tapered
    form: str = "tablet"

    @property
    def strength_changed(self) -> bool:
        return self.prescribed_strength_mg is not None and self.strength_mg != self.prescribed_strength_mg

    @property
    def label(self) -> str:
        """The product as the patient will hold it: the order's name, or the new strength once it changed
        (never the old name with the new count: 4 of "morphine 30 mg" is not 4 of 15 mg)."""
        if self.strength_changed:
            return f"{self.ingredient.lower()} {_number(self.strength_mg)} mg {self.form}"
        return self.name

    @property
    def units_display(self) -> str:
        return _number(self.units_per_day)

    @property
    def dose_display(self) -> str:
        if self.units_per_day == 0:
            return "stop"
        return f"{_number(self.daily_mg)} mg/day"


@dataclass(frozen=True)
class DoseStep:
    """One step of the schedule: its dates, the MME the pace asked for, and the doses that come closest."""

    number: int
    start: date
    end: date
    target_mme: Decimal
    doses: tuple[DrugDose, ...]
    note: str = ""
    strength_change: str = ""

    @property
    def total_mme(self) -> Decimal:
        return sum((d.mme for d in self.doses), Decimal(0))

    @property
    def total_display(self) -> str:
        return _number(to_one_place(self.total_mme))

    @property
    def target_display(self) -> str:
        return _number(to_one_place(self.target_mme))


@dataclass(frozen=True)
class DoseSchedule:
    steps: tuple[DoseStep, ...]
    notes: tuple[str, ...]
    prompts: tuple[str, ...] = TAPER_PROMPTS


def _number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


@dataclass(frozen=True)
class _State:
    strength_mg: Decimal
    units: Decimal

    def mme(self, regimen: Regimen) -> Decimal:
        return self.strength_mg * self.units * regimen.factor


def _total(regimens: tuple[Regimen, ...], states: list[_State]) -> Decimal:
    return sum((s.mme(r) for r, s in zip(regimens, states, strict=True)), Decimal(0))


def _step_down(regimens: tuple[Regimen, ...], states: list[_State], target: Decimal) -> None:
    """Take units off one at a time while that brings the total closer to the target (never adds any back).

    Each removal is the one leaving the total nearest the target; on a tie, the medicine with the larger share
    goes first so the regimen stays balanced. Stopping (target 0) always removes everything."""
    while True:
        current = _total(regimens, states)
        best: tuple[Decimal, Decimal, int] | None = None
        for index, state in enumerate(states):
            if state.units <= 0:
                continue
            removed = min(ONE, state.units)
            after = current - state.strength_mg * removed * regimens[index].factor
            key = (abs(after - target), -state.mme(regimens[index]), index)
            if best is None or key < best:
                best = key
        if best is None:
            return
        distance, _, index = best
        if distance >= abs(current - target) and not (target == 0 and current > 0):
            return
        state = states[index]
        states[index] = replace(state, units=state.units - min(ONE, state.units))


def _finer_strengths(regimen: Regimen, state: _State) -> list[Decimal]:
    """Other strengths that make today's daily amount exactly in at most MAX_UNITS_PER_DAY units, largest first
    (so the switch itself changes nothing, and nobody is asked to take a handful of small tablets)."""
    daily = state.strength_mg * state.units
    usable = [
        s
        for s in regimen.other_strengths_mg
        if 0 < s < state.strength_mg and (daily / s) % 1 == 0 and daily / s <= MAX_UNITS_PER_DAY
    ]
    return sorted(usable, reverse=True)


def dose_schedule(plan: TaperPlan, regimens: tuple[Regimen, ...]) -> DoseSchedule:
    """The MME schedule as tablets: each step the nearest dose whole units allow, never higher than the last.

    Targets are the plan's fractions of these medicines' total MME. When whole units of the current strength
    miss a step's target by more than half a step, the medicine with the largest unit moves to the lowest
    strength of the same product that still makes today's dose exactly, and the step says so."""
    if not regimens:
        return DoseSchedule((), ("No current opioid could be expressed in tablets, so there is no dose schedule.",))
    start_total = sum((r.mme for r in regimens), Decimal(0))
    states = [_State(r.strength_mg, r.units_per_day) for r in regimens]
    steps: list[DoseStep] = []
    notes: list[str] = []
    previous_target = start_total
    for plan_step in plan.steps:
        target = start_total * plan_step.fraction
        change = ""
        if plan_step.number > 0:
            _step_down(regimens, states, target)
            half_step = (previous_target - target) / 2
            if half_step > 0 and abs(_total(regimens, states) - target) > half_step:
                change = _switch_strength(regimens, states, target, half_step)
                if change:
                    _step_down(regimens, states, target)
                    notes.append(f"Step {plan_step.number}: {change}")
                else:
                    notes.append(
                        f"Step {plan_step.number}: the available strengths cannot make "
                        f"{_number(to_one_place(target))} MME/day; a lower "
                        "strength or another formulation is needed to follow this pace."
                    )
        doses = tuple(
            DrugDose(
                r.name,
                r.ingredient,
                s.strength_mg,
                s.units,
                r.unit_word,
                s.strength_mg * s.units,
                s.mme(r),
                r.strength_mg,
                r.form,
            )
            for r, s in zip(regimens, states, strict=True)
        )
        steps.append(DoseStep(plan_step.number, plan_step.start, plan_step.end, target, doses, plan_step.note, change))
        previous_target = target
    return DoseSchedule(tuple(steps), tuple(notes))


def _switch_strength(regimens: tuple[Regimen, ...], states: list[_State], target: Decimal, half_step: Decimal) -> str:
    """Move the medicine with the coarsest unit (largest MME per unit) to a finer strength; '' when none can.

    The largest finer strength that lets this step come within half a step of its target is chosen; when none
    does, the one that comes closest (the larger on a tie)."""
    order = sorted(
        (i for i, s in enumerate(states) if s.units > 0),
        key=lambda i: -(states[i].strength_mg * regimens[i].factor),
    )
    for index in order:
        regimen, state = regimens[index], states[index]
        candidates = _finer_strengths(regimen, state)
        if not candidates:
            continue
        chosen, best = candidates[0], None
        for finer in candidates:  # largest first: a smaller strength must come strictly closer to be chosen
            trial = list(states)
            trial[index] = _State(finer, state.strength_mg * state.units / finer)
            _step_down(regimens, trial, target)
            distance = abs(_total(regimens, trial) - target)
            if best is None or distance < best:
                chosen, best = finer, distance
            if distance <= half_step:
                break
        units = state.strength_mg * state.units / chosen
        states[index] = _State(chosen, units)
        return (
            f"use {regimen.ingredient.lower()} {_number(chosen)} mg {regimen.form}s instead of "
            f"{_number(state.strength_mg)} mg ({_number(units)} a day makes the same dose) so smaller steps are "
            "possible."
        )
    return ""
