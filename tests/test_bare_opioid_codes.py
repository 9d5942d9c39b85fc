"""Opioids sent as a bare RxNorm code (no display, no text): a product of the packaged drug table is called by the
table's name for it, and an opioid ingredient code by the table's ingredient name, on the cards and the plan page,
by the rule that names bare benzodiazepine and naloxone codes (`guideline.recognition.coded_names`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cds_support import plan_page

from guideline.checks import acute_duration, nonopioid_first
from guideline.config import GuidelineConfig
from guideline.fhirdata import RXNORM
from guideline.recognition import recognise
from guideline.record import build_record
from guideline.set_names import UNNAMED_MEDICATION
from guideline.terminology import load_terminology
from tests.builders import EPIC_ERX, TZ, card, days_ago, dispense, med_request, run

OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
OXYCODONE_5_NAME = "oxycodone hydrochloride 5 MG Oral Tablet"
OXYCODONE_IN = "7804"
FENTANYL_IN = "4337"
CODEINE_IN = "2670"
NALOXONE_IN = "7242"
ACETAMINOPHEN_IN = "161"  # no table names it: a code beside it leaves the medication to its other names


def epic_order(*codes: str, draft: bool = False, id: str = "eo1") -> dict[str, Any]:
    """An Epic-shaped outpatient order (its drug record contained, referenced with no display) whose Medication is
    coded only by these RxNorm codes, with no display and no text."""
    order = med_request(codes[0], draft=draft, id=id, authored=days_ago(0 if draft else 5), supply_days=5)
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": "#erx"}
    order["dosageInstruction"][0]["text"] = "Take 1 tablet by mouth every 6 hours as needed for pain"
    coding = [{"system": RXNORM, "code": code} for code in codes]
    order["contained"] = [{"resourceType": "Medication", "id": "erx", "code": {"coding": coding}}]
    return order


def bare_order(*codes: str, **kwargs: Any) -> dict[str, Any]:
    order = med_request(codes[0], **kwargs)
    order["medicationCodeableConcept"] = {"coding": [{"system": RXNORM, "code": code} for code in codes]}
    return order


def name_of(resource: dict[str, Any], *others: dict[str, Any]) -> str:
    terms = load_terminology(GuidelineConfig.from_mapping({}))
    record = build_record([resource, *others], TZ)
    item = (record.orders or record.dispenses)[0]
    return terms.medication_name(item.medication)


def page_text(tmp_path: Path, *resources: dict[str, Any]) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", plan_page(tmp_path, *resources)))


# -- a drug-table product code ----------------------------------------------------------------------------------------


def test_an_epic_order_coded_only_by_a_drug_table_code_is_named_on_the_cards() -> None:
    evaluation = run("order-sign", drafts=[epic_order(OXYCODONE_5, draft=True)])
    found = card(evaluation, acute_duration.CHECK_ID)
    assert found is not None and f"({OXYCODONE_5_NAME})" in found.summary
    assert all(UNNAMED_MEDICATION not in c.summary + c.detail for c in evaluation.cards)


def test_an_epic_order_coded_only_by_a_drug_table_code_is_named_on_the_plan_page(tmp_path: Path) -> None:
    text = page_text(tmp_path, epic_order(OXYCODONE_5))
    assert f"{OXYCODONE_5_NAME} (active)" in text
    assert UNNAMED_MEDICATION not in text


# -- an opioid ingredient code ---------------------------------------------------------------------------------------


def test_a_new_order_coded_only_by_an_opioid_ingredient_is_named_on_the_cards() -> None:
    evaluation = run("order-sign", drafts=[epic_order(OXYCODONE_IN, draft=True)])
    duration = card(evaluation, acute_duration.CHECK_ID)
    first = card(evaluation, nonopioid_first.CHECK_ID)
    assert duration is not None and "(oxycodone)" in duration.summary
    assert first is not None and "before oxycodone for acute pain" in first.summary
    assert all(UNNAMED_MEDICATION not in c.summary + c.detail for c in evaluation.cards)


def test_an_active_order_coded_only_by_an_opioid_ingredient_is_named_on_the_plan_page(tmp_path: Path) -> None:
    text = page_text(tmp_path, epic_order(OXYCODONE_IN))
    assert "oxycodone (active)" in text
    assert UNNAMED_MEDICATION not in text


def test_a_fill_coded_only_by_an_opioid_ingredient_is_named() -> None:
    assert name_of(dispense(FENTANYL_IN, days_ago(10))) == "fentanyl"


def test_a_statement_coded_only_by_an_opioid_ingredient_is_named() -> None:
    statement = {
        "resourceType": "MedicationStatement",
        "id": "ms-ox",
        "status": "active",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": OXYCODONE_IN}]},
        "effectivePeriod": {"start": "2026-03-01"},
    }
    assert name_of(statement) == "oxycodone"


def test_two_opioid_ingredient_codes_are_named_by_both() -> None:
    assert name_of(bare_order(OXYCODONE_IN, CODEINE_IN)) == "oxycodone / codeine"


# -- the same rule as the benzodiazepine and naloxone codes -----------------------------------------------------------


def test_an_opioid_ingredient_beside_naloxone_is_named_by_neither() -> None:
    # Oxycodone/naloxone: its naloxone is an abuse deterrent. Codes of two classes are not guessed between; the
    # order is still read as the opioid it holds.
    order = bare_order(OXYCODONE_IN, NALOXONE_IN)
    assert name_of(order) == UNNAMED_MEDICATION
    terms = load_terminology(GuidelineConfig.from_mapping({}))
    assert recognise(build_record([order], TZ).orders[0].medication, terms).kind != "naloxone"


def test_an_opioid_ingredient_beside_a_code_no_table_names_is_left_to_the_other_names() -> None:
    assert name_of(bare_order(OXYCODONE_IN, ACETAMINOPHEN_IN)) == UNNAMED_MEDICATION


def test_an_opioid_ingredient_beside_an_epic_drug_record_is_called_by_the_record_name() -> None:
    order = bare_order(OXYCODONE_IN)
    order["medicationCodeableConcept"]["coding"].append(
        {"system": EPIC_ERX, "code": "10814", "display": "OXYCODONE 5 MG TABLET"}
    )
    assert name_of(order) == "OXYCODONE 5 MG TABLET"
