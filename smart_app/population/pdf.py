"""The PDF beside each letter (reportlab, pure Python): the same content as the HTML letter."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer

from smart_app.population.wording import consider_items, disclaimer, intro_text


def write_pdf(path: Path, context: dict[str, Any]) -> None:
    styles = getSampleStyleSheet()
    body, small = styles["BodyText"], styles["BodyText"].clone("small", fontSize=8, leading=10)
    letter = context["letter"]
    story: list[Any] = [
        Paragraph(
            escape(f"{context['programme']}: opioid prescribing review, {context['period'].label}"), styles["Title"]
        ),
        Paragraph(
            escape(f"To: {letter.recipient_name}" + (f", {letter.practice_name}" if letter.practice_name else "")), body
        ),
        Spacer(1, 6),
        Paragraph(escape(intro_text(context)), body),
        Spacer(1, 6),
    ]
    for heading, patients in context["groups"]:
        story.append(Paragraph(escape(heading), styles["Heading2"]))
        for patient in patients:
            story.extend(_patient(patient, styles))
    story.append(Paragraph("What to consider", styles["Heading2"]))
    story.append(
        ListFlowable([ListItem(Paragraph(escape(item), body)) for item in consider_items(context)], bulletType="bullet")
    )
    story.append(Paragraph("Resources", styles["Heading2"]))
    for resource in context["resources"]:
        line = resource["name"] + "".join(f" · {resource[k]}" for k in ("phone", "url") if resource.get(k))
        story.append(Paragraph(escape(line), small))
    story.append(Spacer(1, 8))
    story.append(Paragraph(escape(disclaimer(context)), body))
    document = SimpleDocTemplate(str(path), pagesize=LETTER, leftMargin=0.8 * inch, rightMargin=0.8 * inch,
                                 title=f"Opioid prescribing review for {letter.recipient_name}")  # fmt: skip
    document.build(story)


def _patient(patient: Any, styles: Any) -> list[Any]:
    """One listed patient: who, each criterion met with its evidence, the guideline checks' findings with theirs."""
    body, small = styles["BodyText"], styles["BodyText"].clone("small", fontSize=8, leading=10)
    title = f"{patient.name or 'Patient'} (id {patient.patient_id}" + (
        f", born {patient.birth_date})" if patient.birth_date else ")"
    )
    flowables: list[Any] = [Paragraph(escape(title), styles["Heading3"])]
    for _, meaning, evidence in patient.criteria:
        flowables.append(Paragraph(escape(meaning), body))
        flowables.append(
            ListFlowable([ListItem(Paragraph(escape(line), small)) for line in evidence], bulletType="bullet")
        )
    if patient.findings:
        flowables.append(
            Paragraph(escape("The guideline checks also note: " + "; ".join(patient.findings) + "."), body)
        )
        if patient.finding_evidence:
            flowables.append(
                ListFlowable(
                    [ListItem(Paragraph(escape(line), small)) for line in patient.finding_evidence],
                    bulletType="bullet",
                )
            )
    return flowables
