"""Talwin Compound (pentazocine 12.5 mg with aspirin 325 mg, an oral tablet) and Talacen (pentazocine 25 mg with
acetaminophen 650 mg) by name: read as the drug table's "[Talwin]", an injection, the compound's strengths were never
read and its form was wrong. Named with a strength it is dosed with pentazocine's factor, 0.37 (the CDC data file;
pentazocine is not in the 2022 clinical table); named without one it is a recognised opioid whose dose is unknown,
named on the dose card (order-sign) and the data-incomplete card (patient-view), never counted as 0."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from builders import card, days_ago, med_request, run

from guideline.config import GuidelineConfig
from guideline.fhirdata import Concept
from guideline.named_gaps import NAMED_GAPS
from guideline.recognition import Recognition, recognise
from guideline.record import ResolvedMedication
from guideline.terminology import load_terminology

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet: 1 every 6 hours is 30 MME/day


def named(text: str) -> Recognition:
    return recognise(ResolvedMedication(concept=Concept(text=text)), load_terminology(GuidelineConfig.from_mapping()))


def current(text: str, *, id: str = "tw", sig: bool = True) -> dict[str, Any]:
    """A current order known by its text: 1 tablet every 6 hours (4 a day), or with no dosage at all."""
    order = med_request("0", id=id, authored=days_ago(5))
    order["medicationCodeableConcept"] = {"text": text}
    if not sig:
        del order["dosageInstruction"]
        order["dispenseRequest"] = {}
    return order


@pytest.mark.parametrize(
    ("text", "partner"),
    [
        ("Talwin Compound", "aspirin"),
        ("TALWIN COMPOUND TABS", "aspirin"),
        ("PENTAZOCINE/ASPIRIN", "aspirin"),
        ("Talacen", "acetaminophen"),
    ],
)
def test_a_pentazocine_compound_by_name_is_an_oral_opioid_whose_dose_is_unknown(text: str, partner: str) -> None:
    recognition = named(text)
    assert recognition.kind == "opioid-no-mme", recognition.kind
    assert set(recognition.ingredients) == {"pentazocine", partner}
    assert recognition.form != "injection"  # the drug table's "[Talwin]" is the injection; the compound a tablet


@pytest.mark.parametrize(
    ("text", "mme"),
    [
        ("Talwin Compound 12.5 mg / 325 mg tablet", "18.5"),  # 4 tablets a day: 50 mg pentazocine x 0.37
        ("TALWIN COMPOUND 12.5-325 MG PO TABS", "18.5"),
        ("PENTAZOCINE/ASA 12.5-325 MG", "18.5"),
        ("pentazocine 12.5 MG / aspirin 325 MG Oral Tablet", "18.5"),
        ("Talacen 25-650 mg tablet", "37"),  # 100 mg pentazocine x 0.37
        ("PENTAZOCINE-ACETAMINOPHEN 25-650 MG", "37"),
    ],
)
def test_a_pentazocine_compound_with_its_strength_gets_pentazocines_factor(text: str, mme: str) -> None:
    evaluation = run("patient-view", resources=[current(text)])
    (order,) = evaluation.facts.mme.orders
    assert order.state == "ok", order.explanation
    assert order.mme == Decimal(mme)
    assert "pentazocine × 0.37" in order.explanation and "CDC data file" in order.explanation


@pytest.mark.parametrize("sig", [True, False])
@pytest.mark.parametrize("text", ["Talwin Compound", "PENTAZOCINE/ASPIRIN"])
def test_a_pentazocine_compound_of_unknown_dose_is_named_on_order_sign(text: str, sig: bool) -> None:
    evaluation = run(
        "order-sign", drafts=[med_request(OXYCODONE, draft=True, id="ox1")], resources=[current(text, sig=sig)]
    )
    (unknown,) = [o for o in evaluation.facts.mme.orders if o.order.id == "tw"]
    assert unknown.state == "unknown" and unknown.mme is None
    dose = card(evaluation, "high-mme")
    assert dose is not None and "could not be fully calculated" in dose.summary
    assert f"**Could not be converted:**\n- {text}: " in dose.detail
    assert "the known part is 30.0 MME/day" in dose.detail  # never "30.0 MME/day" as if the compound were 0


@pytest.mark.parametrize("text", ["Talwin Compound", "PENTAZOCINE/ASPIRIN"])
def test_a_pentazocine_compound_of_unknown_dose_is_named_on_patient_view(text: str) -> None:
    evaluation = run("patient-view", resources=[current(text)])
    kind = next(k for k in NAMED_GAPS if k.key == "unconverted-opioids")
    # Named with why, as the dose card's list says it.
    assert kind.card_named(evaluation.facts) == (
        f"{text} (current order tw, identified from its name as pentazocine with aspirin; no strength written)",
    )
