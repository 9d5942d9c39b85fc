"""A signed renewal and the order it renews are one regimen: while the old order's last fill still supplies, the
total daily MME counts the renewal and that fill once (at the larger of the renewal's dose and the fill's, by the
renewal rule), whether the old order was completed or left active, on the card, the plan page and `painplan mme`.
Two prescribers' concurrent orders of one drug still add."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from builders import NOW, RXNORM, TZ, UCUM, card, days_ago, med_request, patient, run

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.facts import Facts
from guideline.plan.medications import mme_now
from guideline.record import build_record
from guideline.terminology import load_terminology
from smart_app.mme_command import mme_report

OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
OXYCODONE_10 = "1049683"  # oxycodone hydrochloride 10 MG Oral Tablet: 15 MME a tablet
PCP = {"reference": "Practitioner/eDrA", "display": "Adams, Ann, MD"}
ED = {"reference": "Practitioner/eDrE", "display": "Evans, Eli, MD"}


def epic_order(
    id: str, status: str, authored: str, *, tablets: int = 1, prior: str | None = None, requester: Any = PCP
) -> dict[str, Any]:
    """Epic's outpatient order: oxycodone 10 mg, `tablets` every 6 hours (60 MME a day each tablet), 30 days."""
    order: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": id,
        "status": status,
        "intent": "order",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                        "code": "community",
                    }
                ]
            }
        ],
        "medicationReference": {"reference": "Medication/eMed10", "display": "oxycodone 10 mg tablet"},
        "subject": {"reference": "Patient/p1"},
        "authoredOn": f"{authored}T09:12:00-04:00",
        "requester": requester,
        "dosageInstruction": [
            {
                "text": f"Take {tablets} tablet by mouth every 6 hours as needed for pain.",
                "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
                "asNeededBoolean": True,
                "doseAndRate": [
                    {"doseQuantity": {"value": tablets, "unit": "tablet", "system": UCUM, "code": "{tbl}"}}
                ],
            }
        ],
        "dispenseRequest": {
            "quantity": {"value": 120 * tablets, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
            "expectedSupplyDuration": {"value": 30, "unit": "Days", "system": UCUM, "code": "d"},
        },
    }
    if prior:
        order["priorPrescription"] = {"reference": f"MedicationRequest/{prior}", "display": "oxyCODONE 10 mg"}
    return order


def medication() -> dict[str, Any]:
    return {
        "resourceType": "Medication",
        "id": "eMed10",
        "code": {
            "coding": [{"system": RXNORM, "code": OXYCODONE_10, "display": "oxycodone HCl 10 MG Oral Tablet"}],
            "text": "oxycodone 10 mg tablet",
        },
    }


def fill(order_id: str, quantity: int = 120, *, fill_id: str = "eDisp.1", ago: int = 20) -> dict[str, Any]:
    """The pharmacy's dispense of `order_id` `ago` days ago, #`quantity` for 30 days: of the old order 20 days ago, it
    supplies 9 more days."""
    return {
        "resourceType": "MedicationDispense",
        "id": fill_id,
        "status": "completed",
        "medicationReference": {"reference": "Medication/eMed10", "display": "oxycodone 10 mg tablet"},
        "subject": {"reference": "Patient/p1"},
        "authorizingPrescription": [{"reference": f"MedicationRequest/{order_id}"}],
        "quantity": {"value": quantity, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
        "daysSupply": {"value": 30, "unit": "Day", "system": UCUM, "code": "d"},
        "whenHandedOver": f"{days_ago(ago)}T14:40:00-04:00",
    }


def old(status: str = "completed", tablets: int = 1) -> dict[str, Any]:
    """The order being renewed, written 21 days ago (60 MME a day)."""
    return epic_order("eOxy.Old", status, days_ago(21), tablets=tablets)


def renewal(*, linked: bool = True, tablets: int = 1, requester: Any = PCP) -> dict[str, Any]:
    """The renewal, signed 2 days ago while 9 days of the old fill remain (60 MME a day)."""
    return epic_order(
        "eOxy.New", "active", days_ago(2), tablets=tablets, prior="eOxy.Old" if linked else None, requester=requester
    )


def facts(resources: list[dict[str, Any]], hook: str = "patient-view") -> Facts:
    record = build_record([patient(), medication(), *resources], TZ)
    return Facts(record, HookContext(hook, "p1"), GuidelineConfig.from_mapping(), NOW)


def test_a_signed_renewal_of_a_completed_order_counts_its_last_fill_once() -> None:
    # Oxycodone 10 mg every 6 hours (60 MME a day) renewed 2 days ago; Epic completed the old order, whose fill of 20
    # days ago still supplies. The fill was counted as a standalone fill beside the renewal: 120, a false card.
    evaluation = run("patient-view", resources=[medication(), old(), fill("eOxy.Old"), renewal()])
    assert evaluation.facts.mme.total == Decimal(60)
    assert evaluation.facts.current_fills == ()
    high = card(evaluation, "high-mme")
    assert high is not None and "60.0 MME/day" in high.summary


def test_a_signed_renewal_of_an_order_left_active_counts_once() -> None:
    # The same renewal with the old order still active (its supply reaches today): both orders were counted.
    evaluation = run("patient-view", resources=[medication(), old("active"), fill("eOxy.Old"), renewal()])
    assert evaluation.facts.mme.total == Decimal(60)
    assert [o.id for o in evaluation.facts.current_opioids] == ["eOxy.New"]


def test_order_sign_after_the_renewal_counts_the_regimen_once() -> None:
    # A small oxycodone 5 mg draft (half a tablet a day, 3.75 MME) signed after the renewal: 63.75, not 123.75.
    draft = med_request(OXYCODONE_5, id="draft-oxy5", draft=True, dose=0.5, period=24)
    evaluation = run("order-sign", drafts=[draft], resources=[medication(), old(), fill("eOxy.Old"), renewal()])
    assert evaluation.facts.mme.total == Decimal("63.75")


def test_a_fill_above_both_orders_counts_once_at_its_dose_on_the_renewal() -> None:
    # The old order's fill of #240 for 30 days (8 a day, 120 MME) implies more than the old order's 60 and the
    # renewal's 60: the renewal counts at 120, and says why; before, 120 + 60 = 180.
    evaluation = run("patient-view", resources=[medication(), old(), fill("eOxy.Old", 240), renewal()])
    assert evaluation.facts.mme.total == Decimal(120)
    high = card(evaluation, "high-mme")
    assert high is not None
    assert (
        "the last fill of the order this renews, oxycodone 10 mg tablet on 2026-05-26 (#240 for 30 days), implies "
        "120.0 MME a day, more than that order's 60.0 MME and this order's 60.0 MME; the larger is counted"
    ) in high.detail


def test_a_signed_taper_counts_the_renewal() -> None:
    # 2 tablets every 6 hours (120) filled as ordered, renewed at 1 tablet (60): a taper the prescriber means.
    evaluation = run("patient-view", resources=[medication(), old(tablets=2), fill("eOxy.Old", 240), renewal()])
    assert evaluation.facts.mme.total == Decimal(60)


def test_another_prescribers_concurrent_order_still_adds() -> None:
    # An emergency physician's oxycodone 10 mg, no priorPrescription, beside the PCP's current order and its fill:
    # two prescriptions taken together, 120.
    ed = epic_order("eOxy.ED", "active", days_ago(2), requester=ED)
    evaluation = run("patient-view", resources=[medication(), old("active"), fill("eOxy.Old"), ed])
    assert evaluation.facts.mme.total == Decimal(120)


def test_the_plan_page_total_now_counts_once() -> None:
    found = facts([old(), fill("eOxy.Old"), renewal()])
    assert mme_now(found).total == Decimal(60)
    found = facts([old("active"), fill("eOxy.Old", 240), renewal()])
    assert mme_now(found).total == Decimal(120)


def test_painplan_mme_counts_once() -> None:
    data = {"resourceType": "Bundle", "entry": [{"resource": r} for r in (patient(), medication(), old("active"))]}
    data["entry"] += [{"resource": fill("eOxy.Old")}, {"resource": renewal()}]
    config = GuidelineConfig.from_mapping()
    report = mme_report(data, config, load_terminology(config), NOW.date())
    assert report["current_total_mme"] == 60
    current = {line["id"]: line["current"] for line in report["orders"]}
    assert current == {"eOxy.Old": False, "eOxy.New": True}


def test_another_prescribers_renewal_beside_a_current_order_adds_and_says_so() -> None:
    # A covering prescriber renews with priorPrescription while the PCP's order is still active and current: two
    # courses, as the MME history reads them, so both count (120), and the renewal's line names the order it renews.
    evaluation = run("patient-view", resources=[medication(), old("active"), fill("eOxy.Old"), renewal(requester=ED)])
    assert evaluation.facts.mme.total == Decimal(120)
    high = card(evaluation, "high-mme")
    assert high is not None
    assert (
        "it renews order eOxy.Old (priorPrescription), another prescriber's, still current: both are counted, as two "
        "prescriptions taken together; check whether that order was stopped"
    ) in high.detail


def test_another_prescribers_renewal_of_a_completed_order_counts_its_fill_once() -> None:
    evaluation = run("patient-view", resources=[medication(), old(), fill("eOxy.Old"), renewal(requester=ED)])
    assert evaluation.facts.mme.total == Decimal(60)


def test_an_unlinked_signed_reorder_of_a_completed_order_counts_its_fill_once_and_names_it() -> None:
    # Epic's reorder: the same oxycodone 10 mg by the same prescriber, no priorPrescription, the old order completed
    # and its fill still supplying. One regimen: the renewal counts (a tie keeps the new order), the fill is named.
    evaluation = run("patient-view", resources=[medication(), old(), fill("eOxy.Old"), renewal(linked=False)])
    assert evaluation.facts.mme.total == Decimal(60)
    high = card(evaluation, "high-mme")
    assert high is not None
    assert (
        "so the larger daily dose of the two is counted, not both:**\n- oxycodone 10 mg tablet (filled 2026-05-26): "
        "120 tablets ÷ 30 days' supply"
    ) in high.detail
    found = facts([old(), fill("eOxy.Old"), renewal(linked=False)])
    assert mme_now(found).total == Decimal(60)


def test_an_unlinked_signed_reorder_below_the_old_fill_counts_the_fill() -> None:
    # The old order's fill implies 120 (#240 for 30 days), the reorder 60: the larger, the fill, counts, once.
    evaluation = run("patient-view", resources=[medication(), old(), fill("eOxy.Old", 240), renewal(linked=False)])
    assert evaluation.facts.mme.total == Decimal(120)
    high = card(evaluation, "high-mme")
    assert high is not None
    assert "**A new order of the same product as a finished order whose last fill still supplies" in high.detail


def test_two_active_unlinked_orders_of_one_prescriber_still_add() -> None:
    # Both orders active, neither naming the other: a reorder the EHR left open, or a second prescription of the same
    # tablet (scheduled beside as-needed). Nothing says which, so both count, as before (the louder reading).
    evaluation = run("patient-view", resources=[medication(), old("active"), fill("eOxy.Old"), renewal(linked=False)])
    assert evaluation.facts.mme.total == Decimal(120)


def test_an_unlinked_order_of_another_prescriber_beside_a_completed_orders_fill_adds() -> None:
    # The emergency physician's oxycodone 10 mg beside the PCP's last fill: two prescriptions, 120.
    ed = epic_order("eOxy.ED", "active", days_ago(2), requester=ED)
    evaluation = run("patient-view", resources=[medication(), old(), fill("eOxy.Old"), ed])
    assert evaluation.facts.mme.total == Decimal(120)


def test_an_unlinked_order_whose_prescriber_is_named_by_npi_alone_beside_a_completed_orders_fill_adds() -> None:
    # The emergency physician's oxycodone 10 mg, its requester sent by NPI alone (no reference), beside the PCP's last
    # fill (Practitioner/eDrA): nothing shows one prescriber wrote both, so it is no reorder, and both count (120).
    by_npi = {"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1245319599"}, "display": "Evans"}
    ed = epic_order("eOxy.ED", "active", days_ago(2), requester=by_npi)
    evaluation = run("patient-view", resources=[medication(), old(), fill("eOxy.Old"), ed])
    assert evaluation.facts.mme.total == Decimal(120)
