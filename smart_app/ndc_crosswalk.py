"""A site's NDC → RxNorm crosswalk file, read into the guideline settings' `ndc.rxnorm` table at start-up."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from guideline.config import ConfigError
from guideline.config_rules import ndc_clashes
from guideline.ndc import ndc11
from guideline.text_files import NotUtf8TextError, read_text_file

KEY = "guideline.ndc.crosswalk_file"


def with_crosswalk_file(guideline_table: Mapping[str, Any], base: Path) -> dict[str, Any]:
    """The [guideline] table with the file named by `ndc.crosswalk_file` read into `ndc.rxnorm` (entries written
    in the table itself win); a relative path is read from `base`, the configuration file's folder."""
    table = dict(guideline_table)
    ndc = table.get("ndc")
    if not isinstance(ndc, Mapping) or "crosswalk_file" not in ndc:
        return table
    settings = dict(ndc)
    named = settings.pop("crosswalk_file")
    if not isinstance(named, str) or not named.strip():
        raise ConfigError(f"{KEY} must be the path of a CSV file")
    path = Path(named)
    read = read_crosswalk(path if path.is_absolute() else base / path)
    inline = settings.get("rxnorm", {})
    settings["rxnorm"] = _table_over_file(inline, read) if isinstance(inline, Mapping) else inline
    table["ndc"] = settings
    return table


def _table_over_file(inline: Mapping[str, Any], read: Mapping[str, str]) -> dict[str, Any]:
    """The file's rows with the table's entries over them (a documented override): a row whose NDC the table holds,
    in any layout, gives way, so the pair is not refused as one NDC mapped to two codes."""
    overridden = {ndc11(ndc) for ndc in inline if isinstance(ndc, str)}
    return {**{ndc: rxcui for ndc, rxcui in read.items() if ndc11(ndc) not in overridden}, **inline}


def read_crosswalk(path: Path) -> dict[str, str]:
    """NDC → RxNorm code from a CSV file with the columns `ndc` and `rxcui` (more columns are ignored). Every row
    must be readable: a crosswalk that silently lost rows would leave those fills unidentified."""
    try:
        rows = list(csv.reader(io.StringIO(read_text_file(path, "crosswalk file"), newline="")))
    except NotUtf8TextError as error:
        raise ConfigError(f"{KEY}: {error}") from None
    except OSError as error:
        raise ConfigError(f"{KEY}: cannot read {path}: {error.strerror or error}") from error
    if not rows:
        raise ConfigError(f"{KEY}: {path} is empty; it needs a header with the columns ndc and rxcui")
    header = [name.strip().lower() for name in rows[0]]
    if "ndc" not in header or "rxcui" not in header:
        raise ConfigError(f"{KEY}: the first line of {path} must name the columns ndc and rxcui")
    ndc_at, rxcui_at = header.index("ndc"), header.index("rxcui")
    entries: list[tuple[str, str]] = []
    lines: list[int] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        ndc = row[ndc_at].strip() if ndc_at < len(row) else ""
        rxcui = row[rxcui_at].strip() if rxcui_at < len(row) else ""
        if ndc11(ndc) is None:
            raise ConfigError(f"{KEY}: {path} line {line}: {ndc!r} is not an NDC (11 digits, or 10 with hyphens)")
        if not rxcui.isdigit():
            raise ConfigError(f"{KEY}: {path} line {line}: {rxcui!r} is not an RxNorm code (digits)")
        entries.append((ndc, rxcui))
        lines.append(line)
    clashes = ndc_clashes(entries)  # the same rule as the ndc.rxnorm table's, named here by line
    if clashes:
        first, later = clashes[0]
        (written, code), (ndc, rxcui) = entries[first], entries[later]
        raise ConfigError(
            f"{KEY}: {path} line {lines[later]}: {ndc!r} maps the NDC of line {lines[first]} ({written!r}, to "
            f"{code}) to another RxNorm code, {rxcui}"
        )
    return _once_per_ndc(entries)


def _once_per_ndc(entries: list[tuple[str, str]]) -> dict[str, str]:
    """The entries with an NDC repeated (with its own code) kept once, in the layout first read."""
    first: dict[str, tuple[str, str]] = {}
    for ndc, rxcui in entries:
        first.setdefault(ndc11(ndc) or ndc, (ndc, rxcui))
    return dict(first.values())
