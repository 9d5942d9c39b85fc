"""The letters' sentences, shared by the HTML and the PDF so both always say the same thing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reason:
    """How the letters say why a patient is listed (their row's attribution)."""

    heading: str  # above the group of patients in the letter
    one: str  # after "1 patient" / "1"
    many: str  # after "2 patients" / "2"
    index: str  # in the letters' index


# Why a patient is in their main prescriber's letter: the prescriber of most of their opioid fills in the period, or,
# where prescribers tie, of the latest (guideline.population.attribution). A patient of four prescribers, one fill
# each, goes to one of them, whom "mostly came from you" told something untrue.
MAIN_PRESCRIBER = "whose opioid fills were on your prescriptions at least as often as on any other clinician's"

# The words for each attribution kind a letter lists (guideline.population.attribution.ATTRIBUTION_KINDS, whose
# order the letters follow): a kind added there without its words here fails a test.
REASONS = {
    "pcp": Reason(
        "Patients who name you as their primary care clinician",
        "who names you as their primary care clinician",
        "who name you as their primary care clinician",
        "primary care clinician",
    ),
    "practice": Reason(
        "Patients assigned to your practice for primary care, with no clinician named",
        "who is assigned to your practice for primary care with no clinician named",
        "who are assigned to your practice for primary care with no clinician named",
        "practice of record, no clinician named",
    ),
    "prescriber": Reason(
        f"Patients with no primary care clinician on record {MAIN_PRESCRIBER}",
        f"who has no primary care clinician on record and {MAIN_PRESCRIBER}",
        f"who have no primary care clinician on record and {MAIN_PRESCRIBER}",
        "main prescriber, no PCP on record",
    ),
    # The patient names a PCP the export's directory does not hold: they have one, so no letter may say they have
    # none, nor that their practice was assigned with no clinician named.
    "practice-pcp-not-in-directory": Reason(
        "Patients assigned to your practice for primary care whose named clinician is not in our directory",
        "who is assigned to your practice for primary care and whose named clinician is not in our directory",
        "who are assigned to your practice for primary care and whose named clinician is not in our directory",
        "practice of record, named clinician not in directory",
    ),
    "prescriber-pcp-not-in-directory": Reason(
        f"Patients whose named primary care clinician is not in our directory, {MAIN_PRESCRIBER}",
        f"whose named primary care clinician is not in our directory and {MAIN_PRESCRIBER}",
        f"whose named primary care clinician is not in our directory and {MAIN_PRESCRIBER}",
        "main prescriber, named PCP not in directory",
    ),
    # Fills in the export, no Patient resource: whether they have a PCP cannot be known. Such a patient is in no
    # measure (their age is not known either), so no letter lists them; the words are here should one ever do.
    "prescriber-no-patient-resource": Reason(
        f"Patients whose record in the export is incomplete (no demographics), {MAIN_PRESCRIBER}",
        f"whose record in the export has no demographics and {MAIN_PRESCRIBER}",
        f"whose records in the export have no demographics and {MAIN_PRESCRIBER}",
        "main prescriber, patient's demographics not in export",
    ),
}


def _why(kind: str, count: int) -> str:
    reason = REASONS[kind]  # a reason with no words stops the letter rather than give it the wrong ones
    return reason.one if count == 1 else reason.many


def group_heading(kind: str) -> str:
    return REASONS[kind].heading


def index_reasons(letter: Any) -> str:
    """ "primary care clinician (1), main prescriber, no PCP on record (1)": each reason with its patients."""
    return "; ".join(f"{REASONS[kind].index} ({len(patients)})" for kind, patients in letter.groups())


def intro_text(context: dict[str, Any]) -> str:
    letter = context["letter"]
    count = len(letter.patients)
    who = "patient" if count == 1 else "patients"
    groups = letter.groups()
    if len(groups) == 1:
        found = f"found {count} {who} {_why(groups[0][0], count)} whose fills met one or more of the criteria below."
    else:
        parts = [f"{len(patients)} {_why(kind, len(patients))}" for kind, patients in groups]
        found = (
            f"found {count} {who} whose fills met one or more of the criteria below: "
            + ", ".join(parts[:-1])
            + f", and {parts[-1]}."
        )
    return (
        f"This letter is strictly informational. Our quarterly review of pharmacy claims for {context['period'].label} "
        f"{found} We share it so that you can see what the claims show; it is not a judgement of your care, and the "
        "numbers come only from fills we can see."
    )


def consider_items(context: dict[str, Any]) -> list[str]:
    return [
        "Offer naloxone to anyone at higher risk of overdose, and to the people they live with.",
        f"Review the patient's controlled-substance history in {context['pdmp_name']} ({context['pdmp_url']}) "
        "to see fills from other prescribers and pharmacies.",
        "Revisit the benefits and harms of the current opioid therapy with the patient, including any sedatives "
        "taken with it.",
        "Where the dose is high or the benefit unclear, consider a gradual, compassionate taper agreed with the "
        "patient; never stop opioids abruptly or dismiss the patient from care.",
        "If opioid use disorder is suspected or diagnosed, offer medication treatment (buprenorphine, methadone "
        f"or naltrexone) or a referral: {context['moud_line']}.",
    ]


def disclaimer(context: dict[str, Any]) -> str:
    return (
        "These findings are based on claims data and the PQA measure definitions. They do not replace your clinical "
        "evaluation: you know the patient, their pain and their history, and the right course is yours and theirs "
        f"to decide. Sent by {context['sender']}."
        + (f" Questions: {context['contact']}." if context["contact"] else "")
    )
