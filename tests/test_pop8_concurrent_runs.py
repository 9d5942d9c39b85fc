"""Two `painplan population` runs of the same `--out` at once (a scheduler's retry beside a run still going, two
analysts). Before, both ran to the end: each wrote its own hidden folder, the first to finish was put at `--out`,
and the second then swapped it out and deleted it, each ending with its usual status and a summary saying it had
written `--out` (and two `--export` runs downloaded into one `--out/export` together). Now a run holds a lock beside
`--out` (`.<name>.lock`, released by the system when its process ends, killed or not) for its whole life, the
`--export` download included; a second run refuses before reading or downloading anything, with exit status 6 and a
line naming the other run's process and host, and touches neither `--out` nor the other's folder."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from test_pop5_stale_run_folders import export, hidden, run

from smart_app.cli import main
from smart_app.population.command import RUN_GOING
from smart_app.population.run_folder import run_folder

ROOT = Path(__file__).resolve().parent.parent
# A run in another process, stopped partway through writing its outputs (as it is while it evaluates).
WRITER = """
import sys, time
from pathlib import Path
from smart_app.population.run_folder import run_folder
with run_folder(Path(sys.argv[1])) as folder:
    (folder / "patients.csv").write_text("patient_id\\nFIRST\\n")
    print(folder, flush=True)
    time.sleep(600)
"""


def going(out: Path) -> tuple[subprocess.Popen, Path]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(out)], stdout=subprocess.PIPE, text=True, env=env)
    return process, Path(process.stdout.readline().strip())  # type: ignore[union-attr]


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_a_second_run_of_the_same_out_refuses_naming_the_run_going(tmp_path, capsys):
    out = tmp_path / "runs" / "2026q1"
    with run_folder(out) as folder:  # a whole earlier run at --out
        (folder / "patients.csv").write_text("patient_id\nEARLIER\n")
    first, folder = going(out)
    try:
        assert run(export(tmp_path / "in"), out) == RUN_GOING == 6
        err = capsys.readouterr().err
        assert (
            f"painplan population: not run (exit status 6): another run of {out} is going (process {first.pid} on "
            f"{socket.gethostname()}, since "
        ) in err
        assert f"nothing of this run was done; {out} and that run's folder are left as they are" in err
        assert (folder / "patients.csv").read_text() == "patient_id\nFIRST\n"  # the other's folder untouched
        assert (out / "patients.csv").read_text() == "patient_id\nEARLIER\n"  # --out as it was
        assert hidden(out.parent) == [".2026q1.lock", folder.name]
    finally:
        stop(first)
    # Killed outright, the first run's lock goes with its process: the next run is not refused.
    assert run(export(tmp_path / "in"), out) == 0
    assert (out / "data-quality.json").is_file() and hidden(out.parent) == []  # its lock taken, and removed after


def test_the_lock_is_taken_before_an_export_is_downloaded(tmp_path, capsys):
    """`--export` downloads into `--out/export`: a second run would download into the first's files. It is refused
    before any server is asked (nothing is configured to ask one: reaching it would end with status 2)."""
    out = tmp_path / "runs" / "2026q1"
    first, _ = going(out)
    try:
        code = main(["population", "--export", "https://payer.example.org/fhir/Group/husky-q1/$export",
                     "--out", str(out), "--quiet"])  # fmt: skip
        assert code == RUN_GOING
        assert f"process {first.pid} on {socket.gethostname()}" in capsys.readouterr().err
        assert not out.exists()
    finally:
        stop(first)


def test_a_link_to_out_is_the_same_out(tmp_path, capsys):
    out = tmp_path / "runs" / "2026q1"
    out.mkdir(parents=True)
    link = tmp_path / "current"
    link.symlink_to(out)
    first, _ = going(out)
    try:
        assert run(export(tmp_path / "in"), link) == RUN_GOING
        assert f"another run of {link} is going (process {first.pid}" in capsys.readouterr().err
    finally:
        stop(first)


def test_the_lock_names_this_run_while_it_goes_and_one_process_may_take_it_again(tmp_path):
    out = tmp_path / "runs" / "2026q1"
    with run_folder(out):
        owner = json.loads((out.parent / ".2026q1.lock").read_text())
        assert (owner["host"], owner["pid"]) == (socket.gethostname(), os.getpid())
        assert owner["since"].endswith("Z")
    assert not (out.parent / ".2026q1.lock").exists()
    with run_folder(out), run_folder(tmp_path / "runs" / "2026q2"):
        assert sorted(p.name for p in out.parent.glob(".*.lock")) == [".2026q1.lock", ".2026q2.lock"]
