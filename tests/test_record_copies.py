"""Two resources sharing a type and id, and a meta.lastUpdated that cannot be read: a copy of one resource was taken
for a version of another and that one lost, and an unreadable date or an opaque version id chose a copy silently."""

from __future__ import annotations

from typing import Any

from builders import TZ, med_request

from guideline.record import build_record

OXY, LORAZEPAM = "1049621", "197901"


def _stamped(resource: dict[str, Any], last_updated: Any = None, version: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if last_updated is not None:
        meta["lastUpdated"] = last_updated
    if version is not None:
        meta["versionId"] = version
    return {**resource, "meta": meta}


def _orders(record) -> list[tuple[str, str | None]]:
    return [(o.medication.concept.codings[0].code, o.status) for o in record.orders]


# ---- 1. two different resources with one type and id --------------------------------------------------------------
# An HIE feed merges two servers' orders into one Bundle, and both servers numbered their order 12345: oxycodone on
# one, lorazepam on the other. A later search brings the lorazepam order again, stopped since. Versions were tracked by
# (type, id) alone, so the stopped lorazepam was taken for a newer version of the oxycodone order, which vanished.


def test_a_newer_copy_of_one_order_never_replaces_another_order_sharing_its_id():
    oxycodone = _stamped(med_request(OXY, id="12345", status="active"), "2026-05-01T09:00:00Z", "1")
    lorazepam = _stamped(med_request(LORAZEPAM, id="12345", status="active"), "2026-05-02T09:00:00Z", "3")
    stopped = _stamped(med_request(LORAZEPAM, id="12345", status="stopped"), "2026-06-01T09:00:00Z", "4")
    for resources in ([oxycodone, lorazepam, stopped], [lorazepam, oxycodone, stopped]):
        record = build_record(resources, TZ)
        assert sorted(_orders(record)) == [(OXY, "active"), (LORAZEPAM, "stopped")]
        assert record.problems == ()


def test_an_older_copy_of_the_second_order_sharing_an_id_is_dropped_without_touching_the_first():
    oxycodone = _stamped(med_request(OXY, id="12345", status="active"), "2026-06-05T09:00:00Z")
    stopped = _stamped(med_request(LORAZEPAM, id="12345", status="stopped"), "2026-06-01T09:00:00Z")
    active = _stamped(med_request(LORAZEPAM, id="12345", status="active"), "2026-05-01T09:00:00Z")
    record = build_record([oxycodone, stopped, active], TZ)
    assert _orders(record) == [(OXY, "active"), (LORAZEPAM, "stopped")] and record.problems == ()


def test_opaque_version_ids_do_not_say_which_copy_is_newer_so_the_copy_is_named():
    # Version ids are opaque in FHIR (an etag-like hash here): ordered by their text, one copy won without a word.
    first = _stamped(med_request(OXY, id="rx-9", status="active"), version="b81f0c")
    second = _stamped(med_request(OXY, id="rx-9", status="stopped"), version="4e2a19")
    record = build_record([first, second], TZ)
    assert len(record.orders) == 1
    [problem] = record.problems
    assert (problem.resource_type, problem.resource_id) == ("MedicationRequest", "rx-9")
    assert "two versions" in problem.reason and "out of date" in problem.reason


def test_a_copy_dated_beside_one_not_dated_is_named_and_the_dated_one_read():
    # A gateway that strips meta sends one copy with no date: nothing says it is the older one.
    dated = _stamped(med_request(OXY, id="rx-9", status="active"), "2026-06-01T09:00:00Z")
    undated = med_request(OXY, id="rx-9", status="stopped")
    for resources in ([dated, undated], [undated, dated]):
        record = build_record(resources, TZ)
        assert _orders(record) == [(OXY, "active")]
        [problem] = record.problems
        assert "two versions" in problem.reason and "out of date" in problem.reason


def test_identical_copies_and_numbered_versions_still_merge_silently():
    one = _stamped(med_request(OXY, id="rx-9", status="active"), version="1")
    two = _stamped(med_request(OXY, id="rx-9", status="stopped"), version="2")
    record = build_record([two, one, dict(one)], TZ)
    assert _orders(record) == [(OXY, "stopped")] and record.problems == ()


# ---- 3. a meta.lastUpdated that cannot be read ---------------------------------------------------------------------


def test_an_unreadable_last_updated_that_decides_between_two_copies_is_named():
    for unreadable in ("yesterday", 1780300800, "2026-13-45T99:00:00Z"):
        stale = _stamped(med_request(OXY, id="rx-3", status="active"), "2026-05-01T09:00:00Z")
        fresh = _stamped(med_request(OXY, id="rx-3", status="stopped"), unreadable)
        record = build_record([stale, fresh], TZ)
        assert len(record.orders) == 1
        [problem] = record.problems
        assert "meta.lastUpdated" in problem.reason and "could not be read" in problem.reason


def test_an_unreadable_last_updated_is_not_named_when_version_numbers_tell():
    stale = _stamped(med_request(OXY, id="rx-3", status="active"), "2026-05-01T09:00:00Z", "7")
    fresh = _stamped(med_request(OXY, id="rx-3", status="stopped"), "yesterday", "8")
    record = build_record([fresh, stale], TZ)
    assert _orders(record) == [(OXY, "stopped")] and record.problems == ()


def test_last_updated_is_read_leniently_in_every_dateTime_shape():
    may = _stamped(med_request(OXY, id="rx-3", status="active"), "2026-05-01T09:00:00Z")
    for later in ("2026-06", "2026-06-10", "2026-06-10T10:00Z", "2026-06-10T10:00:00", "2026-06-10T10:00:00.5-04:00"):
        june = _stamped(med_request(OXY, id="rx-3", status="stopped"), later)
        for resources in ([may, june], [june, may]):
            record = build_record(resources, TZ)
            assert _orders(record) == [(OXY, "stopped")], later
            assert record.problems == (), later


def test_stamps_of_one_day_without_a_time_do_not_tell_which_is_newer():
    morning = _stamped(med_request(OXY, id="rx-3", status="active"), "2026-06-10T08:00:00Z")
    day = _stamped(med_request(OXY, id="rx-3", status="stopped"), "2026-06-10")
    record = build_record([morning, day], TZ)
    [problem] = record.problems
    assert "two versions" in problem.reason


# ---- a care plan dated only by an unreadable meta.lastUpdated -----------------------------------------------------
# The treatment-plan check counts a pain treatment plan made or changed in its window, by `created`, `period.start` or
# meta.lastUpdated. A plan whose only date is a lastUpdated that cannot be read can be placed in no window: it was
# passed over as if no plan were on record.

PAIN_PLAN = {"coding": [{"system": "http://loinc.org", "code": "80764-4"}]}


def _care_plan(**extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "CarePlan",
        "id": "cp-1",
        "status": "active",
        "intent": "plan",
        "subject": {"reference": "Patient/p1"},
        "category": [PAIN_PLAN],
        **extra,
    }


def test_a_care_plan_dated_only_by_an_unreadable_last_updated_is_named():
    for unreadable in ("last week", 1780300800):
        record = build_record([_care_plan(meta={"lastUpdated": unreadable})], TZ)
        assert len(record.care_plans) == 1
        [problem] = record.problems
        assert (problem.resource_type, problem.resource_id) == ("CarePlan", "cp-1")
        assert "meta.lastUpdated" in problem.reason and str(unreadable) in problem.reason


def test_a_care_plan_with_another_date_or_a_readable_one_is_not_named():
    for plan in (
        _care_plan(meta={"lastUpdated": "last week"}, created="2026-06-01"),
        _care_plan(meta={"lastUpdated": "last week"}, period={"start": "2026-06-01"}),
        _care_plan(meta={"lastUpdated": "2026-06-01T10:00Z"}),
    ):
        assert build_record([plan], TZ).problems == ()
