"""Deduplication by type, id and content, and sharing: the same order twice is read once; one id on two drugs keeps
both; one coded drug is one medication object across records."""

from __future__ import annotations

from builders import TZ, med_request

from guideline.record import build_record

OXY, LORAZEPAM = "1049621", "197901"


def _drugs(record) -> list[tuple[str, bool]]:
    return [(o.medication.concept.codings[0].code, o.is_draft) for o in record.orders]


def test_a_draft_beats_its_ehr_copy():
    record = build_record([med_request(OXY, id="a", status="active")], TZ, draft_orders=[med_request(OXY, id="a")])
    assert len(record.orders) == 1 and record.orders[0].is_draft


def test_one_id_on_two_drugs_keeps_both_and_a_third_copy_is_dropped():
    record = build_record([med_request(OXY, id="a"), med_request(LORAZEPAM, id="a"), med_request(OXY, id="a")], TZ)
    assert _drugs(record) == [(OXY, False), (LORAZEPAM, False)]


def test_a_resource_that_names_nothing_is_a_copy_of_any_with_its_id():
    bare = {"resourceType": "MedicationRequest", "id": "a", "status": "active", "intent": "order"}
    record = build_record([med_request(OXY, id="a"), bare, med_request(LORAZEPAM, id="b")], TZ)
    assert _drugs(record) == [(OXY, False), (LORAZEPAM, False)]
    record = build_record([bare, med_request(OXY, id="a")], TZ)
    assert len(record.orders) == 1 and record.orders[0].medication.concept is None


def test_other_types_and_ids_never_collide():
    observation = {"resourceType": "Observation", "id": "a", "status": "final", "code": {"text": "x"}}
    record = build_record([med_request(OXY, id="a"), observation, med_request(OXY, id="b")], TZ)
    assert len(record.orders) == 2 and len(record.observations) == 1


def test_orders_of_one_coded_drug_share_one_medication_across_records():
    first = build_record([med_request(OXY, id="a"), med_request(OXY, id="b")], TZ)
    second = build_record([med_request(OXY, id="c")], TZ)
    other = build_record([med_request(LORAZEPAM, id="d")], TZ)
    shared = first.orders[0].medication
    assert first.orders[1].medication is shared and second.orders[0].medication is shared
    assert other.orders[0].medication is not shared


# ---- one resource sent in two versions ---------------------------------------------------------------------------
# A prefetch and a search (or two prefetch keys) can carry one order at two moments: an older copy first, then the
# order as it stands after a change. The first copy was read and the other dropped without a word.


def _versions(older: dict, newer: dict, older_stamp: str | None, newer_stamp: str | None) -> tuple[dict, dict]:
    if older_stamp:
        older = {**older, "meta": {"versionId": "1", "lastUpdated": older_stamp}}
    if newer_stamp:
        newer = {**newer, "meta": {"versionId": "2", "lastUpdated": newer_stamp}}
    return older, newer


def test_the_newer_version_of_an_order_sent_twice_is_read_whatever_comes_first():
    older, newer = _versions(
        med_request(OXY, id="a", status="active"),
        med_request(OXY, id="a", status="stopped"),
        "2026-06-01T10:00:00Z",
        "2026-06-10T10:00:00Z",
    )
    for resources in ([older, newer], [newer, older]):
        record = build_record(resources, TZ)
        assert [(o.id, o.status) for o in record.orders] == [("a", "stopped")]
        assert record.problems == ()


def test_two_versions_that_nothing_dates_are_named_not_chosen_silently():
    first, second = med_request(OXY, id="a", status="active"), med_request(OXY, id="a", status="stopped")
    record = build_record([first, second], TZ)
    assert [(o.id, o.status) for o in record.orders] == [("a", "active")]
    [problem] = record.problems
    assert (problem.resource_type, problem.resource_id) == ("MedicationRequest", "a")
    assert "two versions" in problem.reason and "newer" in problem.reason


def test_copies_that_differ_only_in_meta_are_one_resource_with_nothing_named():
    first, second = _versions(
        med_request(OXY, id="a"), med_request(OXY, id="a"), "2026-06-01T10:00:00Z", "2026-06-10T10:00:00Z"
    )
    record = build_record([first, second], TZ)
    assert len(record.orders) == 1 and record.problems == ()


def test_a_draft_still_beats_a_newer_ehr_version_of_itself():
    ehr = {**med_request(OXY, id="a", status="active"), "meta": {"lastUpdated": "2026-06-10T10:00:00Z"}}
    record = build_record([ehr], TZ, draft_orders=[med_request(OXY, id="a")])
    assert [(o.id, o.is_draft) for o in record.orders] == [("a", True)] and record.problems == ()


def test_an_order_in_two_prefetch_searches_in_two_undated_versions_is_named_on_the_card(tmp_path):
    # medsActive and medsRecent overlap: an EHR that answered them moments apart can send one order twice, once
    # before and once after it was stopped.
    from cds_support import bundle, data_incomplete_detail

    active = med_request(OXY, id="rx-7", status="active", authored="2026-05-01")
    stopped = med_request(OXY, id="rx-7", status="stopped", authored="2026-05-01")
    detail = data_incomplete_detail(tmp_path, medsActive=bundle(active), medsRecent=bundle(stopped))
    assert "MedicationRequest/rx-7" in detail and "two versions" in detail
