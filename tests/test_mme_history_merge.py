"""MME history: same-drug supplies queue (an early renewal never counts twice), different drugs add, fills count."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.facts import Facts
from guideline.mme import compute_mme
from guideline.plan.mme_history import build_mme_history
from guideline.record import build_record
from smart_app.demo_data import load_demo_patients
from tests.builders import NOW, RXNORM, TODAY, TZ, UCUM, days_ago, med_request, patient

OXYCODONE_5 = "1049621"  # 1 tab q6h = 30 MME/day
MORPHINE_ER_30 = "891888"


def history(resources, now=NOW):
    record = build_record([patient(), *resources], TZ)
    facts = Facts(record, HookContext("patient-view", "p1"), GuidelineConfig.from_mapping(), now)
    return build_mme_history(facts, compute_mme)


def values(result) -> dict[date, Decimal]:
    expanded: dict[date, Decimal] = {}
    points = sorted(result.opioid, key=lambda p: p.day)
    for index, point in enumerate(points):
        following = points[index + 1].day if index + 1 < len(points) else result.end + timedelta(days=1)
        day = point.day
        while day < following:
            expanded[day] = point.value
            day += timedelta(days=1)
    return expanded


def test_an_early_renewal_of_the_same_drug_starts_after_the_earlier_supply():
    first = med_request(OXYCODONE_5, status="completed", authored=days_ago(60))
    early = med_request(OXYCODONE_5, status="completed", authored=days_ago(50))  # 10 days early
    result = history([first, early])
    assert result.peak == Decimal(30)
    line = values(result)
    assert line[TODAY - timedelta(days=55)] == Decimal(30)
    # 60 days of supply in a row: from 60 days ago to 1 day ago, nothing today
    assert line[TODAY - timedelta(days=1)] == Decimal(30) and line[TODAY] == Decimal(0)


def test_different_drugs_overlap_and_add():
    oxy = med_request(OXYCODONE_5, status="completed", authored=days_ago(20))
    morphine = med_request(MORPHINE_ER_30, status="completed", authored=days_ago(20), period=12)  # 60 MME/day
    assert history([oxy, morphine]).peak == Decimal(90)


def test_a_fill_without_an_order_is_on_the_line():
    fill = {
        "resourceType": "MedicationDispense",
        "id": "f1",
        "status": "completed",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": MORPHINE_ER_30}]},
        "whenHandedOver": days_ago(100),
        "quantity": {"value": 60, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
        "daysSupply": {"value": 30, "unit": "d", "system": UCUM, "code": "d"},
    }
    result = history([fill])
    assert result.peak == Decimal(60)
    assert values(result)[TODAY - timedelta(days=90)] == Decimal(60)


def test_gloria_history_peaks_at_her_real_dose_not_a_renewal_counted_twice():
    for day in (date(2026, 3, 15), date(2027, 8, 2)):
        gloria = load_demo_patients(day)["gloria-simmons"]
        now = datetime.combine(day, time(10, 30), tzinfo=ZoneInfo("America/New_York"))
        record = build_record(gloria.resources(), TZ)
        facts = Facts(record, HookContext("patient-view", gloria.id), GuidelineConfig.from_mapping(), now)
        result = build_mme_history(facts, compute_mme)
        assert result.peak == Decimal(90)  # oxycodone ER 20 mg twice a day (60) + oxycodone 5 mg as needed (30)
        assert result.opioid[-1].value == Decimal(30)  # today: oxycodone ER 10 mg twice a day
