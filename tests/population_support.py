"""`painplan population` over one quarter of patient A's fills, as the manifest and saved-state tests run it."""

from __future__ import annotations

import json
from pathlib import Path

from synthetic_export import OXYCODONE_10, dispense, organization, patient, practitioner

from smart_app.cli import main


def fills(number: int, first: int) -> list[dict]:
    """`number` of patient A's oxycodone fills in the quarter, ids from `first`."""
    return [
        dispense(f"md{n}", "A", OXYCODONE_10, "2026-02-01", 120, 30, "er-doc", "ph1")
        for n in range(first, first + number)
    ]


def people() -> list[dict]:
    """Patient A, the prescriber and the pharmacy the fills name."""
    return [practitioner("er-doc", "Dr. Emma Room"), organization("ph1"), patient("A")]


def review_of(folder: Path, capsys) -> tuple[int, list[str], dict]:
    """The review of the first quarter of 2026 over `folder` (outputs beside it): exit status, printed lines, and
    data-quality.json."""
    out = folder.parent / "out"
    code = main(["population", str(folder), "--out", str(out), "--period", "2026-01-01/2026-03-31",
                 "--today", "2026-04-15", "--workers", "1", "--quiet"])  # fmt: skip
    return code, capsys.readouterr().out.splitlines(), json.loads((out / "data-quality.json").read_text())
