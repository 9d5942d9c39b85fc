"""One rule for a pharmacy fill that implies a larger daily dose than its order, on every face: the card's total, the
plan page's 12-month MME history and the population review read the same patient's fill at the fill's dose."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from builders import NOW, RXNORM, TZ, UCUM, card, patient, run

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.facts import Facts
from guideline.mme import compute_mme
from guideline.plan.mme_history import build_mme_history
from guideline.population import Directory, evaluate_patient
from guideline.population.model import Period
from guideline.record import build_record

OXYCODONE_10 = "1049683"  # oxycodone hydrochloride 10 MG Oral Tablet: 15 MME a tablet
TODAY = NOW.date()


def oxycodone_order() -> dict[str, Any]:
    """Epic's outpatient order: oxycodone 10 mg, 1 tablet every 8 hours (45 MME a day), #90 for 30 days, 1 June."""
    return {
        "resourceType": "MedicationRequest",
        "id": "eOxy10.Order1",
        "status": "active",
        "intent": "order",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                        "code": "community",
                    }
                ]
            }
        ],
        "medicationReference": {"reference": "Medication/eMed10", "display": "oxycodone 10 mg tablet"},
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2026-06-01T09:12:00-04:00",
        "requester": {"reference": "Practitioner/eDrA", "display": "Adams, Ann, MD"},
        "dosageInstruction": [
            {
                "text": "Take 1 tablet by mouth every 8 hours as needed for pain.",
                "timing": {"repeat": {"frequency": 1, "period": 8, "periodUnit": "h"}},
                "asNeededBoolean": True,
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet", "system": UCUM, "code": "{tbl}"}}],
            }
        ],
        "dispenseRequest": {
            "quantity": {"value": 90, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
            "expectedSupplyDuration": {"value": 30, "unit": "Days", "system": UCUM, "code": "d"},
        },
    }


def medication() -> dict[str, Any]:
    return {
        "resourceType": "Medication",
        "id": "eMed10",
        "code": {
            "coding": [{"system": RXNORM, "code": OXYCODONE_10, "display": "oxycodone HCl 10 MG Oral Tablet"}],
            "text": "oxycodone 10 mg tablet",
        },
    }


def pharmacy_fill() -> dict[str, Any]:
    """The pharmacy's dispense of that order on 5 June: #180 for 30 days, 6 tablets a day (90 MME a day)."""
    return {
        "resourceType": "MedicationDispense",
        "id": "eDisp.77",
        "status": "completed",
        "medicationReference": {"reference": "Medication/eMed10", "display": "oxycodone 10 mg tablet"},
        "subject": {"reference": "Patient/p1"},
        "authorizingPrescription": [{"reference": "MedicationRequest/eOxy10.Order1"}],
        "quantity": {"value": 180, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
        "daysSupply": {"value": 30, "unit": "Day", "system": UCUM, "code": "d"},
        "whenPrepared": "2026-06-05T10:02:00-04:00",
        "whenHandedOver": "2026-06-05T14:40:00-04:00",
    }


def resources() -> list[dict[str, Any]]:
    return [patient(), medication(), oxycodone_order(), pharmacy_fill()]


def test_the_card_counts_the_fill_dose() -> None:
    evaluation = run("patient-view", resources=resources())
    high = card(evaluation, "high-mme")
    assert high is not None
    assert "90.0 MME/day" in high.summary
    assert "implies 90.0 MME a day, more than the order's 45.0 MME" in high.detail


def history_line() -> dict[date, Decimal]:
    record = build_record(resources(), TZ)
    facts = Facts(record, HookContext("patient-view", "p1"), GuidelineConfig.from_mapping(), NOW)
    result = build_mme_history(facts, compute_mme)
    points = sorted(result.opioid, key=lambda p: p.day)
    line: dict[date, Decimal] = {}
    for index, point in enumerate(points):
        following = points[index + 1].day if index + 1 < len(points) else result.end + timedelta(days=1)
        day = point.day
        while day < following:
            line[day] = point.value
            day += timedelta(days=1)
    return line


def test_the_plan_page_history_counts_the_fill_dose_on_the_days_it_supplies() -> None:
    line = history_line()
    # The order alone before the fill (1-4 June), the fill's dose from its day on: the card's total on each day.
    assert line[date(2026, 6, 2)] == Decimal(45)
    assert line[date(2026, 6, 5)] == Decimal(90)
    assert line[TODAY] == Decimal(90)


def test_the_population_review_reads_the_fill_at_its_own_dose() -> None:
    outcome = evaluate_patient(
        "p1",
        resources(),
        Period(date(2026, 4, 1), date(2026, 6, 30)),
        GuidelineConfig.from_mapping(),
        date(2026, 7, 15),
        Directory(),
    )
    assert outcome.row is not None
    assert Decimal(str(outcome.row["peak_mme"])) == Decimal(90)


OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet: 7.5 MME a tablet


def second_strength_fill() -> dict[str, Any]:
    """The same prescription also dispensed as 5 mg tablets the same day (the 10 mg short): #240 for 30 days, 8 a day,
    60 MME a day. Another strength is another drug, so the two supplies run side by side, not one after the other."""
    fill = pharmacy_fill()
    fill.pop("medicationReference")
    fill["id"] = "eDisp.70"
    fill["medicationCodeableConcept"] = {
        "coding": [{"system": RXNORM, "code": OXYCODONE_5, "display": "oxycodone HCl 5 MG Oral Tablet"}]
    }
    fill["quantity"] = {"value": 240, "unit": "tablet", "system": UCUM, "code": "{tbl}"}
    return fill


def test_two_fills_above_one_order_are_one_sentence_against_the_order_dose() -> None:
    evaluation = run("patient-view", resources=[*resources(), second_strength_fill()])
    high = card(evaluation, "high-mme")
    assert high is not None
    assert "90.0 MME/day" in high.summary
    assert high.detail.count("the pharmacy fill") == 1
    assert (
        "the pharmacy fills of oxycodone 10 mg tablet on 2026-06-05 (#180 for 30 days) and of "
        "oxycodone HCl 5 MG Oral Tablet on 2026-06-05 (#240 for 30 days) imply 90.0 and 60.0 MME a day, "
        "each more than the order's 45.0 MME; the largest is counted"
    ) in high.detail
    # Each fill is compared with the order's own dose, never with the other fill's.
    assert "the order's 60.0 MME" not in high.detail
