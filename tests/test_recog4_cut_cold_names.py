"""Cut names: a cut cough and cold name whose last letter may begin an opioid or another cough and cold
ingredient is worded as either."""

from __future__ import annotations

from typing import Any

from builders import days_ago, med_request

from guideline.config import GuidelineConfig
from guideline.fhirdata import Coding, Concept
from guideline.recognition import Recognition, partly_read, recognise
from guideline.record import ResolvedMedication
from guideline.terminology import load_terminology

NDC = "http://hl7.org/fhir/sid/ndc"
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet


def named(text: str, system: str | None = None, code: str | None = None) -> Recognition:
    """Text only, or (with a code) a coding with the name as its display, as claims and Epic send them."""
    concept = Concept(text=text) if system is None else Concept((Coding(system, code, text),))
    return recognise(ResolvedMedication(concept=concept), load_terminology(GuidelineConfig.from_mapping()))


def active(concept: dict[str, Any], id: str = "cur") -> dict[str, Any]:
    order = med_request("0", id=id, authored=days_ago(5))
    order["medicationCodeableConcept"] = concept
    return order


# ---- 2. a cut "/D" after chlorpheniramine and phenylephrine ---------------------------------------------------------


def test_a_cut_cold_medicine_ending_d_is_named_as_ambiguous() -> None:
    """The packaged table sells dihydrocodeine with chlorpheniramine and phenylephrine (ColdCough PD, 1234957), so
    the name stays named; but "D" as often begins dextromethorphan: the words say both."""
    recognition = named("CHLORPHENIRAMINE/PHENYLEPHRINE/D", NDC, "00121064516")
    assert recognition.unidentified
    assert recognition.cut_opioids == ("dihydrocodeine",)
    for words in (recognition.display, partly_read(recognition) or ""):
        assert "may include dihydrocodeine" in words
        assert "or a cough and cold ingredient instead" in words


def test_fioricet_cut_before_codeine_keeps_its_plain_words() -> None:
    """Butalbital is no cough and cold ingredient: "/C" after it is worded as before."""
    recognition = named("BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C", NDC, "00591321901")
    assert "may include codeine" in recognition.display
    assert "cough and cold" not in recognition.display
