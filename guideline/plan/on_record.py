"""What the page's write-back has put on record, read leniently from raw FHIR: goals, plans, agreements, notes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from guideline.plan.goals import HOW_WE_WILL_KNOW
from guideline.record.readers import GOAL_BOUNDS

PAIN_PLAN = "80764-4"


@dataclass(frozen=True)
class RecordedItem:
    reference: str  # "Goal/12"
    kind: str  # "Function goal", "Pain treatment plan: taper", "Opioid treatment agreement", …
    text: str
    when: str  # the date as the resource states it (yyyy-mm-dd), or ""
    status: str
    version: str = ""  # meta.versionId as read: an update is sent with If-Match on it


@dataclass(frozen=True)
class OnRecord:
    goals: tuple[RecordedItem, ...]
    plans: tuple[RecordedItem, ...]
    agreements: tuple[RecordedItem, ...]
    notes: tuple[RecordedItem, ...]


def _text(concept: Any) -> str:
    if not isinstance(concept, Mapping):
        return ""
    if concept.get("text"):
        return str(concept["text"])
    for coding in concept.get("coding") or []:
        if isinstance(coding, Mapping) and coding.get("display"):
            return str(coding["display"])
    return ""


def _has_code(concepts: Any, code: str) -> bool:
    concepts = concepts if isinstance(concepts, list) else [concepts]
    return any(
        isinstance(c, Mapping) and any(isinstance(k, Mapping) and k.get("code") == code for k in c.get("coding") or [])
        for c in concepts
    )


def _item(resource: Mapping[str, Any], kind: str, text: str, when: Any, status: Any) -> RecordedItem:
    meta = resource.get("meta")
    version = meta.get("versionId") if isinstance(meta, Mapping) else None
    return RecordedItem(
        f"{resource.get('resourceType')}/{resource.get('id', '?')}",
        kind,
        text,
        str(when or "")[:10],
        str(status or ""),
        str(version) if isinstance(version, str | int) else "",
    )


def _goal_text(resource: Mapping[str, Any]) -> str:
    """The description, then how progress is measured: the goal form's "How we will know" note, or (as earlier
    versions and other apps write it) the first target's text, then a measured target and the due date."""
    targets = [t for t in resource.get("target") or [] if isinstance(t, Mapping)] or [{}]
    notes = [str(n.get("text")) for n in resource.get("note") or [] if isinstance(n, Mapping) and n.get("text")]
    known = next((n[len(HOW_WE_WILL_KNOW) :] for n in notes if n.startswith(HOW_WE_WILL_KNOW)), None)
    measure = known or targets[0].get("detailString")
    text = _text(resource.get("description")) + (f" (measure: {measure})" if measure else "")
    measured = next((t for t in targets if t.get("measure") and isinstance(t.get("detailQuantity"), Mapping)), None)
    if measured is not None:
        amount = measured["detailQuantity"]
        bound = GOAL_BOUNDS.get(str(amount.get("comparator")), "")
        text += f" ({_text(measured['measure']) or 'target'} {f'{bound} ' if bound else ''}{amount.get('value')})"
    due = next((t.get("dueDate") for t in targets if t.get("dueDate")), None)
    return text + (f" by {due}" if due else "")


def _newest_first(items: Iterable[RecordedItem]) -> tuple[RecordedItem, ...]:
    return tuple(sorted(items, key=lambda i: i.when, reverse=True))


def on_record(resources: Iterable[Mapping[str, Any]]) -> OnRecord:
    """Goals (all), pain-plan CarePlans, agreement/consent records and pain-plan notes, newest first."""
    goals, plans, agreements, notes = [], [], [], []
    for resource in resources:
        if not isinstance(resource, Mapping):
            continue
        kind = resource.get("resourceType")
        if kind == "Goal":
            categories = resource.get("category") or []
            label = next((_text(c) for c in categories if _text(c)), "Goal")
            text = _goal_text(resource)
            goals.append(_item(resource, label, text, resource.get("startDate"), resource.get("lifecycleStatus")))
        elif kind == "CarePlan" and _has_code(resource.get("category") or [], PAIN_PLAN):
            when = resource.get("created") or (resource.get("period") or {}).get("start")
            title = str(resource.get("title") or "Pain treatment plan")
            plans.append(_item(resource, title, str(resource.get("description") or ""), when, resource.get("status")))
        elif kind == "Consent":
            label = next((_text(c) for c in resource.get("category") or [] if _text(c)), "Consent")
            agreements.append(_item(resource, label, "", resource.get("dateTime"), resource.get("status")))
        elif kind == "DocumentReference" and _has_code(resource.get("type"), PAIN_PLAN):
            text = str(resource.get("description") or "")
            notes.append(
                _item(resource, "Pain treatment plan note", text, resource.get("date"), resource.get("status"))
            )
    return OnRecord(_newest_first(goals), _newest_first(plans), _newest_first(agreements), _newest_first(notes))
