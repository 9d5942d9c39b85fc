"""A review that could not read all of its input says so: in its exit status, so a scheduled pipeline can tell a
partial review from a whole one, and in its last line, which names what was not read; and every line it could not
read is named by its file and line number, wherever in the file it is."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from synthetic_export import dispense, organization, patient, practitioner, write_export

from smart_app.cli import main
from smart_app.population import inputs
from smart_app.population.inputs import ndjson_files

METHADONE_10 = ("864706", "methadone hydrochloride 10 MG Oral Tablet")  # 90 tablets / 30 days = 141 MME a day


def directory() -> list[dict]:
    return [practitioner("pcp1", "Dr. Pat Care"), practitioner("er-doc", "Dr. Emma Room"), organization("ph1")]


def quarter_of_methadone(pid: str) -> list[dict]:
    return [
        dispense(f"{pid}-1", pid, METHADONE_10, "2026-01-05", 90, 30, "er-doc", "ph1"),
        dispense(f"{pid}-2", pid, METHADONE_10, "2026-02-04", 90, 30, "er-doc", "ph1"),
    ]


def run(folder: Path, capsys, *more: str) -> tuple[int, list[str], dict]:
    """The command as a scheduled job runs it: exit status, stdout's lines, data-quality.json."""
    out = folder.parent / "out"
    code = main(["population", str(folder), "--out", str(out), "--period", "2026-01-01/2026-03-31",
                 "--today", "2026-04-15", "--workers", "1", "--quiet", *more])  # fmt: skip
    quality = json.loads((out / "data-quality.json").read_text())
    return code, capsys.readouterr().out.splitlines(), quality


def export_with_a_trailing_comma(tmp_path: Path) -> Path:
    """An Epic-style export whose MedicationDispense file has, on line 2, a resource written with a trailing comma (a
    hand-edited extract): valid UTF-8, looks like an object, but no JSON."""
    folder = tmp_path / "in"
    write_export(folder, [*directory(), patient("A", gp="Practitioner/pcp1"), *quarter_of_methadone("A")])
    fills = [json.dumps(f) for f in quarter_of_methadone("A")]
    broken = json.dumps(dispense("A-3", "A", METHADONE_10, "2026-03-06", 90, 30, "er-doc", "ph1"))[:-1] + ",}"
    (folder / "MedicationDispense.ndjson").write_text("\n".join([fills[0], broken, fills[1]]) + "\n")
    return folder


# ---- (a) exit status and the closing line --------------------------------------------------------------------------


def test_malformed_lines_exit_with_status_4_and_the_last_line_names_them(tmp_path, capsys):
    folder = export_with_a_trailing_comma(tmp_path)
    code, lines, quality = run(folder, capsys)
    assert code == 4  # a partial review: the outputs are written, but not every line was read
    assert (folder.parent / "out" / "patients.csv").exists()
    assert quality["malformed_lines"] == 1
    assert lines[-1] == ("not read (exit status 4): 1 line (MedicationDispense.ndjson line 2: not JSON)")


def test_a_file_not_read_exits_3_even_with_malformed_lines_and_the_last_line_names_both(tmp_path, capsys):
    folder = export_with_a_trailing_comma(tmp_path)
    later = [patient(f"z{n}") for n in range(3000)]
    packed = gzip.compress("".join(json.dumps(r) + "\n" for r in later).encode())
    (folder / "Patient_002.ndjson.gz").write_bytes(packed[: len(packed) // 2])  # an interrupted download
    code, lines, quality = run(folder, capsys)
    assert code == 3
    assert lines[-1].startswith("not read (exit status 3): 1 input file (Patient_002.ndjson.gz: read in part: cut off")
    assert lines[-1].endswith("; 1 line (MedicationDispense.ndjson line 2: not JSON)")


def test_a_site_that_accepts_malformed_lines_gets_0_and_still_reads_what_was_not_read(tmp_path, capsys):
    folder = export_with_a_trailing_comma(tmp_path)
    code, lines, _ = run(folder, capsys, "--malformed-lines-ok")
    assert code == 0
    assert lines[-1] == (
        "not read (exit status 0: --malformed-lines-ok): 1 line (MedicationDispense.ndjson line 2: not JSON)"
    )


def test_the_flag_never_hides_a_file_not_read(tmp_path, capsys):
    folder = export_with_a_trailing_comma(tmp_path)
    (folder / "notes.csv").write_text("site,quarter\nHartford,2026Q1\n")
    code, lines, _ = run(folder, capsys, "--malformed-lines-ok")
    assert code == 3
    assert lines[-1].startswith("not read (exit status 3): 1 input file (notes.csv: not NDJSON")


def test_a_whole_review_exits_0_and_says_everything_was_read(tmp_path, capsys):
    folder = tmp_path / "in"
    write_export(folder, [*directory(), patient("A", gp="Practitioner/pcp1"), *quarter_of_methadone("A")])
    code, lines, _ = run(folder, capsys)
    assert code == 0
    assert lines[-1] == "read: every line of every input file"


def test_more_lines_than_named_say_how_many_more(tmp_path, capsys):
    """A Windows-1252 extract with a bad line on every other line: the first 10 named, the rest counted."""
    folder = tmp_path / "in"
    write_export(folder, [*directory(), *quarter_of_methadone("A")])
    people = [patient("A", gp="Practitioner/pcp1")] + [patient(f"c{n}", name="Peña") for n in range(12)]
    (folder / "Patient.ndjson").write_bytes(
        b"".join(json.dumps(p, ensure_ascii=False).encode("cp1252") + b"\n" for p in people)
    )
    code, lines, quality = run(folder, capsys)
    assert code == 4 and quality["malformed_lines"] == 12
    assert lines[-1].startswith("not read (exit status 4): 12 lines (Patient.ndjson line 2: not UTF-8, ")
    assert lines[-1].endswith("Patient.ndjson line 11: not UTF-8, and 2 more)")


# ---- (b) every malformed line is named by its file and line -------------------------------------------------------


def test_a_line_that_looks_like_an_object_but_is_no_json_is_named_by_its_line(tmp_path, capsys):
    folder = export_with_a_trailing_comma(tmp_path)
    _, _, quality = run(folder, capsys)
    assert quality["malformed_lines_named"] == {"MedicationDispense.ndjson line 2: not JSON": 1}


def test_a_json_line_that_is_no_fhir_resource_is_a_malformed_line_named_by_its_line(tmp_path, capsys):
    """A fill whose resourceType an extract tool left out (a Patient line missing its type, a bare array): json.loads
    reads each, but no FHIR resource is there to read, so each is a malformed line, named, and the status is 4. They
    were counted as resources of an unread type "(none)", with status 0: a fill dropped with no line to find it by."""
    folder = tmp_path / "in"
    write_export(folder, [*directory(), patient("A", gp="Practitioner/pcp1")])
    fills = [json.dumps(f) for f in quarter_of_methadone("A")]
    untyped = dispense("A-3", "A", METHADONE_10, "2026-03-06", 90, 30, "er-doc", "ph1")
    del untyped["resourceType"]
    lines = [fills[0], json.dumps(untyped), "[1, 2, 3]", json.dumps({"resourceType": 7, "id": "x"}), fills[1]]
    (folder / "MedicationDispense.ndjson").write_text("\n".join(lines) + "\n")
    code, out, quality = run(folder, capsys)
    why = "not a FHIR resource (no resourceType)"
    assert quality["malformed_lines_named"] == {f"MedicationDispense.ndjson line {n}: {why}": 1 for n in (2, 3, 4)}
    assert quality["malformed_lines"] == 3 and quality["unexpected_resource_types"] == {}
    assert code == 4 and f"MedicationDispense.ndjson line 2: {why}" in out[-1]


def test_a_line_of_text_in_a_clean_gzip_file_is_named_by_its_line(tmp_path, capsys):
    """A gzip file whose chunks are all UTF-8: the fast reading never looks at a line alone, yet an HTML error page
    pasted into the middle of it (a proxy's answer saved as data) is named where it is."""
    folder = tmp_path / "in"
    write_export(folder, [*directory(), patient("A", gp="Practitioner/pcp1")])
    fills = [json.dumps(f) for f in quarter_of_methadone("A")]
    text = "\n".join([fills[0], "<html><body>502 Bad Gateway</body></html>", fills[1]]) + "\n"
    (folder / "MedicationDispense_001.ndjson.gz").write_bytes(gzip.compress(text.encode()))
    code, lines, quality = run(folder, capsys)
    assert code == 4
    assert quality["malformed_lines_named"] == {"MedicationDispense_001.ndjson.gz line 2: not JSON": 1}


def test_lines_named_by_the_first_reading_are_not_named_twice(tmp_path, capsys):
    """Line 2 not UTF-8 (named as the file is read) and line 4 a trailing comma (found by the engines): both named
    once, in file order."""
    folder = tmp_path / "in"
    write_export(folder, [*directory(), *quarter_of_methadone("A")])
    lines = [json.dumps(patient("A", gp="Practitioner/pcp1")).encode(),
             json.dumps(patient("C", name="Peña"), ensure_ascii=False).encode("cp1252"),
             json.dumps(patient("B")).encode(),
             json.dumps(patient("D")).encode()[:-1] + b",}"]  # fmt: skip
    (folder / "Patient.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    code, out, quality = run(folder, capsys)
    assert quality["malformed_lines"] == 2
    assert quality["malformed_lines_named"] == {
        "Patient.ndjson line 2: not UTF-8": 1,
        "Patient.ndjson line 4: not JSON": 1,
    }


def test_a_clean_file_is_read_once_and_a_file_with_an_unnamed_line_once_more(tmp_path, monkeypatch):
    """Naming costs nothing for a file with no malformed line: only a file the engines found a line in that the first
    reading did not name is read again, to name it."""
    folder = export_with_a_trailing_comma(tmp_path)
    found = ndjson_files(folder)
    opened: list[str] = []
    real = inputs._opened
    monkeypatch.setattr(inputs, "_opened", lambda path: opened.append(path.name) or real(path))
    prepared = inputs.prepare_inputs(found, tmp_path / "work")
    assert sorted(opened) == sorted(path.name for path in found)
    opened.clear()
    engine = inputs.Quality()
    (fills,) = [path for path in prepared.paths if prepared.name_of(path) == "MedicationDispense.ndjson"]
    prepared.count_malformed(engine, [(fills, 1)])  # as the engines count it
    prepared.name_malformed_lines(engine)
    assert opened == ["MedicationDispense.ndjson"]
    assert dict(prepared.quality.malformed_lines_named) == {"MedicationDispense.ndjson line 2: not JSON": 1}


# ---- (c) a damaged gzip file is decompressed once ------------------------------------------------------------------


def _gzip_export(tmp_path: Path, cut: bool) -> tuple[Path, list[bytes]]:
    """A HealthLake-style gzip file of 3,000 Patients with a Windows-1252 name on line 2,001 and, if `cut`, its
    download interrupted; and the lines the engines should read of it."""
    folder = tmp_path / "in"
    folder.mkdir()
    good = [json.dumps(patient(f"p{n}")).encode() for n in range(3000)]
    bad = json.dumps(patient("C", name="Peña"), ensure_ascii=False).encode("cp1252")
    packed = gzip.compress(b"\n".join([*good[:2000], bad, *good[2000:]]) + b"\n")
    (folder / "Patient-0.ndjson.gz").write_bytes(packed[: len(packed) * 3 // 4] if cut else packed)
    return folder, good


def _never_again(*_: object) -> None:
    raise AssertionError("the file's start was decompressed a second time")


def test_a_gzip_file_with_a_bad_line_is_decompressed_once(tmp_path, monkeypatch):
    folder, good = _gzip_export(tmp_path, cut=False)
    monkeypatch.setattr(inputs, "_copy_decompressed", _never_again)
    prepared = inputs.prepare_inputs(ndjson_files(folder), tmp_path / "work")
    assert Path(prepared.paths[0]).read_bytes() == b"\n".join(good) + b"\n"
    assert dict(prepared.quality.malformed_lines_named) == {"Patient-0.ndjson.gz line 2,001: not UTF-8": 1}


def test_a_cut_off_gzip_download_is_decompressed_once(tmp_path, monkeypatch):
    folder, good = _gzip_export(tmp_path, cut=True)
    monkeypatch.setattr(inputs, "_copy_decompressed", _never_again)
    prepared = inputs.prepare_inputs(ndjson_files(folder), tmp_path / "work")
    copied = Path(prepared.paths[0]).read_bytes().splitlines()
    assert copied == good[: len(copied)] and 2000 < len(copied) < 3000  # every whole line before the cut
    (cut,) = prepared.quality.input_files_not_read
    assert cut.startswith("Patient-0.ndjson.gz: read in part: cut off or corrupt after line")
    assert prepared.quality.malformed_lines_by_file == {"Patient-0.ndjson.gz": 1}


def test_a_whole_gzip_file_leaves_no_copy_and_the_engines_read_the_file(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "Patient-0.ndjson.gz").write_bytes(gzip.compress(b"".join(json.dumps(patient("A")).encode() + b"\n"
                                                                       for _ in range(10))))  # fmt: skip
    prepared = inputs.prepare_inputs(ndjson_files(folder), tmp_path / "work")
    assert [Path(p).name for p in prepared.paths] == ["00001.ndjson.gz"]
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["00001.ndjson.gz"]


def test_past_the_spool_a_damaged_gzip_file_is_still_copied_whole(tmp_path, monkeypatch):
    """A gzip file larger, decompressed, than the copy kept while reading it: its start is decompressed again, and
    the copy is the same."""
    monkeypatch.setattr(inputs, "SPOOL_BYTES", 4096)
    folder, good = _gzip_export(tmp_path, cut=False)
    prepared = inputs.prepare_inputs(ndjson_files(folder), tmp_path / "work")
    assert Path(prepared.paths[0]).read_bytes() == b"\n".join(good) + b"\n"


def test_reading_again_stops_at_the_last_line_to_name(tmp_path, monkeypatch):
    """A 3,000-line file whose one malformed line is line 2: read again only up to it, not through to its end."""
    folder = tmp_path / "in"
    folder.mkdir()
    lines = [json.dumps(patient(f"p{n}")) for n in range(3000)]
    lines[1] = lines[1][:-1] + ",}"
    (folder / "Patient.ndjson").write_text("\n".join(lines) + "\n")
    prepared = inputs.prepare_inputs(ndjson_files(folder), tmp_path / "work")
    engine = inputs.Quality()
    prepared.count_malformed(engine, [(prepared.paths[0], 1)])
    judged: list[str] = []
    real = inputs.parsed_keys  # how reading again judges a line (one parse, its keys)
    monkeypatch.setattr(inputs, "parsed_keys", lambda line: judged.append(line) or real(line))
    prepared.name_malformed_lines(engine)
    assert dict(prepared.quality.malformed_lines_named) == {"Patient.ndjson line 2: not JSON": 1}
    assert len(judged) == 2


# ---- the export's own error files ------------------------------------------------------------------------------------


def test_error_files_the_exports_server_listed_are_named_and_exit_3(tmp_path, capsys):
    """A Bulk Data server lists in its manifest's `error` the OperationOutcome files of resources it could not export:
    the export is missing them, so the review is partial, whether it downloaded the export now or earlier (PainPlan's
    saved state keeps the manifest). Before: a progress note, hidden by --quiet, and status 0."""
    folder = tmp_path / "in"
    write_export(folder, [*directory(), patient("A", gp="Practitioner/pcp1"), *quarter_of_methadone("A")])
    state = {
        "url": "https://fhir.example.org/Group/members/$export",
        "status_url": "https://fhir.example.org/bulkstatus/7",
        "downloaded": [],
        "manifest": {
            "transactionTime": "2026-04-02T00:00:00Z",
            "requiresAccessToken": True,
            "output": [{"type": "Patient", "url": "https://fhir.example.org/files/1"}],
            "error": [{"type": "OperationOutcome", "url": "https://fhir.example.org/files/err1?sig=abc"}],
        },
    }
    (folder / ".export-state.json").write_text(json.dumps(state))
    code, lines, quality = run(folder, capsys)
    assert code == 3
    assert list(quality["input_files_not_read"]) == [
        "export error file 1 of 1 (.export-errors/0001.OperationOutcome.ndjson): "
        "the server listed resources it could not export (OperationOutcome), not downloaded"
    ]
    assert "sig=abc" not in "\n".join(lines)  # a signed URL is a credential: never printed


# ---- reading a file again says so -----------------------------------------------------------------------------------


def test_reading_a_file_again_to_name_its_lines_prints_a_progress_line_unless_quiet(tmp_path, capsys):
    """The re-read after the engines runs serially over a file that may be gigabytes: a progress line names it, as
    the other stages' do, and --quiet silences it as it silences them."""
    folder = export_with_a_trailing_comma(tmp_path)
    out = tmp_path / "out"
    args = ["population", str(folder), "--out", str(out), "--period", "2026-01-01/2026-03-31", "--today", "2026-04-15",
            "--workers", "1"]  # fmt: skip
    assert main(args) == 4
    said = "name: reading MedicationDispense.ndjson again to name its malformed lines by number"
    assert said in capsys.readouterr().err.splitlines()
    assert main([*args, "--quiet"]) == 4
    assert capsys.readouterr().err == ""
