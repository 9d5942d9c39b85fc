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
