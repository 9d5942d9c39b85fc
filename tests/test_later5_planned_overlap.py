"""`opioid-benzodiazepine` on patient-view with a prescription that starts later (`_planned_overlap`): each fill's days
are read from the supply the check already holds (the opioid fills, and the sedative fills of the sets the check reads),
not looked up again in a table rebuilt from every set, other CNS depressants' fills included when that part of the
check is off. A fill is never paired by a span it does not have."""

from __future__ import annotations

from typing import Any

from builders import card, dispense, run
from test_later4_patient_view_later_sedative import lorazepam_from
from test_later_start_co_prescribing import LORAZEPAM, opioid_from
from test_staggered_prescriptions import day, fill, medication

from guideline.checks import opioid_benzodiazepine
from guideline.checks.opioid_benzodiazepine import CHECK_ID
from guideline.facts import Facts
from guideline.terminology import BENZO, CNS_DEPRESSANT

ZOLPIDEM = "854873"  # zolpidem tartrate 10 MG Oral Tablet: a CNS depressant, no benzodiazepine
CNS_OFF = {"checks": {"opioid-benzodiazepine": {"cns_enabled": False}}}


def zolpidem_fill(filled: int, days: int) -> dict[str, Any]:
    """A pharmacy's zolpidem fill `filled` days from today for `days` days (its order not in the record)."""
    return dispense(ZOLPIDEM, day(filled), days_supply=days)


def lorazepam_fill(filled: int, days: int) -> dict[str, Any]:
    return dispense(LORAZEPAM, day(filled), days_supply=days)


def asked_sets(monkeypatch: Any, resources: list[dict[str, Any]], config: dict[str, Any] | None) -> list[str]:
    """The medication sets whose current fills this check alone asks for, on patient-view (other parts of the engine
    read every set for their own reasons, so the check is evaluated again on the evaluated facts, spied)."""
    evaluation = run("patient-view", resources=resources, config=config)
    facts = evaluation.facts
    asked: list[str] = []
    original = Facts.current_fills_in

    def spy(self: Facts, set_name: str) -> Any:
        asked.append(set_name)
        return original(self, set_name)

    monkeypatch.setattr(Facts, "current_fills_in", spy)
    opioid_benzodiazepine.evaluate(facts, facts.config.check(CHECK_ID))
    return asked


def test_other_cns_fills_are_not_read_when_that_part_of_the_check_is_off(monkeypatch: Any) -> None:
    resources = [medication(), opioid_from(7), lorazepam_fill(-5, 30), zolpidem_fill(-5, 30)]
    asked = asked_sets(monkeypatch, resources, CNS_OFF)
    assert BENZO in asked
    assert CNS_DEPRESSANT not in asked


def test_a_benzodiazepine_fill_that_runs_out_before_the_opioid_starts_is_no_pair() -> None:
    # Lorazepam filled 25 days ago for 30 days ends in 4 days; the oxycodone starts in 7.
    assert (
        card(run("patient-view", resources=[medication(), opioid_from(7), lorazepam_fill(-25, 30)]), CHECK_ID) is None
    )
    found = card(run("patient-view", resources=[medication(), opioid_from(7), lorazepam_fill(-20, 30)]), CHECK_ID)
    assert found is not None and f"(starts on {day(7)})" in found.summary


def test_another_sedatives_fill_is_paired_by_its_own_days() -> None:
    # Zolpidem filled 25 days ago for 30 days ends before next week's oxycodone: no pair; one filled 10 days ago is.
    assert card(run("patient-view", resources=[medication(), opioid_from(7), zolpidem_fill(-25, 30)]), CHECK_ID) is None
    found = card(run("patient-view", resources=[medication(), opioid_from(7), zolpidem_fill(-10, 30)]), CHECK_ID)
    assert found is not None and found.facts["variant"] == "cns"
    # Off, the zolpidem is not read at all.
    resources = [medication(), opioid_from(7), zolpidem_fill(-10, 30)]
    assert card(run("patient-view", resources=resources, config=CNS_OFF), CHECK_ID) is None


def test_an_opioid_fill_is_paired_by_its_own_days() -> None:
    # The oxycodone only as a fill from elsewhere, 30 days from 26 days ago: it ends before the lorazepam starts.
    late = [medication(), fill("eOxy.Elsewhere", day(-26)), lorazepam_from(5)]
    assert card(run("patient-view", resources=late), CHECK_ID) is None
    soon = [medication(), fill("eOxy.Elsewhere", day(-20)), lorazepam_from(5)]
    assert card(run("patient-view", resources=soon), CHECK_ID) is not None


def test_a_fill_of_unknown_days_runs_on() -> None:
    # Its days' supply not known: it may last, so it pairs (named, never dropped).
    resources = [medication(), opioid_from(7), lorazepam_fill(-25, 30)]
    resources[-1].pop("daysSupply")
    found = card(run("patient-view", resources=resources), CHECK_ID)
    assert found is not None
