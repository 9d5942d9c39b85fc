"""One fill, whatever its source says about it: sent twice (two dispenses, or a dispense and a pharmacy claim), under
its brand or its generic label, as a claim for a liquid measured in mL; and an opioid cough medicine, which is no
pain-opioid fill. None may add a fill, a day or an MME the patient did not have."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from synthetic_export import NDC, dispense, order, patient, practitioner, write_export
from test_population_fill_integrity import pharmacy_claim
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from guideline.population import Directory, PatientOutcome, evaluate_patient
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

CONFIG = GuidelineConfig.from_mapping()
ZONE = ZoneInfo("America/New_York")
PHARMACY_RX = "urn:oid:2.16.840.1.113883.3.1234.rx"  # a pharmacy system's prescription-fill number
OXYCODONE_10 = ("1049683", "oxycodone hydrochloride 10 MG Oral Tablet")
OXY_APAP_10 = ("1049214", "acetaminophen 325 MG / oxycodone hydrochloride 10 MG Oral Tablet")
PERCOCET_10 = ("1049625", "acetaminophen 325 MG / oxycodone hydrochloride 10 MG Oral Tablet [Percocet]")
OXY_SOLUTION = ("1049604", "oxycodone hydrochloride 1 MG/ML Oral Solution")
OXY_SOLUTION_NDC = "00054355563"
PROMETHAZINE_CODEINE = ("991486", "codeine phosphate 2 MG/ML / promethazine hydrochloride 1.25 MG/ML Oral Solution")
HYDROCODONE_GUAIFENESIN = ("859383", "guaifenesin 40 MG/ML / hydrocodone bitartrate 0.5 MG/ML Oral Solution")
ML = {"unit": "mL", "system": "http://unitsofmeasure.org", "code": "mL"}


def _evaluate(pid: str, resources: list[dict], config: GuidelineConfig = CONFIG) -> PatientOutcome:
    return evaluate_patient(pid, resources, PERIOD, config, TODAY, Directory())


def _numbered(fill: dict, number: str) -> dict:
    """A fill carrying the pharmacy's prescription-fill number, as EHR pharmacy systems send it."""
    return {**fill, "identifier": [{"system": PHARMACY_RX, "value": number}]}


def _oxycodone(ident: str, pid: str, day: str, number: str) -> dict:
    """Oxycodone 10 mg, 120 tablets for 30 days (60 MME/day), filled at ph1 on drA's prescription."""
    return _numbered(dispense(ident, pid, OXYCODONE_10, day, 120, 30, "drA", "ph1"), number)


def _liquid(ident: str, pid: str, drug: tuple[str, str], day: str, ml: float, days: float) -> dict:
    fill = dispense(ident, pid, drug, day, ml, days, "drA", "ph1")
    fill["quantity"] = {"value": ml, **ML}
    return fill


def _row(outcome: PatientOutcome) -> dict:
    assert outcome.row is not None
    return outcome.row


# ---------------------------------------------------------------------------------------------------------------
# 1. One fill sent twice


def test_the_same_dispense_sent_twice_counts_once() -> None:
    # A payer feed resends fill RX555-00 under another resource id: 30 phantom days put the patient in AMO.
    fills = [
        _oxycodone("fill-1", "a", "2026-01-05", "RX555-00"),
        _oxycodone("fill-1-resent", "a", "2026-01-05", "RX555-00"),
        _oxycodone("fill-2", "a", "2026-02-04", "RX555-01"),
    ]
    outcome = _evaluate("a", [patient("a"), *fills])
    row = _row(outcome)
    assert (row["opioid_fills"], row["days_supply"], row["amo_den"]) == (2, 60.0, False)
    assert outcome.quality.duplicate_fills == 1


def test_a_fill_sent_as_a_dispense_and_as_a_pharmacy_claim_counts_once() -> None:
    # An integrated payer-provider export holds the EHR's dispense and the payer's claim for each fill.
    fills = [_oxycodone("m1", "b", "2026-01-05", "RX1"), _oxycodone("m2", "b", "2026-02-04", "RX2")]
    claims = [
        pharmacy_claim("c1", "b", "2026-01-05", quantity=120, drug=OXYCODONE_10),
        pharmacy_claim("c2", "b", "2026-02-04", quantity=120, drug=OXYCODONE_10),
    ]
    outcome = _evaluate("b", [patient("b"), *fills, *claims])
    row = _row(outcome)
    assert (row["opioid_fills"], row["days_supply"], row["avg_mme"]) == (2, 60.0, 60.0)
    assert outcome.quality.duplicate_fills == 2


def test_an_ehr_dispense_naming_its_prescriber_through_its_prescription_and_the_claim_for_it_count_once() -> None:
    # An EHR's dispense names its pharmacy as performer and its prescriber only through the prescription it filled
    # (authorizingPrescription, whose requester is drA), as EHRs send it; the payer's claim names drA in its care
    # team. The measures read the dispense's prescriber through its prescription; before, the rule for a fill sent
    # twice did not, saw "no prescriber" against drA, and read each fill twice: 120 days' supply, AMO's denominator.
    prescription = order("rx1", "e", OXYCODONE_10, "2026-01-04", requester="drA", per_day=4, days=30)
    fills = [
        dispense("d1", "e", OXYCODONE_10, "2026-01-05", 120, 30, pharmacy="ph1", order="rx1"),
        dispense("d2", "e", OXYCODONE_10, "2026-02-04", 120, 30, pharmacy="ph1", order="rx1"),
    ]
    claims = [
        pharmacy_claim("c1", "e", "2026-01-05", quantity=120, drug=OXYCODONE_10),
        pharmacy_claim("c2", "e", "2026-02-04", quantity=120, drug=OXYCODONE_10),
    ]
    outcome = _evaluate("e", [patient("e"), prescription, *fills, *claims])
    row = _row(outcome)
    assert (row["opioid_fills"], row["days_supply"], row["amo_den"]) == (2, 60.0, False)
    assert outcome.quality.duplicate_fills == 2


def test_a_fill_naming_its_prescriber_only_through_its_prescription_is_not_one_with_a_fill_naming_another() -> None:
    # The prescriber read through the prescription ties a fill to its claim only when it is the claim's prescriber:
    # drB's claim of the same day, drug and quantity is another fill.
    prescription = order("rx1", "f", OXYCODONE_10, "2026-01-04", requester="drA", per_day=4, days=30)
    fill = dispense("d1", "f", OXYCODONE_10, "2026-01-05", 120, 30, pharmacy="ph1", order="rx1")
    claim = pharmacy_claim("c1", "f", "2026-01-05", quantity=120, drug=OXYCODONE_10)
    claim["careTeam"][0]["provider"] = {"reference": "Practitioner/drB"}
    outcome = _evaluate("f", [patient("f"), prescription, fill, claim])
    assert _row(outcome)["opioid_fills"] == 2
    assert outcome.quality.duplicate_fills == 0


def test_two_fills_on_one_day_that_differ_are_both_counted() -> None:
    # Another prescription number, another quantity or another pharmacy is another fill, not a copy.
    fills = [
        _oxycodone("m1", "c", "2026-01-05", "RX1"),
        _oxycodone("m2", "c", "2026-01-05", "RX2"),
        {**_oxycodone("m3", "c", "2026-01-05", "RX3"), "quantity": {"value": 60}},
        dispense("m4", "c", OXYCODONE_10, "2026-01-05", 120, 30, "drA", "ph2"),
    ]
    outcome = _evaluate("c", [patient("c"), *fills])
    assert _row(outcome)["opioid_fills"] == 4
    assert outcome.quality.duplicate_fills == 0


def test_two_prescriptions_filled_together_are_two_fills() -> None:
    # Two orders of one drug filled on one day at one pharmacy, with no fill number sent: each names its own
    # prescription, so they are two fills (read as one, the patient lost 30 days and an MME of 60).
    fills = [
        dispense("m1", "d", OXYCODONE_10, "2026-01-05", 120, 30, "drA", "ph1", order="o1"),
        dispense("m2", "d", OXYCODONE_10, "2026-01-05", 120, 30, "drA", "ph1", order="o2"),
    ]
    outcome = _evaluate("d", [patient("d"), *fills])
    assert (_row(outcome)["opioid_fills"], outcome.quality.duplicate_fills) == (2, 0)


def test_two_lines_of_one_claim_are_two_fills() -> None:
    # A claim bills each prescription filled together on a line of its own: two identical lines are two fills, not
    # one sent twice (they share the claim's prescription number, which the rule cannot tell them apart by).
    claim = pharmacy_claim("c9", "e", "2026-01-05", quantity=120, drug=OXYCODONE_10, rx_number="RX9")
    claim["item"].append({**claim["item"][0], "sequence": 2})
    outcome = _evaluate("e", [patient("e"), claim])
    assert _row(outcome)["opioid_fills"] == 2
    assert (outcome.quality.duplicate_fills, outcome.quality.duplicate_claim_fills) == (0, 0)


# ---------------------------------------------------------------------------------------------------------------
# 2. Opioid cough and cold medicines are no pain-opioid fill


def test_an_opioid_cough_syrup_makes_no_new_start_and_is_counted() -> None:
    syrup = _liquid("s1", "d", PROMETHAZINE_CODEINE, "2026-01-12", 240, 10)
    outcome = _evaluate("d", [patient("d"), syrup])
    assert outcome.row is None  # no pain-opioid fill: not in the cohort
    assert outcome.quality.cough_cold_opioid_fills == 1


def test_cough_syrups_beside_a_pain_opioid_add_no_fill_or_day() -> None:
    fills = [
        _liquid("t1", "e", HYDROCODONE_GUAIFENESIN, "2026-01-05", 120, 10),
        _liquid("t2", "e", HYDROCODONE_GUAIFENESIN, "2026-02-20", 120, 10),
        dispense("o1", "e", OXYCODONE_10, "2026-03-01", 30, 10, "drA", "ph1"),
    ]
    outcome = _evaluate("e", [patient("e"), *fills])
    row = _row(outcome)
    assert (row["opioid_fills"], row["days_supply"], row["ohd_den"]) == (1, 10.0, False)
    assert outcome.quality.cough_cold_opioid_fills == 2


@pytest.mark.parametrize(
    "text",
    ["Tussionex 10-8 mg/5 mL ER suspension", "Promethazine-codeine 6.25-10 mg/5 mL syrup", "Hycodan 5 mg tablet"],
)
def test_a_cough_medicine_known_by_name_only_is_recognised(text: str) -> None:
    fill = dispense("n1", "f", None, "2026-01-12", 120, 10, "drA", "ph1", concept={"text": text})
    outcome = _evaluate("f", [patient("f"), fill])
    assert outcome.row is None
    assert outcome.quality.cough_cold_opioid_fills == 1


def test_a_pain_opioid_combination_is_no_cough_medicine() -> None:
    # Acetaminophen is no cough and cold ingredient; meperidine with promethazine is no cough medicine either.
    fills = [
        dispense("p1", "g", OXY_APAP_10, "2026-01-05", 60, 10, "drA", "ph1"),
        dispense(
            "p2",
            "g",
            ("861578", "meperidine hydrochloride 50 MG / promethazine hydrochloride 25 MG Oral Capsule"),
            "2026-02-05",
            20,
            5,
            "drA",
            "ph1",
        ),  # fmt: skip
    ]
    outcome = _evaluate("g", [patient("g"), *fills])
    assert _row(outcome)["opioid_fills"] == 2
    assert outcome.quality.cough_cold_opioid_fills == 0


def test_no_opioid_analgesic_of_the_cdc_set_is_a_cough_medicine_and_the_table_cough_medicines_all_are() -> None:
    # The rule is the ingredient combination; the packaged table says which products the CDC's 2022 opioid analgesic
    # set holds. Every table product the rule calls a cough medicine must be outside the set; every oral product
    # outside the set whose RxNorm name combines an antitussive opioid with a cough and cold ingredient is one.
    from guideline.population.medicines import medication_kind
    from guideline.record import build_record
    from guideline.terminology import load_terminology

    terms = load_terminology(CONFIG)
    table = Path(__file__).resolve().parent.parent / "guideline" / "data" / "opioid-drug-data.csv"
    with open(table, encoding="utf-8") as handle:
        rows = {row["rxcui"]: row for row in csv.DictReader(handle)}
    cough = set()
    for rxcui, row in rows.items():
        fill = dispense(f"x{rxcui}", "x", (rxcui, row["drug_name"]), "2026-01-05", 1, 1)
        kind = medication_kind(build_record([fill], ZONE).dispenses[0].medication, terms)
        if kind == "cough-cold":
            cough.add(rxcui)
    in_set = {rxcui for rxcui, row in rows.items() if row["in_vs_opioid_analgesics_2022"] == "Y"}
    assert not cough & in_set
    assert {"991486", "859383", "992656", "1087463", "995483", "1234941"} <= cough
    # 199 of the table's 910 products: outside the set besides them are only injections, patches, brands of analgesic
    # products (Duragesic, Vicodin, Xodol, Kadian, ...), morphine/naltrexone, meperidine/promethazine capsules and
    # the analgesic combinations of acetaminophen, aspirin or caffeine with codeine or dihydrocodeine.
    assert len(cough) == 199


# ---------------------------------------------------------------------------------------------------------------
# 3. Brand and generic of one clinical drug are one drug


def test_brand_and_generic_fills_queue_as_one_drug() -> None:
    # 5 tablets a day (150 for 30 days) filled every 22 days: the pharmacy's label must not change the average.
    days = ["2026-01-01", "2026-01-23", "2026-02-14", "2026-03-08", "2026-03-30"]
    generic = [dispense(f"g{i}", "h", OXY_APAP_10, d, 150, 30, "drA", "ph1") for i, d in enumerate(days)]
    mixed = [
        dispense(f"m{i}", "i", (PERCOCET_10, OXY_APAP_10)[i % 2], d, 150, 30, "drA", "ph1") for i, d in enumerate(days)
    ]
    all_generic = _row(_evaluate("h", [patient("h"), *generic]))
    brand_generic = _row(_evaluate("i", [patient("i"), *mixed]))
    assert all_generic["avg_mme"] == 75.0
    assert (brand_generic["avg_mme"], brand_generic["ohd_num"]) == (all_generic["avg_mme"], all_generic["ohd_num"])


def test_two_strengths_of_one_drug_still_add() -> None:
    # Oxycodone/APAP 10/325 and 5/325 taken together are two supplies: only the same clinical drug queues.
    fills = [
        dispense("a1", "j", OXY_APAP_10, "2026-01-05", 90, 30, "drA", "ph1"),
        dispense(
            "a2", "j", ("1049621", "oxycodone hydrochloride 5 MG Oral Tablet"), "2026-01-05", 90, 30, "drA", "ph1"
        ),
    ]
    assert _row(_evaluate("j", [patient("j"), *fills]))["avg_mme"] == 67.5


# ---------------------------------------------------------------------------------------------------------------
# 4. A pharmacy claim for a liquid keeps its unit


def _liquid_claim(ident: str, pid: str, day: str, unit: bool, ndc: bool = True) -> dict:
    """A claim for 450 mL of oxycodone 1 mg/mL (by its NDC, as Blue Button sends it, or by RxNorm) for 30 days."""
    quantity: dict = {"value": 450, **(ML if unit else {})}
    claim = pharmacy_claim(ident, pid, day, quantity=450, drug=OXY_SOLUTION)
    if ndc:
        claim["item"][0]["productOrService"] = {"coding": [{"system": NDC, "code": OXY_SOLUTION_NDC}]}
    claim["item"][0]["quantity"] = quantity
    return claim


NDC_CONFIG = GuidelineConfig.from_mapping({"ndc": {"rxnorm": {OXY_SOLUTION_NDC: OXY_SOLUTION[0]}}})


def test_a_pharmacy_claim_for_an_oral_solution_in_ml_gets_its_mme() -> None:
    # 450 mL of oxycodone 1 mg/mL for 30 days: 15 mg a day, 22.5 MME/day, as the same fill sent as a dispense.
    claims = [_liquid_claim("c1", "k", "2026-01-05", True), _liquid_claim("c2", "k", "2026-02-04", True)]
    fills = [
        _liquid("m1", "l", OXY_SOLUTION, "2026-01-05", 450, 30),
        _liquid("m2", "l", OXY_SOLUTION, "2026-02-04", 450, 30),
    ]
    from_claims = _evaluate("k", [patient("k"), *claims], NDC_CONFIG)
    from_fills = _evaluate("l", [patient("l"), *fills], NDC_CONFIG)
    assert (_row(from_claims)["avg_mme"], _row(from_claims)["partial"]) == (22.5, None)
    assert _row(from_fills)["avg_mme"] == 22.5
    assert not from_claims.quality.fills_without_mme


def test_a_claim_quantity_with_no_unit_is_read_in_ml_for_a_liquid() -> None:
    # A pharmacy claim's quantity is in NCPDP billing units by definition: mL for a liquid. Blue Button and CARIN
    # claims often send the bare number, so 450 of an oral solution is 450 mL, as the same fill in mL reads.
    # (This replaces the earlier guard that left it unknown: a claim quantity is never bottles.)
    claims = [_liquid_claim("c1", "m", "2026-01-05", False), _liquid_claim("c2", "m", "2026-02-04", False)]
    outcome = _evaluate("m", [patient("m"), *claims], NDC_CONFIG)
    assert (_row(outcome)["avg_mme"], _row(outcome)["peak_mme"], _row(outcome)["partial"]) == (22.5, 22.5, None)
    assert not outcome.quality.fills_without_mme


def _bare_liquid(ident: str, pid: str, day: str) -> dict:
    """An EHR's fill of oxycodone 1 mg/mL, quantity 450 with no unit (mL or bottles: a dispense does not say)."""
    fill = dispense(ident, pid, OXY_SOLUTION, day, 450, 30, "drA", "ph1")
    fill["quantity"] = {"value": 450}
    return fill


def test_a_dispense_quantity_with_no_unit_stays_unknown_for_a_liquid() -> None:
    # A MedicationDispense's quantity has no billing-unit meaning: no unit, no MME, named, never guessed; and the
    # highest day is not known, not 0 (a peak of 0.0 would read as a low dose).
    fills = [_bare_liquid("b1", "n", "2026-01-05"), _bare_liquid("b2", "n", "2026-02-04")]
    outcome = _evaluate("n", [patient("n"), *fills])
    assert (_row(outcome)["avg_mme"], _row(outcome)["peak_mme"]) == (None, None)
    assert sum(outcome.quality.fills_without_mme.values()) == 2


# ---------------------------------------------------------------------------------------------------------------
# 5. A patient whose id changed


def _methadone(ident: str, pid: str, day: str) -> dict:
    """Methadone 10 mg, 90 tablets for 30 days: long-acting, 141 MME/day by the 2016 tiers."""
    return dispense(ident, pid, ("864706", "methadone hydrochloride 10 MG Oral Tablet"), day, 90, 30, "drA", "ph1")


def _linked(pid: str, other: str, kind: str, active: bool) -> dict:
    """A member whose id an MPI merge or a re-enrolment changed: the old record points to the new and back."""
    return {**patient(pid, "1970-01-01", "Practitioner/drA"), "active": active,
            "link": [{"other": {"reference": f"Patient/{other}"}, "type": kind}]}  # fmt: skip


def test_one_patients_evaluation_leaves_the_replacements_to_the_run() -> None:
    # The run builds one map of replaced records before the cohort is chosen, and names each replacement once
    # (guideline.population.links, tests/test_population_links.py); counted again here, it was named twice.
    old = _evaluate("OLD", [_linked("OLD", "NEW", "replaced-by", False), _methadone("f1", "OLD", "2026-01-05")])
    new = _evaluate("NEW", [_linked("NEW", "OLD", "replaces", True), _methadone("f2", "NEW", "2026-02-04")])
    assert old.row is not None and new.row is not None
    assert not old.quality.merge(new.quality).linked_patients


# ---------------------------------------------------------------------------------------------------------------
# All of it in one export: both engines must read it alike (tests/test_population_spark.py runs Spark on it)


def sources_export() -> list[dict]:
    """Every case above once, as an export's resources."""
    days = ["2026-01-01", "2026-01-23", "2026-02-14", "2026-03-08", "2026-03-30"]
    return [
        practitioner("drA"),
        *[
            patient(pid, "1970-01-01", "Practitioner/drA")
            for pid in ("dup", "both", "syrup", "brand", "liquid", "bare", "ehr-bare")
        ],
        _oxycodone("dup-1", "dup", "2026-01-05", "RX555-00"),
        _oxycodone("dup-1-resent", "dup", "2026-01-05", "RX555-00"),
        _oxycodone("dup-2", "dup", "2026-02-04", "RX555-01"),
        _oxycodone("both-1", "both", "2026-01-05", "RX1"),
        pharmacy_claim("both-c1", "both", "2026-01-05", quantity=120, drug=OXYCODONE_10),
        _liquid("syrup-1", "syrup", PROMETHAZINE_CODEINE, "2026-01-12", 240, 10),
        *[
            dispense(f"brand-{i}", "brand", (PERCOCET_10, OXY_APAP_10)[i % 2], d, 150, 30, "drA", "ph1")
            for i, d in enumerate(days)
        ],  # fmt: skip
        _liquid_claim("liquid-c1", "liquid", "2026-01-05", True, ndc=False),
        _liquid_claim("liquid-c2", "liquid", "2026-02-04", True, ndc=False),
        _liquid_claim("bare-c1", "bare", "2026-01-05", False, ndc=False),
        _liquid_claim("bare-c2", "bare", "2026-02-04", False, ndc=False),
        _bare_liquid("ehr-bare-1", "ehr-bare", "2026-01-05"),
        _bare_liquid("ehr-bare-2", "ehr-bare", "2026-02-04"),
        _linked("OLD", "NEW", "replaced-by", False),
        _linked("NEW", "OLD", "replaces", True),
        _methadone("old-1", "OLD", "2026-01-05"),
        _methadone("new-1", "NEW", "2026-02-04"),
    ]


def test_an_export_holding_every_case(tmp_path: Path) -> None:
    write_export(tmp_path / "in", sources_export())
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, CONFIG, workers=2)
    with open(tmp_path / "out" / "patients.csv", encoding="utf-8") as handle:
        rows = {row["patient_id"]: row for row in csv.DictReader(handle)}
    shown = {pid: (row["opioid_fills"], row["avg_mme"], row["peak_mme"]) for pid, row in rows.items()}
    assert shown == {
        "dup": ("2", "60.0", "60.0"),
        "both": ("1", "60.0", "60.0"),
        "brand": ("5", "75.0", "75.0"),
        "liquid": ("2", "22.5", "22.5"),
        "bare": ("2", "22.5", "22.5"),
        "ehr-bare": ("2", "", ""),
        "NEW": ("2", "141.0", "141.0"),  # OLD's fill read as the record replacing it
    }
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    assert (quality["duplicate_fills"], quality["cough_cold_opioid_fills"]) == (2, 1)
    assert quality["linked_patients"] == {"OLD → NEW merged": 1}


# ---------------------------------------------------------------------------------------------------------------
# STU3 fills name their pharmacy as the performer's onBehalfOf


def _stu3_fill(ident: str, pid: str, day: str, prescriber: str, pharmacy: str) -> dict:
    """An STU3 MedicationDispense as an STU3 server exports it: the dispensing pharmacist as performer.actor and the
    pharmacy as performer.onBehalfOf (R4 dropped onBehalfOf), the visit as `context`, `notDone` false."""
    fill = dispense(ident, pid, OXYCODONE_10, day, 120, 30)
    fill.update(
        context={"reference": "Encounter/visit-1"},
        notDone=False,
        performer=[{"actor": {"reference": f"Practitioner/{prescriber}"},
                    "onBehalfOf": {"reference": f"Organization/{pharmacy}"}}],
    )  # fmt: skip
    return fill


def test_an_stu3_fills_pharmacy_is_its_performers_on_behalf_of_and_counts_for_omp() -> None:
    """Four fills at four pharmacies, STU3: each pharmacy is read from performer.onBehalfOf, so OMP sees four
    pharmacies and no fill is counted as naming none (it saw none, and counted every fill as naming no pharmacy)."""
    fills = [
        _stu3_fill(f"s{n}", "A", day, f"dr{n}", f"ph{n}")
        for n, day in enumerate(("2026-01-05", "2026-01-20", "2026-02-04", "2026-02-19"))
    ]
    outcome = _evaluate("A", [patient("A"), *fills])
    row = _row(outcome)
    assert (row["prescribers"], row["pharmacies"]) == (4, 4)
    assert row["omp_den"] and row["omp_num"]
    assert outcome.quality.fills_without_pharmacy == 0
