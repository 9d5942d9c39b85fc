"""The words the rules after the dose add to an order's line (a fill that raises it or was not weighed, a renewal or a
series, a start after today) are carried as a typed field (`OrderMme.words`), read alike by the `high-mme` card, the
plan page's row and `painplan mme`; `painplan mme` no longer derives them from the card's text by prefix, which
repeated a fill's "was not weighed" sentence on the order's line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import NOW, card, run
from test_fill_dose_three_faces import medication, oxycodone_order, patient, pharmacy_fill
from test_later4_series_renewal import DR_BAKER
from test_later5_signed_series_renewal import epic_series, report, signed_epic_renewal
from test_later6_series_renewal_beside import WORDS

from guideline.plan import build_plan
from smart_app.cli import main

NOT_WEIGHED = (
    "the pharmacy fill of oxycodone 10 mg tablet on 2026-06-05 was not weighed against the order: the fill has no "
    "quantity dispensed, so whether it implies more than the order's 45.0 MME a day could not be told"
)


def test_an_unread_fill_is_named_once_on_the_orders_painplan_mme_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill = pharmacy_fill()
    del fill["quantity"]
    bundle = {
        "resourceType": "Bundle",
        "entry": [{"resource": r} for r in (patient(), medication(), oxycodone_order(), fill)],
    }
    path = tmp_path / "chart.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    assert main(["mme", str(path), "--today", "2026-06-15"]) == 0
    (order,) = json.loads(capsys.readouterr().out)["orders"]
    assert order["explanation"].count(NOT_WEIGHED) == 1
    assert order["explanation"].endswith(f"45.0 MME/day; {NOT_WEIGHED}")


def test_the_series_renewals_words_are_a_typed_field_the_card_the_plan_and_painplan_mme_read() -> None:
    resources = [*epic_series(), signed_epic_renewal(requester=DR_BAKER)]
    evaluation = run("patient-view", resources=resources)
    (renewal,) = [r for r in evaluation.facts.mme.orders if r.order.id == "eOxy.Renew"]
    assert renewal.words == (WORDS,)
    assert WORDS not in renewal.dose_explanation
    assert renewal.explanation == f"{renewal.dose_explanation}; {WORDS}"
    assert f"- {renewal.explanation} (active)" in card(evaluation, "high-mme").detail
    meds = build_plan(evaluation, (), evaluation.facts.config, NOW).section("medications").content
    assert [row.explanation for row in meds.opioids if row.order_id == "eOxy.Renew"] == [renewal.explanation]
    (line,) = [line for line in report(resources)["orders"] if line["id"] == "eOxy.Renew"]
    assert line["explanation"] == renewal.explanation
