"""The write-back forms: what each one asks, how its input is read, and the FHIR R4 resource it becomes."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from guideline.plan import scores
from guideline.plan.goals import HOW_WE_WILL_KNOW
from guideline.taper_doses import DoseSchedule
from smart_app.date_limits import DateLimits

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
# The PEG codes written are the ones the plan page reads back (guideline.plan.scores): one list of codes.
PEG_PANEL = (scores.PEG_PANEL, "PEG pain, enjoyment of life and general activity panel")
PEG_SCORE = scores.PEG_MEAN
PEG_SCORE_DISPLAY = "Mean score [PEG]"
SCORE_UNIT = {"unit": "{score}", "system": UCUM, "code": "{score}"}
_PAIN, _ENJOYMENT, _ACTIVITY = scores.PEG_ITEMS
PEG_ITEMS = (  # (form field, LOINC, what the patient was asked)
    ("pain", _PAIN, "Average pain in the past week (0-10)"),
    ("enjoyment", _ENJOYMENT, "Pain interfered with enjoyment of life in the past week (0-10)"),
    ("activity", _ACTIVITY, "Pain interfered with general activity in the past week (0-10)"),
)
PAIN_PLAN = "80764-4"  # Pain medicine Plan of care note: the code the treatment-plan check looks for
AGREEMENT = "94136-9"
CONSENT = "59284-0"
DECISIONS = {
    "continue": "Continue the current opioid therapy",
    "adjust": "Adjust the opioid therapy",
    "taper": "Taper the opioid dose",
    "stop": "Stop opioid therapy (by tapering, never abruptly)",
}
GOAL_KINDS = {"function": "Function goal", "pain": "Pain goal"}
FHIR_ID = re.compile(r"^[A-Za-z0-9.-]{1,64}$")
MAX_TEXT = 4000
# Below U+0020 a FHIR string holds only tab, LF and CR.
UNSAVABLE = re.compile(r"[\x00-\x08\x0e-\x1f]")
# Word's manual line break (vertical tab) and page break (form feed) are breaks between words: stored as a line
# break, so "mailbox\vand back" keeps its meaning rather than becoming "mailboxand back".
LINE_BREAKS = str.maketrans({"\v": "\n", "\f": "\n"})
# Lines before the text with nothing on them but spaces or tabs.
LEADING_BLANK_LINES = re.compile(r"\A(?:[^\S\r\n]*(?:\r\n|\r|\n))+")
MAX_NOTE = 20000
# Each form's free-text fields, with the words naming each on the save's result when characters had to be removed.
TEXT_FIELDS: dict[str, dict[str, str]] = {
    "goal": {"description": "the goal text", "measure": "“How we will know”"},
    "agreement": {"note": "“What was discussed”"},
    "consent": {"note": "“What was discussed”"},
    "decision": {"reasons": "the reasons"},
    "note": {"note_text": "the note"},
}


@dataclass(frozen=True)
class WriteContext:
    """Who and when: the launch's patient and user, the evaluation moment, and the taper on the page."""

    patient_id: str
    user: str | None
    now: datetime
    schedule: DoseSchedule | None = None
    taper_description: str = ""
    # guideline.plan.decision's category and decision code system, so the Decide step reads the plan back
    decision_category: Mapping[str, str] | None = None
    decision_system: str = ""
    limits: DateLimits = DateLimits()
    # The visit the page was launched in (the token response's `encounter`), checked as a FHIR id by the launch
    encounter_id: str | None = None


@dataclass(frozen=True)
class Built:
    """A form read: the values as typed, field errors, and the resource with how to send it."""

    kind: str
    values: Mapping[str, str]
    errors: Mapping[str, str] = field(default_factory=dict)
    resource: dict[str, Any] | None = None
    method: str = "POST"

    @property
    def removed(self) -> dict[str, int]:
        """How many characters a FHIR string cannot hold were taken out of each of the form's text fields, by field
        name; only fields that lost some."""
        counts = {name: len(UNSAVABLE.findall(self.values.get(name, ""))) for name in TEXT_FIELDS.get(self.kind, {})}
        return {name: count for name, count in counts.items() if count}

    @property
    def target(self) -> str:
        assert self.resource is not None
        kind = self.resource["resourceType"]
        return f"{kind}/{self.resource['id']}" if self.method == "PUT" else kind


def _subject(context: WriteContext) -> dict[str, str]:
    return {"reference": f"Patient/{context.patient_id}"}


def _visit(context: WriteContext) -> dict[str, str] | None:
    """The launch's encounter as a reference, None for a launch outside a visit (standalone): Epic files a note and a
    flowsheet row in an encounter, and a record naming none is refused or lands outside the visit."""
    return {"reference": f"Encounter/{context.encounter_id}"} if context.encounter_id else None


def _author(context: WriteContext) -> list[dict[str, str]]:
    """The launch user when the EHR named one as a FHIR reference (Practitioner/…, PractitionerRole/…)."""
    user = context.user or ""
    kind, _, ident = user.rpartition("/")
    kind = kind.rsplit("/", 1)[-1]
    if kind in ("Practitioner", "PractitionerRole") and FHIR_ID.match(ident):
        return [{"reference": f"{kind}/{ident}"}]
    return []


def _text(
    values: Mapping[str, str], name: str, errors: dict[str, str], required: str = "", limit: int = MAX_TEXT
) -> str:
    """A text field as typed, its page and manual line breaks as line breaks, without the control characters FHIR
    strings cannot hold (pasted text carries them unseen; an EHR refuses the record, or stores what its other readers
    cannot show). Built.removed counts them, and the save's result says so: a field cleaned here is listed in
    TEXT_FIELDS. The whitespace around the text that shows nothing is trimmed (_trimmed), and not counted."""
    value = _trimmed(UNSAVABLE.sub("", values.get(name, "").translate(LINE_BREAKS)))
    if required and not value:
        errors[name] = required
    elif len(value) > limit:
        errors[name] = f"Please keep this under {limit} characters."
    return value


def _trimmed(value: str) -> str:
    """The text without the whitespace around it that shows nothing, so it is trimmed without a word: blank lines
    before and after it, spaces at its end, and a one-line text's leading spaces. A text of several lines keeps its
    first line's indentation, which lines it up with the lines below (an indented list), as typed."""
    value = LEADING_BLANK_LINES.sub("", value).rstrip()
    return value if "\n" in value or "\r" in value else value.lstrip()


EARLIEST_DAY = date(1900, 1, 1)


def _day(values: Mapping[str, str], name: str, errors: dict[str, str], required: str = "") -> date | None:
    raw = values.get(name, "").strip()
    if not raw:
        if required:
            errors[name] = required
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors[name] = "Use a date like 2026-06-15."
        return None
    if day < EARLIEST_DAY:  # a mistyped year (0026, 1026) would otherwise be written to the chart as entered
        errors[name] = "Check the year: use a date like 2026-06-15."
        return None
    return day


def _years_after(day: date, years: int) -> date:
    """The same day `years` later (29 February becomes the 28th in a year that has none)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _not_after(day: date | None, years: int, today: date, name: str, errors: dict[str, str], what: str) -> None:
    """A field error when `day` is more than `years` after today."""
    if day is not None and name not in errors and day > _years_after(today, years):
        span = "a year" if years == 1 else f"{years} years"
        errors[name] = f"{what} is more than {span} away; check the year."


def date_ranges(today: date, limits: DateLimits) -> dict[str, tuple[date, date]]:
    """The first and last day each form's date input takes, by the input's id: the bounds the builders check, which
    the page gives the browser as min and max. A goal's due date may be before today only on a goal on record, or one
    completed or cancelled, so its input allows any day from EARLIEST_DAY and the save checks the rest."""
    up_to_today = (EARLIEST_DAY, today)
    return {
        "peg-date": up_to_today,
        "consent-date": up_to_today,
        "agreement-date": up_to_today,
        "goal-due": (EARLIEST_DAY, _years_after(today, limits.goal_due_years)),
        "decision-follow-up": (today, _years_after(today, limits.follow_up_years)),
    }


def _score(values: Mapping[str, str], name: str, errors: dict[str, str]) -> int | None:
    raw = values.get(name, "").strip()
    # isdecimal, not isdigit: '²' is a digit that int() cannot read (it crashed the save, losing what was typed).
    if not raw.isdecimal() or not 0 <= int(raw) <= 10:
        errors[name] = "A whole number from 0 to 10."
        return None
    return int(raw)


def _existing_id(values: Mapping[str, str], errors: dict[str, str]) -> str:
    ident = values.get("resource_id", "").strip()
    if ident and not FHIR_ID.match(ident):
        errors["resource_id"] = "This is not a FHIR id."
        return ""
    return ident


def _plain_attachment(text: str, title: str, when: datetime) -> dict[str, Any]:
    return {
        "contentType": "text/plain; charset=utf-8",
        "language": "en",
        "data": base64.b64encode(text.encode("utf-8")).decode("ascii"),
        "title": title,
        "creation": when.isoformat(timespec="seconds"),
    }


def peg(values: Mapping[str, str], context: WriteContext) -> Built:
    errors: dict[str, str] = {}
    scores = {name: _score(values, name, errors) for name, _, _ in PEG_ITEMS}
    day = _day(values, "date", errors) or context.now.date()
    if day > context.now.date():
        errors["date"] = "The score cannot be dated in the future."
    if errors:
        return Built("peg", values, errors)
    mean = sum(v for v in scores.values() if v is not None) / 3
    components = [
        {
            "code": {"coding": [{"system": LOINC, "code": code}], "text": text},
            "valueQuantity": {"value": scores[name], "unit": "{score}", "system": UCUM, "code": "{score}"},
        }
        for name, code, text in PEG_ITEMS
    ]
    components.append(
        {
            "code": {"coding": [{"system": LOINC, "code": PEG_SCORE}], "text": "PEG score (mean of the three items)"},
            "valueQuantity": {"value": round(mean, 1), "unit": "{score}", "system": UCUM, "code": "{score}"},
        }
    )
    resource = {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}]}
        ],
        "code": {"coding": [{"system": LOINC, "code": PEG_PANEL[0], "display": PEG_PANEL[1]}], "text": "PEG"},
        "subject": _subject(context),
        "encounter": _visit(context),
        "effectiveDateTime": day.isoformat(),
        "issued": context.now.isoformat(timespec="seconds"),
        "performer": _author(context) or None,
        "component": components,
    }
    return Built("peg", values, {}, {k: v for k, v in resource.items() if v is not None})


def _peg_target(values: Mapping[str, str], kind: str, errors: dict[str, str]) -> int | None:
    """The PEG score the goal aims at (at or below), optional; the PEG measures pain, so only on a pain goal."""
    if not values.get("peg_target", "").strip():
        return None
    score = _score(values, "peg_target", errors)
    if score is not None and kind != "pain":
        errors["peg_target"] = "A PEG score target goes with a pain goal: choose Pain goal, or leave it empty."
        return None
    return score


def _goal_targets(peg_target: int | None, due: date | None) -> list[dict[str, Any]]:
    """A coded PEG target when one was given (gol-1: a target's detail needs its measure), else only the due date."""
    target: dict[str, Any] = {}
    if peg_target is not None:
        target["measure"] = {
            "coding": [{"system": LOINC, "code": PEG_SCORE, "display": PEG_SCORE_DISPLAY}],
            "text": "PEG score",
        }
        target["detailQuantity"] = {"value": peg_target, "comparator": "<=", **SCORE_UNIT}
    if due:
        target["dueDate"] = due.isoformat()
    return [target] if target else []


def how_we_will_know(measure: str, context: WriteContext) -> dict[str, Any]:
    """The free-text "How we will know" as a Goal.note: R4 allows a free-text target detail only with a coded
    measure (gol-1), and the note keeps it as typed, dated and signed."""
    annotation: dict[str, Any] = {
        "text": f"{HOW_WE_WILL_KNOW}{measure}",
        "time": context.now.isoformat(timespec="seconds"),
    }
    if author := _author(context):
        annotation["authorReference"] = author[0]
    return annotation


def goal(values: Mapping[str, str], context: WriteContext) -> Built:
    errors: dict[str, str] = {}
    kind = values.get("goal_kind", "")
    if kind not in GOAL_KINDS:
        errors["goal_kind"] = "Choose a function goal or a pain goal."
    description = _text(values, "description", errors, "Describe the goal in the patient's words.")
    measure = _text(values, "measure", errors)
    peg_target = _peg_target(values, kind, errors)
    due = _day(values, "due", errors)
    today = context.now.date()
    _not_after(due, context.limits.goal_due_years, today, "due", errors, "The due date")
    status = values.get("status", "active")
    if status not in ("active", "completed", "cancelled", "on-hold"):
        errors["status"] = "Choose a status."
    ident = _existing_id(values, errors)
    # A goal on file may keep a due date that has passed; a new goal still to be met cannot start overdue.
    if due is not None and "due" not in errors and due < today and not ident and status in ("active", "on-hold"):
        errors["due"] = "A new goal's due date is in the past; check the year."
    if errors:
        return Built("goal", values, errors)
    resource: dict[str, Any] = {
        "resourceType": "Goal",
        "lifecycleStatus": status,
        "category": [{"text": GOAL_KINDS[kind]}],
        "description": {"text": description},
        "subject": _subject(context),
        "startDate": context.now.date().isoformat(),
    }
    if status == "completed":
        resource["achievementStatus"] = {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/goal-achievement", "code": "achieved"}]
        }
    if targets := _goal_targets(peg_target, due):
        resource["target"] = targets
    if measure:
        resource["note"] = [how_we_will_know(measure, context)]
    if author := _author(context):
        resource["expressedBy"] = author[0]
    return _create_or_update("goal", values, resource, ident)


def _create_or_update(form: str, values: Mapping[str, str], resource: dict[str, Any], ident: str | None) -> Built:
    """A create (POST), or with the id of a resource already on record an update of it (PUT)."""
    if ident:
        resource["id"] = ident
    return Built(form, values, {}, resource, "PUT" if ident else "POST")


def agreement(values: Mapping[str, str], context: WriteContext) -> Built:
    errors: dict[str, str] = {}
    kind = values.get("agreement_kind", "")
    if kind not in ("agreement", "consent"):
        errors["agreement_kind"] = "Choose the treatment agreement or informed consent."
    day = _day(values, "date", errors) or context.now.date()
    if day > context.now.date():
        errors["date"] = "The agreement cannot be dated in the future."
    note = _text(values, "note", errors)
    if errors:
        return Built("agreement", values, errors)
    if kind == "agreement":
        category = {"coding": [{"system": LOINC, "code": AGREEMENT}], "text": "Opioid treatment agreement"}
        title = "Opioid treatment agreement"
    else:
        category = {"coding": [{"system": LOINC, "code": CONSENT}], "text": "Informed consent for opioid therapy"}
        title = "Informed consent for opioid therapy"
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "status": "active",
        "scope": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "treatment"}],
        },
        "category": [category],
        "patient": _subject(context),
        # Only a date was entered: today's gets the moment it was recorded, another day stays a date (no made-up
        # time, and no offset of that day's zone rules, which before standard time had seconds FHIR cannot hold).
        "dateTime": context.now.isoformat(timespec="seconds") if day == context.now.date() else day.isoformat(),
        "performer": [_subject(context)],  # the patient is the one who agrees
        "policyRule": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}],
            "text": "Discussed and agreed with the clinician",
        },
    }
    if note:
        resource["sourceAttachment"] = _plain_attachment(note, title, context.now)
    return Built("agreement", values, {}, resource)


def _activity(kind: str, text: str, description: str, status: str = "not-started", **when: Any) -> dict[str, Any]:
    """One CarePlan.activity.detail; `when` is its scheduledString or scheduledPeriod."""
    return {"detail": {"kind": kind, "code": {"text": text}, "status": status, **when, "description": description}}


def _taper_activities(context: WriteContext) -> list[dict[str, Any]]:
    if context.schedule is None:
        return []
    activities = []
    for step in context.schedule.steps[1:]:
        parts = [
            f"{d.label}: {d.units_display} {d.unit_word}(s) of {format(d.strength_mg.normalize(), 'f')} mg a day "
            f"({d.dose_display})"
            if d.units_per_day
            else f"{d.name}: stop"
            for d in step.doses
        ]
        period = {"start": step.start.isoformat()}
        if step.total_mme > 0:
            period["end"] = step.end.isoformat()
        description = f"Taper step {step.number}: " + "; ".join(parts)
        description += f" (about {step.total_display} MME/day). {step.note}".rstrip()
        activities.append(
            _activity("MedicationRequest", f"Taper step {step.number}", description, scheduledPeriod=period)
        )
    return activities


def _plan_categories(choice: str, context: WriteContext) -> list[dict[str, Any]]:
    """LOINC 80764-4 (what the treatment-plan check accepts), PainPlan's decision category and the decision."""
    categories: list[dict[str, Any]] = [
        {"coding": [{"system": LOINC, "code": PAIN_PLAN, "display": "Pain medicine Plan of care note"}]}
    ]
    if context.decision_category:
        categories.append({"coding": [dict(context.decision_category)]})
    if context.decision_system:
        categories.append({"coding": [{"system": context.decision_system, "code": choice}], "text": DECISIONS[choice]})
    return categories


def decision(values: Mapping[str, str], context: WriteContext) -> Built:
    errors: dict[str, str] = {}
    choice = values.get("decision", "")
    if choice not in DECISIONS:
        errors["decision"] = "Choose continue, adjust, taper or stop."
    reasons = _text(values, "reasons", errors, "Say why, in a sentence or two.")
    follow_up = _day(values, "follow_up", errors, "Set the follow-up date.")
    if follow_up and follow_up < context.now.date():
        errors["follow_up"] = "The follow-up date is in the past."
    _not_after(follow_up, context.limits.follow_up_years, context.now.date(), "follow_up", errors, "The follow-up date")
    ident = _existing_id(values, errors)
    include_taper = values.get("include_taper") == "on"
    if include_taper and (context.schedule is None or not context.schedule.steps):
        errors["include_taper"] = "There is no dose schedule to add; calculate one in the tapering section first."
    if errors:
        return Built("decision", values, errors)
    activities = [
        _activity(
            "Appointment",
            "Follow-up visit",
            "Follow-up visit: reassess pain, function, goals and harms",
            status="scheduled",
            scheduledString=follow_up.isoformat() if follow_up else "",
        )
    ]
    if values.get("naloxone") == "on":
        activities.append(
            _activity(
                "MedicationRequest",
                "Naloxone rescue kit",
                "Naloxone: prescribe it and show the patient and family how to use it",
            )
        )
    if values.get("urine_test") == "on":
        activities.append(
            _activity("ServiceRequest", "Urine drug test", "Urine drug test, discussed with the patient beforehand")
        )
    if include_taper:
        activities.extend(_taper_activities(context))
    description = f"Decision: {choice}. {DECISIONS[choice]}. Reasons: {reasons}"
    if include_taper and context.taper_description:
        description += f" Taper: {context.taper_description}."
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "status": "active",
        "intent": "plan",
        "category": _plan_categories(choice, context),
        "title": f"Pain treatment plan: {choice}",
        "description": description,
        "subject": _subject(context),
        "period": {"start": context.now.date().isoformat()},
        "created": context.now.isoformat(timespec="seconds"),
        "activity": activities,
    }
    if author := _author(context):
        resource["author"] = author[0]
    if visit := _visit(context):  # a plan updated keeps the visit it was made in (update.merged_plan)
        resource["encounter"] = visit
    return _create_or_update("decision", values, resource, ident)


def note(values: Mapping[str, str], context: WriteContext) -> Built:
    errors: dict[str, str] = {}
    text = _text(values, "note_text", errors, "The note is empty.", MAX_NOTE)
    if errors:
        return Built("note", values, errors)
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [{"system": LOINC, "code": PAIN_PLAN, "display": "Pain medicine Plan of care note"}]},
        "subject": _subject(context),
        "date": context.now.isoformat(timespec="seconds"),
        "description": "Pain treatment plan note (PainPlan)",
        "content": [{"attachment": _plain_attachment(text, "Pain treatment plan", context.now)}],
    }
    if author := _author(context):
        resource["author"] = author
    if visit := _visit(context):
        resource["context"] = {"encounter": [visit]}
    return Built("note", values, {}, resource)


def treatment_agreement(values: Mapping[str, str], context: WriteContext) -> Built:
    built = agreement({**values, "agreement_kind": "agreement"}, context)
    return Built("agreement", values, built.errors, built.resource)


def informed_consent(values: Mapping[str, str], context: WriteContext) -> Built:
    built = agreement({**values, "agreement_kind": "consent"}, context)
    return Built("consent", values, built.errors, built.resource)


# form key -> (builder, what it saves in words, resource type it writes)
FORMS: dict[str, tuple[Callable[[Mapping[str, str], WriteContext], Built], str, str]] = {
    "peg": (peg, "the PEG score", "Observation"),
    "goal": (goal, "the goal", "Goal"),
    "consent": (informed_consent, "the informed consent", "Consent"),
    "agreement": (treatment_agreement, "the treatment agreement", "Consent"),
    "decision": (decision, "the decision and plan", "CarePlan"),
    "note": (note, "the note", "DocumentReference"),
}
