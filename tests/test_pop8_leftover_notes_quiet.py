"""The notes naming hidden folders beside `--out` that a run keeps because it cannot prove their run dead (a folder
naming no run, another host's run on a shared file system, a dead run's holding a file `--out` holds too) are
data-safety warnings, not progress: printed on stderr under `--quiet` too. Before, `--quiet` (as a scheduler runs the
review) hid them with the progress lines, so a folder holding a whole run's outputs and working database, or an
analyst's notes, stayed beside `--out` with nothing said. A folder naming another host's run is now named as well
(it was kept with nothing said, quiet or not)."""

from __future__ import annotations

import json
from pathlib import Path

from test_pop5_stale_run_folders import export, hidden, run
from test_pop7_leftover_run_folders import killed_at, previous_run

from smart_app.population.run_folder import OWNER_FILE


def test_a_folder_naming_no_run_is_named_on_stderr_under_quiet(tmp_path, capsys):
    out = tmp_path / "runs" / "2026q1"
    (out.parent / ".2026q1.partial-2-bbbbbb" / ".work").mkdir(parents=True)
    assert run(export(tmp_path / "in"), out) == 0  # run() passes --quiet
    assert hidden(out.parent) == [".2026q1.partial-2-bbbbbb"]
    err = capsys.readouterr().err
    assert f"kept: {out.parent / '.2026q1.partial-2-bbbbbb'}: names no run" in err
    assert "check:" not in err and "evaluate:" not in err  # the progress lines stay hidden


def test_a_dead_runs_folder_holding_an_analysts_file_is_named_under_quiet(tmp_path, capsys):
    out = tmp_path / "runs" / "2026q1"
    previous_run(out)
    killed_at(out, "carried")
    (out / "notes.txt").write_text("Q1, again\n")
    (left,) = (name for name in hidden(out.parent) if name != ".2026q1.lock")  # the killed run's lock left too
    assert run(export(tmp_path / "in"), out) == 0
    assert f"kept: {out.parent / left}: a dead run's, holding notes.txt" in capsys.readouterr().err


def test_another_hosts_run_folder_is_kept_and_named_under_quiet(tmp_path, capsys):
    out = tmp_path / "runs" / "2026q1"
    folder = out.parent / ".2026q1.partial-7-aaaaaa"
    folder.mkdir(parents=True)
    (folder / OWNER_FILE).write_text(json.dumps({"host": "batch-node-7.payer.example", "pid": 4242, "started": 1}))
    assert run(export(tmp_path / "in"), out) == 0
    assert hidden(out.parent)[-1] == folder.name
    assert (
        f"kept: {folder}: a run of process 4242 on batch-node-7.payer.example, another host, whose end this host "
        "cannot see; delete it by hand when no run of this --out is going"
    ) in capsys.readouterr().err


def test_review_called_without_progress_still_names_what_it_keeps(tmp_path, capsys):
    from test_population_measures import PERIOD, TODAY

    from guideline.config import GuidelineConfig
    from smart_app.population.command import review
    from smart_app.population.inputs import ndjson_files

    out = tmp_path / "runs" / "2026q1"
    (out.parent / ".2026q1.previous-3-cccccc").mkdir(parents=True)
    review(ndjson_files(export(tmp_path / "in")), out, PERIOD, TODAY, GuidelineConfig.from_mapping(), workers=1)
    assert f"kept: {out.parent / '.2026q1.previous-3-cccccc'}: names no run" in capsys.readouterr().err
    assert Path(out / "data-quality.json").is_file()
