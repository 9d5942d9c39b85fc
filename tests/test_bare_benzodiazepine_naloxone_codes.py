"""Benzodiazepine and naloxone RxNorm codes sent with no display or text (guideline/data/named-codes.csv): an
ingredient (IN) code, or a product only the 2016 CDC sets list, is read as the drug its source names, so the opioid +
benzodiazepine check and naloxone on hand count it; a code no source names stays named as unidentified."""

from __future__ import annotations

import csv
from typing import Any

import pytest

from guideline import terminology
from guideline.checks import CHECKS, naloxone, opioid_benzodiazepine, unidentified_medication
from guideline.config import GuidelineConfig
from guideline.fhirdata import NDC, RXNORM
from guideline.recognition import coded_names as coded_names_module
from guideline.recognition import read_name, recognise
from guideline.recognition.coded_names import NAMED_CODES_FILE, coded_names
from guideline.record import build_record
from guideline.terminology import BENZO, NALOXONE_RESCUE, load_terminology
from tests.builders import TZ, card, days_ago, dispense, med_request, run

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
FENTANYL_PATCH = "197696"  # 72 HR fentanyl 0.075 MG/HR Transdermal System: 180 MME/day
DIAZEPAM_IN = "3322"
MIDAZOLAM_IN = "6960"
NALOXONE_IN = "7242"
BUPRENORPHINE_IN = "1819"
SUBOXONE_FILM = "1010604"  # buprenorphine 8 MG / naloxone 2 MG Sublingual Film
NIRAVAM = "577634"  # alprazolam 0.25 MG disintegrating tablet [Niravam]: in the 2016 CDC set only
NARCAN_INJECTION = "1191224"  # naloxone hydrochloride 0.4 MG/ML injectable solution [Narcan]: 2016 set only
UNNAMED_CODE = "99999991"  # an RxNorm code no packaged source names


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, opioid_benzodiazepine.CHECK_ID, opioid_benzodiazepine)
    monkeypatch.setitem(CHECKS, naloxone.CHECK_ID, naloxone)
    monkeypatch.setitem(CHECKS, unidentified_medication.CHECK_ID, unidentified_medication)


def bare(*codes: str, **kwargs: Any) -> dict[str, Any]:
    """An order coded only by these RxNorm codes, with no display and no text, as some EHR feeds send them."""
    order = med_request(codes[0], **kwargs)
    order["medicationCodeableConcept"] = {"coding": [{"system": RXNORM, "code": code} for code in codes]}
    return order


def active_bare(*codes: str, **kwargs: Any) -> dict[str, Any]:
    return bare(*codes, authored=days_ago(5), **kwargs)


def oxycodone_draft() -> dict[str, Any]:
    return med_request(OXYCODONE, draft=True, id="ox1", supply_days=5)


def fentanyl_draft() -> dict[str, Any]:
    return med_request(
        FENTANYL_PATCH, draft=True, id="fe1", dose=1, unit="{patch}", frequency=1, period=72, supply_days=30
    )


def kind_of(*codes: str) -> str:
    terms = load_terminology(GuidelineConfig.from_mapping({}))
    return recognise(build_record([bare(*codes)], TZ).orders[0].medication, terms).kind


# -- a benzodiazepine coded only by its ingredient ----------------------------------------------------------------


def test_a_benzodiazepine_coded_only_by_its_ingredient_beside_a_new_opioid_gets_the_card() -> None:
    evaluation = run("order-sign", drafts=[oxycodone_draft()], resources=[active_bare(DIAZEPAM_IN, id="dz1")])
    found = card(evaluation, opioid_benzodiazepine.CHECK_ID)
    assert found is not None and found.facts["variant"] == "benzo"
    assert "diazepam (active)" in found.summary
    assert "unnamed medication" not in found.summary + found.detail


def test_a_new_benzodiazepine_order_coded_only_by_its_ingredient_beside_an_active_opioid_gets_the_card() -> None:
    opioid = med_request(OXYCODONE, id="ox1", authored=days_ago(5))
    evaluation = run("order-sign", drafts=[bare(MIDAZOLAM_IN, draft=True, id="mz1")], resources=[opioid])
    found = card(evaluation, opioid_benzodiazepine.CHECK_ID)
    assert found is not None and "midazolam (new)" in found.summary


def test_a_home_medication_statement_coded_only_by_a_benzodiazepine_ingredient_gets_the_card() -> None:
    statement = {
        "resourceType": "MedicationStatement",
        "id": "ms-dz",
        "status": "active",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": DIAZEPAM_IN}]},
        "effectivePeriod": {"start": "2024-03-01"},
        "dateAsserted": days_ago(30),
        "dosage": [{"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}}],
    }
    evaluation = run("order-sign", drafts=[oxycodone_draft()], resources=[statement])
    found = card(evaluation, opioid_benzodiazepine.CHECK_ID)
    assert found is not None and "diazepam (reported as taken" in found.detail


def test_an_ingredient_coded_benzodiazepine_is_in_the_benzodiazepine_sets() -> None:
    terms = load_terminology(GuidelineConfig.from_mapping({}))
    medication = build_record([bare(DIAZEPAM_IN)], TZ).orders[0].medication
    assert recognise(medication, terms).kind == "benzodiazepine"
    assert terms.medication_in(BENZO, medication)
    assert terms.medication_in("benzodiazepine-medications", medication)  # explains a benzodiazepine urine result
    assert terms.medication_name(medication) == "diazepam"


# -- naloxone coded only by its ingredient ------------------------------------------------------------------------


def test_naloxone_coded_only_by_its_ingredient_counts_as_naloxone_on_hand() -> None:
    without = run("order-sign", drafts=[fentanyl_draft()])
    assert card(without, naloxone.CHECK_ID) is not None
    evaluation = run("order-sign", drafts=[fentanyl_draft()], resources=[active_bare(NALOXONE_IN, id="nx1")])
    assert card(evaluation, naloxone.CHECK_ID) is None


def test_a_naloxone_ingredient_fill_counts_as_naloxone_on_hand() -> None:
    evaluation = run("order-sign", drafts=[fentanyl_draft()], resources=[dispense(NALOXONE_IN, days_ago(30))])
    assert card(evaluation, naloxone.CHECK_ID) is None


def test_the_naloxone_ingredient_beside_a_buprenorphine_code_is_no_rescue_product() -> None:
    # Buprenorphine/naloxone sent by its ingredients, or its product code with the ingredient codes listed too:
    # the naloxone in it is an abuse deterrent, never naloxone at home, nor what the order is called.
    assert kind_of(BUPRENORPHINE_IN, NALOXONE_IN) != "naloxone"
    assert kind_of(SUBOXONE_FILM, NALOXONE_IN) == "moud"
    terms = load_terminology(GuidelineConfig.from_mapping({}))
    medication = build_record([bare(BUPRENORPHINE_IN, NALOXONE_IN)], TZ).orders[0].medication
    assert terms.medication_name(medication) != "naloxone"
    assert not terms.medication_in(NALOXONE_RESCUE, medication)


def test_codes_of_two_classes_side_by_side_are_not_guessed() -> None:
    # No product holds naloxone and diazepam: which one was meant cannot be told, so it stays named.
    assert kind_of(NALOXONE_IN, DIAZEPAM_IN) == "unidentified"


def test_the_naloxone_ingredient_beside_an_ndc_is_not_guessed_to_be_a_rescue_product() -> None:
    # The NDC may be a buprenorphine/naloxone film's: with no crosswalk to say, naloxone at home is no safe guess.
    order = bare(NALOXONE_IN)
    order["medicationCodeableConcept"]["coding"].append({"system": NDC, "code": "12496-1208-03"})
    terms = load_terminology(GuidelineConfig.from_mapping({}))
    medication = build_record([order], TZ).orders[0].medication
    assert recognise(medication, terms).kind == "unidentified"


def test_a_product_code_with_its_own_ingredient_code_is_read_as_that_product() -> None:
    assert kind_of(NARCAN_INJECTION, NALOXONE_IN) == "naloxone"


# -- products only the 2016 CDC sets list ---------------------------------------------------------------------------


def test_a_bare_code_of_a_benzodiazepine_only_the_2016_set_lists_gets_the_card() -> None:
    evaluation = run("order-sign", drafts=[oxycodone_draft()], resources=[active_bare(NIRAVAM, id="nv1")])
    found = card(evaluation, opioid_benzodiazepine.CHECK_ID)
    assert found is not None and "Alprazolam 0.25 MG Disintegrating Oral Tablet [Niravam] (active" in found.detail


def test_a_bare_code_of_naloxone_only_the_2016_set_lists_counts_as_naloxone_on_hand() -> None:
    evaluation = run("order-sign", drafts=[fentanyl_draft()], resources=[active_bare(NARCAN_INJECTION)])
    assert card(evaluation, naloxone.CHECK_ID) is None


# -- codes no source names stay named --------------------------------------------------------------------------------


def test_a_code_no_source_names_stays_unidentified_and_named() -> None:
    assert kind_of(UNNAMED_CODE) == "unidentified"
    evaluation = run("order-sign", drafts=[oxycodone_draft()], resources=[active_bare(UNNAMED_CODE, id="uk1")])
    assert card(evaluation, opioid_benzodiazepine.CHECK_ID) is None
    named = card(evaluation, unidentified_medication.CHECK_ID)
    assert named is not None and f"RxNorm {UNNAMED_CODE}" in named.summary + named.detail


# -- the table --------------------------------------------------------------------------------------------------------


def test_every_named_code_reads_as_a_benzodiazepine_or_naloxone_alone() -> None:
    names = coded_names()
    assert names[NALOXONE_IN].name == "naloxone" and names[DIAZEPAM_IN].name == "diazepam"
    for code, named in names.items():
        kinds = {i.kind for i in read_name(named.name).ingredients}
        assert named.kind in kinds and kinds & {"benzodiazepine", "naloxone"} == {named.kind}, code
        assert "opioid" not in kinds, code  # a combination with an opioid is no rescue product


def test_every_row_cites_its_source() -> None:
    with NAMED_CODES_FILE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(row["source"].strip() and row["level"] in ("ingredient", "product") for row in rows)


def test_a_rescue_product_read_by_its_code_is_in_the_rescue_set() -> None:
    terms = load_terminology(GuidelineConfig.from_mapping({}))
    medication = build_record([bare(NARCAN_INJECTION)], TZ).orders[0].medication
    assert terms.medication_in(NALOXONE_RESCUE, medication)


def test_the_named_codes_are_read_when_the_terminology_loads() -> None:
    """Read with the packaged data at start-up (a broken row stops loading), never by the first call meeting a code."""
    coded_names_module._every_coded_name.cache_clear()
    terminology._data.__wrapped__()  # the packaged data read afresh, its cached copy left as it is
    assert coded_names_module._every_coded_name.cache_info().currsize == 1
