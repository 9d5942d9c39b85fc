"""Lenient reading of a CDS Hooks request: check the few required fields, never reject vendor extras."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cds_hooks.errors import RequestError
from guideline.fhirdata import as_list, unversioned

ORDER_HOOKS = frozenset({"order-sign", "order-select"})


@dataclass(frozen=True)
class HookRequest:
    hook: str
    hook_instance: str
    context: Mapping[str, Any]
    fhir_server: str | None = None
    access_token: str | None = field(default=None, repr=False)  # never in a repr, never logged
    prefetch: Mapping[str, Any] = field(default_factory=dict)
    patient_id: str | None = None
    user_id: str | None = None
    encounter_id: str | None = None
    draft_orders: Any = None
    selections: tuple[str, ...] = ()
    # fhirAuthorization.expires_in when it is 0 or less: the token had expired before the EHR sent it.
    token_expired_in: int | None = None


def _identifier(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (str, int)):
        text = str(value).strip()
        return text or None
    return None


# A FHIR resource type's name, as a literal reference spells it ("Patient", "PractitionerRole").
_TYPE_NAME = re.compile(r"[A-Z][A-Za-z]+")


def read_reference(value: str, field: str, types: Collection[str]) -> tuple[str | None, str]:
    """A context value read by FHIR's rule for a literal reference, as (type, id): a bare id (type None), `Type/id`,
    or an absolute URL `[base]/Type/id`; a version (`/_history/n`), a trailing slash, a query string and a fragment
    name the same resource and are dropped, as in a resource's own reference (`fhirdata.unversioned`). A value no
    such rule reads, or a reference to a type not in `types`, raises a 400 naming `field` (never the value: it may be
    the patient's id). The id's characters are not checked against FHIR's id pattern: an EHR's id is handed back to it
    as sent, and a bare id was read as sent before."""
    unreadable = RequestError(
        400, f"{field} must be an id, a {' or '.join(types)} reference (Type/id) or the absolute URL of one"
    )
    if "://" in value:
        try:
            parts = urlsplit(value)
        except ValueError:
            raise unreadable from None
        if not parts.scheme or not parts.netloc:
            raise unreadable
        path, absolute = parts.path, True
    else:  # relative: Type/id, or a bare id; a query string or fragment ends it as in a URL
        path, absolute = value.split("#", 1)[0].split("?", 1)[0].lstrip("/"), False
        if "/" not in path:  # a bare id: FHIR's ids hold no slash, nor has a bare id a version
            bare = path.strip()
            if not bare:
                raise unreadable
            return None, bare
    segments = unversioned(path.rstrip("/").split("/"))
    # Absolute: the last two segments after the server's base; relative: exactly Type/id ("Patient/" has no id).
    if len(segments) < 2 or (not absolute and len(segments) != 2):
        raise unreadable
    kind, ident = segments[-2], segments[-1].strip()
    if not _TYPE_NAME.fullmatch(kind) or not ident:
        raise unreadable
    if kind not in types:
        raise RequestError(
            400, f"{field} names a resource of type {kind}, where CDS Hooks expects {' or '.join(types)}"
        )
    return kind, ident


def context_id(value: Any, resource_type: str) -> str | None:
    """A context id (patientId, encounterId) as the bare id the hook defines. Some clients send it as a reference,
    "Patient/123" or "Encounter/eVf3.2" (or an absolute URL ending so, a version, query or fragment after it): read
    as sent, the suggested orders would name "Encounter/Encounter/eVf3.2", a visit no EHR has. Raises a 400 for a
    value `read_reference` cannot read."""
    text = _identifier(value)
    if text is None:
        return None
    field = f"context.{resource_type[0].lower()}{resource_type[1:]}Id"
    return read_reference(text, field, (resource_type,))[1]


# The resource types CDS Hooks names for context.userId.
_USER_TYPES = ("PractitionerRole", "Practitioner", "Patient", "RelatedPerson")


def user_reference(value: Any) -> str | None:
    """context.userId as the relative reference the hook defines ("Practitioner/123"). A client sending the user's
    absolute URL (a version, query or fragment dropped) is read as its relative part: read as sent, the suggested
    orders lost their requester, since no EHR takes a URL for its own clinician. A bare id is kept as sent; a value
    `read_reference` cannot read, or a user of another type, raises a 400."""
    text = _identifier(value)
    if text is None:
        return None
    kind, ident = read_reference(text, "context.userId", _USER_TYPES)
    return ident if kind is None else f"{kind}/{ident}"


def _expired_in(value: Any) -> int | None:
    """`expires_in` when it says the token had already expired (a whole number of seconds, 0 or less), else None: a
    missing or unreadable lifetime says nothing, and the token is used as sent either way."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value > 0:
        return None
    return int(value)


def fhir_server_problem(server: str, *, allow_http: bool = False) -> str | None:
    """What is wrong with a fhirServer value, in words safe to show (the service and `painplan check` both
    answer with it), or None when it is a usable absolute http(s) base URL."""
    shown = server[:80]
    try:
        parts = urlsplit(server)
        port = parts.port  # raises for a port that is not a number or out of range
        host = parts.hostname
    except ValueError as error:
        return f"fhirServer is not a valid URL ({error}): {shown!r}"
    del port
    if any(ch.isspace() for ch in server) or parts.scheme not in ("https", "http"):
        return f"fhirServer must be an absolute https URL, got {shown!r}"
    if not host:
        return f"fhirServer names no host: {shown!r}"
    if parts.scheme == "http" and not allow_http:
        return "fhirServer must use https"
    return None


def hook_draft_orders(hook: str, context: Mapping[str, Any]) -> Any:
    """The draft orders a hook's context holds: `draftOrders` on order-select and order-sign, None on any other
    hook, which defines none (sent there it is a vendor extra like any unknown key: an order basket read on
    patient-view would count unsigned drafts as the patient's current medicines)."""
    return context.get("draftOrders") if hook in ORDER_HOOKS else None


# What an order hook's draft orders are: the orders being signed or selected.
_BEING = {"order-sign": "signed", "order-select": "selected"}
NO_DRAFT_ORDERS = "draft orders (context.draftOrders)"


def no_draft_orders(hook: str, drafts: Any) -> str | None:
    """Why an order hook's draftOrders held no order (`{}`, a Bundle with no entries, `[]`), in words; None for any
    other hook, or when it held any item (an item that cannot be read is named by the record). CDS Hooks requires
    them: the EHR sent nothing being ordered, so the checks of the orders being signed had nothing to check, and an
    empty answer read as if the order had been checked and found all clear."""
    being = _BEING.get(hook)
    if being is None:
        return None
    if isinstance(drafts, list):
        return None if drafts else _no_order(being, "an empty list")
    if not isinstance(drafts, Mapping) or drafts.get("resourceType") != "Bundle":  # one resource sent bare is read
        return None if drafts else _no_order(being, "an empty object")
    # The entries as the pool reads them (one sent as an object is a list of one; one that is no resource is named).
    return None if as_list(drafts.get("entry")) else _no_order(being, "a Bundle with no entries")


def _no_order(being: str, sent: str) -> str:
    return (
        f"the EHR sent no order being {being} ({sent}; CDS Hooks requires them), so no order was checked: no card "
        f"here says anything about what is being {being}"
    )


def parse_hook_request(body: Any, expected_hook: str, *, allow_http: bool = False) -> HookRequest:
    """Validate what CDS Hooks requires and read the rest tolerantly; raise RequestError(400) otherwise."""
    if not isinstance(body, Mapping):
        raise RequestError(400, "the request body must be a JSON object")
    hook = body.get("hook")
    if not isinstance(hook, str) or not hook.strip():
        raise RequestError(400, "hook is required", "required")
    instance = _identifier(body.get("hookInstance"))
    if instance is None:
        raise RequestError(400, "hookInstance is required", "required")
    context = body.get("context")
    if not isinstance(context, Mapping):
        raise RequestError(400, "context is required and must be an object", "required")
    if hook.strip() != expected_hook:
        raise RequestError(400, f"this service answers the {expected_hook} hook, not {hook.strip()[:40]}")

    drafts = context.get("draftOrders")
    if expected_hook in ORDER_HOOKS:
        # Without its draft orders an order hook has nothing to check: an empty answer would read as "all clear".
        if drafts is None:
            raise RequestError(400, f"context.draftOrders is required for {expected_hook}", "required")
        if not isinstance(drafts, (Mapping, list)):
            raise RequestError(400, "context.draftOrders must be a Bundle of the draft orders")

    server = body.get("fhirServer")
    if server is not None and not isinstance(server, str):
        raise RequestError(400, f"fhirServer must be a URL string, not {type(server).__name__}")
    server = server.strip() if isinstance(server, str) and server.strip() else None
    authorization = body.get("fhirAuthorization")
    token = expired_in = None
    if authorization is not None:
        if not isinstance(authorization, Mapping):
            raise RequestError(400, "fhirAuthorization must be an object")
        if server is None:
            raise RequestError(400, "fhirAuthorization requires fhirServer", "required")
        raw_token = authorization.get("access_token")
        token = raw_token if isinstance(raw_token, str) and raw_token else None
        expired_in = _expired_in(authorization.get("expires_in"))
    if server is not None:
        problem = fhir_server_problem(server, allow_http=allow_http)
        if problem is not None:
            raise RequestError(400, problem)

    # CDS Hooks requires patientId on every hook PainPlan serves. Without it the prefetch and the FHIR reads cannot be
    # tied to the patient being seen: another patient's data would be counted, or an empty answer read as all clear.
    patient_id = context_id(context.get("patientId"), "Patient")
    if patient_id is None:
        raise RequestError(400, f"context.patientId is required for {expected_hook}", "required")
    prefetch = body.get("prefetch")
    selections = context.get("selections")
    return HookRequest(
        hook=hook.strip(),
        hook_instance=instance[:128],
        context=context,
        fhir_server=server,
        access_token=token,
        prefetch=prefetch if isinstance(prefetch, Mapping) else {},
        patient_id=patient_id,
        user_id=user_reference(context.get("userId")),
        encounter_id=context_id(context.get("encounterId"), "Encounter"),
        token_expired_in=expired_in,
        draft_orders=hook_draft_orders(expected_hook, context),
        selections=tuple(s for s in selections if isinstance(s, str)) if isinstance(selections, list) else (),
    )
