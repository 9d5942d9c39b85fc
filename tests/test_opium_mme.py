"""Opium is counted by its morphine content: opium tincture (laudanum) holds 10 mg of anhydrous morphine per mL
(RxNorm states it as opium 100 mg/mL), belladonna and opium suppositories hold powdered opium of about 10 % morphine,
and paregoric 0.4 mg morphine per mL. Each way a chart sends them (RxNorm code, name as RxNorm or a drug file writes
it, NDC through the site's crosswalk, an Epic Medication's ingredient list) gives the same MME, on the cards and in
the population review."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from builders import RXNORM, UCUM, card, med_request, run
from synthetic_export import dispense, medication_concept, patient, write_export

from guideline.config import GuidelineConfig
from guideline.population import Period
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

NDC = "http://hl7.org/fhir/sid/ndc"
TINCTURE = ("830196", "opium tincture 100 MG/ML Oral Solution")
BO_30 = ("312104", "belladonna alkaloids 16.2 MG / opium 30 MG Rectal Suppository")
BO_60 = ("312107", "belladonna alkaloids 16.2 MG / opium 60 MG Rectal Suppository")
# Opium Tincture USP (Deodorized), Marathon Pharmaceuticals (DailyMed: "OPIUM TINCTURE DEODORIZED- morphine
# solution", 10 mg/mL anhydrous morphine); this test's site crosswalk maps it to the RxNorm tincture.
TINCTURE_NDC = "42998-203-01"
CROSSWALK = {"ndc": {"rxnorm": {TINCTURE_NDC: TINCTURE[0]}}}
EPIC_MEDICATION = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"


def tincture_order(concept: dict[str, Any], ml: float = 0.6, times: int = 4) -> dict[str, Any]:
    """A draft for "0.6 mL by mouth four times daily", 30 days (72 mL)."""
    order = med_request("0", id="tinc", draft=True, supply_days=30, quantity=72, unit="mL")
    order["medicationCodeableConcept"] = concept
    instruction = order["dosageInstruction"][0]
    instruction["text"] = f"{ml:g} mL by mouth four times daily"
    instruction["timing"] = {"repeat": {"frequency": times, "period": 1, "periodUnit": "d"}}
    instruction["doseAndRate"] = [{"doseQuantity": {"value": ml, "unit": "mL", "system": UCUM, "code": "mL"}}]
    return order


def suppository_order(concept: dict[str, Any]) -> dict[str, Any]:
    """A draft for "insert 1 suppository rectally once daily", 10 suppositories."""
    order = med_request("0", id="supp", draft=True, supply_days=10, quantity=10, unit="{suppository}")
    order["medicationCodeableConcept"] = concept
    instruction = order["dosageInstruction"][0]
    instruction["text"] = "Insert 1 suppository rectally once daily"
    instruction["timing"] = {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}
    instruction["doseAndRate"] = [
        {"doseQuantity": {"value": 1, "unit": "suppository", "system": UCUM, "code": "{suppository}"}}
    ]
    return order


def coded(drug: tuple[str, str], display: str | None = None) -> dict[str, Any]:
    return {"coding": [{"system": RXNORM, "code": drug[0], "display": display or drug[1]}]}


def counted(order: dict[str, Any], *resources: dict[str, Any], config: dict[str, Any] | None = None):
    """The draft's MME line as the order-sign cards count it, and the high-dose card (if any)."""
    evaluation = run("order-sign", drafts=[order], resources=resources, config=config)
    (result,) = [o for o in evaluation.facts.mme.orders if o.order.id == order["id"]]
    return result, card(evaluation, "high-mme")


def test_opium_tincture_by_code_is_counted_by_its_morphine_content() -> None:
    """0.6 mL four times a day of 100 mg/mL opium is 240 mg opium, 24 mg morphine: 24 MME/day, no high-dose card
    (read at the data file's 1 per mg of opium it was 240 MME/day and a critical card)."""
    result, high = counted(tincture_order(coded(TINCTURE)))
    assert result.state == "ok", result.explanation
    assert result.mme == Decimal(24)
    assert result.ingredients[0].factor == Decimal("0.1")
    assert "240 mg/day opium × 0.1" in result.explanation
    assert "morphine" in result.explanation
    assert high is None


@pytest.mark.parametrize(("drug", "expected"), [(BO_30, "3"), (BO_60, "6")])
def test_belladonna_and_opium_suppository_by_code(drug: tuple[str, str], expected: str) -> None:
    result, _ = counted(suppository_order(coded(drug)))
    assert result.state == "ok", result.explanation
    assert result.mme == Decimal(expected)


@pytest.mark.parametrize(
    "name",
    [
        "opium tincture 100 MG/ML Oral Solution",  # RxNorm's name, as text: the opium
        "OPIUM TINCTURE 10 MG/ML PO TINC",  # as Epic and the drug files name it: the morphine of the label
        "Opium Tincture (Deodorized) 10 mg/mL oral solution",
        "opium 10 mg/mL tincture",
    ],
)
def test_opium_tincture_by_name_is_24(name: str) -> None:
    result, high = counted(tincture_order({"text": name}))
    assert result.state == "ok", result.explanation
    assert result.mme == Decimal(24)
    assert high is None


def test_a_code_whose_display_gives_the_labels_morphine_strength_is_no_strength_conflict() -> None:
    """Epic sends RxNorm's tincture with its own name "10 MG/ML": the same product, not a second strength."""
    order = tincture_order(coded(TINCTURE, "OPIUM TINCTURE 10 MG/ML PO TINC"))
    order["medicationCodeableConcept"]["text"] = "opium tincture 10 mg/mL"
    result, _ = counted(order)
    assert result.mme == Decimal(24)
    assert "the code says" not in result.explanation


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("BELLADONNA ALKALOIDS/OPIUM 16.2-30 MG SUPP", "3"),
        ("belladonna and opium 16.2 mg-60 mg rectal suppository", "6"),
    ],
)
def test_belladonna_and_opium_suppository_by_name(name: str, expected: str) -> None:
    result, _ = counted(suppository_order({"text": name}))
    assert result.state == "ok", result.explanation
    assert result.mme == Decimal(expected)


def test_camphorated_opium_tincture_by_name_counts_its_morphine() -> None:
    """Paregoric's label gives its morphine, 2 mg per 5 mL: 5 mL four times a day is 8 mg morphine, 8 MME/day."""
    result, _ = counted(tincture_order({"text": "camphorated opium tincture 2 mg/5 mL oral liquid"}, ml=5))
    assert result.state == "ok", result.explanation
    assert result.mme == Decimal(8)


def test_opium_tincture_known_only_by_its_ndc_through_the_crosswalk() -> None:
    order = tincture_order({"coding": [{"system": NDC, "code": TINCTURE_NDC}]})
    result, high = counted(order, config=CROSSWALK)
    assert result.state == "ok", result.explanation
    assert result.mme == Decimal(24)
    assert high is None


def test_epic_medication_listing_opium_at_the_labels_strength() -> None:
    """An Epic Medication with no RxNorm product code, listing opium (7676) at 10 mg per mL, as its label states."""
    medication = {
        "resourceType": "Medication",
        "id": "epic-opium",
        "code": {
            "coding": [{"system": EPIC_MEDICATION, "code": "18410", "display": "OPIUM TINCTURE 10 MG/ML PO TINC"}],
            "text": "opium tincture 10 mg/mL tincture",
        },
        "ingredient": [
            {
                "itemCodeableConcept": {"coding": [{"system": RXNORM, "code": "7676", "display": "opium"}]},
                "strength": {
                    "numerator": {"value": 10, "unit": "mg", "system": UCUM, "code": "mg"},
                    "denominator": {"value": 1, "unit": "mL", "system": UCUM, "code": "mL"},
                },
            }
        ],
    }
    order = tincture_order({})
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": "Medication/epic-opium", "display": "opium tincture 10 mg/mL"}
    result, _ = counted(order, medication)
    assert result.state == "ok", result.explanation
    assert result.mme == Decimal(24)


def test_population_review_reads_the_same_factor(tmp_path: Path) -> None:
    """Two claims of 72 mL of the tincture for 30 days each, known only by the NDC: 24 MME/day, not high dose."""
    concept = medication_concept(ndc=TINCTURE_NDC)
    fills = [
        dispense(f"f{n}", "p1", None, day, 72, 30, concept=concept)
        for n, day in enumerate(("2026-01-05", "2026-02-04"), 1)
    ]
    for fill in fills:
        fill["quantity"] = {"value": 72, "unit": "mL", "system": UCUM, "code": "mL"}  # a liquid is dispensed in mL
    write_export(tmp_path / "in", [patient("p1", "1970-01-01"), *fills])
    period = Period(date(2026, 1, 1), date(2026, 3, 31))
    config = GuidelineConfig.from_mapping(CROSSWALK)
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", period, date(2026, 4, 15), config, workers=1)
    with open(tmp_path / "out" / "patients.csv", encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["patient_id"] == "p1")
    assert row["opioid_fills"] == "2"
    assert float(row["avg_mme"]) == 24.0
    assert row["ohd_num"] == "false"


@pytest.mark.parametrize(
    ("name", "ml", "expected"),
    [
        ("PAREGORIC 2 MG/5ML PO LIQD", 5, "8"),  # 0.4 mg morphine per mL: 20 mL a day, 8 mg morphine
        ("Paregoric (camphorated opium tincture) 2 mg/5 mL oral liquid", 5, "8"),
        ("laudanum 10 mg/mL oral solution", 0.6, "24"),
    ],
)
def test_paregoric_and_laudanum_by_name_are_opium(name: str, ml: float, expected: str) -> None:
    """Paregoric and laudanum are opium preparations, named by their morphine: an opioid with its MME, and beside
    a benzodiazepine the opioid + benzodiazepine card (unrecognised, they were only "could not identify")."""
    order = tincture_order({"text": name}, ml=ml)
    result, _ = counted(order)
    assert result.state == "ok", result.explanation
    assert result.mme == Decimal(expected)
    lorazepam = med_request("197900", id="lz", authored="2026-06-05", frequency=2, period=1, period_unit="d")
    evaluation = run("order-sign", drafts=[order], resources=[lorazepam])
    assert card(evaluation, "opioid-benzodiazepine") is not None
    assert card(evaluation, "unidentified-medication") is None


def test_paregoric_without_a_strength_is_an_opioid_with_no_mme_named() -> None:
    """Paregoric named with no strength: an opioid whose MME cannot be worked out, named on the dose card."""
    result, high = counted(tincture_order({"text": "paregoric liquid"}, ml=5))
    assert result.state == "unknown"
    assert result.mme is None
    assert high is not None
    assert "paregoric liquid" in high.detail


@pytest.mark.parametrize(
    ("name", "ml", "expected"),
    [
        # A pharmacy's name carrying the morphine the label states, in brackets: one ingredient, opium, at the
        # label's morphine (it read opium and morphine, and with no strength for the morphine lost the dose).
        ("opium tincture 10 mg/mL (morphine)", 0.6, "24"),
        ("OPIUM TINCTURE 10 MG/ML (MORPHINE) PO TINC", 0.6, "24"),
        ("paregoric 2 mg/5 mL (morphine)", 5, "8"),
        # The morphine content written in the brackets with its strength, or after the opium as DailyMed titles it.
        ("opium tincture (morphine 10 mg/mL)", 0.6, "24"),
        ("Opium Tincture (Deodorized) 10 mg/mL (morphine 10 mg/mL)", 0.6, "24"),
        ("OPIUM TINCTURE DEODORIZED- morphine solution 10 mg/mL", 0.6, "24"),
        ("camphorated opium tincture (morphine 2 mg/5 mL) liquid", 5, "8"),
    ],
)
def test_opium_named_with_its_morphine_is_opium_at_that_morphine(name: str, ml: float, expected: str) -> None:
    result, high = counted(tincture_order({"text": name}, ml=ml))
    assert result.state == "ok", result.explanation
    assert result.mme == Decimal(expected)
    assert [i.rxcui for i in result.ingredients] == ["7676"]
    assert high is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # A morphine equivalent written beside another opioid is a note, not a second ingredient: hydromorphone
        # 2 mg four times a day is 40 MME/day (the note's 8 mg of morphine was counted too, 72).
        ("hydromorphone 2 mg tablet (morphine equivalent 8 mg)", "40"),
        ("HYDROMORPHONE (MORPHINE EQUIV 8 MG) 2 MG TAB", "40"),
        ("oxycodone 10 mg tablet (= 15 mg morphine)", "60"),
        # A brand's generic in brackets is the same ingredient.
        ("MS CONTIN (morphine) 15 mg tablet", "60"),
    ],
)
def test_a_morphine_note_in_brackets_invents_no_dose(name: str, expected: str) -> None:
    order = med_request("0", id="eq", draft=True, frequency=4, period=1, period_unit="d", supply_days=5, quantity=20)
    order["medicationCodeableConcept"] = {"text": name}
    result, _ = counted(order)
    assert result.state == "ok", result.explanation
    assert result.mme == Decimal(expected)
    assert len(result.ingredients) == 1


def _mme_report_of_fill(tmp_path: Path, capsys: pytest.CaptureFixture[str], concept: dict[str, Any]) -> dict:
    """`painplan mme` on a chart holding one pharmacy claim of 120 mL for 6 days (5 mL four times a day)."""
    import json

    from smart_app.cli import main

    fill = {
        "resourceType": "MedicationDispense",
        "id": "par1",
        "status": "completed",
        "medicationCodeableConcept": concept,
        "subject": {"reference": "Patient/p1"},
        "quantity": {"value": 120, "unit": "mL", "system": UCUM, "code": "mL"},
        "daysSupply": {"value": 6, "unit": "Day", "system": UCUM, "code": "d"},
        "whenHandedOver": "2026-06-10T14:40:00-04:00",
    }
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1960-04-02"}
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in (patient, fill)]}
    path = tmp_path / "chart.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    assert main(["mme", str(path), "--today", "2026-06-15"]) == 0
    return json.loads(capsys.readouterr().out)


def test_paregoric_known_only_by_its_ndc_is_named_as_such(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No packaged data maps a paregoric NDC (the value sets and the drug table are RxNorm, and the table has no
    paregoric product): its claim is unidentified, never "not an opioid", and its line says why in words a reader can
    act on (it said "no RxNorm code of this medication is in the drug table and no usable ingredient strength is
    given", for a claim that carries no RxNorm code at all)."""
    report = _mme_report_of_fill(tmp_path, capsys, {"coding": [{"system": NDC, "code": "00121077504"}]})
    assert report["current_complete"] is False
    (line,) = report["dispenses"]
    assert line["status"] == "unidentified" and line["medication"] == "NDC 00121077504"
    assert line["explanation"] == (
        "NDC 00121077504 (filled 2026-06-10): known only by its NDC, which neither PainPlan's packaged data nor the "
        "site's NDC crosswalk ndc.rxnorm maps to a product, so PainPlan cannot tell what it is; it may be an opioid"
    )


def test_paregoric_by_ndc_with_the_claims_name_is_counted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    concept = {"coding": [{"system": NDC, "code": "00121077504", "display": "PAREGORIC 2 MG/5ML LIQD"}]}
    (line,) = _mme_report_of_fill(tmp_path, capsys, concept)["dispenses"]
    assert line["status"] == "converted" and line["mme_per_day"] == 8.0
