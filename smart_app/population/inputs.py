"""Finding the export's NDJSON files."""

from __future__ import annotations

from pathlib import Path

from guideline.population import PopulationError


def ndjson_files(folder: Path) -> list[Path]:
    """Every `.ndjson` and `.ndjson.gz` file in the folder (any name; one resource type per file, as exported)."""
    if not folder.is_dir():
        raise PopulationError(f"INPUT {folder} is not a folder of NDJSON files")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith((".ndjson", ".ndjson.gz")))
    if not files:
        raise PopulationError(f"INPUT {folder} holds no .ndjson or .ndjson.gz files")
    return files
