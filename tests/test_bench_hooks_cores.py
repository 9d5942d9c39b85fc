"""The benchmarks' own parts: bench/hooks.py --apart's cores, and the chart bench/engine.py times."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench import hooks


def test_the_last_core_goes_to_the_load_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert hooks.split_cores() == ({0, 1, 2}, {3})


def test_one_core_cannot_be_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {5})
    with pytest.raises(SystemExit, match="at least two cores"):
        hooks.split_cores()


def test_a_pinned_child_runs_only_on_its_cores() -> None:
    core = max(os.sched_getaffinity(0))
    shown = subprocess.run(
        [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"],
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=hooks._pinned({core}),
    ).stdout.strip()
    assert shown == f"[{core}]"
    assert hooks._pinned(None) is None


def test_the_engine_benchmark_times_a_hooks_request_chart():
    # bench/engine.py imported a helper bench/hooks.py no longer has, and stopped halfway through its run.
    from bench import engine

    resources, drafts = engine.hooks_chart()
    assert len(resources) + len(drafts["entry"]) == engine.ORDER_SIGN_SIZE and {
        r["resourceType"] for r in resources
    } >= {
        "Patient",
        "MedicationRequest",
        "MedicationDispense",
        "Observation",
    }
    assert drafts["resourceType"] == "Bundle" and len(drafts["entry"]) == 1
