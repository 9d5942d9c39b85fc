"""The plan page's 12-month MME history reads fills by the rules the card's total reads them: a fill of unknown days'
supply supplies UNKNOWN_SUPPLY_DAYS days and is named (never dropped), a fill whose dose could not be worked out
beside its order is named, and a renewal counts at the fill of the order it renews when that fill implied more than
both (`fills.renewal_raised`, the card's `renewed_fill_doses`)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from builders import NOW, TZ
from test_fill_dose_three_faces import medication, oxycodone_order, patient, pharmacy_fill

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.facts import Facts
from guideline.mme import compute_mme
from guideline.plan.mme_history import MmeHistory, build_mme_history
from guideline.record import build_record


def history(*resources: dict[str, Any]) -> MmeHistory:
    record = build_record([patient(), medication(), *resources], TZ)
    facts = Facts(record, HookContext("patient-view", "p1"), GuidelineConfig.from_mapping(), NOW)
    return build_mme_history(facts, compute_mme)


def line(result: MmeHistory) -> dict[date, Decimal]:
    points = sorted(result.opioid, key=lambda p: p.day)
    days: dict[date, Decimal] = {}
    for index, point in enumerate(points):
        following = points[index + 1].day if index + 1 < len(points) else result.end + timedelta(days=1)
        day = point.day
        while day < following:
            days[day] = point.value
            day += timedelta(days=1)
    return days


def emergency_fill_of_unknown_supply() -> dict[str, Any]:
    """An outside emergency department's oxycodone prescription filled on 20 March, #20, the days' supply left out
    (an Oracle Health dispense): no order in this record stands for it."""
    fill = pharmacy_fill()
    fill["id"] = "cerner-md-5521"
    fill["authorizingPrescription"] = [{"reference": "MedicationRequest/ed-rx-884"}]
    fill["quantity"] = {"value": 20, "unit": "tablet", "system": "http://unitsofmeasure.org", "code": "{tbl}"}
    del fill["daysSupply"]
    fill["whenPrepared"] = "2026-03-20T08:10:00-05:00"
    fill["whenHandedOver"] = "2026-03-20T09:02:00-05:00"
    return fill


def test_a_fill_of_unknown_supply_no_order_stands_for_is_named_not_dropped() -> None:
    result = history(emergency_fill_of_unknown_supply())
    assert result.unknown_orders == ("oxycodone 10 mg tablet (filled 2026-03-20)",)


def test_a_fill_of_unknown_supply_holds_its_30_days_in_its_course() -> None:
    # The same outside prescription filled again on 1 April with 30 days: it queues behind the first fill's 30 days
    # (20 March - 18 April), as the exposure history reads them, and starts on 19 April.
    again = pharmacy_fill()
    again.update(
        id="cerner-md-5522",
        authorizingPrescription=[{"reference": "MedicationRequest/ed-rx-884"}],
        whenHandedOver="2026-04-01T09:00:00-05:00",
        whenPrepared="2026-04-01T08:00:00-05:00",
    )
    days = line(history(emergency_fill_of_unknown_supply(), again))
    assert days[date(2026, 4, 10)] == 0
    assert days[date(2026, 4, 19)] == Decimal(90)


def order_fill_of_unknown_supply() -> dict[str, Any]:
    """The pharmacy's dispense of the June order on 5 June, #180 with no days' supply."""
    fill = pharmacy_fill()
    del fill["daysSupply"]
    return fill


def test_an_order_fill_of_unknown_dose_is_named_beside_the_line() -> None:
    result = history(oxycodone_order(), order_fill_of_unknown_supply())
    assert result.unread_fills == ("oxycodone 10 mg tablet (filled 2026-06-05)",)
    # The order still counts at its own dose.
    assert line(result)[date(2026, 6, 10)] == Decimal(45)


def test_an_order_fill_of_known_dose_is_not_named() -> None:
    assert history(oxycodone_order(), pharmacy_fill()).unread_fills == ()


def renewal() -> dict[str, Any]:
    """Epic's renewal of the June order, signed 13 June at the same sig (45 MME a day), naming it as the order it
    renews; the old order is then completed."""
    order = oxycodone_order()
    order.update(id="eOxy10.Order2", authoredOn="2026-06-13T16:20:00-04:00")
    order["priorPrescription"] = {"reference": "MedicationRequest/eOxy10.Order1"}
    return order


def renewed_order() -> dict[str, Any]:
    """The May order the renewal replaces (1 tablet every 8 hours, 45 MME a day), completed, 30 days from 15 May."""
    order = oxycodone_order()
    order.update(status="completed", authoredOn="2026-05-15T09:00:00-04:00")
    return order


def test_a_renewal_counts_at_the_renewed_order_fill_dose_on_the_days_that_fill_supplies() -> None:
    # The May order was filled on 5 June as #180 for 30 days (90 MME a day, to 4 July). The May order's days end on
    # 13 June; the renewal's start on 14 June. The card reads the renewal at the fill's 90 (the patient still holds
    # that supply): so must the history, on the days it supplies.
    days = line(history(renewed_order(), renewal(), pharmacy_fill()))
    assert days[date(2026, 6, 6)] == Decimal(90)  # the fill raises the order it came from
    assert days[TODAY] == Decimal(90)  # and the renewal that stands for it


def test_a_renewal_above_the_renewed_order_fill_counts_its_own_dose() -> None:
    # Renewed at 2 tablets every 8 hours (90 MME a day), as much as the fill: the renewal's own dose.
    order = renewal()
    order["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 2
    days = line(history(renewed_order(), order, pharmacy_fill()))
    assert days[TODAY] == Decimal(90)


TODAY = NOW.date()


def test_the_plan_page_names_them_beside_the_chart(tmp_path) -> None:
    import re

    import responses
    from test_plan_view import FakeFhir, _app, _open_plan

    record = [patient(), medication(), oxycodone_order(), order_fill_of_unknown_supply()]
    record += [emergency_fill_of_unknown_supply()]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, record)
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    text = re.sub(r"\s+", " ", html)
    assert "Missing from the line because their MME is unknown: oxycodone 10 mg tablet (filled 2026-03-20)" in text
    assert (
        "Pharmacy fills whose daily dose is unknown, so the line counts their order's dose on their days (a fill may "
        "imply more): oxycodone 10 mg tablet (filled 2026-06-05)"
    ) in text


def test_a_renewal_beside_the_order_it_renews_does_not_count_that_order_fill_twice() -> None:
    # Another prescriber renews the June order on 12 June while it still runs (another course: the two add). On the
    # days the June order supplies, its fill raises it (90); the renewal beside it counts its own 45, as the card
    # counts both orders: the fill is never counted on two orders on one day.
    order = renewal()
    order.update(authoredOn="2026-06-12T10:00:00-04:00", requester={"reference": "Practitioner/eDrB"})
    resources = [oxycodone_order(), order, pharmacy_fill()]
    days = line(history(*resources))
    assert days[TODAY] == Decimal(135)
    record = build_record([patient(), medication(), *resources], TZ)
    facts = Facts(record, HookContext("patient-view", "p1"), GuidelineConfig.from_mapping(), NOW)
    assert facts.mme.total == Decimal(135)
