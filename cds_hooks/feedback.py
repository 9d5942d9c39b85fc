"""Card feedback (CDS Hooks 1.9, guideline 11.2): validate, store idempotently, turn overrides into snoozes."""

from __future__ import annotations

import calendar
import hashlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from cds_hooks import metrics, store
from cds_hooks.errors import RequestError
from guideline.cards import Snooze
from guideline.config import GuidelineConfig
from guideline.engine import USER_SCOPED_REASONS
from guideline.fhirdata import CDC_OVERRIDE_REASONS

log = logging.getLogger(__name__)

# An outcome "in the future" is a clock error; since until = outcomeTimestamp + duration, a far-future one would
# silence a check for years. NTP-synced EHR clocks are seconds apart, so an hour is generous.
MAX_CLOCK_SKEW = timedelta(hours=1)
# Feedback arrives one or a few cards at a time; each item costs database round trips, so a 5 MB batch of tiny
# items would keep a worker busy past the server's timeouts.
MAX_ITEMS = 1000

# Guideline 11.1: these reasons silence the check for the clinician who gave them, not for everyone.
load_snoozes = store.load_snoozes  # the service's entry point: load_snoozes(engine, patient_id, user_id, now)


@dataclass(frozen=True)
class FeedbackItem:
    card: str
    outcome: str
    outcome_timestamp: datetime
    accepted_suggestions: tuple[str, ...] = ()
    reason_system: str | None = None
    reason_code: str | None = None
    comment: str | None = None


# RFC 3339 allows a 60th second (a leap second); datetime cannot hold it, so it is read as the second before.
_LEAP_SECOND = re.compile(r"^(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d):60(?=[.,Zz+-]|$)")


def _timestamp(value: Any, now: datetime | None = None) -> datetime:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RequestError(400, "outcomeTimestamp is required", "required")
    if not isinstance(value, str):
        raise RequestError(400, "outcomeTimestamp must be an RFC 3339 date-time (a string)")
    text = _LEAP_SECOND.sub(r"\1:59", value.strip()).replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as error:
        raise RequestError(400, "outcomeTimestamp must be an RFC 3339 date-time") from error
    if parsed.tzinfo is None:
        raise RequestError(400, "outcomeTimestamp needs a time zone (UTC)")
    try:
        parsed.astimezone(UTC)  # "0001-01-01T00:00:00+14:00" parses but has no UTC instant
    except OverflowError as error:
        raise RequestError(400, "outcomeTimestamp is out of range") from error
    if now is not None and parsed > now + MAX_CLOCK_SKEW:
        raise RequestError(400, "outcomeTimestamp is in the future")
    return parsed


def parse_feedback(body: Any, now: datetime | None = None) -> list[FeedbackItem]:
    """Validate every item before storing any, so a bad batch changes nothing; `now` is the service clock."""
    if not isinstance(body, Mapping) or not isinstance(body.get("feedback"), list) or not body["feedback"]:
        raise RequestError(400, 'the body must be {"feedback": [...]} with at least one item', "required")
    if len(body["feedback"]) > MAX_ITEMS:
        raise RequestError(413, f"send at most {MAX_ITEMS} feedback items per request", "too-costly")
    items = []
    for raw in body["feedback"]:
        if not isinstance(raw, Mapping):
            raise RequestError(400, "each feedback item must be an object")
        card = raw.get("card")
        if not isinstance(card, str) or not card.strip():
            raise RequestError(400, "feedback card (the card uuid) is required", "required")
        outcome = raw.get("outcome")
        if outcome not in ("accepted", "overridden"):
            raise RequestError(400, "feedback outcome must be accepted or overridden")
        timestamp = _timestamp(raw.get("outcomeTimestamp"), now)
        accepted: tuple[str, ...] = ()
        if outcome == "accepted":
            suggestions = raw.get("acceptedSuggestions")
            if not isinstance(suggestions, list) or not suggestions:
                raise RequestError(400, "accepted feedback needs acceptedSuggestions", "required")
            ids = [s.get("id") for s in suggestions if isinstance(s, Mapping)]
            if len(ids) != len(suggestions) or not all(isinstance(i, str) and i for i in ids):
                raise RequestError(400, "each accepted suggestion needs an id")
            accepted = tuple(ids)
        system = code = comment = None
        override = raw.get("overrideReason")
        if outcome == "overridden" and override is not None:
            if not isinstance(override, Mapping):
                raise RequestError(400, "overrideReason must be an object")
            reason = override.get("reason")
            if reason is not None:
                if not isinstance(reason, Mapping) or not isinstance(reason.get("code"), str):
                    raise RequestError(400, "overrideReason.reason must be a Coding with a code")
                code = reason["code"][:128]
                system = reason["system"][:256] if isinstance(reason.get("system"), str) else None
            user_comment = override.get("userComment")
            comment = user_comment[:2000] if isinstance(user_comment, str) and user_comment else None
        items.append(FeedbackItem(card.strip()[:128], outcome, timestamp, accepted, system, code, comment))
    return items


_DURATION = re.compile(r"^\s*(\d+)\s*(day|days|week|weeks|month|months|year|years)\s*$", re.IGNORECASE)


def add_duration(start: datetime, duration: str) -> datetime:
    """ "3 months", "90 days", "1 day", "12 months": calendar months keep the day (clamped to month end).

    Raises ValueError for an unreadable duration or an end past the calendar (after 9999-12-31).
    """
    match = _DURATION.match(duration or "")
    if not match:
        raise ValueError(f"not a duration: {duration!r}")
    amount, unit = int(match.group(1)), match.group(2).lower()
    try:
        if unit.startswith("day"):
            return start + timedelta(days=amount)
        if unit.startswith("week"):
            return start + timedelta(weeks=amount)
    except OverflowError as error:
        raise ValueError(f"{duration!r} after {start.isoformat()} is past the calendar") from error
    months = amount * 12 if unit.startswith("year") else amount
    year, month = divmod(start.year * 12 + start.month - 1 + months, 12)
    if not 1 <= year <= 9999:
        raise ValueError(f"{duration!r} after {start.isoformat()} is past the calendar")
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return start.replace(year=year, month=month + 1, day=day)


def _known_systems(config: GuidelineConfig) -> set[str]:
    return {CDC_OVERRIDE_REASONS, f"{config['canonical_base']}/CodeSystem/painplan-override-reason"}


def _known_reason(item: FeedbackItem, config: GuidelineConfig) -> bool:
    """A reason PainPlan knows, one with a snooze: a configured code, sent under our system, the CDC's or none (an
    EHR's own system's codes are not ours, whatever they spell)."""
    return item.reason_code in config["snooze"]["durations"] and (
        item.reason_system is None or item.reason_system in _known_systems(config)
    )


def _refuse_if_not_offered(
    service_id: str, item: FeedbackItem, issued: store.IssuedCard | None, config: GuidelineConfig
) -> None:
    """Refuse (400) an override whose reason PainPlan knows (it has a snooze) but the card did not offer.

    CDS Hooks 2.0.1: the overrideReason is one of the card's. Taken as it was, a naloxone card's "12 months" sent on
    the PDMP card silenced the PDMP review for a year. An EHR's own code (no snooze) and a card whose offered reasons
    were not recorded (issued before 0005) or that is unknown are taken as before.
    """
    if issued is None or issued.service != service_id or item.outcome != "overridden" or not item.reason_code:
        return
    offered = store.offered(issued)
    if offered is None or item.reason_code in offered or not _known_reason(item, config):
        return
    metrics.observe_feedback_refused(service_id, "reason-not-offered")
    log.info(json.dumps({"event": "feedback-reason-not-offered", "service": service_id, "code": item.reason_code}))
    raise RequestError(
        400, f"override reason {item.reason_code!r} was not offered on card {item.card}; nothing was stored"
    )


def fingerprint(service_id: str, item: FeedbackItem) -> str:
    canonical = json.dumps(
        [
            service_id,
            item.card,
            item.outcome,
            item.outcome_timestamp.isoformat(),
            sorted(item.accepted_suggestions),
            item.reason_system,
            item.reason_code,
            item.comment,
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def apply_feedback(
    engine: Engine, service_id: str, items: list[FeedbackItem], config: GuidelineConfig, received_at: datetime
) -> dict[str, int]:
    """Store each item once; an override with a known reason creates or refreshes a snooze.

    Raises RequestError (400), storing nothing, when an item's known reason is not one its card offered."""
    counts = {"stored": 0, "duplicates": 0, "unknown_cards": 0, "snoozes": 0}
    durations: Mapping[str, str] = config["snooze"]["durations"]
    found = [store.find_issued(engine, item.card) for item in items]
    for item, issued in zip(items, found, strict=True):  # before any item is stored: a bad batch changes nothing
        _refuse_if_not_offered(service_id, item, issued, config)
    for item, issued in zip(items, found, strict=True):
        row = store.FeedbackRow(
            fingerprint=fingerprint(service_id, item),
            card_uuid=item.card,
            service=service_id,
            hook_instance=issued.hook_instance if issued else None,
            outcome=item.outcome,
            reason_system=item.reason_system,
            reason_code=item.reason_code,
            comment=item.comment,
            accepted_suggestions=item.accepted_suggestions,
            outcome_timestamp=item.outcome_timestamp,
        )
        stored = store.record_feedback(engine, row, received_at)
        counts["stored" if stored else "duplicates"] += 1
        if stored:
            metrics.observe_feedback(item.outcome, item.reason_code, durations)
        if issued is None or issued.service != service_id:
            counts["unknown_cards"] += 1
            log.info(json.dumps({"event": "feedback-unknown-card", "service": service_id, "card": item.card[:64]}))
            continue
        if item.outcome != "overridden" or not item.reason_code or not issued.patient_id:
            continue
        if not _known_reason(item, config):
            log.info(json.dumps({"event": "feedback-reason-without-snooze", "code": item.reason_code}))
            continue
        try:
            until = add_duration(item.outcome_timestamp, durations[item.reason_code])
        except ValueError:
            log.warning(json.dumps({"event": "bad-snooze-duration", "code": item.reason_code}))
            continue
        snooze = Snooze(
            check_id=issued.check_id,
            patient_id=issued.patient_id,
            until=until,
            indicator=issued.indicator,  # type: ignore[arg-type]
            user_id=issued.user_id if item.reason_code in USER_SCOPED_REASONS else None,
            reason=item.reason_code,
            set_at=item.outcome_timestamp,
            about=store.read_about(issued.about),
            level=store.read_level(issued.level),
        )
        store.save_snooze(engine, snooze, item.comment)
        counts["snoozes"] += 1
    return counts
