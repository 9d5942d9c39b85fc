"""Names cut short by claims and pharmacy systems (35 characters): Fioricet with codeine arrives as
"BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C". A cut last fragment that could begin an opioid the drug table sells with the
ingredients read is named as possibly that opioid, never read silently as the non-opioid product; the butalbital
still counts as a sedative, and no dose is invented."""

from __future__ import annotations

from typing import Any

import pytest
from builders import card, days_ago, med_request, run

from guideline.config import GuidelineConfig
from guideline.fhirdata import Coding, Concept
from guideline.recognition import Recognition, partly_read, recognise
from guideline.record import ResolvedMedication
from guideline.terminology import load_terminology

NDC = "http://hl7.org/fhir/sid/ndc"
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
FIORICET_CODEINE_NDC = "00591-3219-01"  # butalbital/APAP/caffeine/codeine 50-300-40-30 mg capsule


def claim(display: str, code: str = FIORICET_CODEINE_NDC) -> dict[str, Any]:
    """Known only by its NDC (11 digits, as claims send it) and the drug file's name, cut at 35 characters."""
    return {"coding": [{"system": NDC, "code": code.replace("-", ""), "display": display}]}


def named(display: str) -> Recognition:
    medication = ResolvedMedication(concept=Concept((Coding(NDC, FIORICET_CODEINE_NDC.replace("-", ""), display),)))
    return recognise(medication, load_terminology(GuidelineConfig.from_mapping()))


def active(display: str) -> dict[str, Any]:
    order = med_request("0", id="fio", authored=days_ago(5))
    order["medicationCodeableConcept"] = claim(display)
    return order


CUT_WITH_CODEINE = {
    "BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C": "butalbital",  # 35 characters, Fioricet with codeine
    "BUTALBITAL/ACETAMINOPHEN/CAFFEINE/CO": "butalbital",
    "CARISOPRODOL/ASPIRIN/C": "carisoprodol",  # Soma compound with codeine
    "BUTALBITAL-ASPIRIN-CAFFEINE-C": "butalbital",  # Fiorinal with codeine
}


@pytest.mark.parametrize("display", list(CUT_WITH_CODEINE))
def test_a_cut_name_that_may_hold_codeine_is_named_never_the_plain_product(display: str) -> None:
    """Before: read as butalbital (or carisoprodol), a sedative with no opioid; its codeine lost with no word."""
    recognition = named(display)
    assert recognition.unidentified, recognition.kind
    assert not recognition.is_opioid  # no dose, no strength invented
    assert not recognition.strengths
    assert CUT_WITH_CODEINE[display] in recognition.ingredients
    assert "looks cut" in recognition.display and "codeine" in recognition.display
    assert "may include codeine" in (partly_read(recognition) or "")


def test_a_cut_fioricet_name_is_named_on_the_card_and_its_butalbital_still_counts() -> None:
    display = "BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C"
    evaluation = run("order-sign", drafts=[med_request(OXYCODONE, draft=True, id="ox1")], resources=[active(display)])
    unidentified = card(evaluation, "unidentified-medication")
    assert unidentified is not None
    assert display in unidentified.detail and "may include codeine" in unidentified.detail
    sedative = card(evaluation, "opioid-benzodiazepine")
    assert sedative is not None and sedative.facts["variant"] == "cns"
    assert "may include codeine" in sedative.detail


@pytest.mark.parametrize(
    ("display", "kind"),
    [
        ("BUTALBITAL/APAP/CAFFEINE 50-325-40", "sedative"),  # uncut Fioricet
        ("BUTALBITAL/ACETAMINOPHEN/CAFFEINE/X", "sedative"),  # cut, but X begins no opioid
        ("BUTALBITAL/ACETAMINOPHEN/CAFFEINE/D", "sedative"),  # no opioid beginning D is sold with butalbital
        ("ACETAMINOPHEN/CAFFEINE 500-65 TAB", "not-relevant"),
    ],
)
def test_a_name_not_cut_before_an_opioid_reads_as_before(display: str, kind: str) -> None:
    recognition = named(display)
    assert recognition.kind == kind
    assert "looks cut" not in recognition.display


def test_a_cut_fioricet_draft_is_named_as_a_medication_not_identified() -> None:
    """Signing it: before, a sedative order with no word that it may hold codeine."""
    draft = med_request("0", draft=True, id="fio-new", frequency=1, period=4, period_unit="h", supply_days=5)
    draft["medicationCodeableConcept"] = claim("BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C")
    unidentified = card(run("order-sign", drafts=[draft]), "unidentified-medication")
    assert unidentified is not None
    assert "BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C (the name looks cut and may include codeine)" in unidentified.detail


def test_with_barbiturates_left_out_a_cut_fioricet_name_is_still_named() -> None:
    """Before: its butalbital not counted by the site, it was not relevant, with no card and no word."""
    evaluation = run(
        "order-sign",
        drafts=[med_request(OXYCODONE, draft=True, id="ox1")],
        resources=[active("BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C")],
        config={"cns": {"include_barbiturates": False}},
    )
    assert card(evaluation, "opioid-benzodiazepine") is None
    unidentified = card(evaluation, "unidentified-medication")
    assert unidentified is not None and "may include codeine" in unidentified.detail
