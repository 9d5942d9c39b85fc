"""Informed consent carried by the treatment agreement: the step, its tile and the copied note say the same."""

from __future__ import annotations

from test_plan_steps import DEMO_NOW, by_key, demo_steps

from guideline.config import GuidelineConfig
from guideline.plan.model import QueryStatus
from guideline.plan.note import note_text
from smart_app.demo_data import load_demo_patients
from smart_app.plan_view import PageInput, assemble


def _note_line(text: str, label: str) -> str:
    """The note's "Plan status" line of one task."""
    return next(line for line in text.splitlines() if line.startswith(f"- {label}:"))


def test_the_note_dates_the_consent_the_step_reads_from_the_agreement() -> None:
    """Robert Chen signed the treatment agreement this year and has no separate consent form: step 2 is up to date
    from the agreement, and the note pasted into the chart said "Informed consent: none in the last 2 years, next due
    today" beside "2. Informed consent: Up to date."."""
    steps, view = demo_steps("robert-chen")
    consent = by_key(steps)["consent"].tasks[0]
    assert consent.state == "done" and consent.last_done is not None

    line = _note_line(note_text(view), "Informed consent")
    day = consent.last_done.isoformat()
    assert line == (
        f"- Informed consent: last {day} (recorded with the treatment agreement), "
        f"next due {consent.next_due.isoformat()} (up to date)"
    )
    assert "none in the last 2 years" not in line


AGREEMENT_DOCUMENT = {  # as Epic files a scanned agreement: a DocumentReference typed LOINC 94136-9
    "resourceType": "DocumentReference",
    "id": "eDoc.agreement",
    "status": "current",
    "type": {"coding": [{"system": "http://loinc.org", "code": "94136-9"}], "text": "Opioid Treatment Agreement"},
    "subject": {"reference": "Patient/robert-chen"},
    "date": "2026-03-02T16:00:00Z",
    "content": [{"attachment": {"contentType": "application/pdf", "url": "Binary/eBin.1"}}],
}


def test_with_the_consent_search_not_read_the_agreement_still_carries_it_and_says_what_was_not_read() -> None:
    """The agreement is a document and the Consent search failed: the agreement still carries the consent (a consent
    form not read could only be newer), but "no separate consent form on record" would rest on the search not read."""
    patient = load_demo_patients(DEMO_NOW.date())["robert-chen"]
    failed = QueryStatus("consents", "Consents", "Consent?patient=…", 0, False, "the FHIR server answered HTTP 500")
    chart = (*(r for r in patient.resources() if r["resourceType"] != "Consent"), AGREEMENT_DOCUMENT)
    view = assemble(
        PageInput(chart, (), (failed,)),
        GuidelineConfig(),
        "robert-chen",
        DEMO_NOW,
        {},
    )
    consent = by_key(view.by_key["steps"].content)["consent"]
    assert consent.status == "done" and consent.tasks[0].last_done.isoformat() == "2026-03-02"
    assert "no separate consent form on record" not in consent.tasks[0].detail
    assert "Consents could not be read" in consent.tasks[0].detail
    line = _note_line(note_text(view), "Informed consent")
    assert "not known" not in line and "(recorded with the treatment agreement)" in line
