"""`painplan mme` on a CDS Hooks request: a prefetch value that is no FHIR resource (a reference written as text, a
list of ids, a number) is listed under "unread" with its key, and the exit status says the report is incomplete.
Before, such a value was skipped without a word: `complete: true`, exit 0, as if the EHR had sent nothing there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_fill_dose_three_faces import medication, oxycodone_order, patient

from smart_app.cli import main
from smart_app.mme_command import UNREAD_EXIT


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], meds_active: Any) -> tuple[int, dict[str, Any], str]:
    request = {
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "hook": "patient-view",
        "context": {"userId": "Practitioner/example", "patientId": patient()["id"]},
        "prefetch": {
            "patient": patient(),
            "medsActive": meds_active,
            "medsRecent": {
                "resourceType": "Bundle",
                "type": "searchset",
                "entry": [{"resource": r} for r in (medication(), oxycodone_order())],
            },
        },
    }
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request), encoding="utf-8")
    code = main(["mme", str(path), "--today", "2026-06-15"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("Bundle/123", "is no FHIR resource (a text)"),
        (["MedicationRequest/1"], "is a list with 1 item that is no FHIR resource (a text)"),
        (17, "is no FHIR resource (a number)"),
        (True, "is no FHIR resource (a true/false value)"),
    ],
)
def test_a_prefetch_value_that_is_no_resource_is_named_and_the_rest_still_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: Any, shown: str
) -> None:
    code, report, err = run(tmp_path, capsys, value)
    assert code == UNREAD_EXIT
    assert report["complete"] is False
    (item,) = report["unread"]
    assert item["why"] == f"the prefetch's 'medsActive' {shown}, so it was not read"
    assert report["current_total_mme"] == 45.0  # the order under medsRecent is still read and counted
    assert "not read" in err


def test_an_empty_prefetch_value_is_no_gap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report, _ = run(tmp_path, capsys, None)  # null: the EHR ran nothing for the key, as CDS Hooks allows
    assert code == 0 and "unread" not in report and report["current_total_mme"] == 45.0
