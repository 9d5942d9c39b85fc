"""Medication recognition: codes first, then names (ingredients, salts, brands, strength, form, release); every
medication ends in one class, and what cannot be identified is named."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from fixtures.mme.helpers import dosage, every, med_request, mme, terms

from guideline import terminology as t
from guideline.fhirdata import RXNORM, Coding, Concept
from guideline.recognition import KINDS, read_name, recognise
from guideline.recognition.lexicon import brands, ingredients
from guideline.record import Medication, MedicationIngredient, ResolvedMedication

NDC = "http://hl7.org/fhir/sid/ndc"
DRUG_TABLE = Path(t.__file__).resolve().parent / "data" / "opioid-drug-data.csv"


def named(text: str) -> ResolvedMedication:
    return ResolvedMedication(concept=Concept(text=text))


def coded(system: str, code: str, display: str | None = None) -> ResolvedMedication:
    return ResolvedMedication(concept=Concept((Coding(system, code, display),)))


def text_order(text: str, dose: object = 1, period: int = 6) -> dict:
    resource = med_request(None, [dosage(dose, every(period))])
    resource["medicationCodeableConcept"] = {"text": text}
    return resource


# ---- reading names ----


@pytest.mark.parametrize(
    ("text", "ingredients", "strengths", "form", "extended"),
    [
        ("Percocet 10/325 mg tablet", ["oxycodone", "acetaminophen"], {"oxycodone": "10"}, "tablet", False),
        ("oxycodone hydrochloride 30 MG Oral Tablet", ["oxycodone"], {"oxycodone": "30"}, "tablet", False),
        (
            "oxycodone hydrochloride 5 MG / acetaminophen 325 MG Oral Tablet",
            ["oxycodone", "acetaminophen"],
            {"oxycodone": "5", "acetaminophen": "325"},
            "tablet",
            False,
        ),
        (
            "HYDROcodone-acetaminophen (NORCO) 5-325 MG per tablet",
            ["hydrocodone", "acetaminophen"],
            {"hydrocodone": "5"},
            "tablet",
            False,
        ),
        ("morphine sulfate 10 mg/5 mL oral solution", ["morphine"], {"morphine": "2"}, "solution", False),
        ("fentanyl 75 mcg/hr transdermal patch", ["fentanyl"], {"fentanyl": "0.075"}, "patch", False),
        ("OxyContin 20 mg 12 hr tablet", ["oxycodone"], {"oxycodone": "20"}, "tablet", True),
        ("oxycodone ER 10 mg", ["oxycodone"], {"oxycodone": "10"}, None, True),
        ("MS Contin 15 mg", ["morphine"], {"morphine": "15"}, "tablet", True),
        ("tramadol extended-release 100 mg", ["tramadol"], {"tramadol": "100"}, None, True),
        ("Xanax 0.5 mg", ["alprazolam"], {"alprazolam": "0.5"}, "tablet", False),
        # The first strength is belladonna's: opium's is its own (it was given 16.2 mg, and 120 MME/day read as
        # 64.8). Belladonna is now a known ingredient; an unknown one before an opioid still gives its strength away.
        (
            "belladonna alkaloids 16.2 MG / opium 30 MG Rectal Suppository",
            ["belladonna", "opium"],
            {"belladonna": "16.2", "opium": "30"},
            "suppository",
            False,
        ),
        ("stramonium 16.2 MG / opium 30 MG Rectal Suppository", ["opium"], {"opium": "30"}, "suppository", False),
        ("10 mg oxycodone tablet", ["oxycodone"], {"oxycodone": "10"}, "tablet", False),
        # Brands that were unidentified by name:
        ("Embeda 20-0.8 mg capsule", ["morphine", "naltrexone"], {"morphine": "20"}, "capsule", True),
        ("Seglentis 56-44 mg", ["celecoxib", "tramadol"], {"tramadol": "44"}, "tablet", False),
        ("Prolate 10-300 mg tablet", ["oxycodone", "acetaminophen"], {"oxycodone": "10"}, "tablet", False),
        ("Dsuvia 30 mcg sublingual tablet", ["sufentanil"], {"sufentanil": "0.030"}, "sublingual", False),
    ],
)
def test_names_are_read(text: str, ingredients: list, strengths: dict, form: str | None, extended: bool) -> None:
    reading = read_name(text)
    assert [i.name for i in reading.ingredients] == ingredients
    for name, mg in strengths.items():
        found = reading.strength_of(name)
        assert found is not None and found.mg == Decimal(mg), name
    assert reading.form == form
    assert reading.extended_release is extended


def test_patch_strength_is_per_hour_and_liquid_per_ml() -> None:
    patch = read_name("Duragesic 25 mcg/hr").strength_of("fentanyl")
    assert patch is not None and (patch.mg, patch.per) == (Decimal("0.025"), "hour")
    liquid = read_name("oxycodone 5 mg/5 mL solution").strength_of("oxycodone")
    assert liquid is not None and (liquid.mg, liquid.per) == (Decimal(1), "ml")


def test_an_ambiguous_single_strength_is_never_guessed() -> None:
    # Which of the two is 5 mg? Nobody can tell, so neither gets it.
    assert read_name("hydrocodone-acetaminophen 5 mg").strengths == ()


def test_every_brand_names_known_ingredients() -> None:
    known = ingredients()
    table = brands()
    for brand in (
        "percocet",
        "norco",
        "vicodin",
        "oxycontin",
        "roxicodone",
        "dilaudid",
        "ms contin",
        "duragesic",
        "nucynta",
        "ultram",
        "suboxone",
        "subutex",
        "zubsolv",
        "sublocade",
        "narcan",
        "kloxxado",
        "xanax",
        "valium",
        "ativan",
        "klonopin",
        "ambien",
        "soma",
    ):
        assert brand in table, brand
        assert all(name in known for name in table[brand].ingredients)


# ---- classes ----


@pytest.mark.parametrize(
    ("medication", "kind", "how"),
    [
        (coded(RXNORM, "1049621"), "known-opioid", "code"),  # oxycodone 5 mg tablet, in the drug table
        (named("Percocet 10/325 mg tablet"), "opioid-by-name", "name"),
        (coded(RXNORM, "99999901", "oxycodone hydrochloride 30 MG Oral Tablet"), "opioid-by-name", "name"),
        (named("oxycodone tablets"), "opioid-no-mme", "name"),
        (named("Butrans 10 mcg/hr patch"), "opioid-no-mme", "name"),
        (named("Suboxone 8 mg-2 mg sublingual film"), "moud", "name"),
        (named("Sublocade 300 mg"), "moud", "name"),
        (coded(RXNORM, "2639027"), "moud", "code"),  # Brixadi: in no set the checks read before
        (coded(RXNORM, "1996189"), "moud", "code"),  # Sublocade: was "known opioid" through the drug table
        (named("0.16 ML buprenorphine 50 MG/ML Prefilled Syringe"), "moud", "name"),  # no OUD analgesic is this strong
        (named("buprenorphine 300 MG/1.5ML SOSY"), "moud", "name"),  # Epic's abbreviation for a prefilled syringe
        (named("buprenorphine 0.3 mg/mL injection"), "opioid-no-mme", "name"),  # Buprenex, for pain
        (named("Vivitrol 380 mg injection"), "moud", "name"),
        (named("Narcan 4 mg nasal spray"), "naloxone", "name"),
        (named("Kloxxado"), "naloxone", "name"),
        # Rescue medicines newer than the CDC naloxone set: they were unidentified, so ordering one left the
        # naloxone card in place and added an unidentified-medication card.
        (named("Opvee 2.7 mg nasal spray"), "naloxone", "name"),
        (named("nalmefene 1.5 mg/0.5 mL auto-injector"), "naloxone", "name"),
        (named("RiVive 3 mg nasal spray"), "naloxone", "name"),
        (named("Lucemyra 0.18 mg"), "not-relevant", "name"),
        (named("Klonopin 1 mg"), "benzodiazepine", "name"),
        (named("Valtoco 10 mg nasal spray"), "benzodiazepine", "name"),  # brands that were unidentified
        (named("Sympazan 10 mg film"), "benzodiazepine", "name"),
        (named("Seconal 100 mg"), "sedative", "name"),
        (named("Fioricet"), "sedative", "name"),
        # Ingredients of the CDC sets sold outside the US, unidentified by name before (so an opioid with
        # bromazepam by text gave no opioid-benzodiazepine card):
        (named("bromazepam 3 MG Oral Tablet"), "benzodiazepine", "name"),
        (named("nitrazepam 5 mg"), "benzodiazepine", "name"),
        (named("mephobarbital 50 MG Oral Tablet"), "sedative", "name"),
        (named("dipipanone 10 MG / cyclizine 30 MG Oral Tablet"), "opioid-by-name", "name"),  # no factor: no MME
        (named("diamorphine 10 mg tablet"), "opioid-by-name", "name"),
        (named("phentermine 37.5 mg"), "not-relevant", "name"),  # positive evidence, not unidentified
        (named("dextroamphetamine-amphetamine 20 mg"), "not-relevant", "name"),
        (named("Ambien 10 mg"), "sedative", "name"),
        (named("Contrave"), "not-relevant", "name"),  # bupropion/naltrexone is not treatment for OUD
        (named("ibuprofen 800 mg tablet"), "not-relevant", "name"),
        # ibuprofen 600 mg: a real drug in none of the sets, not relevant by its display...
        (coded(RXNORM, "197806", "ibuprofen 600 MG Oral Tablet"), "not-relevant", "name"),
        (coded(RXNORM, "99999902", "Xyzzy 10 MG Oral Tablet"), "not-relevant", "code"),
        # ...but its bare code alone says nothing: it could be an opioid newer than the packaged data.
        (coded(RXNORM, "197806"), "unidentified", "none"),
        (named("Zorvolex-like trial drug 35 mg"), "unidentified", "none"),
        (coded(NDC, "0406-0512-01"), "unidentified", "none"),
        (ResolvedMedication(concept=None, reference="Medication/gone"), "unidentified", "none"),
    ],
)
def test_every_medication_ends_in_one_class(medication: ResolvedMedication, kind: str, how: str) -> None:
    found = recognise(medication, terms())
    assert (found.kind, found.how) == (kind, how)
    assert found.kind in KINDS


def test_an_ndc_coding_is_read_by_its_display_and_named_by_its_code_without_one() -> None:
    with_display = recognise(coded(NDC, "0406-0512-01", "Percocet 5/325 tablet"), terms())
    assert (with_display.kind, with_display.how) == ("opioid-by-name", "name")
    bare = recognise(coded(NDC, "0406-0512-01"), terms())
    assert bare.kind == "unidentified" and bare.display == "NDC 0406-0512-01"


def test_a_known_code_decides_whatever_the_name_says() -> None:
    # 1049621 is oxycodone 5 mg; a misleading display does not make it a benzodiazepine.
    medication = coded(RXNORM, "1049621", "Xanax 1 mg")
    assert recognise(medication, terms()).kind == "known-opioid"
    assert not terms().medication_in(t.BENZO, medication)


def test_named_medications_join_the_sets_the_checks_read() -> None:
    term = terms()
    assert term.medication_in(t.OPIOID, named("Percocet 5/325"))
    assert not term.medication_in(t.ER_LA, named("Percocet 5/325"))
    assert term.medication_in(t.ER_LA, named("OxyContin 10 mg"))
    assert term.medication_in(t.ER_LA, named("fentanyl 25 mcg/hr patch"))
    assert term.medication_in(t.OXYCODONE_MEDS, named("Roxicodone 15 mg"))
    assert term.medication_in(t.BENZO, named("Valium 5 mg"))
    assert term.medication_in(t.BENZODIAZEPINE_MEDS, named("Ativan 1 mg"))
    assert term.medication_in(t.CNS_DEPRESSANT, named("zolpidem 10 mg"))
    assert term.medication_in(t.NALOXONE_RESCUE, named("Narcan nasal spray"))
    assert not term.medication_in(t.NALOXONE_RESCUE, named("Suboxone 8-2 mg film"))
    assert term.medication_in(t.MOUD_BUP, named("Suboxone 8-2 mg film"))
    assert term.medication_in(t.MOUD, named("Suboxone 8-2 mg film"))
    assert term.medication_in(t.OPIOID, named("Suboxone 8-2 mg film"))  # as the coded A.4 products are
    assert not term.medication_in(t.OPIOID, named("ibuprofen 800 mg"))
    assert not term.medication_in(t.OPIOID, named("Zorvolex-like trial drug 35 mg"))


def test_the_referenced_medication_text_and_form_are_names() -> None:
    medication = ResolvedMedication(
        concept=Concept(text="HYDROmorphone 2 mg"),
        resource=Medication(id="m1", code=Concept(text="HYDROmorphone 2 mg"), form=Concept(text="tablet")),
        reference="Medication/m1",
    )
    found = recognise(medication, terms())
    assert (found.kind, found.form) == ("opioid-by-name", "tablet")


def test_an_opioid_ingredient_code_in_the_medication_resource_is_a_code() -> None:
    medication = ResolvedMedication(
        concept=Concept(),
        resource=Medication(
            id="m1",
            code=None,
            form=None,
            ingredients=(MedicationIngredient(Concept((Coding(RXNORM, "7804"),)), None, None),),
        ),
    )
    assert recognise(medication, terms()).kind == "known-opioid"


# ---- MME of a medication identified by name ----


def test_percocet_by_text_gets_its_mme() -> None:
    order = mme(text_order("Percocet 10/325 mg tablet", dose=1, period=6)).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal(60))  # 10 mg × 4 a day × 1.5
    assert "identified from its name" in order.explanation


def test_a_code_newer_than_the_drug_table_is_read_from_its_display() -> None:
    resource = med_request(None, [dosage(1, every(12))])
    resource["medicationCodeableConcept"] = {
        "coding": [{"system": RXNORM, "code": "99999901", "display": "oxycodone hydrochloride 30 MG Oral Tablet"}]
    }
    order = mme(resource).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal(90))  # 30 mg × 2 a day × 1.5
    assert order.rxnorm_code == "99999901"


def test_a_named_patch_and_a_named_liquid() -> None:
    patch = text_order("fentanyl 25 mcg/hr patch", dose={"value": 1, "unit": "patch"}, period=72)
    assert mme(patch).orders[0].mme == Decimal(60)  # 25 mcg/h × 2.4
    liquid = text_order("morphine sulfate 10 mg/5 mL oral solution", dose={"value": 5, "unit": "mL"}, period=4)
    assert mme(liquid).orders[0].mme == Decimal(60)  # 5 mL × 2 mg/mL × 6 a day × 1


@pytest.mark.parametrize(
    "name",
    [
        "fentanyl 0.1 MG/ACTUAT Mucosal Spray",  # RxNorm's own name: was "no factor"
        "Subsys 100 mcg spray",  # the brand, whose form was not one the factors know
        "fentanyl 100 mcg sublingual spray",  # was read as a sublingual tablet (0.13)
    ],
)
def test_a_named_fentanyl_mucosal_spray_gets_the_factor_its_code_gets(name: str) -> None:
    by_code = mme(med_request("1237050", [dosage(1, every(6))])).orders[0]  # fentanyl 0.1 MG/ACTUAT Mucosal Spray
    by_name = mme(text_order(name)).orders[0]
    assert by_code.mme == by_name.mme == Decimal(64)  # 100 mcg × 4 a day × 0.16
    assert by_name.ingredients[0].factor == by_code.ingredients[0].factor


def test_every_opioid_of_the_drug_table_gets_the_same_mme_by_name_as_by_code() -> None:
    """Each analgesic of the packaged RxNorm table, ordered by its code and then only by its name (as text, in
    capitals, as a local code's display): the same daily MME. Two old aspirin/oxycodone products name oxycodone
    twice, as two salts: their strengths are added up (they were the exception, 27 instead of 29.3 MME/day)."""
    with DRUG_TABLE.open(encoding="utf-8") as table:
        rows = {
            row["rxcui"]: row["drug_name"]
            for row in csv.DictReader(table)
            if row["in_vs_opioid_analgesics_2022"] == "Y"
        }
    differ = []
    for rxcui, name in rows.items():
        expected = mme(med_request(rxcui, [dosage(1, every(6))])).orders[0].mme
        for medication in (
            {"text": name},
            {"text": name.upper()},
            {"coding": [{"system": "urn:local", "code": "L1", "display": name}]},
        ):
            resource = med_request(None, [dosage(1, every(6))])
            resource["medicationCodeableConcept"] = medication
            found = mme(resource).orders[0].mme
            if found != expected:
                differ.append((rxcui, name, expected, found))
    assert differ == []


def test_a_named_opioid_without_a_strength_is_unknown_not_zero() -> None:
    order = mme(text_order("oxycodone tablets")).orders[0]
    assert (order.state, order.reason, order.mme) == ("unknown", "no-strength", None)


@pytest.mark.parametrize(
    ("rxcui", "name", "for_oud"),
    [
        ("991147", "methadone hydrochloride 10 MG/ML Oral Solution", True),  # the concentrate
        ("864978", "methadone hydrochloride 40 MG Tablet for Oral Suspension", True),
        ("1990745", "Diskets 40 mg dispersible tablet", True),
        ("864706", "methadone hydrochloride 10 MG Oral Tablet", False),  # for pain
        ("864769", "methadone hydrochloride 2 MG/ML Oral Solution", False),  # for pain
        ("864984", "methadone hydrochloride 20 MG/ML Oral Solution", False),  # not on the programs' list either
    ],
)
def test_methadone_of_opioid_treatment_programs_by_name_as_by_code(rxcui: str, name: str, for_oud: bool) -> None:
    # By name the concentrate was a pain opioid: its supply counted as pain exposure and it set off the
    # treatment-plan card, which its code does not.
    by_code = ResolvedMedication(concept=Concept((Coding(RXNORM, rxcui),)))
    by_name = named(name)
    assert terms().medication_in(t.OUD_TREATMENT_OPIOID, by_code) is for_oud
    assert terms().medication_in(t.OUD_TREATMENT_OPIOID, by_name) is for_oud
    assert terms().medication_in(t.OPIOID, by_name) and terms().medication_in(t.MOUD, by_name)


@pytest.mark.parametrize(
    ("name", "mme_per_day"),
    [
        ("Tylenol #3", Decimal(18)),  # acetaminophen 300 mg / codeine 30 mg, 4 a day × 30 mg × 0.15
        ("Tylenol w/ codeine #4", Decimal(36)),
        ("codeine-acetaminophen #3", Decimal(18)),  # the number is the codeine, whatever order the names come in
        ("acetaminophen-codeine (TYLENOL #3) 300-30 MG per tablet", Decimal(18)),  # its own strengths decide
    ],
)
def test_a_tylenol_with_codeine_number_is_codeine(name: str, mme_per_day: Decimal) -> None:
    # "Tylenol #3" read as plain Tylenol: acetaminophen, not relevant, its codeine never counted.
    order = mme(text_order(name)).orders[0]
    assert (order.state, order.mme) == ("ok", mme_per_day)


@pytest.mark.parametrize(
    "name",
    [
        # Prescribed because of opioids (opioid-induced constipation), or common anti-diarrhoeals and cough
        # medicines, written by text only: their RxNorm codes are not relevant, and by name they were unidentified.
        "Movantik 25 mg tablet",
        "naloxegol 25 mg tablet",
        "Relistor 150 mg tablet",
        "methylnaltrexone bromide 12 mg/0.6 mL injection",
        "Symproic 0.2 mg tablet",
        "Imodium A-D 2 mg",
        "LOPERAMIDE HCL 2 MG CAP",
        "Lomotil 2.5-0.025 mg tablet",
        "diphenoxylate-atropine 2.5-0.025 mg tablet",
        "Motofen 1-0.025 mg tablet",
        "Delsym 30 mg/5 mL ER suspension",
        "dextromethorphan 30 mg",
        "benzonatate 100 mg capsule",
        "Tessalon Perles 100 mg",
    ],
)
def test_medicines_often_ordered_beside_opioids_are_not_relevant_by_name(name: str) -> None:
    found = recognise(named(name), terms())
    assert (found.kind, found.how) == ("not-relevant", "name")
    # Methylnaltrexone and naloxegol block opioids only in the gut: never treatment for opioid use disorder.
    assert not terms().medication_in(t.MOUD, named(name)) and not terms().medication_in(t.OPIOID, named(name))


@pytest.mark.parametrize("name", ["Librax capsule", "chlordiazepoxide-clidinium 5-2.5 mg capsule"])
def test_librax_is_a_benzodiazepine_by_name_as_by_code(name: str) -> None:
    assert terms().medication_in(t.BENZO, coded(RXNORM, "889616"))  # its code: chlordiazepoxide / clidinium [Librax]
    found = recognise(named(name), terms())
    assert (found.kind, found.how) == ("benzodiazepine", "name")
    assert terms().medication_in(t.BENZO, named(name))


def test_every_ingredient_sold_with_an_opioid_is_read() -> None:
    """Each ingredient of the drug table's opioid products is known: a partner left unread ("dexbrompheniramine")
    made its ordinary combinations with pseudoephedrine look as if an opioid had gone unread."""
    import re

    known = ingredients()
    with DRUG_TABLE.open(encoding="utf-8", newline="") as handle:
        names = [
            re.sub(r"\s*\[.*?\]|^\d+ (hr|ml) |abuse-deterrent |matrix delivery ", "", row["drug_name"].lower())
            for row in csv.DictReader(handle)
        ]
    # Each ingredient as RxNorm writes it, before its strength: "acetaminophen 325 mg / hydrocodone bitartrate 5 mg".
    ingredient_parts = {re.split(r"\s+[\d.]", piece)[0] for name in names for piece in name.split(" / ")}
    unread = {part for part in ingredient_parts if not set(re.findall(r"[a-z][a-z0-9]*", part)) & known.keys()}
    assert unread == set()


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        # Muscle relaxants: carisoprodol (Soma) is a schedule IV sedative PainPlan adds to the CNS depressant set;
        # orphenadrine and chlorzoxazone, like cyclobenzaprine and methocarbamol, are in no set the checks read.
        ("carisoprodol 350 mg tablet", "sedative"),
        ("carisoprodol-aspirin 200-325 mg tablet", "sedative"),
        ("orphenadrine citrate ER 100 mg tablet", "not-relevant"),
        ("chlorzoxazone 500 mg tablet", "not-relevant"),
        ("cyclobenzaprine 10 mg tablet", "not-relevant"),
        ("doxylamine succinate 25 mg tablet", "not-relevant"),
        ("diphenhydramine 25 mg capsule", "not-relevant"),
    ],
)
def test_muscle_relaxants_and_antihistamines_are_read_as_the_sets_count_them(name: str, kind: str) -> None:
    assert recognise(named(name), terms()).kind == kind
    assert terms().medication_in(t.CNS_DEPRESSANT, named(name)) == (kind == "sedative")


def test_plain_tylenol_stays_not_relevant() -> None:
    assert recognise(named("Tylenol Extra Strength"), terms()).kind == "not-relevant"
    assert recognise(named("Tylenol 325 mg"), terms()).kind == "not-relevant"


def test_butalbital_combinations_by_name_are_cns_depressants_as_their_codes_are() -> None:
    assert terms().medication_in(t.CNS_DEPRESSANT, coded(RXNORM, "197426"))  # acetaminophen 325 / butalbital 50
    assert terms().medication_in(t.CNS_DEPRESSANT, named("Fioricet"))
    assert terms().medication_in(t.CNS_DEPRESSANT, named("butalbital-acetaminophen-caffeine 50-325-40 mg tablet"))
    # ...but the acetaminophen and codeine of a combination never join the set by name
    assert not terms().medication_in(t.CNS_DEPRESSANT, named("acetaminophen 500 mg tablet"))
    assert not terms().medication_in(t.CNS_DEPRESSANT, named("codeine sulfate 30 mg tablet"))


def test_no_ingredient_named_not_relevant_is_sold_alone_in_a_set_the_checks_read() -> None:
    """A name that is positive evidence of "not relevant" must never be a product the value sets count: by code it
    would be an opioid, a sedative or a rescue medicine, and by name nothing."""
    not_relevant = {name for name, found in ingredients().items() if found.kind == "other"}
    sold_alone: set[str] = set()
    for set_name in (t.OPIOID, t.BENZO, t.CNS_DEPRESSANT, t.NALOXONE_RESCUE, t.MOUD, t.ER_LA):
        for system, code in terms().codes(set_name):
            shown = (terms().display(system, code) or "").lower()
            if shown and "/" not in shown:
                sold_alone.update(shown.replace("-", " ").split())
    assert sold_alone & not_relevant == set()
    assert recognise(named("amLODIPine 10 MG tablet"), terms()).kind == "not-relevant"  # was unidentified


_DRUG_FILE_FORMS = (
    ("Extended Release Oral Tablet", "TAB ER"),
    ("Extended Release Oral Capsule", "CAP ER"),
    ("Oral Tablet", "TAB"),
    ("Oral Capsule", "CAP"),
    ("Oral Solution", "SOLN"),
    ("Oral Suspension", "SUSP"),
    ("Transdermal System", "PATCH"),
    ("Sublingual Tablet", "SL TAB"),
    ("Buccal Film", "BUCC FILM"),
    ("Buccal Tablet", "BUCC TAB"),
    ("Injectable Solution", "INJ"),
    ("Rectal Suppository", "SUPP"),
)
_DRUG_FILE_SALTS = (("hydrochloride", "HCL"), ("bitartrate", "BIT"), ("hydrobromide", "HBR"))


def drug_file_name(rxnorm_name: str) -> str:
    """An RxNorm name as payers' drug files and Epic write it: "ACETAMINOPHEN/HYDROCODONE BIT 325-10 MG TAB"."""
    import re

    name = re.sub(r"^\d+\s*(HR|ML)\s+", "", re.sub(r"\s*\[.*?\]", "", rxnorm_name))
    for long, short in (*_DRUG_FILE_FORMS, *_DRUG_FILE_SALTS):
        name = name.replace(long, short)
    parts = [part.strip() for part in name.split(" / ")]
    if len(parts) > 1:
        found = [re.match(r"(.+?)\s+([\d.]+)\s*(MG|MCG)((?:/ML)?.*)$", part, re.I) for part in parts]
        if all(found):
            names = "/".join(m.group(1) for m in found if m)
            numbers = "-".join(m.group(2) for m in found if m)
            last = found[-1]
            name = f"{names} {numbers} {last.group(3)}{last.group(4)}" if last else name
    return name.upper()


def test_every_opioid_named_as_a_drug_file_names_it_gets_the_mme_its_code_gets() -> None:
    # Payers and Epic write "HYDROCODONE BIT/ACETAMIN 7.5-325 MG TAB", "CODEINE PHOSPHATE/KAOLIN 1-300 MG/ML SUSP":
    # lists of strengths, cut salts, short forms. Each analgesic of the table, so named, must get its code's MME.
    from fixtures.mme.helpers import qty

    with DRUG_TABLE.open(encoding="utf-8") as table:
        rows = [row for row in csv.DictReader(table) if row["in_vs_opioid_analgesics_2022"] == "Y"]
    differ = []
    for row in rows:
        dose = qty(5, "mL") if "/ML" in row["drug_name"].upper() else 1
        expected = mme(med_request(row["rxcui"], [dosage(dose, every(6))])).orders[0].mme
        resource = med_request(None, [dosage(dose, every(6))])
        resource["medicationCodeableConcept"] = {"text": drug_file_name(row["drug_name"])}
        found = mme(resource).orders[0].mme
        if found != expected:
            differ.append((row["rxcui"], drug_file_name(row["drug_name"]), expected, found))
    assert len(rows) > 400 and differ == []


def test_an_opioid_whose_ingredient_list_gives_its_strength_is_known_by_name() -> None:
    # A Medication named "PAIN MED", its ingredient oxycodone named by text with 5 mg per tablet: the name gives no
    # strength, the ingredient list does, so the MME can be worked out. Before, recognition said "opioid without a
    # computable MME" and `painplan mme` alone corrected it; the cards, page and review read the uncorrected class.
    from zoneinfo import ZoneInfo

    from test_cli_mme import FIVE_MG_PER_TABLET, pain_med

    from guideline.record import build_record

    def kind(strength: dict | None) -> str:
        order = med_request(None, contained=[pain_med(strength)], medicationReference={"reference": "#m1"})
        (found,) = build_record([order], ZoneInfo("America/New_York")).orders
        return recognise(found.medication, terms()).kind

    assert kind(FIVE_MG_PER_TABLET) == "opioid-by-name"
    assert kind(None) == "opioid-no-mme"
    per_ml = {
        "numerator": {"value": 1, "unit": "mg", "code": "mg"},
        "denominator": {"value": 1, "unit": "mL", "code": "mL"},
    }
    assert kind(per_ml) == "opioid-by-name"
    assert (
        kind({"numerator": {"value": 5, "unit": "%"}, "denominator": {"value": 1, "unit": "TABLET"}}) == "opioid-no-mme"
    )
