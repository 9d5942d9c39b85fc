"""A Bundle entry whose resource states no `id`, sent under an absolute RESTful fullUrl
(`https://ehr.example.org/fhir/Patient/123`, as a searchset page or an HIE's collection Bundle writes a server's
resource): the fullUrl names the id as its last segment after `Type/` (before any `/_history/`), so the member is
given that id, as an entry under a `urn:uuid:` fullUrl is given its uuid, counted the same way in
`ids_from_full_url`, and its fills (naming it relatively, or by the whole fullUrl) are that member's, on both engines.
Before, such an entry had no id: the member's fills were filed under a patient with no Patient resource (no age, in
no measure, no letter)."""

from __future__ import annotations

import json

import duckdb
import pytest
from synthetic_export import patient
from test_pop5_bundle_references import (
    FILE,
    export,
    fills,
    quality_on_both_engines,
    review_on_both_engines,
    rows_on_both_engines,
    run,
)

from smart_app.population.command import exit_status
from smart_app.population.spark_engine import java_missing_reason
from smart_app.population.worker import bundle_entries

BASE = "https://ehr.example.org/fhir"


def searchset(member_url: str, subject: str, pid: str = "123") -> dict:
    """A page of an Epic-style searchset: the member (id left off by the gateway) and their fills, each entry under
    its absolute fullUrl."""
    member = patient(pid, "1961-09-30", gp="Practitioner/pcp1")
    del member["id"]
    dispensed = fills(pid)
    for fill in dispensed:
        fill["subject"] = {"reference": subject}
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"fullUrl": member_url, "resource": member, "search": {"mode": "include"}},
            *(
                {"fullUrl": f"{BASE}/MedicationDispense/{fill['id']}", "resource": fill, "search": {"mode": "match"}}
                for fill in dispensed
            ),
        ],
    }


@pytest.mark.parametrize(
    ("member_url", "subject"),
    [
        (f"{BASE}/Patient/123", "Patient/123"),
        (f"{BASE}/Patient/123", f"{BASE}/Patient/123"),
        (f"{BASE}/Patient/123/_history/4", "Patient/123"),
        ("http://localhost:8080/Patient/123", "Patient/123"),
    ],
)
def test_a_patient_entry_with_no_id_is_given_the_id_its_absolute_fullurl_names(tmp_path, capsys, member_url, subject):
    out = tmp_path / "out"
    code = run(export(tmp_path, searchset(member_url, subject)), out)
    printed = capsys.readouterr().out
    quality = json.loads((out / "data-quality.json").read_text())
    assert quality["ids_from_full_url"] == {f"{FILE}: Patient": 1}
    assert quality["patients_without_patient_resource"] == 0 and quality["fills_without_patient_named"] == {}
    con = duckdb.connect()
    rows = con.execute(f"SELECT patient_id, pcp_id, opioid_fills, ohd_den FROM '{out}/patients.parquet'").fetchall()
    assert rows == [("123", "pcp1", 2, True)]
    assert "1 resource with no id given the id its Bundle entry's fullUrl names" in printed
    assert code == 0 and printed.splitlines()[-1] == "read: every line of every input file"


def test_only_a_restful_url_of_the_entrys_own_type_names_an_id():
    """A fullUrl of another type (`…/Practitioner/123` on a Patient), or no `Type/id` shape at all (a server's base,
    a query), names no id: the entry stays id-less, as before. A resource stating its id keeps it."""
    for url in (f"{BASE}/Practitioner/123", BASE, f"{BASE}/Patient?identifier=123", f"{BASE}/Patient/12%203"):
        (member, *_) = bundle_entries(json.dumps(searchset(url, "Patient/123")))
        assert "id" not in json.loads(member.line), url
        assert len(json.loads(member.keys)) < 7, url
    stated = searchset(f"{BASE}/Patient/123", "Patient/123")
    stated["entry"][0]["resource"]["id"] = "e63wRTbPfr1p8UW81d8Seiw3"
    (member, *_) = bundle_entries(json.dumps(stated))
    assert json.loads(member.line)["id"] == "e63wRTbPfr1p8UW81d8Seiw3" and len(json.loads(member.keys)) < 7


@pytest.mark.skipif(java_missing_reason() is not None, reason=java_missing_reason() or "")
def test_spark_gives_the_absolute_fullurls_id_as_duckdb_does(tmp_path):
    duck, spark = review_on_both_engines(
        tmp_path, export(tmp_path, searchset(f"{BASE}/Patient/123/_history/4", f"{BASE}/Patient/123"))
    )
    assert exit_status(duck) == exit_status(spark) == 0
    given = quality_on_both_engines(tmp_path, "ids_from_full_url")
    assert given[0] == given[1] == {f"{FILE}: Patient": 1}
    rows = rows_on_both_engines(tmp_path)
    assert rows[0] == rows[1] and [row[0] for row in rows[0]] == ["123"]
