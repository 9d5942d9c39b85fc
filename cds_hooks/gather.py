"""Collect a hook's patient data: prefetch first, then the FHIR server for what is missing, within one budget."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import requests

from cds_hooks import metrics
from cds_hooks.fhir_client import (
    ByteBudget,
    FetchResult,
    FhirClient,
    PageFacts,
    bundle_links,
    empty_search_problem,
    failure_reason,
    page_facts,
    plain_page,
    reported_total,
    resources_of,
    shortfall_words,
)
from cds_hooks.location_cache import LocationCache
from cds_hooks.place_reads import PlaceReads
from cds_hooks.request import HookRequest
from cds_hooks.services import PREFETCH_LABELS, SECOND_SEARCHES
from cds_hooks.settings import DEFAULT_FHIR_BUDGET_BYTES

# The places of recent visits: only a Location's type may say a stay was at a hospice (Epic and Oracle Health name it
# by reference, and no prefetch key carries it). Named here too, as the hook's tests and service read them.
from guideline.exclusions import HOSPICE_PLACES, MAX_PLACE_READS  # noqa: F401 - re-exported
from guideline.fhirdata import as_list
from guideline.record import (
    NOT_A_MEDICATION_ID,
    ON_ANOTHER_SERVER,
    Encounter,
    elsewhere_references,
    medication_references,
    readable_medication_references,
    resources_in,
)
from guideline.record.pool import collect_resources, named_where
from guideline.report_results import (  # noqa: F401 - REPORT_RESULTS re-exported, as the service reads it
    REPORT_RESULTS,
    each_result,
    none_read,
    not_read_words,
    plan_result_reads,
    read_outcome,
)
from guideline.searches import AskedAgain, SecondDate, ask_again, render
from guideline.terminology import Terminology

MEDICATIONS = "medication details for orders that name a Medication resource"
UNREAD_RECORDS = "medicines or results in records PainPlan does not read"
# The second-date searches by prefetch key: one the server refuses is asked once more without its date bound.
SECOND_DATES: dict[str, SecondDate] = {second.key: second.date for second in SECOND_SEARCHES}
# Types that hold a patient's medicines or results in a form PainPlan has no reader for: sent, they are named, never
# passed over as if they said nothing. Payer claims are read as ExplanationOfBenefit; a Claim (one not yet
# adjudicated) is not. Context types (Practitioner, Organization, Location, Coverage, Medication's own details) and
# clinical types the guideline does not turn on (AllergyIntolerance, Immunization, Flag) are not named: they would only
# be noise on every call of an EHR that sends them.
UNREAD_TYPES = frozenset(
    {
        "Claim",  # a pharmacy claim is a fill
        "MedicationPrescription",  # DSTU1's MedicationRequest
        "RequestGroup",  # orders grouped (an order set): the orders it holds are not read out of it
        "RequestOrchestration",  # R5's RequestGroup
        "QuestionnaireResponse",  # a questionnaire's answers (a pain scale, a risk tool), not Observations
    }
)


@dataclass(frozen=True)
class Gathered:
    # Every resource found, whatever prefetch key it came under: plain resources as resources_in gives them (Bundles
    # opened), so the record takes them as they are (build_record's `pooled`).
    resources: tuple[Any, ...]
    medications: tuple[dict, ...]  # Medication resources read separately for medication references (R4, R5)
    gaps: Mapping[str, str]  # plain-words label of missing data → why
    obtained: bool  # at least one data source answered (a prefetch `null` counts: "no data")
    fetched_keys: tuple[str, ...] = ()
    # Results of urine drug test reports sought and not read, each (result id, why): the record names them.
    results_not_received: tuple[tuple[str, str], ...] = ()
    # Medications the prefetch's Bundles carry under a fullUrl, each (fullUrl, Medication): `resources` lost their
    # fullUrls, and an order that names its Medication by that absolute URL is matched to it by the record.
    medication_urls: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    # The visits read to plan their places' Location reads, read in the zone `gather` was given: by `id()`, each with
    # the visit itself, for the record to take as read (`build_record`'s `visits_read`) rather than read again.
    visits_read: Mapping[int, tuple[Mapping[str, Any], Encounter]] = field(default_factory=dict)
    # The prefetch's values, as sent: `resources` lost their fullUrls, and an order naming its prescriber by the
    # `urn:uuid:` fullUrl of a Practitioner or PractitionerRole entry names her (`build_record`'s `bundles`).
    bundles: tuple[Any, ...] = ()
    # The prefetch keys whose data was not read in full (failed, timed out, cut off, unusable in the prefetch), each
    # with why, in the order `gaps` names them; REPORT_RESULTS among them when results of reports were not read.
    unread: Mapping[str, str] = field(default_factory=dict)
    # The queries the FHIR server refused with an HTTP error status, by key (a prefetch key, or a `med:`, `obs:` or
    # `loc:` read), each with the status of its last answer (FetchResult.status): what the service decides on (an
    # expired token), never the words in `gaps`. A search refused as asked and answered when asked again is not here.
    refused: Mapping[str, int] = field(default_factory=dict)


def _next_url(payload: Any) -> str | None:
    # type() first: a dict is the usual answer, and the Mapping test runs Python code each time.
    if (type(payload) is dict or isinstance(payload, Mapping)) and payload.get("resourceType") == "Bundle":
        for link in bundle_links(payload):
            if isinstance(link, Mapping) and link.get("relation") == "next" and isinstance(link.get("url"), str):
                return link["url"]
    return None


def gather(
    request: HookRequest,
    templates: Mapping[str, str],
    *,
    today: date,
    budget_seconds: float,
    page_cap: int = 10,
    allow_http: bool = False,
    network: bool = True,
    session: requests.Session | None = None,
    budget_bytes: int = DEFAULT_FHIR_BUDGET_BYTES,
    terms: Terminology | None = None,
    hospice_days: int | None = None,
    locations: LocationCache | None = None,
    tz: ZoneInfo | None = None,
) -> Gathered:
    """Pool prefetch values; fetch absent or failed keys and unknown Medication references in parallel. With
    `terms` (the site searches lab reports), then the results urine drug test reports name and no answer held; with
    `hospice_days` (the hospice exclusion is on), the Locations of that many days' visits that no answer held (and
    `locations` does not remember from an earlier call), read in `tz` (the zone the record is built in) when given, so
    the record need not read them again (`Gathered.visits_read`)."""
    deadline = time.monotonic() + budget_seconds
    pooled: list[Any] = []
    gaps: dict[str, str] = {}
    unread: dict[str, str] = {}  # prefetch key -> why its data was not read in full (`Gathered.unread`)
    obtained = False
    queries: dict[str, str] = {}
    unusable: dict[str, str] = {}  # prefetch key -> why its value could not be used
    # Prefetched searches whose next pages are read here: each one's first-page (Bundle.total, matches).
    continued: dict[str, tuple[int | None, int]] = {}

    # Queries use the patient id as the request parser read it ("Patient/123" from some clients means "123").
    context = {**request.context, "patientId": request.patient_id} if request.patient_id else request.context
    # The EHR's FHIR base: a prefetched resource whose fullUrl names another server (an HIE's) is pooled marked with
    # that server's base, so the record never takes it for a version of the EHR's resource with the same id.
    server = request.fhir_server
    for key, value in request.prefetch.items():
        if key not in templates and value is not None:
            # Read (a site may add keys of its own), and checked as a search is: its warnings and total are named.
            found, gap = read_prefetch(value, None, server, key)
            pooled.extend(found)
            if gap is not None:
                if gap.unusable or gap.short:
                    _not_read(gaps, unread, key, f"in the prefetch, {gap.unusable or gap.short}")
                if gap.more:
                    queries[key] = gap.more
                if gap.first is not None:
                    continued[key] = gap.first
    for key, template in templates.items():
        if key in request.prefetch:
            value = request.prefetch[key]
            if value is None:  # the client says: no data
                obtained = True
                continue
            found, gap = read_prefetch(value, template, server, key)
            pooled.extend(found)
            if gap is None:  # the whole answer: the usual call
                obtained = True
                continue
            obtained = obtained or gap.unusable is None or bool(found)
            if gap.unusable is None:
                if gap.more:
                    queries[key] = gap.more  # the client sent page one only: read the rest ourselves
                if gap.first is not None:  # a search's page one: its total is judged over every page read
                    continued[key] = gap.first
                if gap.short:
                    _not_read(gaps, unread, key, f"in the prefetch, {gap.short}")
                continue
            # No answer to the key's query, which is asked of the FHIR server (or named) as for a key not sent.
            unusable[key] = gap.unusable
        query = render(template, context, today)
        if query is None:
            _not_read(gaps, unread, key, "the request lacks the context needed to look it up")
            continue
        queries[key] = query

    draft_items = resources_in(request.draft_orders)
    # One look at each resource pooled so far and each order being signed, for both questions asked of them.
    pooled_look = _Look()
    pooled_look.add(pooled)
    pooled_look.add(draft_items)
    names_medication = pooled_look.names_medication
    included = _medications_by_url(request.prefetch.values()) if names_medication else ()
    sent = tuple(request.prefetch.values())  # for who a `urn:uuid:` actor is, read by the record only if asked
    held = {url for url, _ in included}
    if names_medication and request.draft_orders is not None:
        # A draft Bundle's own Medication under the fullUrl the draft names (a transaction-style Bundle): the record
        # resolves it from the drafts' fullUrls, so it is neither looked up nor named as unread.
        held.update(url for url, _ in _medications_by_url((request.draft_orders,)))
    wanted = medication_references([pooled, draft_items], server) - held if names_medication else set()
    medication_refs = readable_medication_references(wanted)
    elsewhere = elsewhere_references(wanted)
    if len(medication_refs) + len(elsewhere) < len(wanted):
        gaps[MEDICATIONS] = NOT_A_MEDICATION_ID
    for ref in medication_refs:
        queries[f"med:{ref}"] = ref
    if not server:
        for ref in elsewhere:  # no server to tell whose they are: named as any Medication the call cannot read
            queries[f"med:{ref}"] = ref
        elsewhere = []

    # Report results are read only from the EHR's own server, after the searches, with the call's authorization when
    # it sends one: an open server (CDS Hooks allows one) answers these reads without a token, as it did the searches.
    read_results = terms is not None and network and bool(server)
    unread_results: tuple[tuple[str, str], ...] = ()
    if terms is not None and not read_results:  # nothing to read them from: each is named, with why
        unread_results = none_read(plan_result_reads(pooled, terms, server or ""), _results_not_read(network))
        if unread_results:
            unread_results = each_result(unread_results)
            gaps[REPORT_RESULTS] = unread[REPORT_RESULTS] = not_read_words(unread_results)
    # The places of recent visits are read only from the EHR's own server; offline or with no server, a Location
    # not sent is passed over as before (the stay is still named when its place's name says hospice).
    places = (
        PlaceReads(server, hospice_days, today, locations, tz=tz)
        if hospice_days is not None and network and server
        else None
    )
    if places is not None:
        queries.update(places.plan(pooled, pooled))
    if not queries and not read_results:  # the usual call: the prefetch held everything
        pooled_look.name_unread(gaps)
        if places is not None and places.named():
            gaps[HOSPICE_PLACES] = places.named()
        return Gathered(
            tuple(pooled),
            (),
            _name_elsewhere(gaps, elsewhere),
            obtained,
            (),
            unread_results,
            medication_urls=included,
            visits_read=places.visits if places is not None else {},
            bundles=sent,
            unread=unread,
        )
    medications: list[dict] = []
    fetched: list[str] = []
    if not (network and request.fhir_server):
        why = _not_sent(network, "not in the request's prefetch", "not in the prefetch")
        for key in queries:
            if key.startswith("med:"):
                gaps[MEDICATIONS] = why
            elif key in continued:  # page one was read: say so, after anything already named of it (a warning)
                _not_read(gaps, unread, key, _and_rest_not_read(gaps.get(_label(key)), network))
            else:
                _not_read(
                    gaps,
                    unread,
                    key,
                    f"in the prefetch, {unusable[key]}; {_no_second_read(network)}" if key in unusable else why,
                )
        pooled_look.name_unread(gaps)
        return Gathered(
            tuple(pooled),
            (),
            _name_elsewhere(gaps, elsewhere),
            obtained,
            (),
            unread_results,
            medication_urls=included,
            bundles=sent,
            unread=unread,
        )

    client = FhirClient(
        request.fhir_server or "",
        request.access_token,
        page_cap=page_cap,
        session=session,
        allow_http=allow_http,
        budget=ByteBudget(budget_bytes),  # one budget for every query and page of this call
    )
    attempted = set(medication_refs)
    not_received: list[tuple[str, str]] = []
    refusals: dict[str, AskedAgain] = {}  # second searches refused, by key, once asked again without the date bound
    refused: dict[str, int] = {}  # key -> the HTTP error status of its last answer (`Gathered.refused`)
    again: dict[str, str] = {}
    while True:
        results = client.fetch_all(queries, deadline - time.monotonic()) if queries else {}
        new_resources: list[dict] = []
        for key, result in results.items():
            if key not in fetched:
                fetched.append(key)
            retry = None if key in refusals or key in continued else _ask_again(key, result)
            if retry is not None:
                refusals[key] = retry
                again[key] = retry.query
                continue
            if result.status is not None:
                refused[key] = result.status
            if key.startswith("med:"):
                medications.extend(r for r in result.resources if r.get("resourceType") == "Medication")
                error = _read_error(result)
                if error:
                    gaps[MEDICATIONS] = error
                continue
            if key.startswith("loc:") and places is not None:
                _read_error(result)  # counted as a FHIR failure, as every read is
                new_resources.extend(places.take(key[4:], result))
                continue
            if key.startswith("obs:"):
                found, missed = read_outcome(key[4:], result.resources, _read_error(result))
                new_resources.extend(found)
                not_received.extend(missed)
                continue
            new_resources.extend(named_where(result.resources, f"in the answer to the search for {_label(key)}"))
            sent += result.directory  # who a `urn:uuid:` actor on a page read here is, as in the prefetch's Bundles
            _note(result, gaps, unread, page_cap)
            if key in refusals and _label(key) in gaps and not result.ok:
                _not_read(gaps, unread, key, refusals[key].failed(gaps[_label(key)]))
            if key in unusable and key in unread:  # the prefetch's value and the search both failed: both said
                _not_read(gaps, unread, key, f"in the prefetch, {unusable[key]}; searched again: {unread[key]}")
            if key in continued:
                short = _continued_shortfall(continued.pop(key), result)
                if short and _label(key) not in gaps:  # a first page's withheld warning, already named, says more
                    _not_read(gaps, unread, key, f"in the prefetch and the pages read after it, {short}")
            obtained = obtained or result.ok or bool(result.resources)
        pooled.extend(new_resources)
        pooled_look.add(new_resources)
        # Orders fetched just now may name Medications nobody has read yet: one more round, same budget.
        more = medication_references([pooled, medications], server) - held
        refs = set(readable_medication_references(more)) - attempted
        elsewhere.extend(sorted(set(elsewhere_references(more)) - set(elsewhere)))
        attempted |= refs
        queries = {f"med:{ref}": ref for ref in sorted(refs)}
        if places is not None:  # visits the searches just returned may name Locations nobody has read yet
            queries.update(places.plan(new_resources, pooled))
        queries.update(again)  # each refused second search, once, in the next round of the same call
        again = {}
        if read_results:  # once, after the searches: the report results no answer held
            read_results = False
            plan = plan_result_reads(pooled, terms, request.fhir_server or "")  # type: ignore[arg-type]
            not_received.extend(plan.not_read)
            # Newest report first, as planned: only plain Observation/<id> reads on the EHR's server (_server_read), so
            # a second filter here could only drop a result unnamed.
            queries.update({f"obs:{path}": path for path in plan.reads})
        if not queries:
            break
        if deadline - time.monotonic() <= 0:
            _name_timed_out(queries, gaps, not_received)
            if places is not None:
                places.timed_out(queries)
            for key in refusals.keys() & queries.keys():
                _not_read(gaps, unread, key, refusals[key].failed("timed out"))
            break
    missed = each_result(not_received)
    if missed:
        gaps[REPORT_RESULTS] = unread[REPORT_RESULTS] = not_read_words(not_received)
    gaps = _name_elsewhere(gaps, elsewhere)
    pooled_look.name_unread(gaps)
    if places is not None and places.named():
        gaps[HOSPICE_PLACES] = places.named()
    visits = places.visits if places is not None else {}
    return Gathered(
        tuple(pooled),
        tuple(medications),
        gaps,
        obtained,
        tuple(fetched),
        missed,
        included,
        visits,
        sent,
        unread,
        refused,
    )


def _medications_by_url(values: Any) -> tuple[tuple[str, Mapping[str, Any]], ...]:
    """The Medications the prefetch's Bundles carry under a fullUrl (Epic includes an order's Medication in its
    search, search.mode include), each (fullUrl, Medication): that fullUrl names that Medication, on any server."""
    found: list[tuple[str, Mapping[str, Any]]] = []
    for value in values:
        if value is None:
            continue
        resources: list[Mapping[str, Any]] = []
        urls: dict[int, str] = {}
        collect_resources(value, resources, urls)
        # Epic names every order's Medication by reference, so this runs on most of its calls: only the entries
        # with a fullUrl are looked at, not a (resource, fullUrl) pair built for every resource of the chart.
        for index, url in urls.items():
            if url and resources[index].get("resourceType") == "Medication":
                found.append((url, resources[index]))
    return tuple(found)


def _ask_again(key: str, result: FetchResult) -> AskedAgain | None:
    """The second-date search to ask without its date bound, when the server refused it as asked
    (FetchResult.refused): the data is then read rather than named missing. None for any other key or answer (401,
    403, 5xx, timeout)."""
    second = SECOND_DATES.get(key)
    if second is None or not result.refused:
        return None
    return ask_again(second, result.query, result.error)


def _read_error(result: FetchResult) -> str | None:
    """Why a read or search failed (counted as a FHIR failure), or None when it answered."""
    if result.ok:
        return None
    metrics.observe_fhir_failure(failure_reason(result))
    return result.error or "could not be read"


@dataclass
class _Look:
    """What gather asks of every resource it pools and of the orders being signed, found in one pass over them (two
    passes before, one per question): whether one names a Medication, and how many of each of UNREAD_TYPES."""

    # Most EHRs send coded medications: only an order or dispense that names a Medication needs the full walk. R5
    # names it inside `medication` (a CodeableReference, which may hold a concept only: the walk then finds none).
    names_medication: bool = False
    unread: dict[str, int] = field(default_factory=dict)  # by type

    def add(self, resources: list[Any]) -> None:
        """Looks at each of `resources` (one lookup and a key test each: charts hold thousands)."""
        names, unread = self.names_medication, self.unread
        for resource in resources:
            if not names and ("medicationReference" in resource or "medication" in resource):
                names = True
            kind = resource.get("resourceType")
            if type(kind) is str and kind in UNREAD_TYPES:  # a malformed one (a list) is named by the record
                unread[kind] = unread.get(kind, 0) + 1
        self.names_medication = names

    def name_unread(self, gaps: dict[str, str]) -> None:
        """Names the resources of UNREAD_TYPES looked at, by type, on the card."""
        if self.unread:
            sent = ", ".join(f"{count} {kind}" for kind, count in sorted(self.unread.items()))
            gaps[UNREAD_RECORDS] = f"{sent}: not counted in the MME total or the checks"


def _label(key: str) -> str:
    """What a prefetch key's data is called on the card: its plain words, or the key itself for one PainPlan
    never asks for (a site's own)."""
    return PREFETCH_LABELS.get(key) or f'data the EHR sent under the prefetch key "{key[:40]}"'


def _not_read(gaps: dict[str, str], unread: dict[str, str], key: str, why: str) -> None:
    """Names a prefetch key's data as not read in full: on the card by its label, and by its key for what reads
    it (`Gathered.unread`)."""
    gaps[_label(key)] = unread[key] = why


def _no_answer(value: Any, template: str | None) -> str | None:
    """Why a prefetch value (not null) is no answer to its key's query, so the query is asked of the FHIR server or
    the key named: no resource (a string, a number, a list, an object with no resourceType), an OperationOutcome
    (the query's failure passed on), a Bundle with no entries that is no searchset (no type is not valid FHIR; a
    collection or a batch answer holding nothing says nothing of what a search would find), one resource where a
    search was asked for, or, where a read was asked for (the patient), a Bundle with no entries or one resource of
    another type: a read always has its one resource, so neither says "nothing found". None for anything else, which
    is read as the answer (a searchset with no entries is Epic's and Oracle Health's "nothing found"). With no
    `template` (a key PainPlan did not ask for, whose query it does not know), one resource of any type but an
    OperationOutcome is an answer, as a read's; every other rule is a search's. A few lookups: it runs on every key of
    every call."""
    if type(value) is not dict:
        return _not_a_resource(value)
    kind = value.get("resourceType")
    search = template is None or "?" in template
    if kind == "Bundle":
        # The searchset first: the answer of nearly every key of every call, told by one lookup.
        if (search and value.get("type") == "searchset") or as_list(value.get("entry")):
            return None
        bundle = value.get("type")
        sent = f"an empty {bundle[:40]} Bundle" if type(bundle) is str and bundle else "a Bundle with no type"
        if not search:
            asked = _asked(template)
            return f"the EHR sent {sent} and no entries where the {asked[:40]} itself was asked for, so it is missing"
        return f"the EHR sent {sent} and no entries, not a search result, so it says nothing of what was found"
    if type(kind) is not str:
        return _not_a_resource(value)
    if kind == "OperationOutcome":
        return f"the EHR sent an OperationOutcome ({_outcome_words(value)}), not a search result (a Bundle)"
    if template is None:
        return None
    asked = _asked(template)
    if not search:
        if kind == asked:  # a read's answer: its one resource
            return None
        return f"a single {kind[:40]} was sent where the {asked[:40]} itself was asked for, so it is missing"
    if kind != asked:
        return (
            f"a single {kind[:40]} was sent where a search of {asked} was asked for, so the search's answer is missing"
        )
    return f"a single {kind[:40]} was sent, not a search result (a Bundle), so other matches may be missing"


def _asked(template: str | None) -> str:
    """The type a key's query searches or reads ("" for a key PainPlan did not ask for)."""
    if template is None:
        return ""
    return template.split("?" if "?" in template else "/", 1)[0]


_SEVERITIES = ("fatal", "error", "warning", "information")
_DIAGNOSTICS_CHARS = 100  # enough for the server's reason; a stack trace or a query echo is cut


def _outcome_words(outcome: Mapping[str, Any]) -> str:
    """An OperationOutcome's gravest issue in words for the card: its severity, code and text (diagnostics, else
    details.text), on one line and cut at _DIAGNOSTICS_CHARS. The text is the EHR's, shown only on this patient's
    card: `Gathered.gaps` values are never logged (the log names the labels)."""
    issues = [issue for issue in as_list(outcome.get("issue")) if type(issue) is dict]
    if not issues:
        return "with no issue"
    rank = {severity: place for place, severity in enumerate(_SEVERITIES)}
    issue = min(issues, key=lambda one: rank.get(one.get("severity"), len(rank)))  # type: ignore[arg-type]
    said = [str(part)[:40] for part in (issue.get("severity"), issue.get("code")) if type(part) is str and part]
    details = issue.get("details")
    text = issue.get("diagnostics") or (details.get("text") if type(details) is dict else None)
    if type(text) is str and text.strip():
        line = " ".join(text.split())  # one line: the card lists its gaps one a line
        if len(line) > _DIAGNOSTICS_CHARS:
            line = line[:_DIAGNOSTICS_CHARS].rstrip() + "…"
        return f'{", ".join(said) or "no severity"}: "{line}"'
    return ", ".join(said) or "no severity"


def _not_a_resource(value: Any) -> str:
    """Why a prefetch value that is no FHIR resource was not read, saying what it is (never its content)."""
    if type(value) is bool:
        sent = "true" if value else "false"
    elif type(value) is str:
        sent = "an empty string" if not value else "a string"
    elif type(value) in (int, float):
        sent = "a number"
    elif type(value) is list:
        sent = "an empty list" if not value else "a list"
    elif type(value) is dict:
        sent = "an empty object" if not value else "an object with no resourceType"
    else:
        sent = "a value"
    return f"the EHR sent {sent}, not a FHIR resource"


@dataclass(frozen=True)
class PrefetchGap:
    """Why a prefetch value (not null) is not the whole answer to its key's query, as the hook reads it."""

    # Why it is no answer to the query (asked of the FHIR server instead, else named); under a key PainPlan did not
    # ask for, whose query it does not know, why it is not all there (`_read_unasked`).
    unusable: str | None = None
    short: str | None = None  # why the answer holds less than the search found (a withheld warning, a total)
    more: str | None = None  # its next link: page one only was sent, and the rest is read on from there
    first: tuple[int | None, int] | None = None  # with `more`, a search page's (Bundle.total, matches)

    def named(self, network: bool) -> str | None:
        """Why, in the card's words, when nothing more is read for the key: offline (`network` False, as `painplan
        check` and `painplan mme` read a request) or with no FHIR server named."""
        said = "; ".join(filter(None, (self.unusable, self.short))) or None
        return _and_rest_not_read(said, network) if self.more else said


def read_prefetch(
    value: Any, template: str | None, server: str | None, key: str
) -> tuple[Sequence[Any], PrefetchGap | None]:
    """The hook's reading of a prefetch value (not null) under `key`, which it asked for with `template` or (None)
    did not: the resources taken from it (an item the pool names says it came from the key's data), and why it is not
    the whole answer, None when it is. Not an answer: `_no_answer`, a failed search in it, an empty search with a
    warning. Not all there: a withheld warning, a search nested in it not all there, a total above its matches, a
    next link. `server` is the EHR's FHIR base (a resource another server's fullUrl names is marked so). Run on every
    key of every call: a clean searchset is read in the one pass of `plain_page`, and no PrefetchGap is made for it."""
    if template is None:
        return _read_unasked(value, server, key)
    error = _no_answer(value, template)  # a search's value past this is a Bundle
    if error is not None:
        # Read for what it holds (one resource, a list's), named where unreadable; but it is no answer.
        return named_where(resources_of(value, server)[0], _where(key)), PrefetchGap(error)
    search = "?" in template  # else a read (the patient)
    plain = plain_page(value, server) if search else None  # a clean searchset: one pass
    if plain is not None:  # every resource typed: no item the pool names, so no named_where over it
        found = plain.resources
    else:
        found, error = resources_of(value, server)
        found = named_where(found, _where(key))  # a failed batch answer in it says its search
    if error is None and search and not found and plain is None:
        # An EHR fills prefetch from its own searches, and may pass on their warnings (Epic's 4119): an empty search
        # with a warning is no "nothing on record" here either. A plain page has no OperationOutcome to hold one: the
        # empty prefetch searches of most calls skip the scan.
        error = empty_search_problem(value, found)
    if error is not None:
        return [], PrefetchGap(error)
    more = _next_url(value)
    if not search:
        return found, PrefetchGap(more=more) if more else None
    # What it holds counts, whatever is said of it.
    return found, _answer_gap(value, plain if plain is not None else page_facts(value), more)  # one scan at most


def _read_unasked(value: Any, server: str | None, key: str) -> tuple[Sequence[Any], PrefetchGap | None]:
    """`read_prefetch` under a key PainPlan did not ask for (a site's own key, or another hook's), read as a search's
    answer is: no answer by the asked keys' rule (`_no_answer`, with no query known), a failed search in it, or a
    warning with no results is named, and so is a search whose answer is short; what it holds is taken either way.
    A list's items are each a value of their own, so an empty list, which holds nothing, is no gap."""
    if type(value) is list:
        readings = [_read_unasked(item, server, key) for item in value]
        return [resource for found, _ in readings for resource in found], pooled_gap(gap for _, gap in readings)
    error = _no_answer(value, None)
    found, failed = resources_of(value, server)  # what it holds is read either way, as an asked key's is
    found = named_where(found, _where(key))
    if error is None:
        error = failed or (empty_search_problem(value, found) if not found else None)
    if error is not None:
        return found, PrefetchGap(error)
    return found, _answer_gap(value, page_facts(value), _next_url(value))


def pooled_gap(gaps: Iterable[PrefetchGap | None]) -> PrefetchGap | None:
    """Why a list under a key PainPlan did not ask for is not all there, from its items' gaps (`_read_unasked`): a
    next page is not read from inside a list."""
    problems = [
        gap.unusable or gap.short or "it holds a search page whose next pages are not read from inside a list"
        for gap in gaps
        if gap is not None
    ]
    return PrefetchGap("; ".join(dict.fromkeys(problems))) if problems else None


def _answer_gap(value: Any, facts: PageFacts, more: str | None) -> PrefetchGap | None:
    """Why a search's answer, a Bundle whose page says `facts` and whose next link is `more`, is not all there: a
    warning that data was withheld (read again, the same user would be shown the same), a search nested in it or a
    total above its matches when sent whole, pages not sent. None, with no object made, for the usual whole answer."""
    short = facts.problem(value, bool(more))
    if short is None and more is None:
        return None
    return PrefetchGap(short=short, more=more, first=(reported_total(value), facts.matched) if more else None)


def _where(key: str) -> str:
    """Where an item the pool names came from, said on it: the prefetch key's data, in the card's words."""
    return f"in the prefetch: {_label(key)}"


def _continued_shortfall(first: tuple[int | None, int], result: FetchResult) -> str | None:
    """Words for a prefetched search read on from its next link that returned fewer matches, over all its pages,
    than its Bundle.total (the prefetch's, else the first a later page gave); None when it did not or could not say.
    Only a search read to its last page is judged: one cut off or failed is named for that already."""
    total, matched = first
    if total is None:
        total = result.total
    if total is None or not result.ok or result.truncated:
        return None
    return shortfall_words(total, matched + result.matched)


def _name_timed_out(queries: Mapping[str, str], gaps: dict[str, str], not_received: list[tuple[str, str]]) -> None:
    """The reads the deadline left unasked: Medications as before, each report result by its report."""
    if any(key.startswith("med:") for key in queries):
        gaps[MEDICATIONS] = "timed out"
    for key, path in queries.items():
        if key.startswith("obs:"):
            not_received.extend(read_outcome(path, (), "timed out")[1])


def _name_elsewhere(gaps: dict[str, str], elsewhere: list[str]) -> dict[str, str]:
    """The gaps with the Medications on another server than the EHR's counted after any other reason for the
    Medications: never read (the token is for the EHR's server only, and the EHR's Medication of that id may be
    another drug), their orders are named as unidentified."""
    if elsewhere:
        why = f"{len(elsewhere)} {ON_ANOTHER_SERVER}"
        gaps[MEDICATIONS] = f"{gaps[MEDICATIONS]}; {why}" if gaps.get(MEDICATIONS) else why
    return gaps


def _results_not_read(network: bool) -> str:
    """Why the results a urine drug test report names and the request does not hold were not read."""
    return _not_sent(network, "not sent in the request", "not sent in the prefetch", it="them")


def _not_sent(network: bool, offline: str, online: str, it: str = "it") -> str:
    """Why data the request did not hold was not read, said where it was not (`offline`, `online`) with the one
    reason for any read not made (`_no_second_read`): "not in the request's prefetch (the offline check reads nothing
    from the network)", "not in the prefetch, and the request names no FHIR server to read it from"."""
    reason = _no_second_read(network, again=False, it=it)
    return f"{offline} ({reason})" if not network else f"{online}, and {reason}"


def _and_rest_not_read(said: str | None, network: bool) -> str:
    """What is named of a prefetched search the EHR sent page one only (a withheld warning), then why its other pages
    were not read: the one wording of the card's gap and of `PrefetchGap.named` (as `painplan mme` names it)."""
    rest = (
        f"only its first page was in the prefetch, and the rest was not read: {_no_second_read(network, again=False)}"
    )
    return "; ".join(filter(None, (said, rest)))


def _no_second_read(network: bool, again: bool = True, it: str = "it") -> str:
    """Why nothing more was read from the EHR for the prefetch: offline, or no FHIR server named (one wording for a key
    not sent, one sent unusable, a search sent page one only, and a report's results, `it` "them")."""
    if not network:
        return "the offline check reads nothing from the network"
    return f"the request names no FHIR server to read {it} {'again ' if again else ''}from"


def _note(result: FetchResult, gaps: dict[str, str], unread: dict[str, str], page_cap: int) -> None:
    error = _read_error(result)
    if error:
        _not_read(gaps, unread, result.key, error)
    elif result.truncated:
        _not_read(gaps, unread, result.key, f"only the first {page_cap} pages were read")
