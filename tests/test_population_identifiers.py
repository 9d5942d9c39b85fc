"""Claims name prescribers and pharmacies by NPI or NCPDP number alone: the population review reads them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from synthetic_export import OXYCODONE_5, dispense, patient, practitioner, write_export
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files
from smart_app.population.worker import build_directory

NPI = "http://hl7.org/fhir/sid/us-npi"
NPI_OID = "urn:oid:2.16.840.1.113883.4.6"
NCPDP = "http://terminology.hl7.org/NamingSystem/NCPDPProviderIdentificationNumber"


def by_number(fill: dict, prescriber: tuple[str | None, str, str] | None, pharmacy: str | None) -> dict:
    """The fill's performers as a claim names them: an identifier and, sometimes, the type it refers to."""
    performers = []
    if prescriber:
        kind, system, number = prescriber
        actor = {"identifier": {"system": system, "value": number}}
        performers.append({"actor": {**actor, "type": kind} if kind else actor})
    if pharmacy:
        performers.append({"actor": {"identifier": {"system": NCPDP, "value": pharmacy}}})
    return {**fill, "performer": performers}


def test_prescribers_and_pharmacies_named_by_number_count_towards_multiple_providers(tmp_path: Path) -> None:
    # Before, each of these fills named "no prescriber" and "no pharmacy": OMP found 0 of each, and the patient was
    # attributed to nobody, though the claims named four prescribers and four pharmacies.
    days = ("2026-01-02", "2026-01-16", "2026-01-30", "2026-02-13", "2026-02-27")
    prescribers = [
        (None, NPI, "1111111112"),  # no type, but the export's Practitioner drA carries this NPI
        (None, NPI_OID, "1111111112"),  # the same NPI under its OID
        ("Practitioner", NPI, "2222222227"),
        ("Practitioner", NPI_OID, "3333333332"),
        ("Practitioner", NPI, " 4444444447 "),
    ]
    fills = [
        by_number(dispense(f"c{n}", "p1", OXYCODONE_5, day, 56, 14), prescriber, f"00{n % 4 + 10}123")
        for n, (day, prescriber) in enumerate(zip(days, prescribers, strict=True))
    ]
    dr_a = {**practitioner("drA", "Dr. Ana Alvarez"), "identifier": [{"system": NPI, "value": "1111111112"}]}
    write_export(tmp_path / "in", [patient("p1", "1980-01-01"), dr_a, *fills])
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    with open(tmp_path / "out" / "patients.csv", encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    assert (row["prescribers"], row["pharmacies"], row["opioid_fills"]) == ("4", "4", "5")
    assert (row["omp_den"], row["omp_num"]) == ("true", "true")
    assert (row["attribution"], row["pcp_id"]) == ("prescriber", "drA")  # two of the five fills, found by NPI
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    assert (quality["fills_without_prescriber"], quality["fills_without_pharmacy"]) == (0, 0)


def test_a_number_of_no_stated_type_that_the_directory_does_not_know_is_still_counted_as_unknown(
    tmp_path: Path,
) -> None:
    # An NPI names a prescriber or a pharmacy alike; with no type and no directory entry nothing says which.
    fill = by_number(dispense("c1", "p1", OXYCODONE_5, "2026-01-02", 56, 14), (None, NPI, "5555555553"), None)
    write_export(tmp_path / "in", [patient("p1", "1980-01-01"), fill])
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    assert (quality["fills_without_prescriber"], quality["fills_without_pharmacy"]) == (1, 1)


def test_the_directory_keys_practitioners_and_organisations_by_identifier_in_any_file_order() -> None:
    one = {**practitioner("b"), "identifier": [{"system": NPI_OID, "value": "1234567893"}]}
    two = {**practitioner("a"), "identifier": [{"system": NPI + "/", "value": "1234567893"}]}
    pharmacy = {"resourceType": "Organization", "id": "ph", "identifier": [{"system": NCPDP, "value": "0012345"}]}
    for order in ([one, two, pharmacy], [pharmacy, two, one]):
        directory = build_directory(json.dumps(r) for r in order)
        assert directory.by_identifier == {"npi|1234567893": "Practitioner/a", "ncpdp|0012345": "Organization/ph"}


def test_a_pcp_named_by_npi_alone_gets_the_letter(tmp_path: Path) -> None:
    # Payers' Patient resources often name the PCP by NPI, with no reference: the patient was attributed to their
    # main prescriber instead (or to no one), and the PCP got no letter.
    member = patient("p1", "1980-01-01")
    member["generalPractitioner"] = [{"identifier": {"system": NPI_OID, "value": "1111111112"}}]
    dr_a = {**practitioner("drA", "Dr. Ana Alvarez"), "identifier": [{"system": NPI, "value": "1111111112"}]}
    fill = dispense("c1", "p1", OXYCODONE_5, "2026-01-02", 56, 14, "drB", "ph1")
    write_export(tmp_path / "in", [member, dr_a, practitioner("drB"), fill])
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    with open(tmp_path / "out" / "patients.csv", encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    assert (row["attribution"], row["pcp_id"], row["pcp_name"]) == ("pcp", "drA", "Dr. Ana Alvarez")
