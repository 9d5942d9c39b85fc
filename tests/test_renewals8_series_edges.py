"""Edge cases of a renewal beside a staggered series, on Epic-shaped orders of oxycodone 5 mg (RxNorm 1049621), two
tablets every 6 hours (40 mg/day, 60 MME a day a prescription). Dr Adams's series: eOxy.1 written on series day 0
for days 0-29, eOxy.2 written the same day with a validityPeriod ("do not fill before") from day 30. Today (the fixed
evaluation date) is series day 20 unless said otherwise."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from builders import NOW, RXNORM, TODAY, UCUM, card, run
from test_later4_series_renewal import DR_BAKER
from test_staggered_prescriptions import PCP, day

from guideline.config import GuidelineConfig
from guideline.plan import build_plan
from guideline.plan.medications import mme_now
from guideline.terminology import load_terminology
from smart_app.mme_command import mme_report

OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet: 7.5 MME a tablet
EPIC_ORDER_IDS = "urn:oid:1.2.840.114350.1.13.0.1.7.2.798268"  # Epic's order identifier system (made-up site OID)
SERIES_DAY_0 = -20  # today is series day 20


def epic_medication() -> dict[str, Any]:
    """The Medication Epic's orders reference (`medicationReference`), coded with the RxNorm SCD."""
    return {
        "resourceType": "Medication",
        "id": "eMed5",
        "code": {
            "coding": [{"system": RXNORM, "code": OXYCODONE_5, "display": "oxycodone hydrochloride 5 MG Oral Tablet"}],
            "text": "oxyCODONE 5 mg tablet",
        },
    }


def epic_oxy5(
    id: str,
    written: int,
    *,
    fillable: int | None = None,
    expires: int | None = None,
    prior: str | None = None,
    requester: dict[str, str] = PCP,
    status: str = "active",
) -> dict[str, Any]:
    """Epic's outpatient e-prescription, dated by offsets from today: oxycodone 5 mg, 2 tablets every 6 hours, #240
    for 30 days, "do not fill before" `fillable` and expiring `expires` (validityPeriod), renewing `prior`."""
    order: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": id,
        "identifier": [{"use": "usual", "system": EPIC_ORDER_IDS, "value": id}],
        "status": status,
        "intent": "order",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                        "code": "community",
                        "display": "Community",
                    }
                ],
                "text": "Community",
            }
        ],
        "medicationReference": {"reference": "Medication/eMed5", "display": "oxyCODONE 5 mg tablet"},
        "subject": {"reference": "Patient/p1", "display": "Rivera, Alex"},
        "authoredOn": f"{day(written)}T09:12:00-04:00",
        "requester": requester,
        "recorder": requester,
        "dosageInstruction": [
            {
                "text": "Take 2 tablets by mouth every 6 hours.",
                "timing": {
                    "repeat": {"frequency": 1, "period": 6, "periodUnit": "h"},
                    "code": {"text": "EVERY 6 HOURS"},
                },
                "doseAndRate": [{"doseQuantity": {"value": 2, "unit": "tablet", "system": UCUM, "code": "{tbl}"}}],
            }
        ],
        "dispenseRequest": {
            "numberOfRepeatsAllowed": 0,
            "quantity": {"value": 240, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
            "expectedSupplyDuration": {"value": 30, "unit": "Days", "system": UCUM, "code": "d"},
        },
    }
    validity = {}
    if fillable is not None:
        validity["start"] = day(fillable)
    if expires is not None:
        validity["end"] = day(expires)
    if validity:
        order["dispenseRequest"]["validityPeriod"] = validity
    if prior:
        order["priorPrescription"] = {"reference": f"MedicationRequest/{prior}", "display": "oxyCODONE 5 mg tablet"}
    return order


def series() -> list[dict[str, Any]]:
    """Dr Adams's staggered series: eOxy.1 for days 0-29, eOxy.2 fillable from day 30, each expiring 90 days on."""
    start = SERIES_DAY_0
    return [
        epic_medication(),
        epic_oxy5("eOxy.1", start, fillable=start, expires=start + 90),
        epic_oxy5("eOxy.2", start, fillable=start + 30, expires=start + 120),
    ]


def adams_renewal(fillable: int = 0, status: str = "active") -> dict[str, Any]:
    """Dr Adams's renewal of eOxy.1, signed today (series day 20), fillable from `fillable` days on."""
    return epic_oxy5("eOxy.R", 0, fillable=fillable, expires=fillable + 90, prior="eOxy.1", status=status)


def report(resources: list[dict[str, Any]], days_on: int = 0) -> dict[str, Any]:
    """`painplan mme` of the chart (a Bundle), `days_on` days after today."""
    config = GuidelineConfig.from_mapping()
    data = {"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]}
    return mme_report(data, config, load_terminology(config), TODAY + timedelta(days=days_on))


def line(evaluation, order_id: str) -> str:
    return next(r.explanation for r in evaluation.facts.mme.orders if r.order.id == order_id)


# -- (a) a renewal of the series' first prescription signed while it is still today's dose -----------------------


def test_a_renewal_of_the_first_signed_on_day_20_reads_one_regimen_60_not_120() -> None:
    resources = [*series(), adams_renewal()]
    evaluation = run("patient-view", resources=resources)
    # The renewal retires eOxy.1 (one prescriber's renewal of a current order); eOxy.2 begins on day 30.
    assert [o.id for o in evaluation.facts.current_opioids] == ["eOxy.R"]
    assert evaluation.facts.mme.total == Decimal(60)
    high = card(evaluation, "high-mme")
    assert high is not None and "60.0 MME/day" in high.summary
    assert [o.id for o in evaluation.facts.later_opioids] == ["eOxy.2"]
    assert mme_now(evaluation.facts).total == Decimal(60)
    assert report(resources)["current_total_mme"] == 60.0


def test_the_day_20_renewal_is_read_as_the_series_renewal_once_the_second_begins() -> None:
    resources = [*series(), adams_renewal()]
    day_30 = run("patient-view", resources=resources, now=NOW + timedelta(days=10))
    assert day_30.facts.mme.total == Decimal(60)
    assert [(p.renewal.id, p.order.id) for p in day_30.facts.implied_renewals] == [("eOxy.R", "eOxy.2")]
    assert "which order eOxy.2 (the same product and prescriber, begun later) has taken over" in line(day_30, "eOxy.R")
    assert report(resources, days_on=10)["current_total_mme"] == 60.0


def test_a_day_20_renewal_to_be_filled_on_day_30_reads_60_today_and_on_day_30() -> None:
    resources = [*series(), adams_renewal(fillable=10)]
    today = run("patient-view", resources=resources)
    assert today.facts.mme.total == Decimal(60)
    assert sorted(o.id for o in today.facts.later_opioids) == ["eOxy.2", "eOxy.R"]
    day_30 = run("patient-view", resources=resources, now=NOW + timedelta(days=10))
    assert day_30.facts.mme.total == Decimal(60)
    assert report(resources, days_on=10)["current_total_mme"] == 60.0


def test_the_day_20_renewal_reads_60_while_a_draft_too() -> None:
    evaluation = run("order-sign", resources=series(), drafts=[adams_renewal(status="draft")])
    assert evaluation.facts.mme.total == Decimal(60)
    assert [o.id for o in evaluation.facts.later_opioids] == ["eOxy.2"]
    assert mme_now(evaluation.facts).total == Decimal(60)  # the plan page's "now": eOxy.1, which the draft renews


def test_another_prescribers_day_20_renewal_of_a_current_first_still_adds() -> None:
    # Dr Baker renews Dr Adams's current eOxy.1: another prescriber's signed renewal runs beside a current order.
    renewal = epic_oxy5("eOxy.R", 0, fillable=0, expires=90, prior="eOxy.1", requester=DR_BAKER)
    evaluation = run("patient-view", resources=[*series(), renewal])
    assert evaluation.facts.mme.total == Decimal(120)
    assert "another prescriber's, still current: both are counted" in line(evaluation, "eOxy.R")


# -- (b) a renewal of another prescriber's finished prescription beside the renewer's own current one -------------


def baker_first() -> dict[str, Any]:
    """Dr Baker's oxycodone 5 mg written 50 days ago for 30 days, completed: no longer current."""
    return epic_oxy5("eOxy.B1", -50, fillable=-50, expires=40, requester=DR_BAKER, status="completed")


def adams_own() -> dict[str, Any]:
    """Dr Adams's own oxycodone 5 mg written 10 days ago, in force today."""
    return epic_oxy5("eOxy.A", -10, fillable=-10, expires=80)


def renewal_of_baker(status: str = "active") -> dict[str, Any]:
    """Dr Adams renews Dr Baker's finished eOxy.B1 today (the renew action on the old order)."""
    return epic_oxy5("eOxy.R", 0, fillable=0, expires=90, prior="eOxy.B1", status=status)


def beside_words(renews: str, state: str, beside: str) -> str:
    return (
        f"it renews order {renews} (priorPrescription), {state}; it does not name order {beside}, a current order of "
        f"the same product, and is not read as its renewal: both are counted, as two prescriptions taken together may "
        f"be meant; check whether order {beside} is to be stopped"
    )


BAKER_WORDS = beside_words("eOxy.B1", "which is no longer current", "eOxy.A")


def test_a_renewal_of_another_prescribers_finished_order_beside_the_renewers_own_says_why_both_count() -> None:
    resources = [epic_medication(), baker_first(), adams_own(), renewal_of_baker()]
    evaluation = run("patient-view", resources=resources)
    # The louder reading is kept (the renewal names neither her own order nor anything that took Dr Baker's over),
    # but it is said: before, two identical oxycodone lines and 120 with no word of why.
    assert evaluation.facts.mme.total == Decimal(120)
    assert BAKER_WORDS in line(evaluation, "eOxy.R")
    assert "does not name" not in line(evaluation, "eOxy.A")
    high = card(evaluation, "high-mme")
    assert high is not None and high.indicator == "critical" and BAKER_WORDS in high.detail
    meds = build_plan(evaluation, (), evaluation.facts.config, NOW).section("medications").content
    assert [row.order_id for row in meds.opioids if BAKER_WORDS in row.explanation] == ["eOxy.R"]
    lines = {entry["id"]: entry for entry in report(resources)["orders"]}
    assert report(resources)["current_total_mme"] == 120.0
    assert BAKER_WORDS in lines["eOxy.R"]["explanation"]


def test_the_same_renewal_while_a_draft_says_why_both_count_too() -> None:
    evaluation = run(
        "order-sign", resources=[epic_medication(), baker_first(), adams_own()], drafts=[renewal_of_baker("draft")]
    )
    assert evaluation.facts.mme.total == Decimal(120)
    assert BAKER_WORDS in line(evaluation, "eOxy.R")
    assert BAKER_WORDS in card(evaluation, "high-mme").detail


def test_a_renewal_of_the_renewers_own_finished_order_is_still_read_as_the_renewal_of_her_current_one() -> None:
    # Her own finished order, which her current eOxy.A carries on: one regimen, counted once, with the series words.
    own_first = epic_oxy5("eOxy.A0", -50, fillable=-50, expires=40, status="completed")
    renewal = epic_oxy5("eOxy.R", 0, fillable=0, expires=90, prior="eOxy.A0")
    evaluation = run("patient-view", resources=[epic_medication(), own_first, adams_own(), renewal])
    assert evaluation.facts.mme.total == Decimal(60)
    assert "does not name" not in line(evaluation, "eOxy.R")


# -- (c) where the series' renewal and the renewal beside the series disagreed: both count, now said ---------------


def test_a_signed_renewal_of_the_prescription_that_starts_later_says_why_it_counts_beside_todays() -> None:
    # On day 20 Dr Adams renews eOxy.2 (to be filled from day 30), fillable today. As a draft it renews no dose taken
    # today and is read as the renewal of eOxy.1 (60); signed, it names no order in force and nothing carries eOxy.2
    # on: two prescriptions fillable today, 120, the louder reading, and now said.
    renewal = epic_oxy5("eOxy.R", 0, fillable=0, expires=90, prior="eOxy.2")
    evaluation = run("patient-view", resources=[*series(), renewal])
    assert evaluation.facts.mme.total == Decimal(120)
    assert beside_words("eOxy.2", f"which starts on {day(10)}", "eOxy.1") in line(evaluation, "eOxy.R")
    draft = epic_oxy5("eOxy.R", 0, fillable=0, expires=90, prior="eOxy.2", status="draft")
    assert run("order-sign", resources=series(), drafts=[draft]).facts.mme.total == Decimal(60)


def test_a_second_renewal_of_the_series_first_prescription_says_why_it_counts_beside_the_first_renewal() -> None:
    # Day 30: eOxy.2 has taken eOxy.1 over; Dr Adams's renewal eOxy.R1 of eOxy.1 is read as the series' renewal, and
    # a second one signed the same day (eOxy.R2) is counted beside it: the series' answer gave it no words.
    first = epic_oxy5("eOxy.R1", 10, fillable=10, expires=100, prior="eOxy.1")
    second = epic_oxy5("eOxy.R2", 10, fillable=10, expires=100, prior="eOxy.1")
    evaluation = run("patient-view", resources=[*series(), first, second], now=NOW + timedelta(days=10))
    assert [(p.renewal.id, p.order.id) for p in evaluation.facts.implied_renewals] == [("eOxy.R1", "eOxy.2")]
    assert evaluation.facts.mme.total == Decimal(120)
    assert beside_words("eOxy.1", "which is no longer current", "eOxy.R1") in line(evaluation, "eOxy.R2")
    assert "does not name" not in line(evaluation, "eOxy.R1")


def test_an_undated_renewal_of_the_series_first_prescription_says_why_it_counts_beside_the_second() -> None:
    # No authoredOn nor validityPeriod: not known to be begun after eOxy.1, so not its series' renewal, though its
    # prescriber is the series' own (the renewal beside the series named only another prescriber's).
    renewal = epic_oxy5("eOxy.R", 0, prior="eOxy.1")
    del renewal["authoredOn"]
    evaluation = run("patient-view", resources=[*series(), renewal], now=NOW + timedelta(days=10))
    assert evaluation.facts.mme.total == Decimal(120)
    assert beside_words("eOxy.1", "which is no longer current", "eOxy.2") in line(evaluation, "eOxy.R")
