"""A FHIR Medication (contained or on the server) with no code of its own, whose ingredient list holds only bare
RxNorm codes PainPlan names (an opioid, benzodiazepine or naloxone ingredient, no display, no text), is read and
named by them, by the rule that reads such codes on the order itself (`guideline.recognition.coded_names`)."""

from __future__ import annotations

from typing import Any

import pytest

from guideline.checks import CHECKS, naloxone, opioid_benzodiazepine, unidentified_medication
from guideline.config import GuidelineConfig
from guideline.fhirdata import NDC, RXNORM
from guideline.recognition import recognise
from guideline.record import ResolvedMedication, build_record
from guideline.set_names import UNNAMED_MEDICATION
from guideline.terminology import BENZO, NALOXONE_RESCUE, load_terminology
from tests.builders import TZ, card, days_ago, med_request, run

OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
FENTANYL_PATCH = "197696"  # 72 HR fentanyl 0.075 MG/HR Transdermal System: 180 MME/day
OXYCODONE_IN = "7804"
DIAZEPAM_IN = "3322"
NALOXONE_IN = "7242"
BUPRENORPHINE_IN = "1819"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, opioid_benzodiazepine.CHECK_ID, opioid_benzodiazepine)
    monkeypatch.setitem(CHECKS, naloxone.CHECK_ID, naloxone)
    monkeypatch.setitem(CHECKS, unidentified_medication.CHECK_ID, unidentified_medication)


def listed(code: str, *, active: bool | None = None) -> dict[str, Any]:
    """An ingredient coded only by an RxNorm code, with no display and no text."""
    item: dict[str, Any] = {"itemCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]}}
    if active is not None:
        item["isActive"] = active
    return item


def drug_record(*ingredients: dict[str, Any], code: dict[str, Any] | None = None) -> dict[str, Any]:
    medication: dict[str, Any] = {"resourceType": "Medication", "id": "erx", "ingredient": list(ingredients)}
    if code is not None:
        medication["code"] = code
    return medication


def contained_order(*ingredients: dict[str, Any], draft: bool = False, id: str = "co1") -> dict[str, Any]:
    """An Epic-shaped order whose drug record is contained, referenced with no display, and has no code."""
    order = med_request(OXYCODONE_5, draft=draft, id=id, authored=days_ago(0 if draft else 5))
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": "#erx"}
    order["contained"] = [drug_record(*ingredients)]
    return order


def referenced_order(*ingredients: dict[str, Any], id: str = "ro1") -> list[dict[str, Any]]:
    """An order naming a Medication on the server, with no display, and that Medication."""
    order = med_request(OXYCODONE_5, id=id, authored=days_ago(5))
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": "Medication/m1"}
    medication = drug_record(*ingredients)
    medication["id"] = "m1"
    return [order, medication]


def medication_of(*resources: dict[str, Any]) -> ResolvedMedication:
    return build_record(list(resources), TZ).orders[0].medication


def terms():  # noqa: ANN201 - the packaged terminology
    return load_terminology(GuidelineConfig.from_mapping({}))


def oxycodone_draft() -> dict[str, Any]:
    return med_request(OXYCODONE_5, draft=True, id="ox1", supply_days=5)


def fentanyl_draft() -> dict[str, Any]:
    return med_request(
        FENTANYL_PATCH, draft=True, id="fe1", dose=1, unit="{patch}", frequency=1, period=72, supply_days=30
    )


# -- read and named by its ingredient list -----------------------------------------------------------------------------


def test_a_contained_drug_record_listing_only_diazepam_s_code_gets_the_benzodiazepine_card() -> None:
    evaluation = run("order-sign", drafts=[oxycodone_draft()], resources=[contained_order(listed(DIAZEPAM_IN))])
    found = card(evaluation, opioid_benzodiazepine.CHECK_ID)
    assert found is not None and "diazepam (active)" in found.summary
    assert card(evaluation, unidentified_medication.CHECK_ID) is None


def test_a_server_drug_record_listing_only_naloxone_s_code_is_naloxone_on_hand() -> None:
    without = run("order-sign", drafts=[fentanyl_draft()])
    assert card(without, naloxone.CHECK_ID) is not None
    evaluation = run("order-sign", drafts=[fentanyl_draft()], resources=referenced_order(listed(NALOXONE_IN)))
    assert card(evaluation, naloxone.CHECK_ID) is None
    medication = medication_of(*referenced_order(listed(NALOXONE_IN)))
    assert terms().medication_in(NALOXONE_RESCUE, medication)
    assert terms().medication_name(medication) == "naloxone"


def test_a_drug_record_listing_only_diazepam_s_code_is_in_the_benzodiazepine_sets() -> None:
    medication = medication_of(contained_order(listed(DIAZEPAM_IN)))
    assert recognise(medication, terms()).kind == "benzodiazepine"
    assert terms().medication_in(BENZO, medication)
    assert terms().medication_name(medication) == "diazepam"


def test_a_drug_record_listing_only_an_opioid_ingredient_code_is_named() -> None:
    medication = medication_of(*referenced_order(listed(OXYCODONE_IN)))
    assert recognise(medication, terms()).kind in ("known-opioid", "opioid-no-mme")
    assert terms().medication_name(medication) == "oxycodone"


def test_an_ingredient_given_by_reference_to_a_contained_substance_is_read_by_its_bare_code() -> None:
    order = contained_order({"itemReference": {"reference": "#dz"}})
    order["contained"][0]["contained"] = [
        {"resourceType": "Substance", "id": "dz", "code": {"coding": [{"system": RXNORM, "code": DIAZEPAM_IN}]}}
    ]
    assert terms().medication_name(medication_of(order)) == "diazepam"


# -- the same rule: every code named, all of one class ---------------------------------------------------------------


def test_naloxone_listed_beside_buprenorphine_is_no_rescue_product() -> None:
    medication = medication_of(contained_order(listed(BUPRENORPHINE_IN), listed(NALOXONE_IN)))
    assert recognise(medication, terms()).kind != "naloxone"
    assert not terms().medication_in(NALOXONE_RESCUE, medication)
    assert terms().medication_name(medication) == UNNAMED_MEDICATION


def test_an_inactive_naloxone_beside_an_opioid_is_left_out_and_the_opioid_named() -> None:
    medication = medication_of(contained_order(listed(OXYCODONE_IN), listed(NALOXONE_IN, active=False)))
    assert recognise(medication, terms()).kind != "naloxone"
    assert terms().medication_name(medication) == "oxycodone"


def test_an_inactive_naloxone_alone_is_no_rescue_product() -> None:
    medication = medication_of(contained_order(listed(NALOXONE_IN, active=False)))
    assert not terms().medication_in(NALOXONE_RESCUE, medication)


def test_a_drug_record_with_its_own_ndc_is_not_named_by_its_ingredient_code() -> None:
    # The NDC may be a buprenorphine/naloxone film's: with no crosswalk to say, naloxone at home is no safe guess.
    order = contained_order(listed(NALOXONE_IN))
    order["contained"][0]["code"] = {"coding": [{"system": NDC, "code": "12496-1208-03"}]}
    medication = medication_of(order)
    assert not terms().medication_in(NALOXONE_RESCUE, medication)


def test_an_ingredient_named_with_no_code_beside_a_bare_code_is_left_to_the_names() -> None:
    # Buprenorphine listed by its name only, naloxone by its bare code: the code is not read as naloxone at home.
    medication = medication_of(contained_order({"itemCodeableConcept": {"text": "buprenorphine"}}, listed(NALOXONE_IN)))
    assert not terms().medication_in(NALOXONE_RESCUE, medication)


@pytest.mark.parametrize("named_by", ["text", "reference display"])
def test_a_drug_record_with_a_name_is_not_read_by_a_partial_list_of_bare_codes(named_by: str) -> None:
    # Buprenorphine/naloxone film whose list gives only naloxone's code: its name says what it is, never the list.
    order = contained_order(listed(NALOXONE_IN))
    if named_by == "text":
        order["contained"][0]["code"] = {"text": "buprenorphine-naloxone 8-2 mg SL film"}
    else:
        order["medicationReference"]["display"] = "buprenorphine-naloxone 8-2 mg SL film"
    medication = medication_of(order)
    assert recognise(medication, terms()).kind != "naloxone"
    assert not terms().medication_in(NALOXONE_RESCUE, medication)
    assert terms().medication_name(medication) == "buprenorphine-naloxone 8-2 mg SL film"
