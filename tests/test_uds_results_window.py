"""The checks judge the urine drug tests of their window (the last 12 months); the plan page then lists every result.
Each result is judged once a call: every result is the window's results, as they are, and those before it; a window
read after every result is taken from them. Either way the answers are those of reading every result afresh:
newest first, the undated last, a result replaced by its correction left out on both sides of the window's edge."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from builders import SNOMED, TZ, card, days_ago, dispense, med_request, observation, run

from guideline.checks import unexpected_uds_result
from guideline.engine import Evaluation
from guideline.facts import Facts
from guideline.uds import UdsResult, uds_results

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
OXYCODONE_SCREEN = "58430-0"  # oxyCODONE+oxyMORphone Ur Ql Scn
FENTANYL_SCREEN = "59673-4"  # fentaNYL [Presence] in Urine by Screen method
OPIATE_SCREEN = "19295-5"  # Opiates [Presence] in Urine by Screen method
COCAINE = "14314-9"  # Benzoylecgonine [Presence] in Urine by Screen method
POSITIVE = (SNOMED, "10828004")
NEGATIVE = (SNOMED, "260385009")


def screen(code: str, days: int | None, value: tuple[str, str], status: str = "final", hour: str = "09:40") -> Any:
    """A lab's screen collected `days` ago at `hour` (None: undated, as an outside result filed without a date)."""
    found = observation(code, value_code=value, status=status)
    if days is None:
        del found["effectiveDateTime"]
    else:
        found["effectiveDateTime"] = f"{days_ago(days)}T{hour}:00-04:00"
    return found


def chart() -> list[dict[str, Any]]:
    """Two years of screens around the window's edge, for a patient on oxycodone."""
    preliminary = screen(FENTANYL_SCREEN, 400, POSITIVE, status="preliminary")
    corrected = screen(FENTANYL_SCREEN, 400, NEGATIVE, status="corrected")  # the same sample, corrected
    recent_preliminary = screen(COCAINE, 20, POSITIVE, status="preliminary", hour="11:05")
    recent_final = screen(COCAINE, 20, NEGATIVE, hour="11:05")
    return [
        med_request(OXYCODONE, status="active", authored=days_ago(60), supply_days=90),
        dispense(OXYCODONE, days_ago(60), days_supply=90),
        dispense(OXYCODONE, days_ago(420), days_supply=30),
        screen(OXYCODONE_SCREEN, 10, NEGATIVE),  # unexpected: oxycodone supplied through it
        screen(FENTANYL_SCREEN, 10, POSITIVE),  # unexpected
        recent_preliminary,
        recent_final,
        screen(OPIATE_SCREEN, 200, NEGATIVE),
        screen(OXYCODONE_SCREEN, 410, POSITIVE),  # before the window, explained by the fill 10 days before
        preliminary,
        corrected,
        screen(COCAINE, 700, POSITIVE),
        screen(OPIATE_SCREEN, None, POSITIVE),
    ]


def reading(results: tuple[UdsResult, ...]) -> list[tuple[Any, ...]]:
    """What each result says, in order: its test, date, value and each substance's verdict and words."""
    return [
        (
            r.observation.id,
            r.observation.status,
            r.when,
            r.value,
            r.unsettled,
            [(s.substance, s.value, s.unexpected, s.explanation) for s in r.substances],
        )
        for r in results
    ]


def patient_view() -> Evaluation:
    return run("patient-view", resources=chart())


def fresh(facts: Facts) -> Facts:
    """The same call's facts, nothing read yet."""
    return Facts(facts.record, facts.context, facts.config, facts.now)


def afresh(facts: Facts) -> tuple[UdsResult, ...]:
    """Every result read in one pass, with no window: what both ways must give."""
    return uds_results(facts.record, facts.terms, facts.prescription_history, facts.config, today=facts.today)


def test_every_result_after_the_window_reads_as_every_result_afresh() -> None:
    facts = fresh(patient_view().facts)
    window = facts.uds_results_since(12)
    every = facts.uds_results
    assert reading(every) == reading(afresh(facts))
    # the corrected fentanyl of 400 days ago stands alone; the window's preliminary cocaine is replaced too
    ids = [r.observation.id for r in every]
    assert len(ids) == len(set(ids)) == 8
    assert [r.value for r in every if r.when == days_ago(400)] == ["negative"]
    assert [r.observation.status for r in every if r.when == days_ago(20)] == ["final"]
    assert every[-1].day is None  # the undated last
    assert [r.when for r in window] == [days_ago(10), days_ago(10), days_ago(20), days_ago(200), None]


def test_every_result_takes_the_windows_results_as_judged() -> None:
    """The plan page's list after the checks: the window's results are not judged a second time."""
    evaluation = patient_view()
    facts = evaluation.facts
    window = facts.uds_results_since(12)  # judged by the checks of the call
    every = facts.uds_results
    assert all(any(r is w for r in every) for w in window)
    assert len(every) == len(window) + 3


def test_a_window_read_after_every_result_is_taken_from_them() -> None:
    facts = fresh(patient_view().facts)
    every = facts.uds_results
    window = facts.uds_results_since(12)
    assert all(any(r is w for r in every) for w in window)
    assert reading(window) == reading(fresh(facts).uds_results_since(12))
    assert [r for r in facts.uds_results_within(12)] == [r for r in window if r.day is not None]


def test_the_checks_read_the_same_whichever_is_read_first() -> None:
    evaluation = patient_view()
    settings = evaluation.facts.config.check(unexpected_uds_result.CHECK_ID)
    facts = fresh(evaluation.facts)
    assert len(facts.uds_results) == 8  # the plan page's list first
    found = unexpected_uds_result.evaluate(facts, settings)
    expected = card(evaluation, unexpected_uds_result.CHECK_ID)
    assert found is not None and expected is not None
    assert (found.summary, found.detail) == (expected.summary, expected.detail)
    assert "negative for oxycodone" in found.summary and "positive for fentanyl" in found.summary


def test_a_result_dated_0001_among_undated_ones_is_read_again_in_record_order() -> None:
    """A result dated 0001-01-01 (date.min: a placeholder) sorts among the undated in record order: the window and
    the results before it cannot tell that order, so every result is read again."""
    placeholder, later = screen(COCAINE, None, POSITIVE), screen(FENTANYL_SCREEN, None, POSITIVE)
    built = run("patient-view", resources=[*chart(), placeholder, later]).facts
    record = replace(
        built.record,
        observations=tuple(
            replace(o, effective=datetime(1, 1, 1, 9, 40, tzinfo=TZ)) if o.id == placeholder["id"] else o
            for o in built.record.observations
        ),
    )
    facts = Facts(record, built.context, built.config, built.now)
    facts.uds_results_since(12)
    assert reading(facts.uds_results) == reading(afresh(facts))
    assert [r.day for r in facts.uds_results[-3:]] == [None, date.min, None]  # the undated opiate, then these two
    assert [r.observation.id for r in facts.uds_results[-2:]] == [placeholder["id"], later["id"]]


def test_a_result_judged_again_keeps_every_field_it_was_made_with() -> None:
    """`uds._with_substances` rebuilds a result by its fields' names: written out argument by argument, a field added
    to UdsResult and missed there went back to its default in silence."""
    from guideline.uds import _with_substances

    results = afresh(patient_view().facts)
    assert results
    for result in results:
        marked = replace(result, not_judged="x", left_out="y", read_by_conclusion=True, contradicted=True, denied="z")
        assert _with_substances(marked, marked.substances) == marked
