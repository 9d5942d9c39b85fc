"""When a result's specimen was taken (`Observation.collected`): the one reading guideline.uds and
guideline.specimen_validity match samples by."""

from __future__ import annotations

from datetime import datetime

from builders import TZ

from guideline.record import build_record


def test_collected_is_the_first_effective_time_and_never_when_it_was_issued() -> None:
    # A lab report issued the next morning may be another sample's day: only effective[x] says when it was taken.
    issued = {"issued": "2026-01-06T10:00:00-05:00"}
    shapes = [
        ({"effectiveDateTime": "2026-01-03"}, datetime(2026, 1, 3, tzinfo=TZ)),  # a date alone: its midnight
        ({"effectivePeriod": {"start": "2026-01-04T08:00:00-05:00"}}, datetime(2026, 1, 4, 8, tzinfo=TZ)),
        ({"effectivePeriod": {"end": "2026-01-04T09:00:00-05:00"}}, datetime(2026, 1, 4, 9, tzinfo=TZ)),
        ({"effectiveInstant": "2026-01-05T09:00:00.000-05:00"}, datetime(2026, 1, 5, 9, tzinfo=TZ)),
        ({}, None),
    ]
    for effective, expected in shapes:
        resource = {"resourceType": "Observation", "id": "o1", "status": "final", **effective, **issued}
        result = build_record([resource], TZ).observations[0]
        assert result.collected == expected
        assert result.result_time == (expected or datetime(2026, 1, 6, 10, tzinfo=TZ))
