"""A transaction or collection Bundle's Patient entry with no `id`, only a `fullUrl: urn:uuid:…` (a POST leaving the
id to the server, as Synthea's and many converters' transaction Bundles are written): the member is given the id its
fullUrl names (the uuid), its fills naming that fullUrl are its fills, on both engines, and data-quality.json and the
summary say which resources were given an id so. Before, the fills were read "without patient" and the run exited
with status 4."""

from __future__ import annotations

import json

import duckdb
import pytest
from test_pop5_bundle_references import (
    FILE,
    export,
    fills,
    quality_on_both_engines,
    review_on_both_engines,
    rows_on_both_engines,
    run,
    transaction,
)

from smart_app.population.command import exit_status
from smart_app.population.spark_engine import java_missing_reason
from smart_app.population.worker import bundle_entries

MEMBER = "7d7d7d7d-0000-4000-8000-000000000003"


def test_a_patient_entry_with_no_id_is_given_its_fullurls_uuid_and_its_fills_are_read(tmp_path, capsys):
    out = tmp_path / "out"
    no_id = transaction("H3", f"urn:uuid:{MEMBER}", fills("H3"), patient_id=False)
    code = run(export(tmp_path, no_id), out)
    printed = capsys.readouterr().out
    quality = json.loads((out / "data-quality.json").read_text())
    assert quality["fills_without_patient_by_file"] == {} and quality["fills_without_patient_named"] == {}
    assert quality["ids_from_full_url"] == {f"{FILE}: Patient": 1}
    con = duckdb.connect()
    rows = con.execute(f"SELECT patient_id, pcp_id, opioid_fills, ohd_den FROM '{out}/patients.parquet'").fetchall()
    assert rows == [(MEMBER, "pcp1", 2, True)]
    assert "1 resource with no id given the id its Bundle entry's fullUrl names" in printed
    assert code == 0 and printed.splitlines()[-1] == "read: every line of every input file"


def test_only_an_entry_with_no_id_is_given_one_and_every_reference_to_it_follows():
    """The entry's own line carries the given id; a resource stating its id keeps it (the fills here); a reference
    elsewhere in the Bundle (the fills' subject) reads as `Patient/<uuid>`."""
    no_id = transaction("H3", f"urn:uuid:{MEMBER}", fills("H3"), patient_id=False)
    entries = bundle_entries(json.dumps(no_id))
    member, *dispensed = (json.loads(entry.line) for entry in entries)
    assert member["id"] == MEMBER and member["resourceType"] == "Patient"
    assert [fill["id"] for fill in dispensed] == ["H3-1", "H3-2"]
    assert {fill["subject"]["reference"] for fill in dispensed} == {f"Patient/{MEMBER}"}
    assert [json.loads(entry.keys)[1] for entry in entries] == [MEMBER, "H3-1", "H3-2"]


def test_a_fullurl_that_is_no_plain_id_is_given_a_stable_digest():
    """An `urn:oid:` is an id as it is; a urn whose tail FHIR's id cannot hold (longer than 64, a character outside
    A-Z a-z 0-9 - .) is given a digest of itself: the same in every run and on every line naming it."""
    bundle = transaction("H4", "urn:oid:2.16.840.1.113883.19.5.1", fills("H4"), patient_id=False)
    (member, *_) = bundle_entries(json.dumps(bundle))
    assert json.loads(member.line)["id"] == "2.16.840.1.113883.19.5.1"
    odd = "urn:example:member/" + "x" * 70
    first, second = (
        json.loads(bundle_entries(json.dumps(transaction("H5", odd, fills("H5"), patient_id=False)))[0].line)["id"]
        for _ in range(2)
    )
    assert first == second and len(first) <= 64 and first.replace("-", "").isalnum()


@pytest.mark.skipif(java_missing_reason() is not None, reason=java_missing_reason() or "")
def test_spark_gives_the_patient_entry_the_same_id_as_duckdb(tmp_path):
    no_id = transaction("H3", f"urn:uuid:{MEMBER}", fills("H3"), patient_id=False)
    duck, spark = review_on_both_engines(tmp_path, export(tmp_path, no_id))
    assert exit_status(duck) == exit_status(spark) == 0
    given = quality_on_both_engines(tmp_path, "ids_from_full_url")
    assert given[0] == given[1] == {f"{FILE}: Patient": 1}
    rows = rows_on_both_engines(tmp_path)
    assert rows[0] == rows[1] and [row[0] for row in rows[0]] == [MEMBER]
