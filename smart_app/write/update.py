"""Updates as read-modify-write: the goal or plan as the page read it, checked to be this patient's, with only
what the form edits changed, sent with If-Match on the version the clinician saw.

A full PUT of the form's fields would reset the record's start date and drop every element PainPlan does not
write (identifiers, the EHR's coded categories, notes, other targets and activities); and an id taken from the
form unchecked would let a tampered or stale form overwrite any record the token can write.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from guideline.plan.goals import HOW_WE_WILL_KNOW
from guideline.plan.on_record import on_record
from smart_app.write.forms import GOAL_KINDS, LOINC, PEG_PANEL, PEG_SCORE, Built, WriteContext
from smart_app.write.panel import RECORD_SEARCHES
from smart_app.write.validate import codings

VERSION_FIELD = "version."  # + the record's id: the hidden field carrying the versionId the page showed
FHIR_ID = re.compile(r"^[A-Za-z0-9.-]{1,64}$")
# One and many of each kind updated; the plural is also its list of records on file (OnRecord.goals, .plans), whose
# search is panel.RECORD_SEARCHES's: the search the page's list and the update's check both rest on is named once.
NAMES = {"Goal": ("goal", "goals"), "CarePlan": ("plan", "plans")}
PEG_MEASURES = {(LOINC, PEG_SCORE), (LOINC, PEG_PANEL[0])}
PLAN_ACTIVITIES = ("Follow-up visit", "Naloxone rescue kit", "Urine drug test")  # the decision form's, by code text
TAPER_STEP = "Taper step "


CHANGED = (
    "someone changed this {one} in the EHR after this page was opened, so it was not overwritten and nothing was "
    "saved. The records listed below show the {one} as it is now: check it, then save again"
)
UNCHECKED = (
    "PainPlan could not check whether this {one} was changed in the EHR after this page was opened (the form did "
    "not carry the version the page showed), so it was not overwritten and nothing was saved. The records listed "
    "below show the {one} as it is now: check it, then save again"
)


@dataclass(frozen=True)
class Update:
    """What to send for an update, or why nothing is sent (`refusal`, with the HTTP status to answer)."""

    resource: dict[str, Any] | None = None
    if_match: str | None = None  # W/"<versionId>"
    refusal: str = ""
    status: int = 200


def _is_patients(resource: Mapping[str, Any], patient_id: str) -> bool:
    """The record's subject is the launch's patient (a relative or an absolute reference)."""
    subject = resource.get("subject")
    reference = subject.get("reference") if isinstance(subject, Mapping) else None
    if not isinstance(reference, str):
        return False
    return reference == f"Patient/{patient_id}" or reference.endswith(f"/Patient/{patient_id}")


def offered(resources: Sequence[Mapping[str, Any]], kind: str, patient_id: str) -> dict[str, Mapping[str, Any]]:
    """The records of `kind` the page offers to update, by id: this patient's goals, and pain-plan CarePlans."""
    records = on_record(resources)
    listed = {item.reference for item in getattr(records, NAMES[kind][1])}
    return {
        str(r["id"]): r
        for r in resources
        if r.get("resourceType") == kind
        and f"{kind}/{r.get('id')}" in listed
        and FHIR_ID.match(str(r.get("id", "")))
        and _is_patients(r, patient_id)
    }


def _version(resource: Mapping[str, Any]) -> str | None:
    meta = resource.get("meta")
    version = meta.get("versionId") if isinstance(meta, Mapping) else None
    return str(version) if isinstance(version, str | int) and FHIR_ID.match(str(version)) else None


def prepare_update(
    built: Built,
    resources: Sequence[Mapping[str, Any]],
    read: str,
    patient_id: str,
    seen: str | None,
    context: WriteContext,
) -> Update:
    """The merged resource and its If-Match, or a refusal: the search for this patient's records failed (`read`,
    from `search_read`), the id is not one of them as read for the page (and when the search was cut off at the page
    limit, the refusal says the record may be among those not read), the record changed since the page showed it, or
    the form does not say which version the page showed (`seen` missing or not a FHIR id) while the record has one.
    A record found among those read is checked whole whatever was left unread: its subject and version are known."""
    assert built.resource is not None
    kind, ident = built.resource["resourceType"], built.resource["id"]
    one, many = NAMES[kind]
    if read == FAILED:
        return Update(
            refusal=f"the patient's {many} could not be read from the EHR just now, so the {one} to update could "
            "not be checked. Nothing was sent; try again in a moment",
            status=502,
        )
    existing = offered(resources, kind, patient_id).get(ident)
    if existing is None and read == CUT_OFF:
        # Not found on the pages read is not "not this patient's": it may be on a page the limit left unread.
        return Update(
            refusal=f"not all of the patient's {many} could be read from the EHR (the search stopped at the page "
            f"limit with more left), and the {one} to update was not among those read, so it could not be checked. "
            f"Nothing was sent; update the {one} in the EHR itself",
            status=502,
        )
    if existing is None:
        return Update(
            refusal=f"the {one} to update is not one of this patient's {many} in the EHR (it may have been removed "
            "or the page is out of date). Nothing was sent; reload the page and choose it again",
            status=404,
        )
    current = _version(existing)
    seen = seen if seen and FHIR_ID.match(seen) else None
    if current and not seen:
        # If-Match on the version read just now would always match: a change made since the page was shown would
        # be overwritten without a word. Only the version the page showed can tell.
        return Update(refusal=UNCHECKED.format(one=one), status=409)
    if seen and current and seen != current:
        return Update(refusal=CHANGED.format(one=one), status=409)
    merged = MERGES[kind](existing, built.resource, built.values, context)
    return Update(merged, f'W/"{seen}"' if seen else None)


def _start(existing: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the record as read, without its narrative (it would describe the record before the edit)."""
    resource = copy.deepcopy(dict(existing))
    resource.pop("text", None)
    return resource


def _put(resource: dict[str, Any], name: str, items: list[Any]) -> None:
    """Set a repeating element; FHIR JSON has no empty arrays."""
    if items:
        resource[name] = items
    else:
        resource.pop(name, None)


def _own_kind(category: Any) -> bool:
    """The goal form's kind category: text only, one of its labels."""
    return isinstance(category, Mapping) and not category.get("coding") and category.get("text") in GOAL_KINDS.values()


def _is_peg(target: Mapping[str, Any]) -> bool:
    return bool(codings(target.get("measure")) & PEG_MEASURES)


def _with_due(target: Mapping[str, Any], due: str | None) -> dict[str, Any]:
    """The target with `due` as its due date (replacing dueDate or dueDuration), or as it was when no date."""
    if not due:
        return dict(target)
    return {**{k: v for k, v in target.items() if not k.startswith("due")}, "dueDate": due}


def _goal_targets(existing: list[Any], fresh: list[dict[str, Any]], values: Mapping[str, str]) -> list[Any]:
    """A typed PEG target replaces the goal's PEG targets; a typed date becomes the due date of its PEG and unmeasured
    targets; targets measured by anything else are the EHR's and stay as they are. An unmeasured target loses a
    detail (gol-1; its text is kept as a note, below)."""
    new_peg = [t for t in fresh if t.get("measure")] if values.get("peg_target", "").strip() else []
    due = next((str(t["dueDate"]) for t in fresh if t.get("dueDate")), None)
    kept: list[dict[str, Any]] = []
    for target in (t for t in existing if isinstance(t, Mapping)):
        if new_peg and _is_peg(target):
            due = due or target.get("dueDate")  # the replaced target's date stays unless a new one was typed
        elif not target.get("measure"):
            unmeasured = _with_due({k: v for k, v in target.items() if not k.startswith("detail")}, due)
            if set(unmeasured) - {"id"}:
                kept.append(unmeasured)
        else:
            kept.append(_with_due(target, due) if _is_peg(target) else dict(target))
    kept.extend(_with_due(t, due) for t in new_peg)
    if due and not any(t.get("dueDate") == due for t in kept):
        kept.append({"dueDate": due})
    unique: list[dict[str, Any]] = []
    for target in kept:
        if target not in unique:
            unique.append(target)
    return unique


def _old_measures(existing: list[Any]) -> list[str]:
    """What goals written before gol-1 was checked put in target.detailString with no measure."""
    return [
        str(t["detailString"])
        for t in existing
        if isinstance(t, Mapping) and t.get("detailString") and not t.get("measure")
    ]


def _goal_notes(existing: Mapping[str, Any], fresh: Mapping[str, Any]) -> list[Any]:
    """A typed "How we will know" replaces the one on the goal; an untyped one keeps it (moved into a note when
    an earlier PainPlan wrote it as a target detail without a measure, which gol-1 forbids)."""
    notes = [n for n in existing.get("note") or [] if isinstance(n, Mapping)]
    typed = list(fresh.get("note") or [])
    if typed:
        return [n for n in notes if not str(n.get("text", "")).startswith(HOW_WE_WILL_KNOW)] + typed
    return notes + [{"text": f"{HOW_WE_WILL_KNOW}{text}"} for text in _old_measures(existing.get("target") or [])]


def merged_goal(
    existing: Mapping[str, Any], fresh: Mapping[str, Any], values: Mapping[str, str], context: WriteContext
) -> dict[str, Any]:
    """The goal as read with the form's fields: description, kind, status, and what was typed of the PEG target,
    date and "How we will know". Start date, identifiers, coded categories, other targets and notes stay."""
    goal = _start(existing)
    described = existing.get("description")
    if not isinstance(described, Mapping) or described.get("text") != fresh["description"]["text"]:
        goal["description"] = fresh["description"]
    categories = [c for c in existing.get("category") or [] if not _own_kind(c)]
    _put(goal, "category", categories + list(fresh["category"]))
    if existing.get("lifecycleStatus") != fresh["lifecycleStatus"]:
        goal["lifecycleStatus"] = fresh["lifecycleStatus"]
        goal["statusDate"] = context.now.date().isoformat()
    if "achievementStatus" in fresh:
        goal["achievementStatus"] = fresh["achievementStatus"]
    _put(goal, "target", _goal_targets(list(existing.get("target") or []), list(fresh.get("target") or []), values))
    _put(goal, "note", _goal_notes(existing, fresh))
    if "expressedBy" not in goal and "expressedBy" in fresh:
        goal["expressedBy"] = fresh["expressedBy"]
    return goal


def _activity_kind(activity: Any) -> str:
    """Which decision-form activity this is ("Follow-up visit", …, "taper"), or "" for anyone else's."""
    detail = activity.get("detail") if isinstance(activity, Mapping) else None
    code = detail.get("code") if isinstance(detail, Mapping) else None
    text = str(code.get("text", "")) if isinstance(code, Mapping) else ""
    if text.startswith(TAPER_STEP):
        return "taper"
    return text if text in PLAN_ACTIVITIES else ""


def _plan_activities(existing: list[Any], fresh: list[dict[str, Any]]) -> list[Any]:
    """The form's activities replace those of the same kind (keeping what others recorded on them, such as
    progress or outcomes); a new taper schedule replaces the old steps; everything else stays."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for activity in fresh:
        by_kind.setdefault(_activity_kind(activity), []).append(activity)
    result: list[Any] = []
    for activity in existing:
        kind = _activity_kind(activity)
        if kind == "taper" and "taper" in by_kind:
            continue
        if kind and kind != "taper" and kind in by_kind:
            new = by_kind.pop(kind)[0]
            old_detail = {k: v for k, v in activity["detail"].items() if not k.startswith("scheduled")}
            result.append({**activity, "detail": {**old_detail, **new["detail"]}})
            continue
        result.append(activity)
    return result + [a for activities in by_kind.values() for a in activities]


def _plan_categories(existing: list[Any], fresh: list[dict[str, Any]], context: WriteContext) -> list[Any]:
    """The earlier decision's category gives way to the new one; the plan's other categories stay."""
    decision_system = context.decision_system
    kept = [
        c
        for c in existing
        if not (
            decision_system
            and isinstance(c, Mapping)
            and any(isinstance(k, Mapping) and k.get("system") == decision_system for k in c.get("coding") or [])
        )
    ]
    return kept + [c for c in fresh if c not in kept]


def merged_plan(
    existing: Mapping[str, Any], fresh: Mapping[str, Any], values: Mapping[str, str], context: WriteContext
) -> dict[str, Any]:
    """The plan as read with the new decision: status, categories, title, description and the form's activities.
    Created, period, identifiers, author, goals, notes and others' activities stay; the user joins contributors."""
    plan = _start(existing)
    plan["status"] = fresh["status"]
    _put(plan, "category", _plan_categories(list(existing.get("category") or []), list(fresh["category"]), context))
    plan["title"] = fresh["title"]
    plan["description"] = fresh["description"]
    _put(plan, "activity", _plan_activities(list(existing.get("activity") or []), list(fresh["activity"])))
    for name in ("period", "created"):
        if name not in plan:
            plan[name] = fresh[name]
    if "author" in fresh:
        if "author" not in plan:
            plan["author"] = fresh["author"]
        elif plan["author"] != fresh["author"] and fresh["author"] not in plan.get("contributor", []):
            plan["contributor"] = [*plan.get("contributor", []), fresh["author"]]
    return plan


MERGES: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any], Mapping[str, str], WriteContext], dict[str, Any]]] = {
    "Goal": merged_goal,
    "CarePlan": merged_plan,
}


READ, FAILED, CUT_OFF = "read", "failed", "cut off"


def search_read(statuses: Iterable[Any], kind: str) -> str:
    """How the page's search for this kind of record went: READ in full, FAILED (nothing to check against), or
    CUT_OFF at the page limit (`prefetch.page_cap` pages followed, a next link left): a record not among those read
    may still be the patient's, so its absence decides nothing."""
    mine = [status for status in statuses if status.key == RECORD_SEARCHES[NAMES[kind][1]]]
    if not all(status.ok for status in mine):
        return FAILED
    return CUT_OFF if any(status.truncated for status in mine) else READ
