"""The sets the checks read agree with how a medication is classified, on every path recognition takes: a code of
any RxNorm term type, a drug-table code outside the value sets, an RxNorm ingredient code (IN or PIN) in a
Medication's ingredient list, an NDC, a brand or ingredient name. A medicine recognised as an opioid, a sedative,
naloxone or MOUD is never left out of the set that class stands for, and nothing is in a set its class denies."""

from __future__ import annotations

from typing import Any

import pytest
from builders import TZ, card, days_ago, med_request, run

from guideline import terminology as t
from guideline.config import GuidelineConfig
from guideline.fhirdata import NDC, RXNORM, UCUM
from guideline.recognition import OPIOID_KINDS, recognise
from guideline.record import ResolvedMedication, build_record
from guideline.terminology import Terminology, load_terminology

EPIC_ERX = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"  # Epic's own medication (ERX) codes
LORAZEPAM_1 = "197901"
OXYCODONE_IN = "7804"
OXYCODONE_HCL_PIN = "32680"
NALTREXONE_IN = "7243"
TUSSIONEX = "1087463"  # 12 HR chlorpheniramine / hydrocodone polistirex ER suspension [Tussionex]: drug table only
MORPHINE_INJECTION = "892531"  # morphine sulfate 10 MG/ML Injectable Solution: drug table only
OXYCODONE_NDC = "0406-0552-01"

# The set each class stands for, and the classes each set may hold (a combination of an opioid with butalbital is
# an opioid in the sedative set; methadone tablets for pain are opioids in the MOUD set; A.4 buprenorphine and
# the opioid treatment programs' methadone are MOUD in the opioid set).
SET_OF_KIND: dict[str, str] = {
    **dict.fromkeys(OPIOID_KINDS, t.OPIOID),
    "benzodiazepine": t.BENZO,
    "sedative": t.CNS_DEPRESSANT,
    "naloxone": t.NALOXONE_RESCUE,
    "moud": t.MOUD,
}
KINDS_IN_SET: dict[str, frozenset[str]] = {
    t.OPIOID: OPIOID_KINDS | {"moud"},
    t.BENZO: frozenset({"benzodiazepine"}),
    t.CNS_DEPRESSANT: OPIOID_KINDS | {"sedative"},
    t.NALOXONE_RESCUE: frozenset({"naloxone"}),
    t.MOUD: OPIOID_KINDS | {"moud"},
}


def terms(**config: Any) -> Terminology:
    return load_terminology(GuidelineConfig.from_mapping(config))


def disagreement(medication: ResolvedMedication, term: Terminology) -> str | None:
    """What is wrong between the medication's class and its sets, or None when they agree."""
    kind = recognise(medication, term).kind
    wanted = SET_OF_KIND.get(kind)
    if wanted is not None and not term.medication_in(wanted, medication):
        return f"classified {kind} but not in {wanted}"
    for set_name, kinds in KINDS_IN_SET.items():
        if kind not in kinds and term.medication_in(set_name, medication):
            return f"classified {kind} but in {set_name}"
    return None


# ---- the medication as EHRs send it ----


def epic_order(medication: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """An order whose medicationReference points at a contained Medication, as Epic sends it."""
    order = med_request("0", **kwargs)
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": f"#{medication['id']}"}
    order["contained"] = [medication]
    return order


def epic_medication(
    display: str | None, *ingredients: tuple[str, str | None], strength: tuple[float, str, float, str] | None = None
) -> dict[str, Any]:
    """A Medication with Epic's own code (and its display, if any) and RxNorm-coded ingredients."""
    coding: dict[str, Any] = {"system": EPIC_ERX, "code": "10814"}
    if display:
        coding["display"] = display
    items = []
    for code, shown in ingredients:
        item: dict[str, Any] = {"itemCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]}}
        if shown:
            item["itemCodeableConcept"]["coding"][0]["display"] = shown
        if strength:
            value, unit, per, per_unit = strength
            item["strength"] = {
                "numerator": {"value": value, "unit": unit, "system": UCUM, "code": unit},
                "denominator": {"value": per, "unit": per_unit, "system": UCUM, "code": per_unit},
            }
        items.append(item)
    return {"resourceType": "Medication", "id": "med1", "code": {"coding": [coding]}, "ingredient": items}


def oxycodone_solution(ingredient_code: str = OXYCODONE_IN) -> dict[str, Any]:
    """Epic's oxycodone 5 mg/5 mL oral solution: its own code, and oxycodone by RxNorm ingredient with strength."""
    return epic_medication(
        "OXYCODONE 5 MG/5 ML ORAL SOLUTION", (ingredient_code, "oxycodone"), strength=(5, "mg", 5, "mL")
    )


def oxycodone_solution_draft(ingredient_code: str = OXYCODONE_IN) -> dict[str, Any]:
    # 10 mL every 4 hours: 60 mL = 60 mg oxycodone a day = 90 MME/day
    return epic_order(
        oxycodone_solution(ingredient_code), id="oxy", draft=True, dose=10, unit="mL", period=4, supply_days=3
    )


def lorazepam(**kwargs: Any) -> dict[str, Any]:
    return med_request(LORAZEPAM_1, id="lzp", authored=days_ago(14), frequency=2, period=1, period_unit="d", **kwargs)


def fill_of(medication: dict[str, Any], days: int, quantity_ml: float) -> dict[str, Any]:
    return {
        "resourceType": "MedicationDispense",
        "id": "fill1",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "contained": [medication],
        "medicationReference": {"reference": f"#{medication['id']}"},
        "whenHandedOver": days_ago(5),
        "quantity": {"value": quantity_ml, "unit": "mL", "system": UCUM, "code": "mL"},
        "daysSupply": {"value": days, "unit": "d", "system": UCUM, "code": "d"},
    }


def medication_of(order: dict[str, Any]) -> ResolvedMedication:
    """The medication as the service reads it from the order."""
    return build_record([order], TZ).orders[0].medication


# ---- end to end: an opioid known only by its ingredient code ----


@pytest.mark.parametrize("ingredient_code", [OXYCODONE_IN, OXYCODONE_HCL_PIN])
def test_an_opioid_known_by_its_ingredient_code_gets_the_dose_and_naloxone_cards(ingredient_code: str) -> None:
    # With the IN code the order was a known opioid to `painplan mme` (90 MME/day) and invisible to every card.
    evaluation = run("order-sign", drafts=[oxycodone_solution_draft(ingredient_code)])
    high = card(evaluation, "high-mme")
    assert high is not None and "90.0 MME/day" in high.summary
    assert card(evaluation, "naloxone") is not None


def test_an_opioid_known_by_its_ingredient_code_beside_a_benzodiazepine_gets_the_card() -> None:
    evaluation = run("order-sign", drafts=[oxycodone_solution_draft()], resources=[lorazepam()])
    found = card(evaluation, "opioid-benzodiazepine")
    assert found is not None and "OXYCODONE 5 MG/5 ML ORAL SOLUTION (new)" in found.summary


def test_an_active_order_of_it_beside_a_benzodiazepine_gets_the_card_on_patient_view() -> None:
    active = epic_order(oxycodone_solution(), id="oxy", dose=10, unit="mL", period=4, authored=days_ago(14))
    evaluation = run("patient-view", resources=[active, lorazepam()])
    assert card(evaluation, "opioid-benzodiazepine") is not None


def test_a_pharmacy_fill_of_it_beside_a_benzodiazepine_gets_the_card_on_patient_view() -> None:
    evaluation = run("patient-view", resources=[fill_of(oxycodone_solution(), 15, 900), lorazepam()])
    assert card(evaluation, "opioid-benzodiazepine") is not None


def test_a_coded_opioid_cough_syrup_outside_the_value_sets_is_an_opioid() -> None:
    # The drug table knows Tussionex, the CDC opioid analgesic set does not: by its brand name the syrup beside a
    # benzodiazepine got the card, by its code none.
    cough = med_request(TUSSIONEX, id="cough", draft=True, dose=5, unit="mL", period=12, supply_days=5)
    evaluation = run("order-sign", drafts=[cough], resources=[lorazepam()])
    assert card(evaluation, "opioid-benzodiazepine") is not None


# ---- membership agrees with classification, path by path ----


def _coded(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _inline(concept: dict[str, Any]) -> dict[str, Any]:
    order = med_request("0")
    order["medicationCodeableConcept"] = concept
    return order


PATHS: dict[str, dict[str, Any]] = {
    "SCD in the opioid set": _inline(_coded(RXNORM, "1049621")),
    "SBD in the benzodiazepine set": _inline(_coded(RXNORM, "104719", "lorazepam 1 MG Oral Tablet [Ativan]")),
    "ingredient (IN) as the order's code": _inline(_coded(RXNORM, OXYCODONE_IN, "oxycodone")),
    "precise ingredient (PIN) as the order's code": _inline(
        _coded(RXNORM, OXYCODONE_HCL_PIN, "oxycodone hydrochloride")
    ),
    "drug-table code outside the opioid set (cough syrup)": _inline(_coded(RXNORM, TUSSIONEX)),
    "drug-table code outside the opioid set (injection)": _inline(_coded(RXNORM, MORPHINE_INJECTION)),
    "ingredient IN code, local code with a display": epic_order(oxycodone_solution()),
    "ingredient IN code, no name anywhere": epic_order(
        epic_medication(None, (OXYCODONE_IN, None), strength=(5, "mg", 1, "{tbl}"))
    ),
    "ingredient PIN code with its name": epic_order(oxycodone_solution(OXYCODONE_HCL_PIN)),
    "naltrexone ingredient only, no name": epic_order(epic_medication(None, (NALTREXONE_IN, None))),
    "name: ingredient": _inline({"text": "oxycodone 5 mg tablet"}),
    "name: brand opioid": _inline({"text": "Percocet 5/325"}),
    "name: brand benzodiazepine": _inline({"text": "Ativan 1 mg tablet"}),
    "name: z-drug": _inline({"text": "zolpidem 10 mg tablet"}),
    "name: barbiturate": _inline({"text": "phenobarbital 30 mg tablet"}),
    "name: eszopiclone": _inline({"text": "eszopiclone 3 mg tablet"}),
    "name: Lunesta": _inline({"text": "Lunesta 2 mg tablet"}),
    "name: carisoprodol": _inline({"text": "carisoprodol 350 mg tablet"}),
    "name: Soma": _inline({"text": "Soma 350 mg tablet"}),
    "name: meprobamate": _inline({"text": "meprobamate 400 mg tablet"}),
    "name: methohexital": _inline({"text": "methohexital sodium 500 mg injection"}),
    "RxNorm eszopiclone, no display": _inline(_coded(RXNORM, "485465")),
    "RxNorm carisoprodol, no display": _inline(_coded(RXNORM, "197446")),
    "RxNorm meprobamate, no display": _inline(_coded(RXNORM, "197929")),
    "name: naloxone": _inline({"text": "Narcan 4 mg nasal spray"}),
    "name: nalmefene": _inline({"text": "Opvee 2.7 mg nasal spray"}),
    "name: MOUD buprenorphine": _inline({"text": "Suboxone 8-2 mg film"}),
    "name: naltrexone": _inline({"text": "naltrexone 50 mg tablet"}),
    "name: local code display": _inline(_coded(EPIC_ERX, "2212", "LORAZEPAM 1 MG TABLET")),
    "NDC with a display": _inline(_coded(NDC, OXYCODONE_NDC, "oxycodone HCl 5 mg tablet")),
    "NDC without a name": _inline(_coded(NDC, OXYCODONE_NDC)),
    "not relevant by name": _inline({"text": "ibuprofen 800 mg tablet"}),
    "nothing known": _inline({"text": "Zorvolex-like trial drug 35 mg"}),
}


@pytest.mark.parametrize("path", list(PATHS))
def test_membership_agrees_with_classification_on_every_path(path: str) -> None:
    assert disagreement(medication_of(PATHS[path]), terms()) is None


def test_an_ndc_the_sites_crosswalk_maps_agrees_too() -> None:
    term = terms(ndc={"rxnorm": {OXYCODONE_NDC: "1049621"}})
    medication = medication_of(PATHS["NDC without a name"])
    assert recognise(medication, term).kind == "known-opioid"
    assert disagreement(medication, term) is None


def test_the_ingredient_coded_opioid_is_in_the_opioid_set_and_its_substance_set() -> None:
    medication = medication_of(PATHS["ingredient IN code, no name anywhere"])
    term = terms()
    assert recognise(medication, term).kind == "known-opioid"
    assert term.medication_in(t.OPIOID, medication)
    assert term.medication_in(t.OXYCODONE_MEDS, medication)  # it explains an oxycodone urine result
    assert not term.medication_in(t.ER_LA, medication)


def test_a_naltrexone_only_medication_without_a_name_is_moud_not_unidentified() -> None:
    medication = medication_of(PATHS["naltrexone ingredient only, no name"])
    assert recognise(medication, terms()).kind == "moud"


def test_a_drug_table_code_keeps_its_release_and_ingredient_sets() -> None:
    term = terms()
    tussionex = medication_of(PATHS["drug-table code outside the opioid set (cough syrup)"])
    assert term.medication_in(t.ER_LA, tussionex)  # a 12-hour extended-release suspension
    assert term.medication_in(t.OPIATE_EXPECTED, tussionex)  # hydrocodone explains an opiate screen
    morphine = medication_of(PATHS["drug-table code outside the opioid set (injection)"])
    assert term.medication_in(t.OPIOID, morphine) and not term.medication_in(t.ER_LA, morphine)


def _medication_codes(term: Terminology) -> list[str]:
    sets = (t.OPIOID, t.ER_LA, t.BENZO, t.CNS_DEPRESSANT, t.NALOXONE_RESCUE, t.MOUD, t.MOUD_BUP, t.NALTREXONE)
    codes = {code for name in sets for system, code in term.codes(name) if system == RXNORM}
    codes |= set(term._data.drugs)  # noqa: SLF001 - every row of the drug table, in a set or not
    return sorted(codes)


def test_every_packaged_medication_code_agrees_by_code_and_by_its_name() -> None:
    """Each code of the drug table and the medication sets, sent bare, and its name sent as a local code's display
    (how an EHR without RxNorm sends it): the class and the sets agree on both paths."""
    term = terms()
    wrong: list[str] = []
    for code in _medication_codes(term):
        problem = disagreement(medication_of(_inline(_coded(RXNORM, code))), term)
        if problem:
            wrong.append(f"RxNorm {code}: {problem}")
        name = term.display(RXNORM, code)
        if name:
            by_name = medication_of(_inline(_coded(EPIC_ERX, "1", name)))
            problem = disagreement(by_name, term)
            if problem:
                wrong.append(f"{name!r} by name: {problem}")
    assert wrong == []


@pytest.mark.parametrize("path", ["name: barbiturate", "RxNorm phenobarbital"])
def test_a_site_that_leaves_barbiturates_out_gets_the_same_class_by_name_as_by_code(path: str) -> None:
    # By code a barbiturate the site's sedative set leaves out is not relevant; by name it was a "sedative" no
    # check counted, which `painplan mme` and the cards disagreed about.
    paths = {**PATHS, "RxNorm phenobarbital": _inline(_coded(RXNORM, "312362"))}
    term = terms(cns={"include_barbiturates": False})
    medication = medication_of(paths[path])
    assert recognise(medication, term).kind == "not-relevant"
    assert disagreement(medication, term) is None
    assert term.medication_in(t.BARBITURATE_MEDS, medication)  # it still explains a barbiturate urine result


@pytest.mark.parametrize("path", ["name: eszopiclone", "name: carisoprodol", "RxNorm eszopiclone, no display"])
def test_the_sedatives_the_cdc_set_lacks_are_sedatives(path: str) -> None:
    medication = medication_of(PATHS[path])
    assert recognise(medication, terms()).kind == "sedative"


def test_a_name_no_check_counts_still_joins_its_urine_test_substance_set() -> None:
    # A stimulant prescribed by name explains an amphetamine result as its code does; it was in no set at all.
    medication = medication_of(_inline({"text": "dextroamphetamine sulfate 10 mg tablet"}))
    term = terms()
    assert recognise(medication, term).kind == "not-relevant"
    assert term.medication_in(t.AMPHETAMINE_MEDS, medication)
    assert disagreement(medication, term) is None
