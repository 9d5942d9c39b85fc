"""A pharmacy fill read as an order's supply whose own daily dose could not be worked out (no quantity, no days'
supply): whether it implies more than the order cannot be told, so it is named on the data-incomplete card, the plan
page's data-completeness panel and the order's line. Before, `fills.fill_raises` said "no" and nothing named it: a
fill of twice the ordered dose with its quantity missing could hide a higher total."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builders import NOW, TZ
from cds_support import bundle, full_prefetch, hook_request, make_app
from test_fill_dose_three_faces import medication, oxycodone_order, patient, pharmacy_fill

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.facts import Facts
from guideline.named_gaps import NAMED_GAPS
from guideline.record import build_record

KEY = "order-fills-of-unread-dose"


def fill_without_quantity() -> dict[str, Any]:
    """The pharmacy's dispense of the order on 5 June as an interface sends it with the quantity dropped."""
    fill = pharmacy_fill()
    del fill["quantity"]
    return fill


def fill_without_days_supply() -> dict[str, Any]:
    """The dispense of the order on 5 June with #180 but no days' supply (Oracle Health leaves it out at times)."""
    fill = pharmacy_fill()
    del fill["daysSupply"]
    return fill


def facts_of(*resources: dict[str, Any]) -> Facts:
    record = build_record([patient(), medication(), oxycodone_order(), *resources], TZ)
    return Facts(record, HookContext("patient-view", "p1"), GuidelineConfig.from_mapping(), NOW)


def named(facts: Facts) -> tuple[str, ...]:
    kind = next(k for k in NAMED_GAPS if k.key == KEY)
    return kind.items(facts)


def test_a_linked_fill_with_no_quantity_is_named_against_its_order() -> None:
    assert named(facts_of(fill_without_quantity())) == (
        "oxycodone 10 mg tablet (current order eOxy10.Order1, pharmacy fill eDisp.77 on 2026-06-05: the fill has no "
        "quantity dispensed, so whether it implies more than the order's 45.0 MME a day could not be told)",
    )


def test_a_recent_linked_fill_of_unknown_days_supply_is_named_against_its_order() -> None:
    # No days' supply: the fill has no supply interval, but made in the last 30 days it may be today's supply.
    assert named(facts_of(fill_without_days_supply())) == (
        "oxycodone 10 mg tablet (current order eOxy10.Order1, pharmacy fill eDisp.77 on 2026-06-05: the fill has no "
        "days' supply, so whether it implies more than the order's 45.0 MME a day could not be told)",
    )


def test_a_fill_whose_dose_is_known_is_not_named() -> None:
    assert named(facts_of(pharmacy_fill())) == ()


def test_the_order_line_and_the_data_incomplete_card_name_it_on_patient_view(tmp_path: Path) -> None:
    prefetch = full_prefetch(
        "patient-view",
        medsActive=bundle(oxycodone_order(), medication()),
        dispenses=bundle(fill_without_quantity(), medication()),
    )
    body = hook_request("patient-view", prefetch=prefetch)
    answer = make_app(tmp_path).test_client().post("/cds-services/patient-view", json=body)
    assert answer.status_code == 200
    (incomplete,) = [c for c in answer.json["cards"] if c["source"]["topic"]["code"] == "data-incomplete"]
    assert (
        "- oxycodone 10 mg tablet (current order eOxy10.Order1, pharmacy fill eDisp.77 on 2026-06-05: the fill has no "
        "quantity dispensed, so whether it implies more than the order's 45.0 MME a day could not be told): the daily "
        "dose of that pharmacy fill"
    ) in incomplete["detail"]
    # The total is still the order's own 45: nothing is guessed; the order's line says why.
    (line,) = facts_of(fill_without_quantity()).mme.orders
    assert line.mme == 45
    assert (
        "; the pharmacy fill of oxycodone 10 mg tablet on 2026-06-05 was not weighed against the order: the fill has "
        "no quantity dispensed, so whether"
    ) in line.explanation
