"""Prometheus counters of the hook services: calls, latency, cards, feedback and failed FHIR reads (no patient data)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import Counter, Histogram

CALLS = Counter("painplan_hook_calls", "CDS service calls answered, by service and HTTP status", ["service", "status"])
LATENCY = Histogram(
    "painplan_hook_seconds",
    "Time to answer a CDS service call, from the request reaching the app to the response",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CARDS = Counter("painplan_cards", "Cards returned, by check (card topic code) and indicator", ["check", "indicator"])
# Apart from CARDS: an override of a card issued because a search failed says the EHR is broken, not the card.
CARDS_INCOMPLETE = Counter(
    "painplan_cards_records_incomplete",
    "Cards returned whose finding rests on data that could not be read (records incomplete), by check",
    ["check"],
)
FEEDBACK = Counter(
    "painplan_feedback",
    "Card feedback stored, by outcome and override reason ('other' if not configured)",
    ["outcome", "reason"],
)
# Apart from FEEDBACK, which counts items stored: a refused request stores none of its items.
FEEDBACK_REFUSED = Counter(
    "painplan_feedback_refused",
    "Feedback requests refused whole (400), by service and why ('reason-not-offered')",
    ["service", "why"],
)
FHIR_FAILURES = Counter(
    "painplan_fhir_failures", "FHIR queries of hook calls that failed or were cut short, by reason", ["reason"]
)


# Each metric's children by their label values, as `labels` finds them: it checks, converts and takes a lock on every
# call (a hook call asks for five) to hand back the same child. The metric keeps every child anyway, so this holds
# no more than it does.
_CHILDREN: dict[tuple[int, tuple[str, ...]], Any] = {}


def _child(metric: Any, *values: str) -> Any:
    """`metric.labels(*values)`, looked up once."""
    key = (id(metric), values)  # the metrics are module constants: an id stays theirs
    child = _CHILDREN.get(key)
    if child is None:
        child = _CHILDREN[key] = metric.labels(*values)
    return child


def observe_call(
    service: str, status: int, seconds: float, body: Mapping[str, Any] | None, incomplete: Iterable[str] = ()
) -> None:
    """One answered call; `incomplete`: the checks of its cards issued on incomplete records (`HookResult`)."""
    _child(CALLS, service, str(status)).inc()
    _child(LATENCY, service).observe(seconds)
    for card in (body or {}).get("cards", ()) if status == 200 else ():
        topic = (card.get("source") or {}).get("topic") or {}
        _child(CARDS, str(topic.get("code", "unknown"))[:64], str(card.get("indicator", "unknown"))[:16]).inc()
    for check in incomplete if status == 200 else ():
        _child(CARDS_INCOMPLETE, check[:64]).inc()


def observe_feedback(outcome: str, reason: str | None, known_reasons: Iterable[str]) -> None:
    # Reason codes come from the EHR: only configured ones become labels, so a client cannot mint new series.
    label = "none" if not reason else reason if reason in known_reasons else "other"
    FEEDBACK.labels(outcome[:16], label).inc()


def observe_feedback_refused(service: str, why: str) -> None:
    """One feedback request refused; `service` is a PainPlan service id, `why` one of a few fixed values."""
    FEEDBACK_REFUSED.labels(service, why).inc()


def observe_fhir_failure(reason: str) -> None:
    """One failed FHIR query, under its fixed reason (`fhir_client.failure_reason`)."""
    FHIR_FAILURES.labels(reason).inc()
