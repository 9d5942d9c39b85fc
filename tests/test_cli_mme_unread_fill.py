"""`painplan mme`: a current order's pharmacy fill whose daily dose could not be read (no quantity) may imply more
than the order, so the current total is not reported complete, and the order's line says which fill and why. Before,
`current_complete` said true while the card named the fill (`order-fills-of-unread-dose`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_fill_dose_three_faces import medication, oxycodone_order, patient, pharmacy_fill

from smart_app.cli import main


def report_of(tmp_path: Path, capsys: pytest.CaptureFixture[str], fill: dict[str, Any]) -> dict[str, Any]:
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in (patient(), medication(), oxycodone_order(), fill)],
    }
    path = tmp_path / "chart.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    code = main(["mme", str(path), "--today", "2026-06-15"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    return json.loads(out)


def test_a_fill_without_quantity_makes_the_current_total_incomplete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill = pharmacy_fill()
    del fill["quantity"]  # an interface dropped the quantity dispensed
    report = report_of(tmp_path, capsys, fill)
    assert report["current_total_mme"] == 45.0  # the order's own dose: nothing guessed
    assert report["current_complete"] is False
    (order,) = report["orders"]
    assert order["current"] is True and order["mme_per_day"] == 45.0
    assert order["explanation"].endswith(
        "; the pharmacy fill of oxycodone 10 mg tablet on 2026-06-05 was not weighed against the order: the fill has "
        "no quantity dispensed, so whether it implies more than the order's 45.0 MME a day could not be told"
    )


def test_a_fill_whose_dose_is_read_leaves_the_total_complete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = report_of(tmp_path, capsys, pharmacy_fill())
    assert report["current_total_mme"] == 90.0 and report["current_complete"] is True
    assert "not weighed" not in report["orders"][0]["explanation"]
