"""One hook call from parsed JSON to response JSON; shared by the HTTP service and `painplan check`."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import Engine

from cds_hooks import store
from cds_hooks.cards import DATA_INCOMPLETE, card_json, checks_not_run_card, data_incomplete_card, options_for
from cds_hooks.ehr_release import release_of_call
from cds_hooks.errors import RequestError, operation_outcome
from cds_hooks.gather import HOSPICE_PLACES, REPORT_RESULTS, Gathered, gather
from cds_hooks.location_cache import LocationCache
from cds_hooks.request import NO_DRAFT_ORDERS, HookRequest, no_draft_orders, parse_hook_request
from cds_hooks.services import REPORTS, SERVICES, templates
from cds_hooks.settings import CdsSettings
from guideline import unread_data as kinds
from guideline.cards import Card, Snooze, finding_keys
from guideline.checks import CHECKS
from guideline.config import CHECK_IDS
from guideline.context import HookContext
from guideline.engine import evaluate
from guideline.exclusions import hospice_place_days, unread_places_matter
from guideline.named_gaps import ON_CARD, UNDATED_HOSPICE_CLAIMS, CardLine, worded
from guideline.population.claims import CLAIMS_UNREAD, claims_read_for_a_hook
from guideline.record import ReadProblem, build_record, resources_in
from guideline.terminology import load_terminology
from guideline.unread_data import KEY_KINDS

log = logging.getLogger(__name__)

CHART = "the patient's chart (prefetch and FHIR server)"
# Payer claims handed to a hook are read as the fills, diagnoses and procedures they stand for; one that stands for
# none (no drug line, diagnosis or procedure, or cancelled) is named by count, a hospice claim with no day of care by
# its id.
CLAIMS = "payer claims (ExplanationOfBenefit)"
UNREADABLE_LISTED = 10  # a card names at most this many unreadable resources, then counts the rest
# What `gather` read not in full (`Gathered.unread`), as kinds: its prefetch keys, and the report results.
UNREAD_KINDS: dict[str, str] = {**KEY_KINDS, REPORT_RESULTS: kinds.LAB_REPORTS}


@dataclass(frozen=True)
class HookResult:
    """The HTTP status and body, plus the loggable facts of the call (no patient data, no tokens)."""

    status: int
    body: dict[str, Any]
    hook_instance: str | None = None
    topics: tuple[str, ...] = ()
    gaps: tuple[str, ...] = ()
    failures: tuple[str, ...] = field(default_factory=tuple)
    not_run: tuple[str, ...] = ()  # the checks the checks-not-run card names
    incomplete: tuple[str, ...] = ()  # the checks of the cards issued on incomplete records (`store.stored_incomplete`)


def error_result(error: RequestError, hook_instance: str | None = None) -> HookResult:
    return HookResult(error.status, operation_outcome(error.message, error.code), hook_instance)


def run_hook(
    service_id: str,
    body: Any,
    settings: CdsSettings,
    *,
    engine: Engine | None = None,
    network: bool = True,
    session: requests.Session | None = None,
    now: datetime | None = None,
    cpu_turn: AbstractContextManager[Any] | None = None,
    locations: LocationCache | None = None,
) -> HookResult:
    """Parse, gather data, evaluate, build cards, remember them for feedback. Raises nothing.

    `cpu_turn` (a lock shared by the calls of one process) is held while the record is built, evaluated and turned
    into cards, and never while waiting on the FHIR server or the database. `locations` remembers the Locations read
    by earlier calls of the process.
    """
    # The snoozes are read and the cards stored on one pooled connection, checked out for the first and returned
    # once the cards are committed (or here, whatever happened).
    with store.call_store(engine) as database:
        return _run_hook(service_id, body, settings, database, network, session, now, cpu_turn, locations)


def _run_hook(
    service_id: str,
    body: Any,
    settings: CdsSettings,
    database: store.CallStore | None,
    network: bool,
    session: requests.Session | None,
    now: datetime | None,
    cpu_turn: AbstractContextManager[Any] | None,
    locations: LocationCache | None,
) -> HookResult:
    """`run_hook` with the call's database work on `database` (None: no database)."""
    service = SERVICES.get(service_id)
    if service is None:
        return error_result(RequestError(404, f"no CDS service with id {service_id[:60]}", "not-found"))
    try:
        # Offline (`painplan check`) no call is made, so a plain-http fhirServer risks no token; malformed still fails.
        request = parse_hook_request(body, service.hook, allow_http=settings.allow_http or not network)
    except RequestError as error:
        return error_result(error)
    config = settings.guideline
    now = now or settings.evaluation_now()
    tz = ZoneInfo(config["timezone"])
    has_drafts = bool(resources_in(request.draft_orders))
    gather_failed = False
    try:
        asked = templates(service.hook, config)
        data = gather(
            request,
            asked,
            today=now.astimezone(tz).date(),
            budget_seconds=settings.fhir_timeout,
            page_cap=int(config["prefetch"].get("page_cap", 10)),
            allow_http=settings.allow_http,
            network=network,
            session=session,
            budget_bytes=settings.fhir_budget_bytes,
            # Where the site searches lab reports, the results they name and no answer held are read too.
            terms=load_terminology(config) if REPORTS.key in asked else None,
            hospice_days=hospice_place_days(config),  # the visits whose places' Locations are read
            locations=locations,
            tz=tz,  # the visits it reads to plan their places' reads are read as the record reads them
        )
    except Exception as error:  # noqa: BLE001 - the drafts can still be checked; the chart is named as missing
        log_failure("gather-failed", request.hook_instance, error)
        gather_failed = True
        data = Gathered((), (), {CHART: "could not be gathered because of an internal error"}, True)
    # An order hook with no order in its draftOrders: the chart is still checked, and the order nobody sent is named
    # first, never read as checked and all clear (in the 412 too, when there is no chart either).
    unsent = no_draft_orders(service.hook, request.draft_orders)
    gaps = {NO_DRAFT_ORDERS: unsent, **data.gaps} if unsent else dict(data.gaps)
    _name_expired_token(request, data.refused, gaps)
    if not data.obtained and not data.resources and not has_drafts:
        missing = ", ".join(data.gaps) or "patient data"
        # What the call itself lacked (no draft order, a token expired before it was sent) is the cause, said in
        # the card's words: EHRs show no card for a 412, so its OperationOutcome is all the integrator sees.
        missing += "".join(f"; and {what}: {why}" for what, why in gaps.items() if what not in data.gaps)
        outcome = operation_outcome(f"could not obtain the data this service needs: {missing}", "not-found")
        return HookResult(412, outcome, request.hook_instance, gaps=tuple(gaps))

    def every_check(why: str) -> dict[str, str]:
        # Worked out only when a stage fails, so a call that goes well never pays for it.
        return dict.fromkeys(enabled_checks(config, service.hook), why)

    not_run: dict[str, str] = {}  # check id → the stage that failed for it
    cards: list[Card] = []
    failures: list[str] = []
    if gather_failed:
        failures.append("gather")
        if not has_drafts:  # nothing at all to evaluate: every check of the hook is lost
            not_run.update(every_check("the patient's chart could not be gathered"))
    snoozes = _snoozes(database, request, now, gaps)
    with cpu_turn or nullcontext():
        record = None
        try:
            claims = claims_read_for_a_hook(data.resources)
            resources = claims.resources
            if claims.unread:
                gaps[CLAIMS] = f"{claims.unread} {CLAIMS_UNREAD}"
            _name_each(claims.undated_hospice, gaps, UNDATED_HOSPICE_CLAIMS)
            record = build_record(
                resources,
                tz,
                draft_orders=request.draft_orders,
                extra_medications=data.medications,
                medication_urls=data.medication_urls,  # prefetch Medications by fullUrl (resources lost theirs)
                patient_id=request.patient_id,
                pooled=True,  # gather pooled them with resources_in
                results_not_received=data.results_not_received,
                fhir_server=request.fhir_server,  # what an absolute Medication reference is matched against
                visits_read=data.visits_read,  # read once by gather, in `tz`, to plan their places' reads
                bundles=data.bundles,  # the prefetch as sent: who a `urn:uuid:` prescriber is (resources lost theirs)
            )
        except Exception as error:  # noqa: BLE001 - build_record skips bad resources; this is the guard behind it
            log_failure("record-build-failed", request.hook_instance, error)
            failures.append(f"record:{type(error).__name__}")
            not_run.update(every_check("the patient record could not be built"))
        if record is not None:
            _name_unreadable(record.problems, gaps)
            context = HookContext(
                hook=service.hook,
                patient_id=request.patient_id,
                user_id=request.user_id,
                encounter_id=request.encounter_id,
                selections=request.selections,
            )
            try:
                evaluation = evaluate(record, context, config, now, snoozes, unread=unread_kinds(data.unread, gaps))
                cards = list(evaluation.cards)
                for kind in worded(ON_CARD, config):
                    if named := kind.card_named(evaluation.facts):  # most kinds name nothing on most calls
                        _name_each(named, gaps, kind.card)
                if HOSPICE_PLACES in gaps and not unread_places_matter(evaluation.facts):
                    gaps.pop(HOSPICE_PLACES, None)
                # Last, after what they name: what the data named above means for the checks' answers.
                gaps.update(evaluation.data_incomplete_lines)
                for failure in evaluation.failures:
                    failures.append(f"{failure.check_id}:{failure.error}")
                    not_run[failure.check_id] = "an internal error stopped it"
            except Exception as error:  # noqa: BLE001 - an engine bug must cost cards, never the call
                log_failure("engine-failed", request.hook_instance, error)
                failures.append(f"engine:{type(error).__name__}")
                not_run.update(every_check("an internal error stopped the evaluation"))
        if gaps:
            cards.append(data_incomplete_card(gaps))

        release = release_of_call(settings.ehr_fhir_version, request.fhir_server, request.draft_orders, data.resources)
        options = options_for(config, settings.public_url, request.patient_id, request.draft_orders, release)
        rendered: list[dict[str, Any]] = []
        sources: list[Card] = []
        for card in cards:
            try:
                rendered.append(card_json(card, options))
                sources.append(card)
            except Exception as error:  # noqa: BLE001 - one card that cannot be built must not take the others
                log_failure("card-build-failed", request.hook_instance, error, check=card.check_id)
                failures.append(f"card:{card.check_id}:{type(error).__name__}")
                not_run[card.check_id] = "its card could not be built"
        if not_run:
            closing = checks_not_run_card(not_run)
            rendered.append(card_json(closing, options))
            sources.append(closing)
        cards = sources
    if database is not None and rendered:
        try:
            database.record_issued(_issued(rendered, cards, request, service.id, now))
        except Exception as error:  # noqa: BLE001 - cards still go out; feedback for them will be "unknown card"
            log_failure("card-store-failed", request.hook_instance, error)
    return HookResult(
        200,
        {"cards": rendered},
        request.hook_instance,
        topics=tuple(c.check_id for c in cards),
        gaps=tuple(gaps),
        failures=tuple(failures),
        not_run=tuple(not_run),
        incomplete=tuple(c.check_id for c in cards if store.stored_incomplete(c)),
    )


def failed_call_body(service_id: str, settings: CdsSettings) -> dict[str, Any]:
    """The answer when the call itself failed unexpectedly: one card naming every check of the hook as not run
    (a bare empty list would read as "all clear"). Built from constants only, so it cannot fail the same way."""
    service = SERVICES.get(service_id)
    config = settings.guideline
    try:
        checks = enabled_checks(config, service.hook) if service is not None else CHECK_IDS
    except Exception:  # noqa: BLE001 - the configuration is validated at start-up; name every check if not
        checks = CHECK_IDS
    card = checks_not_run_card(dict.fromkeys(checks or CHECK_IDS, "an internal error stopped the whole call"))
    options = options_for(config, settings.public_url, None)
    return {"cards": [card_json(card, options)]}


EXPIRED_TOKEN = "the FHIR access token the EHR sent"


def _name_expired_token(request: HookRequest, refused: Mapping[str, int], gaps: dict[str, str]) -> None:
    """Once, beside the searches a server refused with 401 (`Gathered.refused`, the status itself: never our words
    for it): the token had expired before the EHR sent it (`expires_in` 0 or less), so the integrator fixes the
    token, not the scopes or the server."""
    if request.token_expired_in is None or 401 not in refused.values():
        return
    gaps[EXPIRED_TOKEN] = (
        f"had already expired when the EHR sent it (fhirAuthorization expires_in {request.token_expired_in}), so "
        "the FHIR server refused it (HTTP 401): the EHR must send a token that is still valid"
    )


def unread_kinds(not_read: Mapping[str, str], gaps: Mapping[str, str]) -> dict[str, str]:
    """The kinds of data `gather` did not read in full (`Gathered.unread`), each with why (the first named, for a kind
    two keys hold); every kind when the chart could not be gathered at all (named in `gaps`)."""
    if CHART in gaps:
        return dict.fromkeys(kinds.CHART_KINDS, f"{CHART} {gaps[CHART]}")
    unread: dict[str, str] = {}
    for key, why in not_read.items():
        kind = UNREAD_KINDS.get(key)
        if kind is not None:
            unread.setdefault(kind, why)
    return unread


def enabled_checks(config: Any, hook: str) -> tuple[str, ...]:
    """The checks this hook runs under the configuration (what a failed stage leaves unevaluated)."""
    return tuple(c for c in CHECK_IDS if c in CHECKS and config.check(c).runs_on(hook))


def log_failure(event: str, hook_instance: str | None, error: Exception, **extra: str) -> None:
    """The failure's type and where it happened: never its message, which may quote patient data."""
    trace = traceback.extract_tb(error.__traceback__)
    where = [f"{Path(frame.filename).name}:{frame.lineno}" for frame in trace[-3:]]
    entry = {"event": event, "hookInstance": hook_instance, "error": type(error).__name__, "at": where, **extra}
    log.error(json.dumps(entry))


def _name_unreadable(problems: Sequence[ReadProblem], gaps: dict[str, str]) -> None:
    """One line per resource the record could not read (type, id, position and why; never its contents)."""
    for problem in problems[:UNREADABLE_LISTED]:
        gaps[f"{problem.describe()}"] = f"skipped: {problem.reason}"
    if len(problems) > UNREADABLE_LISTED:
        gaps["other resources"] = f"{len(problems) - UNREADABLE_LISTED} more could not be read and were skipped"


def _name_each(named: Sequence[str], gaps: dict[str, str], line: CardLine | None) -> None:
    """Each named item with why it matters (the first few, then how many more), as the plan page names them: without
    this the cards would read as if the data had said nothing amiss."""
    assert line is not None  # ON_CARD holds only the kinds with a card line
    for item in named[:UNREADABLE_LISTED]:
        gaps[item] = line.why
    if len(named) > UNREADABLE_LISTED:
        gaps[line.others] = f"{len(named) - UNREADABLE_LISTED} more"


def is_data_incomplete(card: Mapping[str, Any]) -> bool:
    return card.get("source", {}).get("topic", {}).get("code", "").replace("-", "") == DATA_INCOMPLETE.replace("-", "")


def _issued(
    rendered: list[dict[str, Any]], cards: list[Card], request: HookRequest, service_id: str, now: datetime
) -> list[store.IssuedCard]:
    """The rows that let feedback find each card: its check, severity, the finding a snooze will keep and the reasons
    it offered."""
    return [
        store.IssuedCard(
            uuid=card["uuid"],
            check_id=source.check_id,
            patient_id=request.patient_id,
            user_id=request.user_id,
            indicator=source.indicator,
            issued_at=now,
            service=service_id,
            hook_instance=request.hook_instance,
            about=store.stored_about(finding_keys(source.about)),
            level=store.stored_level(source.level),
            records_incomplete=store.stored_incomplete(source),
            # What the card as sent offered (a reason the card leaves out is not offered): feedback checks against it.
            offered_reasons=store.stored_reasons(card),
        )
        for card, source in zip(rendered, cards, strict=True)
    ]


def _snoozes(
    database: store.CallStore | None, request: HookRequest, now: datetime, gaps: dict[str, str]
) -> list[Snooze]:
    """The patient's unexpired snoozes; when the database cannot be read, a gap says a card may repeat an override."""
    if database is None:
        return []
    try:
        return database.load_snoozes(request.patient_id, request.user_id, now)
    except Exception as error:  # noqa: BLE001 - without the database we still answer, just without snoozes
        # Type and place only: a database error's text quotes its parameters (the patient's id).
        log_failure("snooze-load-failed", request.hook_instance, error)
        gaps["earlier overrides (snoozes)"] = "could not be read, so a card may repeat one already overridden"
        return []
