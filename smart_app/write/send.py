"""Send one validated resource to the EHR with the launch's server-side token; say plainly what happened."""

from __future__ import annotations

import json
import logging
import ssl
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError

from guideline.fhirdata import local_reference

log = logging.getLogger(__name__)

# Not fhirclient's FHIRServer.post_json/put_json: they send without a timeout (a slow EHR would hold a worker
# thread indefinitely), raise on errors instead of returning the OperationOutcome we show, and want a FHIRClient
# with its own auth state, while PainPlan keeps the token in its own server-side launch store.

FHIR_JSON = "application/fhir+json"
MAX_DIAGNOSTICS = 300
# After 202 Accepted, the status address is asked after each of these waits (seconds) while it answers 202: a few
# seconds at most, so the clinician is not kept waiting on an EHR that processes writes in a queue.
POLL_WAITS: tuple[float, ...] = (0.5, 1.0, 2.0)
POLL_TIMEOUT = 5.0  # each question's own limit (seconds), so the whole follow-up stays under about 20 seconds
# A status answer with these statuses is about the question, not the write: access to ask, a job expired or gone,
# asked too often. Issue codes the bulk data spec calls transient say "ask again later", not "failed".
ABOUT_THE_QUESTION = (401, 403, 404, 410, 429)
TRANSIENT_ISSUES = ("transient", "lock-error", "no-store", "exception", "timeout", "incomplete", "throttled")
ACCEPTED = (
    "the record was sent and the EHR accepted it for processing, but had not confirmed it was saved when PainPlan "
    "last asked"
)
# Raised before a byte of the request is sent: the connection was never made, or the request could not be built.
UNSENT = (
    requests.ConnectTimeout,
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidHeader,
)

REASONS = {
    401: "the EHR no longer accepts this launch's access (open the plan again from the chart)",
    403: "the EHR refused permission to save this",
    404: "the EHR does not have the record to update",
    409: "someone changed this record in the EHR after it was read, and saving would overwrite their change",
    412: "someone changed this record in the EHR after it was read, and saving would overwrite their change",
    422: "the EHR did not accept the content",
}
# An update refused with these was refused because the record changed since it was read (If-Match did not match).
CONFLICT = frozenset({409, 412})
# The reasons that speak of a record read before: only an update (PUT) has one. Said of a record being created, "someone
# changed this record" was untrue (a server's conditional-create rule or a gateway answers 409 or 412 too).
UPDATE_ONLY = CONFLICT | {404}


def _reason(status: int, method: str) -> str:
    """Why the EHR did not save it, in the clinician's words; the bare status where no words fit the request."""
    if status in REASONS and (method == "PUT" or status not in UPDATE_ONLY):
        return REASONS[status]
    return f"the EHR answered with an error (HTTP {status})"


@dataclass(frozen=True)
class WriteResult:
    ok: bool
    reference: str | None  # "Observation/123" when the server said which id it created or updated
    message: str  # for the clinician; never the token or the resource's content
    status: int | None = None  # the EHR's HTTP status, when it answered
    # Not saved as far as PainPlan knows, but the EHR may have stored it (sent, then no answer; or 202 Accepted):
    # saving again could put the record in the chart twice.
    unconfirmed: bool = False
    # What the EHR noted on a save (OperationOutcome warnings: an element it ignored, a code it did not know).
    warnings: tuple[str, ...] = ()
    # False when nothing of the request reached the EHR (no connection was made): certainly not saved.
    reached: bool = True
    update: bool = False  # sent as an update (PUT) of a record read before; send() says so of every result

    @property
    def conflict(self) -> bool:
        """The EHR refused an update because the record changed since it was read (If-Match did not match); a
        create refused with 409 or 412 is no conflict, as nobody changed a record it read."""
        return self.update and self.status in CONFLICT


def _outcome_issues(body: Any) -> list[dict[str, Any]]:
    """The issues of an OperationOutcome; none when `body` is anything else."""
    if not isinstance(body, dict) or body.get("resourceType") != "OperationOutcome":
        return []
    return [issue for issue in body.get("issue") or [] if isinstance(issue, dict)]


# What _json gives for a body that is not JSON (an empty one too): no JSON value is this object.
NOT_JSON: Any = object()


def _json(response: requests.Response) -> Any:
    """The body read as JSON, once per answer (the helpers below take this value); NOT_JSON when it is not JSON."""
    try:
        return response.json()
    except ValueError:  # requests' JSONDecodeError, and a body that cannot be decoded as text
        return NOT_JSON


def _issue_text(issue: dict[str, Any]) -> str:
    """What an issue says: its diagnostics, else its details' text, else a coding's display (all Epic may give)."""
    details = issue.get("details") if isinstance(issue.get("details"), dict) else {}
    displays = [c.get("display") for c in details.get("coding") or [] if isinstance(c, dict) and c.get("display")]
    text = issue.get("diagnostics") or details.get("text") or next(iter(displays), "")
    return str(text)[:MAX_DIAGNOSTICS] if text else ""


def _outcome_text_of(body: Any) -> str:
    """The first text of an OperationOutcome's issues, shortened; '' when there is none."""
    return next((text for text in map(_issue_text, _outcome_issues(body)) if text), "")


def _outcome_failed(body: Any) -> bool:
    """A success status whose body says the write failed (an OperationOutcome with an error or fatal issue)."""
    return any(issue.get("severity") in ("error", "fatal") for issue in _outcome_issues(body))


def _location_reference(location: str, kind: str) -> str | None:
    """`kind/id` from a location (…/Observation/123/_history/1), read as any reference is (`local_reference`: a
    version and a query name the same record); None when it names no record of `kind`."""
    found = local_reference(location) or ""
    named, _, ident = found.partition("/")
    # local_reference gives back what names no `Type/id` as written ("Observation/?x"): no id of `kind` then.
    return found if named == kind and ident and "/" not in ident and "?" not in ident else None


def _reference(response: requests.Response, body: Any, kind: str) -> str | None:
    """The id from Location (…/Observation/123/_history/1), else from the returned resource (`body`)."""
    location = response.headers.get("Location") or response.headers.get("Content-Location") or ""
    found = _location_reference(location, kind)
    if found is not None:
        return found
    if isinstance(body, dict) and body.get("resourceType") == kind and body.get("id"):
        return f"{kind}/{body['id']}"
    return None


def _never_sent(error: requests.RequestException) -> bool:
    """The request failed before any of it reached the EHR: no connection (refused, host name not found, connect
    timeout), an untrusted certificate, or a request that could not be built. Anything else may have been sent."""
    if isinstance(error, UNSENT):
        return True
    seen: set[int] = set()
    causes: list[Any] = [error]
    while causes:
        cause = causes.pop()
        if not isinstance(cause, BaseException) or id(cause) in seen:
            continue
        seen.add(id(cause))
        # urllib3's NewConnectionError (refused, name not resolved) is a ConnectTimeoutError.
        if isinstance(cause, ConnectTimeoutError | ssl.SSLCertVerificationError):
            return True
        causes += [*cause.args, getattr(cause, "reason", None), cause.__cause__, cause.__context__]
    return False


def _no_answer(error: requests.RequestException) -> WriteResult:
    """The write got no answer: not saved when it never left PainPlan, else unconfirmed (the EHR may have it)."""
    log.warning("FHIR write got no answer (%s)", type(error).__name__)
    if _never_sent(error):
        reached = (
            "could not be reached in time" if isinstance(error, requests.ConnectTimeout) else "could not be reached"
        )
        return WriteResult(False, None, f"the EHR {reached}", reached=False)
    if isinstance(error, requests.Timeout):
        return WriteResult(False, None, "the record was sent but the EHR did not answer in time", unconfirmed=True)
    lost = "the record was sent but the connection to the EHR was lost before it answered"
    return WriteResult(False, None, lost, unconfirmed=True)


@dataclass(frozen=True)
class _Write:
    """One write as send() was asked for it: what it sends, where, and with which token."""

    base_url: str
    token: str | None = field(repr=False)  # never in a log line, nor the patient's record below
    method: str  # "POST" (create) or "PUT" (update)
    target: str
    resource: dict[str, Any] = field(repr=False)
    timeout: float
    if_match: str | None = None

    @property
    def kind(self) -> str:
        return self.resource["resourceType"]


def send(
    session: Any,
    base_url: str,
    token: str | None,
    method: str,
    target: str,
    resource: dict[str, Any],
    timeout: float,
    if_match: str | None = None,
) -> WriteResult:
    """POST (create) or PUT (update) `resource` at `base_url/target`; any failure is a result, never an exception.
    An update carries If-Match (W/"<versionId>" the page showed) when given, so a changed record is refused."""
    write = _Write(base_url, token, method, target, resource, timeout, if_match)
    return replace(_write(session, write), update=method == "PUT")


def _write(session: Any, write: _Write) -> WriteResult:
    """What became of the write, as send() gives it but for whether it was an update."""
    method, kind = write.method, write.kind
    headers = {"Accept": FHIR_JSON, "Content-Type": FHIR_JSON, "Prefer": "return=representation"}
    if write.token:
        headers["Authorization"] = f"Bearer {write.token}"
    if write.if_match:
        headers["If-Match"] = write.if_match
    url = write.base_url.rstrip("/") + "/" + write.target
    try:
        # Not followed: a gateway whose session ended redirects a write to its sign-in page, and following turns
        # the POST into a GET of that page, whose 200 would be taken for a save.
        response = session.request(
            method, url, data=json.dumps(write.resource), headers=headers, timeout=write.timeout, allow_redirects=False
        )
    except requests.RequestException as error:
        return _no_answer(error)
    success = 200 <= response.status_code < 300
    body = _json(response)
    if success and _outcome_failed(body):
        log.warning("FHIR %s %s answered %s with an error outcome", method, kind, response.status_code)
        detail = _outcome_text_of(body)
        return WriteResult(False, None, f"the EHR answered without saving{': ' + detail if detail else ''}")
    if response.status_code == 202:
        # Accepted for processing later (an asynchronous server): it may yet be stored, or refused.
        log.warning("FHIR %s %s answered 202 Accepted", method, kind)
        return _accepted(session, write, response)
    if success:
        return _saved(response, body, method, write.target, kind)
    return _refused(response, body, method, kind)


def _not_fhir(response: requests.Response, body: Any) -> bool:
    """A body that is neither empty nor a FHIR resource: a gateway's sign-in page, or its own JSON."""
    if not response.content.strip():
        return False
    return not (isinstance(body, dict) and isinstance(body.get("resourceType"), str))


def _saved(response: requests.Response, body: Any, method: str, target: str, kind: str) -> WriteResult:
    """A save: 204 No Content (or 200/201 with no body: Prefer return=minimal) too; Location, when given, is the id.
    A body that is not FHIR with no Location naming the record says nothing of a save: unconfirmed."""
    location = response.headers.get("Location") or response.headers.get("Content-Location") or ""
    if _not_fhir(response, body) and _location_reference(location, kind) is None:
        log.warning("FHIR %s %s answered %s with a body that is not FHIR", method, kind, response.status_code)
        content_type = (response.headers.get("Content-Type") or "no content type").split(";")[0].strip()[:60]
        message = (
            f"the EHR answered with something that is not a FHIR answer ({content_type}), so whether it was saved is "
            "not known"
        )
        return WriteResult(False, None, message, response.status_code, unconfirmed=True)
    reference = _reference(response, body, kind)
    if reference is None and method == "PUT":
        reference = target
    return WriteResult(True, reference, "saved", response.status_code, warnings=_warnings(body))


def _warnings(body: Any) -> tuple[str, ...]:
    """The texts of an OperationOutcome body's warnings, each once and shortened (information issues such as
    "created" are left out)."""
    texts = [_issue_text(issue) for issue in _outcome_issues(body) if issue.get("severity") == "warning"]
    return tuple(dict.fromkeys(text for text in texts if text))


def _refused(response: requests.Response, body: Any, method: str, kind: str) -> WriteResult:
    """A write the EHR answered with an error or a redirect: not saved, with its reason and OperationOutcome text."""
    detail = _outcome_text_of(body)
    reason = _reason(response.status_code, method)
    if 300 <= response.status_code < 400:
        reason = (
            f"the EHR redirected the request to another page (HTTP {response.status_code}; often a sign-in page "
            "when the EHR session has ended) instead of saving it"
        )
    log.warning("FHIR %s %s answered %s", method, kind, response.status_code)
    return WriteResult(False, None, f"{reason}{': ' + detail if detail else ''}", response.status_code)


def status_address(base_url: str, response: requests.Response) -> str | None:
    """The 202's status address (Content-Location), only when it is on the FHIR server itself: the launch's token
    is sent with the question and must never go to another host or scheme."""
    location = response.headers.get("Content-Location") or ""
    if not location:
        return None
    root = base_url.rstrip("/") + "/"
    address = urljoin(root, location)
    parts, base = urlsplit(address), urlsplit(root)
    inside = address.startswith(root) and (parts.scheme, parts.netloc) == (base.scheme, base.netloc)
    return address if inside and ".." not in parts.path.split("/") else None


def _accepted(session: Any, write: _Write, response: requests.Response) -> WriteResult:
    """Ask the status address whether the accepted write was stored, a few times at most and within POLL_WAITS'
    total (Retry-After moves a wait, never the total): a GET, so the write itself is never sent again. Only an answer
    that says what became of the write (the record, a batch-response entry, an error outcome) decides; anything else
    leaves it unconfirmed."""
    address = status_address(write.base_url, response)
    headers = {"Accept": FHIR_JSON, **({"Authorization": f"Bearer {write.token}"} if write.token else {})}
    budget = sum(POLL_WAITS)  # Retry-After moves the waits, never the total
    waited, previous = 0.0, response
    for scheduled in POLL_WAITS if address else ():
        wait = _retry_after(previous)
        wait = scheduled if wait is None else wait
        if waited + wait > budget:
            break  # the EHR asked not to be asked before the clinician's wait would be over
        time.sleep(wait)
        waited += wait
        try:
            answer = session.get(
                address, headers=headers, timeout=min(write.timeout, POLL_TIMEOUT), allow_redirects=False
            )
        except requests.RequestException:
            break
        if answer.status_code != 202:
            answered = _json(answer)
            decided = _decided(answer, answered, write.method, write.target, write.kind)
            decided = decided or _failed_job(answer, answered)
            if decided is not None:
                return decided
            break
        previous = answer
    return WriteResult(False, None, ACCEPTED, 202, unconfirmed=True)


def _retry_after(response: requests.Response) -> float | None:
    """Retry-After in seconds from now (delta-seconds or an HTTP date); None when absent or unreadable."""
    value = (response.headers.get("Retry-After") or "").strip()
    if value.isascii() and value.isdecimal():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _failed_job(answer: requests.Response, body: Any) -> WriteResult | None:
    """The asynchronous pattern's end of a job that failed: an OperationOutcome with an error or fatal issue (with
    a 4xx, a 5xx or a 200). None when the answer is about the question rather than the write (see
    ABOUT_THE_QUESTION, TRANSIENT_ISSUES) or carries no such outcome (a gateway's error page)."""
    if answer.status_code in ABOUT_THE_QUESTION:
        return None
    errors = [issue for issue in _outcome_issues(body) if issue.get("severity") in ("error", "fatal")]
    if not errors or any(issue.get("code") in TRANSIENT_ISSUES for issue in errors):
        return None
    detail = next((text for text in map(_issue_text, errors) if text), "")
    message = "the EHR accepted the record for processing, then reported that it could not save it"
    log.warning("FHIR write's status address answered %s with an error outcome", answer.status_code)
    return WriteResult(False, None, f"{message}{': ' + detail if detail else ''}", answer.status_code)


def _decided(answer: requests.Response, body: Any, method: str, target: str, kind: str) -> WriteResult | None:
    """What a status address's final answer says of the write: the record itself (saved), or a batch-response
    entry with the write's own status and outcome; None when it says neither (the job expired, an error page)."""
    if answer.status_code != 200 or not isinstance(body, dict):
        return None
    if body.get("resourceType") == kind and body.get("id"):
        return WriteResult(True, f"{kind}/{body['id']}", "saved", 200)
    entries = body.get("entry") if body.get("resourceType") == "Bundle" else None
    first = entries[0] if isinstance(entries, list) and len(entries) == 1 and isinstance(entries[0], dict) else {}
    outcome = first.get("response") if isinstance(first.get("response"), dict) else {}
    code = str(outcome.get("status", "")).split(" ")[0]
    if not (code.isascii() and code.isdecimal()):  # send() never raises: '²' is a digit int() cannot read
        return None
    status = int(code)
    if 200 <= status < 300:
        reference = _location_reference(str(outcome.get("location") or ""), kind)
        return WriteResult(True, reference or (target if method == "PUT" else None), "saved", status)
    if status == 202 or status < 400:
        return None
    detail = _outcome_text_of(outcome.get("outcome"))
    reason = _reason(status, method)
    return WriteResult(False, None, f"{reason}{': ' + detail if detail else ''}", status)
