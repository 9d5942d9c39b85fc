"""An OUD patient's fill or order PainPlan could not identify may be the treatment: the "OUD without treatment" card
said "No buprenorphine, methadone or naltrexone was found … no order, pharmacy fill or draft" beside a Suboxone fill
named as a claims feed abbreviates it, while the data-incomplete card named that fill as unidentified. The card and
the population review now list it among the records not counted, as er-la-opioid-naive and nonopioid-first count
what they could not identify."""

from __future__ import annotations

from typing import Any

from builders import PATIENT_ID, days_ago, run
from test_oud_gate import suboxone_fill
from test_oud_unknown_status import oud_diagnosis

from guideline.checks.oud_treatment import CHECK_ID as OUD_CHECK
from guideline.named_gaps import NAMED_GAPS
from guideline.population.standing import uncounted_doses

UNIDENTIFIED = "**Medications on record that could not be identified, not counted as treatment**"


def unidentified_fill(handed_over: str, fill_id: str = "eMD.subox") -> dict[str, Any]:
    """A Suboxone fill from a claims feed: no code, a name PainPlan cannot read (60 films for 30 days)."""
    return {
        "resourceType": "MedicationDispense",
        "id": fill_id,
        "status": "completed",
        "medicationCodeableConcept": {"text": "SUBOX 8MG-2MG FLM"},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "quantity": {"value": 60, "unit": "film"},
        "daysSupply": {"value": 30, "unit": "day"},
        "whenHandedOver": f"{handed_over}T15:00:00-05:00",
    }


def _oud_card(*resources: dict[str, Any]) -> tuple[str, Any]:
    evaluation = run("patient-view", resources=[oud_diagnosis(), *resources])
    found = next(c for c in evaluation.cards if c.check_id == OUD_CHECK)
    return found.detail, evaluation


def test_a_current_fill_not_identified_is_listed_and_the_card_does_not_deny_it() -> None:
    detail, _ = _oud_card(unidentified_fill(days_ago(5)))
    assert f"{UNIDENTIFIED} (if one is buprenorphine, methadone or naltrexone, the patient is on treatment):" in detail
    assert "SUBOX 8MG-2MG FLM" in detail and "eMD.subox" in detail
    assert "was found in the last 90 days: no order, pharmacy fill or draft" not in detail
    assert "any of them may be the treatment" in detail


def test_an_ended_fill_not_identified_in_the_window_is_listed() -> None:
    detail, _ = _oud_card(unidentified_fill(days_ago(60), "eMD.old"))  # ran out 30 days ago
    assert UNIDENTIFIED in detail
    assert "(fill eMD.old, filled " in detail


def test_a_fill_not_identified_before_the_window_is_not_listed() -> None:
    detail, _ = _oud_card(unidentified_fill(days_ago(200), "eMD.older"))
    assert "eMD.older" not in detail
    assert "was found in the last 90 days: no order, pharmacy fill or draft" in detail


def test_beside_treatment_a_fill_not_identified_changes_nothing() -> None:
    evaluation = run(
        "patient-view",
        resources=[oud_diagnosis(), suboxone_fill("completed", days_ago(3)), unidentified_fill(days_ago(5))],
    )
    assert not any(c.check_id == OUD_CHECK for c in evaluation.cards)


def test_the_population_review_names_it_in_the_registrys_words() -> None:
    detail, evaluation = _oud_card(unidentified_fill(days_ago(5)))
    (kind,) = (k for k in NAMED_GAPS if k.key == "unidentified-medications")
    assert kind.card is not None
    (line,) = uncounted_doses(evaluation.facts)
    item, why = line.split(": ", 1)
    assert "SUBOX 8MG-2MG FLM" in item and "eMD.subox" in item
    assert why == kind.card.why
    assert f"- {item}" in detail  # the card lists what the population review names
