"""Cache keys for repeated FHIR elements: one key per distinct parsed-JSON value, none where it could be ambiguous."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from types import MappingProxyType

from builders import TZ

from guideline.fhirdata import json_key
from guideline.record import clear_read_caches
from guideline.record.readers import _dispense_request, _dosages, _read_dispense_request, _read_dosages


def cold_then_cached(samples: list[str]) -> Iterator[str]:
    """Each sample read with the caches empty, then each again from the caches."""
    clear_read_caches()
    for _ in range(2):
        yield from samples


def test_values_that_read_differently_get_different_keys():
    values = [[{"v": 1}], [{"v": 1.0}], [{"v": True}], [{"v": "1"}], [{"v": -0.0}], [{"v": 0.0}], [{"a": 1, "b": 2}]]
    keys = [json_key(v) for v in values]
    assert None not in keys and len(set(keys)) == len(keys)
    assert json_key([{"b": 2, "a": 1}]) != json_key([{"a": 1, "b": 2}])  # another order: just another entry


def test_no_key_where_the_text_could_stand_for_another_value():
    for value in (
        [float("nan")],
        [{"v": float("inf")}],
        [None],  # NaN would be written as null too
        [10**30],
        ["\ud800"],
        MappingProxyType({"a": 1}),
        [date(2026, 6, 15)],
    ):
        assert json_key(value) is None, value


DOSAGES = [
    '[{"timing":{"repeat":{"frequency":1,"period":6,"periodUnit":"h"}},"doseAndRate":[{"doseQuantity":{"value":2}}]}]',
    '[{"timing":{"repeat":{"frequency":1.0,"period":6,"periodUnit":"h"}},"doseAndRate":[{"doseQuantity":{"value":2}}]}]',
    '[{"timing":{"repeat":{"frequency":NaN,"period":6,"periodUnit":"h"}},"doseQuantity":{"value":1}}]',
    '[{"timing":{"repeat":{"frequency":null,"period":6,"periodUnit":"h"}},"doseQuantity":{"value":1}}]',
    '[{"doseAndRate":[{"doseQuantity":{"value":123456789012345678901234567890}}]}]',
    '{"text":"a single object where an array belongs"}',
    '[{"text":"5 mg","asNeededBoolean":true,"maxDosePerPeriod":{"numerator":{"value":6},"denominator":{"value":1}}}]',
]


def test_dosages_read_through_the_cache_as_they_read_directly():
    for raw in cold_then_cached(DOSAGES):
        assert _dosages(json.loads(raw), TZ) == _read_dosages(json.loads(raw), TZ), raw
        request = {"quantity": {"value": 30}, "expectedSupplyDuration": json.loads(raw)}
        assert _dispense_request(request, TZ) == _read_dispense_request(request, TZ), raw


CONCEPTS = [
    '{"coding":[{"system":"urn:a","code":"1"}]}',
    '{"coding":[{"system":"urn:a","code":1}]}',  # a numeric code reads as its string form
    '{"coding":[{"system":"urn:a","code":1.0}]}',
    '{"coding":[{"system":"urn:a","code":NaN}]}',  # NaN and null are both written as null: never cached
    '{"coding":[{"system":"urn:a","code":null}]}',
    '{"coding":[{"system":"urn:a","code":123456789012345678901234567890}]}',
    '{"coding":{"system":"urn:a","code":"x"},"text":"a single coding object"}',
    '{"system":"urn:a","code":"y","display":"Y"}',  # a bare Coding
    '{"coding":[{"system":"urn:a","code":"1","userSelected":true}],"text":" padded "}',
    '{"coding":[{}],"text":"an empty coding"}',
    "{}",
]


def test_concepts_read_through_the_cache_as_they_read_directly():
    from guideline.fhirdata import _concept, concept

    for raw in cold_then_cached(CONCEPTS):
        assert concept(json.loads(raw)) == _concept(json.loads(raw)), raw
    assert concept(MappingProxyType(json.loads(CONCEPTS[0]))) == concept(json.loads(CONCEPTS[0]))
    assert concept(None) is None and concept("text") is None and concept([]) is None


def test_json_text_keeps_null_and_refuses_what_orjson_refuses():
    """json_text may hold null (a cache checks for it before storing); values orjson refuses get no text."""
    from guideline.fhirdata import json_text

    assert json_text([None]) == b"[null]" and json_text([float("nan")]) == b"[null]"
    assert json_text([{"a": 1}]) == json_key([{"a": 1}]) == b'[{"a":1}]'
    for refused in ([10**30], ["\ud800"], MappingProxyType({"a": 1}), [date(2026, 6, 15)]):
        assert json_text(refused) is None, refused


def test_a_dosage_with_null_is_never_served_for_one_with_nan():
    clear_read_caches()
    with_null, with_nan = json.loads(DOSAGES[3]), json.loads(DOSAGES[2])
    for _ in range(2):
        assert _dosages(with_null, TZ) == _read_dosages(json.loads(DOSAGES[3]), TZ)
        assert _dosages(with_nan, TZ) == _read_dosages(json.loads(DOSAGES[2]), TZ)
    assert _dosages(with_null, TZ) is _dosages(with_null, TZ)  # read once per content (the image cache)


QUANTITIES = [
    '{"value":1,"unit":"tablet"}',
    '{"value":1.0,"unit":"tablet"}',  # another spelling of the number: another exponent
    '{"value":"1","unit":"tablet"}',
    '{"value":true,"unit":"tablet"}',  # a boolean is no number
    '{"value":NaN,"unit":"mg"}',  # NaN and null are both written as null: never cached
    '{"value":null,"unit":"mg"}',
    '{"value":123456789012345678901234567890,"unit":"mg"}',
    '{"value":1e13,"unit":"mg"}',  # beyond any dose: unknown
    '{"value":5,"unit":7,"system":" http://unitsofmeasure.org ","code":"mg"}',  # a numeric unit: lenient reader
    '{"value":30,"unit":"Day","system":"http://unitsofmeasure.org","code":"d","comparator":"<"}',
    '{"unit":"tablet"}',
    "{}",
]


def test_quantities_read_through_the_cache_as_they_read_directly():
    from guideline.fhirdata import _quantity, quantity

    for raw in cold_then_cached(QUANTITIES):
        read, direct = quantity(json.loads(raw)), _quantity(json.loads(raw))
        assert read == direct, raw
        if read is not None and read.value is not None:
            assert str(read.value) == str(direct.value), raw  # same exponent, not just equal
    assert quantity(MappingProxyType(json.loads(QUANTITIES[0]))) == quantity(json.loads(QUANTITIES[0]))
    assert quantity(None) is None and quantity("1 tablet") is None and quantity([{"value": 1}]) is None
    assert str(quantity(json.loads(QUANTITIES[1])).value) == "1.0" and str(quantity({"value": 1}).value) == "1"


CONCEPT_ARRAYS = [
    "[" + CONCEPTS[0] + "]",
    "[" + CONCEPTS[0] + "," + CONCEPTS[8] + "]",
    "[" + CONCEPTS[3] + "]",  # NaN inside: never cached
    "[" + CONCEPTS[4] + "]",
    "[" + CONCEPTS[5] + "]",  # too long for orjson: read without the cache
    '[null, "text", 5, {}, {"text": "kept"}]',  # items that are no concept are dropped
    "[]",
]


def test_concept_arrays_read_through_the_cache_as_they_read_directly():
    from guideline.fhirdata import _concepts, concepts

    for raw in cold_then_cached(CONCEPT_ARRAYS):
        assert concepts(json.loads(raw)) == _concepts(json.loads(raw)), raw
    single = json.loads(CONCEPTS[0])
    assert concepts(single) == _concepts(single) == (concept_of(single),)  # a single object for the array
    assert concepts(None) == () and concepts("text") == () and concepts(MappingProxyType(single)) == concepts([single])


def concept_of(value):
    from guideline.fhirdata import concept

    return concept(value)


def test_inline_medications_read_through_the_cache_as_they_read_directly():
    """An order's medicationCodeableConcept gives one shared medication, whatever shape it is sent in."""
    from guideline.record.pool import _inline_of, coded_medication

    for raw in cold_then_cached(CONCEPTS):
        read = coded_medication(json.loads(raw))
        assert read == _inline_of(json.loads(raw)), raw
        if read is not None:
            assert read.concept == concept_of(json.loads(raw)), raw
    first = json.loads(CONCEPTS[0])
    assert coded_medication(first) is coded_medication(json.loads(CONCEPTS[0]))  # one object per content
    assert coded_medication(MappingProxyType(first)) == coded_medication(first)
    assert coded_medication(None) is None and coded_medication("oxycodone") is None and coded_medication([]) is None
