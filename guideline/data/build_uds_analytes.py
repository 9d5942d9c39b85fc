"""Regenerate `uds-analytes.csv`: the analyte each urine drug test code reports on, for the codes of the urine drug
test sets that no CDC class set (after `valueset-corrections.json`) judges. Run by hand after `build.py` (whose
`main` runs it too), never at runtime; review the diff of the CSV before committing it.

Usage: python -m guideline.data.build_uds_analytes

Each code is read by its LOINC long name's component (the part before the property in brackets): the first rule
below that matches names its analyte and the row that judges it (`guideline/uds_analytes.py`, or a CDC class row such
as `heroin`). A code no rule matches is written with its component as the analyte and no row: PainPlan does not judge
it, and names a positive result for it as not judged. The output is deterministic.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = "uds-analytes.csv"

# The sets whose codes PainPlan reads as urine drug tests, and the CDC class sets its substance rows read.
TEST_SETS = ("2022/all-urine-drug-screening-tests", "2022/xylazine-urine-drug-screening-tests")
CLASS_SETS = tuple(
    f"2022/{name}-urine-drug-screening-tests"
    for name in (
        "amphetamine",
        "barbiturate",
        "benzodiazepine",
        "buprenorphine",
        "fentanyl-type",
        "methadone",
        "general-opiate",
        "oxycodone",
        "cocaine",
        "heroin",
        "phencyclidine",
        "xylazine",
        "cannabinoid",
    )
)

# (component pattern, row): a code whose component starts so is judged by that row ("\\1": the drug matched). A
# metabolite has a row of its own ("nortapentadol": "tapentadol-metabolite") that names its parent and never judges a
# negative. Order matters: combined and metabolite names before their parents' ("tapentadol glucuronide" before
# "tapentadol").
RULES: tuple[tuple[str, str], ...] = (
    # opioids
    (r"oxycodone\+oxymorphone", "oxycodone+oxymorphone"),
    (r"noroxymorphone|oxymorphone-3-glucuronide", "oxymorphone-metabolite"),
    (r"oxymorphone\b", "oxymorphone"),
    (r"noroxycodone", "oxycodone-metabolite"),
    (r"oxycodone\b", "oxycodone"),
    (r"normorphine|morphine-[36]-glucuronide", "morphine-metabolite"),
    (r"morphine\b", "morphine"),
    (r"norcodeine|codeine-6-glucuronide", "codeine-metabolite"),
    (r"codeine\b", "codeine"),
    (r"dihydrocodeine", "dihydrocodeine"),
    (r"norhydrocodone", "hydrocodone-metabolite"),
    (r"hydrocodone\b", "hydrocodone"),
    (r"hydromorphone-3-glucuronide", "hydromorphone-metabolite"),
    (r"hydromorphone\b", "hydromorphone"),
    (r"nortapentadol|tapentadol glucuronide", "tapentadol-metabolite"),
    (r"tapentadol", "tapentadol"),
    (r"(?:n-nor|nor|o-desmethyl|n-desmethyl)tramadol", "tramadol-metabolite"),
    (r"tramadol", "tramadol"),
    (r"normeperidine", "meperidine-metabolite"),
    (r"meperidine", "meperidine"),
    (r"norpropoxyphene", "propoxyphene-metabolite"),
    (r"propoxyphene", "propoxyphene"),
    (r"norsufentanil", "sufentanil-metabolite"),
    (r"sufentanil", "sufentanil"),
    (
        r"(levorphanol|butorphanol|pentazocine|nalbuphine|alfentanil|alphaprodine|anileridine|dextromoramide"
        r"|dipipanone|ethylmorphine|nicomorphine|trimeperidine|desomorphine)\b",
        r"\1",
    ),
    (r"despropionylfentanyl", "despropionylfentanyl"),
    (r"(diamorphine|6-acetylcodeine)", "heroin"),
    (r".*(?:fentanyl|fentanil)", "fentanyl-analogue"),
    (
        r".*nitazene|u-47700|ah-7921|ah-8529|ah-8533|mt-45|(?:nor-)?w-1[589]|ic-26|brorphine|2-methyl ap-237"
        r"|synthetic opioids",
        "synthetic-opioid",
    ),
    (r"(?:6-beta )?naltrex(?:one|ol)", "naltrexone"),
    (r"naloxone(?:-3-glucuronide)?\b", "naloxone"),
    # benzodiazepines, by drug
    (r"(?:alpha )?hydroxyalprazolam", "alprazolam-metabolite"),
    (r"alprazolam", "alprazolam"),
    (r"7-aminoclonazepam", "clonazepam-metabolite"),
    (r"clonazepam", "clonazepam"),
    (r"diazepam\+nordiazepam|nordiazepam", "nordiazepam"),
    (r"diazepam", "diazepam"),
    (r"oxazepam glucuronide", "oxazepam-metabolite"),
    (r"oxazepam", "oxazepam"),
    (r"temazepam glucuronide", "temazepam-metabolite"),
    (r"temazepam", "temazepam"),
    (r"lorazepam glucuronide", "lorazepam-metabolite"),
    (r"lorazepam", "lorazepam"),
    (r"norchlordiazepoxide", "chlordiazepoxide-metabolite"),
    (r"chlordiazepoxide", "chlordiazepoxide"),
    (r"norclobazam", "clobazam-metabolite"),
    (r"clobazam", "clobazam"),
    (r"clorazepate", "clorazepate"),
    (r"(?:4-hydroxy|alpha hydroxy)midazolam", "midazolam-metabolite"),
    (r"midazolam", "midazolam"),
    (r"(?:alpha )?hydroxytriazolam", "triazolam-metabolite"),
    (r"triazolam", "triazolam"),
    (r"n-desalkylflurazepam", "desalkylflurazepam"),
    (r"(?:2-)?hydroxyethylflurazepam", "flurazepam-metabolite"),
    (r"flurazepam", "flurazepam"),
    (r"7-aminoflunitrazepam", "flunitrazepam-metabolite"),
    (r"flunitrazepam", "flunitrazepam"),
    (r"(estazolam|bromazepam|nitrazepam|lormetazepam|medazepam|prazepam|zolazepam)\b", r"\1"),
    # other sedatives and stimulants judged against a packaged medication set
    (r"zolpidem phenyl-4-carboxylate", "zolpidem-metabolite"),
    (r"zolpidem", "zolpidem"),
    (r"eszopiclone", "eszopiclone"),
    (r"zopiclone-n-oxide|2-amino-5-chloropyridine", "zopiclone-metabolite"),
    (r"zopiclone", "zopiclone"),
    (r"carisoprodol\+meprobamate", "carisoprodol+meprobamate"),
    (r"carisoprodol", "carisoprodol"),
    (r"meprobamate", "meprobamate"),
    (r"(phentermine|phenmetrazine|diethylpropion|fenfluramine|mephentermine)\b", r"\1"),
    (r"(amobarbital|aprobarbital)\b", "barbiturate"),
    (r"synthetic cannabinoids", "cannabinoid"),
    (r"(benzoylecgonine|benzoylmethylecgonine|cocaine)\b", "cocaine"),  # retired codes the CDC set left out
    # never prescribed
    (
        r"(?:meth)?cathinone|mephedrone|methylone|butylone|ethylone|methedrone|naphyrone|pentedrone|pentylone"
        r"|eutylone|alpha pyrrolidinovalerophenone|3,4-dimethylmethcathinone|4-ethylmethcathinone"
        r"|4-methylethcathinone",
        "synthetic-cathinone",
    ),
    (
        r"(?:2-oxo-3-hydroxy-)?lysergate diethylamide|psilocybin|psilocin|mescaline|dimethyltryptamine|bufotenine"
        r"|.*nbome|salvinorin|hallucinogens",
        "hallucinogen",
    ),
)
_COMPILED = tuple((re.compile(pattern), row) for pattern, row in RULES)
# The component: the name before its property ("[Presence]"), cutoff, ratio or panel wording.
_COMPONENT_END = re.compile(
    r"\s*(?:\[|cutoff\b|/creatinine|\bpanel\b|\bfree\b|tested for\b|positive \[|confirm method|screen method|$)"
)


def component(display: str) -> str:
    """A LOINC long name's component, lower case, without a leading "Deprecated"."""
    name = display.strip().lower().removeprefix("deprecated ").strip()
    return name[: _COMPONENT_END.search(name).start()].strip()  # type: ignore[union-attr]


def analyte_of(display: str) -> tuple[str, str]:
    """The analyte a code's long name reports on (its component) and the row that judges it ("" when none does)."""
    name = component(display)
    for pattern, row in _COMPILED:
        found = pattern.match(name)
        if found:
            return name, found.expand(row)
    return name, ""


def _sets(folder: Path) -> tuple[dict[str, dict[tuple[str, str], str]], dict[str, set[tuple[str, str]]]]:
    """The packaged expansions (code -> display per set) and the project's removals per set."""
    document = json.loads((folder / "valuesets.json").read_text(encoding="utf-8"))
    systems = document["systems"]
    expansions = {
        key: {(systems[index], code): display for index, code, display in rows}
        for key, rows in document["sets"].items()
    }
    corrections = json.loads((folder / "valueset-corrections.json").read_text(encoding="utf-8"))["corrections"]
    removed = {
        key: {(system, code) for system, code, *_ in change.get("remove", ())} for key, change in corrections.items()
    }
    return expansions, removed


def rows(folder: Path = HERE) -> list[tuple[str, str, str, str]]:
    """(code, long name, analyte, row) for each test code no corrected class set holds, sorted by code."""
    expansions, removed = _sets(folder)
    judged = set().union(*(set(expansions[key]) - removed.get(key, set()) for key in CLASS_SETS))
    tests = {member: display for key in TEST_SETS for member, display in expansions[key].items()}
    found = []
    for (system, code), display in sorted(tests.items()):
        if (system, code) in judged:
            continue
        if system != "http://loinc.org":
            raise ValueError(f"{system}|{code}: the urine drug test sets hold only LOINC codes")
        found.append((code, display, *analyte_of(display)))
    return found


def build(folder: Path = HERE) -> int:
    """Write the table; return its number of rows."""
    table = rows(folder)
    _write(folder, table)
    return len(table)


def _write(folder: Path, table: list[tuple[str, str, str, str]]) -> None:
    """Write `table` as the CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("code", "display", "analyte", "substance"))
    writer.writerows(table)
    (folder / OUTPUT).write_text(out.getvalue(), encoding="utf-8")


def main() -> int:
    table = rows()  # the value sets are read once, for the table and its counts alike
    _write(HERE, table)
    count = len(table)
    judged = sum(1 for *_, row in table if row)
    print(f"{count} codes ({judged} judged, {count - judged} named as not judged) -> {HERE / OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
