"""The readers' in-place paths for the usual shapes give exactly what the lenient general readers give on odd data,
and what the record leaves unread is read by nothing."""

from __future__ import annotations

from datetime import datetime
from types import MappingProxyType
from typing import Any

import pytest
from builders import ICD10CM, LOINC, TZ, card, condition, days_ago, med_request, observation, run

from guideline.checks import CHECKS, unexpected_uds_result
from guideline.fhirdata import concept, parse_datetime
from guideline.record import build_record, iter_resources
from guideline.record.readers import _first_code, read_condition

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"

# Status and courseOfTherapyType shapes EHRs send, and odd ones: padded, empty, numeric and boolean codes, codings
# that are strings, nulls or read-only mappings, a single coding object for the array, a bare coding, text only.
ODD_CODINGS: list[Any] = [
    {"coding": [{"system": CLINICAL, "code": "active", "display": "Active"}]},
    {"coding": [{"system": CLINICAL, "code": " resolved "}], "text": "Resolved"},
    {"coding": [{"code": ""}, {"code": "  "}, {"code": "inactive"}]},
    {"coding": [{}, "active", None, 7, {"code": "remission"}]},
    {"coding": [{"code": None}, {"display": "Active"}]},
    {"coding": [{"code": 5}]},
    {"coding": [{"code": 2.5}]},
    {"coding": [{"code": True}]},
    {"coding": [{"code": ["active"]}, {"code": "active"}]},
    {"coding": [{"code": {"value": "x"}}]},
    {"coding": [MappingProxyType({"code": "relapse"})]},
    {"coding": [{"code": ""}, MappingProxyType({"code": "relapse"})]},
    {"coding": {"code": "active"}},
    {"coding": None, "code": "active"},
    {"coding": "active"},
    {"coding": []},
    {"code": "active", "system": CLINICAL},
    {"text": "Active"},
    {},
    MappingProxyType({"coding": [{"code": "active"}]}),
    ["active"],
    "active",
    None,
    3,
]


def _general_first_code(value: Any) -> str | None:
    """What the lenient concept reader makes of the value: its first coding with a code."""
    found = concept(value)
    return next((c.code for c in found.codings if c.code), None) if found is not None else None


@pytest.mark.parametrize("value", ODD_CODINGS, ids=repr)
def test_first_code_read_in_place_equals_the_general_concept_reading(value: Any) -> None:
    assert _first_code(value) == _general_first_code(value)


def test_condition_statuses_of_odd_shapes_are_read_as_before() -> None:
    read = read_condition(
        {
            "resourceType": "Condition",
            "clinicalStatus": {"coding": [{"code": 1}]},
            "verificationStatus": {"coding": [{"code": " "}, {"code": " confirmed "}]},
        },
        TZ,
    )
    assert (read.clinical_status, read.verification_status) == ("1", "confirmed")
    stu3 = read_condition({"resourceType": "Condition", "clinicalStatus": "active", "verificationStatus": ""}, TZ)
    assert (stu3.clinical_status, stu3.verification_status) == ("active", None)


def test_course_of_therapy_of_odd_shapes() -> None:
    order = med_request("1049621")
    for course, expected in [
        ({"coding": [{"code": "acute"}]}, "acute"),
        ({"coding": [{"system": "x", "code": 14}]}, "14"),
        ({"coding": {"code": "continuous"}}, "continuous"),
        ({"text": "short course"}, None),
        ("acute", None),
    ]:
        order["courseOfTherapyType"] = course
        assert build_record([order], TZ).orders[0].course_of_therapy == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2019-03-04", datetime(2019, 3, 4, tzinfo=TZ)),
        (" 2019-03-04 ", datetime(2019, 3, 4, tzinfo=TZ)),
        ("2019-03", datetime(2019, 3, 1, tzinfo=TZ)),
        ("2019", datetime(2019, 1, 1, tzinfo=TZ)),
        ("\u0662\u0660\u0661\u0669-\u0660\u0663-\u0660\u0664", datetime(2019, 3, 4, tzinfo=TZ)),  # other digits
        ("2019-02-30", None),
        ("2019-13-01", None),
        ("0000-01-01", None),
        ("2019-3-04", None),
        ("2019-03-0x", None),
        ("2019/03/04", None),
        ("2019-W01-1", datetime(2018, 12, 31, tzinfo=TZ)),  # an ISO week date, as Python reads it
        ("2026-03-08", datetime(2026, 3, 8, tzinfo=TZ)),  # a daylight-saving day starts at local midnight
    ],
)
def test_bare_dates_start_their_local_day_and_impossible_ones_are_unknown(written: str, expected: Any) -> None:
    parsed = parse_datetime(written, TZ)
    assert parsed == expected
    if expected is not None:
        assert parsed.tzinfo is TZ and (parsed.hour, parsed.minute, parsed.fold) == (0, 0, 0)


def test_datetimes_with_and_without_z_are_the_same_instant_in_the_zone() -> None:
    zulu = parse_datetime("2026-01-03T15:00:00Z", TZ)
    offset = parse_datetime("2026-01-03T10:00:00-05:00", TZ)
    assert zulu == offset and zulu.tzinfo is TZ and offset.tzinfo is TZ and (zulu.hour, offset.hour) == (10, 10)
    assert parse_datetime("2026-01-03T10:00:00", TZ) == datetime(2026, 1, 3, 10, tzinfo=TZ)
    assert parse_datetime("2026-01-03TZ", TZ) is None


@pytest.mark.parametrize(
    ("raw_id", "expected"),
    [(" c1 ", "c1"), ("   ", None), ("", None), (12, "12"), (True, "True"), (1.5, None), (["c1"], None), (None, None)],
)
def test_record_ids_of_any_shape_are_read_as_before(raw_id: Any, expected: str | None) -> None:
    resource = condition(ICD10CM, "M54.50")
    resource["id"] = raw_id
    assert build_record([resource], TZ).conditions[0].id == (
        raw_id.strip() or None if isinstance(raw_id, str) else None
    )
    copy = dict(resource)
    record = build_record([resource, copy], TZ)
    # Only resources with an id are compared; an id-less pair is kept as two.
    assert len(record.conditions) == (1 if expected else 2)


def test_one_resource_object_given_twice_is_read_once() -> None:
    resource = condition(ICD10CM, "M54.50")
    assert len(build_record([resource, resource], TZ).conditions) == 1
    draft = med_request("1049621")
    record = build_record([draft], TZ, draft_orders=[draft])
    assert len(record.orders) == 1 and record.orders[0].is_draft


@pytest.mark.parametrize("category", ["laboratory", "survey", "exam", None])
def test_a_result_counts_by_its_code_whatever_category_it_is_filed_under(
    category: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Observation categories are not read (sites file drug tests under other categories): nothing may need them."""
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    cocaine = observation("14314-9", when=days_ago(20), value_string="Positive", category=category)
    trigger = med_request("1049621", draft=True, id="ox1", supply_days=5)
    found = card(run("order-sign", drafts=[trigger], resources=[cocaine]), unexpected_uds_result.CHECK_ID)
    assert found is not None and "positive for cocaine" in found.summary
    read = build_record([cocaine], TZ).observations[0]
    assert read.code is not None and read.code.codes(LOINC) == ("14314-9",) and not hasattr(read, "categories")


def test_resources_walked_without_urls_are_the_same_resources_in_the_same_order() -> None:
    inner = {"resourceType": "Bundle", "entry": [{"fullUrl": "urn:uuid:2", "resource": condition(ICD10CM, "I10")}]}
    payload = [
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {"fullUrl": " https://ehr/fhir/Medication/m1 ", "resource": {"resourceType": "Medication", "id": "m1"}},
                {"fullUrl": 7, "resource": med_request("1049621")},
                {"resource": inner},
                {"fullUrl": "https://ehr/x", "resource": "not an object"},
                "not an entry",
                {"search": {"mode": "match"}},
            ],
        },
        condition(ICD10CM, "M54.50"),
    ]
    with_urls = list(iter_resources(payload))
    without = list(iter_resources(payload, urls=False))
    assert [r for r, _ in without] == [r for r, _ in with_urls] and len(without) == 6
    assert [url for _, url in with_urls][:3] == ["https://ehr/fhir/Medication/m1", None, "urn:uuid:2"]
    assert {url for _, url in without} == {None}


@pytest.mark.parametrize(
    ("performer", "expected"),
    [
        (
            [{"actor": {"reference": "Organization/pharm1", "display": "Main Street Pharmacy"}}],
            ("Organization/pharm1",),
        ),
        (
            [{"actor": {"reference": "Practitioner/dr9"}}, {"actor": {"reference": " Organization/p2 "}}],
            ("Practitioner/dr9", "Organization/p2"),
        ),
        ([{"actor": {"display": "Main Street Pharmacy"}}], ()),  # named, not referenced (the Epic shape)
        ({"actor": {"reference": "Organization/one"}}, ("Organization/one",)),  # a single object for the array
        ([MappingProxyType({"actor": {"reference": "Practitioner/ro"}})], ("Practitioner/ro",)),
        (["Organization/x", None, 7, {"actor": "Organization/y"}, {"actor": {"reference": ""}}], ()),
        ([], ()),
        (None, ()),
    ],
)
def test_fill_performers_of_any_shape_are_their_actor_references(performer: Any, expected: tuple[str, ...]) -> None:
    fill: dict[str, Any] = {"resourceType": "MedicationDispense", "id": "f1", "status": "completed"}
    if performer is not None:
        fill["performer"] = performer
    assert build_record([fill], TZ).dispenses[0].performers == expected
