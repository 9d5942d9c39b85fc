"""The dates no order-sign check reads (a problem's recorded and onset dates, when a visit ended) are parsed when
first read, not for every resource of every call; what they read as is unchanged."""

from __future__ import annotations

import pickle
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from guideline.fhirdata import CONDITION_CATEGORY, CONDITION_CLINICAL, ICD10CM, RXNORM, parse_datetime
from guideline.record import readers
from guideline.record.build import build_record
from guideline.record.pool import MedicationPool

TZ = ZoneInfo("America/New_York")


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every date text the readers parse, in order."""
    seen: list[Any] = []

    def counting(value: Any, tz: ZoneInfo) -> datetime | None:
        seen.append(value)
        return parse_datetime(value, tz)

    monkeypatch.setattr(readers, "parse_datetime", counting)
    return seen


def _condition(**dates: Any) -> dict[str, Any]:
    """An Epic problem-list entry (ICD-10-CM low back pain) with the dates given."""
    return {
        "resourceType": "Condition",
        "id": "eCond-1",
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
        "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]}],
        "code": {"coding": [{"system": ICD10CM, "code": "M54.50"}], "text": "Low back pain"},
        "subject": {"reference": "Patient/p1"},
        **dates,
    }


def test_a_problems_dates_are_parsed_when_read_and_read_as_before(parsed: list[Any]) -> None:
    condition = readers.read_condition(
        _condition(recordedDate="2026-02-03T09:15:00-05:00", onsetDateTime="2025-11-20"), TZ
    )
    assert parsed == []
    assert condition.recorded_date == datetime(2026, 2, 3, 9, 15, tzinfo=TZ)
    assert condition.onset == datetime(2025, 11, 20, tzinfo=TZ)
    assert parsed == ["2026-02-03T09:15:00-05:00", "2025-11-20"]
    assert condition.onset == datetime(2025, 11, 20, tzinfo=TZ) and len(parsed) == 2  # read once, then kept


def test_a_problems_unreadable_or_missing_dates_still_read_as_none(parsed: list[Any]) -> None:
    condition = readers.read_condition(_condition(recordedDate="2026-02-30", onsetPeriod={"start": 2026}), TZ)
    assert condition.recorded_date is None and condition.onset is None
    same = readers.read_condition(_condition(recordedDate="2026-02-30", onsetPeriod={"start": 2026}), TZ)
    assert pickle.loads(pickle.dumps(same)) == condition and hash(same) == hash(condition)
    assert readers.read_condition(_condition(), TZ).recorded_date is None


def test_a_visits_end_is_parsed_when_read(parsed: list[Any]) -> None:
    visit = {
        "resourceType": "Encounter",
        "id": "eEnc-1",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": "Patient/p1"},
        "period": {"start": "2026-05-02T09:00:00-05:00", "end": "2026-05-02T09:40:00-05:00"},
    }
    encounter = build_record([visit], TZ, patient_id="p1").encounters[0]
    assert parsed == ["2026-05-02T09:00:00-05:00"]  # the start: every visit's is read
    assert encounter.period_end == datetime(2026, 5, 2, 10, 40, tzinfo=TZ)
    assert encounter.period_start == datetime(2026, 5, 2, 10, 0, tzinfo=TZ)
    assert readers.read_encounter({**visit, "period": {"start": "2026-05-02"}}, TZ).period_end is None


def test_when_an_order_was_written_and_a_fill_prepared_are_parsed_when_read(parsed: list[Any]) -> None:
    """Most of a chart's older orders are never dated by any check, and no check dates a fill by when it was prepared
    when it was handed over."""
    order = {
        "resourceType": "MedicationRequest",
        "id": "eMR-2",
        "status": "completed",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "197806"}]},
        "authoredOn": "2025-07",
    }
    read = readers.read_med_order(order, False, TZ)
    assert parsed == [] and read.authored_partial == "2025-07"  # told from the text as written
    assert read.authored_on == datetime(2025, 7, 1, tzinfo=TZ) and parsed == ["2025-07"]
    assert readers.read_med_order({**order, "authoredOn": None}, False, TZ).authored_on is None
    fill = {
        "resourceType": "MedicationDispense",
        "id": "eMD-2",
        "status": "completed",
        "whenPrepared": "2026-05-01T16:00:00-05:00",
        "whenHandedOver": "2026-05-02T11:00:00-05:00",
    }
    parsed.clear()
    dispense = readers.read_dispense(fill, TZ, MedicationPool())
    assert parsed == ["2026-05-02T11:00:00-05:00"]  # handed over: every fill is dated by it
    assert dispense.when_prepared == datetime(2026, 5, 1, 17, 0, tzinfo=TZ) and len(parsed) == 2


def test_a_service_requests_dates_are_parsed_when_read(parsed: list[Any]) -> None:
    request = {
        "resourceType": "ServiceRequest",
        "id": "eSR-1",
        "status": "active",
        "intent": "order",
        "code": {"coding": [{"system": "http://loinc.org", "code": "19295-5"}], "text": "Urine drug screen"},
        "authoredOn": "2026-05-20T08:30:00-05:00",
        "occurrencePeriod": {"start": "2026-05-21", "end": "2026-06-21"},
    }
    read = readers.read_service_request(request, False, TZ)
    assert parsed == []
    assert read.authored_on == datetime(2026, 5, 20, 9, 30, tzinfo=TZ) and read.occurrence is None
    assert read.occurrence_start == datetime(2026, 5, 21, tzinfo=TZ)
    assert read.occurrence_end == datetime(2026, 6, 21, tzinfo=TZ)
    assert parsed == ["2026-05-20T08:30:00-05:00", "2026-05-21", "2026-06-21"]
