"""Early refills in the exposure history: a fill made before the last one ran out starts after it, as the current
total reads it, so the days a patient has opioids on hand make long-term therapy (Recommendations 6, 7 and 10)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builders import days_ago, dispense
from cds_support import OXYCODONE_5, bundle, full_prefetch, hook_request, make_app, topics

NCPDP_PHARMACY = "urn:oid:2.16.840.1.113883.3.77"  # an NCPDP provider id, as a Surescripts history names the pharmacy


def surescripts_fill(days: int) -> dict[str, Any]:
    """Oxycodone 5 mg, 120 tablets for 30 days (4 a day, 30 MME/day), from a pharmacy history: no order in the EHR."""
    fill = dispense(OXYCODONE_5, days_ago(days), 30)
    fill["quantity"] = {"value": 120, "unit": "TAB"}
    fill["performer"] = [{"actor": {"identifier": {"system": NCPDP_PHARMACY, "value": "0712345"}}}]
    return fill


def patient_view(tmp_path: Path, fills: list[dict[str, Any]]) -> dict[str, Any]:
    prefetch = full_prefetch("patient-view", dispenses=bundle(*fills))
    client = make_app(tmp_path).test_client()
    return client.post("/cds-services/patient-view", json=hook_request("patient-view", prefetch=prefetch)).json


def test_early_refills_still_make_long_term_therapy(tmp_path: Path) -> None:
    # 90 days of oxycodone handed over in 40 days: queued, the supply runs from 89 days ago through today (the current
    # total counts the last fill as today's supply); merged as overlapping runs it ended 21 days ago, the patient was
    # not on long-term therapy, and patient-view showed no card at all.
    found = topics(patient_view(tmp_path, [surescripts_fill(days) for days in (89, 75, 50)]))
    assert "urine-drug-test" in found
    assert "reassessment-due" in found


def test_refills_on_time_are_unchanged(tmp_path: Path) -> None:
    found = topics(patient_view(tmp_path, [surescripts_fill(days) for days in (89, 59, 29)]))
    assert "urine-drug-test" in found and "reassessment-due" in found


def test_fills_that_ran_out_long_ago_are_not_long_term_therapy(tmp_path: Path) -> None:
    # Queued supply of fills 150 and 140 days ago ends 91 days ago: no opioid in the last 90 days.
    assert topics(patient_view(tmp_path, [surescripts_fill(days) for days in (150, 140)])) == []
