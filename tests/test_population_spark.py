"""The Spark engine (local[2]) gives the same patients and measures tables as the DuckDB engine on one export."""

from __future__ import annotations

import json

import duckdb
import pytest
from synthetic_export import (
    OXYCODONE_5,
    dispense,
    patient,
    practitioner,
    write_export,
    write_ndjson,
    write_synthetic_export,
)
from test_population_claims import part_d_event
from test_population_fill_integrity import write_integrity_export
from test_population_measures import PERIOD, TODAY, build_export

from guideline.config import GuidelineConfig
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files
from smart_app.population.spark_engine import java_missing_reason

NPI = "http://hl7.org/fhir/sid/us-npi"


def claim(n: int) -> dict:
    """An oxycodone fill as a payer sends it: prescriber by NPI, pharmacy by NCPDP number, no type."""
    fill = dispense(f"claim{n}", "p-claims", OXYCODONE_5, f"2026-0{n + 1}-20", 30, 15)
    pharmacy = {"system": "http://terminology.hl7.org/NamingSystem/NCPDPProviderIdentificationNumber", "value": str(n)}
    fill["performer"] = [
        {"actor": {"identifier": {"system": NPI, "value": str(n % 2 + 1)}}},
        {"actor": {"identifier": pharmacy}},
    ]
    return fill


pytestmark = pytest.mark.skipif(java_missing_reason() is not None, reason=java_missing_reason() or "")


def both_engines(files: list, tmp_path) -> dict[str, list]:
    """Review the export on DuckDB and on Spark, assert their tables and CSV are identical, and return the tables."""
    config = GuidelineConfig.from_mapping()
    review(files, tmp_path / "duck", PERIOD, TODAY, config, "duckdb", workers=2)
    review(files, tmp_path / "spark", PERIOD, TODAY, config, "spark", master="local[2]")
    con = duckdb.connect()
    tables = {}
    for table in ("patients", "measures"):
        duck = con.execute(f"SELECT * FROM '{tmp_path / 'duck' / table}.parquet'").fetchall()
        spark = con.execute(f"SELECT * FROM '{tmp_path / 'spark' / table}.parquet'").fetchall()
        assert duck == spark, table
        tables[table] = duck
    assert (tmp_path / "duck" / "patients.csv").read_bytes() == (tmp_path / "spark" / "patients.csv").read_bytes()
    return tables


def test_spark_and_duckdb_give_identical_tables(tmp_path):
    source = tmp_path / "in"
    write_export(source, build_export())  # the hand-built patients, as <Type>.ndjson
    write_synthetic_export(source, 250, seed=11, gz=True)  # and a few hundred synthetic ones, as <Type>.ndjson.gz
    # drA again in a second file, renamed: the engines read the two files in different orders, and must still agree.
    renamed = {**practitioner("drA", "Dr. Ana Alvarez-Ruiz"), "meta": {"lastUpdated": "2026-03-01T00:00:00Z"}}
    write_ndjson(source, "Practitioner.update", [renamed])
    # Claims that name prescriber and pharmacy by number alone, one of them known to the directory by its NPI.
    write_ndjson(source, "Practitioner.npi", [{**practitioner("drN"), "identifier": [{"system": NPI, "value": "1"}]}])
    write_ndjson(source, "MedicationDispense.claims", [claim(n) for n in range(4)])
    write_ndjson(source, "Patient.claims", [patient("p-claims", "1975-01-01"), patient("p-pde", "1975-01-01")])
    # A patient known only from Part D claims (ExplanationOfBenefit): both engines must put them in the cohort.
    write_ndjson(source, "ExplanationOfBenefit", [part_d_event("pde1", "p-pde", "2026-01-05")])
    # A patient assigned to a practice (an Organization as generalPractitioner) with no clinician named: the
    # practice's, not drC's who prescribed.
    assigned = [patient("p-practice", "1975-01-01", "Organization/orgA", "Practice")]
    assigned += [dispense(f"pr{n}", "p-practice", OXYCODONE_5, f"2026-0{n}-05", 56, 14, "drC", "ph1") for n in (1, 2)]
    write_ndjson(source, "Patient.practice", assigned)
    # Lines DuckDB's and Spark's own JSON readers judged differently (each engine used to decide for itself).
    odd = [
        '{"resourceType": "MedicationDispense", "id": "nan", "subject": {"reference": "Patient/p-ohd"}, '
        '"status": "completed", "quantity": {"value": NaN}}',
        '{"resourceType": "Condition", "id": "comma", "subject": {"reference": "Patient/p-ohd"},}',
        '{"resourceType": "Patient", "id": "trailing"} and more',
        "{'resourceType': 'Patient', 'id': 'quotes'}",
        '{"resourceType": "Observation", "id": "\\ud800", "subject": {"reference": "Patient/p-ohd"}}',
        '{"resourceType": "Observation", "id": "tab", "code": {"text": "raw\ttab"}}',
        '{"resourceType": 1e-300}',
        # A lone surrogate escape in a name: json.loads reads it, UTF-8 cannot hold it (shown as U+FFFD).
        '{"resourceType": "Patient", "id": "p-sur", "name": [{"text": "Sam \\udc00"}]}',
        '{"resourceType": "MedicationDispense", "id": "sur1", "subject": {"reference": "Patient/p-sur"}, '
        '"status": "completed", "whenHandedOver": "2026-02-01", "quantity": {"value": 120}, '
        '"daysSupply": {"value": 30}, "medicationCodeableConcept": {"coding": [{"system": '
        '"http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1049621"}]}}',
    ]
    (source / "Odd.ndjson").write_text("\n".join(odd) + "\n", encoding="utf-8")
    tables = both_engines(ndjson_files(source), tmp_path)
    assert len(tables["patients"]) > 100 and len(tables["measures"]) > 9
    con = duckdb.connect()
    duck_quality = json.loads((tmp_path / "duck" / "data-quality.json").read_text())
    spark_quality = json.loads((tmp_path / "spark" / "data-quality.json").read_text())
    assert duck_quality.pop("run")["engine"] == "duckdb" and spark_quality.pop("run")["engine"] == "spark"
    assert duck_quality == spark_quality
    assert duck_quality["malformed_lines"] >= 5  # the build_export line, and four of the odd ones
    hand_built = con.execute(
        f"SELECT ohd_num, pcp_name FROM '{tmp_path / 'spark' / 'patients'}.parquet' WHERE patient_id = 'p-ohd'"
    )
    assert hand_built.fetchone() == (True, "Dr. Ana Alvarez-Ruiz")
    claims = con.execute(
        f"SELECT prescribers, pharmacies, pcp_id FROM '{tmp_path / 'spark' / 'patients'}.parquet' "
        "WHERE patient_id = 'p-claims'"
    )
    # Three fills in the period: NPI 1 is drN by the directory; NPI 2, of no stated type and unknown, is no one.
    assert claims.fetchone() == (1, 3, "drN")
    part_d = f"SELECT opioid_fills FROM '{tmp_path / 'spark' / 'patients'}.parquet' WHERE patient_id = 'p-pde'"
    assert con.execute(part_d).fetchone() == (1,)
    practice = f"SELECT attribution, pcp_id, practice_id FROM '{tmp_path / 'spark' / 'patients'}.parquet' WHERE "
    assert con.execute(practice + "patient_id = 'p-practice'").fetchone() == ("practice", None, "orgA")
    assert spark_quality["attributed_to_practice"] == 1
    named = con.execute(
        f"SELECT patient_name FROM '{tmp_path / 'spark' / 'patients'}.parquet' WHERE patient_id = 'p-sur'"
    )
    assert named.fetchone() == ("Sam \ufffd",)
    assert duck_quality["directory_conflicts"] >= 1


def test_spark_and_duckdb_agree_on_reversals_adjustments_versions_and_partial_dates(tmp_path):
    # Each engine reads the two versions of one fill (two files) in its own order; reversals, adjustments, a claim
    # billed twice, a fill of unknown MME and dates less precise than a day must come out alike.
    tables = both_engines(ndjson_files(write_integrity_export(tmp_path / "in")), tmp_path)
    assert tables["patients"] and tables["measures"]
    duck_quality = json.loads((tmp_path / "duck" / "data-quality.json").read_text())
    spark_quality = json.loads((tmp_path / "spark" / "data-quality.json").read_text())
    duck_quality.pop("run"), spark_quality.pop("run")
    assert duck_quality == spark_quality
    assert (spark_quality["fills_reversed"], spark_quality["resource_conflicts"]) == (2, 1)
    assert spark_quality["fills_without_mme"] == {"no-quantity": 1}
    versioned = f"SELECT opioid_fills FROM '{tmp_path / 'spark' / 'patients'}.parquet' WHERE patient_id = 'p-ver'"
    assert duckdb.connect().execute(versioned).fetchone() == (1,)


def test_spark_and_duckdb_agree_on_the_gaps_they_name(tmp_path):
    # A PCP the directory does not hold, an order with no days' supply, procedures under systems not read: the same
    # rows (attribution, partial) and the same counts on both engines.
    from test_population_unread_gaps import PAYER_PROCEDURES, gaps_export

    source = tmp_path / "in"
    write_export(source, gaps_export())
    tables = both_engines(ndjson_files(source), tmp_path)
    assert tables["patients"]
    duck_quality = json.loads((tmp_path / "duck" / "data-quality.json").read_text())
    spark_quality = json.loads((tmp_path / "spark" / "data-quality.json").read_text())
    duck_quality.pop("run"), spark_quality.pop("run")
    assert duck_quality == spark_quality
    assert spark_quality["pcp_not_in_directory"] == {"prescriber": 1}
    assert spark_quality["orders_without_days_supply"] == 1
    assert spark_quality["procedures_not_read_by_system"][PAYER_PROCEDURES] == 2


def test_spark_and_duckdb_agree_on_drug_tests_dated_to_the_month_or_year(tmp_path):
    # The 12 months to 2026-03-31 start on 2025-04-01: "2026-02" is in them, "2026" and "2025" may be either side.
    from test_population_partial_uds_dates import _procedure, _report, _result

    resources = []
    for pid, test in (("p-mon", _result("2026-02")), ("p-yr", _procedure("2025")), ("p-rep", _report("2026"))):
        fills = [dispense(f"{pid}-{n}", pid, OXYCODONE_5, day, 60, 30) for n, day in enumerate(("2026-01-05",
                 "2026-02-04", "2026-03-06"))]  # fmt: skip
        subject = {"reference": f"Patient/{pid}"}
        resources += [patient(pid), *fills, {**test, "id": f"{test['id']}-{pid}", "subject": subject}]
    write_export(tmp_path / "in", resources)
    tables = both_engines(ndjson_files(tmp_path / "in"), tmp_path)
    amo = duckdb.connect().execute(
        f"SELECT patient_id, amo_num FROM '{tmp_path / 'spark' / 'patients'}.parquet' ORDER BY patient_id"
    )
    assert tables["patients"] and amo.fetchall() == [("p-mon", True), ("p-rep", False), ("p-yr", False)]
    duck_quality = json.loads((tmp_path / "duck" / "data-quality.json").read_text())
    spark_quality = json.loads((tmp_path / "spark" / "data-quality.json").read_text())
    duck_quality.pop("run"), spark_quality.pop("run")
    assert duck_quality == spark_quality
    assert spark_quality["drug_tests_dated_partly_in_year"] == 2


def test_spark_and_duckdb_agree_on_fills_sent_twice_brands_cough_medicines_and_liquid_claims(tmp_path):
    # A fill resent, a fill as a dispense and a claim, an opioid cough syrup, brand and generic fills, a claim for a
    # liquid in mL and a patient replaced by another id: the same rows and the same counts on both engines.
    from test_population_fill_sources import sources_export

    write_export(tmp_path / "in", sources_export())
    tables = both_engines(ndjson_files(tmp_path / "in"), tmp_path)
    assert tables["patients"]
    duck_quality = json.loads((tmp_path / "duck" / "data-quality.json").read_text())
    spark_quality = json.loads((tmp_path / "spark" / "data-quality.json").read_text())
    duck_quality.pop("run"), spark_quality.pop("run")
    assert duck_quality == spark_quality
    assert (spark_quality["duplicate_fills"], spark_quality["cough_cold_opioid_fills"]) == (2, 1)
    assert spark_quality["linked_patients"] == {"OLD → NEW merged": 1}


def test_spark_and_duckdb_merge_the_same_replaced_records(tmp_path):
    # A member re-enrolled under a new id is one patient on both engines (the newest record's age and PCP, the old
    # record's fills and drug test); two records contradicting each other and two `seealso` records stay apart.
    from test_population_links import MERGE_NAMED, merge_export

    write_export(tmp_path / "in", merge_export())
    tables = both_engines(ndjson_files(tmp_path / "in"), tmp_path)
    rows = duckdb.connect().execute(
        f"SELECT patient_id, pcp_id, amo_den, amo_num FROM '{tmp_path / 'spark' / 'patients'}.parquet' "
        "ORDER BY patient_id"
    )
    assert tables["patients"] and rows.fetchall() == [
        ("C1", None, False, False),  # no PCP, and no fill in the quarter to name a main prescriber
        ("C2", "drRx", False, False),
        ("NEW", "drNew", True, True),
        ("S1", "drRx", False, False),
        ("S2", "drRx", False, False),
    ]
    duck_quality = json.loads((tmp_path / "duck" / "data-quality.json").read_text())
    spark_quality = json.loads((tmp_path / "spark" / "data-quality.json").read_text())
    duck_quality.pop("run"), spark_quality.pop("run")
    assert duck_quality == spark_quality
    assert (spark_quality["linked_patients"], spark_quality["linked_patients_not_merged"]) == (MERGE_NAMED, 2)


def test_spark_and_duckdb_agree_on_damaged_files_odd_layouts_and_unknown_ages(tmp_path, monkeypatch):
    # Each of these stopped the run on one engine or both (a byte that is not UTF-8, a cut-off gzip download, an
    # over-long line), was never read (a folder per type, no extension) or was read as an adult with no PCP.
    import gzip

    from smart_app.population import inputs

    monkeypatch.setattr(inputs, "MAX_LINE_BYTES", 4096)
    source = tmp_path / "in"
    methadone = ("864706", "methadone hydrochloride 10 MG Oral Tablet")
    days = ("2026-01-05", "2026-02-04")
    fills = [dispense(f"{pid}-{n}", pid, methadone, day, 90, 30, "drA", "ph1")
             for pid in ("p-a", "p-kid", "p-us", "p-gp", "p-sub") for n, day in enumerate(days)]  # fmt: skip
    people = [patient("p-a"), {**patient("p-us"), "birthDate": "01/15/2010"},
              {**patient("p-gp"), "generalPractitioner": [{"display": "Dr Jane Smith"}]}]  # fmt: skip
    write_export(source, [practitioner("drA"), *people, *fills[:6]])
    (source / "Patient.latin1.ndjson").write_bytes('{"resourceType": "Patient", "id": "p-ñ"}\n'.encode("cp1252"))
    (source / "MedicationDispense").mkdir()
    (source / "MedicationDispense" / "part-0").write_bytes(
        gzip.compress("".join(json.dumps(f) + "\n" for f in fills[6:8]).encode())
    )
    (source / "Patient").mkdir()
    (source / "Patient" / "Patient-1.NDJSON").write_text(
        json.dumps(patient("p-sub"))
        + "\n"
        + json.dumps(
            {"resourceType": "DocumentReference", "id": "pdf", "content": [{"attachment": {"data": "A" * 5000}}]}
        )
        + "\n"
    )
    (source / "MedicationDispense" / "part-1.ndjson.gz").write_bytes(
        gzip.compress("".join(json.dumps(f) + "\n" for f in fills[8:] * 2000).encode())[:3000]
    )
    tables = both_engines(ndjson_files(source), tmp_path)
    duck_quality = json.loads((tmp_path / "duck" / "data-quality.json").read_text())
    spark_quality = json.loads((tmp_path / "spark" / "data-quality.json").read_text())
    duck_quality.pop("run"), spark_quality.pop("run")
    assert duck_quality == spark_quality
    assert spark_quality["malformed_lines_by_file"] == {"Patient.latin1.ndjson": 1, "Patient/Patient-1.NDJSON": 1}
    (cut,) = spark_quality["input_files_not_read"]
    assert cut.startswith("MedicationDispense/part-1.ndjson.gz: read in part")
    assert (spark_quality["patients_without_patient_resource"], spark_quality["patients_birth_date_unreadable"]) == (
        1, 1)  # fmt: skip
    assert spark_quality["pcp_not_in_directory"] == {"prescriber": 1}
    assert spark_quality["medication_data_from"] == "2026-01-05" and len(spark_quality["lookback_not_reached"]) == 2
    rows = {row[0]: row for row in tables["patients"]}
    assert set(rows) == {"p-a", "p-kid", "p-us", "p-gp", "p-sub"}


def test_spark_and_duckdb_date_hospice_claims_and_name_unreadable_links_alike(tmp_path):
    # Hospice claims with no billablePeriod (dated by their lines, by their stay, or by nothing and named) and
    # replacement links no engine can file (named by file and Patient, the rest still merged): both engines.
    from test_population_claims import undated_hospice_export
    from test_population_links import UNREAD_NAMED, unread_links_export

    write_export(tmp_path / "in", [*undated_hospice_export(), *unread_links_export()])
    both_engines(ndjson_files(tmp_path / "in"), tmp_path)
    rows = duckdb.connect().execute(
        f"SELECT patient_id, excluded, ohd_den, amo_num FROM '{tmp_path / 'spark' / 'patients'}.parquet' "
        "WHERE patient_id IN ('p-lines', 'p-stay', 'p-undated', 'NEW') ORDER BY patient_id"
    )
    hospice = "hospice or palliative care (procedure)"
    assert rows.fetchall() == [
        ("NEW", None, False, True),  # OLD's fills and drug test, merged
        ("p-lines", hospice, False, False),
        ("p-stay", hospice, False, False),
        ("p-undated", None, True, False),
    ]
    duck_quality = json.loads((tmp_path / "duck" / "data-quality.json").read_text())
    spark_quality = json.loads((tmp_path / "spark" / "data-quality.json").read_text())
    duck_quality.pop("run"), spark_quality.pop("run")
    assert duck_quality == spark_quality
    assert spark_quality["hospice_claims_undated"] == {"p-undated": 1}
    assert spark_quality["patient_links_not_read"] == UNREAD_NAMED


def test_spark_and_duckdb_name_the_same_claims_told_apart_by_number(tmp_path):
    # Two same-day CARIN claims alike but for their claim numbers, and a pair differing in quantity, for two
    # patients: each patient's fills are read where the patient is evaluated, and the count merged by patient.
    from test_population_claim_numbers import CONFIG, KEY, numbered_apart_export

    second = [{**claim, "patient": {"reference": "Patient/m2"}} for claim in numbered_apart_export()[1:]]
    for claim in second:
        claim["id"] = "m2-" + claim["id"]
    write_export(tmp_path / "in", [*numbered_apart_export(), patient("m2"), *second])
    files = ndjson_files(tmp_path / "in")
    review(files, tmp_path / "duck", PERIOD, TODAY, CONFIG, "duckdb", workers=2)
    review(files, tmp_path / "spark", PERIOD, TODAY, CONFIG, "spark", master="local[2]")
    duck, spark = (json.loads((tmp_path / engine / "data-quality.json").read_text()) for engine in ("duck", "spark"))
    duck.pop("run"), spark.pop("run")
    assert duck == spark
    assert spark[KEY] == {"m1": 1, "m2": 1}
