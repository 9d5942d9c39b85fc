"""Overdose risk factors (guideline Rec 8): each shown with its evidence, or listed as not found; those the naloxone
card counts are read as the card reads them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from guideline.checks.naloxone import current_sedatives, oud_treatment_evidence, unprescribed_fentanyl_or_heroin
from guideline.plan.model import QueryStatus
from guideline.plan.reading import concept_name, one_decimal, patient_age, words_of
from guideline.plan.reads import MEDICINES, UDS_RESULTS, unread_of
from guideline.record import Condition
from guideline.terminology import BENZO, OPIOID_POISONING, OUD, SLEEP_BREATHING, SUD_HISTORY
from guideline.timeutil import local_date

if TYPE_CHECKING:
    from guideline.facts import Facts

OLDER_AGE = 65
EVIDENCE_SHOWN = 4
MENTAL_HEALTH_ICD = (
    "F20",
    "F21",
    "F22",
    "F23",
    "F24",
    "F25",
    "F28",
    "F29",
    "F31",
    "F32",
    "F33",
    "F34",
    "F40",
    "F41",
    "F43.1",
    "F431",
    "F60",
)
MENTAL_HEALTH_WORDS = (
    "depress",
    "anxiety",
    "bipolar",
    "post-traumatic",
    "ptsd",
    "schizo",
    "panic disorder",
    "personality disorder",
)


@dataclass(frozen=True)
class Risk:
    label: str
    evidence: str
    source: str
    # Whether the naloxone card counts it (R1-R6). CDC also names older age and mental health conditions; the page
    # lists them for the clinician, marked, so that a quiet naloxone card beside them does not read as disagreement.
    card_counts: bool = True


@dataclass(frozen=True)
class Risks:
    present: tuple[Risk, ...]
    absent: tuple[str, ...]
    # Not found, but a search that could hold it was not read in full: (label, "Laboratory results … could not be
    # read"). Never listed as not found: "Not found: fentanyl … in a urine drug test" beside a failed lab search.
    unknown: tuple[tuple[str, str], ...] = ()


SUD_LABEL = "Substance use disorder or OUD"
UDS_LABEL = "Fentanyl, heroin or another illicit opioid in a urine drug test, not prescribed"
# The searches that could hold each risk factor (guideline.plan.reads names them).
RISK_READS: dict[str, tuple[str, ...]] = {
    "Higher opioid dose": MEDICINES,
    "Benzodiazepine": MEDICINES,
    "Other CNS depressant": MEDICINES,
    SUD_LABEL: ("conditions", *MEDICINES, "administrations"),  # MEDICINES holds the payer's claims too
    # A payer's claims bill diagnoses of any date: one read "any status" may be known only from them.
    "Opioid overdose history": ("conditions", "claims"),
    UDS_LABEL: UDS_RESULTS,
    "Sleep-disordered breathing": ("conditions",),
    "Mental health condition": ("conditions",),
    "Age 65 or older": ("patient",),
}


def _is_mental_health(condition: Condition) -> bool:
    icd = [
        c.code.upper()
        for c in (condition.code.codings if condition.code else ())
        if c.code and c.system and "icd-10" in c.system
    ]
    if any(code.startswith(MENTAL_HEALTH_ICD) for code in icd):
        return True
    return any(word in words_of(condition.code) for word in MENTAL_HEALTH_WORDS)


def _condition_evidence(conditions: Sequence[Condition]) -> str | None:
    """The first few conditions with status and date; None when there are none (the risk is absent)."""
    if not conditions:
        return None
    described = []
    for condition in conditions[:EVIDENCE_SHOWN]:
        day = local_date(condition.recorded_date or condition.onset)
        status = condition.clinical_status or "status not recorded"
        described.append(
            f"{concept_name(condition.code, 'a coded condition')} ({status}{', ' + day.isoformat() if day else ''})"
        )
    more = f" and {len(conditions) - EVIDENCE_SHOWN} more" if len(conditions) > EVIDENCE_SHOWN else ""
    return "; ".join(described) + more


def _names(facts: Facts, orders: Sequence) -> str | None:
    return ", ".join(dict.fromkeys(facts.name(o) for o in orders)) or None


def _not_read(label: str, statuses: Mapping[str, QueryStatus]) -> str:
    """The searches that could hold the risk factor and were not read in full, in words; "" when all were."""
    return unread_of(RISK_READS[label], statuses)


def build_risks(facts: Facts, statuses: Mapping[str, QueryStatus] | None = None) -> Risks:
    """Each risk factor with its evidence; one not found is "not found" only when every search that could hold it was
    read in full (`statuses`: what each search returned), else not known."""
    present: list[Risk] = []
    absent: list[str] = []
    unknown: list[tuple[str, str]] = []

    def add(label: str, evidence: str | None, source: str, card_counts: bool = True) -> None:
        words = _not_read(label, statuses or {})
        if evidence:
            present.append(Risk(label, evidence, source, card_counts))
        elif words:
            unknown.append((label, words))
        else:
            absent.append(label)

    summary = facts.mme
    threshold = Decimal(str(facts.config["checks"]["naloxone"]["mme_threshold"]))
    higher_dose = summary.state != "none" and summary.total >= threshold
    add(
        "Higher opioid dose",
        f"total {one_decimal(summary.total)} MME/day" if higher_dose else None,
        "current opioid orders",
    )
    # The naloxone card's own readings (R2, R6), so that the page never says "not found" beside a card naming one.
    sedatives = current_sedatives(facts)
    benzos = [o for o in sedatives if facts.is_in(BENZO, o)]
    others = [o for o in sedatives if not facts.is_in(BENZO, o)]
    add("Benzodiazepine", _names(facts, benzos), "current medication orders and pharmacy fills")
    add("Other CNS depressant", _names(facts, others), "current medication orders and pharmacy fills")
    sud = tuple(dict.fromkeys((*facts.conditions_in(OUD), *facts.conditions_in(SUD_HISTORY))))
    # As the naloxone card reads it: current treatment for opioid use disorder is evidence of the disorder too.
    disorder = "; ".join(filter(None, (_condition_evidence(sud), *oud_treatment_evidence(facts)))) or None
    add(SUD_LABEL, disorder, "conditions, any status; current OUD medication")
    add("Opioid overdose history", _condition_evidence(facts.conditions_in(OPIOID_POISONING)), "conditions, any status")
    add(
        UDS_LABEL,
        "; ".join(unprescribed_fentanyl_or_heroin(facts)) or None,
        "urine drug tests, last 12 months",
    )
    apnea = facts.conditions_in(SLEEP_BREATHING, active_only=True)
    add("Sleep-disordered breathing", _condition_evidence(apnea), "active conditions")
    mental = tuple(c for c in facts.active_conditions if _is_mental_health(c))
    add("Mental health condition", _condition_evidence(mental), "active conditions", card_counts=False)
    age = patient_age(facts)
    if age is None:
        present.append(Risk("Age unknown", "no birth date on record", "patient", card_counts=False))
    else:
        add("Age 65 or older", f"{age} years" if age >= OLDER_AGE else None, "patient birth date", card_counts=False)
    return Risks(tuple(present), tuple(absent), tuple(unknown))
