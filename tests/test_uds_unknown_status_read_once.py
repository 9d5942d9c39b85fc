"""The urine drug test results of unknown status are read once per call (`Facts.uds_results_of_unknown_status`): the
unexpected-result check's list, the plan page's history rows and its tile each read every result again."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from builders import med_request, patient
from test_plan import plan_for
from test_uds_tile_unknown_status import NAMED, _unknown
from test_uds_unreadable_specimen import OXYCODONE_5, _long_term_fills

import guideline.uds
from guideline.plan.note import note_text


def test_they_are_read_once_per_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    original = guideline.uds.results_of_unknown_status
    calls: list[object] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return original(*args, **kwargs)

    # Every module that bound the function by name, wherever it is asked from.
    for module in list(sys.modules.values()):
        if getattr(module, "results_of_unknown_status", None) is original:
            monkeypatch.setattr(module, "results_of_unknown_status", counted)
    plan = plan_for([patient(), *_long_term_fills(), med_request(OXYCODONE_5), _unknown()])
    assert NAMED in note_text(plan)
    assert len(calls) == 1
