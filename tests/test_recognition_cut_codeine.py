"""Codeine as claims and pharmacy systems cut it: "COD" ("APAP/COD 300-30 TAB", "GUAIFENESIN-COD",
"BROMPHENIRAMINE/PSE/COD"), and promethazine with phenylephrine as "PROMETHAZINE VC" ("PROMETHAZINE VC/COD SYR").
Beside an ingredient sold with codeine, COD is codeine, with its dose when the name gives a strength or a Tylenol
number implies one; cod liver oil is no opioid."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from builders import UCUM, card, days_ago, med_request, run

from guideline.config import GuidelineConfig
from guideline.fhirdata import Concept
from guideline.recognition import Recognition, recognise
from guideline.record import ResolvedMedication
from guideline.terminology import load_terminology

NDC = "http://hl7.org/fhir/sid/ndc"
LORAZEPAM = "197900"  # lorazepam 1 MG Oral Tablet


def named(text: str) -> Recognition:
    return recognise(ResolvedMedication(concept=Concept(text=text)), load_terminology(GuidelineConfig.from_mapping()))


def claim_name(display: str, code: str = "00121-0775-04") -> dict[str, Any]:
    """Known only by its NDC (11 digits, no dashes, as claims send it) and the drug file's cut name."""
    return {"coding": [{"system": NDC, "code": code.replace("-", ""), "display": display}]}


def liquid(concept: dict[str, Any], id: str = "cough") -> dict[str, Any]:
    """5 mL every 4 hours as needed (to 6 doses a day): 60 mg of codeine a day at 10 mg/5 mL, 9 MME/day."""
    order = med_request("0", id=id, draft=True, supply_days=5, quantity=120, unit="mL", as_needed=True)
    order["medicationCodeableConcept"] = concept
    instruction = order["dosageInstruction"][0]
    instruction["timing"] = {"repeat": {"frequency": 1, "period": 4, "periodUnit": "h", "periodMax": 6}}
    instruction["text"] = "Take 5 mL by mouth every 4-6 hours as needed for cough"
    instruction["doseAndRate"] = [{"doseQuantity": {"value": 5, "unit": "mL", "system": UCUM, "code": "mL"}}]
    return order


def tablets(concept: dict[str, Any], id: str = "tab") -> dict[str, Any]:
    """1 tablet every 6 hours: 4 a day."""
    order = med_request("0", id=id, draft=True, frequency=1, period=6, period_unit="h", supply_days=5, quantity=20)
    order["medicationCodeableConcept"] = concept
    return order


def counted(order: dict[str, Any]):
    evaluation = run("order-sign", drafts=[order])
    (result,) = [o for o in evaluation.facts.mme.orders if o.order.id == order["id"]]
    return result, evaluation


@pytest.mark.parametrize(
    ("display", "partners"),
    [
        ("PROMETHAZINE VC/COD SYR", {"promethazine", "phenylephrine"}),
        ("PROMETHAZINE VC W/COD SYRUP", {"promethazine", "phenylephrine"}),
        ("GUAIFENESIN-COD", {"guaifenesin"}),
        ("BROMPHENIRAMINE/PSE/COD", {"brompheniramine", "pseudoephedrine"}),
        ("APAP/COD TAB", {"acetaminophen"}),
        ("BUTALB/APAP/CAFF/COD CAP", {"butalbital", "acetaminophen", "caffeine"}),
    ],
)
def test_cod_beside_a_codeine_partner_is_codeine(display: str, partners: set[str]) -> None:
    """Each was unidentified ("Could not identify ...: the opioid checks did not count it")."""
    recognition = named(display)
    assert recognition.is_opioid, recognition.kind
    assert set(recognition.ingredients) == {"codeine", *partners}


@pytest.mark.parametrize(
    ("display", "mme"),
    [
        ("PROMETHAZINE VC/COD 6.25-5-10 MG/5ML SYR", "9.0"),
        ("GUAIFENESIN-COD 100-10 MG/5ML LIQ", "9.0"),
        ("BROMPHENIRAMINE/PSE/COD 2-30-10 MG/5ML LIQD", "9.0"),
    ],
)
def test_a_cut_cough_syrup_with_its_strengths_counts_its_codeine(display: str, mme: str) -> None:
    result, _ = counted(liquid(claim_name(display)))
    assert result.state == "ok", result.explanation
    assert result.mme == Decimal(mme)


@pytest.mark.parametrize(
    ("display", "mme"),
    [
        ("APAP/COD 300-30 TAB", "18.0"),  # 4 × 30 mg codeine × 0.15
        ("ACETAMINOPHEN-COD #3", "18.0"),  # #3: 300 mg with 30 mg codeine
        ("APAP/COD #4 TAB", "36.0"),  # #4: 60 mg codeine
        ("ACETAMINOPHEN-COD #2 TABLET", "9.0"),
    ],
)
def test_a_cut_tylenol_with_codeine_counts_its_codeine(display: str, mme: str) -> None:
    result, _ = counted(tablets(claim_name(display, "00093-0350-01")))
    assert result.state == "ok", result.explanation
    assert result.mme == Decimal(mme)


def test_a_cut_cough_syrup_without_strength_is_an_opioid_whose_dose_is_named() -> None:
    """No strength written and none implied: an opioid whose dose is unknown, on the dose card, never guessed."""
    result, evaluation = counted(liquid(claim_name("PROMETHAZINE VC/COD SYR")))
    assert result.state == "unknown" and result.mme is None
    assert card(evaluation, "unidentified-medication") is None
    high = card(evaluation, "high-mme")
    assert high is not None and "PROMETHAZINE VC/COD SYR" in high.detail


def test_a_cut_codeine_syrup_beside_a_benzodiazepine_gives_the_card() -> None:
    lorazepam = med_request(LORAZEPAM, id="lz", authored=days_ago(10), frequency=2, period=1, period_unit="d")
    evaluation = run(
        "order-sign", drafts=[liquid(claim_name("GUAIFENESIN-COD 100-10 MG/5ML LIQ"))], resources=[lorazepam]
    )
    assert card(evaluation, "opioid-benzodiazepine") is not None


@pytest.mark.parametrize("text", ["COD LIVER OIL", "COD LIVER OIL 1,000 MG CAPSULE", "cod liver oil liquid"])
def test_cod_liver_oil_is_no_opioid(text: str) -> None:
    recognition = named(text)
    assert not recognition.is_opioid
    assert "codeine" not in recognition.ingredients


@pytest.mark.parametrize("text", ["PROMETHAZINE VC SYRUP", "promethazine VC 6.25-5 mg/5 mL syrup"])
def test_promethazine_vc_without_codeine_is_not_an_opioid(text: str) -> None:
    """Promethazine with phenylephrine: both read, nothing left unread, not relevant (it was read as promethazine
    with a strength left over, unidentified)."""
    recognition = named(text)
    assert recognition.kind == "not-relevant", recognition.kind
    assert set(recognition.ingredients) == {"promethazine", "phenylephrine"}


@pytest.mark.parametrize("text", ["COD/FOO TAB", "METFORMIN COD"])
def test_cod_beside_no_codeine_partner_is_not_read_as_codeine(text: str) -> None:
    assert "codeine" not in named(text).ingredients


@pytest.mark.parametrize(
    ("display", "mme"),
    [
        ("BUTALB/APAP/CAFF/COD CAP 50-300-40-30MG", "18.00"),  # Fioricet with codeine: 4 × 30 mg × 0.15
        ("CARISOP/ASA/COD TAB 200-325-16MG", "9.60"),  # Soma compound with codeine: 4 × 16 mg × 0.15
    ],
)
def test_a_cut_codeine_with_a_sedative_is_read_whole(display: str, mme: str) -> None:
    """It was unidentified (its "COD" unread): its sedative counted, its codeine out of the MME total. Read whole it
    is an opioid and a sedative at once: in the total, on the opioid + sedative card, no longer unidentified."""
    oxycodone = med_request("1049621", draft=True, id="ox1")
    current = med_request("0", id="sed", authored=days_ago(5))
    current["medicationCodeableConcept"] = claim_name(display, "00591-3219-01")
    evaluation = run("order-sign", drafts=[oxycodone], resources=[current])
    found = card(evaluation, "opioid-benzodiazepine")
    assert found is not None and found.facts["sedatives"] == [display]
    assert "not recognised" not in found.detail
    assert card(evaluation, "unidentified-medication") is None
    (line,) = [o for o in evaluation.facts.mme.orders if o.order.id == "sed"]
    assert line.mme == Decimal(mme)
