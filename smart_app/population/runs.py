"""Reading finished population runs from the output root (each run is one `--out` folder)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guideline.population import Period, PopulationError

RECIPIENTS = "recipients.json"  # in letters/: each letter's file name (no extension) → whom it is addressed to


@dataclass(frozen=True)
class Run:
    name: str  # the folder's name under the root
    folder: Path
    label: str
    period: str
    measures: list[dict[str, Any]]
    quality: dict[str, Any]

    @property
    def period_end(self) -> str:
        return self.period.partition("/")[2]

    def overall(self) -> dict[str, dict[str, Any]]:
        return {r["measure"]: r for r in self.measures if r["level"] == "overall"}

    def letters(self) -> Letters:
        """Each letter by file name, with whom it is to (letters/recipients.json), and why some or all are listed by
        file name instead."""
        folder = self.folder / "letters"
        if not folder.is_dir():
            return Letters((), None)
        stems = sorted(p.stem for p in folder.glob("*.html") if p.name != "index.html")
        names, unread = _recipients(folder / RECIPIENTS)
        listed = tuple((stem, _name(names.get(stem))) for stem in stems)
        return Letters(listed, _unnamed(listed, unread))


@dataclass(frozen=True)
class Letters:
    """A run's letters as the dashboard lists them, and what it says when it cannot name whom some are to."""

    # (file name without extension, whom it is to; None: listed by file name)
    listed: tuple[tuple[str, str | None], ...]
    unnamed: str | None  # why some or all are listed by file name (the export's ids); None when none is

    def __len__(self) -> int:
        return len(self.listed)


RECIPIENTS_SHOWN = f"letters/{RECIPIENTS}"  # as the page names it: by its place in the run's folder
_BY_FILE_NAME = "the list shows the letters' file names (the export's ids), not whom each is addressed to"


def _recipients(path: Path) -> tuple[dict[str, Any], str | None]:
    """letters/recipients.json's entries, or none and why: missing, or could not be read (and why not)."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, "is missing (a run written before PainPlan wrote it has none)"
    except UnicodeDecodeError:  # a ValueError too: named apart, as the fix differs
        return {}, "could not be read (not UTF-8)"
    except ValueError:
        return {}, "could not be read (not JSON)"
    except OSError as error:
        return {}, f"could not be read ({_why(error)})"
    if not isinstance(found, dict):
        return {}, "could not be read (not a JSON object)"
    return found, None


def _name(value: Any) -> str | None:
    """An entry of recipients.json as a name, or None for one that is no name (not text, or blank)."""
    return value if isinstance(value, str) and value.strip() else None


def _unnamed(listed: tuple[tuple[str, str | None], ...], unread: str | None) -> str | None:
    """What the page says of letters listed by file name: an id read as a name would pass for one."""
    if not listed:
        return None
    if unread is not None:
        return f"{RECIPIENTS_SHOWN} {unread}: {_BY_FILE_NAME}."
    count = sum(name is None for _, name in listed)
    if not count:
        return None
    letters = (
        "1 letter: it is listed by its file name (the export's id)"
        if count == 1
        else f"{count} letters: they are listed by their file names (the export's ids)"
    )
    return f'{RECIPIENTS_SHOWN} names no one for {letters}, marked "file name".'


@dataclass(frozen=True)
class UnreadableRun:
    """A folder that holds a run's files but cannot be shown: the dashboard names it rather than leave it out."""

    name: str
    reason: str


# What the dashboard reads of each measures row; a table without them is not a run this version can show.
MEASURE_COLUMNS = ("level", "unit", "measure", "denominator", "numerator", "rate")


def read_run(folder: Path) -> Run | UnreadableRun | None:
    """A finished run (data-quality.json and measures.parquet present and readable), an UnreadableRun for a folder
    with either file that cannot be read, or None for a folder that is not a run at all. A folder replaced by a
    rerun while it was read (the run's folder swapped in whole: run_folder) is read again, so the rates and the
    data-quality counts shown are always of one run."""
    for _ in range(3):
        before = _identity(folder)
        run = _read_files(folder)
        if _identity(folder) == before:
            return run
    return run


def _identity(folder: Path) -> tuple[int, int] | None:
    """Which folder is at this path now (a rerun puts a new folder there)."""
    try:
        stat = folder.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _read_files(folder: Path) -> Run | UnreadableRun | None:
    """read_run's reading of the folder's two files."""
    # Imported here, not with the module: the dashboard blueprint is mounted in every `painplan serve` worker, and
    # pyarrow (with numpy and its thread pool) would otherwise load into each of them for no hook call's use.
    import pyarrow.parquet as pq

    quality_file, measures_file = folder / "data-quality.json", folder / "measures.parquet"
    if not quality_file.exists() and not measures_file.exists():
        return None
    try:
        quality = json.loads(quality_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return UnreadableRun(folder.name, f"data-quality.json cannot be read ({_why(error)})")
    try:
        table = pq.read_table(measures_file)
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        return UnreadableRun(folder.name, f"measures.parquet cannot be read ({_why(error)})")
    missing = [column for column in MEASURE_COLUMNS if column not in table.column_names]
    if not isinstance(quality, dict) or missing:
        what = (
            f"measures.parquet has no {', '.join(missing)} column" if missing else "data-quality.json is not an object"
        )
        return UnreadableRun(folder.name, what)
    run = quality.get("run") if isinstance(quality.get("run"), dict) else {}
    label, period = str(run.get("label", folder.name)), str(run.get("period", ""))
    if not _is_period(period):  # the charts place each run on a time axis by its period's end
        return UnreadableRun(folder.name, "data-quality.json names no period (START/END dates)")
    return Run(folder.name, folder, label, period, table.to_pylist(), quality)


def _is_period(text: str) -> bool:
    try:
        Period.parse(text)  # the command's own reading of START/END, so a run it wrote always reads back
    except PopulationError:
        return False
    return True


def _why(error: Exception) -> str:
    return error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__


def find_runs(root: Path, limit: int = 12) -> tuple[list[Run], list[UnreadableRun]]:
    """The latest finished runs under the root, oldest first (one per period: a rerun replaces the earlier), and the
    run folders that could not be read."""
    if not root.is_dir():
        return [], []
    by_period: dict[str, tuple[float, Run]] = {}
    unreadable: list[UnreadableRun] = []
    for folder in root.iterdir():
        # A hidden folder is a run being written (or one a stopped run left), or the previous run being removed.
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        run = read_run(folder)
        if isinstance(run, UnreadableRun):
            unreadable.append(run)
        if not isinstance(run, Run):
            continue
        stamp = (folder / "data-quality.json").stat().st_mtime
        if run.period not in by_period or stamp > by_period[run.period][0]:
            by_period[run.period] = (stamp, run)
    runs = sorted((run for _, run in by_period.values()), key=lambda r: r.period_end)
    return runs[-limit:], sorted(unreadable, key=lambda u: u.name)
