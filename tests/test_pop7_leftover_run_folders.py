"""A run killed outright while its folder is being put in place leaves the previous run's outputs in a hidden folder
beside `--out`: the swapped-out `.partial-*` (killed after the exchange, before deleting them) or the `.previous-*`
of the two renames (killed between them, `--out` absent for that instant), and, killed once it had carried the
analyst's files (the `--export` download, notes) into its own folder, those files in its `.partial-*`. The next run
proves such a run dead as it proves any (`.painplan-run`: this host, the process gone), puts what is no run's output
back into `--out` (and `--out` itself back when it was absent), and removes the rest. Before, the swapped-out
folders were never removed, and a killed run's `.partial-*` was removed with the analyst's files in it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_pop5_stale_run_folders import export, hidden, run

from smart_app.cli import main
from smart_app.population.run_folder import OWNER_FILE, run_folder

ROOT = Path(__file__).resolve().parent.parent
# A run killed (SIGKILL, as by `kill -9` or the kernel's OOM killer) at one step of putting its folder in place.
KILLED = """
import os, shutil, signal, sys
from pathlib import Path
from smart_app.population import run_folder as rf

out, step = Path(sys.argv[1]), sys.argv[2]
place = out.resolve()


def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


real_rename = os.rename


def rename(source, target):
    real_rename(source, target)
    if step == "aside" and ".previous-" in Path(target).name:
        die()  # the previous run set aside, the new one not yet at --out
    if step == "swapped" and Path(target) == place and ".partial-" in Path(source).name:
        die()  # the new run at --out, the previous one still set aside


if step == "exchanged":
    shutil.rmtree = die  # the exchange done, the previous run's outputs not yet deleted
elif step == "carried":
    rf.exchange = die  # the analyst's files carried into the new run's folder, the exchange not yet made
else:
    rf._renameat2 = None  # a file system without RENAME_EXCHANGE: two renames
    os.rename = rename
with rf.run_folder(out) as folder:
    (folder / "patients.csv").write_text("patient_id\\nNEW\\n")
"""


def previous_run(out: Path) -> None:
    """A whole earlier run at `out`, with what an analyst keeps there: an `--export` download and notes."""
    with run_folder(out) as folder:
        (folder / "patients.csv").write_text("patient_id\nOLD\n")
    (out / "export").mkdir()
    (out / "export" / "Patient.ndjson").write_text("{}\n")
    (out / "notes.txt").write_text("Q1: ask the payer about the reversals\n")


def killed_at(out: Path, step: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", KILLED, str(out), step], env=env, timeout=120, check=False)
    assert done.returncode == -9  # killed at that step, not finished


def analysts_files_in_place(out: Path) -> bool:
    return (out / "notes.txt").read_text() == "Q1: ask the payer about the reversals\n" and (
        out / "export" / "Patient.ndjson"
    ).read_text() == "{}\n"


@pytest.mark.parametrize("step", ["exchanged", "carried", "aside", "swapped"])
def test_what_a_run_killed_while_putting_its_folder_in_place_left_is_cleaned_and_nothing_of_the_analysts_lost(
    tmp_path, step
):
    out = tmp_path / "runs" / "2026q1"
    previous_run(out)
    killed_at(out, step)
    assert hidden(out.parent)  # something was left beside --out
    assert run(export(tmp_path / "in"), out) == 0
    assert hidden(out.parent) == []
    assert (out / "data-quality.json").is_file() and not (out / OWNER_FILE).exists()
    assert analysts_files_in_place(out)


def test_out_set_aside_by_a_run_killed_between_the_two_renames_is_put_back(tmp_path):
    """`--out` absent (the previous run set aside, the killed run's never put there): the next run puts the previous
    run back first, so a run that then stops leaves `--out` as the last whole run left it."""
    out = tmp_path / "runs" / "2026q1"
    previous_run(out)
    killed_at(out, "aside")
    assert not out.exists()
    assert main(["population", str(tmp_path / "no-such-input"), "--out", str(out), "--quiet"]) == 2
    with run_folder(out) as folder:  # the next run's folder, made beside --out: the set-aside run is back first
        assert (out / "patients.csv").read_text() == "patient_id\nOLD\n" and analysts_files_in_place(out)
        (folder / "patients.csv").write_text("patient_id\nNEXT\n")
    assert hidden(out.parent) == [] and (out / "patients.csv").read_text() == "patient_id\nNEXT\n"


def test_a_hidden_folder_naming_no_run_is_kept_and_named(tmp_path, capsys):
    """An earlier version's run folder (no `.painplan-run`) cannot be proved dead: it is kept, and the run says so
    on stderr, with how to remove it."""
    out = tmp_path / "runs" / "2026q1"
    (out.parent / ".2026q1.partial-2-bbbbbb" / ".work").mkdir(parents=True)
    assert main(["population", str(export(tmp_path / "in")), "--out", str(out), "--period", "2026-01-01/2026-03-31",
                 "--today", "2026-04-15", "--workers", "1"]) == 0  # fmt: skip
    assert hidden(out.parent) == [".2026q1.partial-2-bbbbbb"]
    assert (
        f"kept: {out.parent / '.2026q1.partial-2-bbbbbb'}: names no run (one of an earlier version of PainPlan, or "
        "killed as it began), so it cannot be proved dead; delete it by hand when no run of this --out is going"
    ) in capsys.readouterr().err


def test_a_dead_runs_folder_holding_a_file_out_holds_too_is_kept_and_named(tmp_path, capsys):
    """A killed run had carried `notes.txt` into its folder, and `--out` has a `notes.txt` again since: neither is
    overwritten, the folder is kept, and the run names it and the file."""
    out = tmp_path / "runs" / "2026q1"
    previous_run(out)
    killed_at(out, "carried")
    (out / "notes.txt").write_text("Q1, again\n")
    (left,) = (name for name in hidden(out.parent) if name != ".2026q1.lock")  # the killed run's lock left too
    assert main(["population", str(export(tmp_path / "in")), "--out", str(out), "--period", "2026-01-01/2026-03-31",
                 "--today", "2026-04-15", "--workers", "1"]) == 0  # fmt: skip
    assert hidden(out.parent) == [left] and (out / "notes.txt").read_text() == "Q1, again\n"
    assert (out.parent / left / "notes.txt").read_text() == "Q1: ask the payer about the reversals\n"
    assert (out / "export" / "Patient.ndjson").read_text() == "{}\n"  # what could go back did
    assert (
        f"kept: {out.parent / left}: a dead run's, holding notes.txt, which could not be put back into --out (it "
        "holds one of that name): move or delete it by hand"
    ) in capsys.readouterr().err
