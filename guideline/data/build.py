"""Regenerate the packaged terminology data from the shared reference folder (run by hand, never at runtime).

Usage: python -m guideline.data.build [REFERENCE_DIR]   (default: ../shared/reference next to the repository)

Writes `valuesets.json` (the expansions the checks need, compacted), copies the two CSV tables verbatim, and rebuilds
the urine drug test analyte table from the new value sets (`build_uds_analytes.py`).
The output is deterministic, so a rebuild from unchanged sources gives a byte-identical file.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from guideline.data import build_uds_analytes

HERE = Path(__file__).resolve().parent
DEFAULT_REFERENCE = HERE.parents[2] / "shared" / "reference"

# Every 2022 value set a check, an exclusion, the UDS substance table or a derived set reads (guideline 2, 6.4,
# 7, 10). Sets used only by the reference logic (office-visit, the 1-code misuse assessment, ...) are left out.
VALUESETS_2022: tuple[str, ...] = (
    # medications
    "opioid-analgesics-with-ambulatory-misuse-potential",
    "extended-release-opioid-with-ambulatory-misuse-potential",
    "benzodiazepine-medications",
    "cns-depressant-medications",
    "barbiturate-medications",
    "naloxone-medications",
    "buprenorphine-and-methadone-medications",
    "buprenorphine-medications",
    "methadone-medications",
    "fentanyl-type-medications",
    "oxycodone-medications",
    "amphetamines-class-medications",
    "non-synthetic-opioid-medications",
    # urine drug tests
    "all-urine-drug-screening-tests",
    "xylazine-urine-drug-screening-tests",
    "amphetamine-urine-drug-screening-tests",
    "barbiturate-urine-drug-screening-tests",
    "benzodiazepine-urine-drug-screening-tests",
    "buprenorphine-urine-drug-screening-tests",
    "cannabinoid-urine-drug-screening-tests",
    "cocaine-urine-drug-screening-tests",
    "fentanyl-type-urine-drug-screening-tests",
    "general-opiate-urine-drug-screening-tests",
    "heroin-urine-drug-screening-tests",
    "methadone-urine-drug-screening-tests",
    "oxycodone-urine-drug-screening-tests",
    "phencyclidine-urine-drug-screening-tests",
    "opiate-specific-urine-drug-screening-tests",
    "synthetic-opioid-urine-drug-screening-tests",
    # conditions
    "opioid-misuse-disorders",
    "conditions-documenting-substance-misuse",
    "conditions-documenting-sleep-disordered-breathing",
    "sickle-cell-diseases",
    "cdc-malignant-cancer-conditions",
    "conditions-likely-terminal-for-opioid-prescribing",
    "limited-life-expectancy-conditions",
    # hospice, procedures, findings
    "hospice-disposition",
    "hospice-procedure",
    "therapies-indicating-end-of-life-care",
    "hospice-finding",
    "opioid-treatment-assessment-procedure",
    "pdmp-review-procedure",
    "pdmp-data-reviewed-finding",
    "pain-management-procedure",
    "pain-treatment-plan",
)

# Only oud-treatment reads a 2016 expansion (guideline 1.3).
VALUESETS_2016: tuple[str, ...] = ("opioid-misuse-disorders",)

COPIED_FILES: tuple[str, ...] = ("opioid-drug-data.csv", "mme-conversion-factors.csv")


def _valueset_file(reference: Path, year: str, set_id: str) -> Path:
    folder = reference / "valuesets" / year
    plain = folder / f"{set_id}.json"
    # The small category/status sets keep the upstream `valueset-` prefix in the 2022 folder.
    return plain if plain.exists() else folder / f"valueset-{set_id}.json"


def _expansion(path: Path, set_id: str) -> list[dict[str, str]]:
    resource = json.loads(path.read_text(encoding="utf-8"))
    if resource.get("id") != set_id:
        raise ValueError(f"{path}: id is {resource.get('id')!r}, expected {set_id!r}")
    flat: list[dict[str, str]] = []
    pending = list(resource.get("expansion", {}).get("contains", []))
    while pending:  # nested `contains` is legal FHIR even though these files are flat today
        entry = pending.pop(0)
        pending.extend(entry.get("contains", []))
        if entry.get("system") and entry.get("code") and not entry.get("abstract"):
            flat.append(entry)
    if not flat:
        raise ValueError(f"{path}: the expansion is empty")
    return flat


def build(reference: Path, out: Path) -> dict[str, int]:
    """Write the packaged data; return the number of codes per (year/id) key."""
    systems: list[str] = []
    sets: dict[str, list[list[object]]] = {}
    wanted = [("2022", s) for s in VALUESETS_2022] + [("2016", s) for s in VALUESETS_2016]
    for year, set_id in wanted:
        members: dict[tuple[str, str], str] = {}
        for entry in _expansion(_valueset_file(reference, year, set_id), set_id):
            members.setdefault((entry["system"], entry["code"]), entry.get("display", ""))
        rows: list[list[object]] = []
        for (system, code), display in sorted(members.items()):
            if system not in systems:
                systems.append(system)
            rows.append([systems.index(system), code, display])
        sets[f"{year}/{set_id}"] = rows
    document = {
        "about": "Generated by guideline/data/build.py from shared/reference; see README.md. Do not edit.",
        "systems": systems,
        "sets": sets,
    }
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    (out / "valuesets.json").write_text(text + "\n", encoding="utf-8")
    for name in COPIED_FILES:
        shutil.copyfile(reference / name, out / name)
    return {key: len(rows) for key, rows in sets.items()}


def main(argv: list[str]) -> int:
    reference = Path(argv[1]) if len(argv) > 1 else DEFAULT_REFERENCE
    counts = build(reference, HERE)
    for key, count in counts.items():
        print(f"{count:6d}  {key}")
    print(f"{sum(counts.values()):6d}  codes in {len(counts)} value sets -> {HERE / 'valuesets.json'}")
    # The analyte table is read from the value sets just written: rebuilt with them, so it never lags behind.
    print(f"{build_uds_analytes.build(HERE):6d}  urine drug test codes -> {HERE / build_uds_analytes.OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
