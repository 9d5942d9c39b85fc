"""`painplan mme` on a CDS Hooks request: a prefetch value that is no FHIR resource (a reference written as text, a
list of ids, a number) is listed under "unread" with its key, and the exit status says the report is incomplete.
Before, such a value was skipped without a word: `complete: true`, exit 0, as if the EHR had sent nothing there.
Each value is judged by the hook's reading (`gather.read_prefetch`), with its words: the command and the card name
the same keys. Before, `[]` under an asked key and a Bundle with no type and no entries were read as "nothing"."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from builders import days_ago, med_request
from cds_support import full_prefetch, hook_request, oxycodone_draft
from test_fill_dose_three_faces import medication, oxycodone_order, patient

from cds_hooks.gather import gather
from cds_hooks.request import parse_hook_request
from cds_hooks.services import PREFETCH_LABELS, templates
from guideline.config import GuidelineConfig
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
        ("Bundle/123", "the EHR sent a string, not a FHIR resource"),
        (["MedicationRequest/1"], "the EHR sent a list, not a FHIR resource"),
        (17, "the EHR sent a number, not a FHIR resource"),
        (True, "the EHR sent true, not a FHIR resource"),
        ([], "the EHR sent an empty list, not a FHIR resource"),
        (
            {"resourceType": "Bundle"},
            "the EHR sent a Bundle with no type and no entries, not a search result, so it says nothing of what was "
            "found",
        ),
    ],
)
def test_a_prefetch_value_that_is_no_resource_is_named_and_the_rest_still_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: Any, shown: str
) -> None:
    code, report, err = run(tmp_path, capsys, value)
    assert code == UNREAD_EXIT
    assert report["complete"] is False
    (item,) = report["unread"]
    assert item["why"] == f"the prefetch's 'medsActive': {shown}"
    assert report["current_total_mme"] == 45.0  # the order under medsRecent is still read and counted
    assert "not read" in err


def test_an_empty_prefetch_value_is_no_gap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report, _ = run(tmp_path, capsys, None)  # null: the EHR ran nothing for the key, as CDS Hooks allows
    assert code == 0 and "unread" not in report and report["current_total_mme"] == 45.0


SITE_KEY = "oudMeds"  # a site's own key, which the hook does not ask for
OXYCODONE_10 = med_request("1049683", id="oxy10", authored=days_ago(20), display="oxycodone 10 MG Oral Tablet")
TIMEOUT = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "warning", "code": "timeout", "diagnostics": "The search did not complete."}],
}
VALUES: dict[str, Any] = {
    "empty list": [],
    "typeless empty Bundle": {"resourceType": "Bundle"},
    "empty collection": {"resourceType": "Bundle", "type": "collection"},
    "empty searchset": {"resourceType": "Bundle", "type": "searchset", "total": 0},
    "searchset": {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": OXYCODONE_10}]},
    "OperationOutcome": TIMEOUT,
    "text": "MedicationRequest/123",
    "one order": OXYCODONE_10,
    "list of an order": [OXYCODONE_10],
    "list with a typeless Bundle": [OXYCODONE_10, {"resourceType": "Bundle"}],
}


def _hook_and_command(tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, value: Any):
    """What the hook (offline) names of `key`'s data, and the command's report, for one order-sign request."""
    body = hook_request(drafts=[oxycodone_draft()], prefetch=full_prefetch("order-sign", **{key: value}))
    config = GuidelineConfig.from_mapping()
    request = parse_hook_request(body, "order-sign", allow_http=False)
    data = gather(request, templates("order-sign", config), today=date(2026, 6, 15), budget_seconds=5, network=False)
    label = PREFETCH_LABELS.get(key) or f'data the EHR sent under the prefetch key "{key}"'
    path = tmp_path / f"{key}.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    code = main(["mme", str(path), "--today", "2026-06-15"])
    return data.gaps.get(label), code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("key", ["medsActive", SITE_KEY])
@pytest.mark.parametrize("shape", list(VALUES))
def test_the_command_names_a_prefetch_value_exactly_when_the_card_does(tmp_path, capsys, key, shape) -> None:
    """Under an asked key and a site's own key alike; what the value holds is read either way."""
    named, code, report = _hook_and_command(tmp_path, capsys, key, VALUES[shape])
    prefix = f"the prefetch's {key!r}: "
    said = [item["why"].removeprefix(prefix) for item in report.get("unread", []) if item["why"].startswith(prefix)]
    assert bool(said) == (named is not None)
    assert all(why in named for why in said)  # in the card's words
    assert (code == UNREAD_EXIT) == bool(said)
    holds = "oxy10" in json.dumps(VALUES[shape])
    assert ("oxy10" in {line["id"] for line in report["orders"]}) == holds


def test_an_empty_list_under_a_key_the_hook_did_not_ask_for_is_no_gap(tmp_path, capsys) -> None:
    """It holds no resources, so nothing can be lost there: neither the card nor the command names it."""
    named, code, report = _hook_and_command(tmp_path, capsys, SITE_KEY, [])
    assert named is None and code == 0 and "unread" not in report


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (TIMEOUT, 'the EHR sent an OperationOutcome (warning, timeout: "The search did not complete."), not a search'),
        ({"medication": "oxycodone 80 mg"}, "the EHR sent an object with no resourceType, not a FHIR resource"),
    ],
    ids=["OperationOutcome", "object with no type"],
)
def test_a_value_the_hook_reads_nothing_from_is_named_once_in_the_cards_words(tmp_path, capsys, value, words) -> None:
    """Read as a resource beside the key's line, the record named the one value a second time in other words."""
    _, code, report = _hook_and_command(tmp_path, capsys, "medsActive", value)
    (item,) = report["unread"]
    assert code == UNREAD_EXIT and item["why"].startswith(f"the prefetch's 'medsActive': {words}")


def test_an_object_with_no_type_in_a_list_under_a_site_key_is_named_once(tmp_path, capsys) -> None:
    """Each item of such a list is a value of its own, as the hook reads it: the order read, the object named once."""
    value = [OXYCODONE_10, {"medication": "oxycodone 80 mg"}]
    named, code, report = _hook_and_command(tmp_path, capsys, SITE_KEY, value)
    (item,) = report["unread"]
    assert (
        item["why"] == f"the prefetch's {SITE_KEY!r}: the EHR sent an object with no resourceType, not a FHIR resource"
    )
    assert named is not None and "oxy10" in {line["id"] for line in report["orders"]} and code == UNREAD_EXIT
