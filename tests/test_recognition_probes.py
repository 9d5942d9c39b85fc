"""Real-world medication data that was once misread in silence: payers' cut drug names, an unrecognised ingredient
beside an opioid's usual partner, and Epic's spelled-out frequencies. Read through `painplan mme`, end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from builders import card, days_ago, med_request, run

from smart_app.cli import main

NDC = "http://hl7.org/fhir/sid/ndc"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
OXYCODONE_5 = {"system": RXNORM, "code": "1049621", "display": "oxycodone hydrochloride 5 MG Oral Tablet"}


def tablets(value: int) -> dict:
    return {"value": value, "unit": "tablet", "system": UCUM, "code": "{tbl}"}


def every_hours(hours: int) -> dict:
    return {"repeat": {"frequency": 1, "period": hours, "periodUnit": "h"}}


def order(concept: dict, timing: dict, dose: int = 1, id: str = "rx1") -> dict:
    """An R4 MedicationRequest as an EHR sends it: one instruction, a dose in tablets."""
    return {
        "resourceType": "MedicationRequest",
        "id": id,
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2026-06-01",
        "medicationCodeableConcept": concept,
        "dosageInstruction": [{"timing": timing, "doseAndRate": [{"doseQuantity": tablets(dose)}]}],
    }


def ndc_only(display: str, code: str = "00406-0123-01") -> dict:
    """A medication known only by its NDC, named in the display a payer's drug file gives it."""
    return {"coding": [{"system": NDC, "code": code, "display": display}]}


def fill(concept: dict, quantity: int, days: int, when: str = "2026-06-10") -> dict:
    """A pharmacy fill with no order, as a PBM's medication history sends it."""
    return {
        "resourceType": "MedicationDispense",
        "id": "f1",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "whenHandedOver": when,
        "medicationCodeableConcept": concept,
        "quantity": {"value": quantity, "unit": "EA", "system": UCUM, "code": "{EA}"},
        "daysSupply": {"value": days, "unit": "day", "system": UCUM, "code": "d"},
    }


def mme_report(tmp_path: Path, capsys: pytest.CaptureFixture[str], *resources: dict) -> dict[str, Any]:
    """`painplan mme` over a Bundle of the resources, on a fixed date."""
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    assert main(["mme", str(path), "--today", "2026-06-15"]) == 0
    return json.loads(capsys.readouterr().out)


# ---- payers' drug files cut ingredient names to fit a field ----


@pytest.mark.parametrize(
    ("display", "mme_per_day"),
    [
        # Medi-Span's abbreviated names: read as acetaminophen alone, each was "not relevant", no card, no word.
        ("HYDROCO/APAP TAB 5-325MG", 40.0),  # 2 tablets every 6 hours: 40 mg hydrocodone × 1
        ("OXYCOD/APAP TAB 10-325MG", 120.0),  # 80 mg oxycodone × 1.5
        ("HYDROCO/IBU TAB 7.5-200MG", 60.0),  # "IBU" unknown made it unidentified: 60 mg hydrocodone
    ],
)
def test_a_drug_files_cut_opioid_name_is_an_opioid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], display: str, mme_per_day: float
) -> None:
    report = mme_report(tmp_path, capsys, order(ndc_only(display), every_hours(6), dose=2))
    (line,) = report["orders"]
    assert (line["class"], line["status"], line["mme_per_day"]) == ("opioid-by-name", "converted", mme_per_day)
    assert report["complete"] is True


def test_a_fill_known_only_by_a_cut_name_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A PBM fill of "HYDROCO/APAP" with no order: once not relevant, it was left out of the current total."""
    report = mme_report(tmp_path, capsys, fill(ndc_only("HYDROCO/APAP TAB 10-325MG"), 120, 30))
    (line,) = report["dispenses"]
    assert line["status"] == "converted" and line["current"] is True
    assert report["current_total_mme"] == 40.0  # 4 tablets a day × 10 mg hydrocodone × 1


def test_a_cut_benzodiazepine_combination_is_a_benzodiazepine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = mme_report(
        tmp_path,
        capsys,
        order(ndc_only("CHLORDIAZEP/AMITRIP TAB 10-25MG"), every_hours(8)),
        order({"coding": [OXYCODONE_5]}, every_hours(4), id="rx2"),
    )
    assert report["orders"][0]["class"] == "benzodiazepine"


def test_a_cut_opioid_name_beside_a_benzodiazepine_gets_the_card() -> None:
    """Signing alprazolam for a patient whose hydrocodone is known only as "HYDROCO/APAP": no card, before."""
    hydrocodone = med_request("0", id="hc1", authored=days_ago(10), period=6)
    hydrocodone["medicationCodeableConcept"] = ndc_only("HYDROCO/APAP TAB 10-325MG")
    alprazolam = med_request("0", id="alp", draft=True, supply_days=5, period=8)
    alprazolam["medicationCodeableConcept"] = {"text": "ALPRAZolam 0.5 MG tablet"}
    found = card(run("order-sign", drafts=[alprazolam], resources=[hydrocodone]), "opioid-benzodiazepine")
    assert found is not None and "HYDROCO/APAP" in found.detail


@pytest.mark.parametrize(
    "display",
    [
        # A strength list with more numbers than ingredients read, beside an ingredient sold with opioids: an
        # ingredient went unread ("HC" is hydrocodone), so the name is no evidence it is harmless. ("COD" beside an
        # ingredient sold with codeine is read as codeine: tests/test_recognition_cut_codeine.py.)
        "APAP/HC 325-5",
        # With no strengths, once "IBU", "PSE" and "PE" were read the opioid's cut name beside them was not: each
        # was "not relevant" (before those aliases, unidentified), with nothing said.
        "IBU/HC TAB",
        "IBU/OXY TAB",
        "PSE/HC SYRUP",
        "HC/PSE/DM",
        "CHLORPHEN/PE/HC SOLN",
        "APAP-HC",  # joined by a hyphen or a space, not "/": read as acetaminophen alone, not relevant
        "APAP HC 5-325",
    ],
)
def test_an_unread_ingredient_beside_an_opioid_partner_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], display: str
) -> None:
    report = mme_report(tmp_path, capsys, order(ndc_only(display), every_hours(6)))
    (line,) = report["orders"]
    assert (line["class"], line["status"]) == ("unidentified", "unidentified")
    assert line["medication"] == display
    assert report["complete"] is False


@pytest.mark.parametrize(
    "display",
    [
        "ACETAMINOPHEN/CAFFEINE 500-65 MG TAB",
        # The cough and cold ingredients cut as drug files cut them: each read, so no unread ingredient.
        "BROMPHEN/PSE/DM SYR 2-30-10 MG/5 ML",
        "CHLORPHEN/PE TAB 4-10 MG",
        "BROMPHEN/PSE/DM SYRUP",  # no strengths, every part read
        # A dose range is no strength list: "1-2" beside a "/" or "-" between words was read as two strengths for one
        # ingredient read, and acetaminophen, sold with opioids, was named unidentified beside every opioid order.
        "acetaminophen 325 mg 1-2 tabs PO q4h prn pain/fever",
        "Tylenol Extra-Strength 500 mg 1-2 tabs",
        "ibuprofen 200 mg 2-3 tablets every 6 hours as needed for pain/swelling",
    ],
)
def test_a_plain_combination_of_other_medicines_stays_not_relevant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], display: str
) -> None:
    """Every ingredient read: positive evidence, as before (no noise about an ordinary combination)."""
    report = mme_report(tmp_path, capsys, order(ndc_only(display), every_hours(6)))
    assert report["orders"][0]["class"] == "not-relevant"


# Ordinary combinations whose other ingredient the lexicon once lacked: the partner sold with opioids was read alone,
# the strength list had one number too many, and each was named unidentified (a data-incomplete card beside every
# opioid order, "incomplete" on the plan page) where it is plainly not relevant.
ORDINARY_COMBINATIONS = (
    "AGGRENOX 25-200 MG CAP",
    "ASPIRIN-DIPYRIDAMOLE ER 25-200 MG CAP",
    "ACETAMINOPHEN-PAMABROM 500-25 MG TAB",
    "acetaminophen-dextromethorphan-doxylamine 650-30-12.5 mg/30 mL liquid",
    "desloratadine-pseudoephedrine 2.5-120 mg tablet,extended release 12 hr",
    "TRIPROLIDINE-PSEUDOEPHEDRINE 1.25-30 MG/5 ML SOLN",
    "carbinoxamine maleate-pseudoephedrine 4-60 mg/5 mL liquid",
    "DEXBROMPHENIRAMINE-PSEUDOEPHEDRINE 6-120 MG TAB ER",
    "ORPHENADRINE-ASPIRIN-CAFFEINE 25-385-30 MG TAB",
    "ORPHENADRINE CITRATE/ASPIRIN/CAFFEINE 50-770-60 MG TAB",
    "CHLORZOXAZONE-ACETAMINOPHEN 250-300 MG TAB",
    "ASPIRIN-CALCIUM CARBONATE 81-777 MG TAB",
    "CHLORPHENIRAMINE-METHSCOPOLAMINE-PHENYLEPHRINE 8-2.5-20 MG TAB ER",
    "ACETAMINOPHEN/PHENYLTOLOXAMINE 325-30 MG TAB",
    "pseudoephedrine-acrivastine 60-8 mg capsule",
)


@pytest.mark.parametrize("payload", ["ndc", "text"])
@pytest.mark.parametrize("display", ORDINARY_COMBINATIONS)
def test_an_ordinary_combination_is_not_relevant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], display: str, payload: str
) -> None:
    concept = ndc_only(display) if payload == "ndc" else {"text": display}
    report = mme_report(
        tmp_path, capsys, order(concept, every_hours(6)), order({"coding": [OXYCODONE_5]}, every_hours(6), id="rx2")
    )
    classes = {line["medication"]: line["class"] for line in report["orders"]}
    assert classes[display] == "not-relevant"
    assert report["complete"] is True


@pytest.mark.parametrize(
    "display",
    [
        # Every ingredient of these now read, a fourth number still names an ingredient that was not: maybe the opioid.
        "CHLORPHENIRAMINE-METHSCOPOLAMINE-PHENYLEPHRINE-HC 8-2.5-20-5 MG TAB",
        "TRIPROLIDINE/PSE/HYDROC 2.5-60-5 MG/10 ML",
    ],
)
def test_a_fourth_strength_beside_newly_read_ingredients_is_still_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], display: str
) -> None:
    report = mme_report(tmp_path, capsys, order(ndc_only(display), every_hours(6)))
    assert report["orders"][0]["class"] == "unidentified"


# ---- frequencies written out in words, as Epic writes them ----


@pytest.mark.parametrize(
    ("text", "per_day"),
    [
        ("4 (four) times daily", 4),  # read as "daily": once a day, a quarter of the dose
        ("2 (two) times daily", 2),
        ("Four (4) times daily", 4),
        ("3 (three) times daily as needed", 3),
        ("every twelve hours, no more than 2 tablets daily", 2),  # the "daily" of the limit was read: once a day
        ("Every eight (8) hours PRN", 3),
        ("every morning and at bedtime", 2),  # the "every morning" of once a day was read first
        ("in the morning and evening", 2),
        # Two times of day joined by "and", however each is written: each was read as its first, once a day.
        ("every morning and every evening", 2),
        ("every evening and at bedtime", 2),
        ("nightly and every morning", 2),
        ("at night and in the morning", 2),
        ("1 tab every morning and 1 tab at bedtime", 2),
        ("every morning", 1),
        ("each morning", 1),  # no frequency: the twice-a-day rule knew "each", the once-a-day one did not
        ("every morning and noon", 2),  # read as "every morning": once
        ("at bedtime as needed for pain and sleep", 1),
    ],
)
def test_a_frequency_written_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, per_day: int
) -> None:
    timing = {"code": {"text": text}}
    report = mme_report(tmp_path, capsys, order({"coding": [OXYCODONE_5]}, timing))
    (line,) = report["orders"]
    assert line["mme_per_day"] == per_day * 5 * 1.5
    assert f"({per_day} a day)" in line["explanation"]


def test_a_cough_syrup_with_dextromethorphan_written_dm_is_not_relevant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ "DM" is dextromethorphan: the guard above must not turn an ordinary cough syrup into an unidentified one."""
    report = mme_report(tmp_path, capsys, order({"text": "guaiFENesin-DM 100-10 mg/5 mL syrup"}, every_hours(4)))
    assert report["orders"][0]["class"] == "not-relevant"


@pytest.mark.parametrize("display", ["CODEINE PHOS/GUAIFEN 10-100MG/5ML", "GUAIFEN/CODEINE SYRUP 100-10MG/5ML"])
def test_a_codeine_cough_syrup_with_guaifenesin_cut_to_guaifen_is_read_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], display: str
) -> None:
    """First Databank cuts guaifenesin to "GUAIFEN": unread, the syrup was partly read, its codeine dose unknown and
    the opioid + sedative check told it could not rule out a sedative in it, for a common cough syrup."""
    syrup = fill(ndc_only(display), 120, 10)
    syrup["quantity"] = {"value": 120, "unit": "mL", "system": UCUM, "code": "mL"}
    (line,) = mme_report(tmp_path, capsys, syrup)["dispenses"]
    assert (line["status"], line["mme_per_day"]) == ("converted", 3.6)  # 12 mL a day = 24 mg codeine × 0.15


# ---- opioids newer than the packaged RxNorm data ----


def test_oliceridine_by_a_code_newer_than_the_packaged_data_is_an_opioid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Olinvyk (2020) is in no packaged set: read by its RxNorm display, its name said nothing known, and an RxNorm
    code whose name says nothing opioid-like is not relevant. An opioid injection has no MME, and is named so."""
    olinvyk = {"coding": [{"system": RXNORM, "code": "2388451", "display": "oliceridine 1 MG/ML Injectable Solution"}]}
    report = mme_report(tmp_path, capsys, order(olinvyk, every_hours(3)))
    (line,) = report["orders"]
    assert (line["class"], line["status"]) == ("opioid-by-name", "not-convertible")
    assert report["complete"] is False


def test_a_brand_name_code_the_brand_table_lacks_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An RxNorm brand code outside the packaged data ('Talwin', pentazocine) was read as not relevant: its display
    names no ingredient. The packaged drug table sells Talwin only as an opioid, so it is an opioid without MME."""
    talwin = {"coding": [{"system": RXNORM, "code": "220996", "display": "Talwin"}]}
    report = mme_report(tmp_path, capsys, order(talwin, every_hours(4)))
    assert report["orders"][0]["class"] == "opioid-no-mme"
