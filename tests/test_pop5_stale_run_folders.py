"""A run killed outright (`kill -9`, power loss) leaves its hidden folder beside `--out`. The next run removes such a
folder when it can prove its run dead: the folder names its process and host (`.painplan-run`), and on this host
that process is gone (or is another process that took its number since). A live concurrent run's folder, a folder
of another host's run (a shared file system) and one that names no run are kept. Before, every one was left."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from synthetic_export import OXYCODONE_5, dispense, organization, patient, practitioner, write_export

from smart_app.cli import main
from smart_app.population.run_folder import OWNER_FILE

ROOT = Path(__file__).resolve().parent.parent
WRITER = """
import sys, time
from pathlib import Path
from smart_app.population.run_folder import run_folder
with run_folder(Path(sys.argv[1])) as folder:
    (folder / "patients.csv").write_text("patient_id\\n")
    print(folder, flush=True)
    time.sleep(600)
"""


def started_run(out: Path) -> tuple[subprocess.Popen, Path]:
    """A run in another process, stopped partway through writing its outputs: its hidden folder."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(out)], stdout=subprocess.PIPE, text=True, env=env)
    return process, Path(process.stdout.readline().strip())  # type: ignore[union-attr]


def export(folder: Path) -> Path:
    return write_export(folder, [practitioner("pcp1"), organization("ph1"), patient("A", gp="Practitioner/pcp1"),
                                 dispense("A-1", "A", OXYCODONE_5, "2026-01-05", 90, 30, "pcp1", "ph1")])  # fmt: skip


def run(folder: Path, out: Path) -> int:
    return main(["population", str(folder), "--out", str(out), "--period", "2026-01-01/2026-03-31",
                 "--today", "2026-04-15", "--workers", "1", "--quiet"])  # fmt: skip


def hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_the_folder_of_a_run_killed_outright_is_removed_by_the_next_run(tmp_path):
    out = tmp_path / "runs" / "2026q1"
    process, left = started_run(out)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert left.is_dir() and (left / OWNER_FILE).is_file()
    assert run(export(tmp_path / "in"), out) == 0
    assert hidden(out.parent) == [] and (out / "data-quality.json").is_file()
    assert not (out / OWNER_FILE).exists()  # the run's own marker is not among its outputs


def test_a_live_concurrent_run_s_folder_is_kept(tmp_path):
    """The second run refuses (exit status 6, test_pop8_concurrent_runs); before, it ran and kept this folder."""
    out = tmp_path / "runs" / "2026q1"
    process, live = started_run(out)
    try:
        assert run(export(tmp_path / "in"), out) == 6
        assert hidden(out.parent) == [".2026q1.lock", live.name]
        assert (live / "patients.csv").read_text() == "patient_id\n"
    finally:
        process.kill()
        process.wait()


def test_folders_that_cannot_be_proved_dead_are_kept_and_a_reused_process_number_is_no_proof_of_life(tmp_path):
    out = tmp_path / "runs" / "2026q1"
    out.parent.mkdir(parents=True)
    here = socket.gethostname()

    def left(name: str, owner: dict | None) -> None:
        (out.parent / name).mkdir()
        if owner is not None:
            (out.parent / name / OWNER_FILE).write_text(json.dumps(owner))

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(done.stdout)
    left(".2026q1.partial-1-aaaaaa", {"host": "batch-node-7.payer.example", "pid": dead, "started": 1})
    left(".2026q1.partial-2-bbbbbb", None)  # a run of an earlier version, or one killed before it wrote its marker
    # This very process's number, under a start time it does not have: a process that took a dead run's number.
    left(".2026q1.partial-3-cccccc", {"host": here, "pid": os.getpid(), "started": 1})
    left(".2026q2.partial-4-dddddd", {"host": here, "pid": dead, "started": 1})  # another --out's: not this run's
    assert run(export(tmp_path / "in"), out) == 0
    assert hidden(out.parent) == [".2026q1.partial-1-aaaaaa", ".2026q1.partial-2-bbbbbb", ".2026q2.partial-4-dddddd"]
