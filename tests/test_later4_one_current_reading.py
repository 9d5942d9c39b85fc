"""Which orders count today is worked out once (`orders.current_orders`, `Facts.current_orders`): the total, the
orders a covering renewal is said to replace "still current" (`orders.replaced_of_another`) and `painplan mme` read
the one answer. Read twice (once over the record's orders, once over the orders by reference, where an order sent
with no id, or two sharing a reference, stand as one), a renewal's line called an order "still current" that the
total had read as taken over by its series' next prescription."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from builders import RXNORM, TODAY, card, run
from test_later4_series_renewal import DR_BAKER, renewal
from test_staggered_prescriptions import OXYCODONE_10, expiring, medication

from guideline.config import GuidelineConfig
from guideline.terminology import load_terminology
from smart_app.mme_command import mme_report


def without_id(order: dict[str, Any]) -> dict[str, Any]:
    """The order as a server that sends no id (and no identifier) for it."""
    order = copy.deepcopy(order)
    order.pop("id")
    order.pop("identifier")
    return order


def idless_series() -> list[dict[str, Any]]:
    """Day 35 of Dr Adams's series as Epic sends it, the second and third with no id, the third sent first."""
    first, second, third = expiring(-35)
    return [medication(), first, without_id(third), without_id(second)]


def report(resources: list[dict[str, Any]], drafts: list[dict[str, Any]]) -> dict[str, Any]:
    config = GuidelineConfig.from_mapping()
    request = {
        "hook": "order-sign",
        "context": {
            "patientId": "p1",
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": d} for d in drafts]},
        },
        "prefetch": {"medsActive": {"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]}},
    }
    return mme_report(request, config, load_terminology(config), TODAY)


def test_a_series_prescription_taken_over_by_an_idless_one_is_not_called_still_current() -> None:
    # The total read the first as taken over by the second (no id): not current. The renewal's line said it was
    # "still current: read as replaced by this renewal" beside "which an order with no id … has taken over".
    drafts = [renewal("eOxy.1", DR_BAKER)]
    evaluation = run("order-sign", drafts=drafts, resources=idless_series())
    facts = evaluation.facts
    assert facts.mme.total == Decimal(60)
    assert "eOxy.1" not in [o.id for o in facts.active_orders]
    assert facts.replaced_of_another == ()
    line = next(r.explanation for r in facts.mme.orders if r.order.id == "eOxy.Renew")
    assert "still current" not in line
    assert "which an order with no id (the same product and prescriber, begun later) has taken over" in line
    high = card(evaluation, "high-mme")
    assert high is not None and "60.0 MME/day with this order" in high.summary and "still current" not in high.detail
    assert report(idless_series(), drafts)["current_total_mme"] == 60.0


def test_a_current_order_of_another_prescriber_is_still_named_as_replaced() -> None:
    # The one computation still says "still current" where the total reads the order as current: Dr Adams's lone
    # prescription (no series), renewed by Dr Baker.
    first = expiring(-20)[0]
    evaluation = run("order-sign", drafts=[renewal("eOxy.1", DR_BAKER)], resources=[medication(), first])
    assert [(d.id, o.id) for d, o in evaluation.facts.replaced_of_another] == [("eOxy.Renew", "eOxy.1")]
    assert evaluation.facts.mme.total == Decimal(60)


def test_an_order_sent_twice_reads_the_same_in_the_total_and_the_renewals_words() -> None:
    # The second prescription sent twice, once by reference to its Medication and once coded (a second prefetch):
    # the renewal of the first is read against the same current orders the total counts.
    resources = expiring(-35)
    again = copy.deepcopy(resources[1])
    again.pop("medicationReference")
    again["medicationCodeableConcept"] = {
        "coding": [{"system": RXNORM, "code": OXYCODONE_10, "display": "oxycodone HCl 10 MG Oral Tablet"}],
        "text": "oxycodone HCl 10 MG Oral Tablet",
    }
    drafts = [renewal("eOxy.1", DR_BAKER)]
    evaluation = run("order-sign", drafts=drafts, resources=[medication(), *resources, again])
    facts = evaluation.facts
    assert facts.replaced_of_another == ()
    counted = {id(o) for o in facts.active_orders}
    assert all(id(o) not in counted for _, o in facts.replaced_of_another)
    assert report([medication(), *resources, again], drafts)["current_total_mme"] == float(facts.mme.total)
    high = card(evaluation, "high-mme")
    assert high is not None and f"{facts.mme.total:.1f} MME/day" in high.summary


def test_each_order_is_asked_once_a_call_whether_it_is_in_force(monkeypatch) -> None:
    # Today's orders, the orders that begin later and the data-incomplete card's kinds all start from the orders in
    # force (`orders.is_standing`): the record's orders are asked once (`Facts.standing_orders`), not once per reading.
    import guideline.orders as order_rules

    asked: list[str | None] = []
    standing = order_rules.is_standing

    def counted(order: Any, config: GuidelineConfig) -> bool:
        asked.append(order.id)
        return standing(order, config)

    monkeypatch.setattr(order_rules, "is_standing", counted)
    evaluation = run("order-sign", resources=[medication(), *expiring(-35)])
    facts = evaluation.facts
    assert [o.id for o in facts.active_orders] and [o.id for o in facts.later_orders]
    assert sorted(asked) == sorted(o.id for o in facts.real_orders)
