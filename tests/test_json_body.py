"""The request-body parser gives exactly json.loads's values, and fails exactly when json.loads fails."""

from __future__ import annotations

import json
import math
import random
import sys

import pytest

from cds_hooks.json_body import parse_json

ACCEPTED = [
    b'{"a":NaN,"b":Infinity,"c":-Infinity}',
    b'{"a":1e400,"b":-1e400}',
    b'{"code":123456789012345678901234567890}',
    b'{"id":-9223372036854775809,"n":18446744073709551616}',
    b'{"n":9223372036854775807,"m":-9223372036854775808,"u":18446744073709551615}',
    b'{"s":"19 digits in a string: 1234567890123456789"}',
    b'\xef\xbb\xbf{"hook":"order-sign"}',
    '{"text":"comprimé"}'.encode("utf-16"),
    '{"text":"comprimé"}'.encode("utf-32"),
    b'{"a":"\\ud800","b":"\\udc00x","c":"\\ud83d\\ude00"}',
    b'{"a":1,"a":2}',
    b'{"a":-0.0,"b":0e0,"c":1E+2,"d":5e-324,"e":1.7976931348623157e308,"f":1e-400}',
    b' \n\t{"a":[1,2.5,"x",true,false,null,{}]}\r\n ',
    b'"\\u0000"',
    b"[" * 200 + b"]" * 200,
]

REFUSED = [
    b"",
    b"   ",
    b'{"a":1,}',
    b"[1,]",
    b'{"a":1}x',
    b'{"a":"tab\there"}',
    b'{"a":"\xff"}',
    b"{'a':1}",
    b'{"a":01}',
    b'{"a":.5}',
    b'{"a":nan}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"n":' + b"9" * 5000 + b"}",
]


def _same(left, right) -> bool:
    """Equal values of equal types all the way down; NaN equals NaN here."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, float):
        return (math.isnan(left) and math.isnan(right)) or (left == right and repr(left) == repr(right))
    return left == right


@pytest.mark.parametrize("raw", ACCEPTED)
def test_values_are_those_of_json_loads(raw):
    assert _same(parse_json(raw), json.loads(raw))
    assert _same(parse_json(bytearray(raw)), json.loads(raw))  # the service reads bodies into a bytearray


@pytest.mark.parametrize("raw", REFUSED)
def test_refuses_what_json_loads_refuses(raw):
    with pytest.raises((ValueError, RecursionError)):
        json.loads(raw)
    with pytest.raises((ValueError, RecursionError)):
        parse_json(raw)
    with pytest.raises((ValueError, RecursionError)):
        parse_json(bytearray(raw))


def test_nesting_deeper_than_orjson_allows_reads_as_json_loads_reads_it():
    raw = b'{"a":' * 1500 + b"1" + b"}" * 1500
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)
    try:
        assert parse_json(raw) == json.loads(raw)
    finally:
        sys.setrecursionlimit(limit)


def test_numbers_of_every_size_and_spelling_read_alike():
    rng = random.Random(13)
    spellings = []
    for _ in range(3000):
        x = rng.choice((rng.random() * 10 ** rng.randint(-40, 40), rng.uniform(-1e300, 1e300)))
        spellings += [repr(x), f"{x:.17g}", f"{x:.3f}", f"{x:.25e}"]
        spellings.append(str(rng.randint(-(10**25), 10**25)))
    raw = ("[" + ",".join(s for s in spellings if "inf" not in s) + "]").encode()
    assert _same(parse_json(raw), json.loads(raw))


def test_a_realistic_chart_reads_alike():
    from cds_support import bundle, hook_request, oxycodone_draft

    body = hook_request(drafts=[oxycodone_draft()], prefetch={"medsActive": bundle(oxycodone_draft(dose=1))})
    body["context"]["note"] = "naïve – 10 mg ½ tablet \U0001f48a"
    raw = json.dumps(body, ensure_ascii=False).encode()
    assert _same(parse_json(raw), json.loads(raw))


def test_responses_are_utf8_json_and_what_orjson_refuses_is_still_written():
    from cds_hooks.blueprint import _encoded

    assert json.loads(_encoded({"summary": "dose — 90 MME/day", "n": 1.5})) == {
        "summary": "dose — 90 MME/day",
        "n": 1.5,
    }
    echoed = {"id": "bad \ud800 text", "big": 2**70}  # a lone surrogate and a 71-bit integer from a request
    assert json.loads(_encoded(echoed)) == echoed
