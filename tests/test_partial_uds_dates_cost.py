"""A urine drug test dated to the month or the year only is judged on every day its date can mean (up to today):
the verdict for each day must be the same, else it is not judged (tests/test_partial_uds_dates.py). Judging each
of up to 365 days one by one cost a call up to 365 look-ups of the prescriptions per substance; the verdict can
change only on a day a supply (or a dose given) starts or stops explaining the result, so those days alone are
judged. These tests hold the verdicts to the day-by-day reading and the work to the days that can change it."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest
from builders import PATIENT_ID, RXNORM, card, days_ago, dispense, med_request, observation, run
from test_partial_uds_dates import epic_screen

import guideline.uds as uds
from guideline.checks import CHECKS, naloxone, unexpected_uds_result, urine_drug_test
from guideline.engine import Evaluation
from guideline.timeutil import ONE_DAY

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
FENTANYL_INJECTION = "1735003"  # 2 ML fentanyl 0.05 MG/ML Injection


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    for check in (urine_drug_test, unexpected_uds_result, naloxone):
        monkeypatch.setitem(CHECKS, check.CHECK_ID, check)


def oxycodone_fill(handed_over: str, days: int = 30) -> dict[str, Any]:
    fill = dispense(OXYCODONE, handed_over, days_supply=days)
    fill["medicationCodeableConcept"]["coding"][0]["display"] = "oxycodone hydrochloride 5 MG Oral Tablet"
    return fill


def fentanyl_given(when: str) -> dict[str, Any]:
    """A fentanyl dose given in the emergency department (R4 MedicationAdministration)."""
    return {
        "resourceType": "MedicationAdministration",
        "id": f"ma-fent-{when}",
        "status": "completed",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": FENTANYL_INJECTION, "display": "2 ML fentanyl 0.05 MG/ML Injection"}],
            "text": "fentanyl 100 mcg/2 mL injection",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": f"{when}T10:15:00-04:00",
    }


def sign(*resources: dict[str, Any]) -> Evaluation:
    draft = med_request(OXYCODONE, draft=True, id="ox-draft", supply_days=30)
    return run("order-sign", drafts=[draft], resources=list(resources))


def day_by_day(
    substance: uds.UdsSubstance,
    value: uds.Value,
    day: date | None,
    last: date | None,
    history: uds.PrescriptionHistory,
    negative_substances: frozenset[str],
) -> uds.SubstanceResult:
    """The rule as written: the result judged on each day from its first to its last, one by one."""
    judge = uds._judged_on
    first = judge(substance, value, day, history.in_effect, history.taking_on, negative_substances)
    if day is None or last is None or value not in ("positive", "negative"):
        return first
    while day < last:
        day += ONE_DAY
        judged = judge(substance, value, day, history.in_effect, history.taking_on, negative_substances)
        if judged.unexpected != first.unexpected:
            return uds.SubstanceResult.make(substance.name, first.label, value, False, None, unsettled=True)
    return first


def outcome(evaluation: Evaluation) -> tuple[object, ...]:
    """Everything the partly dated results decide: the judged results, the cards and what is named as unjudged."""
    facts = evaluation.facts
    found = card(evaluation, unexpected_uds_result.CHECK_ID)
    return (
        facts.uds_results_since(24),
        found and (found.summary, found.detail),
        unexpected_uds_result.unjudged_results(facts),
        naloxone.unprescribed_fentanyl_or_heroin(facts),
    )


SUPPLIES = (
    (),
    (oxycodone_fill("2026-05-20"),),
    (oxycodone_fill("2026-04-10"), oxycodone_fill("2026-05-09")),
    (oxycodone_fill("2025-12-20", 90), oxycodone_fill("2026-03-25", 14)),
    (oxycodone_fill("2026-01-01"), oxycodone_fill("2026-02-01"), oxycodone_fill("2026-06-14", 7)),
    (oxycodone_fill("2025-11-02", 60), fentanyl_given("2026-05-31")),
    (fentanyl_given("2026-01-03"), fentanyl_given("2026-06-10")),
    (fentanyl_given("2025-12-28"),),
)
RESULTS = (
    ("2026", "oxycodone", "Negative"),
    ("2026", "oxycodone", "Positive"),
    ("2026-05", "oxycodone", "Negative"),
    ("2026-06", "oxycodone", "Positive"),
    ("2025", "oxycodone", "Negative"),
    ("2026", "fentanyl", "Positive"),
    ("2026-06", "fentanyl", "Positive"),
    ("2026-01", "fentanyl", "Negative"),
    ("2026-01", "fentanyl", "Positive"),
)


@pytest.mark.parametrize(("supplies", "result"), list(itertools.product(SUPPLIES, RESULTS)))
def test_the_days_that_can_change_the_verdict_give_the_day_by_day_verdict(
    supplies: tuple[dict[str, Any], ...], result: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    collected, substance, value = result
    resources = (*supplies, epic_screen(collected, substance, value, "obs-partial"))
    judged = outcome(sign(*resources))
    monkeypatch.setattr(uds, "_substance_result", day_by_day)
    assert judged == outcome(sign(*resources))


def test_a_year_only_negative_asks_the_prescriptions_about_a_few_days_not_each_day(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Oxycodone supplied without a break since December: a negative dated "2026" is unexpected on every day up to
    # today (15 June, 166 days), which the fills' first and last days settle.
    asked: list[date] = []
    taking_on = uds.PrescriptionHistory.taking_on

    def counted(self: uds.PrescriptionHistory, set_name: str, result_day: date) -> uds.Prescription | None:
        asked.append(result_day)
        return taking_on(self, set_name, result_day)

    monkeypatch.setattr(uds.PrescriptionHistory, "taking_on", counted)
    fills = [oxycodone_fill("2025-12-01", 40), *(oxycodone_fill(f"2026-{month:02d}-01", 40) for month in range(1, 7))]
    evaluation = sign(*fills, epic_screen("2026", "oxycodone", "Negative", "obs-ox-2026"))
    found = card(evaluation, unexpected_uds_result.CHECK_ID)
    assert found is not None and "negative for oxycodone (2026)" in found.summary
    assert 0 < len(asked) <= 2 * len(fills) + 1


SNOMED = "http://snomed.info/sct"
NEGATIVE = (SNOMED, "260385009")
POSITIVE = (SNOMED, "10828004")
BENZODIAZEPINE_SCREEN = "14316-4"  # Benzodiazepines [Presence] in Urine by Screen method
OXYCODONE_SCREEN = "19642-8"  # oxyCODONE [Presence] in Urine by Screen method


def test_a_verdict_no_prescription_can_change_is_judged_once_not_once_per_test_day(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A monthly panel: benzodiazepines negative each time (nothing makes that unexpected), oxycodone negative while
    # it is supplied (unexpected, judged against the supply of each test's day).
    judged: list[tuple[str, str, date | None]] = []
    substance_result = uds._substance_result

    def counted(substance: uds.UdsSubstance, value: uds.Value, day: date | None, *rest: Any) -> uds.SubstanceResult:
        judged.append((substance.name, value, day))
        return substance_result(substance, value, day, *rest)

    monkeypatch.setattr(uds, "_substance_result", counted)
    days = (20, 50, 80, 110)
    fills = [oxycodone_fill(days_ago(140), 150)]
    screens = [
        observation(code, when=days_ago(ago), value_code=NEGATIVE)
        for ago in days
        for code in (BENZODIAZEPINE_SCREEN, OXYCODONE_SCREEN)
    ]
    evaluation = sign(*fills, *screens)
    results = evaluation.facts.uds_results_since(12)
    benzodiazepines = [s for r in results for s in r.substances if s.substance == "benzodiazepine"]
    oxycodone = [s for r in results for s in r.substances if s.substance == "oxycodone"]
    assert len(benzodiazepines) == len(oxycodone) == len(days)
    assert not any(s.unexpected for s in benzodiazepines)
    assert all(s.unexpected for s in oxycodone)
    assert [name for name, _, _ in judged].count("benzodiazepine") == 1
    assert [name for name, _, _ in judged].count("oxycodone") == len(days)
