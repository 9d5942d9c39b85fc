"""One server's two current oxycodone orders that name no prescriber (converted legacy orders, as an Oracle Health
migration leaves them), each with its own pharmacy fill, supplying at once today: the card adds the two orders (each
fill is its own order's course, `fills.prescription_course`), and so must `painplan mme` and the plan page's MME
history today. Queued as one course of "unsigned orders", the history started the second order's supply only when the
first ran out and showed 60 MME a day today where the card counted 120."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from builders import NOW, TZ, card, days_ago, patient, run
from test_signed_renewal import epic_order, fill, medication

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.facts import Facts
from guideline.mme import compute_mme
from guideline.plan.mme_history import MmeHistory, build_mme_history
from guideline.record import build_record
from smart_app.cli import main

TODAY = NOW.date()


def _order(order_id: str, ago: int) -> dict[str, Any]:
    """An active order for oxycodone 10 mg every 6 hours, #120 for 30 days (60 MME a day), written `ago` days ago,
    naming no prescriber."""
    order = epic_order(order_id, "active", days_ago(ago))
    del order["requester"]
    return order


def resources() -> list[dict[str, Any]]:
    # Order 7001 filled 20 days ago supplies through 9 days ahead; order 7002 filled 5 days ago overlaps it from then.
    return [
        patient(),
        medication(),
        _order("7001", 21),
        fill("7001", fill_id="d7001", ago=20),
        _order("7002", 6),
        fill("7002", fill_id="d7002", ago=5),
    ]


def _history() -> MmeHistory:
    record = build_record(resources(), TZ)
    facts = Facts(record, HookContext("patient-view", "p1"), GuidelineConfig.from_mapping(), NOW)
    return build_mme_history(facts, compute_mme)


def _on(result: MmeHistory, day: date) -> Decimal:
    """The daily MME the step line shows on `day`."""
    return max((p for p in result.opioid if p.day <= day), key=lambda p: p.day).value


def test_the_card_adds_the_two_orders() -> None:
    high = card(run("patient-view", resources=resources()), "high-mme")
    assert high is not None and "120.0 MME/day" in high.summary


def test_painplan_mme_adds_the_two_orders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources()]}
    path = tmp_path / "chart.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    code = main(["mme", str(path), "--today", TODAY.isoformat()])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    assert json.loads(out)["current_total_mme"] == 120.0


def test_the_plan_page_history_adds_the_two_orders_today() -> None:
    result = _history()
    assert _on(result, TODAY - timedelta(days=10)) == Decimal(60)  # order 7001's supply alone
    assert _on(result, TODAY - timedelta(days=3)) == Decimal(120)  # both orders' fills supply
    assert _on(result, TODAY) == Decimal(120)  # the card's total today
    assert result.peak == Decimal(120)
    assert result.unknown_orders == ()


def _completed(order: dict[str, Any]) -> dict[str, Any]:
    order["status"] = "completed"
    return order


@pytest.mark.parametrize(
    ("chart", "total"),
    [
        # Both orders current, neither filled: the card adds the two orders.
        (lambda: [_order("7001", 21), _order("7002", 6)], 120),
        # The first order completed, its fill still supplying: the card counts that fill beside the current order.
        (
            lambda: [
                _completed(_order("7001", 21)),
                fill("7001", fill_id="d7001", ago=20),
                _order("7002", 6),
                fill("7002", fill_id="d7002", ago=5),
            ],
            120,
        ),
        # The first order completed and never filled: the second is its reorder, counted once (it queues behind it).
        (lambda: [_completed(_order("7001", 21)), _order("7002", 6)], 60),
        # The same, the reorder filled: still one supply today.
        (lambda: [_completed(_order("7001", 21)), _order("7002", 6), fill("7002", fill_id="d7002", ago=5)], 60),
    ],
    ids=["both-current-unfilled", "completed-filled", "completed-unfilled", "completed-unfilled-reorder-filled"],
)
def test_the_history_today_is_the_cards_total(chart: Any, total: int) -> None:
    chart_resources = [patient(), medication(), *chart()]
    high = card(run("patient-view", resources=chart_resources), "high-mme")
    assert high is not None and f"{total}.0 MME/day" in high.summary
    record = build_record(chart_resources, TZ)
    facts = Facts(record, HookContext("patient-view", "p1"), GuidelineConfig.from_mapping(), NOW)
    assert _on(build_mme_history(facts, compute_mme), TODAY) == Decimal(total)
