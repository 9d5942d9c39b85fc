"""The hook metrics count every call and card, the children looked up once standing for the labels asked."""

from __future__ import annotations

from prometheus_client import REGISTRY

from cds_hooks import metrics


def _value(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_calls_latency_and_cards_are_counted_under_their_labels_on_every_call() -> None:
    service, other = "painplan-metrics-test", "painplan-metrics-other"
    card = {"indicator": "warning", "source": {"topic": {"code": "highmme-metrics-test"}}}
    body = {"cards": [card, {"indicator": "info"}]}
    calls = {"service": service, "status": "200"}
    before = _value("painplan_hook_calls_total", calls)
    for _ in range(3):
        metrics.observe_call(service, 200, 0.004, body)
    metrics.observe_call(other, 412, 0.002, {"cards": [card]})
    assert _value("painplan_hook_calls_total", calls) == before + 3
    assert _value("painplan_hook_calls_total", {"service": other, "status": "412"}) == 1
    assert _value("painplan_hook_seconds_count", {"service": service}) == 3
    assert _value("painplan_cards_total", {"check": "highmme-metrics-test", "indicator": "warning"}) == 3  # not 412's
    assert _value("painplan_cards_total", {"check": "unknown", "indicator": "info"}) >= 3
