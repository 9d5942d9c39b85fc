"""Staggered Schedule II prescriptions: up to 90 days of an opioid written on one day as several prescriptions, each
with an earliest fill date (Epic and Oracle send it as `dispenseRequest.validityPeriod.start`; an instruction's
`boundsPeriod.start` ahead says the same). One that starts after today is not today's dose: it is left out of
today's total and named where the total is shown (the card, the plan page, `painplan mme`), on patient-view and
order-sign, through the engine and the HTTP face."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from builders import NOW, RXNORM, TODAY, TZ, UCUM, card, med_request, run
from cds_support import bundle, full_prefetch, hook_request, make_app

from guideline.config import GuidelineConfig
from guideline.plan import build_plan
from guideline.plan.medications import mme_now
from guideline.terminology import load_terminology
from smart_app.mme_command import mme_report

OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet: 7.5 MME a tablet
OXYCODONE_10 = "1049683"  # oxycodone hydrochloride 10 MG Oral Tablet: 15 MME a tablet
PCP = {"reference": "Practitioner/eDrA", "display": "Adams, Ann, MD"}
NOT_COUNTED = "not counted in today's total"


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def epic_oxycodone(
    id: str,
    authored: str,
    *,
    starts: str | None = None,
    ends: str | None = None,
    bounds_start: str | None = None,
    tablets: int = 1,
    prior: str | None = None,
) -> dict[str, Any]:
    """Epic's outpatient e-prescription: oxycodone 10 mg, `tablets` every 6 hours (60 MME a day a tablet), #120 a
    tablet for 30 days, "do not fill before" `starts` (validityPeriod.start) or instructions from `bounds_start`;
    `ends` is the prescription's expiry (validityPeriod.end, which Epic sends months after the start)."""
    repeat: dict[str, Any] = {"frequency": 1, "period": 6, "periodUnit": "h"}
    if bounds_start:
        repeat["boundsPeriod"] = {"start": bounds_start}
    order: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": id,
        "identifier": [{"use": "usual", "system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.798268", "value": id}],
        "status": "active",
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
        "medicationReference": {"reference": "Medication/eMed10", "display": "oxyCODONE 10 mg tablet"},
        "subject": {"reference": "Patient/p1", "display": "Rivera, Alex"},
        "authoredOn": f"{authored}T09:12:00-04:00",
        "requester": PCP,
        "recorder": PCP,
        "dosageInstruction": [
            {
                "text": f"Take {tablets} tablet by mouth every 6 hours.",
                "timing": {"repeat": repeat, "code": {"text": "EVERY 6 HOURS"}},
                "route": {"coding": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.4.698288.330", "code": "15"}]},
                "doseAndRate": [
                    {"doseQuantity": {"value": tablets, "unit": "tablet", "system": UCUM, "code": "{tbl}"}}
                ],
            }
        ],
        "dispenseRequest": {
            "numberOfRepeatsAllowed": 0,
            "quantity": {"value": 120 * tablets, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
            "expectedSupplyDuration": {"value": 30, "unit": "Days", "system": UCUM, "code": "d"},
        },
    }
    if starts:
        order["dispenseRequest"]["validityPeriod"] = {"start": starts}
    if ends:
        order["dispenseRequest"].setdefault("validityPeriod", {})["end"] = ends
    if prior:
        order["priorPrescription"] = {"reference": f"MedicationRequest/{prior}", "display": "oxyCODONE 10 mg"}
    return order


def medication() -> dict[str, Any]:
    return {
        "resourceType": "Medication",
        "id": "eMed10",
        "code": {
            "coding": [{"system": RXNORM, "code": OXYCODONE_10, "display": "oxycodone HCl 10 MG Oral Tablet"}],
            "text": "oxyCODONE 10 mg tablet",
        },
    }


def staggered(written: int) -> list[dict[str, Any]]:
    """Three 30-day prescriptions written `written` days from today, to be filled from that day, 30 and 60 days on."""
    return [epic_oxycodone(f"eOxy.{n + 1}", day(written), starts=day(written + 30 * n)) for n in range(3)]


def fill(order_id: str, handed_over: str, id: str = "eDisp.1") -> dict[str, Any]:
    """A pharmacy's dispense of the order: #120 for 30 days."""
    return {
        "resourceType": "MedicationDispense",
        "id": id,
        "status": "completed",
        "medicationReference": {"reference": "Medication/eMed10", "display": "oxyCODONE 10 mg tablet"},
        "subject": {"reference": "Patient/p1"},
        "authorizingPrescription": [{"reference": f"MedicationRequest/{order_id}"}],
        "quantity": {"value": 120, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
        "daysSupply": {"value": 30, "unit": "Day", "system": UCUM, "code": "d"},
        "whenHandedOver": f"{handed_over}T14:40:00-04:00",
    }


def small_draft() -> dict[str, Any]:
    """Another product being signed: oxycodone 5 mg, half a tablet once a day (3.75 MME a day)."""
    return med_request(OXYCODONE_5, id="draft-oxy5", draft=True, dose=0.5, period=24)


def starts_note(offset: int) -> str:
    return f"starts on {day(offset)}: {NOT_COUNTED}"


# -- the engine ----------------------------------------------------------------------------------------------------


def test_three_staggered_prescriptions_count_the_one_started() -> None:
    # Written 5 days ago to be filled from then, in 25 and in 55 days: 60 MME a day, not 180 (a false critical card).
    evaluation = run("patient-view", resources=[medication(), *staggered(-5)])
    assert evaluation.facts.mme.total == Decimal(60)
    assert [o.id for o in evaluation.facts.current_opioids] == ["eOxy.1"]
    high = card(evaluation, "high-mme")
    assert high is not None and high.indicator == "warning"
    assert "60.0 MME/day" in high.summary
    assert starts_note(25) in high.detail and starts_note(55) in high.detail


def test_the_second_prescription_counts_once_it_has_started() -> None:
    # Written 34 days ago: the first supply ended, the second started 4 days ago, the third starts in 26 days.
    evaluation = run("patient-view", resources=[medication(), *staggered(-34)])
    assert evaluation.facts.mme.total == Decimal(60)
    assert [o.id for o in evaluation.facts.current_opioids] == ["eOxy.2"]
    high = card(evaluation, "high-mme")
    assert high is not None and starts_note(26) in high.detail
    assert f"starts on {day(-4)}" not in high.detail


def test_order_sign_adds_the_draft_to_todays_dose_alone() -> None:
    evaluation = run("order-sign", drafts=[small_draft()], resources=[medication(), *staggered(-5)])
    assert evaluation.facts.mme.total == Decimal("63.75")
    high = card(evaluation, "high-mme")
    assert high is not None and "63.8 MME/day" in high.summary
    assert starts_note(25) in high.detail and starts_note(55) in high.detail


def test_the_plan_page_lists_the_later_prescriptions_apart_and_tapers_from_todays_dose() -> None:
    evaluation = run("order-sign", drafts=[small_draft()], resources=[medication(), *staggered(-5)])
    assert mme_now(evaluation.facts).total == Decimal(60)  # the taper's baseline and the page's "now"
    plan = build_plan(evaluation, (), evaluation.facts.config, NOW)
    meds = plan.section("medications").content
    assert [r.order_id for r in meds.opioids] == ["draft-oxy5", "eOxy.1"]
    later = {r.order_id: r for r in meds.not_counted}
    assert sorted(later) == ["eOxy.2", "eOxy.3"]
    assert starts_note(25) in later["eOxy.2"].explanation and later["eOxy.2"].why == starts_note(25)
    assert meds.total == "63.8 MME/day"
    assert meds.comparison is not None and meds.comparison.startswith("60.0 MME/day now")
    assert f"{starts_note(55)}" in plan.note


def test_painplan_mme_marks_them_not_current_and_says_when_they_start() -> None:
    config = GuidelineConfig.from_mapping()
    data = {"resourceType": "Bundle", "entry": [{"resource": r} for r in (medication(), *staggered(-5))]}
    report = mme_report(data, config, load_terminology(config), TODAY)
    assert report["current_total_mme"] == 60.0 and report["current_complete"] is True
    lines = {line["id"]: line for line in report["orders"]}
    assert [lines[i]["current"] for i in ("eOxy.1", "eOxy.2", "eOxy.3")] == [True, False, False]
    assert lines["eOxy.2"]["mme_per_day"] == 60.0
    assert lines["eOxy.2"]["explanation"].endswith(starts_note(25))
    assert starts_note(25) not in lines["eOxy.1"]["explanation"]


def test_an_instructions_start_ahead_reads_the_same() -> None:
    # No validityPeriod; the instructions begin in 25 days (boundsPeriod.start), as some builds send the stagger.
    orders = [
        epic_oxycodone("eOxy.1", day(-5)),
        epic_oxycodone("eOxy.2", day(-5), bounds_start=day(25)),
    ]
    evaluation = run("patient-view", resources=[medication(), *orders])
    assert evaluation.facts.mme.total == Decimal(60)
    high = card(evaluation, "high-mme")
    assert high is not None and starts_note(25) in high.detail


def test_a_supply_begins_when_its_instructions_begin() -> None:
    # Written 34 days ago with instructions from 4 days ago: its 30 days run from then, so it is today's dose. Read
    # from the day written, it looked ended and the total was 0.
    orders = [epic_oxycodone("eOxy.2", day(-34), bounds_start=day(-4))]
    evaluation = run("patient-view", resources=[medication(), *orders])
    assert evaluation.facts.mme.total == Decimal(60)


def test_a_start_written_to_the_month_only_counts_from_the_first_day_it_can_mean() -> None:
    # validityPeriod.start "2026-07": ahead on 15 June; on 10 July it may have started on the 1st, so it counts.
    order = epic_oxycodone("eOxy.2", "2026-06-10", starts="2026-07")
    ahead = run("patient-view", resources=[medication(), order])
    assert ahead.facts.mme.total == Decimal(0) and ahead.facts.current_opioids == ()
    assert ahead.facts.mme.excluded_orders[0].reason_text == f"starts on 2026-07-01: {NOT_COUNTED}"
    started = run("patient-view", resources=[medication(), order], now=datetime(2026, 7, 10, 12, tzinfo=TZ))
    assert started.facts.mme.total == Decimal(60)


def test_an_early_fill_of_a_later_prescription_queues_behind_the_fill_supplying_today() -> None:
    # The first filled 5 days ago; the second filled early today, 25 days before its date. One prescriber's
    # prescriptions are one course: the early fill queues after the first supply, so today is still 60.
    resources = [medication(), *staggered(-5), fill("eOxy.1", day(-5)), fill("eOxy.2", day(0), id="eDisp.2")]
    evaluation = run("patient-view", resources=resources)
    assert evaluation.facts.mme.total == Decimal(60)


def test_an_early_fill_of_a_later_prescription_is_real_supply() -> None:
    # Only the second prescription is on record, filled yesterday though it starts in 25 days: the patient holds it,
    # so the fill counts as a fill does; the order is still named as starting later.
    resources = [medication(), staggered(-5)[1], fill("eOxy.2", day(-1))]
    evaluation = run("patient-view", resources=resources)
    assert evaluation.facts.mme.total == Decimal(60)
    assert evaluation.facts.mme.from_fills
    assert [r.reason_text for r in evaluation.facts.mme.excluded_orders] == [starts_note(25)]


NO_ORDER = "no current order in this record"


def test_an_early_fill_of_a_later_prescription_names_its_order_on_the_card() -> None:
    # The order is in the record, it starts later: "no current order in this record" sent the clinician looking for
    # a prescription from elsewhere.
    resources = [medication(), staggered(-5)[1], fill("eOxy.2", day(-1))]
    high = card(run("patient-view", resources=resources), "high-mme")
    assert high is not None and NO_ORDER not in high.detail
    assert "From pharmacy fills of a prescription that starts later" in high.detail
    assert f"filled early from order eOxy.2, which starts on {day(25)}" in high.detail


def test_a_fill_with_no_order_keeps_its_words_beside_an_early_fill() -> None:
    # A fill of another product with no order in the record: still "no current order in this record".
    other = fill("nowhere", day(-3), id="eDisp.9")
    other.pop("authorizingPrescription")
    other["medicationReference"] = {"reference": "Medication/eMed5", "display": "oxyCODONE 5 mg tablet"}
    five = {
        "resourceType": "Medication",
        "id": "eMed5",
        "code": {"coding": [{"system": RXNORM, "code": OXYCODONE_5}], "text": "oxyCODONE 5 mg tablet"},
    }
    resources = [medication(), five, staggered(-5)[1], fill("eOxy.2", day(-1)), other]
    high = card(run("patient-view", resources=resources), "high-mme")
    assert high is not None
    assert f"From pharmacy fills ({NO_ORDER}):**\n- oxyCODONE 5 mg tablet (filled {day(-3)})" in high.detail
    assert high.detail.index(NO_ORDER) < high.detail.index("filled early from order eOxy.2")


def test_the_plan_page_names_the_order_an_early_fill_came_from() -> None:
    resources = [medication(), staggered(-5)[1], fill("eOxy.2", day(-1))]
    evaluation = run("patient-view", resources=resources)
    meds = build_plan(evaluation, (), evaluation.facts.config, NOW).section("medications").content
    assert [r.sig for r in meds.fills] == [f"filled early from order eOxy.2, which starts on {day(25)}"]
    assert meds.fills_caption == "From pharmacy fills of a prescription that starts later (not current yet)"


def test_a_signed_renewal_that_starts_later_leaves_todays_order_counted() -> None:
    # The renewal at 2 tablets (120 MME a day) was signed today to be filled in 10 days; it named the current order
    # as its priorPrescription and retired it, so today read 120 (a false critical card) instead of 60.
    current = epic_oxycodone("eOxy.1", day(-20), starts=day(-20))
    renewal = epic_oxycodone("eOxy.2", day(0), starts=day(10), tablets=2, prior="eOxy.1")
    evaluation = run("patient-view", resources=[medication(), current, renewal])
    assert evaluation.facts.mme.total == Decimal(60)
    assert [r.reason_text for r in evaluation.facts.mme.excluded_orders] == [starts_note(10)]


# -- a validity end is the prescription's expiry ---------------------------------------------------------------------


def expiring(written: int, valid_days: int = 90) -> list[dict[str, Any]]:
    """`staggered`, as Epic sends it: each prescription also expires `valid_days` after its earliest fill date."""
    return [
        epic_oxycodone(
            f"eOxy.{n + 1}", day(written), starts=day(written + 30 * n), ends=day(written + 30 * n + valid_days)
        )
        for n in range(3)
    ]


def test_an_expiry_after_the_supply_does_not_keep_the_first_of_a_series_current() -> None:
    # Day 35 of the series: the first prescription's 30 days ended on day 30, the second began then. The first's
    # validity end (day 90) is when it may no longer be filled, not supply: read as supply, both counted (120).
    evaluation = run("patient-view", resources=[medication(), *expiring(-35)])
    assert evaluation.facts.mme.total == Decimal(60)
    assert [o.id for o in evaluation.facts.current_opioids] == ["eOxy.2"]
    high = card(evaluation, "high-mme")
    assert high is not None and high.indicator == "warning" and "60.0 MME/day" in high.summary
    assert starts_note(25) in high.detail


def test_the_plan_page_and_painplan_mme_read_the_series_the_same_way() -> None:
    evaluation = run("patient-view", resources=[medication(), *expiring(-35)])
    assert mme_now(evaluation.facts).total == Decimal(60)
    config = GuidelineConfig.from_mapping()
    data = {"resourceType": "Bundle", "entry": [{"resource": r} for r in (medication(), *expiring(-35))]}
    report = mme_report(data, config, load_terminology(config), TODAY)
    assert report["current_total_mme"] == 60.0
    assert [line["current"] for line in report["orders"]] == [False, True, False]


def test_a_fill_of_the_first_still_supplying_is_one_regimen_with_the_second() -> None:
    # The first filled late, on day 10: its 30 days last to day 39. On day 35 the patient holds that supply; the
    # second, begun on day 30, is not filled yet. One regimen: 60, not the fill beside the second order.
    resources = [medication(), *expiring(-35), fill("eOxy.1", day(-25))]
    evaluation = run("patient-view", resources=resources)
    assert evaluation.facts.mme.total == Decimal(60)


def test_a_lone_prescription_is_still_current_to_its_validity_end() -> None:
    # The general rule stands where no later prescription of the series has begun: an order current to its end.
    evaluation = run("patient-view", resources=[medication(), expiring(-35)[0]])
    assert evaluation.facts.mme.total == Decimal(60)


def test_another_prescribers_later_prescription_does_not_end_the_first() -> None:
    # Not one series: a second prescriber's oxycodone begun on day 30 runs beside the first, both counted.
    first, second, _ = expiring(-35)
    second["requester"] = {"reference": "Practitioner/eDrB", "display": "Baker, Bo, MD"}
    evaluation = run("patient-view", resources=[medication(), first, second])
    assert evaluation.facts.mme.total == Decimal(120)


def test_a_later_prescription_begun_while_the_first_still_supplies_adds() -> None:
    # A second prescription fillable from day 20 while the first's own 30 days last: not read as the series'
    # next (its supply is worked out and still reaches today), so both count, as two prescriptions may.
    first = epic_oxycodone("eOxy.1", day(-25), starts=day(-25), ends=day(65))
    second = epic_oxycodone("eOxy.2", day(-25), starts=day(-5), ends=day(85))
    evaluation = run("patient-view", resources=[medication(), first, second])
    assert evaluation.facts.mme.total == Decimal(120)


# -- the HTTP face ---------------------------------------------------------------------------------------------------


def _post(tmp_path: Path, hook: str, resources: list[dict[str, Any]], drafts: list[dict[str, Any]]) -> Any:
    body = hook_request(hook, drafts=drafts, prefetch=full_prefetch(hook, medsActive=bundle(*resources)))
    return make_app(tmp_path).test_client().post(f"/cds-services/{hook}", json=body)


def _high_mme(response: Any) -> dict[str, Any]:
    assert response.status_code == 200
    return next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == "high-mme")


def test_patient_view_over_http(tmp_path: Path) -> None:
    high = _high_mme(_post(tmp_path, "patient-view", [medication(), *staggered(-5)], []))
    assert "60.0 MME/day" in high["summary"]
    assert starts_note(25) in high["detail"] and starts_note(55) in high["detail"]


def test_order_sign_over_http(tmp_path: Path) -> None:
    high = _high_mme(_post(tmp_path, "order-sign", [medication(), *staggered(-34)], [small_draft()]))
    assert "63.8 MME/day" in high["summary"]
    assert starts_note(26) in high["detail"]


def test_the_plan_page_total_with_only_a_later_prescription_says_why_it_is_zero() -> None:
    # Only the third prescription is on record: nothing is today's dose, and the page says why the total is 0.
    evaluation = run("patient-view", resources=[medication(), staggered(-5)[2]])
    meds = build_plan(evaluation, (), evaluation.facts.config, NOW).section("medications").content
    assert meds.total == "0 MME/day (a prescription that starts after today is not counted)"
    assert [r.why for r in meds.not_counted] == [starts_note(55)]


# -- drafts that start later -----------------------------------------------------------------------------------------


def draft_oxycodone(n: int, starts: int, tablets: int = 1) -> dict[str, Any]:
    """The n-th prescription of a series being signed today, to be filled from `starts` days on."""
    order = epic_oxycodone(f"eOxy.Draft{n}", day(0), starts=day(starts), tablets=tablets)
    order["status"] = "draft"
    return order


def test_a_staggered_series_being_signed_counts_one_prescriptions_dose() -> None:
    # The three prescriptions signed together: one regimen of 60 MME a day for 90 days, not 180 at sign time.
    drafts = [draft_oxycodone(1, 0), draft_oxycodone(2, 30), draft_oxycodone(3, 60)]
    evaluation = run("order-sign", drafts=drafts, resources=[medication()])
    assert evaluation.facts.mme.total == Decimal(60)
    high = card(evaluation, "high-mme")
    assert high is not None and "60.0 MME/day with this order" in high.summary
    assert f"starts on {day(30)}: a later prescription of the series being signed" in high.detail
    assert f"starts on {day(60)}: a later prescription of the series being signed" in high.detail


def test_a_series_whose_later_prescription_is_larger_counts_the_larger() -> None:
    # 1 tablet now, 2 tablets from next month: the series reaches 120 MME a day, and the card judges that.
    drafts = [draft_oxycodone(1, 0), draft_oxycodone(2, 30, tablets=2)]
    evaluation = run("order-sign", drafts=drafts, resources=[medication()])
    assert evaluation.facts.mme.total == Decimal(120)
    high = card(evaluation, "high-mme")
    assert high is not None and high.indicator == "critical"
    assert f"starts on {day(30)}: counted as the regimen being signed" in high.detail


def test_two_drafts_of_one_product_starting_today_still_add() -> None:
    # Not a series: two prescriptions of one tablet taken together (as before).
    drafts = [draft_oxycodone(1, 0), draft_oxycodone(2, 0)]
    evaluation = run("order-sign", drafts=drafts, resources=[medication()])
    assert evaluation.facts.mme.total == Decimal(120)


def test_a_single_draft_that_starts_later_counts_and_says_when() -> None:
    # A new prescription signed today to be filled in 10 days, beside today's oxycodone 5 mg order (another product):
    # the regimen being signed, counted as every draft is, and its line says when it starts.
    current = med_request(OXYCODONE_5, id="eOxy5", authored=day(-5), dose=1, period=6)
    evaluation = run("order-sign", drafts=[draft_oxycodone(1, 10)], resources=[medication(), current])
    assert evaluation.facts.mme.total == Decimal(90)
    high = card(evaluation, "high-mme")
    assert high is not None and f"starts on {day(10)}: counted as the regimen being signed" in high.detail


def test_a_staggered_series_being_signed_over_http(tmp_path: Path) -> None:
    drafts = [draft_oxycodone(1, 0), draft_oxycodone(2, 30), draft_oxycodone(3, 60)]
    high = _high_mme(_post(tmp_path, "order-sign", [medication()], drafts))
    assert "60.0 MME/day" in high["summary"]
    assert f"starts on {day(60)}: a later prescription of the series being signed" in high["detail"]


def test_painplan_mme_of_a_series_being_signed_names_the_later_prescriptions() -> None:
    config = GuidelineConfig.from_mapping()
    drafts = [draft_oxycodone(1, 0), draft_oxycodone(2, 30), draft_oxycodone(3, 60)]
    request = {
        "hook": "order-sign",
        "context": {
            "patientId": "p1",
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": d} for d in drafts]},
        },
        "prefetch": {"medsActive": {"resourceType": "Bundle", "entry": [{"resource": medication()}]}},
    }
    report = mme_report(request, config, load_terminology(config), TODAY)
    assert report["current_total_mme"] == 60.0
    lines = {line["id"]: line["explanation"] for line in report["orders"]}
    assert lines["eOxy.Draft3"].endswith(
        f"starts on {day(60)}: a later prescription of the series being signed, not counted beside it"
    )
    assert "series" not in lines["eOxy.Draft1"]


def test_the_plan_page_table_of_fills_is_captioned_by_what_its_fills_are() -> None:
    from types import SimpleNamespace

    from jinja2 import Environment, FileSystemLoader

    resources = [medication(), staggered(-5)[1], fill("eOxy.2", day(-1))]
    evaluation = run("patient-view", resources=resources)
    meds = build_plan(evaluation, (), evaluation.facts.config, NOW).section("medications").content
    template = Environment(loader=FileSystemLoader("smart_app/templates")).get_template("plan/medications.html")
    html = template.render(s=SimpleNamespace(content=meds), named=SimpleNamespace(missing=(), found=()))
    table = html[html.index('id="fills-table"') : html.index("</table>", html.index('id="fills-table"'))]
    assert "<caption>From pharmacy fills of a prescription that starts later (not current yet)</caption>" in table
    assert f"filled early from order eOxy.2, which starts on {day(25)}" in table
    assert "no current order in this record" not in html


# -- an unidentified prescription that starts later -----------------------------------------------------------------


def unidentified_later() -> list[dict[str, Any]]:
    """An Epic prescription to be filled in 25 days whose Medication carries only the site's own code and name: it
    may be the series' opioid written under a local product, or a benzodiazepine."""
    order = epic_oxycodone("eZx.2", day(-5), starts=day(25), ends=day(115))
    order["medicationReference"] = {"reference": "Medication/eMedZx", "display": "ZX-114 10 MG TABLET"}
    med = {
        "resourceType": "Medication",
        "id": "eMedZx",
        "code": {
            "coding": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288", "code": "990114"}],
            "text": "ZX-114 10 MG TABLET",
        },
    }
    return [med, order]


UNIDENTIFIED_LATER = f"ZX-114 10 MG TABLET (order eZx.2, starts on {day(25)})"


def test_an_unidentified_prescription_that_starts_later_is_named_on_patient_view(tmp_path: Path) -> None:
    response = _post(tmp_path, "patient-view", [medication(), staggered(-5)[0], *unidentified_later()], [])
    assert response.status_code == 200
    incomplete = next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == "data-incomplete")
    assert UNIDENTIFIED_LATER in incomplete["detail"]


def test_an_unidentified_prescription_that_starts_later_is_named_when_an_opioid_is_signed() -> None:
    resources = [medication(), staggered(-5)[0], *unidentified_later()]
    unidentified = card(run("order-sign", drafts=[small_draft()], resources=resources), "unidentified-medication")
    assert unidentified is not None and UNIDENTIFIED_LATER in unidentified.detail


def test_the_plan_page_names_an_unidentified_prescription_that_starts_later() -> None:
    evaluation = run("patient-view", resources=[medication(), staggered(-5)[0], *unidentified_later()])
    meds = build_plan(evaluation, (), evaluation.facts.config, NOW).section("medications").content
    assert meds.unidentified == (UNIDENTIFIED_LATER,)


LATER_LINE = "is a prescription that starts later, so not a current medication yet"


def test_the_data_incomplete_card_says_an_unidentified_prescription_starts_later_not_that_it_is_current(
    tmp_path: Path,
) -> None:
    # Named as "… is a current medication that could not be identified": it begins in 25 days.
    response = _post(tmp_path, "patient-view", [medication(), staggered(-5)[0], *unidentified_later()], [])
    incomplete = next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == "data-incomplete")
    assert f"- {UNIDENTIFIED_LATER}: {LATER_LINE}" in incomplete["detail"]
    assert "is a current medication" not in incomplete["detail"]


def unidentified_current() -> list[dict[str, Any]]:
    """A current Epic order whose Medication carries only the site's own code and name."""
    order = epic_oxycodone("eQr.1", day(-5))
    order["medicationReference"] = {"reference": "Medication/eMedQr", "display": "QR-220 5 MG CAPSULE"}
    med = {
        "resourceType": "Medication",
        "id": "eMedQr",
        "code": {
            "coding": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288", "code": "990220"}],
            "text": "QR-220 5 MG CAPSULE",
        },
    }
    return [med, order]


def test_the_unidentified_medication_card_lists_a_prescription_that_starts_later_apart_from_current_ones() -> None:
    resources = [medication(), staggered(-5)[0], *unidentified_later(), *unidentified_current()]
    unidentified = card(run("order-sign", drafts=[small_draft()], resources=resources), "unidentified-medication")
    assert unidentified is not None
    current = "**Current medications not identified:**\n- QR-220 5 MG CAPSULE (current order eQr.1)\n\n"
    assert current in unidentified.detail
    later = f"**Prescriptions that start later, not identified (not current yet):**\n- {UNIDENTIFIED_LATER}\n\n"
    assert later in unidentified.detail
    assert unidentified.summary.startswith("Could not identify current medication QR-220 5 MG CAPSULE")


def test_an_unidentified_prescription_that_starts_later_alone_is_not_called_current() -> None:
    resources = [medication(), staggered(-5)[0], *unidentified_later()]
    unidentified = card(run("order-sign", drafts=[small_draft()], resources=resources), "unidentified-medication")
    assert unidentified is not None
    assert unidentified.summary == f"Could not identify {UNIDENTIFIED_LATER}, which starts later"
    assert "current" not in unidentified.summary.lower() and "Current medications" not in unidentified.detail
    assert UNIDENTIFIED_LATER in unidentified.about


def test_the_plan_page_total_beside_only_an_unidentified_prescription_that_starts_later() -> None:
    # Nothing current: the total read "1 current medicine could not be identified" of a prescription that starts
    # in 25 days; the panel names it as starting later, apart from the current ones.
    evaluation = run("patient-view", resources=[medication(), *unidentified_later()])
    view = build_plan(evaluation, (), evaluation.facts.config, NOW)
    meds = view.section("medications").content
    assert meds.total == "0 MME/day counted; 1 prescription that starts later could not be identified (below)"
    assert meds.unidentified == (UNIDENTIFIED_LATER,)
    assert f"Prescriptions that start later PainPlan could not identify (not current yet): {UNIDENTIFIED_LATER}" in (
        view.note
    )


def test_a_second_draft_filled_while_the_first_still_supplies_is_two_prescriptions_taken_together() -> None:
    # Two 30-day prescriptions signed together, the second to be filled in 7 days: for 23 days both supply the
    # patient (120 MME a day), so they are no staggered series and both count; each line says when it starts.
    drafts = [draft_oxycodone(1, 0), draft_oxycodone(2, 7)]
    evaluation = run("order-sign", drafts=drafts, resources=[medication()])
    assert evaluation.facts.mme.total == Decimal(120)
    high = card(evaluation, "high-mme")
    assert high is not None and high.indicator == "critical"
    assert f"starts on {day(7)}: counted as the regimen being signed" in high.detail
    assert "series being signed" not in high.detail


def test_a_series_a_calendar_month_apart_in_february_is_still_one_series() -> None:
    # "Do not fill before" a month apart from 1 February: 28 days after a 30-day supply began. A pharmacy may fill a
    # controlled prescription a few days early, so two days of overlap is still one regimen, counted once.
    drafts = [draft_oxycodone(1, 0), draft_oxycodone(2, 28), draft_oxycodone(3, 59)]
    evaluation = run("order-sign", drafts=drafts, resources=[medication()])
    assert evaluation.facts.mme.total == Decimal(60)


def test_a_series_whose_supply_is_not_known_adds() -> None:
    # With no days' supply and no quantity nothing shows the first ends before the second begins: both count.
    drafts = [draft_oxycodone(1, 0), draft_oxycodone(2, 30)]
    for draft in drafts:
        del draft["dispenseRequest"]["quantity"], draft["dispenseRequest"]["expectedSupplyDuration"]
    evaluation = run("order-sign", drafts=drafts, resources=[medication()])
    assert evaluation.facts.mme.total == Decimal(120)


def test_an_order_whose_first_instruction_begins_now_is_todays_dose_though_its_next_begins_later() -> None:
    # Written 5 days ago: 1 tablet every 6 hours for 14 days (boundsDuration, no start: from the day written), then
    # every 8 hours from day 14 (boundsPeriod.start, 9 days ahead). The order is taken today: 60 MME a day, not
    # "starts on …: not counted" (read by its one stated start, today's dose went uncounted).
    order = epic_oxycodone("eOxy.Taper", day(-5))
    first = order["dosageInstruction"][0]
    first["timing"]["repeat"]["boundsDuration"] = {"value": 14, "unit": "days", "system": UCUM, "code": "d"}
    first["sequence"] = 1
    then = {
        "sequence": 2,
        "text": "Then take 1 tablet by mouth every 8 hours.",
        "timing": {"repeat": {"boundsPeriod": {"start": day(9)}, "frequency": 1, "period": 8, "periodUnit": "h"}},
        "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet", "system": UCUM, "code": "{tbl}"}}],
    }
    order["dosageInstruction"].append(then)
    evaluation = run("patient-view", resources=[medication(), order])
    assert [o.id for o in evaluation.facts.current_opioids] == ["eOxy.Taper"]
    assert evaluation.facts.mme.total > 0
    assert NOT_COUNTED not in card(evaluation, "high-mme").detail


def test_painplan_mme_says_when_a_single_draft_that_starts_later_starts_as_the_card_does() -> None:
    # One prescription being signed to be filled in 30 days: counted as the regimen being signed, and saying so on
    # `painplan mme` as on the card (the command read no words for it).
    config = GuidelineConfig.from_mapping()
    request = {
        "hook": "order-sign",
        "context": {
            "patientId": "p1",
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": draft_oxycodone(2, 30)}]},
        },
        "prefetch": {"medsActive": {"resourceType": "Bundle", "entry": [{"resource": medication()}]}},
    }
    report = mme_report(request, config, load_terminology(config), TODAY)
    assert report["current_total_mme"] == 60.0
    (line,) = report["orders"]
    assert line["explanation"].endswith(f"starts on {day(30)}: counted as the regimen being signed")


# -- Oracle Health: an order signed today whose validity starts tomorrow ---------------------------------------------


def oracle_oxycodone(id: str, authored: str, starts: str) -> dict[str, Any]:
    """Oracle Health's outpatient MedicationRequest (R4, times in UTC): oxycodone 10 mg every 6 hours, #120 for 30 days,
    whose `validityPeriod.start` may be the day after the order was signed."""
    return {
        "resourceType": "MedicationRequest",
        "id": id,
        "status": "active",
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
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": OXYCODONE_10, "display": "oxycodone HCl 10 MG Oral Tablet"}],
            "text": "oxyCODONE 10 mg oral tablet",
        },
        "subject": {"reference": "Patient/p1"},
        "authoredOn": f"{authored}T14:03:00.000Z",
        "requester": {"reference": "Practitioner/12742069", "display": "Adams, Ann MD"},
        "dosageInstruction": [
            {
                "text": "1 tab(s) orally every 6 hours",
                "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tab(s)", "system": UCUM, "code": "{tbl}"}}],
            }
        ],
        "dispenseRequest": {
            "validityPeriod": {"start": f"{starts}T14:03:00.000Z"},
            "numberOfRepeatsAllowed": 0,
            "quantity": {"value": 120, "unit": "tab(s)", "system": UCUM, "code": "{tbl}"},
            "expectedSupplyDuration": {"value": 30, "unit": "day", "system": UCUM, "code": "d"},
        },
    }


def test_an_oracle_order_signed_today_to_start_tomorrow_is_named_as_starting_tomorrow_not_lost() -> None:
    # No earlier supply: today it is not counted, and every face names it with its date; tomorrow it counts.
    order = oracle_oxycodone("O-MR-1", day(0), day(1))
    evaluation = run("patient-view", resources=[order])
    assert evaluation.facts.mme.total == Decimal(0)
    assert [r.reason_text for r in evaluation.facts.mme.excluded_orders] == [starts_note(1)]
    meds = build_plan(evaluation, (), evaluation.facts.config, NOW).section("medications").content
    assert [r.why for r in meds.not_counted] == [starts_note(1)]
    config = GuidelineConfig.from_mapping()
    data = {"resourceType": "Bundle", "entry": [{"resource": order}]}
    (line,) = mme_report(data, config, load_terminology(config), TODAY)["orders"]
    assert line["current"] is False and line["explanation"].endswith(starts_note(1))
    tomorrow = run("patient-view", resources=[order], now=NOW + timedelta(days=1))
    assert tomorrow.facts.mme.total == Decimal(60)


def test_an_oracle_order_signed_yesterday_whose_validity_starts_today_is_current() -> None:
    evaluation = run("patient-view", resources=[oracle_oxycodone("O-MR-1", day(-1), day(0))])
    assert evaluation.facts.mme.total == Decimal(60)
    assert evaluation.facts.mme.excluded_orders == ()
