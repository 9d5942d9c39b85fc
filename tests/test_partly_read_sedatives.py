"""A sedative read beside an ingredient the lexicon does not know keeps its class for the opioid + sedative check,
and the card names it as partly read; an opioid read beside one keeps its class with no dose guessed."""

from __future__ import annotations

from typing import Any

import pytest
from builders import card, days_ago, med_request, run

from guideline.config import GuidelineConfig
from guideline.fhirdata import Coding, Concept
from guideline.recognition import recognise
from guideline.record import ResolvedMedication
from guideline.terminology import BENZO, CNS_DEPRESSANT, OPIOID, load_terminology

NDC = "http://hl7.org/fhir/sid/ndc"
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
CHECK = "opioid-benzodiazepine"


def ndc_only(display: str, code: str = "00406-0123-01") -> dict[str, Any]:
    """A medication known only by an NDC the packaged data lacks, named as a payer's drug file cuts its name."""
    return {"coding": [{"system": NDC, "code": code, "display": display}]}


def active_cut(display: str, **kwargs: Any) -> dict[str, Any]:
    """An active order from a medication history whose only name is the payer's cut drug name."""
    order = med_request("0", id="sed", authored=days_ago(5), **kwargs)
    order["medicationCodeableConcept"] = ndc_only(display)
    return order


def medication(display: str) -> ResolvedMedication:
    return ResolvedMedication(concept=Concept((Coding(NDC, "00406-0123-01", display),)))


# Fioricet and Soma compound cut names whose last ingredient PainPlan does not know, so each stays unidentified (the
# unread part may be an opioid); the butalbital or carisoprodol in them was read. (Their codeine, cut to "COD", is
# read: tests/test_recognition_cut_codeine.py.)
SEDATIVE_BESIDE_UNREAD = {
    "BUTALB/APAP/CAFF/XYLOPRIN CAP 50-300-40-30MG": "butalbital",
    "CARISOP/ASA/XYLOPRIN TAB 200-325-16MG": "carisoprodol",
}


@pytest.mark.parametrize("display", list(SEDATIVE_BESIDE_UNREAD))
def test_a_sedative_read_beside_an_unread_ingredient_pairs_with_a_new_opioid(display: str) -> None:
    # Before: named only as unidentified, its sedative lost, so a new oxycodone order got no opioid + sedative card.
    evaluation = run(
        "order-sign", drafts=[med_request(OXYCODONE, draft=True, id="ox1")], resources=[active_cut(display)]
    )
    found = card(evaluation, CHECK)
    assert found is not None
    assert found.facts["variant"] == "cns"
    assert found.facts["sedatives"] == [display]
    read = SEDATIVE_BESIDE_UNREAD[display]
    assert f"read as {read}" in found.detail
    assert "another ingredient in its name was not recognised (it may be an opioid)" in found.detail
    # Still named as a medicine PainPlan could not identify: its unread part may be an opioid the MME total misses.
    unidentified = card(evaluation, "unidentified-medication")
    assert unidentified is not None and display in unidentified.detail
    # ...without claiming the combination check missed it: it missed only sedatives nobody read in the name.
    assert "if any is a benzodiazepine or sedative whose name PainPlan did not read as one" in unidentified.detail
    naloxone = card(evaluation, "naloxone")
    assert naloxone is not None and "R2" in naloxone.facts["risk_factors"]


def test_a_sedative_beside_an_unread_ingredient_drafted_beside_a_current_opioid_gets_the_card() -> None:
    sedative = med_request("0", draft=True, id="new-sed")
    sedative["medicationCodeableConcept"] = ndc_only("BUTALB/APAP/CAFF/XYLOPRIN CAP 50-300-40-30MG")
    current = med_request(OXYCODONE, id="ox-active", authored=days_ago(10))
    found = card(run("order-sign", drafts=[sedative], resources=[current]), CHECK)
    assert found is not None and found.facts["sedatives"] == ["BUTALB/APAP/CAFF/XYLOPRIN CAP 50-300-40-30MG"]


def test_on_patient_view_a_sedative_beside_an_unread_ingredient_counts_with_a_current_opioid() -> None:
    current = med_request(OXYCODONE, id="ox-active", authored=days_ago(10))
    found = card(run("patient-view", resources=[current, active_cut("CARISOP/ASA/XYLOPRIN TAB 200-325-16MG")]), CHECK)
    assert found is not None and found.facts["variant"] == "cns"


def test_with_barbiturates_left_out_a_butalbital_beside_an_unread_ingredient_is_no_sedative() -> None:
    """As its code and its fully read name are not: the site's CNS depressant set decides."""
    config = {"cns": {"include_barbiturates": False}}
    drafts = [med_request(OXYCODONE, draft=True, id="ox1")]
    evaluation = run(
        "order-sign",
        drafts=drafts,
        resources=[active_cut("BUTALB/APAP/CAFF/XYLOPRIN CAP 50-300-40-30MG")],
        config=config,
    )
    assert card(evaluation, CHECK) is None
    assert card(evaluation, "unidentified-medication") is not None


def test_a_benzodiazepine_read_beside_an_unread_ingredient_is_counted_and_named_as_partly_read() -> None:
    """No product pairs a benzodiazepine with an opioid, so the class is kept; the unread ingredient is named."""
    display = "ALPRAZOLAM/XYLOPRIN TAB 1-5MG"
    evaluation = run(
        "order-sign", drafts=[med_request(OXYCODONE, draft=True, id="ox1")], resources=[active_cut(display)]
    )
    found = card(evaluation, CHECK)
    assert found is not None and found.facts["variant"] == "benzo"
    assert "Opioid with benzodiazepine:" in found.summary
    assert f"{display} (active, written 2026-06-10; read as alprazolam; another ingredient" in found.detail
    assert "(it may be an opioid)" not in found.detail


def test_a_benzodiazepine_beside_an_unread_ingredient_sold_with_opioids_still_counts_as_one() -> None:
    """No such product is sold, but whatever the name, the benzodiazepine read in it is one for the check."""
    display = "DIAZEPAM/APAP/ZZ TAB 2-325-5MG"
    terms = load_terminology(GuidelineConfig.from_mapping({}))
    recognition = recognise(medication(display), terms)
    assert recognition.kind == "unidentified"
    assert terms.medication_in(BENZO, medication(display))
    assert not terms.medication_in(OPIOID, medication(display))
    evaluation = run(
        "order-sign", drafts=[med_request(OXYCODONE, draft=True, id="ox1")], resources=[active_cut(display)]
    )
    found = card(evaluation, CHECK)
    assert found is not None and found.facts["variant"] == "benzo"


def test_an_unidentified_name_with_no_sedative_read_joins_no_sedative_set() -> None:
    terms = load_terminology(GuidelineConfig.from_mapping({}))
    for display in ("APAP/HC 325-5", "IBU/OXY TAB"):
        assert not terms.medication_in(BENZO, medication(display))
        assert not terms.medication_in(CNS_DEPRESSANT, medication(display))


def test_librax_as_drug_files_cut_it_is_read_whole() -> None:
    """ "CLIDIN" is clidinium, as "CHLORDIAZEP" is chlordiazepoxide: read whole, the name is not partly read."""
    terms = load_terminology(GuidelineConfig.from_mapping({}))
    recognition = recognise(medication("CHLORDIAZEP/CLIDIN CAP 5-2.5MG"), terms)
    assert recognition.kind == "benzodiazepine"
    assert recognition.ingredients == ("chlordiazepoxide", "clidinium")
    assert not recognition.unread_ingredient
    found = card(
        run(
            "order-sign",
            drafts=[med_request(OXYCODONE, draft=True, id="ox1")],
            resources=[active_cut("CHLORDIAZEP/CLIDIN CAP 5-2.5MG")],
        ),
        CHECK,
    )
    assert found is not None and "read as" not in found.detail


def test_an_opioid_read_beside_an_unread_ingredient_keeps_its_class_and_guesses_no_dose() -> None:
    """Which number is the opioid's cannot be told: no MME is worked out, and the dose card says so."""
    terms = load_terminology(GuidelineConfig.from_mapping({}))
    recognition = recognise(medication("OXYCOD/XYLOPRIN TAB 5-325MG"), terms)
    assert (recognition.kind, recognition.strengths, recognition.unread_ingredient) == ("opioid-no-mme", (), True)
    draft = med_request("0", draft=True, id="ox-cut")
    draft["medicationCodeableConcept"] = ndc_only("OXYCOD/XYLOPRIN TAB 5-325MG")
    found = card(run("order-sign", drafts=[draft]), "high-mme")
    assert found is not None and "could not be fully calculated" in found.summary
