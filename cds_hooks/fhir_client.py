"""A small FHIR REST reader: parallel queries under one time budget, paging, bearer token, never raises."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from guideline.fhirdata import as_list, on_server
from guideline.outcome_issues import says_not_all_sent
from guideline.record import resources_in
from guideline.record.identity import directory_page
from guideline.record.pool import home_prefix, marked_if_elsewhere, outcome_failed

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
# Parallel queries per call; more would only queue at the EHR, which throttles per client anyway.
MAX_WORKERS = 12
# One page of FHIR JSON: 200 big resources are a few MB; far beyond that is a broken or hostile server.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
READ_CHUNK = 64 * 1024


NOT_A_RESOURCE = "the FHIR server's answer was not a FHIR resource"
BUDGET_SPENT = "cut off: the FHIR server's answers to this call passed its memory budget"
TIMED_OUT = "timed out"
NO_CONNECTION = "could not connect to the FHIR server"
TOO_LARGE = "the FHIR server's answer was too large"
NOT_JSON = "the FHIR server's answer was not JSON"
OUTCOME_ERROR = "the FHIR server reported an error (OperationOutcome)"
UNEXPECTED = "unexpected error while reading"
CUT_SHORT = "the FHIR server's answer was cut short"
QUERY_OUTSIDE = "the query points outside the FHIR server"
NEXT_PAGE_OUTSIDE = "a next-page link pointed outside the FHIR server"
# A failed query's reason on /metrics: a few fixed words, never the failure's own words (they carry counts and a
# server's resource type, so each call could start a new series). Any other failure is an answer not all there.
_METRIC_REASONS = {
    TIMED_OUT: "timed out",
    NO_CONNECTION: "could not connect",
    TOO_LARGE: "answer too large",
    BUDGET_SPENT: "memory budget spent",
    NOT_JSON: "not JSON",
    NOT_A_RESOURCE: "not a FHIR resource",
    OUTCOME_ERROR: "OperationOutcome error",
    UNEXPECTED: "unexpected error",
    CUT_SHORT: "cut short",
    QUERY_OUTSIDE: "outside the server",
    NEXT_PAGE_OUTSIDE: "outside the server",
}
INCOMPLETE_ANSWER = "incomplete answer"
# An answer with an HTTP error status, in words. Words only: what a status decides is read from FetchResult.status.
ANSWERED_HTTP = "the FHIR server answered HTTP {status}"
# The words of a search the server refused as asked (a parameter it does not know, or a combination it does not
# allow), as ANSWERED_HTTP writes them; what decides is its status, 400 (FetchResult.refused); 401, 403, 404 and 5xx
# are other answers.
REFUSED = ANSWERED_HTTP.format(status=400)


class ByteBudget:
    """Bytes one hook call may still read from the FHIR server, shared by all its parallel queries.

    A page is parsed into Python objects several times its size, so the bytes read bound the memory a call costs;
    once the budget is spent every query of the call stops reading and says so.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(0, int(limit))
        self.used = 0
        self._lock = threading.Lock()

    def take(self, count: int) -> bool:
        with self._lock:
            if self.used + count > self.limit:
                self.used = self.limit  # spent: every other query stops at its next chunk
                return False
            self.used += count
            return True

    def can_hold(self, count: int) -> bool:
        with self._lock:
            return self.used + count <= self.limit

    @property
    def spent(self) -> bool:
        with self._lock:
            return self.used >= self.limit


@dataclass(frozen=True)
class FetchResult:
    """What one query returned; `error` is plain words and never contains the token."""

    key: str
    query: str
    resources: tuple[dict, ...]
    ok: bool
    error: str | None
    truncated: bool = False  # stopped at the page cap with more pages left
    pages: int = 0
    # The matches every page read held, and the first Bundle.total a page gave: a search continued from a prefetch's
    # next link is set against the total its first page (the prefetch) gave, with that page's matches added.
    matched: int = 0
    total: int | None = None
    # The server refused the search itself as asked (HTTP 400, or a warning that it did not understand one of its
    # parameters, with nothing found): a query asked differently may be answered. Never set for access or failure.
    refused: bool = False
    # The pages' Practitioner, PractitionerRole and Organization entries under a `urn:` fullUrl, a Bundle a page
    # (`identity.directory_page`): `resources` lost their fullUrls, and an order naming its prescriber by such a
    # fullUrl names her, as in a prefetch's Bundle (`Gathered.bundles`).
    directory: tuple[dict, ...] = ()
    # The HTTP status of the answer that ended the read with an error (401, 403, 404, 5xx, 400): what the callers
    # decide on (an expired token, a place not found, a search asked again), never the words of `error`. None when
    # no answer said one (answered, timed out, could not connect, an error in a 200).
    status: int | None = None


@dataclass
class _Progress:
    """A worker's running state, readable by the caller when the budget ends before the worker does."""

    resources: list[dict] = field(default_factory=list)
    pages: int = 0
    directory: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


_shared_session: requests.Session | None = None
_shared_lock = threading.Lock()


def shared_session() -> requests.Session:
    """One pooled session per process: calls to the same EHR reuse connections (TLS handshakes are slow)."""
    global _shared_session
    with _shared_lock:
        if _shared_session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=16, pool_maxsize=MAX_WORKERS * 2, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            _shared_session = session
        return _shared_session


# What stays literal in a search value: unreserved characters, and the comma that separates OR-ed values in FHIR.
_VALUE_SAFE = "-._~,"
_NAME_SAFE = "-._~:"  # parameter names carry modifiers and chains ("code:text", "subject:Patient.name")


def encode_query(query: str) -> str:
    """A relative FHIR query with every search value percent-encoded (`code=http://snomed.info/sct|1` goes out
    as `code=http%3A%2F%2Fsnomed.info%2Fsct%7C1`): SMART sandbox proxies and some EHR gateways answer nothing for
    a raw `:`, `/` or `|` in a value. Values already encoded are decoded first, so nothing is encoded twice."""
    path, mark, search = query.partition("?")
    if not mark:
        return query
    pairs = []
    for item in search.split("&"):
        if not item:
            continue
        name, equals, value = item.partition("=")
        encoded_name = quote(unquote(name), safe=_NAME_SAFE)
        pairs.append(f"{encoded_name}={quote(unquote(value), safe=_VALUE_SAFE)}" if equals else encoded_name)
    return f"{path}?{'&'.join(pairs)}"


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class FhirClient:
    """Reads from one FHIR server with an optional bearer token (kept out of every log line and error)."""

    def __init__(
        self,
        base_url: str,
        access_token: str | None = None,
        *,
        page_cap: int = 10,
        session: requests.Session | None = None,
        allow_http: bool = False,
        budget: ByteBudget | None = None,
    ) -> None:
        self.base_url = (base_url or "").rstrip("/") + "/"
        self.budget = budget or ByteBudget(MAX_RESPONSE_BYTES * MAX_WORKERS)
        self._token = access_token or None
        self.page_cap = max(1, int(page_cap))
        self._session = session or shared_session()
        scheme, host = _origin(self.base_url)
        self.config_error: str | None = None
        if scheme not in ("http", "https") or not host:
            self.config_error = "the FHIR server address is not a web address"
        elif scheme == "http" and not allow_http:
            self.config_error = "the FHIR server address is not https"

    def __repr__(self) -> str:  # the token must never appear in a repr that ends up in a log
        return f"FhirClient({self.base_url!r}, token={'yes' if self._token else 'no'})"

    def url_for(self, query: str) -> str:
        if query.lower().startswith(("https://", "http://")):
            return query  # a next-page link, the server's own URL; fetched only if it is at or below the base
        return urljoin(self.base_url, encode_query(query.lstrip("/")))

    def fetch_all(self, queries: Mapping[str, str], budget_seconds: float) -> dict[str, FetchResult]:
        """Run every query in parallel; whatever is unfinished at the budget is reported as "timed out"."""
        if not queries:
            return {}
        if self.config_error:
            return {k: FetchResult(k, q, (), False, self.config_error) for k, q in queries.items()}
        deadline = time.monotonic() + max(0.0, budget_seconds)
        progress = {key: _Progress() for key in queries}
        executor = ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(queries)), thread_name_prefix="fhir")
        futures = {
            executor.submit(self._fetch_one, key, query, deadline, progress[key]): key for key, query in queries.items()
        }
        done, _ = wait(futures, timeout=max(0.0, deadline - time.monotonic()))
        # Never wait for stragglers: each carries its own socket timeout and ends by itself.
        executor.shutdown(wait=False, cancel_futures=True)
        results: dict[str, FetchResult] = {}
        for future, key in futures.items():
            query = queries[key]
            if future in done and future.exception() is None:
                results[key] = future.result()
                continue
            state = progress[key]
            with state.lock:
                partial = tuple(state.resources)
                pages = state.pages
                directory = tuple(state.directory)
            if future in done:
                log.warning("fhir query failed", extra={"fhir_key": key, "error": type(future.exception()).__name__})
                error = UNEXPECTED
            else:
                error = TIMED_OUT
            results[key] = FetchResult(key, query, partial, False, error, False, pages, directory=directory)
        return results

    def _fetch_one(self, key: str, query: str, deadline: float, progress: _Progress) -> FetchResult:
        url: str | None = self.url_for(query)
        if not on_server(url, self.base_url):  # the token goes to fhirServer's base path and nowhere else
            return FetchResult(key, query, (), False, QUERY_OUTSIDE)
        headers = {"Accept": FHIR_JSON}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        error: str | None = None
        truncated = False
        # What the server says about the search as a whole: a warning that data was withheld (kept until every
        # page is read, so the rest is still counted) and Bundle.total, set against the matches read.
        withheld: str | None = None
        total: int | None = None
        first_total: int | None = None
        matched = 0
        refused = False
        status: int | None = None
        while url is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                error = TIMED_OUT
                break
            if progress.pages >= self.page_cap:
                truncated = True
                break
            if self.budget.spent:
                error = BUDGET_SPENT
                break
            payload, error, status = self._get(url, headers, remaining)
            first = progress.pages == 0
            if error is not None:
                refused = first and status == 400
                break
            # Marked by the rule prefetch is (`resources_in`): an entry whose fullUrl names another server's base
            # (an HIE's order relayed by the EHR) is that server's, on this page and every next one.
            found, outcome_error = resources_of(payload, self.base_url)
            if outcome_error is None and "?" in query and first:
                outcome_error = empty_search_problem(payload, found)
                if not query.lower().startswith(("https://", "http://")):
                    total = reported_total(payload)
            scan = _bundle_scan(payload)  # one pass for the page's warnings and its matches
            withheld = withheld or _withheld_in(scan)
            matched += scan.matched
            if first_total is None:
                first_total = reported_total(payload)
            page_directory = directory_page(payload)
            with progress.lock:
                progress.resources.extend(found)
                progress.pages += 1
                if page_directory is not None:
                    progress.directory.append(page_directory)
            if outcome_error:
                error = outcome_error
                refused = (
                    first and "?" in query and any(_says_parameter_unknown(i) for i in _outcome_issues(payload, scan))
                )
                break
            url = _next_link(payload, url)
            if url is not None and not on_server(url, self.base_url):
                error = NEXT_PAGE_OUTSIDE
                break
        if error is None and not truncated:
            # Bundle.total counts the matches of the whole search, so it is set against them only once the last
            # page is read (and only for a search begun here: one continued from a next link misses page one).
            error = withheld or (shortfall_words(total, matched) if total is not None else None)
        with progress.lock:
            resources = tuple(progress.resources)
            pages = progress.pages
            directory = tuple(progress.directory)
        return FetchResult(
            key,
            query,
            resources,
            error is None,
            error,
            truncated,
            pages,
            matched,
            first_total,
            refused and not resources,
            directory,
            status,
        )

    def _get(self, url: str, headers: Mapping[str, str], timeout: float) -> tuple[Any, str | None, int | None]:
        """The page's JSON, or why not in words with the HTTP status when the server answered one other than 200."""
        # requests' read timeout is per socket read: a body trickling in a byte at a time never trips it. So the
        # body is read in chunks against the call's own deadline and a size cap, and the connection is dropped
        # when either ends the read (otherwise the leftover thread reads on long after the hook has answered).
        deadline = time.monotonic() + timeout
        try:
            response = self._session.get(url, headers=headers, timeout=(min(timeout, 5.0), timeout), stream=True)
        except requests.Timeout:
            return None, TIMED_OUT, None
        except requests.RequestException:
            return None, NO_CONNECTION, None
        with response:
            if response.status_code != 200:  # 400 among them: `_fetch_one` reads a refusal from the status
                return None, ANSWERED_HTTP.format(status=response.status_code), response.status_code
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
                return None, TOO_LARGE, None  # said up front: nothing to read
            if declared.isdigit() and not self.budget.can_hold(int(declared)):
                self.budget.take(int(declared))  # what would not fit spends the budget: the other queries stop too
                return None, BUDGET_SPENT, None
            body = bytearray()
            try:
                for chunk in response.iter_content(READ_CHUNK):
                    if not self.budget.take(len(chunk)):
                        return None, BUDGET_SPENT, None
                    body += chunk
                    if len(body) > MAX_RESPONSE_BYTES:
                        return None, TOO_LARGE, None
                    if time.monotonic() > deadline:
                        return None, TIMED_OUT, None
            except requests.RequestException:
                return (
                    None,
                    TIMED_OUT if time.monotonic() > deadline else CUT_SHORT,
                    None,
                )
        try:
            return json.loads(body), None, None  # no bytes() copy: a page is never held twice
        except ValueError:
            return None, NOT_JSON, None


def resources_of(payload: Any, server: str | None = None) -> tuple[list[dict], str | None]:
    """Resources of a Bundle or a single resource; an OperationOutcome with an error means the read failed. With the
    EHR's `server`, another server's resources are marked with its base (`resources_in`). An answer that is no
    resource and no list of them holds none, and is named by its error alone (not also as an unreadable item)."""
    if isinstance(payload, dict) and not isinstance(payload.get("resourceType"), str):
        return [], NOT_A_RESOURCE
    found: list[dict] = resources_in(payload, server)  # type: ignore[assignment] - read-only use; pooled without fullUrls
    failed = False
    # Most answers hold none: one pass that only looks, and a second only when there is an outcome to take out.
    outcomes = [resource for resource in found if resource.get("resourceType") == "OperationOutcome"]
    if outcomes:
        found = [resource for resource in found if resource.get("resourceType") != "OperationOutcome"]
        # Searches may carry an informational OperationOutcome (HAPI does); only errors (or no issue) spoil the data.
        failed = any(outcome_failed(outcome, empty=True) for outcome in outcomes)
    if not isinstance(payload, dict):
        return found, NOT_A_RESOURCE
    return found, (OUTCOME_ERROR if failed else None)


def empty_search_problem(payload: Any, found: list[dict]) -> str | None:
    """Why a search's first page is not a trustworthy "nothing on record": the answer is not a Bundle, or it
    holds no matches and a warning (proxies say so when they could not run the search). None when it is fine."""
    if not isinstance(payload, dict):
        return None
    kind = payload.get("resourceType")
    if kind != "Bundle":
        return f"the FHIR server answered a search with {str(kind)[:40]}, not a Bundle"
    if any(r.get("resourceType") != "OperationOutcome" for r in found):
        return None
    # Wherever the warning sits: a gateway's batch-response nests the search, or puts its outcome in the response.
    if any(i.get("severity") == "warning" and not _says_no_results(i) for i in _scan(payload).issues):
        return "the FHIR server returned no results with a warning (the search may not have run)"
    return None


# Epic answers every search that matches nothing with a warning, code 4101 "Resource request returns no results"
# (its OperationOutcome code system sits under Epic's OID); HL7's own code for it is MSG_NO_MATCH. That warning is
# the empty answer itself, not a search that did not run: read as one, it put most Epic patients' empty searches (no
# urine test, no naloxone) on the data-incomplete card. Any other warning still does.
_EPIC_OID = "urn:oid:1.2.840.114350."
_NO_RESULTS_TEXT = "resource request returns no results"


def _says_no_results(issue: dict) -> bool:
    """Whether an OperationOutcome issue only says that the search matched nothing."""
    details = issue.get("details") if isinstance(issue.get("details"), dict) else {}
    for coding in details.get("coding") or []:
        if not isinstance(coding, dict):
            continue
        system, code = str(coding.get("system") or ""), str(coding.get("code") or "")
        if (system.startswith(_EPIC_OID) and code == "4101") or code == "MSG_NO_MATCH":
            return True
    return _NO_RESULTS_TEXT in str(details.get("text") or "").lower()


# A search answer that says some matches were left out (`says_not_all_sent`: Epic's 4119 "Additional data may be
# present for patient.", HL7's suppressed, incomplete, too-costly, throttled, timeout): what came back is real, but
# "none on record" or a total from it is not.
WITHHELD = "the FHIR server said some of this data may have been withheld or cut short (not every match was sent)"


def _withheld_in(scan: _Scan) -> str | None:
    """WITHHELD when an OperationOutcome issue of a scanned search answer says matches were withheld or may be
    missing, wherever in the Bundle it sits (`_scan`), else None."""
    return WITHHELD if any(_says_withheld(issue) for issue in scan.issues) else None


@dataclass
class _Scan:
    """What a search answer's Bundle says about itself, from any depth."""

    issues: list[dict] = field(default_factory=list)  # every OperationOutcome issue
    nested: str | None = None  # why a search nested in it is not all there (pages left, a total above its matches)
    matched: int = 0  # the matches among its own entries (match_count)


_NOT_MATCHES = frozenset({"include", "outcome"})


def _bundle_scan(payload: Any) -> _Scan:
    """`_scan` of a Bundle; an empty _Scan (no issues, no matches) of anything else."""
    if not isinstance(payload, dict) or payload.get("resourceType") != "Bundle":
        return _Scan()
    return _scan(payload)


def _scan(bundle: Mapping[str, Any]) -> _Scan:
    """The OperationOutcome issues a Bundle carries anywhere (an entry's resource, an entry's response.outcome as a
    batch-response has, and the same inside any Bundle that is an entry's resource, as an EHR gateway wraps
    searches), the first nested search that is not all there, and its own matches (a batch answer that failed is
    named where it is pooled, `pool.answer_problem`). The resources are pooled from any depth, so what is said
    about them is read from any depth too."""
    scan = _Scan()
    # One entry sent as an object (as hand-built integrations do) reads as a list of one, as the resources are pooled.
    entries = as_list(bundle.get("entry"))
    # Run on every prefetched search of every call, in one pass that counts the matches too: a plain entry (a
    # resource, no response) costs a few lookups.
    for entry in entries:
        if type(entry) is not dict:
            continue
        resource = entry.get("resource")
        if type(resource) is dict:
            kind = resource.get("resourceType")
            if kind == "OperationOutcome":
                scan.issues.extend(_issues_of(resource))
            else:
                if kind == "Bundle":  # scanned once: its matches judge its total, its issues count as this one's
                    inner = _scan(resource)
                    scan.issues.extend(inner.issues)
                    scan.nested = scan.nested or _nested_search_problem(resource, inner.matched) or inner.nested
                search = entry.get("search")
                if type(search) is not dict or search.get("mode") not in _NOT_MATCHES:
                    scan.matched += 1
        if "response" in entry:
            _read_response(entry["response"], scan)
    return scan


def _read_response(response: Any, scan: _Scan) -> None:
    """A batch-response entry's response: its outcome's issues (a withheld warning, a parameter not understood).
    Whether its status or an error in its outcome lost data is `pool.answer_problem`'s to judge, where the entry
    is pooled: so it is named once, wherever the Bundle is read."""
    if isinstance(response, dict) and isinstance(response.get("outcome"), dict):
        scan.issues.extend(_issues_of(response["outcome"]))


def _nested_search_problem(bundle: Mapping[str, Any], matched: int) -> str | None:
    """Why a search Bundle nested in another, holding `matched` matches, is not all there: pages left (a nested next
    link is never followed), or a total above its matches; None when nothing says so."""
    if _next_link(bundle, "") is not None:
        return "a search in the Bundle the EHR sent has more pages, which were not read"
    return _total_above(bundle, matched)


def _issues_of(outcome: Mapping[str, Any]) -> list[dict]:
    """The issues of an OperationOutcome."""
    issues = outcome.get("issue")
    return [issue for issue in issues if isinstance(issue, dict)] if isinstance(issues, list) else []


# HL7's operation-outcome codes for a search parameter the server did not take (MSG_PARAM_UNKNOWN "Parameter not
# understood", and the invalid, chained and modifier ones), and the words servers write for one in text (HAPI:
# 'Unknown search parameter "whenprepared"'; Firely: "not supported and was ignored").
_PARAM_CODES = frozenset({"MSG_PARAM_UNKNOWN", "MSG_PARAM_INVALID", "MSG_PARAM_CHAINED", "MSG_PARAM_MODIFIER_INVALID"})
_PARAM_WORDS = ("unknown", "not understood", "not supported", "unsupported", "ignored", "invalid")


def _outcome_issues(payload: Any, scan: _Scan) -> list[dict]:
    """The issues a search answer carries: a Bundle's from any depth (`_scan`), or an OperationOutcome's own."""
    if isinstance(payload, dict) and payload.get("resourceType") == "OperationOutcome":
        return _issues_of(payload)
    return scan.issues


def _says_parameter_unknown(issue: dict) -> bool:
    """Whether an OperationOutcome issue says that the server did not take one of the search's parameters."""
    details = issue.get("details") if isinstance(issue.get("details"), dict) else {}
    codings = [c for c in details.get("coding") or [] if isinstance(c, dict)]
    if any(str(coding.get("code") or "") in _PARAM_CODES for coding in codings):
        return True
    text = f"{details.get('text') or ''} {issue.get('diagnostics') or ''}".lower()
    return "parameter" in text and any(words in text for words in _PARAM_WORDS)


def _says_withheld(issue: dict) -> bool:
    """Whether an OperationOutcome issue says that results were withheld or may be missing (one rule, in guideline)."""
    return says_not_all_sent(issue)


def reported_total(payload: Any) -> int | None:
    """A searchset's Bundle.total (how many matches the server found in all), or None when it gives none."""
    if not isinstance(payload, dict) or payload.get("resourceType") != "Bundle":
        return None
    total = payload.get("total")
    return total if type(total) is int and total >= 0 else None  # bool and text are no count


def match_count(payload: Any) -> int:
    """The matches a Bundle page holds: entries that are neither an _include nor an OperationOutcome (`_scan`)."""
    return _bundle_scan(payload).matched


def shortfall_words(total: int, matched: int) -> str | None:
    """Words for a search that returned fewer matches than its Bundle.total reported, else None."""
    if total <= matched:
        return None
    return f"the FHIR server reported {total} result{'' if total == 1 else 's'} but returned {matched}"


def search_problem(payload: Any) -> str | None:
    """Why a whole search answer in one Bundle (no next page) is not all there: data withheld, a search nested in it
    not all there, or fewer matches than its total. None when nothing says so."""
    return page_facts(payload).problem(payload)


@dataclass(frozen=True)
class PageFacts:
    """What a search page says of its own completeness: its matches, a withheld warning, a nested search's gap."""

    matched: int
    withheld: str | None = None
    nested: str | None = None

    def problem(self, payload: Any, more: bool = False) -> str | None:
        """Why the page's search is not all there. With pages still to read only a withheld warning can say so (its
        total counts the matches of those pages too); a whole search, as `search_problem` says."""
        if more:
            return self.withheld
        return self.withheld or self.nested or _total_above(payload, self.matched)


def page_facts(payload: Any) -> PageFacts:
    """The PageFacts of a search answer, read in one `_scan`; none (no matches, nothing said) of anything else."""
    scan = _bundle_scan(payload)
    return PageFacts(scan.matched, _withheld_in(scan), scan.nested)


def _total_above(payload: Any, matched: int) -> str | None:
    """Words for a search answer whose Bundle.total is above the `matched` matches it holds; None without a total."""
    total = reported_total(payload)
    return shortfall_words(total, matched) if total is not None else None


@dataclass(frozen=True)
class PlainPage(PageFacts):
    """A search page every entry of which is plain (`plain_page`): its resources and its matches. It holds no
    warning and no nested search, so only a total above its matches can say it is not all there."""

    resources: list[dict] = field(default_factory=list)


def plain_page(payload: Any, server: str | None = None) -> PlainPage | None:
    """The page when it is a Bundle every entry of which is plain, as a clean Epic or HAPI searchset is: an object
    holding a resource object that has a resourceType and is neither an OperationOutcome nor a Bundle, and no batch
    response (a resourceType of null is how the pool marks an item it names, which `named_where` must see). Then
    `resources_of` finds these resources and no error, `_scan` no issue and no nested search, and the matches are
    counted here in the same pass; None for any other answer, which is read in full. Run on every prefetched search,
    it walks the entries once where `resources_of` and `search_problem` walked them three times. With the EHR's
    `server`, a resource whose fullUrl names it on another server is a copy marked with that server's base, as
    `resources_in` marks it (an HIE's MedicationRequest/123 is not the EHR's)."""
    if type(payload) is not dict or payload.get("resourceType") != "Bundle":
        return None
    entries = payload.get("entry")
    if not entries and (entries is None or type(entries) is list):
        # The empty search, as most of a chart's are: nothing to walk. A page of its own, never one shared: its
        # resources list is handed on, and one added to would give one patient's resources to every later search.
        return PlainPage(0)
    if type(entries) is not list:
        return None
    home = home_prefix(server)
    found: list[dict] = []
    matched = 0
    for entry in entries:
        if type(entry) is not dict or "response" in entry:
            return None
        resource = entry.get("resource")
        if type(resource) is not dict or not resource:
            return None
        kind = resource.get("resourceType")
        if kind is None or kind == "OperationOutcome" or kind == "Bundle":
            return None
        search = entry.get("search")
        if type(search) is not dict or search.get("mode") not in _NOT_MATCHES:  # as _scan counts them
            matched += 1
        if home is not None:
            url = entry.get("fullUrl")
            if type(url) is str and not url.startswith(home):
                resource = marked_if_elsewhere(resource, url, home)
        found.append(resource)
    return PlainPage(matched, resources=found)


def bundle_links(bundle: Mapping[str, Any]) -> list[Any]:
    """A Bundle's links, one sent as an object (as hand-built integrations do) read as a list of one: read as a
    list, an object's keys were its links, and its `next` page was never read nor named."""
    links = bundle.get("link")
    if type(links) is list:
        return links
    if links is None:  # most pages of most calls: no abstract-class check for them
        return []
    return [links] if isinstance(links, Mapping) else []


def _next_link(payload: Any, current: str) -> str | None:
    if not isinstance(payload, dict) or payload.get("resourceType") != "Bundle":
        return None
    for link in bundle_links(payload):
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return urljoin(current, link["url"])
    return None


def failure_reason(result: FetchResult) -> str:
    """A failed query's reason as /metrics labels it: its HTTP status ("http 401"), else one of a few fixed words."""
    if result.status is not None:
        return f"http {result.status}"
    return _METRIC_REASONS.get(result.error or "", INCOMPLETE_ANSWER)
