"""What several checks of one order-sign call ask of the same orders and diagnoses is worked out once per call
(`Facts`): whether a new opioid is a cough medicine (three acute-pain checks), an order's duration class (most
checks), and which of a chart's diagnosis codes are in a set (all of them and the active ones)."""

from __future__ import annotations

from typing import Any

import pytest
from builders import ICD10, card, condition, days_ago, med_request, run

import guideline.facts
from guideline.memo import forget_all
from guideline.terminology import OUD, Terminology

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
OXYCODONE_ER = "1049502"  # oxycodone 12 HR 10 MG Extended Release Oral Tablet


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[tuple[Any, ...]]:
    """The calls `guideline.facts` makes of its function `name`, each recorded with its arguments."""
    original = getattr(guideline.facts, name)
    calls: list[tuple[Any, ...]] = []

    def counted(*args: Any) -> Any:
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(guideline.facts, name, counted)
    return calls


def test_a_new_opioid_is_asked_once_whether_it_is_a_cough_medicine(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting(monkeypatch, "opioid_cough_medicine")
    # A 10-day oxycodone draft for an opioid-naive patient: acute-duration, nonopioid-first and treatment-plan each
    # ask which new opioids are pain prescriptions.
    draft = med_request(OXYCODONE, draft=True, id="new", supply_days=10, frequency=1, period=6)
    evaluation = run("order-sign", drafts=[draft])
    assert card(evaluation, "acute-duration") is not None
    assert len(calls) == 1


def test_each_order_is_classed_acute_or_longer_term_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting(monkeypatch, "duration_class")
    draft = med_request(OXYCODONE_ER, draft=True, id="new", supply_days=30, frequency=1, period=12)
    current = med_request(OXYCODONE, id="current", status="active", authored=days_ago(20), supply_days=30)
    run("order-sign", drafts=[draft], resources=[current])
    classed = [args[0].id for args in calls]
    assert classed  # the checks read the draft's duration class
    assert len(classed) == len(set(classed))


def test_a_diagnosis_code_is_looked_up_in_a_set_once(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []
    original = Terminology.contains

    def counted(self: Terminology, set_name: str, concept: Any) -> bool:
        if set_name == OUD:
            asked.append(id(concept))
        return original(self, set_name, concept)

    monkeypatch.setattr(Terminology, "contains", counted)
    # Cold, as a new process is: a code an earlier call looked up is answered from the set's remembered answers
    # (`Terminology.keys_in`) with no call of `contains` at all.
    forget_all()
    # The naloxone check reads every diagnosis of opioid use disorder, the OUD treatment check the active ones.
    oud = condition(ICD10, "F11.20", display="Opioid dependence, uncomplicated", id="c-oud")
    draft = med_request(OXYCODONE, draft=True, id="new", supply_days=10)
    evaluation = run("order-sign", drafts=[draft], resources=[oud])
    assert card(evaluation, "oud-treatment") is not None
    diagnosis = evaluation.facts.record.conditions[0].code
    assert asked.count(id(diagnosis)) == 1
