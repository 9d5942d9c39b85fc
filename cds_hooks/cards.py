"""Turn `guideline.cards.Card` into CDS Hooks 2.0.1 card JSON: uuids, source topic, suggestions, links."""

from __future__ import annotations

import copy
import json
import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from fhir.resources.R4B import get_fhir_model_class

from guideline.cards import SUMMARY_LIMIT, Card, Link, Suggestion
from guideline.config import GuidelineConfig

log = logging.getLogger(__name__)

DATA_INCOMPLETE = "data-incomplete"

# The check's short name, sent as source.topic.display (guideline 10.0.1 and the section titles of 10).
CHECK_TITLES: dict[str, str] = {
    "high-mme": "High total daily opioid dose",
    "opioid-benzodiazepine": "Opioid with a benzodiazepine or other CNS depressant",
    "urine-drug-test": "No urine drug test in 12 months",
    "unexpected-uds-result": "Unexpected urine drug test results",
    "naloxone": "Offer naloxone",
    "er-la-opioid-naive": "Long-acting opioid for an opioid-naive patient",
    "acute-duration": "Acute prescription longer than needed",
    "reassessment-due": "Benefit and harm evaluation overdue",
    "pdmp-review": "PDMP not reviewed recently",
    "oud-treatment": "Opioid use disorder without medication treatment",
    "nonopioid-first": "Non-opioid options first",
    "treatment-plan": "No pain treatment plan",
    DATA_INCOMPLETE: "Patient data incomplete",
}

# Resource types whose `subject` must name the context patient when we suggest creating one.
_SUBJECT_TYPES = frozenset({"MedicationRequest", "ServiceRequest", "Task", "CommunicationRequest", "CarePlan"})

# appContext travels in the launch URL or token response at some EHRs: keep it short.
APP_CONTEXT_ORDERS = 20


@dataclass(frozen=True)
class CardOptions:
    """What the face adds to every card: where the plan view launches, and which patient is in context."""

    config: GuidelineConfig
    launch_url: str
    send_app_context: bool = True
    patient_id: str | None = None


def options_for(config: GuidelineConfig, public_url: str, patient_id: str | None) -> CardOptions:
    smart = config["smart_app"]
    launch = smart.get("launch_url") or public_url.rstrip("/") + "/launch"
    return CardOptions(config, launch, bool(smart.get("send_app_context", True)), patient_id)


def topic_code(check_id: str, config: GuidelineConfig) -> str:
    """Epic needs an alphanumeric topic code; the stored check id keeps its hyphens."""
    return re.sub(r"[^A-Za-z0-9]", "", check_id) if config["topic_code_style"] == "alnum" else check_id


def prune(value: Any) -> Any:
    """Drop null, empty strings, empty lists and empty objects at every depth (CDS Hooks forbids them)."""
    if isinstance(value, Mapping):
        pruned = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if not _empty(v)}
    if isinstance(value, (list, tuple)):
        return [item for item in (prune(v) for v in value) if not _empty(item)]
    return value


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict, tuple)) and len(value) == 0)


def empty_paths(value: Any, path: str = "$") -> list[str]:
    """Where a JSON value holds a null or empty value (used by the tests and a debug assertion)."""
    if _empty(value):
        return [path]
    found: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            found += empty_paths(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found += empty_paths(item, f"{path}[{index}]")
    return found


# Card details quote EHR text (medication names, free-text sigs), and GFM renders raw HTML and any link scheme.
# Our own markdown uses neither, so a tag opener becomes the entity &lt; (shown as "<", and unlike a backslash
# escape it cannot be undone by a backslash in the quoted text) and a script link target is defused;
# "< 50 MME" and https links are left alone.
_TAG_OPENER = re.compile(r"<(?=\s*[A-Za-z/!?])")
_SCRIPT_TARGET = re.compile(
    r"(\]\(\s*|^\s*\[[^\]\n]*\]:\s*)(?:javascript|vbscript|data|file):", re.IGNORECASE | re.MULTILINE
)


# CommonMark decodes entities inside link targets, so "java&#115;cript&colon;" would spell a script link.
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


def safe_markdown(text: str) -> str:
    """Card markdown with raw HTML tags and script/data link targets from quoted EHR text made harmless."""
    plain = _TAG_OPENER.sub("&lt;", _ENTITY.sub("&amp;", text))
    return _SCRIPT_TARGET.sub(r"\1#blocked:", plain)


def _absolute(url: str) -> bool:
    parts = urlsplit(url or "")
    return parts.scheme in ("https", "http") and bool(parts.netloc)


@lru_cache(maxsize=512)
def _validation_error(canonical: str) -> str | None:
    """The R4B validation error of a resource (by its canonical JSON), cached: suggestions repeat call after call."""
    resource = json.loads(canonical)
    try:
        get_fhir_model_class(str(resource.get("resourceType"))).model_validate(resource)
    except Exception as error:  # noqa: BLE001 - pydantic, KeyError for unknown types: all mean "do not send"
        return type(error).__name__
    return None


def _valid_resource(resource: Mapping[str, Any], check_id: str) -> bool:
    error = _validation_error(json.dumps(resource, sort_keys=True, separators=(",", ":")))
    if error is not None:
        kind = str(resource.get("resourceType"))[:40]
        log.error(json.dumps({"event": "suggestion-dropped", "check": check_id, "resourceType": kind, "error": error}))
        return False
    return True


def _action(suggestion: Suggestion, options: CardOptions, check_id: str) -> dict[str, Any] | None:
    if suggestion.action == "delete":
        target = suggestion.resource_id or ""
        if "/" not in target:
            return None
        return {"type": "delete", "description": suggestion.description, "resourceId": target}
    if suggestion.resource is None:
        return None
    resource = copy.deepcopy(dict(suggestion.resource))
    if options.patient_id and resource.get("resourceType") in _SUBJECT_TYPES:
        resource["subject"] = {"reference": f"Patient/{options.patient_id}"}
    resource = prune(resource)
    if not _valid_resource(resource, check_id):
        return None
    return {"type": "create", "description": suggestion.description, "resource": resource}


def _link(link: Link, card: Card, options: CardOptions) -> dict[str, Any] | None:
    if link.type == "smart" and link.url:
        # Another SMART app (a state PDMP app): its own launch URL, and our appContext means nothing to it.
        return {"label": link.label, "url": link.url, "type": "smart"} if _absolute(link.url) else None
    if link.type == "smart":
        result: dict[str, Any] = {"label": link.label, "url": options.launch_url, "type": "smart"}
        if options.send_app_context:
            context: dict[str, Any] = {"view": link.view or card.view, "check": card.check_id}
            if card.orders:
                context["orders"] = list(card.orders[:APP_CONTEXT_ORDERS])
            result["appContext"] = json.dumps(context, separators=(",", ":"))
        return result if _absolute(options.launch_url) else None
    if not _absolute(link.url):
        return None  # EHRs drop or break on relative links; never send one
    return {"label": link.label, "url": link.url, "type": "absolute"}


def card_json(card: Card, options: CardOptions) -> dict[str, Any]:
    """One CDS Hooks card with fresh uuids; invalid suggested resources are left out, never sent."""
    config = options.config
    suggestions = []
    for suggestion in card.suggestions:
        action = _action(suggestion, options, card.check_id)
        if action is None:
            continue
        entry: dict[str, Any] = {"label": suggestion.label, "uuid": str(uuid.uuid4()), "actions": [action]}
        if suggestion.is_recommended:
            entry["isRecommended"] = True
        suggestions.append(entry)
    links = [link for link in (_link(item, card, options) for item in card.links) if link]
    if not any(link["type"] == "smart" for link in links):
        plan = _link(Link(label="Open PainPlan", type="smart", view=card.view), card, options)
        if plan:
            links.append(plan)
    result: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": card.summary[:SUMMARY_LIMIT],
        "indicator": card.indicator,
        "detail": safe_markdown(card.detail) if card.detail else None,
        "source": {
            "label": config["source_label"],
            "url": config["source_url"] if _absolute(config["source_url"]) else None,
            "topic": {
                "system": f"{config['canonical_base']}/CodeSystem/painplan-check",
                "code": topic_code(card.check_id, config),
                "display": CHECK_TITLES.get(card.check_id, card.check_id),
            },
        },
        "suggestions": suggestions,
        "selectionBehavior": "any" if suggestions else None,
        "overrideReasons": [
            {"system": r.system, "code": r.code, "display": r.display} for r in card.override_reasons if r.display
        ],
        "links": links,
    }
    return prune(result)


def data_incomplete_card(gaps: Mapping[str, str]) -> Card:
    """The info card that says which data could not be read, so a missing card is never read as "all clear"."""
    lines = "\n".join(f"- {what}: {why}" for what, why in gaps.items())
    detail = (
        "PainPlan could not read all of the patient data its checks need, so some cards may be missing or "
        "based on partial information.\n\n"
        f"{lines}\n\n"
        "Review the medication list and recent results directly, or open PainPlan for the full plan."
    )
    return Card(
        check_id=DATA_INCOMPLETE,
        indicator="info",
        summary="Some patient data could not be read; opioid safety checks may be incomplete",
        detail=detail,
    )
