"""Reading medication names stays linear in the name's length, whatever the text (a hostile or corrupt chart)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from guideline.recognition.names import read_name

ROOT = Path(__file__).resolve().parent.parent


def test_a_name_of_sixty_thousand_digits_is_read_at_once():
    # Found by feeding every text field of a chart long pathological strings: the strength patterns tried every split
    # of a digit run at every start inside it, so one medication text of 60,000 digits held a hook call for ~4
    # minutes (now ~1 ms). Run apart with a generous limit: a hang fails the test instead of the suite.
    code = "from guideline.recognition.names import read_name; read_name('1' * 60000); read_name('0' * 60000 + ' mg')"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=30)


def test_strengths_are_still_read_from_ordinary_names():
    combo = read_name("oxycodone 5 mg / acetaminophen 325 mg oral tablet")
    assert [(s.ingredient, s.mg) for s in combo.strengths] == [("oxycodone", 5), ("acetaminophen", 325)]
    pair = read_name("hydrocodone-acetaminophen 10-325 mg tablet")
    assert [s.shown for s in pair.strengths] == ["10-325 mg", "10-325 mg"]
    patch = read_name("fentanyl 0.075 mg/hr transdermal patch")
    assert [(s.mg, s.per) for s in patch.strengths] == [(read_name("fentanyl 75 mcg/hr patch").strengths[0].mg, "hour")]


def test_a_combination_liquid_reads_both_strengths_per_ml():
    # Epic names the oral solution "HYDROcodone-acetaminophen 7.5-325 mg/15 mL": the pair was not read, so 15 mL
    # every 6 hours had no MME ("the dose unit cannot be combined with the product strength").
    from decimal import Decimal

    liquid = read_name("HYDROcodone-acetaminophen 7.5-325 mg/15 mL solution")
    assert [(s.ingredient, s.mg, s.per) for s in liquid.strengths] == [
        ("hydrocodone", Decimal("7.5") / 15, "ml"),
        ("acetaminophen", Decimal("325") / 15, "ml"),
    ]
    codeine = read_name("acetaminophen-codeine 120-12 mg per 5 mL oral solution")
    assert [(s.ingredient, s.mg, s.per) for s in codeine.strengths][1] == ("codeine", Decimal("12") / 5, "ml")
    tablet = read_name("oxyCODONE-acetaminophen (PERCOCET) 10-325 mg per tablet")  # not a volume: per unit, as before
    assert [(s.mg, s.per) for s in tablet.strengths] == [(Decimal("10"), "unit"), (Decimal("325"), "unit")]


def test_payers_cut_names_give_each_ingredient_its_own_strength():
    # Drug files cut names to fit a field: "ACETAMIN", "ASA", "CAFF" were not known, so the list of strengths was
    # given out wrongly ("HYDROCODONE BIT/ACETAMIN 7.5-325 MG" read as 325 mg of hydrocodone, 43 times the dose).
    cases = {
        "HYDROCODONE BIT/ACETAMIN 7.5-325 MG TAB": ("hydrocodone", "7.5"),
        "CARISOPRODOL/ASA/CODEINE 200-325-16 MG TAB": ("codeine", "16"),
        "BUTALBITAL/APAP/CAFF/CODEINE 50-325-40-30 MG CAP": ("codeine", "30"),
    }
    from decimal import Decimal

    for name, (ingredient, mg) in cases.items():
        strength = read_name(name).strength_of(ingredient)
        assert strength is not None and strength.mg == Decimal(mg), name


def test_a_list_of_strengths_that_does_not_match_the_ingredients_named_assigns_none():
    # One ingredient recognised, two strengths written: which is whose cannot be told, so no dose is guessed.
    assert read_name("HYDROCODONE BIT/ACETAMINX 7.5-325 MG TAB").strengths == ()
    # Numbers with no unit that are not a strength ("1-2 tablets") leave the written strength alone, as before.
    assert [s.mg for s in read_name("oxycodone 5 mg tablet 1-2 tabs").strengths] == [5]


def test_lists_of_numbers_are_read_in_linear_time():
    code = (
        "from guideline.recognition.names import read_name; "
        "read_name('1/' * 30000 + '1 mg'); read_name('1-' * 30000 + '1 ml'); read_name('1 mg/' * 20000)"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=30)


def test_drug_file_short_forms_keep_pain_buprenorphine_and_otp_methadone_apart():
    # "BUCC FILM" was no buccal film: the Belbuca generic read as a buprenorphine film, that is Suboxone-like
    # treatment for opioid use disorder, and skipped the checks of a pain prescription. "TAB FOR SUSP" is the OTP-only
    # 40 mg dispersible methadone, which read as a pain prescription.
    from guideline.config import GuidelineConfig
    from guideline.fhirdata import Concept
    from guideline.recognition import recognise
    from guideline.recognition.classify import in_set
    from guideline.record.model import ResolvedMedication
    from guideline.terminology import OUD_TREATMENT_OPIOID, load_terminology

    terms = load_terminology(GuidelineConfig.from_mapping({}))

    def read(name: str):
        return recognise(ResolvedMedication(concept=Concept((), name)), terms)

    assert read("BUPRENORPHINE 75 MCG BUCC FILM").kind == "opioid-no-mme"
    assert read("BUPRENORPHINE-NALOXONE 8-2 MG SL FILM").kind == "moud"
    assert in_set(read("METHADONE HCL 40 MG TAB FOR SUSP"), OUD_TREATMENT_OPIOID, terms)
    assert not in_set(read("METHADONE HCL 10 MG TAB"), OUD_TREATMENT_OPIOID, terms)


def test_a_brands_own_form_wins_over_the_plain_form_a_name_writes():
    # "BELBUCA 75 MCG FILM" read as a film, and a buprenorphine film as Suboxone-like treatment; a brand's own form
    # (a buccal film, Fentora's buccal tablet) says more than "FILM" or "TAB".
    from guideline.config import GuidelineConfig
    from guideline.fhirdata import Concept
    from guideline.recognition import recognise
    from guideline.record.model import ResolvedMedication
    from guideline.terminology import load_terminology

    terms = load_terminology(GuidelineConfig.from_mapping({}))

    def read(name: str):
        return recognise(ResolvedMedication(concept=Concept((), name)), terms)

    assert (read("BELBUCA 75 MCG FILM").kind, read("BELBUCA 75 MCG FILM").form) == ("opioid-no-mme", "buccal film")
    assert read("FENTORA 100 MCG TAB").form == "buccal tablet"
    assert read("SUBOXONE 8-2 MG FILM").kind == "moud"
    assert read("REXTOVY 4 MG NASAL SPRAY").kind == "naloxone"  # brands added: Rextovy, Xartemis XR, MorphaBond ER
    assert read("MORPHABOND ER 15 MG TAB").extended_release


def test_an_ingredient_named_twice_as_two_salts_adds_its_strengths():
    from decimal import Decimal

    listed = read_name("ASPIRIN/OXYCODONE HCL/OXYCODONE TEREPHTHALATE 325-4.5-0.38 MG TAB")
    assert listed.strength_of("oxycodone").mg == Decimal("4.88")
    named = read_name("aspirin 325 MG / oxycodone hydrochloride 4.5 MG / oxycodone terephthalate 0.38 MG Oral Tablet")
    assert named.strength_of("oxycodone").mg == Decimal("4.88") and named.strength_of("aspirin").mg == 325


def test_transmucosal_fentanyl_named_by_a_brand_or_epics_lozenge_gets_its_codes_factor():
    # Abstral's brand form ("sublingual tablet") and Epic's "LOZG" were no form PainPlan knew: fentanyl had no
    # factor, the dose was left out of the total ("at least") and the product was not known as transmucosal.
    from decimal import Decimal

    from builders import med_request, run

    for text, rxcui in (("Abstral 100 mcg", "1053651"), ("FENTANYL CITRATE 100 MCG LOZG", "1053651")):
        by_name = med_request(rxcui, draft=True, id="n1", period=6, supply_days=3)
        by_name["medicationCodeableConcept"] = {"text": text}
        [order] = run("order-sign", drafts=[by_name]).facts.mme.orders
        assert (order.state, order.mme) == ("ok", Decimal("52.0")), text  # 400 mcg/day × 0.13
