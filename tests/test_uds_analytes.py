"""Urine drug test results per analyte (guideline 10.4): a test of one opioid, benzodiazepine or illicit drug under
its own LOINC code is judged against that drug's prescriptions and the drugs it is a metabolite of, and a test of a
substance PainPlan does not judge is named, never only counted as a test done."""

from __future__ import annotations

import csv
import json

import pytest
from builders import card, days_ago, med_request, observation, run

from guideline.checks import CHECKS, naloxone, unexpected_uds_result
from guideline.config import GuidelineConfig
from guideline.fhirdata import LOINC, Coding, Concept
from guideline.terminology import DATA_DIR, UDS_TEST, load_terminology
from guideline.uds import SUBSTANCE_LABELS

UNEXPECTED = unexpected_uds_result.CHECK_ID

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
HYDROCODONE_APAP = "856999"
CODEINE_APAP = "993781"  # acetaminophen 300 MG / codeine phosphate 30 MG Oral Tablet
OXYMORPHONE = "977939"  # oxymorphone hydrochloride 5 MG Oral Tablet
TAPENTADOL = "825409"  # tapentadol 100 MG Oral Tablet
FENTANYL_PATCH = "245134"  # 72 HR fentanyl 0.025 MG/HR Transdermal System
DIAZEPAM = "197591"  # diazepam 5 MG Oral Tablet

MORPHINE_PRESENCE = "3830-7"  # Morphine [Presence] in Urine
CODEINE_PRESENCE = "3507-1"
HYDROMORPHONE_PRESENCE = "9834-3"
NOROXYMORPHONE_SCREEN = "89302-4"
OXYCODONE_OXYMORPHONE_SCREEN = "58430-0"  # oxyCODONE+oxyMORphone [Presence] in Urine by Screen method
METONITAZENE = "101168-3"  # Metonitazene [Presence] in Urine by Confirmatory method
U47700 = "93459-6"  # U-47700 [Mass/volume] in Urine by Confirmatory method
NORTAPENTADOL = "81754-4"  # Nortapentadol [Mass/volume] in Urine by Confirmatory method
TAPENTADOL_CONFIRM = "58401-1"  # Tapentadol [Presence] in Urine by Confirmatory method
ACETYL_FENTANYL = "74810-3"  # Acetyl fentanyl [Presence] in Urine by Confirmatory method
OXAZEPAM = "19639-4"  # Oxazepam [Presence] in Urine by Confirmatory method
ALPRAZOLAM = "16203-2"  # ALPRAZolam [Presence] in Urine by Confirmatory method
CARISOPRODOL = "197446"  # carisoprodol 350 MG Oral Tablet
CARISOPRODOL_CONFIRM = "58426-8"  # Carisoprodol [Presence] in Urine by Confirmatory method
MEPROBAMATE_CONFIRM = "58373-2"  # Meprobamate [Presence] in Urine by Confirmatory method
SERTRALINE = "92652-7"  # Sertraline [Presence] in Urine by Confirmatory method
METHYLPHENIDATE = "19578-4"  # Methylphenidate [Presence] in Urine by Confirmatory method


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, UNEXPECTED, unexpected_uds_result)
    monkeypatch.setitem(CHECKS, naloxone.CHECK_ID, naloxone)


def current(rxcui: str) -> dict:
    """A prescription whose supply covers the test day and the 30 days before it."""
    return med_request(rxcui, authored=days_ago(40), supply_days=60)


def result(code: str, value: str, days: int = 10) -> dict:
    return observation(code, when=days_ago(days), value_string=value)


def patient_view(*resources: dict):
    return run("patient-view", resources=list(resources))


def unexpected_summary(*resources: dict) -> str | None:
    found = card(patient_view(*resources), UNEXPECTED)
    return found.summary if found else None


# -- opioid-specific results are judged ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "named"),
    [(MORPHINE_PRESENCE, "morphine"), (CODEINE_PRESENCE, "codeine"), (HYDROMORPHONE_PRESENCE, "hydromorphone")],
)
def test_a_specific_opiate_not_prescribed_is_unexpected(code: str, named: str) -> None:
    # Under its LOINC code such a result counted as a test done and was judged for nothing: no card, no word.
    summary = unexpected_summary(current(OXYCODONE), result(code, "Positive"))
    assert summary == f"Discuss unexpected urine drug test result with the patient: positive for {named} (2026-06-05)"


@pytest.mark.parametrize(
    ("prescribed", "code"),
    [
        (CODEINE_APAP, MORPHINE_PRESENCE),  # codeine is metabolised to morphine
        (HYDROCODONE_APAP, HYDROMORPHONE_PRESENCE),  # hydrocodone to hydromorphone
        (OXYCODONE, NOROXYMORPHONE_SCREEN),  # oxycodone to oxymorphone and noroxymorphone
        (OXYMORPHONE, NOROXYMORPHONE_SCREEN),
        (OXYMORPHONE, OXYCODONE_OXYMORPHONE_SCREEN),  # the combined screen was "oxycodone, not prescribed"
        (TAPENTADOL, NORTAPENTADOL),
    ],
)
def test_a_metabolite_of_the_prescribed_opioid_is_expected(prescribed: str, code: str) -> None:
    assert unexpected_summary(current(prescribed), result(code, "Positive")) is None


def test_the_metabolite_explanation_names_the_prescription_on_the_plan_rows() -> None:
    from guideline.plan.uds_history import build_uds

    evaluation = patient_view(current(CODEINE_APAP), result(MORPHINE_PRESENCE, "Positive"))
    (row,) = build_uds(evaluation.facts).rows
    assert row.substances == ("morphine: positive",)
    assert row.explained == ("acetaminophen 300 MG / codeine phosphate 30 MG Oral Tablet (2026-05-06)",)


def test_a_parent_drug_is_not_explained_by_its_metabolite() -> None:
    # Morphine is no source of codeine, nor oxymorphone of oxycodone: the table runs one way only.
    assert unexpected_summary(current("892494"), result(CODEINE_PRESENCE, "Positive")) is not None  # morphine ER
    assert unexpected_summary(current(OXYMORPHONE), result("16249-5", "Positive")) is not None  # oxycodone confirm


def test_a_negative_for_the_prescribed_opioid_is_unexpected_and_a_metabolite_negative_is_not() -> None:
    summary = unexpected_summary(current(TAPENTADOL), result(TAPENTADOL_CONFIRM, "Not detected"))
    assert summary == "Discuss unexpected urine drug test result with the patient: negative for tapentadol (2026-06-05)"
    # Minor metabolites are often below the cutoff in a patient taking the drug: their absence says nothing.
    assert unexpected_summary(current(TAPENTADOL), result(NORTAPENTADOL, "Not detected")) is None
    assert unexpected_summary(current(OXYCODONE), result(NOROXYMORPHONE_SCREEN, "Negative")) is None


# -- tapentadol is not fentanyl ---------------------------------------------------------------------------------


def test_nortapentadol_on_tapentadol_is_neither_fentanyl_nor_an_overdose_risk_factor() -> None:
    evaluation = patient_view(current(TAPENTADOL), result(NORTAPENTADOL, "Positive"))
    assert card(evaluation, UNEXPECTED) is None
    assert naloxone.unprescribed_fentanyl_or_heroin(evaluation.facts) == ()


def test_nortapentadol_not_detected_on_a_fentanyl_patch_is_no_missing_fentanyl() -> None:
    patch = med_request(FENTANYL_PATCH, authored=days_ago(40), supply_days=60, unit="patch", period=72)
    assert unexpected_summary(patch, result(NORTAPENTADOL, "Not detected")) is None


def test_a_fentanyl_analogue_is_never_explained_by_prescribed_fentanyl() -> None:
    patch = med_request(FENTANYL_PATCH, authored=days_ago(40), supply_days=60, unit="patch", period=72)
    evaluation = patient_view(patch, result(ACETYL_FENTANYL, "Detected"))
    found = card(evaluation, UNEXPECTED)
    assert found is not None and "positive for fentanyl analogues" in found.summary
    assert naloxone.unprescribed_fentanyl_or_heroin(evaluation.facts)
    # Nor is its absence a missing fentanyl: a patch wearer's urine holds no acetyl fentanyl.
    assert unexpected_summary(patch, result(ACETYL_FENTANYL, "Not detected")) is None


# -- novel synthetic opioids -------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [METONITAZENE, U47700])
def test_a_nitazene_or_u47700_is_an_unexpected_synthetic_opioid_and_an_overdose_risk(code: str) -> None:
    evaluation = patient_view(current(OXYCODONE), result(code, "Detected"))
    found = card(evaluation, UNEXPECTED)
    assert found is not None and "positive for novel synthetic opioids (2026-06-05)" in found.summary
    risk = card(evaluation, naloxone.CHECK_ID)
    assert risk is not None
    assert "Fentanyl, heroin or another illicit opioid found in a urine drug test, not prescribed" in risk.detail
    assert "positive for novel synthetic opioids, not prescribed" in risk.detail


def test_fentanyl_alone_keeps_its_risk_factor_wording() -> None:
    risk = card(patient_view(current(OXYCODONE), result("59673-4", "Positive")), naloxone.CHECK_ID)
    assert risk is not None and "**Fentanyl or heroin found in a urine drug test, not prescribed:**" in risk.detail


# -- benzodiazepines by drug -------------------------------------------------------------------------------------


def test_a_benzodiazepine_by_drug_is_judged_with_its_metabolites() -> None:
    on_opioid = current(OXYCODONE)
    assert unexpected_summary(on_opioid, result(ALPRAZOLAM, "Positive")) == (
        "Discuss unexpected urine drug test result with the patient: positive for alprazolam (2026-06-05)"
    )
    # Oxazepam is a metabolite of diazepam (by nordiazepam and temazepam).
    assert unexpected_summary(on_opioid, current(DIAZEPAM), result(OXAZEPAM, "Positive")) is None
    # Alprazolam is not: another benzodiazepine prescribed does not explain it.
    assert unexpected_summary(on_opioid, current(DIAZEPAM), result(ALPRAZOLAM, "Positive")) is not None


def test_carisoprodol_and_its_metabolite_meprobamate_are_judged_against_carisoprodol() -> None:
    # Carisoprodol and meprobamate joined the sedative set: a result for either is judged, no longer only counted.
    on_opioid = current(OXYCODONE)
    assert unexpected_summary(on_opioid, result(CARISOPRODOL_CONFIRM, "Positive")) == (
        "Discuss unexpected urine drug test result with the patient: positive for carisoprodol (2026-06-05)"
    )
    assert unexpected_summary(on_opioid, current(CARISOPRODOL), result(MEPROBAMATE_CONFIRM, "Positive")) is None


# -- what PainPlan does not judge is named ------------------------------------------------------------------------


def test_a_positive_for_a_substance_not_judged_is_named_on_the_card_and_page() -> None:
    from guideline.named_gaps import NAMED_GAPS
    from guideline.plan import build_plan

    evaluation = patient_view(current(OXYCODONE), result(SERTRALINE, "Positive"), result(METHYLPHENIDATE, "Pos"))
    gap = next(kind for kind in NAMED_GAPS if kind.key == "unjudged-uds-substances")
    assert gap.items(evaluation.facts) == ("sertraline, methylphenidate (2026-06-05, positive)",)
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    assert view.named["unjudged-uds-substances"] == gap.items(evaluation.facts)
    # Methylphenidate was read as an amphetamine: "positive for amphetamine, not prescribed" for a patient on Ritalin.
    assert card(evaluation, UNEXPECTED) is None


def test_a_negative_for_a_substance_not_judged_is_not_named() -> None:
    from guideline.named_gaps import NAMED_GAPS

    evaluation = patient_view(current(OXYCODONE), result(SERTRALINE, "Negative"))
    gap = next(kind for kind in NAMED_GAPS if kind.key == "unjudged-uds-substances")
    assert gap.items(evaluation.facts) == ()


# -- the table ---------------------------------------------------------------------------------------------------


def _terms():
    return load_terminology(GuidelineConfig.from_mapping({}))


def test_every_urine_drug_test_code_is_judged_or_listed_as_not_judged() -> None:
    terms = _terms()
    with (DATA_DIR / "uds-analytes.csv").open(encoding="utf-8", newline="") as handle:
        table = {row["code"]: row for row in csv.DictReader(handle)}
    silent = []
    for system, code in sorted(terms.codes(UDS_TEST)):
        concept = Concept((Coding(system, code),))
        if not terms.substances_for_test(concept) and (code not in table or table[code]["substance"]):
            silent.append(code)
    assert silent == []
    not_judged = [row["analyte"] for row in table.values() if not row["substance"]]
    assert all(not_judged) and "sertraline" in not_judged and "methylphenidate" in not_judged
    methylphenidate = Concept((Coding(LOINC, METHYLPHENIDATE),))
    assert terms.contains(UDS_TEST, methylphenidate) and not terms.substances_for_test(methylphenidate)


def test_every_substance_read_has_a_label() -> None:
    assert {s.name for s in _terms().uds_substances} <= set(SUBSTANCE_LABELS)


def test_the_fentanyl_set_is_corrected_with_a_reason() -> None:
    corrections = json.loads((DATA_DIR / "valueset-corrections.json").read_text(encoding="utf-8"))["corrections"]
    fentanyl = corrections["2022/fentanyl-type-urine-drug-screening-tests"]
    assert "tapentadol" in fentanyl["reason"]
    removed = {code for _, code, *_ in fentanyl["remove"]}
    assert {"101401-8", "65808-8", "81754-4", "89306-5"} <= removed
    fentanyl_row = next(s for s in _terms().uds_substances if s.name == "fentanyl")
    concept = Concept((Coding(LOINC, NORTAPENTADOL),))
    assert fentanyl_row not in _terms().substances_for_test(concept)


def test_a_result_not_judged_of_unknown_status_is_named_as_any_unknown_status_is() -> None:
    from guideline.checks.unexpected_uds_result import unread_results

    unknown = observation(SERTRALINE, when=days_ago(10), value_string="Positive", status="unknown")
    evaluation = patient_view(current(OXYCODONE), unknown)
    assert unread_results(evaluation.facts) == ("urine drug test (2026-06-05, status unknown)",)
