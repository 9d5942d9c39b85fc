"""What the population review makes of the files it is given: every file in the input folder is read or named, a
byte, a cut-off download or an over-long line never stops the run, and an export that cannot answer the measures
(no medicines at all, no look-back, no Patient resource, a birth date that cannot be read) says so."""

from __future__ import annotations

import bz2
import csv
import gzip
import json
from pathlib import Path

import pytest
from synthetic_export import OXYCODONE_10, dispense, organization, patient, practitioner, write_export, write_ndjson

from smart_app.cli import main
from smart_app.population import inputs
from smart_app.population.export import EXPORT_TYPES
from smart_app.population.inputs import ndjson_files

METHADONE_10 = ("864706", "methadone hydrochloride 10 MG Oral Tablet")  # 90 tablets / 30 days = 141 MME a day


def methadone(ident: str, pid: str, day: str, prescriber: str = "er-doc") -> dict:
    return dispense(ident, pid, METHADONE_10, day, 90, 30, prescriber, "ph1")


def directory() -> list[dict]:
    return [practitioner("pcp1", "Dr. Pat Care"), practitioner("er-doc", "Dr. Emma Room"), organization("ph1")]


def command(folder: Path, capsys) -> tuple[int, str, dict, dict[str, dict[str, str]]]:
    """The command on `folder`, as a site runs it: exit status, stdout, data-quality.json, patients.csv by id."""
    out = folder.parent / "out"
    code = main(["population", str(folder), "--out", str(out), "--period", "2026-01-01/2026-03-31",
                 "--today", "2026-04-15", "--workers", "1", "--quiet"])  # fmt: skip
    quality = json.loads((out / "data-quality.json").read_text()) if (out / "data-quality.json").exists() else {}
    rows = {}
    if (out / "patients.csv").exists():
        with open(out / "patients.csv", newline="", encoding="utf-8") as handle:
            rows = {row["patient_id"]: row for row in csv.DictReader(handle)}
    return code, capsys.readouterr().out, quality, rows


def quarter_of_methadone(pid: str) -> list[dict]:
    return [methadone(f"{pid}-1", pid, "2026-01-05"), methadone(f"{pid}-2", pid, "2026-02-04")]


# ---- D13/D14: input that cannot be decoded never stops the run ----------------------------------------------------


def test_a_windows_1252_name_is_one_malformed_line_of_its_file_and_the_rest_is_evaluated(tmp_path, capsys):
    folder = tmp_path / "in"
    write_export(folder, [*directory(), *quarter_of_methadone("A")])
    people = [patient("A", gp="Practitioner/pcp1"), patient("C", name="Peña")]
    # A payer's extract written in Windows-1252: "ñ" is the one byte 0xF1, which no UTF-8 reader accepts.
    (folder / "Patient.ndjson").write_bytes(b"".join(json.dumps(p, ensure_ascii=False).encode("cp1252") + b"\n"
                                                     for p in people))  # fmt: skip
    code, out, quality, rows = command(folder, capsys)
    assert code == 4  # every file read, not every line: a partial review
    assert list(rows) == ["A"] and rows["A"]["ohd_num"] == "true"
    assert quality["malformed_lines"] == 1 and quality["malformed_lines_by_file"] == {"Patient.ndjson": 1}
    assert "1 malformed line skipped (Patient.ndjson 1)" in out


def test_each_damaged_line_is_named_once_with_its_file_and_line_and_the_rest_of_the_file_is_read(tmp_path, capsys):
    """A Windows-1252 name on line 2 and a last line cut off mid-resource (a plain download interrupted): each line
    named once, by file and line number, and every other line of both files still evaluated."""
    folder = tmp_path / "in"
    write_export(folder, directory())
    lines = [json.dumps(patient("A", gp="Practitioner/pcp1")).encode(),
             json.dumps(patient("C", name="Peña"), ensure_ascii=False).encode("cp1252"),
             json.dumps(patient("B", gp="Practitioner/pcp1")).encode()]  # fmt: skip
    (folder / "Patient.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    fills = "".join(json.dumps(r) + "\n" for r in [*quarter_of_methadone("A"), *quarter_of_methadone("B")])
    (folder / "MedicationDispense.ndjson").write_text(fills + json.dumps(methadone("A-3", "A", "2026-03-06"))[:70])
    code, out, quality, rows = command(folder, capsys)
    assert code == 4
    assert rows["A"]["ohd_num"] == "true" and rows["B"]["ohd_num"] == "true"  # lines after each damage were read
    assert quality["malformed_lines"] == 2
    assert quality["malformed_lines_by_file"] == {"MedicationDispense.ndjson": 1, "Patient.ndjson": 1}
    assert quality["malformed_lines_named"] == {
        "MedicationDispense.ndjson line 5: not JSON": 1,
        "Patient.ndjson line 2: not UTF-8": 1,
    }
    (report,) = [line for line in out.splitlines() if line.startswith("data quality:")]
    assert report.count("Patient.ndjson line 2") == 1 and report.count("MedicationDispense.ndjson line 5") == 1
    assert out.splitlines()[-1] == (  # and the closing line names what the review did not read
        "not read (exit status 4): 2 lines "
        "(MedicationDispense.ndjson line 5: not JSON, Patient.ndjson line 2: not UTF-8)"
    )


def test_a_damaged_file_is_opened_and_read_once_and_the_engines_read_its_readable_lines(tmp_path, monkeypatch):
    """A file with a line that cannot be read was read through to find it, then opened and read again from the
    start to copy its readable lines: now the copy is written as the one reading goes."""
    folder = tmp_path / "in"
    good = [json.dumps(patient(f"p{n}")).encode() for n in range(2000)]
    bad = json.dumps(patient("C", name="Peña"), ensure_ascii=False).encode("cp1252")
    folder.mkdir()
    (folder / "Patient.ndjson").write_bytes(b"\n".join([*good[:1500], bad, *good[1500:]]) + b"\n")
    found = ndjson_files(folder)
    opened = []
    real = inputs._opened
    monkeypatch.setattr(inputs, "_opened", lambda path: opened.append(path.name) or real(path))
    prepared = inputs.prepare_inputs(found, tmp_path / "work")
    assert opened == ["Patient.ndjson"]
    assert Path(prepared.paths[0]).read_bytes() == b"\n".join(good) + b"\n"
    assert dict(prepared.quality.malformed_lines_named) == {"Patient.ndjson line 1,501: not UTF-8": 1}


def test_a_damaged_gzip_file_is_opened_once_and_its_copy_holds_every_readable_line(tmp_path, monkeypatch):
    folder = tmp_path / "in"
    good = [json.dumps(patient(f"p{n}")).encode() for n in range(2000)]
    bad = json.dumps(patient("C", name="Peña"), ensure_ascii=False).encode("cp1252")
    folder.mkdir()
    (folder / "Patient.ndjson.gz").write_bytes(gzip.compress(b"\n".join([*good[:1500], bad, *good[1500:]]) + b"\n"))
    found = ndjson_files(folder)
    opened = []
    real = inputs._opened
    monkeypatch.setattr(inputs, "_opened", lambda path: opened.append(path.name) or real(path))
    prepared = inputs.prepare_inputs(found, tmp_path / "work")
    assert opened == ["Patient.ndjson.gz"]
    assert Path(prepared.paths[0]).read_bytes() == b"\n".join(good) + b"\n"
    assert prepared.quality.malformed_lines_by_file == {"Patient.ndjson.gz": 1}


def test_a_cut_off_gzip_download_is_read_up_to_the_cut_and_named_with_exit_status_3(tmp_path, capsys):
    folder = tmp_path / "in"
    write_export(folder, [*directory(), patient("A", gp="Practitioner/pcp1"), *quarter_of_methadone("A")])
    later = [patient(f"z{n}") for n in range(3000)] + [patient("B"), *quarter_of_methadone("B")]
    packed = gzip.compress("".join(json.dumps(r) + "\n" for r in later).encode())
    (folder / "MedicationDispense_002.ndjson.gz").write_bytes(packed[: len(packed) // 2])
    code, out, quality, rows = command(folder, capsys)
    assert code == 3
    assert rows["A"]["ohd_num"] == "true" and "B" not in rows  # B's lines were past the cut
    (named,) = quality["input_files_not_read"]
    assert named.startswith("MedicationDispense_002.ndjson.gz: read in part") and "cut off" in named
    assert "1 input file not read, or read only in part" in out and "MedicationDispense_002.ndjson.gz" in out


def test_a_gz_file_that_is_plain_ndjson_is_read_and_one_that_is_neither_is_named(tmp_path, capsys):
    folder = tmp_path / "in"
    write_export(folder, [*directory(), patient("A")])
    (folder / "MedicationDispense.ndjson.gz").write_text(
        "".join(json.dumps(r) + "\n" for r in quarter_of_methadone("A"))
    )
    (folder / "Observation.ndjson.gz").write_bytes(b"\x00\x01\x02 not a resource\n")
    code, out, quality, rows = command(folder, capsys)
    assert code == 3
    assert rows["A"]["ohd_num"] == "true"  # the mislabelled file was read as the text it is
    assert list(quality["input_files_not_read"]) == [
        "Observation.ndjson.gz: neither gzip nor NDJSON (its first line is no FHIR resource)"
    ]


def test_a_line_longer_than_the_readers_limit_is_a_malformed_line_of_its_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(inputs, "MAX_LINE_BYTES", 4096)  # the engines' limit is 64 MB; the rule is the same
    folder = tmp_path / "in"
    write_export(folder, [*directory(), patient("A"), *quarter_of_methadone("A")])
    document = {"resourceType": "DocumentReference", "id": "pdf", "subject": {"reference": "Patient/A"},
                "content": [{"attachment": {"contentType": "application/pdf", "data": "A" * 10_000}}]}  # fmt: skip
    write_ndjson(folder, "DocumentReference", [document, {"resourceType": "DocumentReference", "id": "small"}])
    code, out, quality, rows = command(folder, capsys)
    assert code == 4 and rows["A"]["ohd_num"] == "true"
    assert quality["malformed_lines_by_file"] == {"DocumentReference.ndjson": 1}
    assert quality["malformed_lines_named"] == {"DocumentReference.ndjson line 1: longer than 4,096 bytes": 1}
    assert quality["resources_by_type"]["DocumentReference"] == 1


def test_a_line_over_64_megabytes_does_not_stop_the_run(tmp_path, capsys):
    folder = tmp_path / "in"
    write_export(folder, [*directory(), patient("A"), *quarter_of_methadone("A")])
    document = {"resourceType": "DocumentReference", "id": "pdf", "subject": {"reference": "Patient/A"},
                "content": [{"attachment": {"contentType": "application/pdf", "data": "A" * (65 << 20)}}]}  # fmt: skip
    write_ndjson(folder, "DocumentReference", [document])
    code, out, quality, rows = command(folder, capsys)
    assert code == 4 and rows["A"]["ohd_num"] == "true"
    assert quality["malformed_lines_by_file"] == {"DocumentReference.ndjson": 1}


# ---- D1: every layout a server writes is read, and whatever is not read is named ----------------------------------


@pytest.mark.parametrize(
    "layout",
    [
        "MedicationDispense/MedicationDispense-0.ndjson",  # AWS HealthLake: a folder per type
        "MedicationDispense",  # Google Cloud Healthcare API: no extension
        "MedicationDispense.NDJSON",
        "MedicationDispense.jsonl",
        "MedicationDispense/part-0.NDJSON.GZ",
    ],
)
def test_the_common_export_layouts_are_read(tmp_path, capsys, layout):
    folder = tmp_path / "in"
    write_export(folder, [*directory(), patient("A")])
    target = folder / layout
    target.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r) + "\n" for r in quarter_of_methadone("A")).encode()
    target.write_bytes(gzip.compress(text) if layout.lower().endswith(".gz") else text)
    code, out, quality, rows = command(folder, capsys)
    assert code == 0 and rows["A"]["ohd_num"] == "true"
    assert layout in quality["run"]["files"]
    assert quality["input_files_not_read"] == {}


def test_files_that_are_not_read_are_named_and_hidden_files_are_left_alone(tmp_path, capsys):
    folder = tmp_path / "in"
    write_export(folder, [*directory(), patient("A"), *quarter_of_methadone("A")])
    (folder / "claims").mkdir()
    (folder / "claims" / "MedicationDispense.ndjson.bz2").write_bytes(bz2.compress(b'{"resourceType": "X"}\n'))
    (folder / "notes.json").write_text(json.dumps({"site": "Hartford"}, indent=2))
    fhir = "https://ehr.example.org/fhir"
    saved = {
        "transactionTime": "2026-04-01T00:00:00Z",
        "output": [{"type": "Patient", "url": f"{fhir}/f/Patient.ndjson"}],
    }
    state = {
        "url": f"{fhir}/Group/g1/$export",
        "status_url": f"{fhir}/bulkstatus/7",
        "downloaded": [],
        "manifest": saved,
    }
    (folder / ".export-state.json").write_text(json.dumps(state))  # PainPlan's own resume state, never input
    code, out, quality, rows = command(folder, capsys)
    assert code == 3 and rows["A"]["ohd_num"] == "true"
    assert sorted(quality["input_files_not_read"]) == [
        "claims/MedicationDispense.ndjson.bz2: compressed as bzip2, which the review does not read",
        "notes.json: not NDJSON (its first line is no FHIR resource)",
    ]


def test_the_exports_own_manifest_is_not_input_and_not_named(tmp_path, capsys):
    """A Bulk Data client saves the server's manifest beside the files it lists: it holds no patient data, and naming
    it as unread (exit 3) on every run would teach a site to ignore exit 3."""
    folder = tmp_path / "in"
    write_export(folder, [*directory(), patient("A"), *quarter_of_methadone("A")])
    manifest = {
        "transactionTime": "2026-04-01T00:00:00Z",
        "request": "https://ehr.example.org/fhir/Group/g1/$export",
        "requiresAccessToken": True,
        "output": [{"type": "Patient", "url": "https://ehr.example.org/files/Patient.ndjson"}],
        "error": [],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    code, out, quality, rows = command(folder, capsys)
    assert code == 0 and rows["A"]["ohd_num"] == "true"
    assert quality["input_files_not_read"] == {}
    assert ndjson_files(folder).not_read == ()


def test_a_folder_with_nothing_to_read_is_a_usage_error_naming_what_it_holds(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "members.csv").write_text("id,birth\nA,1970-01-01\n")
    assert main(["population", str(folder), "--out", str(tmp_path / "out")]) == 2
    assert "members.csv: not NDJSON" in capsys.readouterr().err


def test_the_input_finder_lists_what_it_reads_and_what_it_does_not(tmp_path):
    folder = tmp_path / "in"
    write_export(folder, [patient("A")])
    (folder / "notes.txt").write_text("hello\n")
    found = ndjson_files(folder)
    assert [f.name for f in found] == ["Patient.ndjson"]
    assert found.not_read == (("notes.txt", "not NDJSON (its first line is no FHIR resource)"),)


# ---- D2: an export with members and no medicines is no clean quarter ---------------------------------------------


def test_the_default_export_asks_for_pharmacy_claims():
    assert "ExplanationOfBenefit" in EXPORT_TYPES.split(",")


def test_members_with_no_fills_orders_or_claims_at_all_are_named(tmp_path, capsys):
    folder = tmp_path / "in"
    members = [patient(f"m{n}", gp="Practitioner/pcp1") for n in range(50)]
    write_export(folder, [*directory(), *members])
    code, out, quality, rows = command(folder, capsys)
    assert code == 0 and rows == {}
    assert quality["patients_without_medication_data"] == 50
    assert "50 patients in an export holding no fills, orders or pharmacy claims at all" in out
    assert "nothing to report" not in out


# ---- D9: an export holding only the quarter has no look-back ------------------------------------------------------


def oxycodone_history(days: list[str]) -> list[dict]:
    return [dispense(f"f{n}", "A", OXYCODONE_10, day, 120, 30, "pcp1", "ph1") for n, day in enumerate(days)]


QUARTER = ["2026-01-05", "2026-02-04", "2026-03-06"]


def test_a_quarter_only_export_names_the_look_back_it_lacks(tmp_path, capsys):
    write_export(tmp_path / "in", [*directory(), patient("A", gp="Practitioner/pcp1"), *oxycodone_history(QUARTER)])
    code, out, quality, rows = command(tmp_path / "in", capsys)
    assert rows["A"]["iop_hd_den"] == "true"  # read as a new start: the data cannot say otherwise
    assert quality["medication_data_from"] == "2026-01-05"
    assert quality["lookback_not_reached"] == {
        "AMO: 12 months from 2025-04-01": 1,
        "IOP-HD, IOP-LD, IOP-LA: 90 days before each fill, from 2025-10-03": 1,
    }
    assert "look-backs reaching before the export's first fill, order or claim (dated 2026-01-05)" in out


def test_an_export_with_a_years_history_names_no_look_back(tmp_path, capsys):
    history = ["2025-03-09", "2025-07-09", "2025-08-08", "2025-09-07", "2025-10-07", "2025-11-06", "2025-12-06"]
    write_export(tmp_path / "in", [*directory(), patient("A", gp="Practitioner/pcp1"),
                                   *oxycodone_history(history + QUARTER)])  # fmt: skip
    code, out, quality, rows = command(tmp_path / "in", capsys)
    assert rows["A"]["iop_hd_den"] == "false"
    assert quality["medication_data_from"] == "2025-03-09" and quality["lookback_not_reached"] == {}


# ---- D6/D10: a patient whose age cannot be known is in no age-restricted denominator ------------------------------


def test_fills_with_no_patient_resource_are_counted_and_in_no_denominator(tmp_path, capsys):
    write_export(tmp_path / "in", [*directory(), patient("ADULT", gp="Practitioner/pcp1"),
                                   *quarter_of_methadone("ADULT"), *quarter_of_methadone("KID")])  # fmt: skip
    code, out, quality, rows = command(tmp_path / "in", capsys)
    assert rows["ADULT"]["ohd_num"] == "true"
    kid = rows["KID"]
    assert (kid["ohd_den"], kid["ohd_num"], kid["nal_den"]) == ("false", "false", "false")
    assert kid["excluded"] == "no Patient resource in the export (age not known)"
    assert kid["attribution"] == "prescriber-no-patient-resource"
    assert quality["patients_without_patient_resource"] == 1 and quality["attributed_to_prescriber"] == 0
    assert "1 patient with fills or orders but no Patient resource in the export" in out
    letters = sorted((tmp_path / "out" / "letters").glob("*.html"))
    assert [p.name for p in letters if p.name != "index.html"] == ["pcp1.html"]  # ADULT's; no one's for KID
    assert not any("KID" in p.read_text() for p in letters)


@pytest.mark.parametrize("written", ["01/15/2010", "2010-02-30", "2010-13-01"])
def test_a_birth_date_that_cannot_be_read_is_an_unknown_age_not_an_adult(tmp_path, capsys, written):
    people = [{**patient("P", gp="Practitioner/pcp1"), "birthDate": written}, patient("ISO", "2010-01-15")]
    write_export(tmp_path / "in", [*directory(), *people, *quarter_of_methadone("P"), *quarter_of_methadone("ISO")])
    code, out, quality, rows = command(tmp_path / "in", capsys)
    assert (rows["P"]["ohd_den"], rows["P"]["ohd_num"]) == ("false", "false")
    assert rows["P"]["excluded"] == "birth date not readable (age not known)"
    assert rows["ISO"]["excluded"] == "under 18"
    assert quality["patients_birth_date_unreadable"] == 1
    assert "1 patient whose birth date cannot be read" in out


def test_a_compact_birth_date_is_still_read(tmp_path, capsys):
    write_export(tmp_path / "in", [*directory(), {**patient("P"), "birthDate": "19700115"}, *quarter_of_methadone("P")])
    code, out, quality, rows = command(tmp_path / "in", capsys)
    assert rows["P"]["ohd_num"] == "true" and quality["patients_birth_date_unreadable"] == 0


# ---- D11: a PCP named by display alone is a PCP ------------------------------------------------------------------


def test_a_pcp_named_only_by_display_is_a_pcp_not_in_the_directory(tmp_path, capsys):
    named = {**patient("A"), "generalPractitioner": [{"display": "Dr Jane Smith, Main Street Family Medicine"}]}
    write_export(tmp_path / "in", [*directory(), named, *quarter_of_methadone("A")])
    code, out, quality, rows = command(tmp_path / "in", capsys)
    assert rows["A"]["attribution"] == "prescriber-pcp-not-in-directory"
    assert quality["pcp_not_in_directory"] == {"prescriber": 1} and quality["attributed_to_prescriber"] == 0
    letter = (tmp_path / "out" / "letters" / "er-doc.html").read_text()
    assert "no primary care clinician on record" not in letter


def test_a_linked_folder_that_leads_back_is_walked_once(tmp_path):
    folder = tmp_path / "in"
    write_export(folder, [patient("A")])
    (folder / "again").symlink_to(folder, target_is_directory=True)
    assert [f.name for f in ndjson_files(folder)] == ["Patient.ndjson"]


def test_the_run_output_inside_the_input_folder_is_not_input(tmp_path, capsys):
    folder = tmp_path / "in"
    write_export(folder, [*directory(), patient("A"), *quarter_of_methadone("A")])
    arguments = ["population", str(folder), "--out", str(folder / "runs" / "q1"), "--period", "2026-01-01/2026-03-31",
                 "--today", "2026-04-15", "--workers", "1", "--quiet"]  # fmt: skip
    assert main(arguments) == 0
    assert main([*arguments[:3], str(folder / "runs" / "q1"), *arguments[4:]]) == 0  # a second run beside the first
    quality = json.loads((folder / "runs" / "q1" / "data-quality.json").read_text())
    assert quality["input_files_not_read"] == {} and not any(f.startswith("runs/") for f in quality["run"]["files"])


# ---- input that cannot be opened is named for what it is ----------------------------------------------------------


def test_a_broken_link_in_the_input_folder_is_named_with_exit_status_3(tmp_path, capsys):
    """A sync tool or a moved export leaves a link whose file is gone: its data is missing from the run, so it is
    named like any file that cannot be read, never skipped without a word."""
    folder = tmp_path / "in"
    write_export(folder, [*directory(), patient("A", gp="Practitioner/pcp1"), *quarter_of_methadone("A")])
    (folder / "MedicationRequest.ndjson").symlink_to(tmp_path / "archive" / "MedicationRequest.ndjson")
    code, out, quality, rows = command(folder, capsys)
    assert code == 3 and rows["A"]["ohd_num"] == "true"
    assert list(quality["input_files_not_read"]) == [
        f"MedicationRequest.ndjson: could not be opened: a link to {tmp_path / 'archive' / 'MedicationRequest.ndjson'}"
        ", which does not exist"
    ]
    assert "1 input file not read, or read only in part" in out and "MedicationRequest.ndjson" in out


def _refused(monkeypatch, refused: Path) -> None:
    """Opening `refused` fails as it does for a file the run's account may not read (the tests run as root)."""
    real = open

    def guarded(file, *args, **kwargs):
        if Path(str(file)) == refused:
            raise PermissionError(13, "Permission denied", str(file))
        return real(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", guarded)


def test_a_file_the_run_may_not_read_is_named_as_not_opened(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "in"
    write_export(folder, [*directory(), patient("A", gp="Practitioner/pcp1"), *quarter_of_methadone("A")])
    write_ndjson(
        folder, "Condition", [{"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/A"}}]
    )
    _refused(monkeypatch, folder / "Condition.ndjson")
    code, out, quality, rows = command(folder, capsys)
    assert code == 3 and rows["A"]["ohd_num"] == "true"
    assert list(quality["input_files_not_read"]) == ["Condition.ndjson: could not be opened: Permission denied"]


@pytest.mark.parametrize("kind", ["permission", "folder"])
def test_a_file_that_cannot_be_opened_when_checked_is_never_called_cut_off(tmp_path, monkeypatch, kind):
    """A file listed but not openable when the run checks it (its permissions changed, or a list of files that names
    a folder) was named "read in part: cut off or corrupt after line 0", the words for a truncated download."""
    folder = tmp_path / "in"
    write_export(folder, [*directory(), patient("A", gp="Practitioner/pcp1"), *quarter_of_methadone("A")])
    files = list(ndjson_files(folder))
    if kind == "permission":
        unreadable, reason = folder / "Patient.ndjson", "Permission denied"
        _refused(monkeypatch, unreadable)
    else:
        unreadable, reason = folder / "claims.ndjson", "Is a directory"
        unreadable.mkdir()
        files.append(unreadable)
    prepared = inputs.prepare_inputs(inputs.InputFolder(folder, tuple(files)), tmp_path / "work")
    assert list(prepared.quality.input_files_not_read) == [f"{unreadable.name}: could not be opened: {reason}"]
    assert prepared.quality.malformed_lines == 0 and len(prepared.paths) == len(files) - 1


def test_a_sub_folder_that_cannot_be_listed_is_named(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "in"
    write_export(folder, [*directory(), patient("A", gp="Practitioner/pcp1"), *quarter_of_methadone("A")])
    (folder / "claims").mkdir()
    (folder / "claims" / "ExplanationOfBenefit.ndjson").write_text("")
    real = Path.iterdir

    def listing(self):
        if self == folder / "claims":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "iterdir", listing)
    code, out, quality, rows = command(folder, capsys)
    assert code == 3 and rows["A"]["ohd_num"] == "true"
    assert list(quality["input_files_not_read"]) == ["claims: folder could not be opened: Permission denied"]


def test_each_file_is_opened_once_to_sniff_and_once_to_check(tmp_path, monkeypatch):
    """Bulk exports run to gigabytes: listing the folder reads each file's start once, and checking it reads it
    through once (a gzip stream once, not once to sniff and again to decompress)."""
    folder = tmp_path / "in"
    write_export(folder, [*directory(), patient("A")])
    text = "".join(json.dumps(r) + "\n" for r in quarter_of_methadone("A")).encode()
    (folder / "MedicationDispense").write_bytes(text)  # Google's layout: no extension
    (folder / "MedicationRequest.ndjson.gz").write_bytes(gzip.compress(text))
    (folder / "notes.json").write_text(json.dumps({"site": "Hartford"}, indent=2))
    opened: dict[str, int] = {}
    real = open

    def counting(file, *args, **kwargs):
        if str(file).startswith(str(folder)):
            opened[Path(str(file)).name] = opened.get(Path(str(file)).name, 0) + 1
        return real(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", counting)
    monkeypatch.setattr("io.open", counting)
    found = ndjson_files(folder)
    assert max(opened.values()) == 1 and len(opened) == 6
    opened.clear()
    inputs.prepare_inputs(found, tmp_path / "work")
    assert opened == {name: 1 for name in ["MedicationDispense", "MedicationRequest.ndjson.gz", *(
        f"{kind}.ndjson" for kind in ["Organization", "Patient", "Practitioner"])]}  # fmt: skip


def test_the_earliest_fill_is_dated_as_written_at_a_time_zone_boundary(tmp_path, capsys):
    """A fill at 23:30 on 3 October in New York (the configured zone) is 04:30 on 4 October in UTC: the export's
    medicines go back to 3 October, the day the measures date the fill, so IOP's 90 days from 2025-10-03 are covered."""
    folder = tmp_path / "in"
    history = oxycodone_history(["2025-10-03T23:30:00-04:00", *QUARTER])
    write_export(folder, [*directory(), patient("A", gp="Practitioner/pcp1"), *history])
    code, out, quality, rows = command(folder, capsys)
    assert quality["medication_data_from"] == "2025-10-03"
    assert list(quality["lookback_not_reached"]) == ["AMO: 12 months from 2025-04-01"]
    assert rows["A"]["iop_hd_den"] == "false"  # the October fill's supply reaches into January: no new start


def test_run_files_lists_the_files_read_not_one_that_could_not_be_opened(tmp_path, capsys, monkeypatch):
    """A file that could be told apart when the folder was listed but not opened when it was read (its permissions
    changed in between) was named in input_files_not_read and still listed in run.files as a file read."""
    folder = tmp_path / "in"
    write_export(folder, [*directory(), patient("A", gp="Practitioner/pcp1"), *quarter_of_methadone("A")])
    write_ndjson(
        folder, "Condition", [{"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/A"}}]
    )
    later = [patient(f"z{n}") for n in range(50)]
    packed = gzip.compress("".join(json.dumps(r) + "\n" for r in later).encode())
    (folder / "Patient_002.ndjson.gz").write_bytes(packed[: len(packed) // 2])
    real, opens = open, {"n": 0}

    def refused_when_read(file, *args, **kwargs):
        if Path(str(file)) == folder / "Condition.ndjson":
            opens["n"] += 1
            if opens["n"] > 1:  # listed (its start read), then refused
                raise PermissionError(13, "Permission denied", str(file))
        return real(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refused_when_read)
    code, out, quality, rows = command(folder, capsys)
    assert code == 3 and rows["A"]["ohd_num"] == "true"
    refused, cut = sorted(quality["input_files_not_read"])
    assert refused == "Condition.ndjson: could not be opened: Permission denied"
    assert cut.startswith("Patient_002.ndjson.gz: read in part: cut off or corrupt after line ")
    assert "Condition.ndjson" not in quality["run"]["files"]
    assert "Patient_002.ndjson.gz" in quality["run"]["files"]  # read in part: what it held up to the cut was read
    assert "Condition.ndjson: could not be opened: Permission denied" in out
