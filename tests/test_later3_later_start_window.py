"""The window in which the opioid + benzodiazepine check reads a signed prescription that starts later as current is
a site setting (`checks.opioid-benzodiazepine.later_start_co_prescribing_days`, 30 by default), validated at start-up
like every other day count."""

from __future__ import annotations

import json
from typing import Any

import pytest
from builders import card, run
from cds_support import hook_request, oxycodone_draft
from test_later_start_co_prescribing import lorazepam_draft, opioid_from
from test_staggered_prescriptions import day, medication

from guideline.checks.opioid_benzodiazepine import CHECK_ID
from guideline.config import ConfigError, GuidelineConfig
from smart_app.cli import main

KEY = "checks.opioid-benzodiazepine.later_start_co_prescribing_days"


def window(days: Any) -> dict[str, Any]:
    return {"checks": {"opioid-benzodiazepine": {"later_start_co_prescribing_days": days}}}


def test_the_default_window_is_30_days() -> None:
    assert GuidelineConfig.from_mapping().check(CHECK_ID)["later_start_co_prescribing_days"] == 30


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (-7, f"{KEY} must not be negative, not -7"),
        (0, f"{KEY} must be a positive whole number, not 0"),
        (14.5, f"{KEY} must be a positive whole number, not 14.5"),
        ("two weeks", f"{KEY} must be a number, not 'two weeks'"),
        (True, f"{KEY} must be a number, not True"),
        (3650, f"{KEY} must be at most 90"),
        (91, f"{KEY} must be at most 90"),
    ],
)
def test_a_bad_window_names_its_key(value: Any, named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace("(", r"\(").replace(")", r"\)")):
        GuidelineConfig.from_mapping(window(value))


def test_the_longest_window_allowed_loads() -> None:
    assert GuidelineConfig.from_mapping(window(90)).check(CHECK_ID)["later_start_co_prescribing_days"] == 90


def test_a_bad_window_stops_the_command_with_exit_2(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PAINPLAN_INSTANCE_PATH", str(tmp_path))
    config = tmp_path / "painplan.toml"
    config.write_text("[guideline.checks.opioid-benzodiazepine]\nlater_start_co_prescribing_days = 365\n")
    request = tmp_path / "request.json"
    request.write_text(json.dumps(hook_request(drafts=[oxycodone_draft()])))
    assert main(["check", "--config", str(config), str(request)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"{KEY} must be at most 90, not 365" in err


def test_a_site_window_of_14_days_changes_what_fires() -> None:
    # Default 30: an opioid starting in 20 days pairs with the benzodiazepine signed today.
    resources = [medication(), opioid_from(20)]
    assert card(run("order-sign", drafts=[lorazepam_draft()], resources=resources), CHECK_ID) is not None
    # A site's 14: 20 days ahead is no pair; 14 days ahead still is, and the card says 14.
    config = window(14)
    assert card(run("order-sign", drafts=[lorazepam_draft()], resources=resources, config=config), CHECK_ID) is None
    found = card(
        run("order-sign", drafts=[lorazepam_draft()], resources=[medication(), opioid_from(14)], config=config),
        CHECK_ID,
    )
    assert found is not None
    assert f"oxyCODONE 10 mg tablet (starts on {day(14)})" in found.summary
    assert "signed prescriptions that start within the next 14 days" in found.detail
    assert "next 30 days" not in found.detail


def test_patient_view_reads_the_same_window() -> None:
    # Patient-view names a planned pair within the site's window too (tests/test_later4_patient_view_later_sedative.py).
    resources = [medication(), opioid_from(7), lorazepam_draft() | {"status": "active", "intent": "order"}]
    assert card(run("patient-view", resources=resources, config=window(90)), CHECK_ID) is not None
    assert card(run("patient-view", resources=resources, config=window(5)), CHECK_ID) is None
