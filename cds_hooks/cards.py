"""Turn `guideline.cards.Card` into CDS Hooks 2.0.1 card JSON: uuids, source topic, suggestions, links."""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError

from cds_hooks.ehr_release import R4, RELEASES, Release
from cds_hooks.notices import CHECKS_NOT_RUN, DATA_INCOMPLETE
from guideline.cards import (
    ADDRESSING,
    PATIENT_ELEMENTS,
    WRITTEN_ELEMENTS,
    Card,
    Link,
    Suggestion,
    addressed,
    patient_element,
)
from guideline.config import GuidelineConfig
from guideline.json_text import compact_json
from guideline.memo import MISSING, WeakIdentityMemo
from guideline.plan.what_if import carried_as_draft, compact_drafts_json
from guideline.record import resources_in
from guideline.record.identity import ORDER_TYPES

log = logging.getLogger(__name__)

# The check's short name, sent as source.topic.display (guideline 10.0.1 and the section titles of 10).
CHECK_TITLES: dict[str, str] = {
    "high-mme": "High total daily opioid dose",
    "opioid-benzodiazepine": "Opioid with a benzodiazepine or other CNS depressant",
    "urine-drug-test": "No urine drug test in 12 months",
    "unexpected-uds-result": "Unexpected urine drug test results",
    "naloxone": "Offer naloxone",
    "er-la-opioid-naive": "Long-acting or tolerant-only opioid for an opioid-naive patient",
    "acute-duration": "Acute prescription longer than needed",
    "reassessment-due": "Benefit and harm evaluation overdue",
    "pdmp-review": "PDMP not reviewed recently",
    "oud-treatment": "Opioid use disorder without medication treatment",
    "nonopioid-first": "Non-opioid options first",
    "treatment-plan": "No pain treatment plan",
    DATA_INCOMPLETE: "Patient data incomplete",
    CHECKS_NOT_RUN: "Some checks did not run",
}

# The releases PainPlan writes suggested resources in, and the models each is validated with (ehr_release.RELEASES).
# Any other (DSTU2, R5: PainPlan has no models to vouch for them) is offered no resource to create, and the card says
# so (card_json). Imported by the package name the table gives, not by plain imports: the table stays the one place
# saying which releases are written and which models vouch for each (R4's are R4B's).
_MODELS = {
    release.name: importlib.import_module(f"fhir.resources.{release.models}").get_fhir_model_class
    for release in RELEASES.values()
    if release.models
}


def get_fhir_model_class(name: str, release: str = R4) -> Any:
    """The release's model of a resource or data type (KeyError for one it does not have)."""
    return _MODELS[release](name)


# appContext travels in the launch URL or token response at some EHRs: keep it short.
APP_CONTEXT_ORDERS = 20


UUIDS_PER_READ = 32  # more than most calls need: one read of randomness per call


@dataclass(frozen=True)
class CardOptions:
    """What the face adds to every card: where the plan view launches, and which patient is in context."""

    config: GuidelineConfig
    launch_url: str
    send_app_context: bool = True
    patient_id: str | None = None
    draft_orders: Any = None  # the request's draftOrders: the plan page evaluates with the drafts a card names
    # The drafts' appContext JSON by the orders a card names, made once per call: the cards of a call mostly name
    # the same orders, and encoding the drafts was the dearest part of a card.
    drafts_json: dict[tuple[str, ...], str | None] = field(default_factory=dict, compare=False, repr=False)
    # Random bytes for the call's uuids, read from the OS for many uuids at once: a call hands out one per card and
    # per suggestion, and on a virtual machine each read of the OS's randomness is a costly system call.
    randomness: bytearray = field(default_factory=bytearray, compare=False, repr=False)
    # The call's drafts the plan page cannot look up, and the ids of those it can (options_for counts them once).
    unkeyed_drafts: int = 0
    keyed_drafts: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    # The FHIR release the EHR speaks (cds_hooks.ehr_release): suggested resources are written in it.
    release: str = R4

    def new_uuid(self) -> str:
        """A random (version 4) uuid, as `uuid.uuid4()` makes it, from the same source of randomness."""
        if len(self.randomness) < 16:
            self.randomness.extend(os.urandom(16 * UUIDS_PER_READ))
        raw = self.randomness[:16]
        del self.randomness[:16]
        # The version and variant bits set and the hex written out as str(uuid.UUID(bytes=raw, version=4)) writes
        # them, without the UUID object (its constructor checks and converts in Python: 3x the cost).
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        text = raw.hex()
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def drafts_for(self, orders: tuple[str, ...]) -> str | None:
        if orders not in self.drafts_json:
            self.drafts_json[orders] = compact_drafts_json(self.draft_orders, orders)
        return self.drafts_json[orders]

    def drafts_left_behind(self, orders: tuple[str, ...], carried: bool) -> int:
        """How many of the call's draft orders a link naming `orders` cannot hand to the plan page: every one the
        page cannot look up (no text id, DSTU2's MedicationOrder), and the named ones when they were too long to
        carry. The card counted them; the page, without a word, would show totals and alerts without them."""
        return self.unkeyed_drafts + (0 if carried else len(self.keyed_drafts.intersection(orders)))


def _draft_keys(draft_orders: Any) -> tuple[int, frozenset[str]]:
    """How many draft orders the plan page cannot take from a link, and the ids of those it can."""
    drafts = [r for r in resources_in(draft_orders) if r.get("resourceType") in ORDER_TYPES] if draft_orders else []
    keyed = [r for r in drafts if carried_as_draft(r)]
    return len(drafts) - len(keyed), frozenset(r["id"] for r in keyed)


def options_for(
    config: GuidelineConfig, public_url: str, patient_id: str | None, draft_orders: Any = None, release: str = R4
) -> CardOptions:
    smart = config["smart_app"]
    launch = smart.get("launch_url") or public_url.rstrip("/") + "/launch"
    unkeyed, keyed = _draft_keys(draft_orders)
    return CardOptions(
        config,
        launch,
        bool(smart.get("send_app_context", True)),
        patient_id,
        draft_orders,
        unkeyed_drafts=unkeyed,
        keyed_drafts=keyed,
        release=release,
    )


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
    # [ \t]* before a reference definition, not \s*: \s* spans line ends, so each of n blank lines retried all the
    # rest (quadratic; 20,000 blank lines took 1.6 s). A definition starts on its own line anyway.
    r"(\]\(\s*|^[ \t]*\[[^\]\n]*\]:\s*)(?:javascript|vbscript|data|file):",
    re.IGNORECASE | re.MULTILINE,
)


_SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:", "file:")
# The letters that re.IGNORECASE also matches for the i and s of those schemes ("javaſcript:" matches too).
_IGNORECASE_TWINS = str.maketrans({"\u017f": "s", "\u0131": "i", "\u0130": "i"})
_TWIN_LETTERS = ("\u017f", "\u0131", "\u0130")


# CommonMark decodes entities inside link targets, so "java&#115;cript&colon;" would spell a script link.
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


def safe_markdown(text: str) -> str:
    """Card markdown with raw HTML tags and script/data link targets from quoted EHR text made harmless."""
    # The patterns only match around these characters and words: most details have none, and skip the scans.
    plain = _TAG_OPENER.sub("&lt;", _ENTITY.sub("&amp;", text)) if "<" in text or "&" in text else text
    twins = not plain.isascii() and any(twin in plain for twin in _TWIN_LETTERS)
    folded = (plain.translate(_IGNORECASE_TWINS) if twins else plain).lower()
    for scheme in _SCRIPT_SCHEMES:  # a loop, not any(generator): every card's detail passes here
        if scheme in folded:
            return _SCRIPT_TARGET.sub(r"\1#blocked:", plain)
    return plain


@lru_cache(maxsize=256)
def _absolute(url: str) -> bool:
    # Link targets come from the configuration and the checks' own constants: a few distinct ones, asked often.
    parts = urlsplit(url or "")
    return parts.scheme in ("https", "http") and bool(parts.netloc)


@dataclass(frozen=True, slots=True)
class _Verdict:
    """A resource's validation in a release: the error's name (None: valid), and where the models refused it, each
    as (element path, pydantic error type), for the card's words (ehr_release.Release.misfits)."""

    error: str | None
    refused: tuple[tuple[str, str], ...] = ()


_VALID = _Verdict(None)


@lru_cache(maxsize=512)
def _validation(canonical: str, release: str = R4) -> _Verdict:
    """The validation of a resource (by its canonical JSON) in the release's models (R4B's for R4), cached:
    suggestions repeat call after call. The one place suggested resources are validated, for every release."""
    resource = json.loads(canonical)
    try:
        get_fhir_model_class(str(resource.get("resourceType")), release).model_validate(resource)
    except ValidationError as error:
        return _Verdict(type(error).__name__, tuple((_path(e["loc"]), e["type"]) for e in error.errors()))
    except Exception as error:  # noqa: BLE001 - KeyError for unknown types, an import error: all mean "do not send"
        return _Verdict(type(error).__name__)
    return _VALID


def _path(location: tuple[Any, ...]) -> str:
    """An error's place as the card names it: its element names, dotted, without list positions ("" for the root)."""
    return ".".join(part for part in location if type(part) is str and part != "root")


# A cache key, not a signature: members stay in the order the checks build them (the same order each call,
# and another order only costs a second entry).


def _canonical(value: Any) -> str:
    return compact_json(value)


# Top-level elements that differ call after call (patient, visit, user, clock) while the rest of a suggested
# resource stays the same. The shape is validated once with placeholders in these places, and each value on its
# own against the element's R4B type: R4B's model checks look at one element at a time (only whether a choice
# or required element is present spans elements, and a placeholder keeps the element present). The patient's are
# every element a suggestion names it in (a Task's `for`: without it, each patient's Task was a shape of its own), and
# every element a suggestion is dated by as written (a Communication's `sent`, an Observation's `issued`).
_SLOTS = (*PATIENT_ELEMENTS, "encounter", "requester", *WRITTEN_ELEMENTS, "performedDateTime", "occurrenceDateTime")
_REFERENCE_SLOT = {"reference": "Placeholder/slot"}
_DATETIME_SLOT = "2000-01-01T00:00:00Z"


@dataclass(frozen=True, slots=True)
class _Shape:
    """What one resource shape needs: whether placeholder validation passed, and whether it holds empties."""

    valid: bool
    has_empty: bool


@lru_cache(maxsize=256)
def _shape(canonical: str, release: str = R4) -> _Shape:
    resource = json.loads(canonical)
    has_empty = bool(empty_paths(resource))
    valid = _validation(_canonical(prune(resource)) if has_empty else canonical, release).error is None
    return _Shape(valid, has_empty)


@lru_cache(maxsize=64)
def _slot_adapter(resource_type: str, name: str, release: str = R4) -> TypeAdapter | None:
    try:
        fields = get_fhir_model_class(resource_type, release).model_fields
    except Exception:  # noqa: BLE001 - an unknown type: KeyError, or an import error for an odd name
        return None
    # By the element's JSON name: the models hold a Python keyword under another (a Task's `for` is `for_fhir`).
    field = fields.get(name) or next((f for f in fields.values() if f.alias == name), None)
    return TypeAdapter(field.annotation) if field is not None else None


def _slot_valid(resource_type: str, name: str, value: str, is_reference: bool, release: str = R4) -> bool:
    # Ids and timestamps are short; a long value is checked each time rather than kept in the cache.
    check = _slot_value_valid if len(value) <= _SLOT_CACHE_CHARS else _slot_value_valid.__wrapped__
    return check(resource_type, name, value, is_reference, release)


_SLOT_CACHE_CHARS = 512


@lru_cache(maxsize=4096)
def _slot_value_valid(resource_type: str, name: str, value: str, is_reference: bool, release: str = R4) -> bool:
    if is_reference and _holds_reference(resource_type, name, release):
        # Only the string is checked, against the R4B type of `Reference.reference`: the Reference around it was
        # validated with the placeholder, and the Reference model's own rules look at which of its members are
        # present, never at their text. A Reference model per value (the patient and the visit differ every call)
        # gave the same verdict at several hundred times the cost.
        return _valid(_reference_text(release), value)
    adapter = _slot_adapter(resource_type, name, release)
    if adapter is None:
        return False
    return _valid(adapter, {"reference": value} if is_reference else value)


def _valid(adapter: TypeAdapter, value: object) -> bool:
    try:
        adapter.validate_python(value)
    except Exception:  # noqa: BLE001 - any failure sends the resource to the full validation
        return False
    return True


@lru_cache(maxsize=2)
def _reference_text(release: str = R4) -> TypeAdapter:
    """The release's type of a Reference's `reference` string."""
    return TypeAdapter(get_fhir_model_class("Reference", release).model_fields["reference"].annotation)


@lru_cache(maxsize=64)
def _holds_reference(resource_type: str, name: str, release: str = R4) -> bool:
    """Whether the element is a Reference: the placeholder reference validates to the release's Reference model."""
    adapter = _slot_adapter(resource_type, name, release)
    if adapter is None:
        return False
    try:
        value = adapter.validate_python(_REFERENCE_SLOT)
    except Exception:  # noqa: BLE001 - not a Reference: its slots are checked as they always were
        return False
    return type(value) is get_fhir_model_class("Reference", release)


@lru_cache(maxsize=64)
def _release_slots(release: str, kind: str) -> tuple[str, ...]:
    """The slots of a resource of this type as the release writes it, read from the release's writer (so they cannot
    drift from it): the R4 slots it leaves plain values, by the name it writes each under (STU3's `context` for the
    visit; a requester STU3 writes as a backbone around its `agent` is no slot, and stays in the shape)."""
    writer = RELEASES[release].writer
    if writer is None:
        return _SLOTS
    marked = {name: {"reference": f"Placeholder/{name}"} for name in _SLOTS}
    written, _ = writer({"resourceType": kind, **marked})
    return tuple(name for name, value in written.items() if name != "resourceType" and value in marked.values())


def _split_slots(
    resource: Mapping[str, Any], slots: tuple[str, ...] = _SLOTS
) -> tuple[dict[str, Any], list[tuple[str, str, bool]]]:
    """The resource with placeholders in its plain, non-empty slot values, and those values."""
    shape = dict(resource)
    values: list[tuple[str, str, bool]] = []
    for name in slots:
        value = shape.get(name)
        if type(value) is dict and len(value) == 1 and type(value.get("reference")) is str and value["reference"]:
            shape[name] = _REFERENCE_SLOT
            values.append((name, value["reference"], True))
        elif type(value) is str and value:
            shape[name] = _DATETIME_SLOT
            values.append((name, value, False))
    return shape, values


def _checked(resource: Mapping[str, Any], check_id: str, release: str) -> tuple[Mapping[str, Any], _Verdict]:
    """The resource without empty values, and its verdict in the release (R4 or STU3; a refusal logged): validation
    runs once per shape."""
    kind = str(resource.get("resourceType"))
    names = _release_slots(release, kind)
    shape, slots = _split_slots(resource, names)
    try:
        key = _canonical(shape)
    except TypeError:  # a Mapping that is not a dict: work on a plain copy (prune makes one)
        resource = prune(resource)
        shape, slots = _split_slots(resource, names)
        key = _canonical(shape)
    known = _shape(key, release)
    cleaned = prune(resource) if known.has_empty else resource
    if known.valid and all(_slot_valid(kind, name, value, ref, release) for name, value, ref in slots):
        return cleaned, _VALID
    # Placeholders or a value refused: judge the resource itself, exactly as sent.
    verdict = _validation(_canonical(cleaned), release)
    if verdict.error is not None:
        _dropped(check_id, kind, verdict.error)
    return cleaned, verdict


# The patient, visit and clock a site's template is addressed to when it is judged at load: any call's would do.
_ANY_CALL = ("placeholder", "placeholder", datetime(2000, 1, 1, tzinfo=UTC))


def template_refusal(template: Mapping[str, Any], release: str = R4) -> str | None:
    """Where the release's model refuses a site's template addressed as every call addresses it and written as the
    release writes it ("intent (required, missing)"), None when it takes it (as it does any template for a release
    PainPlan does not write): a template R4 refuses is never offered, one STU3 refuses never to an STU3 EHR."""
    writing = RELEASES[release]
    if not writing.writes:
        return None
    built = addressed(template, *_ANY_CALL)
    # Written, then pruned and validated, as _action writes and _checked prunes a suggestion on each call.
    written, uncoded = _written(built, writing)
    if uncoded is not None:
        return f'{uncoded} (no code "{str(written.get(uncoded))[:40]}")'
    try:
        canonical = _canonical(prune(written))
    except (TypeError, ValueError):  # a TOML date or time, unquoted: no JSON value
        return "a value that is not JSON text, number or true/false (quote a date)"
    verdict = _validation(canonical, release)
    if verdict.error is None:
        return None
    return ", ".join(dict.fromkeys(_refused_words(path, kind) for path, kind in verdict.refused)) or verdict.error


def _refused_words(path: str, kind: str) -> str:
    """One refusal of a release's model (element path, pydantic error type) in a site's words."""
    if not path:  # the models' rules that span elements are checked on the resource as a whole
        return "a rule across its elements (two values of one choice element, or none of a required one)"
    if kind == "extra_forbidden":
        return f"{path} (no such element)"
    if kind.endswith("missing"):
        return f"{path} (required, missing)"
    return f"{path} (a value of the wrong type or form)"


def _dropped(check_id: str, kind: str, error: str) -> None:
    log.error(json.dumps({"event": "suggestion-dropped", "check": check_id, "resourceType": kind[:40], "error": error}))


@dataclass(frozen=True, slots=True)
class _LeftOut:
    """A create suggestion `_action` did not send, as it built and wrote it: what the card's reason is read from."""

    built: dict[str, Any]  # as the checks built it (R4), addressed to the patient
    written: Mapping[str, Any]  # as the release writes it, without empty values once validated
    uncoded: str | None  # the element whose code the release lacks (then never validated)
    refused: tuple[tuple[str, str], ...] = ()  # where the release's models refused `written` (_Verdict.refused)


def _action(
    suggestion: Suggestion, options: CardOptions, check_id: str
) -> tuple[dict[str, Any] | None, _LeftOut | None]:
    """The suggestion's CDS Hooks action (None when none is sent), and, for a create suggestion left out, what was
    built and written for it."""
    if suggestion.action == "delete":
        target = suggestion.resource_id or ""
        if "/" not in target:
            return None, None
        return _compact({"type": "delete", "description": suggestion.description, "resourceId": target}), None
    if suggestion.resource is None:
        return None, None
    release = RELEASES[options.release]
    built = _built(suggestion.resource, options)
    resource, uncoded = _written(built, release)
    if uncoded:  # an R4 code STU3 does not have (intent original-order): the EHR could not take it
        _dropped(check_id, str(resource.get("resourceType")), f"{release.name} {uncoded}")
        return None, _LeftOut(built, resource, uncoded)
    checked, verdict = _checked(resource, check_id, options.release)
    if verdict.error is not None:
        return None, _LeftOut(built, checked, None, verdict.refused)
    return _compact({"type": "create", "description": suggestion.description, "resource": checked}), None


def _built(resource: Mapping[str, Any], options: CardOptions) -> dict[str, Any]:
    """The suggested resource as the checks built it (R4), addressed to the context patient."""
    # A new top-level object: the nested values are only read and serialised, so they need no copy.
    built = dict(resource)
    kind = built.get("resourceType")
    # Each type PainPlan writes names the context patient in its own element (guideline.cards.ADDRESSING).
    if options.patient_id and kind in ADDRESSING:
        built[patient_element(kind)] = {"reference": f"Patient/{options.patient_id}"}
    return built


def _written(built: dict[str, Any], release: Release) -> tuple[dict[str, Any], str | None]:
    """The resource as the release writes it (ehr_release.Release.writer), and the element whose code it lacks."""
    return release.writer(built) if release.writer is not None else (built, None)


def _why_left_out(left: _LeftOut, release: Release) -> str | None:
    """Why a create suggestion `_action` left out cannot be written in the EHR's release, in the release's words
    (ehr_release.Release.misfits: the R4 elements or code it has no place for), read from what `_action` wrote; None
    when the release is not why (a fault of ours or of a site template, logged): its resource is no valid R4 either."""
    if release.misfits is None:
        return None
    if left.uncoded is None and _validation(_canonical(prune(left.built)), R4).error is not None:
        return None
    return release.misfits(left.written, left.uncoded, left.refused)


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    """The object without its null or empty members (the members here are flat or already compact)."""
    # Truthy values first: the common case costs one test, and False or 0 are still kept. A loop, not a dict
    # comprehension: a comprehension is a function call of its own, and a card makes dozens of these.
    compact = {}
    for key, value in values.items():
        if value or not _empty(value):
            compact[key] = value
    return compact


def _link(link: Link, card: Card, options: CardOptions) -> dict[str, Any] | None:
    if link.type == "smart" and link.url:
        # Another SMART app (a state PDMP app): its own launch URL, and our appContext means nothing to it.
        return _compact({"label": link.label, "url": link.url, "type": "smart"}) if _absolute(link.url) else None
    if link.type == "smart":
        if not _absolute(options.launch_url):
            return None
        result: dict[str, Any] = _compact({"label": link.label, "url": options.launch_url, "type": "smart"})
        if options.send_app_context:
            context: dict[str, Any] = {"view": link.view or card.view, "check": card.check_id}
            drafts = None
            if card.orders:
                named = tuple(card.orders[:APP_CONTEXT_ORDERS])
                context["orders"] = list(named)
                drafts = options.drafts_for(named)
            left = options.drafts_left_behind(tuple(card.orders[:APP_CONTEXT_ORDERS]), drafts is not None)
            if left:
                context["draftsNotCarried"] = left  # the page names what it leaves out (plan_view)
            text = compact_json(context)
            # The drafts' text goes in as encoded, last: what encoding them again as a member would give.
            result["appContext"] = f'{text[:-1]},"drafts":{drafts}}}' if drafts else text
        return result
    if not _absolute(link.url):
        return None  # EHRs drop or break on relative links; never send one
    return _compact({"label": link.label, "url": link.url, "type": "absolute"})


# A configuration's card sources by check id, made once per configuration: the same on every card of the check. A
# configuration hashes by its content, which holds dicts, so it is keyed by identity; held weakly, so settings read
# again free the old configuration with its sources (tests make many configurations).
_SOURCES = WeakIdentityMemo(limit=64)


def _sources_of(config: GuidelineConfig) -> dict[str, dict[str, Any]]:
    """The card sources made for this configuration, by check id (an empty table on its first card)."""
    sources = _SOURCES.get("sources", config)
    if sources is MISSING:
        sources = {}
        _SOURCES.put("sources", config, answer=sources)
    return sources  # type: ignore[return-value]


def _source(check_id: str, config: GuidelineConfig) -> dict[str, Any]:
    """The card's `source`, a copy of its own (its topic too): a caller that changes one card's changed every later
    card of the check when they shared one object. Copying costs a fraction of a microsecond; making it, five times."""
    sources = _sources_of(config)
    source = sources.get(check_id)
    if source is None:
        source = sources[check_id] = _new_source(check_id, config)
    return {**source, "topic": {**source["topic"]}}


def _new_source(check_id: str, config: GuidelineConfig) -> dict[str, Any]:
    topic = _compact(
        {
            "system": f"{config['canonical_base']}/CodeSystem/painplan-check",
            "code": topic_code(check_id, config),
            "display": CHECK_TITLES.get(check_id, check_id),
        }
    )
    url = config["source_url"]
    return _compact({"label": config["source_label"], "url": url if _absolute(url) else None, "topic": topic})


@lru_cache(maxsize=256)
def _reason_json(system: str, code: str, display: str) -> dict[str, Any]:
    """An override reason as a card sends it (read only: a check offers the same few reasons on every card). Asked by
    its strings, which hash and compare in C, not by the OverrideReason, whose dataclass methods run in Python."""
    return _compact({"system": system, "code": code, "display": display})


def card_json(card: Card, options: CardOptions) -> dict[str, Any]:
    """One CDS Hooks card with fresh uuids; invalid suggested resources are left out, never sent.

    Built without null or empty members rather than pruned afterwards (CDS Hooks forbids them); with debug
    logging on, the result is checked for them as well.
    """
    suggestions = []
    not_offered: list[str] = []
    dropped: list[tuple[str, str | None]] = []  # each the label and why, when the release says (else a fault of ours)
    for suggestion in card.suggestions:
        creates = suggestion.action == "create" and suggestion.resource is not None
        if creates and options.release not in _MODELS:
            not_offered.append(suggestion.label)  # no models for it: never a resource the EHR cannot apply
            continue
        action, left_out = _action(suggestion, options, card.check_id)
        if action is None:
            if left_out is not None:  # refused by validation: said, not only logged, and why when the release is why
                dropped.append((suggestion.label, _why_left_out(left_out, RELEASES[options.release])))
            continue
        entry = _compact({"label": suggestion.label, "uuid": options.new_uuid()})
        entry["actions"] = [action]
        if suggestion.is_recommended:
            entry["isRecommended"] = True
        suggestions.append(entry)
    # Plain loops: a comprehension or generator is a function call of its own, and every card builds these.
    links = []
    smart = False
    for item in card.links:
        link = _link(item, card, options)
        if link:
            links.append(link)
            smart = smart or link["type"] == "smart"
    if not smart:
        plan = _link(Link(label="Open PainPlan", type="smart", view=card.view), card, options)
        if plan:
            links.append(plan)
    reasons = []
    for r in card.override_reasons:
        if r.display:
            reason = _reason_json(r.system, r.code, r.display)
            if reason:
                reasons.append(reason)
    result = _compact(
        {
            "uuid": options.new_uuid(),
            "summary": card.summary,  # a Card holds at most SUMMARY_LIMIT characters, its mark whole
            "indicator": card.indicator,
            "detail": safe_markdown(_with_not_offered(card.detail, not_offered, dropped, options.release))
            if card.detail or not_offered or dropped
            else None,
            "source": _source(card.check_id, options.config),
            "suggestions": suggestions,
            "selectionBehavior": "any" if suggestions else None,
            "overrideReasons": reasons,
            "links": links,
        }
    )
    if log.isEnabledFor(logging.DEBUG):
        found = empty_paths(result)
        if found:  # a builder above let an empty member through: send the pruned card and say where
            log.error(json.dumps({"event": "card-empty-members", "check": card.check_id, "paths": found[:10]}))
            return prune(result)
    return result


def _with_not_offered(detail: str, labels: list[str], dropped: list[tuple[str, str | None]], release: str) -> str:
    """The card's detail, then one line for each suggestion left out: because the EHR speaks a release PainPlan does
    not write (DSTU2, R5), because the release has no code or place for what it says (an R4 element STU3 lacks,
    named), or because its resource failed validation in the EHR's release (a fault of ours or of a site template,
    logged)."""
    if not labels and not dropped:  # the usual card: every suggestion offered
        return detail
    lines = [
        f'"{label}" is not offered as a suggestion: the EHR speaks FHIR {release}, and PainPlan writes the resources '
        f"it suggests in FHIR {' or '.join(_MODELS)} only, so the EHR could not apply it. Do it in the EHR directly."
        for label in labels
    ]
    lines += [
        f'"{label}" is not offered as a suggestion: the EHR speaks FHIR {release}, which {why}, so the EHR could not '
        "apply it as written. Do it in the EHR directly."
        if why
        else f'"{label}" is not offered as a suggestion: PainPlan could not write it as a FHIR {release} resource the '
        "EHR can apply (an internal fault, logged as suggestion-dropped). Do it in the EHR directly."
        for label, why in dropped
    ]
    return "\n\n".join(part for part in (detail, *lines) if part)


def data_incomplete_card(gaps: Mapping[str, str]) -> Card:
    """The info card that says which data could not be read, so a missing card is never read as "all clear"."""
    lines = "\n".join([f"- {what}: {why}" for what, why in gaps.items()])
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


def checks_not_run_card(not_run: Mapping[str, str]) -> Card:
    """The card that names the checks an internal failure stopped, so their silence never reads as "all clear"."""
    lines = "\n".join(f"- {CHECK_TITLES.get(check, check)}: {why}" for check, why in not_run.items())
    count = len(not_run)
    detail = (
        "An internal error in PainPlan stopped these checks, so they gave no card for this order whether or not "
        "there was something to flag:\n\n"
        f"{lines}\n\n"
        "Every other check ran and its cards are shown. Review these points directly, or open PainPlan for the "
        "full plan. The error has been logged for the PainPlan team (without patient data)."
    )
    noun = "check" if count == 1 else "checks"
    return Card(
        check_id=CHECKS_NOT_RUN,
        indicator="warning",
        summary=f"{count} opioid safety {noun} did not run because of an internal error; review them directly",
        detail=detail,
    )
