"""The opioid use disorder block (Rec 12): diagnoses, current treatment, the DSM-5 checklist and options."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from guideline import oud_criteria
from guideline.checks.oud_treatment import CHECK_ID as OUD_CHECK
from guideline.checks.oud_treatment import OudTreatment, moud_dose_label, treatment_in_window
from guideline.fhirdata import quantity_text
from guideline.fills import fill_moment
from guideline.plan.reading import concept_name, dated, order_status
from guideline.terminology import OUD
from guideline.timeutil import local_date

if TYPE_CHECKING:
    from guideline.facts import Facts
    from guideline.record import Administration, Procedure

OUD_OPTIONS: tuple[tuple[str, str], ...] = (
    (
        "Buprenorphine",
        "Can be started in primary care or by telehealth; no special DEA waiver has been needed "
        "since 2023. Sublingual film or tablet, or monthly injection.",
    ),
    ("Methadone", "Dispensed through a certified opioid treatment program; daily visits at first."),
    ("Extended-release naltrexone", "Monthly injection after a period without opioids (usually 7–10 days)."),
)


@dataclass(frozen=True)
class OudBlock:
    diagnoses: tuple[str, ...]
    treatment: tuple[str, ...]
    criteria: tuple[oud_criteria.Criterion, ...]
    assessment: oud_criteria.OudAssessment
    options: tuple[tuple[str, str], ...]
    referrals: tuple[Mapping[str, str], ...]
    days: int  # the window treatment is looked for in: the `oud-treatment` check's lookback_days


def build_oud(facts: Facts, checked: Iterable[str] = ()) -> OudBlock:
    """OUD diagnoses of any status; the medication treatment the `oud-treatment` card counts, in its window."""
    diagnoses = tuple(
        f"{concept_name(c.code, 'opioid use disorder')} ({c.clinical_status or 'status not recorded'}"
        f"{', recorded ' + local_date(c.recorded_date).isoformat() if c.recorded_date else ''})"
        for c in facts.conditions_in(OUD)
    )
    days = int(facts.config.check(OUD_CHECK)["lookback_days"])
    referrals = tuple(facts.config["oud"]["referral_resources"])
    treatment = _treatment(facts, treatment_in_window(facts, days))
    return OudBlock(
        diagnoses, treatment, oud_criteria.CRITERIA, oud_criteria.assess(checked), OUD_OPTIONS, referrals, days
    )


def _treatment(facts: Facts, found: OudTreatment) -> tuple[str, ...]:
    """The card's evidence, each named with its status and day: the page lists exactly what keeps the card quiet,
    so it never asks to offer treatment to a patient the card found in treatment, nor shows a cancelled order as
    treatment beside a card saying there is none."""
    orders = [f"{facts.name(o)} ({order_status(o)}{dated(o.authored_on)})" for o in found.orders]
    fills = [f"{facts.name(d)} (filled{dated(fill_moment(d))})" for d in found.fills]
    doses = [f"{_dose_name(p)} (given{dated(_given_on(p))})" for p in found.doses]
    given = [f"{facts.name(a)} (given{_amount(a)}{dated(a.when)})" for a in found.given]
    return tuple(dict.fromkeys((*orders, *fills, *doses, *given)))


def _amount(administration: Administration) -> str:
    """ " 300 mg": the dose given, as recorded; nothing when none was."""
    dose = administration.dose
    return f" {quantity_text(dose)}" if dose is not None and dose.value is not None else ""


def _given_on(procedure: Procedure) -> datetime | None:
    return procedure.performed or procedure.performed_end or procedure.performed_start


def _dose_name(procedure: Procedure) -> str:
    """The procedure's name, else its billing code: a claim names the dose by its code alone."""
    return concept_name(procedure.code, moud_dose_label(procedure.code) or "medication")
