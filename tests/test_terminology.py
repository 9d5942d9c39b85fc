"""Tests for guideline.terminology: packaged value sets, derived sets (guideline 2.2/2.3, Appendix A), drug table."""

from __future__ import annotations

import dataclasses
import gc
import time
import weakref
from decimal import Decimal

import pytest

from guideline import terminology as t
from guideline.config import ConfigError, GuidelineConfig
from guideline.fhirdata import ICD10CM, LOINC, RXNORM, SNOMED, Coding, Concept
from guideline.record import Medication, MedicationIngredient, ResolvedMedication
from guideline.uds_analytes import UNMARKETED

EMBEDA_RANGE = {str(code) for code in range(863847, 863858)}


@pytest.fixture(scope="module")
def term() -> t.Terminology:
    return t.load_terminology(GuidelineConfig())


def rx(*codes: str, text: str | None = None, displays: tuple[str | None, ...] = ()) -> Concept:
    padded = displays + (None,) * (len(codes) - len(displays))
    return Concept(tuple(Coding(RXNORM, code, display) for code, display in zip(codes, padded, strict=True)), text)


def med(
    concept: Concept | None,
    resource: Medication | None = None,
    reference: str | None = None,
    reference_display: str | None = None,
) -> ResolvedMedication:
    return ResolvedMedication(
        concept=concept, resource=resource, reference=reference, reference_display=reference_display
    )


def naltrexone_medication(code: Concept, *ingredients: str) -> Medication:
    items = tuple(MedicationIngredient(rx(i), None, None) for i in ingredients)
    return Medication(id="m1", code=code, form=None, ingredients=items)


def codes_of(term: t.Terminology, set_name: str, system: str = RXNORM) -> set[str]:
    return {code for sys, code in term.codes(set_name) if sys == system}


def load(**override: object) -> t.Terminology:
    return t.load_terminology(GuidelineConfig.from_mapping(override))


# ---- counts and exact lists of Appendix A ----


def test_opioid_is_2022_set_plus_50_legacy_codes(term: t.Terminology) -> None:
    base = codes_of(term, "opioid-analgesics-with-ambulatory-misuse-potential")
    assert len(base) == 557
    xr_injectable_bup = set(t.XR_INJECTABLE_BUP_CODES)
    legacy = codes_of(term, t.OPIOID) - base - xr_injectable_bup
    assert len(legacy) == 50
    assert xr_injectable_bup <= codes_of(term, t.OPIOID)
    examples = {"261184", "261185", "261186", "262071", "583490", "891878", "891883", "891885", "891890", "894918"}
    examples |= {"902733", "902738", "902743", "1306900", "1310202", "1310212", "1310270", "1655058", "1655060"}
    examples |= {"995447"}  # codeine/pyrilamine: re-added by the rule, deliberately kept
    assert examples <= legacy
    assert EMBEDA_RANGE & legacy
    # Injectables dropped from 2022 never come back.
    assert all(row.route != "injection" for code in legacy for row in term.drug_rows(code))


def test_legacy_codes_can_be_switched_off() -> None:
    strict = load(opioid_set={"include_legacy_codes": False})
    assert len(strict.codes(t.OPIOID)) == 557 + len(t.XR_INJECTABLE_BUP_CODES)
    assert not strict.contains(t.OPIOID, rx("261186"))
    assert strict.contains(t.OPIOID, rx("1049621"))


def test_cns_depressants_drop_a2_codes_and_add_barbiturates(term: t.Terminology) -> None:
    base = codes_of(term, "cns-depressant-medications")
    removed = t.CNS_REMOVED_STIMULANTS | t.CNS_REMOVED_ANAESTHETICS
    assert len(t.CNS_REMOVED_STIMULANTS) == 35 and len(t.CNS_REMOVED_ANAESTHETICS) == 14
    assert removed <= base
    corrected = {code for _, code in t._data().corrected["2022/cns-depressant-medications"][0]}
    assert len(base - removed - corrected) == 67  # the CDC expansion; the project adds eszopiclone and others
    barbiturates = codes_of(term, t.BARBITURATE_MEDS)
    assert codes_of(term, t.CNS_DEPRESSANT) == (base - removed) | barbiturates
    assert not term.contains(t.CNS_DEPRESSANT, rx("803348"))  # phentermine

    no_barbiturates = load(cns={"include_barbiturates": False, "extra_codes": ["828348"]})  # cyclobenzaprine
    assert codes_of(no_barbiturates, t.CNS_DEPRESSANT) == (base - removed) | {"828348"}


def test_naloxone_rescue_is_exactly_the_21_codes_of_a3(term: t.Terminology) -> None:
    injectables = {"1191212", "1191222", "1191228", "1191234", "1191250", "1659929", "1855730", "2596175"}
    sprays = {"1725059", "1725064", "1870933", "1870935", "2540703", "2540709", "2637879", "2680741"}
    others = {"2589612", "2589618", "2673091", "2679504", "2685612"}
    expected = injectables | sprays | others
    assert len(expected) == 21
    # Plus the nalmefene rescue products (Zurnai, nalmefene injection), newer than the CDC set.
    nalmefene = {"2720806", "2720812", "2592953", "2672926"}
    assert codes_of(term, t.NALOXONE_RESCUE) == expected | nalmefene
    assert term.contains(t.NALOXONE_RESCUE, rx("1725059"))
    assert not term.contains(t.NALOXONE_RESCUE, rx("1010604"))  # Suboxone film contains naloxone
    assert not term.contains(t.NALOXONE_RESCUE, rx("312289"))  # naloxone/pentazocine
    extra = load(naloxone={"extra_rescue_codes": ["2183570"]})
    assert extra.contains(t.NALOXONE_RESCUE, rx("2183570"))
    assert not term.contains(t.NALOXONE_RESCUE, rx("2183570"))


def test_moud_sets(term: t.Terminology) -> None:
    assert len(codes_of(term, t.MOUD_BUP)) == 34 + 18  # A.4, and the extended-release injections after it
    suboxone = rx("1010604")
    assert term.contains(t.MOUD_BUP, suboxone) and term.contains(t.MOUD, suboxone)
    assert codes_of(term, t.MOUD) >= codes_of(term, t.BUPRENORPHINE_AND_METHADONE_MEDS) | codes_of(term, t.MOUD_BUP)
    assert term.contains(t.MOUD, rx("1483744")) and term.contains(t.MOUD, rx("637213"))
    extra = load(oud={"extra_moud_codes": ["999999901"]})
    assert extra.contains(t.MOUD, rx("999999901")) and not term.contains(t.MOUD, rx("999999901"))


def test_methadone_is_opioid_er_la_and_moud(term: t.Terminology) -> None:
    methadone = rx("864706")
    assert term.contains(t.OPIOID, methadone)
    assert term.contains(t.ER_LA, methadone)
    assert term.contains(t.MOUD, methadone)


def test_er_la_adds_transdermal_extended_release_and_methadone(term: t.Terminology) -> None:
    base = codes_of(term, "extended-release-opioid-with-ambulatory-misuse-potential")
    assert len(base) == 183
    er_la = codes_of(term, t.ER_LA)
    assert base < er_la
    for code in er_la - base:
        assert any(
            "Extended Release" in r.dose_form or r.dose_form == "Transdermal System" or r.ingredient_rxcui == "6813"
            for r in term.drug_rows(code)
        )
    assert term.contains(t.ER_LA, rx("261186"))  # Duragesic, legacy
    assert term.contains(t.ER_LA, rx("891885"))  # 12 HR morphine, legacy
    assert not term.contains(t.ER_LA, rx("1049621"))  # immediate-release oxycodone


def test_duragesic_and_12h_morphine_are_opioids(term: t.Terminology) -> None:
    assert term.contains(t.OPIOID, rx("261186"))
    assert term.contains(t.OPIOID, rx("891885"))


def test_buprenorphine_pain_products_are_not_moud_bup(term: t.Terminology) -> None:
    belbuca = rx("1716065")
    assert term.contains(t.BUPRENORPHINE, belbuca)
    assert not term.contains(t.MOUD_BUP, belbuca)
    assert term.contains(t.BUPRENORPHINE, rx("1010604"))
    assert not term.contains(t.BUPRENORPHINE, rx("1049621"))
    assert codes_of(term, t.BUPRENORPHINE) <= codes_of(term, t.OPIOID)


@pytest.mark.parametrize(
    "code",
    [
        "1996189",  # 0.5 ML buprenorphine 200 MG/ML Prefilled Syringe [Sublocade]
        "1996192",  # 1.5 ML buprenorphine 200 MG/ML Prefilled Syringe
        "2639027",  # 0.16 ML buprenorphine 50 MG/ML Prefilled Syringe [Brixadi]
        "2639043",  # 0.36 ML buprenorphine 356 MG/ML Prefilled Syringe
    ],
)
def test_extended_release_injectable_buprenorphine_is_moud_like_suboxone(term: t.Terminology, code: str) -> None:
    # Before: Brixadi was in no set at all (no OUD medication, no opioid); Sublocade was MOUD but no opioid.
    for set_name in (t.MOUD_BUP, t.MOUD, t.OUD_TREATMENT_OPIOID, t.OPIOID, t.BUPRENORPHINE):
        assert term.contains(set_name, rx(code)), set_name
    assert not term.contains(t.ER_LA, rx(code))
    buprenex = rx("205533")  # 0.3 mg/mL injection for pain stays out of the OUD lists
    assert not term.contains(t.MOUD_BUP, buprenex) and not term.contains(t.OUD_TREATMENT_OPIOID, buprenex)


def test_naltrexone_codes_and_ingredient(term: t.Terminology) -> None:
    assert term.medication_in(t.NALTREXONE, med(rx("1483744")))
    assert term.contains(t.NALTREXONE, rx("7243"))
    local_code = Concept((), "naltrexone ER injectable suspension (local)")
    vivitrol = naltrexone_medication(local_code, "7243")
    resolved = med(local_code, resource=vivitrol, reference="Medication/m1")
    assert term.medication_in(t.NALTREXONE, resolved)
    assert term.medication_in(t.MOUD, resolved)  # MOUD includes NALTREXONE
    assert not term.medication_in(t.OPIOID, resolved)
    assert not term.contains(t.NALTREXONE, local_code)  # the ingredient rule needs the Medication


@pytest.mark.parametrize(("diluent_active", "naltrexone"), [(False, True), (True, False)])
def test_an_inactive_diluent_is_no_second_ingredient_of_naltrexone(
    term: t.Terminology, diluent_active: bool, naltrexone: bool
) -> None:
    # A Vivitrol kit's record listing its diluent's sodium chloride (RxNorm 9863) as inactive: before, it was a second
    # coded ingredient, so the naltrexone-only product read as a combination, no MOUD. One listed active still is.
    local_code = Concept((), "INJECTION KIT 4471")  # a local name that says nothing: the list decides
    diluent = MedicationIngredient(rx("9863"), None, None, active=diluent_active)
    kit = Medication(
        id="m1", code=local_code, form=None, ingredients=(MedicationIngredient(rx("7243"), None, None), diluent)
    )
    assert term.medication_in(t.NALTREXONE, med(local_code, resource=kit, reference="Medication/m1")) is naltrexone


def test_naltrexone_combinations_are_excluded(term: t.Terminology) -> None:
    contrave = naltrexone_medication(rx("1551468"), "7243", "42347")
    assert not term.medication_in(t.NALTREXONE, med(contrave.code, resource=contrave))
    # Even if the Medication lists only its naltrexone ingredient, the product code decides.
    contrave_partial = naltrexone_medication(rx("1551468"), "7243")
    assert not term.medication_in(t.NALTREXONE, med(contrave_partial.code, resource=contrave_partial))
    embeda_code = sorted(codes_of(term, t.OPIOID) & EMBEDA_RANGE)[0]
    assert not term.contains(t.NALTREXONE, rx(embeda_code, "7243"))
    assert not term.contains(t.MOUD, rx(embeda_code, "7052", "7243"))  # ingredient-level codings, as Epic sends
    assert term.contains(t.MOUD, rx("1010604", "7243"))  # a MOUD product coding still counts
    embeda = naltrexone_medication(rx(embeda_code), "7243")
    assert not term.medication_in(t.NALTREXONE, med(embeda.code, resource=embeda))


def test_unresolved_medication_is_in_no_set_unless_its_display_names_it(term: t.Terminology) -> None:
    unreadable = med(None, reference="Medication/gone", reference_display="Formulary item 4471")
    for set_name in (t.OPIOID, t.MOUD, t.NALTREXONE, t.BENZO):
        assert not term.medication_in(set_name, unreadable)
    named = med(None, reference="Medication/gone", reference_display="oxycodone 5 mg tab")
    assert term.medication_in(t.OPIOID, named)
    assert not term.medication_in(t.MOUD, named) and not term.medication_in(t.BENZO, named)


# ---- condition sets ----


def icd(code: str) -> Concept:
    return Concept((Coding(ICD10CM, code),))


def test_opioid_poisoning_snomed_subset_and_icd_rule(term: t.Terminology) -> None:
    assert len(codes_of(term, t.OPIOID_POISONING, SNOMED)) == 122
    assert all(sys == SNOMED for sys, _ in term.codes(t.OPIOID_POISONING))
    assert term.contains(t.OPIOID_POISONING, icd("T40.2X1A"))
    assert term.contains(t.OPIOID_POISONING, icd("T40.411A"))
    assert term.contains(t.OPIOID_POISONING, icd("T40604D"))  # without the dot, undetermined intent
    assert not term.contains(t.OPIOID_POISONING, icd("T40.2X5A"))  # adverse effect
    assert not term.contains(t.OPIOID_POISONING, icd("T40.2X6A"))  # underdosing
    assert not term.contains(t.OPIOID_POISONING, icd("T40.5X1A"))  # cocaine
    assert not term.contains(t.OPIOID_POISONING, icd("T40.2"))  # no intent character
    # The rule belongs to ICD-10-CM only.
    assert not term.contains(t.OPIOID_POISONING, Concept((Coding(SNOMED, "T40.2X1A"),)))
    assert not term.contains(t.OPIOID_POISONING, Concept((Coding(None, "T40.2X1A"),)))


def test_oud_is_2022_and_2016_without_poisoning(term: t.Terminology) -> None:
    assert term.contains(t.OUD, Concept((Coding(SNOMED, "191865004"),)))  # 2016 only
    assert (SNOMED, "191865004") not in term.codes("opioid-misuse-disorders")
    assert (SNOMED, "191865004") in term.codes("2016/opioid-misuse-disorders")
    assert term.contains(t.OUD, icd("F11.20"))
    assert not term.contains(t.OUD, icd("T40.2X1A"))
    poisoning = term.codes(t.OPIOID_POISONING)
    union = term.codes("opioid-misuse-disorders") | term.codes("2016/opioid-misuse-disorders")
    assert term.codes(t.OUD) == union - poisoning
    counting = load(oud={"count_poisoning_as_oud": True})
    assert counting.codes(t.OUD) == union


def test_condition_and_procedure_sets(term: t.Terminology) -> None:
    assert len(term.codes(t.SUD_HISTORY)) == 936
    assert len(term.codes(t.SLEEP_BREATHING)) == 61
    assert len(term.codes(t.SICKLE_CELL)) == 81
    assert len(term.codes(t.MALIGNANT_CANCER)) == 1668
    assert len(term.codes(t.TERMINAL)) == 991 + 6
    assert len(term.codes(t.UDS_TEST)) == 1669 + 3
    # The CDC's 6 and 9, and the 20 HCPCS and 10 revenue codes payers bill hospice by (valueset-corrections.json).
    assert len(term.codes(t.HOSPICE_PROCEDURE)) == 6 + 9 + 20 + 10
    assert len(term.codes(t.OPIOID_TREATMENT_ASSESSMENT)) == 7
    assert term.codes(t.PDMP_REVIEW) == {(SNOMED, "461621000124108"), (SNOMED, "461651000124104")}
    assert term.codes(t.PAIN_MANAGEMENT_PROCEDURE) == {(SNOMED, "408957008")}
    assert term.codes(t.PAIN_TREATMENT_PLAN) == {(LOINC, "80764-4")}
    hospice = Concept((Coding("http://terminology.hl7.org/CodeSystem/discharge-disposition", "hosp"),))
    assert term.contains(t.HOSPICE_DISPOSITION, hospice)
    assert term.contains(t.HOSPICE_DISPOSITION, Concept((Coding(SNOMED, "385763009"),)))
    assert term.contains(t.UDS_TEST, Concept((Coding(LOINC, "10998-3"),)))


# ---- matching rules (1.2) ----


def test_matching_needs_system_and_exact_code(term: t.Terminology) -> None:
    assert not term.contains(t.OPIOID, Concept((Coding(None, "1049621"),)))
    assert not term.contains(t.OPIOID, Concept((Coding(SNOMED, "1049621"),)))
    assert not term.contains(t.OPIOID, Concept((Coding(RXNORM.upper(), "1049621"),)))
    assert not term.contains(t.OPIOID, None)
    assert not term.contains(t.OPIOID, Concept((), "oxycodone 5 mg"))  # free text never matches
    assert not term.medication_in(t.OPIOID, med(Concept((Coding(None, "1049621"),))))
    # Any coding may match: an EHR-local code first, RxNorm second.
    mixed = Concept((Coding("urn:oid:1.2.840.114350", "12345"), Coding(RXNORM, "1049621")))
    assert term.contains(t.OPIOID, mixed)


def test_unknown_set_name_is_an_error(term: t.Terminology) -> None:
    with pytest.raises(KeyError, match="unknown code set"):
        term.contains("OPIODS", rx("1049621"))


def test_opiate_expected_adds_hydrocodone_and_hydromorphone(term: t.Terminology) -> None:
    non_synthetic = codes_of(term, t.NON_SYNTHETIC_OPIOID_MEDS)
    opiate_expected = codes_of(term, t.OPIATE_EXPECTED)
    added = opiate_expected - non_synthetic
    assert non_synthetic <= opiate_expected and added
    assert all(any(r.ingredient_rxcui in ("5489", "3423") for r in term.drug_rows(c)) for c in added)
    assert "1310202" in added  # Vicodin (hydrocodone), a legacy OPIOID code
    assert not term.contains(t.OPIATE_EXPECTED, rx("1049621"))  # oxycodone has its own test


# ---- drug table ----


def test_drug_rows_have_exact_strengths(term: t.Terminology) -> None:
    (oxycodone,) = term.drug_rows("1049621")
    assert oxycodone.drug_name == "oxycodone hydrochloride 5 MG Oral Tablet"
    assert (oxycodone.ingredient_rxcui, oxycodone.dose_form, oxycodone.route) == ("7804", "Oral Tablet", "oral")
    assert oxycodone.strength_value == Decimal("5") and oxycodone.strength_unit == "MG"

    (fentanyl,) = term.drug_rows("197696")
    assert str(fentanyl.strength_value) == "0.075"
    assert (fentanyl.strength_unit, fentanyl.dose_form, fentanyl.ingredient_rxcui) == (
        "MG/HR",
        "Transdermal System",
        "4337",
    )

    (tramadol,) = term.drug_rows("836397")  # acetaminophen is not an opioid, so only one row
    assert (tramadol.ingredient_rxcui, tramadol.ingredient) == ("10689", "Tramadol")
    assert str(tramadol.strength_value) == "37.5" and tramadol.strength_unit == "MG"
    assert "[Ultracet]" in tramadol.drug_name

    both = term.drug_rows("637540")  # two oxycodone salts in one tablet
    assert sorted(r.strength_value for r in both) == [Decimal("0.38"), Decimal("4.5")]
    assert term.drug_rows("1725059") == ()


def test_display_from_expansions_and_drug_table(term: t.Terminology) -> None:
    assert term.display(RXNORM, "1725059") == "naloxone hydrochloride 40 MG/ML Nasal Spray"
    assert term.display(RXNORM, "261186") == "72 HR fentanyl 0.075 MG/HR Transdermal System [Duragesic]"
    assert term.display(RXNORM, "1483744") == "naltrexone hydrochloride 50 MG Oral Tablet"
    assert term.display(SNOMED, "408957008")
    assert term.display(RXNORM, "0") is None
    assert term.display(SNOMED, "1049621") is None


# ---- display name (2.1) ----


def test_medication_name_order_of_preference(term: t.Terminology) -> None:
    assert term.medication_name(med(rx("1049621", text="Oxycodone IR 5mg tab"))) == "Oxycodone IR 5mg tab"
    # The RxNorm coding that is in the drug table wins over another RxNorm coding listed first.
    tablet = rx("7804", "1049621", displays=("oxycodone", "Oxycodone HCl 5 MG Oral Tablet"))
    assert term.medication_name(med(tablet)) == "Oxycodone HCl 5 MG Oral Tablet"
    # A drug-table coding without a display still gets the table's name.
    assert term.medication_name(med(rx("1049621"))) == "oxycodone hydrochloride 5 MG Oral Tablet"
    # Otherwise the display of any RxNorm coding.
    assert term.medication_name(med(rx("1725059", displays=("Narcan nasal",)))) == "Narcan nasal"
    # Then the reference display, then a fixed label.
    local_only = Concept((Coding("urn:local", "77", "local display"),))
    assert term.medication_name(med(local_only, reference_display="Local drug")) == "Local drug"
    assert term.medication_name(med(None, reference="Medication/x", reference_display="Percocet")) == "Percocet"
    assert term.medication_name(med(None, reference="Medication/x")) == "unnamed medication"


def test_a_medication_named_only_by_an_ehrs_own_coding_is_called_by_that_name(term: t.Terminology) -> None:
    # Epic sends a medication it has no RxNorm code for under its own ERX code, the name in the display only: the
    # cards called it "unnamed medication".
    epic = Coding("urn:oid:1.2.840.114350.1.13.0.1.7.2.698288", "2212", "LORAZEPAM 1 MG TABLET")
    assert term.medication_name(med(Concept((epic,)))) == "LORAZEPAM 1 MG TABLET"
    ndc_only = Concept((Coding("http://hl7.org/fhir/sid/ndc", "0406-0552-01", "OXYCODONE HCL 5 MG TAB"),))
    assert term.medication_name(med(ndc_only)) == "OXYCODONE HCL 5 MG TAB"
    # The text and an RxNorm display still come first, whatever order the codings are in.
    assert term.medication_name(med(Concept((epic,), "lorazepam (ATIVAN) 1 mg tablet"))) == (
        "lorazepam (ATIVAN) 1 mg tablet"
    )
    with_rxnorm = Concept((epic, Coding(RXNORM, "999999901", "lorazepam 1 MG Oral Tablet")))
    assert term.medication_name(med(with_rxnorm)) == "lorazepam 1 MG Oral Tablet"
    # A coding with a display but no code is a name too.
    assert term.medication_name(med(Concept((Coding("urn:local", None, "Formulary item: DIAZEPAM 5 MG"),)))) == (
        "Formulary item: DIAZEPAM 5 MG"
    )


# ---- UDS substances (10.4) ----


def test_substances_for_an_oxycodone_test(term: t.Terminology) -> None:
    found = term.substances_for_test(Concept((Coding(LOINC, "10998-3"),)))  # oxyCODONE [Presence] in Urine
    assert [s.name for s in found] == ["oxycodone"]
    (oxycodone,) = found
    assert oxycodone.expected_by == t.OXYCODONE_MEDS == "oxycodone-medications"
    assert oxycodone.negative_unexpected_by == t.OXYCODONE_MEDS
    assert term.contains(oxycodone.expected_by, rx("1049621"))
    assert term.substances_for_test(Concept((Coding(None, "10998-3"),))) == ()
    assert term.substances_for_test(None) == ()
    assert term.substances_for_test(Concept((Coding(LOINC, "80764-4"),))) == ()


def test_substance_table_matches_guideline(term: t.Terminology) -> None:
    by_name = {s.name: s for s in reversed(term.uds_substances)}  # a substance's first row: the CDC's
    assert [s.name for s in term.uds_substances[:13]] == [
        "amphetamine",
        "barbiturate",
        "benzodiazepine",
        "buprenorphine",
        "fentanyl",
        "methadone",
        "opiate",
        "oxycodone",
        "cocaine",
        "heroin",
        "pcp",
        "xylazine",
        "cannabinoid",
    ]
    opiate = by_name["opiate"]
    assert (opiate.test_set, opiate.expected_by) == (t.OPIATE_TESTS, t.OPIATE_EXPECTED)
    assert opiate.negative_unexpected_by == t.NON_SYNTHETIC_OPIOID_MEDS
    assert by_name["benzodiazepine"].expected_by == "benzodiazepine-medications"
    for never in ("cocaine", "heroin", "pcp", "xylazine", "cannabinoid"):
        assert by_name[never].expected_by is None and by_name[never].negative_unexpected_by is None
    for substance in term.uds_substances:
        # a drug whose tests are all of its metabolites (7-aminoflunitrazepam) has rows for both
        metabolites = t.UDS_ANALYTE_TESTS + substance.row_key + "-metabolite"
        assert term.codes(substance.test_set) or term.codes(metabolites), substance
        if substance.expected_by:
            # a drug sold in no US product is the only kind no prescription PainPlan knows can explain
            assert bool(term.codes(substance.expected_by)) != (substance.row_key in UNMARKETED), substance
    # the rows of guideline/uds_analytes.py follow, one per analyte row, each keyed once
    assert len({s.row_key for s in term.uds_substances}) == len(term.uds_substances)


# ---- loading ----


def test_loading_twice_returns_the_same_object() -> None:
    started = time.perf_counter()
    data = t._data.__wrapped__()  # the uncached read, to measure it
    read = time.perf_counter() - started
    started = time.perf_counter()
    fresh = t.Terminology(data, t._derive(data, t._options(GuidelineConfig())))
    derive = time.perf_counter() - started
    print(f"\nterminology: read packaged data {read * 1000:.1f} ms, derive sets {derive * 1000:.1f} ms")
    assert len(fresh.codes(t.OPIOID)) == 557 + 50 + 18  # 2022 set, legacy codes, extended-release injections

    a = t.load_terminology(GuidelineConfig())
    b = t.load_terminology(GuidelineConfig.from_mapping({"pdmp": {"label": "Other PDMP"}}))
    assert a is b  # settings that do not touch terminology share one object
    c = load(naloxone={"extra_rescue_codes": ["2183570"]})
    d = load(naloxone={"extra_rescue_codes": [2183570, "2183570"]})
    assert c is d and c is not a
    assert c.drug_rows("197696") is a.drug_rows("197696")  # heavy data read once per process


def test_a_configuration_no_longer_used_is_freed_and_its_terminology_kept() -> None:
    # Settings read again make a new configuration (and tests make many): the terminology remembered for the old one
    # must not keep it alive, and the next configuration of the same code settings is given the same terminology.
    config = GuidelineConfig.from_mapping({"pdmp": {"label": "Read before the settings changed"}})
    first = t.load_terminology(config)
    gone = weakref.ref(config)
    del config
    gc.collect()
    assert gone() is None
    assert t.load_terminology(GuidelineConfig.from_mapping({})) is first


def test_bad_extra_codes_are_configuration_errors() -> None:
    with pytest.raises(ConfigError, match="cns.extra_codes"):
        load(cns={"include_barbiturates": True, "extra_codes": ["gabapentin"]})
    with pytest.raises(ConfigError, match="naloxone.extra_rescue_codes"):
        load(naloxone={"extra_rescue_codes": "2183570"})


def test_changed_data_fails_loudly() -> None:
    data = t._data()
    key = "2022/naloxone-medications"
    smaller = dict(data.valuesets)
    smaller[key] = data.valuesets[key] - {(RXNORM, "1725059")}  # an upstream release drops a rescue product
    with pytest.raises(t.TerminologyError, match="naloxone rescue"):
        t._derive(dataclasses.replace(data, valuesets=smaller), t._options(GuidelineConfig()))
    with pytest.raises(t.TerminologyError, match="value set 2022/naloxone-medications"):
        t._check_counts(dataclasses.replace(data, valuesets=smaller))
    fewer_legacy = dataclasses.replace(data, legacy_opioids=frozenset(sorted(data.legacy_opioids)[1:]))
    with pytest.raises(t.TerminologyError, match="A.1"):
        t._check_counts(fewer_legacy)


def test_transmucosal_fentanyl_is_every_fentanyl_product_of_a_transmucosal_form_and_nothing_else() -> None:
    term = t.load_terminology(GuidelineConfig.from_mapping())
    tirf = {code for _, code in term.codes(t.TIRF)}
    fentanyl = {
        code for _, code in term.codes(t.OPIOID) if any(r.ingredient_rxcui == "4337" for r in term.drug_rows(code))
    }
    forms = {term.drug_rows(code)[0].dose_form for code in tirf}
    assert forms == {
        "Buccal Tablet",
        "Buccal Film",
        "Oral Lozenge",
        "Sublingual Tablet",
        "Mucosal Spray",
        "Metered Dose Nasal Spray",
        "Pack",
    }
    assert {"1740007", "1740008", "1740009", "1740010"} <= tirf  # Subsys packs, by the form inside them
    others = {term.drug_rows(code)[0].dose_form for code in fentanyl - tirf}
    assert others <= {"Transdermal System", "Injection", "Injectable Solution", "Prefilled Syringe", "Cartridge"}
    assert not tirf & {code for _, code in term.codes(t.ER_LA)}
