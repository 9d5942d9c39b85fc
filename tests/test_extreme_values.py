"""Every date and number in a real-shaped chart set to its extremes: no check is lost, no patient goes unevaluated.

A sweep like this found, in one session, seven ways a single odd value (9999-12-31, which EHRs send for "no end
date"; a supply of 999,999,999,999 days; a dosage every 1e-300 hours; a days' supply of 1e-300) overflowed the
calendar or the arithmetic and cost a hook call whole checks or the population review a patient. Each value goes
into one resource at a time; the rest of the chart stays as it was.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from builders import TODAY
from cds_support import make_app

from bench.bodies import order_sign_body, unique_call
from guideline.config import GuidelineConfig
from guideline.population import Directory, Period, evaluate_patient

DATE = re.compile(r"^\d{4}(-\d\d(-\d\d(T.*)?)?)?$")
EXTREME_DATES = ("9999-12-31", "0001-01-01", "9999-12-31T23:59:59-12:00")
EXTREME_NUMBERS = (999_999_999_999, 1e-12, 1e-300, -1, 0)
PERIOD = Period.parse("2026-01-01/2026-03-31")


def _leaves(value: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*here, index))
    else:
        yield here, value


def _targets() -> list[tuple[str, int, tuple[Any, ...], Any]]:
    """One (prefetch key, entry, path, extreme value) per distinct resource type and path in the chart."""
    body = json.loads(unique_call(json.dumps(order_sign_body(seed=3)).encode(), 1))
    seen, found = set(), []
    for key, bundle in body["prefetch"].items():
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            continue
        for index, entry in enumerate(bundle["entry"]):
            resource = entry["resource"]
            for path, leaf in _leaves(resource):
                numeric = isinstance(leaf, (int, float)) and not isinstance(leaf, bool)
                dated = isinstance(leaf, str) and bool(DATE.match(leaf))
                signature = (resource["resourceType"], re.sub(r"\d+", "#", "/".join(map(str, path))))
                if (numeric or dated) and signature not in seen:
                    seen.add(signature)
                    found += [(key, index, path, value) for value in (EXTREME_NUMBERS if numeric else EXTREME_DATES)]
    return found


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("extremes")).test_client()


@pytest.fixture(scope="module")
def chart() -> dict[str, Any]:
    return json.loads(unique_call(json.dumps(order_sign_body(seed=3)).encode(), 1))


TARGETS = _targets()


def test_the_sweep_reaches_dates_and_numbers_of_every_kind():
    kinds = {path[0] for _, _, path, _ in TARGETS}
    assert len(TARGETS) > 60 and {"authoredOn", "whenHandedOver", "daysSupply", "dispenseRequest"} <= kinds


@pytest.mark.parametrize(("key", "index", "path", "value"), TARGETS, ids=lambda v: str(v)[:24])
def test_one_extreme_value_costs_no_check_and_no_patient(client, chart, key, index, path, value):
    body = copy.deepcopy(chart)
    node = body["prefetch"][key]["entry"][index]["resource"]
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    response = client.post("/cds-services/order-sign", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    topics = [card["source"]["topic"]["code"] for card in response.json["cards"]]
    assert "checks-not-run" not in topics
    resources = [
        entry["resource"]
        for bundle in body["prefetch"].values()
        if isinstance(bundle, dict) and bundle.get("resourceType") == "Bundle"
        for entry in bundle["entry"]
    ]
    directory = Directory(roles={}, practitioner_orgs={}, names={}, conflicts=0)
    evaluate_patient(body["context"]["patientId"], resources, PERIOD, GuidelineConfig.from_mapping(), TODAY, directory)
