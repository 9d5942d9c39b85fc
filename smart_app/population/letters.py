"""Letters to clinicians: which of their patients met which criterion, with the evidence, and what to consider."""

from __future__ import annotations

import hashlib
import json
import re
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from jinja2 import Environment, FileSystemLoader, select_autoescape

from guideline.population import MEASURES, Directory, Period
from guideline.population.actors import clinician_name, practice_name
from guideline.population.attribution import ATTRIBUTION_KINDS
from guideline.population.measures import MEASURE_BY_ID
from guideline.population.relayed import MAYBE_RELAYED
from guideline.words import capitalised
from smart_app.population.outputs import replaced, write_whole
from smart_app.population.progress import Progress
from smart_app.population.runs import RECIPIENTS
from smart_app.population.wording import consider_items, disclaimer, group_heading, index_reasons, intro_text

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "population"
LETTER_MEASURES = ("OHD", "OMP", "COB")  # spec 7: a numerator here, or NAL's denominator without its numerator
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_STEM = 80  # with the digest and ".html", well inside the 255 bytes a file name may have
PRACTICE_PREFIX = "practice-"
# The attributions that put a patient in their practice's letter (no clinician named, or none the directory holds),
# read from the one list of kinds, so a practice kind added there is never filtered out of the letters.
PRACTICE_KINDS = tuple(kind.name for kind in ATTRIBUTION_KINDS if kind.letter == "practice")


@dataclass
class LetterPatient:
    patient_id: str
    name: str | None
    birth_date: str | None
    criteria: list[tuple[str, str, list[str]]]  # (measure id, what it means, evidence lines)
    findings: list[str]
    attribution: str  # why the patient is in this letter: their row's attribution ("pcp", "practice", "prescriber")
    # Under the findings: what they could not count that may answer them (an OUD medication dose with no date), as
    # the row's evidence names it by the finding's check id (guideline.population.standing).
    finding_evidence: list[str] = field(default_factory=list)


@dataclass
class Letter:
    """One letter: to a clinician (their PCP patients, and those with no PCP they are the main prescriber of), or to a
    practice (its patients assigned to it with no clinician named)."""

    recipient_id: str  # the clinician's Practitioner id, or the practice's Organization id
    recipient_name: str
    practice_name: str | None  # the clinician's practice, beside their name; None in a practice's own letter
    patients: list[LetterPatient] = field(default_factory=list)
    rates: list[dict[str, Any]] = field(default_factory=list)  # the recipient's measure rates
    recipient_kind: str = "clinician"  # or "practice"

    def groups(self) -> list[tuple[str, list[LetterPatient]]]:
        """The patients grouped by why they are listed, in REASON_ORDER: one clinician can be PCP of some patients
        and main prescriber of others who have no PCP, and the letter must say which is which."""
        kinds = sorted({p.attribution for p in self.patients}, key=_reason_rank)
        return [(kind, [p for p in self.patients if p.attribution == kind]) for kind in kinds]

    @property
    def file_stem(self) -> str:
        """The letter's file name: the clinician's id when it is a plain, short name, else that id made safe with a
        digest of the real id after it, so two ids never share a file (a/b and a_b), a long id still fits the
        filesystem, and no letter takes the index's name. A practice's is "practice-" and its id, made safe the same
        way; a clinician id that begins so is given a digest, so a practice and a clinician never share a file."""
        key = self.recipient_id if self.recipient_kind == "clinician" else f"Organization/{self.recipient_id}"
        prefix = "" if self.recipient_kind == "clinician" else PRACTICE_PREFIX
        safe = prefix + _SAFE_NAME.sub("_", self.recipient_id).strip(".")[:_MAX_STEM]
        plain = safe == prefix + self.recipient_id and safe.lower() != "index"
        if plain and (prefix or not safe.startswith(PRACTICE_PREFIX)):
            return safe
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        return f"{safe or 'clinician'}-{digest}"


# The order the letter and the index give the reasons a patient is listed in (the clinician's own patients first):
# the list of kinds' order, those with a letter.
REASON_ORDER = tuple(kind.name for kind in ATTRIBUTION_KINDS if kind.letter is not None)


def _reason_rank(kind: str) -> tuple[int, str]:
    return (REASON_ORDER.index(kind) if kind in REASON_ORDER else len(REASON_ORDER), kind)


FINDING_TEXT = {
    "high-mme": "high total daily opioid dose",
    "opioid-benzodiazepine": "an opioid together with a benzodiazepine or other sedative",
    "urine-drug-test": "no urine drug test in the last 12 months",
    "unexpected-uds-result": "an unexpected urine drug test result",
    "naloxone": "naloxone not on hand while overdose risk is elevated",
    "oud-treatment": "opioid use disorder without medication treatment on record",
    "reassessment-due": "long-term opioid therapy with no recent review of benefits and harms on record",
    "pdmp-review": "no recent review of the prescription drug monitoring program (PDMP) on record",
    "treatment-plan": "longer-term opioid therapy with no treatment plan on record",
    "acute-duration": "a supply for acute pain longer than usually needed",
    "er-la-opioid-naive": "a long-acting or opioid-tolerant-only opioid with no recent opioid use before it",
    "nonopioid-first": "an opioid for acute pain with no recent opioid use (non-opioid options first)",
    "unidentified-medication": "a medication the review could not identify",
}


def _criterion_text(measure_id: str, numerator: bool) -> str:
    measure = MEASURE_BY_ID[measure_id]
    if measure_id == "NAL":
        return "At higher overdose risk, and no naloxone filled or ordered in the last 12 months"
    return f"{measure.name}: {measure.numerator}" if numerator else measure.name


_MME_READ_BY = ("OHD", "NAL")  # the criteria a letter lists that an MME counted twice can meet


def collect_letters(con: Any, measures: pa.Table, directory: Directory) -> list[Letter]:
    """The clinicians and practices who get a letter and, for each, the patients who met a criterion (spec 7): a
    patient is in their PCP's letter, else (assigned to a practice with no clinician named) the practice's, else
    their main prescriber's."""
    flags = " OR ".join(f"{column}_num" for column in ("ohd", "omp", "cob"))
    practice_kinds = ", ".join(f"'{kind}'" for kind in PRACTICE_KINDS)
    rows = con.execute(
        f"""SELECT patient_id, patient_name, CAST(birth_date AS VARCHAR), pcp_id, practice_id,
                   practice_name, attribution, ohd_num, omp_num, cob_num, nal_den, nal_num, findings, evidence
            FROM patients
            WHERE (pcp_id IS NOT NULL OR (attribution IN ({practice_kinds}) AND practice_id IS NOT NULL))
              AND ({flags} OR (nal_den AND NOT nal_num))
            ORDER BY pcp_id IS NULL, coalesce(pcp_id, practice_id), patient_name, patient_id"""
    ).fetchall()
    letters: dict[tuple[str, str], Letter] = {}
    for (pid, name, birth, pcp, practice_id, practice, attribution, ohd, omp, cob, nal_den, nal_num,
         findings, evidence) in rows:  # fmt: skip
        key = ("clinician", pcp) if pcp is not None else ("practice", practice_id)
        letter = letters.get(key)
        if letter is None:
            letter = letters[key] = (
                _clinician_letter(pcp, practice, directory)
                if pcp is not None
                else _practice_letter(practice_id, directory)
            )
        proof = json.loads(evidence or "{}")
        # Two orders that may be one (an HIE's copy no setting tells from the EHR's) raise the MME: said where it is.
        for m in _MME_READ_BY:
            if m in proof:
                proof[m] = [*proof[m], *(said for key in MAYBE_RELAYED for said in proof.get(key, []))]
        criteria = [(m, _criterion_text(m, True), proof.get(m, [])) for m, hit in (("OHD", ohd), ("OMP", omp),
                                                                                   ("COB", cob)) if hit]  # fmt: skip
        if nal_den and not nal_num:
            criteria.append(("NAL", _criterion_text("NAL", False), proof.get("NAL", [])))
        raised = [f for f in (findings or "").split(",") if f]
        letter.patients.append(
            LetterPatient(
                pid,
                name,
                birth,
                criteria,
                [FINDING_TEXT.get(f, f) for f in raised],
                attribution,
                [line for f in raised for line in proof.get(f, [])],
            )
        )
    by_unit: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in measures.to_pylist():
        if row["level"] in ("pcp", "practice"):
            by_unit.setdefault((row["level"], row["unit"]), []).append(row)
    for letter in letters.values():
        level = "pcp" if letter.recipient_kind == "clinician" else "practice"
        letter.rates = [r for r in by_unit.get((level, letter.recipient_id), []) if r["denominator"]]
    return list(letters.values())


def _clinician_letter(ident: str, practice: str | None, directory: Directory) -> Letter:
    """An empty letter to a clinician, their practice's name (as the export gives it) beside theirs."""
    # Addressed as the evidence names a prescriber: "Clinician npi-1902000012" told the reader nothing.
    return Letter(ident, capitalised(clinician_name(f"Practitioner/{ident}", directory)), practice)


def _practice_letter(ident: str, directory: Directory) -> Letter:
    """An empty letter to a practice, named from the directory by `practice_name`."""
    # By the clinicians' rule too: "Practice npi-1902000046" told the reader nothing.
    return Letter(
        ident, capitalised(practice_name(f"Organization/{ident}", directory)), None, recipient_kind="practice"
    )


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))


def letter_context(letter: Letter, period: Period, config: Any) -> dict[str, Any]:
    settings = config["population"]
    context = {
        "letter": letter,
        "period": period,
        "programme": settings["programme"],
        "sender": settings["sender"],
        "contact": settings["contact"],
        "moud_line": settings["moud_line"],
        "pdmp_name": settings["pdmp_name"],
        "pdmp_url": settings["pdmp_url"],
        "resources": list(config["resources"]),
        "measures": {m.id: m for m in MEASURES},
        "groups": [(group_heading(kind), patients) for kind, patients in letter.groups()],
    }
    context.update(intro=intro_text(context), consider=consider_items(context), disclaimer=disclaimer(context))
    return context


def _write_one(letter: Letter, period: Period, config: Any, folder: Path) -> None:
    """One letter's HTML and PDF (a process-pool task: PDF layout is the slow part of writing letters)."""
    from smart_app.population.pdf import write_pdf

    context = letter_context(letter, period, config)
    html = _environment().get_template("letter.html").render(**context)
    write_whole(folder / f"{letter.file_stem}.html", html)
    with replaced(folder / f"{letter.file_stem}.pdf") as partial:
        write_pdf(partial, context)


def write_letters(
    con: Any,
    measures: pa.Table,
    out: Path,
    period: Period,
    config: Any,
    directory: Directory,
    progress: Progress,
    workers: int = 1,
) -> int:
    """letters/<clinician-id>.html, a PDF beside each, letters/index.html and letters/recipients.json. Returns how
    many letters."""
    folder = out / "letters"
    folder.mkdir(parents=True, exist_ok=True)
    letters = collect_letters(con, measures, directory)
    progress.begin("letters", f"{len(letters)} to clinicians and practices")
    if workers > 1 and len(letters) > workers:
        with ProcessPoolExecutor(workers) as pool:
            futures = [pool.submit(_write_one, letter, period, config, folder) for letter in letters]
            for done, future in enumerate(as_completed(futures), 1):
                future.result()
                progress.update(done, len(letters), unit="letters")
    else:
        for done, letter in enumerate(letters, 1):
            _write_one(letter, period, config, folder)
            progress.update(done, len(letters), unit="letters")
    progress.update(len(letters), len(letters), force=True, unit="letters")
    programme = config["population"]["programme"]
    index = (
        _environment()
        .get_template("index.html")
        .render(letters=letters, period=period, programme=programme, reasons=index_reasons)
    )
    write_whole(folder / "index.html", index)
    # Whom each letter is to, for the dashboard's list of letters: their file names are the export's ids.
    recipients = {letter.file_stem: letter.recipient_name for letter in letters}
    write_whole(folder / RECIPIENTS, json.dumps(recipients, ensure_ascii=False, sort_keys=True, indent=1))
    return len(letters)
