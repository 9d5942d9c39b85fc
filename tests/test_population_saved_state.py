"""`painplan population` over a folder `--export` downloaded into, whose saved state (`.export-state.json`) cannot
be read for its manifest: named, with why, and exit status 3, never a manifest check skipped in silence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import responses
from joserfc.jwk import ECKey
from population_support import fills, review_of
from synthetic_export import organization, patient, practitioner, write_ndjson

from smart_app.config import load_settings
from smart_app.population.export import download_export
from smart_app.population.progress import Progress

FILES = "https://ehr.example.org/bulk/files"
EXPORT = "https://ehr.example.org/fhir/Group/g1/$export"
NOT_CHECKED = "the export's manifest and error files it keeps were not checked"


def downloaded(folder: Path) -> None:
    """Patient A's quarter as `--export` saved it (<number>.<type>.ndjson): one of the two fill files is there."""
    write_ndjson(folder, "0000.Patient", [practitioner("er-doc"), organization("ph1"), patient("A")])
    write_ndjson(folder, "0001.MedicationDispense", fills(2, 0))


def state(manifest: object = None) -> dict:
    """The state `--export` keeps, as it writes it; with the server's manifest once the job has one."""
    kept = {"url": EXPORT, "status_url": "https://ehr.example.org/fhir/bulkstatus/7", "downloaded": [f"{FILES}/a7f3"]}
    if manifest is not None:
        kept["manifest"] = manifest
    return kept


MANIFEST = {
    "transactionTime": "2026-04-01T02:00:00Z",
    "request": EXPORT,
    "requiresAccessToken": True,
    "output": [
        {"type": "Patient", "url": f"{FILES}/a7f3", "count": 3},
        {"type": "MedicationDispense", "url": f"{FILES}/b81c", "count": 2},
        {"type": "MedicationDispense", "url": f"{FILES}/c9d2", "count": 3},
    ],
    "error": [],
}


# A state torn by a disk that filled mid-write, or edited by hand; one of another shape; one the run cannot open.
STATES = {
    "torn": (
        lambda path: path.write_text(json.dumps(state(MANIFEST), indent=2)[:200]),
        "not JSON (Unterminated string starting at: line 7 column 3)",
    ),
    "a list": (lambda path: path.write_text(json.dumps([state(MANIFEST)])), "not a JSON object"),
    "manifest not an object": (
        lambda path: path.write_text(json.dumps(state("pending"))),
        "its manifest is not a JSON object",
    ),
    "a folder": (lambda path: path.mkdir(), "could not be read (Is a directory)"),
    # Edited so that json.loads refuses it with other errors than a JSONDecodeError: each ended in a traceback.
    "a number of 5,000 digits": (
        lambda path: path.write_text('{"url": ' + "1" * 5000 + "}"),
        "not JSON (Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits)",
    ),
    "nested too deeply": (lambda path: path.write_text("[" * 100_000), "not JSON (nested too deeply)"),
    # Saved in a Windows code page: where, as every other file PainPlan reads is named (it said only "not UTF-8 text").
    "not UTF-8": (
        lambda path: path.write_bytes(b'{\n  "url": "caf\xe9"}'),
        "not UTF-8 text (byte 0xe9 at line 2, column 14)",
    ),
}


@pytest.mark.parametrize("kind", list(STATES))
def test_a_saved_state_that_cannot_be_read_is_named_and_the_run_exits_3(kind, tmp_path, capsys):
    # The manifest it keeps lists a fill file the folder does not hold: read, it makes the run exit 3 naming it.
    # Unreadable, the check was skipped in silence: "read: every line of every input file", exit 0.
    folder = tmp_path / "in"
    downloaded(folder)
    write, why = STATES[kind]
    write(folder / ".export-state.json")
    code, lines, quality = review_of(folder, capsys)
    named = f".export-state.json: {why}: {NOT_CHECKED}"
    assert quality["input_files_not_read"] == {named: 1}
    assert code == 3 and lines[-1] == f"not read (exit status 3): 1 input file ({named})"
    assert quality["resources_by_type"]["MedicationDispense"] == 2  # everything else still runs


def test_a_state_whose_export_never_got_its_manifest_is_named(tmp_path, capsys):
    # The export was interrupted while the server was still preparing it; the folder was then reviewed without
    # --export: what the export holds is unknown, so nothing says the files there are all of it.
    folder = tmp_path / "in"
    downloaded(folder)
    (folder / ".export-state.json").write_text(json.dumps(state(), indent=2))
    code, lines, quality = review_of(folder, capsys)
    named = f".export-state.json: holds no manifest (the export begun into this folder did not finish): {NOT_CHECKED}"
    assert quality["input_files_not_read"] == {named: 1} and code == 3


def test_a_whole_saved_state_is_still_checked_and_a_folder_with_none_is_not_named(tmp_path, capsys):
    folder = tmp_path / "in"
    downloaded(folder)
    code, lines, quality = review_of(folder, capsys)
    assert quality["input_files_not_read"] == {} and code == 0  # no --export ever ran here: nothing to say
    (folder / ".export-state.json").write_text(json.dumps(state(MANIFEST), indent=2))
    code, lines, quality = review_of(folder, capsys)
    assert list(quality["input_files_not_read"]) == [
        ".export-state.json: the export's manifest lists MedicationDispense file 0002.MedicationDispense.ndjson "
        "(3 resources), and INPUT holds no such file: not read"
    ]
    assert code == 3


def test_a_saved_state_with_a_byte_order_mark_is_read(tmp_path, capsys):
    # Opened and saved in Notepad ("UTF-8 with BOM"): its manifest was named "not JSON (Unexpected UTF-8 BOM …)", and
    # the run exited 3 without checking the folder against it. It is read as the same state without the mark.
    folder = tmp_path / "in"
    downloaded(folder)
    (folder / ".export-state.json").write_text(json.dumps(state(MANIFEST), indent=2), encoding="utf-8-sig")
    code, lines, quality = review_of(folder, capsys)
    assert list(quality["input_files_not_read"]) == [
        ".export-state.json: the export's manifest lists MedicationDispense file 0002.MedicationDispense.ndjson "
        "(3 resources), and INPUT holds no such file: not read"
    ]
    assert code == 3


@responses.activate  # no answer registered: any call to the server fails the test
def test_an_export_resumes_from_a_saved_state_with_a_byte_order_mark(tmp_path):
    # `--export` read the same file by rules of its own: the mark made it start a new job on the server, and its
    # three files, already downloaded, were fetched again.
    key = ECKey.generate_key("P-384", parameters={"kid": "painplan-export-1"}, private=True)
    clients = tmp_path / "export-clients.json"
    base = "https://ehr.example.org/fhir"
    entry = {"iss": base, "client_id": "painplan-population", "private_jwk": key.as_dict(private=True),
             "scope": "system/*.read"}  # fmt: skip
    clients.write_text(json.dumps([entry]))
    folder = tmp_path / "in"
    downloaded(folder)
    write_ndjson(folder, "0002.MedicationDispense", fills(3, 2))
    whole = state(MANIFEST) | {"downloaded": [output["url"] for output in MANIFEST["output"]]}
    (folder / ".export-state.json").write_text(json.dumps(whole, indent=2), encoding="utf-8-sig")
    settings = load_settings(env={}, population_export_clients=str(clients))
    files = download_export(EXPORT, folder, settings, Progress(quiet=True), sleep=lambda _: None)
    assert [path.name for path in files] == [
        "0000.Patient.ndjson",
        "0001.MedicationDispense.ndjson",
        "0002.MedicationDispense.ndjson",
    ]
    assert not responses.calls
