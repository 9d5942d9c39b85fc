"""A run's outputs appear together or not at all: the run is written into a fresh hidden folder beside `--out` and
swapped in only when whole, so a run that fails (exit status 5) leaves the previous run's folder exactly as it was,
never new measures beside old letters, and a run that succeeds leaves no letter of the run before it."""

from __future__ import annotations

import errno
import json
import os
from datetime import date
from pathlib import Path

import pytest
from synthetic_export import dispense, organization, patient, practitioner, write_export

from guideline.config import GuidelineConfig
from guideline.population import Period
from smart_app.cli import main
from smart_app.population import letters, outputs, run_folder
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files
from smart_app.population.runs import find_runs
from smart_app.population.spark_engine import java_missing_reason

METHADONE_10 = ("864706", "methadone hydrochloride 10 MG Oral Tablet")
PERIOD = "2026-01-01/2026-03-31"


def high_dose_export(folder: Path, who: str, pcp: str) -> Path:
    """One patient on 141 MME/day methadone (OHD's numerator: a letter to their PCP), as an Epic export sends it."""
    write_export(
        folder,
        [
            practitioner(pcp, f"Dr. {pcp.title()}"),
            practitioner("er-doc", "Dr. Emma Room"),
            organization("ph1"),
            patient(who, gp=f"Practitioner/{pcp}"),
            dispense(f"{who}-1", who, METHADONE_10, "2026-01-05", 90, 30, "er-doc", "ph1"),
            dispense(f"{who}-2", who, METHADONE_10, "2026-02-04", 90, 30, "er-doc", "ph1"),
        ],
    )
    return folder


def run(folder: Path, out: Path, engine: str = "duckdb") -> int:
    engine_args = ["--engine", "spark", "--master", "local[1]"] if engine == "spark" else ["--workers", "1"]
    return main(["population", str(folder), "--out", str(out), "--period", PERIOD, "--today", "2026-04-15",
                 "--quiet", *engine_args])  # fmt: skip


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def disk_fills_at(monkeypatch, name: str) -> None:
    """The disk fills while one letter's PDF is written (after the tables and data-quality.json are written whole)."""
    real = letters._write_one

    def write_one(letter, period, config, folder):
        if letter.file_stem == name:
            raise outputs.OutputNotWritten(str(folder / f"{name}.pdf"), os.strerror(errno.ENOSPC))
        return real(letter, period, config, folder)

    monkeypatch.setattr(letters, "_write_one", write_one)


ENGINES = [
    "duckdb",
    pytest.param(
        "spark", marks=pytest.mark.skipif(java_missing_reason() is not None, reason=java_missing_reason() or "")
    ),
]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_run_that_fails_leaves_the_previous_run_whole_and_unmixed(tmp_path, monkeypatch, capsys, engine):
    """Quarter one's run wrote pcp1's letter; the rerun on a corrected export (patient B, pcp2's) fills the disk at
    pcp2's letter. Before, the folder then held the new measures and data-quality.json beside pcp1's old letter:
    a mix read as one run. Now it holds the first run, byte for byte, and nothing of the second."""
    out = tmp_path / "runs" / "2026q1"
    assert run(high_dose_export(tmp_path / "first", "A", "pcp1"), out, engine) == 0
    (out / "notes.txt").write_text("the analyst's notes on this quarter")  # not a run output: kept
    before = snapshot(out)
    assert "letters/pcp1.html" in before
    capsys.readouterr()
    disk_fills_at(monkeypatch, "pcp2")
    assert run(high_dose_export(tmp_path / "second", "B", "pcp2"), out, engine) == 5
    assert snapshot(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["2026q1"]  # no hidden half-run left beside it
    err = capsys.readouterr().err
    # Named by the output's own place, never by the hidden folder the run was written in.
    assert f"not written (exit status 5): {out / 'letters' / 'pcp2.pdf'}: No space left on device" in err
    assert f"nothing of this run was put in place: {out} holds the previous run, as it was" in err


def test_a_first_run_that_fails_leaves_no_output_folder(tmp_path, monkeypatch, capsys):
    out = tmp_path / "runs" / "2026q1"
    disk_fills_at(monkeypatch, "pcp1")
    assert run(high_dose_export(tmp_path / "in", "A", "pcp1"), out) == 5
    assert not out.exists() and list(out.parent.iterdir()) == []
    assert f"nothing of this run was put in place: {out} was not created" in capsys.readouterr().err


@pytest.mark.parametrize("one_step", [True, False], ids=["exchanged", "two-renames"])
def test_a_rerun_replaces_the_whole_run_and_keeps_what_is_not_an_output(tmp_path, monkeypatch, one_step):
    """A clinician whose patients no longer meet a criterion has no letter left from the run before (it stayed,
    listed on the dashboard beside the new run's letters); a downloaded export and the analyst's files stay. Alike
    where the folders are swapped in one step and where the file system cannot (two renames)."""
    if not one_step:
        monkeypatch.setattr(run_folder, "_renameat2", None)
    out = tmp_path / "2026q1"
    assert run(high_dose_export(tmp_path / "first", "A", "pcp1"), out) == 0
    (out / "export").mkdir()
    (out / "export" / ".export-state.json").write_text("{}")
    (out / "notes.txt").write_text("notes")
    mode = 0o750
    out.chmod(mode)
    assert run(high_dose_export(tmp_path / "second", "B", "pcp2"), out) == 0
    listed = sorted(p.name for p in (out / "letters").iterdir())
    assert listed == ["index.html", "pcp2.html", "pcp2.pdf", "recipients.json"]
    assert (out / "export" / ".export-state.json").read_text() == "{}" and (out / "notes.txt").read_text() == "notes"
    assert os.stat(out).st_mode & 0o777 == mode  # the folder's permissions are the earlier folder's
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026q1", "first", "second"]


def test_the_run_swapped_in_is_the_one_the_dashboard_reads_and_hidden_folders_are_not_runs(tmp_path):
    """A run being written (or one a killed process left) is a hidden folder beside the runs: never a run listed."""
    root = tmp_path / "runs"
    assert run(high_dose_export(tmp_path / "in", "A", "pcp1"), root / "2026q1") == 0
    hidden = root / ".2026q1.partial-123-abcd"
    hidden.mkdir()
    for name in ("data-quality.json", "measures.parquet"):
        (hidden / name).write_bytes((root / "2026q1" / name).read_bytes())
    runs, unreadable = find_runs(root)
    assert [r.name for r in runs] == ["2026q1"] and unreadable == []


def test_review_writes_through_a_hidden_folder_and_names_outputs_by_their_place(tmp_path, monkeypatch):
    """The function both engines' runs go through writes each output inside a hidden folder beside `--out`, which is
    put at `--out` when the run is whole."""
    seen: list[Path] = []
    real = outputs.write_whole

    def spy(path: Path, text: str) -> None:
        seen.append(path)
        real(path, text)

    monkeypatch.setattr("smart_app.population.tables.write_whole", spy)
    out = tmp_path / "out"
    review(
        ndjson_files(high_dose_export(tmp_path / "in", "A", "pcp1")),
        out,
        Period.parse(PERIOD),
        date(2026, 4, 15),
        GuidelineConfig.from_mapping(),
        workers=1,
    )
    (written,) = seen
    assert written.name == "data-quality.json" and written.parent.parent == tmp_path
    assert written.parent.name.startswith(".out.partial-")
    assert (out / "data-quality.json").exists() and not written.parent.exists()


def test_a_run_that_cannot_be_swapped_in_leaves_the_previous_folder_as_it_was(tmp_path, monkeypatch, capsys):
    """The new run is whole but cannot be put in place: what was carried into it goes back, and it is removed."""
    out = tmp_path / "2026q1"
    assert run(high_dose_export(tmp_path / "first", "A", "pcp1"), out) == 0
    (out / "export").mkdir()
    (out / "export" / "Patient.ndjson").write_text("{}\n")
    before = snapshot(out)
    capsys.readouterr()

    def busy(new: Path, place: Path) -> None:
        raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))

    monkeypatch.setattr(run_folder, "exchange", busy)
    assert run(high_dose_export(tmp_path / "second", "B", "pcp2"), out) == 5
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026q1", "first", "second"]
    err = capsys.readouterr().err
    assert f"{out}: could not be put in place (Device or resource busy)" in err


def test_the_dashboard_never_reads_one_run_s_rates_with_another_s_data_quality(tmp_path, monkeypatch):
    """A run swapped in while the dashboard reads the folder (its data-quality.json read, its measures not yet):
    the folder is read again, so the rates and the counts shown are of one run."""
    import pyarrow.parquet as pq

    from smart_app.population import runs

    root = tmp_path / "runs"
    assert run(high_dose_export(tmp_path / "first", "A", "pcp1"), root / "2026q1") == 0
    second = high_dose_export(tmp_path / "second", "B", "pcp2")
    write_export(second / "more", [patient("C", gp="Practitioner/pcp2")])  # the rerun's export holds one more member
    assert run(second, tmp_path / "next") == 0
    real = pq.read_table
    swapped: list[bool] = []

    def swap_while_reading(source, *args, **kwargs):
        if not swapped:
            swapped.append(True)
            run_folder.exchange(tmp_path / "next", root / "2026q1")  # what a rerun does when it is whole
        return real(source, *args, **kwargs)

    monkeypatch.setattr(pq, "read_table", swap_while_reading)
    shown = runs.read_run(root / "2026q1")
    assert isinstance(shown, runs.Run)
    units = {r["unit"] for r in shown.measures if r["level"] == "pcp"}
    assert units == {"pcp2"} and shown.quality["resources_by_type"]["Patient"] == 2
    assert "B" in (root / "2026q1" / "patients.csv").read_text()
    assert shown.quality == json.loads((root / "2026q1" / "data-quality.json").read_text())
