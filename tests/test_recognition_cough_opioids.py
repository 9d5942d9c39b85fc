"""Opioid cough medicines (promethazine with codeine, guaifenesin with codeine, hydrocodone with homatropine or
chlorpheniramine, ...) are Schedule II-V opioids: each way an EHR sends one (an RxNorm code, a name, a brand, an NDC
with a drug file's name or through the site's crosswalk, an Epic Medication), it is an opioid, counted in the MME
total from its opioid content with its volume sig, and paired with a benzodiazepine on record."""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from typing import Any

import pytest
from builders import RXNORM, UCUM, card, days_ago, med_request, run

from guideline.config import GuidelineConfig
from guideline.fhirdata import Coding, Concept
from guideline.recognition import OPIOID_KINDS, Recognition, recognise
from guideline.recognition.lexicon import ALIASES, DRUG_TABLE, NAME_WORD, brands, ingredients
from guideline.record import ResolvedMedication
from guideline.terminology import load_terminology

NDC = "http://hl7.org/fhir/sid/ndc"
EPIC_MEDICATION = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"  # an Epic site's own medication records (ERX)
LORAZEPAM = "197900"  # lorazepam 1 MG Oral Tablet
PROMETHAZINE_CODEINE = ("991486", "codeine phosphate 2 MG/ML / promethazine hydrochloride 1.25 MG/ML Oral Solution")
# An NDC this test's site crosswalk maps to the promethazine with codeine syrup above.
PROMETHAZINE_CODEINE_NDC = "00603-1585-58"
TUSSIONEX_GENERIC = (
    "1087459",
    "12 HR chlorpheniramine polistirex 1.6 MG/ML / hydrocodone polistirex 2 MG/ML Extended Release Suspension",
)
CROSSWALK = {"ndc": {"rxnorm": {PROMETHAZINE_CODEINE_NDC: PROMETHAZINE_CODEINE[0]}}}


def coded(code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": RXNORM, "code": code}
    return {"coding": [coding | {"display": display}] if display else [coding]}


def text_only(text: str) -> dict[str, Any]:
    return {"text": text}


def ndc_only(display: str | None, code: str = "00603-1585-58") -> dict[str, Any]:
    """Known only by its NDC, named (or not) as a drug file names it."""
    coding = {"system": NDC, "code": code}
    return {"coding": [coding | {"display": display}] if display else [coding]}


def liquid_order(
    concept: dict[str, Any], *, ml: float = 5, every_hours: int = 4, up_to: int | None = 6, id: str = "cough1"
) -> dict[str, Any]:
    """A draft MedicationRequest for a cough syrup: `ml` mL every `every_hours` (to `up_to`) hours as needed."""
    order = med_request("0", id=id, draft=True, supply_days=5, quantity=120, unit="mL", as_needed=True)
    order["medicationCodeableConcept"] = concept
    repeat: dict[str, Any] = {"frequency": 1, "period": every_hours, "periodUnit": "h"}
    if up_to:
        repeat["periodMax"] = up_to
    instruction = order["dosageInstruction"][0]
    instruction["timing"] = {"repeat": repeat}
    instruction["text"] = (
        f"Take {ml:g} mL by mouth every {every_hours}-{up_to or every_hours} hours as needed for cough"
    )
    instruction["doseAndRate"] = [{"doseQuantity": {"value": ml, "unit": "mL", "system": UCUM, "code": "mL"}}]
    return order


def epic_promethazine_codeine() -> tuple[dict[str, Any], dict[str, Any]]:
    """Epic's shape: the order names its own Medication, coded by the site and by RxNorm, with its ingredients."""
    per_5_ml = {"value": 5, "unit": "mL", "system": UCUM, "code": "mL"}
    medication = {
        "resourceType": "Medication",
        "id": "epic-pc",
        "code": {
            "coding": [
                {"system": EPIC_MEDICATION, "code": "31542", "display": "PROMETHAZINE-CODEINE 6.25-10 MG/5ML PO SYRP"},
                {"system": RXNORM, "code": PROMETHAZINE_CODEINE[0], "display": PROMETHAZINE_CODEINE[1]},
            ],
            "text": "promethazine-codeine (PHENERGAN WITH CODEINE) 6.25-10 mg/5 mL syrup",
        },
        "form": {"text": "Syrup"},
        "ingredient": [
            {
                "itemCodeableConcept": {"coding": [{"system": RXNORM, "code": "2670", "display": "codeine"}]},
                "strength": {
                    "numerator": {"value": 10, "unit": "mg", "system": UCUM, "code": "mg"},
                    "denominator": per_5_ml,
                },
            },
            {
                "itemCodeableConcept": {"coding": [{"system": RXNORM, "code": "8745", "display": "promethazine"}]},
                "strength": {
                    "numerator": {"value": 6.25, "unit": "mg", "system": UCUM, "code": "mg"},
                    "denominator": per_5_ml,
                },
            },
        ],
    }
    order = liquid_order({})
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": "Medication/epic-pc", "display": medication["code"]["text"]}
    return order, medication


def named(text: str) -> Recognition:
    """How recognition classes a medication known by this text alone."""
    return recognise(ResolvedMedication(concept=Concept(text=text)), load_terminology(GuidelineConfig.from_mapping()))


def mme_of(order: dict[str, Any], *resources: dict[str, Any], config: dict[str, Any] | None = None) -> Decimal | None:
    """The draft's MME per day as the order-sign cards count it."""
    evaluation = run("order-sign", drafts=[order], resources=resources, config=config)
    (result,) = [o for o in evaluation.facts.mme.orders if o.order.id == order["id"]]
    return result.mme


def beside_a_benzodiazepine(order: dict[str, Any], *resources: dict[str, Any], config: dict[str, Any] | None = None):
    lorazepam = med_request(LORAZEPAM, id="lz", authored=days_ago(10), frequency=2, period=1, period_unit="d")
    evaluation = run("order-sign", drafts=[order], resources=(lorazepam, *resources), config=config)
    return card(evaluation, "opioid-benzodiazepine")


# ---- promethazine with codeine, 6.25-10 mg/5 mL: 5 mL every 4-6 hours is 60 mg codeine a day, 9 MME ----

PROMETHAZINE_CODEINE_WAYS = {
    "rxnorm-scd": coded(*PROMETHAZINE_CODEINE),
    "rxnorm-scd-bare": coded(PROMETHAZINE_CODEINE[0]),
    "text": text_only("promethazine-codeine 6.25-10 mg/5 mL syrup"),
    "oracle-text": text_only("promethazine-codeine 6.25 mg-10 mg/5 mL oral syrup"),
    "epic-text": text_only("promethazine-codeine (PHENERGAN WITH CODEINE) 6.25-10 mg/5 mL syrup"),
    "brand": text_only("Phenergan with Codeine 6.25-10 mg/5 mL syrup"),
    "ndc-fdb-name": ndc_only("PROMETHAZINE-CODEINE 6.25-10 MG/5ML SYRP"),
    "ndc-cut-name": ndc_only("PROMETH/CODEINE SYRUP 6.25-10 MG/5ML"),
}


@pytest.mark.parametrize("way", list(PROMETHAZINE_CODEINE_WAYS))
def test_promethazine_with_codeine_counts_its_codeine_each_way(way: str) -> None:
    order = liquid_order(PROMETHAZINE_CODEINE_WAYS[way])
    assert mme_of(order) == Decimal("9.0")
    found = beside_a_benzodiazepine(order)
    assert found is not None and "lorazepam" in found.summary


def test_promethazine_with_codeine_through_the_sites_ndc_crosswalk() -> None:
    order = liquid_order(ndc_only(None, PROMETHAZINE_CODEINE_NDC))
    assert mme_of(order, config=CROSSWALK) == Decimal("9.0")
    assert beside_a_benzodiazepine(order, config=CROSSWALK) is not None


def test_promethazine_with_codeine_as_an_epic_medication() -> None:
    order, medication = epic_promethazine_codeine()
    assert mme_of(order, medication) == Decimal("9.0")
    assert beside_a_benzodiazepine(order, medication) is not None


@pytest.mark.parametrize(
    "concept",
    [text_only("Phenergan with Codeine syrup"), text_only("PROMETHAZINE W/ CODEINE SYRUP")],
    ids=["brand", "no-strength"],
)
def test_named_without_its_strength_it_is_still_an_opioid_whose_dose_is_named_unknown(concept: dict) -> None:
    order = liquid_order(concept)
    evaluation = run("order-sign", drafts=[order])
    (result,) = evaluation.facts.mme.orders
    assert (result.state, result.mme) == ("unknown", None)
    assert card(evaluation, "high-mme") is not None  # "could not be fully calculated ... check the dose by hand"
    assert beside_a_benzodiazepine(order) is not None


# ---- the other codeine and hydrocodone cough liquids, each way ----


@pytest.mark.parametrize(
    ("concept", "ml", "every_hours", "mme"),
    [
        # guaifenesin with codeine 100-10 mg/5 mL: 5 mL every 4 hours, 60 mg codeine × 0.15
        (coded("995868", "codeine phosphate 2 MG/ML / guaifenesin 20 MG/ML Oral Solution"), 5, 4, "9.0"),
        (text_only("guaiFENesin-codeine 100-10 mg/5 mL liquid"), 5, 4, "9.0"),
        (ndc_only("CODEINE-GUAIFENESIN 10-100 MG/5ML PO LIQD"), 5, 4, "9.0"),
        (text_only("Cheratussin AC 100-10 mg/5 mL syrup"), 5, 4, "9.0"),
        # hydrocodone with homatropine 5-1.5 mg/5 mL: 5 mL every 4 hours, 30 mg hydrocodone × 1
        (
            coded("992668", "homatropine methylbromide 0.3 MG/ML / hydrocodone bitartrate 1 MG/ML Oral Solution"),
            5,
            4,
            "30",
        ),
        (text_only("HYDROcodone-homatropine 5-1.5 mg/5 mL syrup"), 5, 4, "30"),
        (ndc_only("HYDROCODONE-HOMATROPINE MBR 5-1.5 MG/5ML PO SYRP"), 5, 4, "30"),
        (text_only("Hycodan 5-1.5 mg/5 mL syrup"), 5, 4, "30"),
        # hydrocodone with chlorpheniramine ER 10-8 mg/5 mL: 5 mL every 12 hours, 20 mg hydrocodone × 1
        (
            coded(*TUSSIONEX_GENERIC),
            5,
            12,
            "20",
        ),
        (text_only("hydrocodone-chlorpheniramine ER 10-8 mg/5 mL suspension"), 5, 12, "20"),
        (ndc_only("HYDROCODONE POLST-CHLORPHEN POLST ER 10-8 MG/5ML PO SUER"), 5, 12, "20"),
        (text_only("Tussionex 10-8 mg/5 mL ER suspension"), 5, 12, "20"),
    ],
)
def test_the_other_cough_liquids_count_their_opioid(concept: dict, ml: int, every_hours: int, mme: str) -> None:
    order = liquid_order(concept, ml=ml, every_hours=every_hours, up_to=None)
    assert mme_of(order) == Decimal(mme)
    assert beside_a_benzodiazepine(order) is not None


# Brands of codeine and hydrocodone cough liquids that were unidentified by name: named, but as "could not be
# identified", so no opioid + benzodiazepine card and no opioid in the MME total.
@pytest.mark.parametrize(
    ("brand", "opioid"),
    [
        ("Cheratussin AC syrup", "codeine"),
        ("Robitussin AC syrup", "codeine"),
        ("Guiatuss AC syrup", "codeine"),
        ("Zutripro oral solution", "hydrocodone"),
        ("Rezira oral solution", "hydrocodone"),
        ("Vituz oral solution", "hydrocodone"),
        ("Obredon oral solution", "hydrocodone"),
        ("Flowtuss oral solution", "hydrocodone"),
        ("Hycofenix oral solution", "hydrocodone"),
    ],
)
def test_cough_medicine_brands_are_opioids(brand: str, opioid: str) -> None:
    recognition = named(brand)
    assert recognition.kind in OPIOID_KINDS and opioid in recognition.ingredients
    assert beside_a_benzodiazepine(liquid_order(text_only(brand))) is not None


def test_phenergan_alone_is_promethazine_not_an_unidentified_medicine() -> None:
    recognition = named("Phenergan 25 mg tablet")
    assert (recognition.kind, recognition.ingredients) == ("not-relevant", ("promethazine",))


def test_every_brand_the_packaged_drug_table_names_has_the_tables_ingredients() -> None:
    """The brand table is written by hand: where the RxNorm drug table names the same brand ("… [Zutripro]"), its
    ingredients must be those of the table's products, so a hand-written row can never give a dose to a wrong one."""
    known = ingredients()
    by_brand: dict[str, set[frozenset[str]]] = {}
    with DRUG_TABLE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            found = re.search(r"\[([^\[\]]+)\]$", row["drug_name"])
            if found:
                words = {ALIASES.get(w, w) for w in NAME_WORD.findall(row["drug_name"][: found.start()].lower())}
                by_brand.setdefault(found.group(1).lower(), set()).add(frozenset(w for w in words if w in known))
    checked = 0
    for name, brand in brands().items():
        if name in by_brand:
            checked += 1
            assert frozenset(brand.ingredients) in by_brand[name], (brand.name, by_brand[name])
    assert checked >= 20


# ---- a brand the packaged drug table sells only as opioid products, named with no ingredient ----

# RxNorm's brand-level names (a branded dose form, "Zodryl AC Oral Product"; a brand) carry no ingredient: sent with
# an RxNorm code the packaged data does not hold, such a name was read as "not relevant", with no card and no word.
NEWER_RXNORM = "2999001"  # an RxNorm code newer than the packaged data


def rx_named(display: str) -> Recognition:
    """How recognition classes a medication sent as that RxNorm code, with this display."""
    medication = ResolvedMedication(concept=Concept((Coding(RXNORM, NEWER_RXNORM, display),)))
    return recognise(medication, load_terminology(GuidelineConfig.from_mapping()))


@pytest.mark.parametrize(
    ("display", "opioid", "form"),
    [
        ("Zodryl AC Oral Product", "codeine", None),
        ("BroveX CB Oral Tablet", "codeine", "tablet"),
        ("Synalgos-DC Oral Capsule", "dihydrocodeine", "capsule"),
        ("Talwin Injectable Product", "pentazocine", "injection"),
        ("Zutripro", "hydrocodone", "solution"),
    ],
)
def test_an_rxnorm_brand_name_of_the_drug_table_is_an_opioid(display: str, opioid: str, form: str | None) -> None:
    concept = coded(NEWER_RXNORM, display)
    recognition = rx_named(display)
    assert recognition.kind == "opioid-no-mme" and opioid in recognition.ingredients
    assert recognition.form == (form or recognition.form)
    assert beside_a_benzodiazepine(liquid_order(concept)) is not None


@pytest.mark.parametrize("text", ["Zodryl AC syrup", "Synalgos-DC capsule", "Talwin 30 mg/mL injection"])
def test_the_brand_named_in_text_alone_is_an_opioid_too(text: str) -> None:
    """It was unidentified: named, but not paired with a benzodiazepine and not counted as an opioid."""
    assert named(text).kind == "opioid-no-mme"


def test_an_rxnorm_drug_whose_name_names_no_opioid_brand_stays_not_relevant() -> None:
    assert rx_named("entacapone 200 MG Oral Tablet").kind == "not-relevant"


@pytest.mark.parametrize(
    ("text", "opioid"),
    [
        ("Sufenta 50 mcg/mL injection", "sufentanil"),
        ("Ultiva 1 mg vial", "remifentanil"),
        ("Nubain 10 mg/mL injection", "nalbuphine"),
        ("Stadol 1 mg/spray nasal spray", "butorphanol"),
        ("MSIR 15 mg tablet", "morphine"),
    ],
)
def test_other_opioid_brands_that_were_unidentified(text: str, opioid: str) -> None:
    recognition = named(text)
    assert recognition.is_opioid and opioid in recognition.ingredients


# ---- "AC" (with codeine) and "DAC" (decongestant and codeine) in a cough medicine's generic name ----


@pytest.mark.parametrize("text", ["GUAIFENESIN AC LIQUID", "guaifenesin AC syrup", "Guaifenesin DAC syrup"])
def test_a_cough_medicine_named_ac_holds_codeine(text: str) -> None:
    """Read as guaifenesin alone, "GUAIFENESIN AC LIQUID" was not relevant: no card, no word, not in the total."""
    recognition = named(text)
    assert recognition.is_opioid and "codeine" in recognition.ingredients


def test_its_strengths_are_read_as_codeine_and_guaifenesin() -> None:
    assert mme_of(liquid_order(text_only("guaiFENesin AC 100-10 mg/5 mL syrup"))) == Decimal("9.0")


@pytest.mark.parametrize(
    "text",
    ["metformin 500 mg tablet AC", "guaifenesin 400 mg tablet AC and HS", "acetaminophen AC 500 mg"],
)
def test_ac_is_no_codeine_elsewhere(text: str) -> None:
    """ "AC" is also "before meals": only a cough and cold ingredient's generic name written before any strength
    reads it as codeine."""
    assert named(text).kind == "not-relevant"
