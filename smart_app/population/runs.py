"""Reading finished population runs from the output root (each run is one `--out` folder)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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

    def letters(self) -> list[str]:
        folder = self.folder / "letters"
        return sorted(p.stem for p in folder.glob("*.html") if p.name != "index.html") if folder.is_dir() else []


def read_run(folder: Path) -> Run | None:
    """A finished run (data-quality.json and measures.parquet present), or None for anything else."""
    # Imported here, not with the module: the dashboard blueprint is mounted in every `painplan serve` worker, and
    # pyarrow (with numpy and its thread pool) would otherwise load into each of them for no hook call's use.
    import pyarrow.parquet as pq

    try:
        quality = json.loads((folder / "data-quality.json").read_text(encoding="utf-8"))
        measures = pq.read_table(folder / "measures.parquet").to_pylist()
    except (OSError, ValueError):
        return None
    run = quality.get("run", {})
    return Run(folder.name, folder, str(run.get("label", folder.name)), str(run.get("period", "")), measures, quality)


def find_runs(root: Path, limit: int = 12) -> list[Run]:
    """The latest finished runs under the root, oldest first (one per period: a rerun replaces the earlier)."""
    if not root.is_dir():
        return []
    by_period: dict[str, tuple[float, Run]] = {}
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        run = read_run(folder)
        if run is None:
            continue
        stamp = (folder / "data-quality.json").stat().st_mtime
        if run.period not in by_period or stamp > by_period[run.period][0]:
            by_period[run.period] = (stamp, run)
    runs = sorted((run for _, run in by_period.values()), key=lambda r: r.period_end)
    return runs[-limit:]
