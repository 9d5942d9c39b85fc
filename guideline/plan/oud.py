"""The opioid use disorder block (Rec 12): diagnoses, current treatment, the DSM-5 checklist and options."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from guideline import oud_criteria
from guideline.checks.oud_treatment import moud_doses
from guideline.fills import fill_moment
from guideline.orders import is_taken
from guideline.plan.reading import concept_name, dated, order_status
from guideline.terminology import MOUD, NALTREXONE, OUD
from guideline.timeutil import local_date

if TYPE_CHECKING:
    from guideline.facts import Facts
    from guideline.record import Procedure

RECENT_TREATMENT_DAYS = 90
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


def build_oud(facts: Facts, checked: Iterable[str] = ()) -> OudBlock:
    """OUD diagnoses of any status; MOUD or naltrexone active or ordered in the last 90 days."""
    diagnoses = tuple(
        f"{concept_name(c.code, 'opioid use disorder')} ({c.clinical_status or 'status not recorded'}"
        f"{', recorded ' + local_date(c.recorded_date).isoformat() if c.recorded_date else ''})"
        for c in facts.conditions_in(OUD)
    )
    treatment = tuple(
        dict.fromkeys(
            [
                *(
                    f"{facts.name(o)} ({order_status(o)}{dated(o.authored_on)})"
                    for o in facts.record.orders
                    if (facts.is_in(MOUD, o) or facts.is_in(NALTREXONE, o))
                    and (o.is_draft or is_taken(o))  # a proposal nobody signed is no treatment
                    and (o.status == "active" or facts.within_days(o.authored_on, RECENT_TREATMENT_DAYS))
                ),
                *_fills_and_doses(facts),
            ]
        )
    )
    referrals = tuple(facts.config["oud"]["referral_resources"])
    return OudBlock(diagnoses, treatment, oud_criteria.CRITERIA, oud_criteria.assess(checked), OUD_OPTIONS, referrals)


def _fills_and_doses(facts: Facts) -> tuple[str, ...]:
    """MOUD filled, or given in clinic (a billing code), in the last 90 days: the treatment the card counts too, so the
    page never asks to offer treatment to a patient the card found in treatment."""
    fills = [
        f"{facts.name(d)} (filled{dated(fill_moment(d))})"
        for d in facts.record.dispenses
        if d.status == "completed"
        and (facts.is_in(MOUD, d) or facts.is_in(NALTREXONE, d))
        and facts.within_days(fill_moment(d), RECENT_TREATMENT_DAYS)
    ]
    doses = [f"{_dose_name(p)} (given{dated(_given_on(p))})" for p in moud_doses(facts, RECENT_TREATMENT_DAYS)]
    return (*fills, *doses)


def _given_on(procedure: Procedure) -> datetime | None:
    return procedure.performed or procedure.performed_end or procedure.performed_start


def _dose_name(procedure: Procedure) -> str:
    """The procedure's name, else its billing code: a claim names the dose by its code alone."""
    codes = [c.code for c in procedure.code.codings if c.code] if procedure.code else []
    fallback = f"medication for opioid use disorder (HCPCS {codes[0].strip().upper()})" if codes else "medication"
    return concept_name(procedure.code, fallback)
