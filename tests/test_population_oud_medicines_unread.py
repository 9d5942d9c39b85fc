"""The population review's `oud-treatment` finding ("OUD without treatment") names the buprenorphine, methadone or
naltrexone fills with no date it can read ("2026-02", a month only, is no day there) and the OUD medication orders of
unknown status beside it, in the words of the chart's data-incomplete card, which names them: either may be the
treatment. Before, the fill was only counted in `fills_without_date`, the order nowhere, and the finding stood alone."""

from __future__ import annotations

import json

from synthetic_export import ICD10, OXYCODONE_10, condition, dispense, order, patient
from test_population_letters import high_dose
from test_population_measure_edges import _evaluate, _row

from guideline.checks.oud_treatment import CHECK_ID as OUD_CHECK
from guideline.population import PatientOutcome

SUBOXONE = ("1010604", "buprenorphine 8 MG / naloxone 2 MG Sublingual Film")
UNDATED_WHY = "has no dispense date, so the MME total and the checks could not count it"
UNKNOWN_WHY = "status is unknown, so whether it is taken now cannot be told and it was not counted as current"


def oud_member(pid: str, *extra: dict) -> PatientOutcome:
    """A member on high-dose oxycodone with an active opioid use disorder diagnosis (F11.20) and `extra`."""
    oud = condition(f"{pid}-oud", pid, ICD10, "F11.20", recorded="2025-06-10")
    return _evaluate(pid, [patient(pid, "1972-04-02", "Practitioner/drA"), *high_dose(pid, "drA"), oud, *extra])


def named(outcome: PatientOutcome) -> list[str]:
    """What the member's evidence names beside their `oud-treatment` finding."""
    return json.loads(_row(outcome)["evidence"]).get(OUD_CHECK, [])


def test_a_buprenorphine_fill_dated_to_the_month_only_is_named_beside_the_finding() -> None:
    outcome = oud_member("p-mo", dispense("p-mo-bup", "p-mo", SUBOXONE, "2026-02", 14, 7, "drA", "ph1"))
    assert OUD_CHECK in _row(outcome)["findings"].split(",")
    (line,) = named(outcome)
    assert line.startswith("buprenorphine") and "(fill p-mo-bup" in line
    assert line.endswith(f": {UNDATED_WHY}")
    assert outcome.quality.oud_treatment_not_counted == {"p-mo": 1}


def test_a_buprenorphine_order_of_unknown_status_is_named_beside_the_finding() -> None:
    bup = order("p-unk-bup", "p-unk", SUBOXONE, "2026-03-10", "drA", status="unknown")
    outcome = oud_member("p-unk", bup)
    assert OUD_CHECK in _row(outcome)["findings"].split(",")
    (line,) = named(outcome)
    assert "(order p-unk-bup)" in line and line.endswith(f": {UNKNOWN_WHY}")


def test_an_undated_fill_or_unknown_order_of_another_medicine_is_not_named() -> None:
    outcome = oud_member(
        "p-oxy",
        dispense("p-oxy-f9", "p-oxy", OXYCODONE_10, "2026-02", 60, 30, "drA", "ph1"),
        order("p-oxy-o9", "p-oxy", OXYCODONE_10, "2026-03-10", "drA", status="unknown"),
    )
    assert OUD_CHECK in _row(outcome)["findings"].split(",")
    assert named(outcome) == []
