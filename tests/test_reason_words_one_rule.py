"""An order's and a fill's reason for no MME are put in the medication's own words by one rule (`mme.own_words`):
the words say more than the reason's stock text (an opioid read from its name with no strength, an implausible
strength read from a name), else the stock text stands. Each side is pinned to that rule, so the card's order line
and fill line cannot drift apart (evaluated on 2026-12-07)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from guideline.config import GuidelineConfig
from guideline.fhirdata import RXNORM, UCUM
from guideline.fills import FILL_REASON_TEXT, fill_mme
from guideline.mme import REASON_TEXT, compute_mme, own_words
from guideline.record import readers
from guideline.record.pool import MedicationPool
from guideline.terminology import load_terminology

TZ = ZoneInfo("America/Chicago")
CONFIG = GuidelineConfig.from_mapping({})
TERMS = load_terminology(CONFIG)

# Oracle Health sends an outside medication as text alone; a code the drug table lacks has only the stock text.
NAMED_NO_STRENGTH = {"text": "oxycodone-acetaminophen tablet"}
NAMED_IMPLAUSIBLE = {"text": "oxyCODONE 5325 mg tablet"}
UNKNOWN_CODE = {"coding": [{"system": RXNORM, "code": "999999999"}]}

CASES = {
    "named, no strength": (
        NAMED_NO_STRENGTH,
        "no-strength",
        "identified from its name as oxycodone with acetaminophen; no strength written",
    ),
    "named, implausible": (
        NAMED_IMPLAUSIBLE,
        "implausible-strength",
        "identified from its name as oxycodone; 5325 mg is more than any oxycodone product holds (largest 80 mg): "
        "check the order",
    ),
    "code not in the drug table": (UNKNOWN_CODE, "not-in-drug-table", None),
}


def order_of(medication: dict[str, Any]) -> readers.MedOrder:
    """A Cerner outpatient order: 1 tablet every 6 hours, written 2026-11-20."""
    return readers.read_med_order(
        {
            "resourceType": "MedicationRequest",
            "id": "197361893",
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": medication,
            "authoredOn": "2026-11-20T16:20:00Z",
            "dosageInstruction": [
                {
                    "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
                    "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet", "system": UCUM, "code": "{tbl}"}}],
                }
            ],
        },
        False,
        TZ,
    )


def fill_of(medication: dict[str, Any]) -> readers.Dispense:
    """A pharmacy's fill: #60 tablets for 15 days, handed over 2026-11-20."""
    return readers.read_dispense(
        {
            "resourceType": "MedicationDispense",
            "id": "209461547",
            "status": "completed",
            "medicationCodeableConcept": medication,
            "quantity": {"value": 60, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
            "daysSupply": {"value": 15, "unit": "Day", "system": UCUM, "code": "d"},
            "whenHandedOver": "2026-11-20T17:05:00Z",
        },
        TZ,
        MedicationPool(),
    )


@pytest.mark.parametrize("case", CASES)
def test_the_rule_gives_the_medications_words_only_where_they_say_more(case: str) -> None:
    medication, reason, words = CASES[case]
    assert own_words(reason, order_of(medication).medication, TERMS) == words


@pytest.mark.parametrize("case", CASES)
def test_an_orders_reason_reads_the_rule(case: str) -> None:
    medication, reason, words = CASES[case]
    (line,) = compute_mme([order_of(medication)], TERMS, CONFIG).orders
    assert (line.state, line.reason) == ("unknown", reason)
    assert line.reason_text == (words or REASON_TEXT[reason])
    assert line.dose_explanation.endswith(f": {words or REASON_TEXT[reason]}")


@pytest.mark.parametrize("case", CASES)
def test_a_fills_reason_reads_the_rule(case: str) -> None:
    medication, reason, words = CASES[case]
    line = fill_mme(fill_of(medication), TERMS, CONFIG)
    assert (line.state, line.reason, line.said) == ("unknown", reason, words)
    assert line.reason_text == (words or FILL_REASON_TEXT[reason])
    assert line.explanation == f"{line.display_name} (filled 2026-11-20): {words or FILL_REASON_TEXT[reason]}"


@pytest.mark.parametrize("case", CASES)
def test_an_order_and_a_fill_of_one_medicine_give_one_reason(case: str) -> None:
    medication = CASES[case][0]
    (order_line,) = compute_mme([order_of(medication)], TERMS, CONFIG).orders
    assert order_line.reason_text == fill_mme(fill_of(medication), TERMS, CONFIG).reason_text
