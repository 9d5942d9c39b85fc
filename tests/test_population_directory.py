"""A practitioner, role or organisation sent twice is read from its newest version, whatever order the lines come in.

Found by running both engines on many seeded exports: DuckDB and Spark read a Practitioner sent in two files in
different orders, and the PCP letters of the same run carried different names.
"""

from __future__ import annotations

import csv
import itertools
import json

from synthetic_export import OXYCODONE_10, dispense, organization, patient, write_ndjson
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files
from smart_app.population.worker import build_directory


def _line(resource: dict) -> str:
    return json.dumps(resource, separators=(",", ":"))


def _practitioner(name: dict, updated: str | None = None) -> dict:
    resource = {"resourceType": "Practitioner", "id": "dr3", "name": [name]}
    if updated:
        resource["meta"] = {"versionId": "1", "lastUpdated": updated}
    return resource


OLDER = _practitioner({"text": "Dr. Dana Oldname"}, "2025-11-02T10:00:00Z")
NEWER = _practitioner({"given": ["Dana"], "family": "Newman"}, "2026-02-01T09:00:00+01:00")  # 08:00 UTC
UNDATED = _practitioner({"text": "Dr. Dana Undated"})


def test_the_newest_version_is_read_in_every_order_of_the_lines():
    lines = [_line(OLDER), _line(NEWER), _line(UNDATED), _line(organization("orgA", "Alvarez Family Practice"))]
    for order in itertools.permutations(lines):
        directory = build_directory(order)
        assert directory.names["Practitioner/dr3"] == "Dana Newman"
        assert directory.names["Organization/orgA"] == "Alvarez Family Practice"
        assert directory.conflicts == 1  # one id in differing versions, however many versions


def test_offsets_are_compared_as_instants_not_as_text():
    # As text "2026-02-01T09:30:00+02:00" sorts after "2026-02-01T08:00:00Z", but it is 07:30 UTC: earlier.
    earlier = _practitioner({"text": "Dr. Earlier"}, "2026-02-01T09:30:00+02:00")
    later = _practitioner({"text": "Dr. Later"}, "2026-02-01T08:00:00Z")
    for order in ([_line(earlier), _line(later)], [_line(later), _line(earlier)]):
        assert build_directory(order).names["Practitioner/dr3"] == "Dr. Later"


def test_undated_versions_are_decided_by_their_text_and_named_as_a_conflict():
    first = _practitioner({"text": "Dr. Dr3"})
    second = _practitioner({"text": "Dr. Clinician 3"})
    picked = {
        build_directory(order).names["Practitioner/dr3"]
        for order in itertools.permutations([_line(first), _line(second)])
    }
    assert len(picked) == 1
    assert build_directory([_line(first), _line(second)]).conflicts == 1


def test_version_ids_decide_versions_no_date_tells_apart():
    # A server that sends meta.versionId but no lastUpdated: "10" is newer than "2" (as text it sorts before).
    old = {**_practitioner({"text": "Dr. Zed Oldname"}), "meta": {"versionId": "2"}}
    new = {**_practitioner({"text": "Dr. Amy Newname"}), "meta": {"versionId": "10"}}
    for order in ([_line(old), _line(new)], [_line(new), _line(old)]):
        assert build_directory(order).names["Practitioner/dr3"] == "Dr. Amy Newname"


def test_the_same_resource_sent_twice_is_no_conflict():
    spaced = json.dumps(NEWER, indent=1)  # same content, other whitespace (two exporters)
    directory = build_directory([_line(NEWER), spaced.replace("\n", "")])
    assert directory.conflicts == 0
    assert directory.names["Practitioner/dr3"] == "Dana Newman"


def test_a_role_moved_to_another_organisation_is_read_from_its_newest_version():
    def role(org: str, updated: str) -> str:
        return _line(
            {
                "resourceType": "PractitionerRole",
                "id": "role3",
                "meta": {"lastUpdated": updated},
                "practitioner": {"reference": "Practitioner/dr3"},
                "organization": {"reference": f"Organization/{org}"},
            }
        )

    lines = [role("orgOld", "2025-03-01T00:00:00Z"), role("orgNew", "2026-03-01T00:00:00Z")]
    for order in (lines, lines[::-1]):
        directory = build_directory(order)
        assert directory.roles["role3"] == ("dr3", "orgNew")
        assert directory.practitioner_orgs["dr3"] == "orgNew"


def test_a_run_puts_the_newest_name_on_the_letter_and_counts_the_conflict(tmp_path):
    source = tmp_path / "in"
    # Two export files hold dr3, as when a directory is exported twice or two systems' exports are merged.
    write_ndjson(source, "Practitioner", [OLDER, UNDATED])
    write_ndjson(source, "Practitioner.update", [NEWER])
    write_ndjson(source, "Patient", [patient("p3", "1970-05-01", "Practitioner/dr3", "Three")])
    write_ndjson(
        source,
        "MedicationDispense",
        [
            dispense("p3-f1", "p3", OXYCODONE_10, "2026-01-05", 180, 30, "dr3", "ph1"),
            dispense("p3-f2", "p3", OXYCODONE_10, "2026-02-04", 180, 30, "dr3", "ph1"),
        ],
    )
    lines = review(ndjson_files(source), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping(), workers=1)
    with (tmp_path / "out" / "patients.csv").open(encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["patient_id"] == "p3")
    assert row["pcp_id"] == "dr3" and row["pcp_name"] == "Dana Newman"
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    assert quality["directory_conflicts"] == 1
    assert any("1 practitioner, role or organisation sent in differing versions" in line for line in lines)
