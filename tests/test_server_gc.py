"""The serving process freezes its loaded heap and collects young objects rarely (a call's garbage dies by refcount)."""

from __future__ import annotations

import gc

from smart_app.server import YOUNG_GENERATION_THRESHOLD, freeze_heap


def test_after_freezing_a_call_sized_burst_of_short_lived_objects_triggers_no_collection():
    before = gc.get_threshold()
    try:
        freeze_heap()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, *before[1:])
        collections = [stats["collections"] for stats in gc.get_stats()]
        # About what one 200-resource hook call holds at its peak: a parsed body and its typed record.
        burst = [{"resource": {"coding": [{"code": str(n)}]}} for n in range(8_000)]
        del burst
        assert [stats["collections"] for stats in gc.get_stats()] == collections
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
