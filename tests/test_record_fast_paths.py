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
from guideline.record import build_record, iter_resources, resources_in
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
        assert build_record([order], TZ).orders[0].course_of_therapy == expected  # read again, as remembered


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
    without = resources_in(payload)  # what pooling callers read: the same resources, no fullUrls
    # 7: the entry with a search mode and no resource is named too (a match read as nothing), not dropped
    assert without == [r for r, _ in with_urls] and len(without) == 7
    assert [url for _, url in with_urls][:3] == ["https://ehr/fhir/Medication/m1", None, "urn:uuid:2"]
    assert all(type(resource) is dict for resource in without)


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


def test_one_text_read_in_two_zones_gives_each_zone_its_own_answer() -> None:
    """Dates are remembered by their text with the zone beside them: another zone's reading is its own."""
    from zoneinfo import ZoneInfo

    pacific = ZoneInfo("America/Los_Angeles")
    for written in ("2026-01-03T15:00:00Z", "2026-01-03", "2026-01-03T10:00:00"):
        eastern_first = parse_datetime(written, TZ)
        in_pacific = parse_datetime(written, pacific)
        assert in_pacific is not None and in_pacific.tzinfo is pacific
        assert parse_datetime(written, TZ) == eastern_first and parse_datetime(written, TZ).tzinfo is TZ
    assert parse_datetime("2026-01-03T15:00:00Z", pacific).hour == 7
    assert parse_datetime("2026-01-03", pacific) == datetime(2026, 1, 3, tzinfo=pacific)
    assert parse_datetime(None, TZ) is None and parse_datetime(20260103, TZ) is None


class _Text(str):
    """A str subclass (no JSON parser makes one; a caller's own objects may)."""


def test_text_and_references_of_string_subclasses_and_odd_values_read_as_before() -> None:
    from guideline.fhirdata import reference, text

    assert text(_Text(" a ")) == "a" and text(" b ") == "b" and text("  ") is None and text(3) is None
    assert reference({"reference": " Patient/1 "}) == "Patient/1" and reference({"reference": _Text("P/2")}) == "P/2"
    assert reference({"reference": " "}) is None and reference({"reference": 5}) is None and reference(None) is None
    assert reference(MappingProxyType({"reference": "Practitioner/9"})) == "Practitioner/9"
    assert parse_datetime(_Text("2026-01-03"), TZ) == datetime(2026, 1, 3, tzinfo=TZ)


@pytest.mark.parametrize(
    ("extra", "field", "expected"),
    [
        ({"valueInteger": 7}, "value_quantity", "7"),
        ({"valueDecimal": 2.5}, "value_quantity", "2.5"),
        ({"valueQuantity": {"value": 4, "unit": "score"}}, "value_quantity", "4"),
        ({"valueInteger": None, "valueDecimal": "3"}, "value_quantity", "3"),
        ({"valueString": " Positive "}, "value_string", "Positive"),
        ({"valueString": 5}, "value_string", None),
        ({"effectiveInstant": "2026-01-03T10:00:00-05:00"}, "effective_instant", "2026-01-03 10:00:00-05:00"),
        ({"effectivePeriod": {"start": "2026-01-02"}}, "effective_period_start", "2026-01-02 00:00:00-05:00"),
        ({"effectivePeriod": "2026-01-02"}, "effective_period_start", None),
        ({"interpretation": {"coding": [{"code": "POS"}]}}, "interpretation", "POS"),
        ({"interpretation": []}, "interpretation", "()"),
    ],
    ids=repr,
)
def test_result_elements_most_results_lack_are_read_when_present(extra: dict, field: str, expected: str) -> None:
    """A result reads its optional elements only when present; present ones (any shape) read as before."""
    resource = {"resourceType": "Observation", "id": "o1", "status": "final", **extra}
    value = getattr(build_record([resource], TZ).observations[0], field)
    if field == "value_quantity":
        value = str(value.value) if value is not None else None
    elif field == "interpretation":
        value = value[0].codings[0].code if value else "()"
    elif value is not None and not isinstance(value, str):
        value = str(value)
    assert value == expected


def test_an_encounter_without_a_stay_or_reasons_and_one_with_them() -> None:
    bare = build_record([{"resourceType": "Encounter", "id": "e1", "status": "finished"}], TZ).encounters[0]
    assert bare.discharge_disposition is None and bare.reason_codes == ()
    full = {
        "resourceType": "Encounter",
        "id": "e2",
        "hospitalization": {"dischargeDisposition": {"coding": [{"code": "home"}]}},
        "reasonCode": {"text": "back pain"},
    }
    read = build_record([full], TZ).encounters[0]
    assert read.discharge_disposition.codings[0].code == "home" and read.reason_codes[0].text == "back pain"
    odd = build_record([{**full, "id": "e3", "hospitalization": "home", "reasonCode": []}], TZ).encounters[0]
    assert odd.discharge_disposition is None and odd.reason_codes == ()


def test_full_urls_stay_with_their_resources_after_drafts_and_nested_bundles() -> None:
    """fullUrls are kept by position in the walk: drafts come first and nested Bundles in between."""
    medication = {
        "resourceType": "Medication",
        "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1049621"}]},
    }
    by_url = med_request("1049621", id="ehr1")
    del by_url["medicationCodeableConcept"]
    by_url["medicationReference"] = {"reference": "urn:uuid:med-9"}
    draft = med_request("1049621", draft=True, id="d1")
    chart = [
        condition(ICD10CM, "M54.50"),
        {
            "resourceType": "Bundle",
            "entry": [
                {"fullUrl": "urn:uuid:other", "resource": condition(ICD10CM, "I10")},
                {
                    "resource": {
                        "resourceType": "Bundle",
                        "entry": [{"fullUrl": " urn:uuid:med-9 ", "resource": medication}],
                    }
                },
                {"fullUrl": 7, "resource": by_url},
            ],
        },
    ]
    record = build_record(chart, TZ, draft_orders={"resourceType": "Bundle", "entry": [{"resource": draft}]})
    ehr = next(o for o in record.orders if o.id == "ehr1")
    assert not ehr.medication.unresolved and ehr.medication.concept.codes(
        "http://www.nlm.nih.gov/research/umls/rxnorm"
    ) == ("1049621",)
    pairs = list(iter_resources([{"resourceType": "Bundle", "entry": [{"resource": draft}]}, *chart]))
    assert [url for _, url in pairs] == [None, None, "urn:uuid:other", "urn:uuid:med-9", None]


def test_resources_of_takes_out_outcomes_and_only_errors_spoil_the_answer() -> None:
    from cds_hooks.fhir_client import resources_of

    info = {"resourceType": "OperationOutcome", "issue": [{"severity": "information"}]}
    error = {"resourceType": "OperationOutcome", "issue": [{"severity": "error"}]}
    first, second = condition(ICD10CM, "I10"), condition(ICD10CM, "M54.50")
    bundle = {"resourceType": "Bundle", "entry": [{"resource": first}, {"resource": info}, {"resource": second}]}
    assert resources_of(bundle) == ([first, second], None)
    bundle["entry"].append({"resource": error})
    found, problem = resources_of(bundle)
    assert found == [first, second] and problem is not None and "OperationOutcome" in problem
    assert (
        resources_of({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "OperationOutcome"}}]})[1]
        == "the FHIR server reported an error (OperationOutcome)"
    )
    assert resources_of([first]) == ([first], "the FHIR server's answer was not a FHIR resource")


@pytest.mark.parametrize(
    "coded",
    [
        {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1049621"}]},
        {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": 1049621}]},  # a numeric code
        {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1049621", "display": None}]},
        {"text": "oxycodone 5 mg tablet"},  # text only
        {"coding": {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1049621"}},  # one object
        MappingProxyType({"coding": [{"code": "1049621"}]}),
    ],
    ids=repr,
)
def test_an_inline_medication_is_one_shared_object_per_content(coded: Any) -> None:
    """Orders and fills that name a drug by code share one ResolvedMedication, read as the concept reads."""
    from guideline.record.pool import coded_medication

    orders = []
    for number in range(2):
        order = med_request("1049621", id=f"o{number}")
        order["medicationCodeableConcept"] = coded
        orders.append(order)
    record = build_record(orders, TZ)
    first, second = (o.medication for o in record.orders)
    assert first is second and first.concept == concept(coded) and not first.unresolved
    assert coded_medication(coded) is first


@pytest.mark.parametrize("coded", [{}, None, "oxycodone", [], {"coding": []}])
def test_an_inline_medication_that_names_nothing_falls_back_to_the_reference(coded: Any) -> None:
    order = med_request("1049621")
    order["medicationCodeableConcept"] = coded
    order["medicationReference"] = {"reference": "Medication/absent", "display": "oxycodone"}
    medication = build_record([order], TZ).orders[0].medication
    expected = concept(coded)
    if expected is None:
        assert medication.unresolved and medication.reference == "Medication/absent"
    else:
        assert medication.concept == expected


def test_a_results_time_is_the_first_time_it_carries_in_the_guidelines_order() -> None:
    """effectiveDateTime, else effectivePeriod.start, else effectiveInstant, else issued (6.4); a midnight counts."""
    midnight = "2026-01-03"  # reads as 00:00 local time, which must not be skipped as if it were missing
    elements = [
        ("effectiveDateTime", midnight),
        ("effectivePeriod", {"start": "2026-01-04T08:00:00-05:00"}),
        ("effectiveInstant", "2026-01-05T09:00:00-05:00"),
        ("issued", "2026-01-06T10:00:00-05:00"),
    ]
    expected = [
        datetime(2026, 1, 3, tzinfo=TZ),
        datetime(2026, 1, 4, 8, tzinfo=TZ),
        datetime(2026, 1, 5, 9, tzinfo=TZ),
        datetime(2026, 1, 6, 10, tzinfo=TZ),
    ]
    for first in range(len(elements)):
        resource = {"resourceType": "Observation", "id": "o1", **dict(elements[first:])}
        assert build_record([resource], TZ).observations[0].result_time == expected[first]
    bare = build_record([{"resourceType": "Observation", "id": "o2"}], TZ).observations[0]
    assert bare.result_time is None


def test_issued_is_read_only_for_a_result_no_effective_time_dates() -> None:
    # Nothing reads `issued` but `result_time`, and only when no effective[x] dates the result: a lab sends both on
    # nearly every result, and each was parsed for nothing. One whose effective time cannot be read is dated by it.
    issued = "2025-11-18T16:30:00Z"
    dated = {"resourceType": "Observation", "id": "o1", "effectiveDateTime": "2025-11-18T11:21:00-05:00"}
    spans = {"resourceType": "Observation", "id": "o2", "effectivePeriod": {"end": "2025-11-18T11:21:00-05:00"}}
    unreadable = {"resourceType": "Observation", "id": "o3", "effectiveDateTime": "18/11/2025"}
    read = build_record([{**r, "issued": issued} for r in (dated, spans, unreadable)], TZ).observations
    assert [o.issued for o in read] == [None, None, datetime(2025, 11, 18, 11, 30, tzinfo=TZ)]
    assert [o.result_time for o in read] == [datetime(2025, 11, 18, 11, 21, tzinfo=TZ)] * 2 + [read[2].issued]


@pytest.mark.parametrize(
    ("handed", "prepared"),
    [
        ("2026-01-03T09:00:00-05:00", "2026-01-03T09:00:00-05:00"),
        ("2026-01-03T09:00:00-05:00", "2026-01-02T17:00:00-05:00"),
        ("2026-01-03", None),
        (None, "2026-01-02"),
        ("not a date", "not a date"),
        (7, 7),
    ],
)
def test_a_fills_two_times_read_as_each_reads_alone(handed: Any, prepared: Any) -> None:
    fill = {"resourceType": "MedicationDispense", "id": "f1", "whenHandedOver": handed, "whenPrepared": prepared}
    read = build_record([fill], TZ).dispenses[0]
    assert (read.when_handed_over, read.when_prepared) == (parse_datetime(handed, TZ), parse_datetime(prepared, TZ))


@pytest.mark.parametrize(
    "dates",
    [
        {"recordedDate": "2020-02-03", "onsetDateTime": "2020-02-03"},
        {"recordedDate": "2020-02-03", "onsetDateTime": "2019-11-20"},
        {"assertedDate": "2020-02-03", "onsetPeriod": {"start": "2020-02-03"}},  # STU3 and a period
        {"recordedDate": "", "assertedDate": "2020-02-04", "onsetDateTime": "2020-02-04"},
        {"onsetDateTime": "2020-02-03"},
        {"recordedDate": "2020-02-03"},
        {"recordedDate": 5, "onsetDateTime": 5},
    ],
    ids=repr,
)
def test_a_problems_recorded_and_onset_dates_read_as_each_reads_alone(dates: dict) -> None:
    read = build_record([{"resourceType": "Condition", "id": "c1", **dates}], TZ).conditions[0]
    recorded = dates.get("recordedDate") or dates.get("assertedDate")
    onset = dates.get("onsetDateTime") or dates.get("onsetPeriod", {}).get("start")
    assert (read.recorded_date, read.onset) == (parse_datetime(recorded, TZ), parse_datetime(onset, TZ))
