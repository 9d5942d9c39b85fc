"""`painplan population` over a folder `--export` downloaded into, whose saved state (`.export-state.json`) cannot
be read for its manifest: named, with why, and exit status 3, never a manifest check skipped in silence."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import responses
from joserfc.jwk import ECKey
from population_support import fills, review_of
from synthetic_export import organization, patient, practitioner, write_ndjson

from smart_app.config import Settings, load_settings
from smart_app.population.export import download_export
from smart_app.population.progress import Progress

BASE = "https://ehr.example.org/fhir"
FILES = "https://ehr.example.org/bulk/files"
EXPORT = f"{BASE}/Group/g1/$export"
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


def export_settings(tmp_path: Path) -> Settings:
    """Settings naming a backend-services client of the export's FHIR server (ES384: a P-384 key is quick to make)."""
    key = ECKey.generate_key("P-384", parameters={"kid": "painplan-export-1"}, private=True)
    clients = tmp_path / "export-clients.json"
    entry = {"iss": BASE, "client_id": "painplan-population", "private_jwk": key.as_dict(private=True),
             "scope": "system/*.read"}  # fmt: skip
    clients.write_text(json.dumps([entry]))
    return load_settings(env={}, population_export_clients=str(clients))


@responses.activate  # no answer registered: any call to the server fails the test
def test_an_export_resumes_from_a_saved_state_with_a_byte_order_mark(tmp_path):
    # `--export` read the same file by rules of its own: the mark made it start a new job on the server, and its
    # three files, already downloaded, were fetched again.
    folder = tmp_path / "in"
    downloaded(folder)
    write_ndjson(folder, "0002.MedicationDispense", fills(3, 2))
    whole = state(MANIFEST) | {"downloaded": [output["url"] for output in MANIFEST["output"]]}
    (folder / ".export-state.json").write_text(json.dumps(whole, indent=2), encoding="utf-8-sig")
    settings = export_settings(tmp_path)
    files = download_export(EXPORT, folder, settings, Progress(quiet=True), sleep=lambda _: None)
    assert [path.name for path in files] == [
        "0000.Patient.ndjson",
        "0001.MedicationDispense.ndjson",
        "0002.MedicationDispense.ndjson",
    ]
    assert not responses.calls


# A state `--export` cannot resume: torn or edited, or another export's job (the URL changed, the folder reused).
NOT_RESUMED = {
    "not UTF-8": (b'{\n  "url": "caf\xe9"}', "not UTF-8 text (byte 0xe9 at line 2, column 14)"),
    "another export's": (
        json.dumps(state() | {"url": f"{BASE}/Group/g2/$export"}).encode(),
        "the job kept there is another export URL's",
    ),
}


@pytest.mark.parametrize("kind", list(NOT_RESUMED))
@responses.activate
def test_an_export_over_a_saved_state_it_cannot_resume_says_why_it_starts_a_new_one(kind, tmp_path):
    # A new job is the way on, but the line said only "kicked off", and the new job's state replaced the old one
    # with no word of it.
    folder = tmp_path / "in"
    folder.mkdir()
    saved, why = NOT_RESUMED[kind]
    (folder / ".export-state.json").write_bytes(saved)
    responses.get(f"{BASE}/.well-known/smart-configuration", json={"token_endpoint": f"{BASE}/token"})
    responses.post(f"{BASE}/token", json={"access_token": "t0k3n", "token_type": "bearer", "expires_in": 300})
    responses.get(EXPORT, status=202, headers={"Content-Location": f"{BASE}/bulkstatus/8"})
    responses.get(f"{BASE}/bulkstatus/8", json={"output": [], "error": []})
    said = io.StringIO()
    assert download_export(EXPORT, folder, export_settings(tmp_path), Progress(said), sleep=lambda _: None) == []
    assert said.getvalue().splitlines()[:2] == [
        f"export: .export-state.json: {why}: a new export is started",
        "export: kicked off",
    ]
