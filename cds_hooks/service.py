"""One hook call from parsed JSON to response JSON; shared by the HTTP service and `painplan check`."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import Engine

from cds_hooks import store
from cds_hooks.cards import DATA_INCOMPLETE, card_json, data_incomplete_card, options_for
from cds_hooks.errors import RequestError, operation_outcome
from cds_hooks.gather import gather
from cds_hooks.request import parse_hook_request
from cds_hooks.services import SERVICES, templates
from guideline.cards import Card
from guideline.context import HookContext
from guideline.record import build_record, iter_resources
from smart_app.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HookResult:
    """The HTTP status and body, plus the loggable facts of the call (no patient data, no tokens)."""

    status: int
    body: dict[str, Any]
    hook_instance: str | None = None
    topics: tuple[str, ...] = ()
    gaps: tuple[str, ...] = ()
    failures: tuple[str, ...] = field(default_factory=tuple)


def error_result(error: RequestError, hook_instance: str | None = None) -> HookResult:
    return HookResult(error.status, operation_outcome(error.message, error.code), hook_instance)


def run_hook(
    service_id: str,
    body: Any,
    settings: Settings,
    *,
    engine: Engine | None = None,
    network: bool = True,
    session: requests.Session | None = None,
    now: datetime | None = None,
) -> HookResult:
    """Parse, gather data, evaluate, build cards, remember them for feedback. Raises nothing."""
    service = SERVICES.get(service_id)
    if service is None:
        return error_result(RequestError(404, f"no CDS service with id {service_id[:60]}", "not-found"))
    try:
        request = parse_hook_request(body, service.hook, allow_http=settings.allow_http)
    except RequestError as error:
        return error_result(error)
    config = settings.guideline
    now = now or settings.evaluation_now()
    tz = ZoneInfo(config["timezone"])
    data = gather(
        request,
        templates(service.hook, config),
        today=now.astimezone(tz).date(),
        budget_seconds=settings.fhir_timeout,
        page_cap=int(config["prefetch"].get("page_cap", 10)),
        allow_http=settings.allow_http,
        network=network,
        session=session,
    )
    has_drafts = any(True for _ in iter_resources(request.draft_orders))
    if not data.obtained and not data.resources and not has_drafts:
        missing = ", ".join(data.gaps) or "patient data"
        outcome = operation_outcome(f"could not obtain the data this service needs: {missing}", "not-found")
        return HookResult(412, outcome, request.hook_instance, gaps=tuple(data.gaps))

    gaps = dict(data.gaps)
    record = build_record(data.resources, tz, draft_orders=request.draft_orders, extra_medications=data.medications)
    snoozes = []
    if engine is not None:
        try:
            snoozes = store.load_snoozes(engine, request.patient_id, request.user_id, now)
        except Exception:  # noqa: BLE001 - without the database we still answer, just without snoozes
            log.exception(json.dumps({"event": "snooze-load-failed", "hookInstance": request.hook_instance}))
    context = HookContext(
        hook=service.hook,
        patient_id=request.patient_id,
        user_id=request.user_id,
        encounter_id=request.encounter_id,
        selections=request.selections,
    )
    cards: list[Card] = []
    failures: tuple[str, ...] = ()
    try:
        from guideline.engine import evaluate

        evaluation = evaluate(record, context, config, now, snoozes)
        cards = list(evaluation.cards)
        failures = tuple(f"{f.check_id}:{f.error}" for f in getattr(evaluation, "failures", ()))
    except Exception as error:  # noqa: BLE001 - an engine bug must cost cards, never the call
        log.exception(json.dumps({"event": "engine-failed", "hookInstance": request.hook_instance}))
        failures = (f"engine:{type(error).__name__}",)
        gaps["PainPlan's checks"] = "an internal error stopped the evaluation"
    if failures and "PainPlan's checks" not in gaps:
        gaps["some of PainPlan's checks"] = "an internal error stopped them; other cards are unaffected"
    if gaps:
        cards.append(data_incomplete_card(gaps))

    options = options_for(config, settings.public_url, request.patient_id)
    rendered = [card_json(card, options) for card in cards]
    if engine is not None and rendered:
        issued = [
            store.IssuedCard(
                uuid=card["uuid"],
                check_id=source.check_id,
                patient_id=request.patient_id,
                user_id=request.user_id,
                indicator=source.indicator,
                issued_at=now,
                service=service.id,
                hook_instance=request.hook_instance,
            )
            for card, source in zip(rendered, cards, strict=True)
        ]
        try:
            store.record_issued(engine, issued)
        except Exception:  # noqa: BLE001 - cards still go out; feedback for them will be "unknown card"
            log.exception(json.dumps({"event": "card-store-failed", "hookInstance": request.hook_instance}))
    return HookResult(
        200,
        {"cards": rendered},
        request.hook_instance,
        topics=tuple(c.check_id for c in cards),
        gaps=tuple(gaps),
        failures=failures,
    )


def is_data_incomplete(card: Mapping[str, Any]) -> bool:
    return card.get("source", {}).get("topic", {}).get("code", "").replace("-", "") == DATA_INCOMPLETE.replace("-", "")
