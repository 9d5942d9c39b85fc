"""`painplan population`: run the review over an export folder (or a live Bulk Data export) and write the outputs."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from guideline.config import ConfigError
from guideline.population import Period, PopulationError
from guideline.population.enrolment import enrolment_not_checked
from guideline.population.summary import lookback_not_reached
from guideline.population.unchecked import not_checked
from guideline.words import number_of
from smart_app.population.inputs import InputFolder, ndjson_files, not_held, prepare_inputs
from smart_app.population.outputs import OutputNotWritten
from smart_app.population.progress import Progress
from smart_app.population.run_folder import RunGoing, only_run, run_folder
from smart_app.population.worker import EXPECTED_TYPES, WITHOUT_PATIENT


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", nargs="?", help="folder of Bulk Data NDJSON files (.ndjson, .jsonl, .gz, sub-folders)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--period", default=None, help="START/END (default: the last complete quarter before --today)")
    parser.add_argument("--today", default=None, help="YYYY-MM-DD (default: today)")
    parser.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    parser.add_argument("--master", default=None, help="Spark master URL (default local[*])")
    parser.add_argument("--workers", type=int, default=None, help="DuckDB engine: worker processes (default: CPUs)")
    parser.add_argument("--config", default=None, help="TOML configuration file")
    parser.add_argument("--export", default=None, help="FHIR Group or Patient $export URL to download first")
    parser.add_argument(
        "--quiet", action="store_true", help="no progress lines (leftover run folders kept are still named on stderr)"
    )
    parser.add_argument(
        "--malformed-lines-ok",
        action="store_true",
        help=f"exit 0, not {LINES_NOT_READ}, when every input file was read but some lines were not (still named)",
    )


def _usage(message: str) -> int:
    print(f"painplan population: {message}", file=sys.stderr)
    return 2


# The run finished and wrote its outputs, but some input file could not be read, or only in part.
INPUT_NOT_READ = 3
# The run finished and wrote its outputs, and read every input file, but not every line of them (malformed lines).
LINES_NOT_READ = 4
# The run stopped: an output could not be written whole (a full disk, a read-only folder); none is left torn.
OUTPUT_NOT_WRITTEN = 5
# The run did not start: another run of the same --out is going (named); nothing was read, downloaded or written.
RUN_GOING = 6
# The most worker processes a run starts: each is forked at once and holds its own copy of the terminology, and the
# evaluation is CPU-bound, so more than the machine's CPUs gives no speed; far more exhausted the process table.
MAX_WORKERS = 256
_SHOWN = 10  # the files, and the lines, the closing line names: the summary and data-quality.json name the rest


def run_population(args: argparse.Namespace) -> int:
    """Exit 0 after a run that read every line of every input file (bad data in them is reported, not fatal); 3
    after a run that could not read some file, or read it only in part; 4 after one that read every file but not
    every line (0 with --malformed-lines-ok); 5 when an output could not be written whole; 6 when another run of
    the same --out is going (named); 2 for usage and configuration errors, which stop the run."""
    from smart_app.commands import command_settings

    try:
        settings = command_settings(args)  # --today read and checked as every command reads it, --period or not
        today = settings.today or date.today()
        period = Period.parse(args.period) if args.period else Period.last_quarter_before(today)
        if args.workers is not None and not 1 <= args.workers <= MAX_WORKERS:
            raise PopulationError(f"--workers must be from 1 to {MAX_WORKERS}, not {args.workers}")
        if args.engine != "spark" and args.master:
            raise PopulationError("--master applies only to --engine spark")
        if not args.out.strip():  # `--out "$OUT"` with OUT unset: Path("") is the working folder
            raise PopulationError("--out is empty: name the folder the outputs go to")
        if not args.input and not args.export:
            raise PopulationError("give an INPUT folder or --export URL")
        if args.input and Path(args.input).resolve() == Path(args.out).resolve():
            # The run's outputs would sit among the export's files, and every later run name them as input not read.
            raise PopulationError(
                f"--out {args.out} is INPUT: give the outputs a folder of their own (the next run would read them "
                "as input)"
            )
    except (ConfigError, PopulationError) as error:
        return _usage(str(error))
    out = Path(args.out)
    progress = Progress(quiet=args.quiet)
    try:
        with only_run(out):  # before the export's download too: it is written into --out
            return _run_alone(args, out, settings, period, today, progress)
    except RunGoing as error:
        print(
            f"painplan population: not run (exit status {RUN_GOING}): {error}; nothing of this run was done; {out} "
            "and that run's folder are left as they are; run this again when that run has finished",
            file=sys.stderr,
        )
        return RUN_GOING
    except OutputNotWritten as error:  # the lock beside --out could not be made
        print(
            f"painplan population: not written (exit status {OUTPUT_NOT_WRITTEN}): {error}; {_left(out)}",
            file=sys.stderr,
        )
        return OUTPUT_NOT_WRITTEN


def _run_alone(
    args: argparse.Namespace, out: Path, settings: Any, period: Period, today: date, progress: Progress
) -> int:
    """`run_population` once it is the only run of `out`."""
    try:
        if args.export:
            from smart_app.population.export import download_export

            input_dir = Path(args.input) if args.input else out / "export"
            download_export(args.export, input_dir, settings, progress)
        else:
            input_dir = Path(args.input)
        files = ndjson_files(input_dir, exclude=out)
    except (ConfigError, PopulationError) as error:
        return _usage(str(error))
    from smart_app.population.export import error_files_among, saved_export

    # What the export's server said it could not export is missing from the review as a file not read would be,
    # whichever client saved its error files.
    (saved, reported), among = saved_export(input_dir), error_files_among(input_dir, files)
    files = replace(
        files,
        not_read=files.not_read + saved.not_read + reported.not_read + among.not_read,
        export_warnings=reported.warnings + among.warnings,
        manifests=files.manifests + saved.manifests,
    )
    try:
        summary = review(
            files, out, period, today, settings.guideline, args.engine, args.master, args.workers, progress
        )
    except OutputNotWritten as error:
        print(
            f"painplan population: not written (exit status {OUTPUT_NOT_WRITTEN}): {error}; {_left(out)}",
            file=sys.stderr,
        )
        return OUTPUT_NOT_WRITTEN
    code = exit_status(summary, args.malformed_lines_ok)
    for line in [*summary, closing_line(summary, code, args.malformed_lines_ok)]:
        print(line)
    return code


def _left(out: Path) -> str:
    """What a run that stopped left at `out`: nothing of its own (its outputs are put in place together or not)."""
    if (out / "data-quality.json").exists():
        kept = f"{out} holds the previous run, as it was"
    else:
        kept = f"{out} holds no run" if out.exists() else f"{out} was not created"
    return f"nothing of this run was put in place: {kept}"


class RunSummary(list[str]):
    """The end-of-run summary lines, and what of the input was not read: files (not read, or read only in part),
    each named, and malformed lines, the first of them named by file and line."""

    inputs_not_read: list[str]
    lines_not_read: int = 0
    lines_named: list[str]

    def __init__(self, lines: Sequence[str] = ()) -> None:
        super().__init__(lines)
        self.inputs_not_read = []
        self.lines_named = []


def exit_status(summary: RunSummary, malformed_lines_ok: bool = False) -> int:
    """The command's exit status for a run that finished (see run_population)."""
    if summary.inputs_not_read:
        return INPUT_NOT_READ
    if summary.lines_not_read and not malformed_lines_ok:
        return LINES_NOT_READ
    return 0


def closing_line(summary: RunSummary, code: int, malformed_lines_ok: bool = False) -> str:
    """The command's last line: that every line of every input file was read, or what was not, with the exit status,
    so a log's last line tells a whole review from a partial one."""
    if not summary.inputs_not_read and not summary.lines_not_read:
        return "read: every line of every input file"
    parts = []
    if summary.inputs_not_read:
        parts.append(_listed(len(summary.inputs_not_read), "input file", summary.inputs_not_read))
    if summary.lines_not_read:
        parts.append(_listed(summary.lines_not_read, "line", summary.lines_named))
    status = f"{code}: --malformed-lines-ok" if code == 0 and malformed_lines_ok else str(code)
    return f"not read (exit status {status}): " + "; ".join(parts)


def _listed(count: int, noun: str, named: Sequence[str]) -> str:
    """ "2 lines (Patient.ndjson line 2: not UTF-8, …, and 3 more)": the count, and the first few named."""
    shown = list(named[:_SHOWN])
    more = count - len(shown)
    if more > 0 and shown:
        shown.append(f"and {more:,} more")
    words = number_of(count, noun)
    return f"{words} ({', '.join(shown)})" if shown else words


def review(
    files: InputFolder | Sequence[Path],
    out: Path,
    period: Period,
    today: date,
    config: Any,
    engine: str = "duckdb",
    master: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> RunSummary:
    """The whole run; returns the end-of-run summary lines. `files` is an input folder's (ndjson_files), or a list
    of files, named in the outputs by their own names."""
    progress = progress or Progress(quiet=True)
    # Every output put at `out` together, or none of them; the hidden folders it keeps beside `out` are named on
    # stderr even under --quiet: a scheduler's log is where someone finds them.
    with run_folder(out, progress.warn) as folder:
        return _review_into(folder, files, out, period, today, config, engine, master, workers, progress)


def _review_into(
    folder: Path,
    files: InputFolder | Sequence[Path],
    out: Path,
    period: Period,
    today: date,
    config: Any,
    engine: str,
    master: str | None,
    workers: int | None,
    progress: Progress,
) -> RunSummary:
    """The run written into `folder` (the hidden folder put at `out` when the run is whole)."""
    from smart_app.population.duckdb_engine import default_workers, run_duckdb
    from smart_app.population.export import server_outcomes
    from smart_app.population.letters import write_letters
    from smart_app.population.tables import write_outputs

    started = time.monotonic()
    workdir = folder / ".work"
    inputs = files if isinstance(files, InputFolder) else _as_folder(files)
    progress.begin("check", f"{len(inputs)} files")
    prepared = prepare_inputs(inputs, workdir / "inputs", progress.note)
    context_args = {"period": period, "today": today, "config": config}
    if engine == "spark":
        from smart_app.population.spark_engine import run_spark

        con, source, quality, directory, counts = run_spark(
            prepared, workdir, context_args, master or "local[*]", progress
        )
        used_workers = None
    else:
        used_workers = workers or default_workers()
        con, source, quality, directory, counts = run_duckdb(prepared, workdir, context_args, used_workers, progress)
    prepared.name_malformed_lines(
        quality, progress.note
    )  # before merging: the names of the file's lines are then settled
    quality.merge(prepared.quality)
    prepared.name_without_patient(quality)
    server_outcomes(prepared.sources, quality)
    quality.input_files_not_read.update(not_held(inputs, prepared.lines, quality.resources_by_type, EXPECTED_TYPES))
    earliest = date.fromisoformat(quality.medication_data_from) if quality.medication_data_from else None
    quality.lookback_not_reached.update(lookback_not_reached(period, earliest))
    unchecked = enrolment_not_checked(quality, config["population"]["enrolment"])
    # With no Coverage in the export every member in the measures is not stated: that count is the one line's.
    members_unchecked = quality.members_enrolment_not_stated if unchecked is not None else 0
    if unchecked is not None:  # no Coverage in the export: the one summary line says so, not a count of every member
        quality.members_enrolment_not_stated = 0
    progress.begin("write", str(out))
    run = {
        "period": f"{period.start}/{period.end}",
        "label": period.label,
        "today": today.isoformat(),
        "engine": engine,
        "workers": used_workers,
        "files": prepared.read,  # not a file that could not be opened when read: input_files_not_read names it
        # How the denominators read enrolment, and whether they could (the dashboard says so beside the rates).
        "enrolment": config["population"]["enrolment"],
        "enrolment_checked": unchecked is None,
        # What could not be checked, and why, in the summary's words (guideline.population.unchecked).
        "not_checked": not_checked(quality.to_json(), unchecked, members_unchecked),
    }
    measures = write_outputs(con, source, folder, quality, run, counts)
    patients = con.execute("SELECT count(*) FROM patients").fetchone()[0]
    letters = write_letters(con, measures, folder, period, config, directory, progress, workers or default_workers())
    con.close()
    shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.monotonic() - started
    overall = {r["measure"]: r for r in measures.to_pylist() if r["level"] == "overall"}
    said = f"{number_of(patients, 'cohort patient')}, {number_of(letters, 'letter')}"
    lines = RunSummary([f"{said}, {elapsed:.1f}s ({engine}) → {out}"])
    lines += [
        f"  {m}: {r['numerator']}/{r['denominator']}" + (f" = {r['rate']:.1%}" if r["rate"] is not None else "")
        for m, r in overall.items()
    ]
    problems = quality.summary_lines()
    if unchecked:  # before data quality's line, the summary's last
        lines.append(unchecked)
    lines.append("data quality: " + ("; ".join(problems) if problems else "nothing to report"))
    lines.inputs_not_read = list(quality.input_files_not_read)
    # A fill, or a record a measure reads, that no Patient reference names is a line not read, as a malformed line
    # is: the measures lack it (WITHOUT_PATIENT says which groups).
    unread = [group for group, (_, lost) in WITHOUT_PATIENT.items() if lost]
    lines.lines_not_read = quality.malformed_lines + sum(getattr(quality, f"{g}_by_file").total() for g in unread)
    lines.lines_named = [*quality.malformed_lines_named, *(n for g in unread for n in getattr(quality, f"{g}_named"))]
    return lines


def _as_folder(files: Sequence[Path]) -> InputFolder:
    """A plain list of files as an input folder: named by their own names (their folder when they share one)."""
    folders = {path.parent for path in files}
    return InputFolder(folders.pop() if len(folders) == 1 else Path("/"), tuple(files))
