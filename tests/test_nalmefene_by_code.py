"""Nalmefene rescue products (Zurnai auto-injector, the generic nalmefene hydrochloride injection) are naloxone on
hand for the `naloxone` check by their RxNorm codes and NDCs, as by name: newer than the CDC naloxone set, a code
sent with no name was unidentified and the card kept asking for naloxone the patient had. Codes and NDCs from the FDA
NDC Directory (openFDA): Zurnai 1.5 mg/0.5 mL, NDC 59011-962-01, RxNorm 2720806 and 2720812; nalmefene hydrochloride
injection 2 mg/2 mL, NDC 82432-102-02, RxNorm 2592953 and 2672926."""

from __future__ import annotations

from typing import Any

import pytest
from builders import RXNORM, card, days_ago, dispense, med_request, run

from guideline.config import GuidelineConfig
from guideline.fhirdata import Coding, Concept
from guideline.recognition import recognise
from guideline.record import ResolvedMedication
from guideline.terminology import NALOXONE_RESCUE, load_terminology

NDC = "http://hl7.org/fhir/sid/ndc"
FENTANYL_PATCH = "197696"  # 72 HR fentanyl 0.075 MG/HR Transdermal System: 180 MME/day, a risk factor
CHECK = "naloxone"


def fentanyl_draft() -> dict[str, Any]:
    return med_request(
        FENTANYL_PATCH, draft=True, id="fe1", dose=1, unit="{patch}", frequency=1, period=72, supply_days=30
    )


def rescue_fill(coding: dict[str, Any]) -> dict[str, Any]:
    """A pharmacy claim for the rescue product, known by one code and no name (claims send none)."""
    fill = {**dispense("0", days_ago(20)[:10], days_supply=1), "id": "nal-fill"}
    fill["medicationCodeableConcept"] = {"coding": [coding]}
    fill["quantity"] = {"value": 1, "unit": "each"}
    return fill


RXNORM_CODES = ["2720806", "2720812", "2592953", "2672926"]
NDCS = ["59011-962-01", "59011096201", "82432-102-02", "82432010202"]


@pytest.mark.parametrize("code", RXNORM_CODES)
def test_a_nalmefene_rescue_by_rxnorm_code_is_naloxone_on_hand(code: str) -> None:
    resources = [rescue_fill({"system": RXNORM, "code": code})]
    evaluation = run("order-sign", drafts=[fentanyl_draft()], resources=resources)
    assert card(evaluation, CHECK) is None
    assert card(evaluation, "unidentified-medication") is None


@pytest.mark.parametrize("ndc", NDCS)
def test_a_nalmefene_rescue_by_ndc_alone_is_naloxone_on_hand(ndc: str) -> None:
    """No site crosswalk needed: PainPlan knows these NDCs itself."""
    resources = [rescue_fill({"system": NDC, "code": ndc})]
    evaluation = run("order-sign", drafts=[fentanyl_draft()], resources=resources)
    assert card(evaluation, CHECK) is None
    assert card(evaluation, "unidentified-medication") is None


@pytest.mark.parametrize("code", RXNORM_CODES)
def test_the_code_is_a_rescue_medicine_named_as_nalmefene(code: str) -> None:
    terms = load_terminology(GuidelineConfig.from_mapping())
    medication = ResolvedMedication(concept=Concept((Coding(RXNORM, code),)))
    recognition = recognise(medication, terms)
    assert recognition.kind == "naloxone"
    assert terms.medication_in(NALOXONE_RESCUE, medication)
    assert "nalmefene" in terms.medication_name(medication).lower()


def test_an_ordered_zurnai_by_code_suppresses_the_card_on_patient_view() -> None:
    patch = med_request(FENTANYL_PATCH, id="fe0", authored=days_ago(10), dose=1, unit="{patch}", period=72)
    standing = [patch, med_request("2720806", id="z1", authored=days_ago(10))]
    assert card(run("patient-view", resources=standing), CHECK) is None
    assert card(run("patient-view", resources=standing[:1]), CHECK) is not None


def test_a_site_crosswalk_still_wins_for_its_own_ndcs() -> None:
    """A site that maps one of these NDCs elsewhere keeps its own mapping (its drug file decides)."""
    config = {"ndc": {"rxnorm": {"59011-962-01": "1049621"}}}  # oxycodone 5 mg, a site's (wrong) choice
    terms = load_terminology(GuidelineConfig.from_mapping(config))
    medication = ResolvedMedication(concept=Concept((Coding(NDC, "59011-962-01"),)))
    assert not terms.medication_in(NALOXONE_RESCUE, medication)
