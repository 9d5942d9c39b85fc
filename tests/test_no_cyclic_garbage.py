"""A hook call's objects are freed when it ends, never left in reference cycles for the garbage collector.

A cycle through the evaluation's facts once kept each call's whole record (~700 objects) alive until a collection:
with the young-generation threshold `painplan serve` sets, one every ~70 calls, each 20-100 ms long (the p99 of a
served call) and ~10 % of all CPU. These tests fail if any of PainPlan's own objects ends up in such a cycle again.
"""

from __future__ import annotations

import gc
import json
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, time
from pathlib import Path

from builders import TODAY, TZ
from cds_support import make_app

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.engine import evaluate
from guideline.record import build_record

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.bodies import order_sign_body  # noqa: E402

OURS = ("guideline", "cds_hooks", "smart_app", "launch")


def _owner_module(item: object) -> str:
    """The module an object's type, function or bound method was defined in."""
    if isinstance(item, types.MethodType):
        return _owner_module(item.__func__)
    if isinstance(item, types.FunctionType):
        return item.__module__ or ""
    return type(item).__module__


@contextmanager
def cyclic_garbage() -> Iterator[list[str]]:
    """Collects the objects that only the cycle collector could free while the block ran, named by type."""
    found: list[str] = []
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        found.extend(
            f"{_owner_module(item)}.{type(item).__qualname__}"
            for item in gc.garbage
            if _owner_module(item).split(".")[0] in OURS
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def _several(run: Callable[[int], object]) -> None:
    for seed in (3, 17, 41):
        run(seed)


def test_building_and_evaluating_a_200_resource_chart_leaves_no_cycles():
    config = GuidelineConfig.from_mapping()
    now = datetime.combine(TODAY, time(10), tzinfo=TZ)

    def run(seed: int) -> object:
        body = order_sign_body(seed)
        resources = [v for v in body["prefetch"].values() if v]
        record = build_record(resources, TZ, draft_orders=body["context"]["draftOrders"])
        result = evaluate(record, HookContext(hook="order-sign", patient_id="p1"), config, now)
        assert result.cards  # the chart is built to fire several checks: the test exercises them
        return result

    with cyclic_garbage() as found:
        _several(run)
    assert found == []


def test_an_order_sign_call_through_the_service_leaves_no_cycles(tmp_path):
    client = make_app(tmp_path).test_client()

    def run(seed: int) -> object:
        raw = json.dumps(order_sign_body(seed)).encode()
        response = client.post("/cds-services/order-sign", data=raw, content_type="application/json")
        assert response.status_code == 200 and response.get_json()["cards"]
        return response

    run(1)  # first-call set-up (models, caches) is not a call's garbage
    with cyclic_garbage() as found:
        _several(run)
    assert found == []
