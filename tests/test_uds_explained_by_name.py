"""A urine drug test result is explained by a medicine identified from its name as it is by one identified from its
code: a butalbital read in a name explains a barbiturate result even when the rest of the name was not read, and
the butalbital never stands in for the codeine an opioid set holds it beside."""

from __future__ import annotations

from typing import Any

import pytest

from guideline.checks import CHECKS, unexpected_uds_result
from guideline.checks.unexpected_uds_result import CHECK_ID
from tests.builders import LOINC, PATIENT_ID, SNOMED, card, days_ago, med_request, run

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
BARBITURATE_SCREEN = ("19270-8", "Barbiturates [Presence] in Urine by Screen method")
OPIATE_SCREEN = ("19295-5", "Opiates [Presence] in Urine by Screen method")
COCAINE_SCREEN = ("14314-9", "Benzoylecgonine [Presence] in Urine by Screen method")
EPIC_MEDICATION = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"  # an Epic site's own medication records (ERX)
NDC = "http://hl7.org/fhir/sid/ndc"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, CHECK_ID, unexpected_uds_result)


def drug_screen(test: tuple[str, str], days: int, positive: bool) -> dict[str, Any]:
    """A urine screen as Epic sends a lab component: coded value and interpretation, with the lab's own text."""
    word, snomed, flag = ("Positive", "10828004", "POS") if positive else ("Negative", "260385009", "NEG")
    return {
        "resourceType": "Observation",
        "id": f"uds-{test[0]}-{days}",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                        "display": "Laboratory",
                    }
                ],
                "text": "Laboratory",
            }
        ],
        "code": {
            "coding": [
                {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.21", "code": "1554", "display": "BARB UR"},
                {"system": LOINC, "code": test[0], "display": test[1]},
            ],
            "text": test[1],
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}", "display": "Rivera, Alex"},
        "effectiveDateTime": f"{days_ago(days)}T09:40:00-04:00",
        "issued": f"{days_ago(days)}T14:02:11Z",
        "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": snomed, "display": word}], "text": word},
        "interpretation": [{"coding": [{"system": INTERPRETATION, "code": flag}], "text": word}],
    }


def order(concept: dict[str, Any]) -> dict[str, Any]:
    """An active outpatient order written 10 days ago for a 30-day supply, with the medication as given."""
    request = med_request("0", id="named", authored=days_ago(10))
    request["medicationCodeableConcept"] = concept
    return request


def unexpected(*resources: dict[str, Any]) -> list[str]:
    """The substances the unexpected-result card names, for a new oxycodone order."""
    drafts = [med_request(OXYCODONE, draft=True, id="ox1", supply_days=5)]
    found = card(run("order-sign", drafts=drafts, resources=list(resources)), CHECK_ID)
    return [] if found is None else [item["substance"] for item in found.facts["unexpected"]]


# Fioricet with codeine as a payer's drug file cuts its name: its "COD" is read as codeine beside butalbital,
# acetaminophen and caffeine, and the butalbital explains the barbiturate result as the product's code would.
CUT_WITH_CODEINE = {
    "coding": [{"system": NDC, "code": "00591-3219-01", "display": "BUTALB/APAP/CAFF/COD CAP 50-300-40-30MG"}]
}
TEXT_ONLY = {"text": "butalbital-APAP-caffeine 50-325-40"}
EPIC_LOCAL = {
    "coding": [{"system": EPIC_MEDICATION, "code": "31245", "display": "butalbital-APAP-caffeine 50-325-40"}],
    "text": "butalbital-APAP-caffeine 50-325-40",
}


@pytest.mark.parametrize("concept", [CUT_WITH_CODEINE, TEXT_ONLY, EPIC_LOCAL], ids=["cut", "text", "epic"])
def test_a_butalbital_read_in_a_name_explains_a_barbiturate_positive(concept: dict[str, Any]) -> None:
    # A cocaine positive the same day makes the card fire, so the barbiturate's absence from it is a judgement.
    found = unexpected(
        order(concept), drug_screen(BARBITURATE_SCREEN, 3, positive=True), drug_screen(COCAINE_SCREEN, 3, True)
    )
    assert found == ["cocaine"]


def test_without_the_butalbital_the_barbiturate_positive_is_unexpected() -> None:
    found = unexpected(drug_screen(BARBITURATE_SCREEN, 3, positive=True), drug_screen(COCAINE_SCREEN, 3, True))
    assert found == ["barbiturate", "cocaine"]


@pytest.mark.parametrize("concept", [TEXT_ONLY, EPIC_LOCAL], ids=["text", "epic"])
def test_butalbital_without_codeine_by_name_does_not_explain_an_opiate_positive(concept: dict[str, Any]) -> None:
    # Before: the opioid sets hold Fioricet with codeine, so butalbital was read as in them, and an opiate positive
    # beside plain Fioricet was called expected.
    found = unexpected(order(concept), drug_screen(OPIATE_SCREEN, 3, positive=True))
    assert found == ["opiate"]


@pytest.mark.parametrize("concept", [TEXT_ONLY, EPIC_LOCAL], ids=["text", "epic"])
def test_butalbital_without_codeine_by_name_makes_no_opiate_negative_unexpected(concept: dict[str, Any]) -> None:
    found = unexpected(
        order(concept), drug_screen(OPIATE_SCREEN, 3, positive=False), drug_screen(COCAINE_SCREEN, 3, True)
    )
    assert found == ["cocaine"]
