"""The files a Bulk Data manifest lists, found in an export copied to disk as real exports lay it out: by the last
segment of each `output[].url` (a server's absolute URL, or a path relative to the manifest), in the manifest's
folder and its sub-folders, told apart by more of the url's path where two files share a name; a file listed and not
found, and one found twice, named (exit status 3)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

from population_support import fills, people, review_of
from synthetic_export import OXYCODONE_10, order, write_ndjson

TRANSACTION = "2026-04-01T02:00:00Z"


def manifest(folder: Path, outputs: list[tuple[str, str, int]], request: str) -> None:
    """The server's manifest as the client saved it at the top of the export: (type, url, count) per output."""
    document = {
        "transactionTime": TRANSACTION,
        "request": request,
        "requiresAccessToken": True,
        "output": [{"type": kind, "url": url, "count": count} for kind, url, count in outputs],
        "error": [],
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(document, indent=2))


def payer_drop(folder: Path, held: dict[str, int]) -> None:
    """A payer's sFTP drop: a folder per type, the manifest at the top listing each file by its path relative to it
    (three fill files: 2, 3 and 2 fills); `held` is the fill files the drop holds, each with how many fills."""
    manifest(folder, [
        ("Patient", "Patient/Patient_001.ndjson", 3),
        ("MedicationDispense", "MedicationDispense/MedicationDispense_001.ndjson", 2),
        ("MedicationDispense", "MedicationDispense/MedicationDispense_002.ndjson", 3),
        ("MedicationDispense", "MedicationDispense/MedicationDispense_003.ndjson", 2),
    ], request="https://api.payer.example.com/fhir/Group/all-members/$export")  # fmt: skip
    write_ndjson(folder / "Patient", "Patient_001", people())
    for number, (name, lines) in enumerate(held.items()):
        write_ndjson(folder / "MedicationDispense", name, fills(lines, 10 * number))


def test_a_file_missing_from_a_folder_per_type_is_named(tmp_path, capsys):
    # Looked for beside the manifest only, no file was found, so the manifest was judged by type alone: the second
    # of three fill files, lost in the transfer, went unnoticed and the run exited 0.
    folder = tmp_path / "in"
    payer_drop(folder, {"MedicationDispense_001": 2, "MedicationDispense_003": 2})
    code, lines, quality = review_of(folder, capsys)
    assert quality["input_files_not_read"] == {
        "manifest.json: the export's manifest lists MedicationDispense file MedicationDispense_002.ndjson "
        "(3 resources), and INPUT holds no such file: not read": 1
    }
    assert code == 3 and lines[-1].startswith("not read (exit status 3): 1 input file (manifest.json")
    assert quality["resources_by_type"]["MedicationDispense"] == 4  # the files there are still reviewed


def test_a_file_cut_short_in_a_folder_per_type_is_named_by_its_path(tmp_path, capsys):
    folder = tmp_path / "in"
    payer_drop(folder, {"MedicationDispense_001": 2, "MedicationDispense_002": 1, "MedicationDispense_003": 2})
    code, _, quality = review_of(folder, capsys)
    assert quality["input_files_not_read"] == {
        "MedicationDispense/MedicationDispense_002.ndjson: holds 1 line, and the export's manifest (manifest.json) "
        "says the server wrote 3 MedicationDispense resources to it: cut off?": 1
    }
    assert code == 3


def test_a_whole_folder_per_type_is_not_named(tmp_path, capsys):
    folder = tmp_path / "in"
    payer_drop(folder, {"MedicationDispense_001": 2, "MedicationDispense_002": 3, "MedicationDispense_003": 2})
    code, lines, quality = review_of(folder, capsys)
    assert quality["input_files_not_read"] == {} and code == 0
    assert lines[-1] == "read: every line of every input file"


# The bulk-data reference server's files: absolute URLs under a per-job path, named <n>.<Type>.ndjson.
REFERENCE = "http://localhost:9443/eyJlcnIiOiIiLCJwYWdlIjoxMDAwMH0/fhir"


def test_files_a_client_saved_in_a_sub_folder_of_the_manifests_are_found(tmp_path, capsys):
    # The client kept the manifest at the top and the files in downloads/: the fill file it did not download is named.
    folder = tmp_path / "in"
    manifest(folder, [
        ("Patient", f"{REFERENCE}/bulkfiles/1.Patient.ndjson", 3),
        ("MedicationDispense", f"{REFERENCE}/bulkfiles/2.MedicationDispense.ndjson", 2),
        ("MedicationDispense", f"{REFERENCE}/bulkfiles/3.MedicationDispense.ndjson", 3),
        ("MedicationRequest", f"{REFERENCE}/bulkfiles/4.MedicationRequest.ndjson", 1),
    ], request=f"{REFERENCE}/Group/g1/$export")  # fmt: skip
    write_ndjson(folder / "downloads", "1.Patient", people())
    write_ndjson(folder / "downloads", "2.MedicationDispense", fills(2, 0))
    write_ndjson(folder / "downloads", "4.MedicationRequest", [order("rx1", "A", OXYCODONE_10, "2026-01-10", "er-doc")])
    code, _, quality = review_of(folder, capsys)
    assert quality["input_files_not_read"] == {
        "manifest.json: the export's manifest lists MedicationDispense file 3.MedicationDispense.ndjson "
        "(3 resources), and INPUT holds no such file: not read": 1
    }
    assert code == 3


def test_files_of_one_name_in_folders_per_type_are_told_apart_by_the_urls_path(tmp_path, capsys):
    # A server that names every type's files 1.ndjson, 2.ndjson under a folder per type, copied as it lays them out:
    # each file is the one whose folder the url names, so the count is checked against the right file.
    folder = tmp_path / "in"
    files = "https://fhir.example-ehr.com/r4/ec2458f2/bulk/job-77"
    manifest(folder, [
        ("Patient", f"{files}/Patient/1.ndjson", 3),
        ("MedicationDispense", f"{files}/MedicationDispense/1.ndjson", 2),
        ("MedicationDispense", f"{files}/MedicationDispense/2.ndjson", 3),
    ], request="https://fhir.example-ehr.com/r4/ec2458f2/Group/g1/$export")  # fmt: skip
    write_ndjson(folder / "Patient", "1", people())
    write_ndjson(folder / "MedicationDispense", "1", fills(2, 0))
    write_ndjson(folder / "MedicationDispense", "2", fills(1, 10))
    code, _, quality = review_of(folder, capsys)
    assert quality["input_files_not_read"] == {
        "MedicationDispense/2.ndjson: holds 1 line, and the export's manifest (manifest.json) says the server wrote "
        "3 MedicationDispense resources to it: cut off?": 1
    }
    assert code == 3


def test_a_listed_file_found_twice_is_named_with_both_places(tmp_path, capsys):
    # The drop was copied in twice (once into a dated folder), and one fill file was also left unpacked beside its
    # .gz: which copy is the listed file is unknown, so neither is checked against the manifest's count.
    folder = tmp_path / "in"
    payer_drop(folder, {"MedicationDispense_001": 2, "MedicationDispense_002": 3, "MedicationDispense_003": 2})
    shutil.copytree(folder / "Patient", folder / "2026-04-02" / "Patient")
    plain = folder / "MedicationDispense" / "MedicationDispense_003.ndjson"
    (plain.parent / (plain.name + ".gz")).write_bytes(gzip.compress(plain.read_bytes()))
    code, _, quality = review_of(folder, capsys)
    assert quality["input_files_not_read"] == {
        "manifest.json: the export's manifest lists Patient file Patient_001.ndjson (3 resources), and INPUT holds "
        "2 files of that name (2026-04-02/Patient/Patient_001.ndjson and Patient/Patient_001.ndjson): both read, "
        "not checked against it": 1,
        "manifest.json: the export's manifest lists MedicationDispense file MedicationDispense_003.ndjson "
        "(2 resources), and INPUT holds 2 files of that name (MedicationDispense/MedicationDispense_003.ndjson and "
        "MedicationDispense/MedicationDispense_003.ndjson.gz): both read, not checked against it": 1,
    }
    assert code == 3
