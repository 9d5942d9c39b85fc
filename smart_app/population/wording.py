"""The letters' sentences, shared by the HTML and the PDF so both always say the same thing."""

from __future__ import annotations

from typing import Any


def intro_text(context: dict[str, Any]) -> str:
    letter = context["letter"]
    count = len(letter.patients)
    who = "patient" if count == 1 else "patients"
    how = (
        "who name you as their primary care clinician"
        if letter.attributed_as == "pcp"
        else "who have no primary care clinician on record and whose opioid prescriptions mostly came from you"
    )
    return (
        f"This letter is strictly informational. Our quarterly review of pharmacy claims for {context['period'].label} "
        f"found {count} {who} {how} whose fills met one or more of the criteria below. We share it so that you can "
        "see what the claims show; it is not a judgement of your care, and the numbers come only from fills we can see."
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
