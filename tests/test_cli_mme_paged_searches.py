"""`painplan mme` and the order-sign card name the same prefetched searches as not all there: a searchset with a `next`
link (only its first page was sent; offline the command reads no more pages than the card does with no FHIR server),
a Bundle.total above the entries returned, and an empty search with a warning OperationOutcome (Epic's 4119). Before,
the command reported the first two as complete and named the third in the record's words, as an error item."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from builders import days_ago, med_request
from cds_support import FHIR, full_prefetch, hook_request, make_app, oxycodone_draft
from test_cds_gather import epic_empty_search

from cds_hooks.services import PREFETCH_LABELS
from smart_app.cli import main
from smart_app.mme_command import UNREAD_EXIT

OXY_PAGE_ONE = med_request("1049683", id="oxy-p1", authored=days_ago(20), display="oxycodone 10 MG Oral Tablet")
OXY_SHORT = med_request("1049683", id="oxy-s1", authored=days_ago(40), display="oxycodone 10 MG Oral Tablet")
# Epic: page one of a longer search, its Bundle.total counting every page, and the link to page two.
PAGED = {
    "resourceType": "Bundle",
    "type": "searchset",
    "total": 2,
    "link": [
        {"relation": "self", "url": f"{FHIR}/MedicationRequest?patient=p1&status=active"},
        {"relation": "next", "url": f"{FHIR}/MedicationRequest?patient=p1&status=active&page=2"},
    ],
    "entry": [{"fullUrl": f"{FHIR}/MedicationRequest/oxy-p1", "resource": OXY_PAGE_ONE, "search": {"mode": "match"}}],
}
SHORT = {
    "resourceType": "Bundle",
    "type": "searchset",
    "total": 3,
    "entry": [{"fullUrl": f"{FHIR}/MedicationRequest/oxy-s1", "resource": OXY_SHORT, "search": {"mode": "match"}}],
}
WITHHELD = epic_empty_search("4119", "Additional data may be present for patient.")
# Each shape under a key the hook asks for, and under a site's own key (read and checked as a search too).
SHAPES = {"medsActive": PAGED, "medsRecent": SHORT, "udsLabs": WITHHELD}
SITE_KEYS = {"sitePaged": PAGED, "siteShort": SHORT, "siteWithheld": WITHHELD}
WORDS = {
    "medsActive": "only its first page was in the prefetch, and the rest was not read",
    "medsRecent": "the FHIR server reported 3 results but returned 1",
    "udsLabs": "the FHIR server returned no results with a warning (the search may not have run)",
    "sitePaged": "only its first page was in the prefetch, and the rest was not read",
    "siteShort": "the FHIR server reported 3 results but returned 1",
    "siteWithheld": "the FHIR server returned no results with a warning (the search may not have run)",
}


def _label(key: str) -> str:
    return PREFETCH_LABELS.get(key) or f'data the EHR sent under the prefetch key "{key}"'


def _card_lines(tmp_path: Path, body: dict[str, Any]) -> dict[str, str]:
    """The order-sign card's data-incomplete lines, by what they name, as the hook answers (no FHIR server named)."""
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200
    detail = next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == "data-incomplete")["detail"]
    lines = [line.removeprefix("- ") for line in detail.splitlines() if line.startswith("- ")]
    return dict(line.split(": ", 1) for line in lines)


def _command(tmp_path: Path, capsys: pytest.CaptureFixture[str], body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    code = main(["mme", str(path), "--today", "2026-06-15"])
    return code, json.loads(capsys.readouterr().out)


def _named_by_command(report: dict[str, Any]) -> dict[str, str]:
    """The prefetch keys the command names under unread, each with its why (the key's prefix taken off)."""
    named = {}
    for item in report.get("unread", []):
        key, _, why = item["why"].removeprefix("the prefetch's '").partition("': ")
        named[key] = why
    return named


@pytest.mark.parametrize("values", [SHAPES, SITE_KEYS], ids=["asked keys", "a site's own keys"])
def test_the_command_names_the_paged_short_and_warned_searches_the_card_names(tmp_path, capsys, values) -> None:
    body = hook_request(drafts=[oxycodone_draft()], prefetch=full_prefetch("order-sign", **values))
    card = _card_lines(tmp_path, body)
    code, report = _command(tmp_path, capsys, body)
    named = _named_by_command(report)
    assert {_label(key) for key in named} == set(card) == {_label(key) for key in values}
    for key, why in named.items():
        assert WORDS[key] in why and WORDS[key] in card[_label(key)]  # in the card's words
    assert len(report["unread"]) == len(values)  # the warning is named once, not again as an error item
    assert code == UNREAD_EXIT and report["complete"] is False and report["current_complete"] is False


def test_what_the_first_page_and_the_short_search_hold_is_still_counted(tmp_path, capsys) -> None:
    body = hook_request(drafts=[oxycodone_draft()], prefetch=full_prefetch("order-sign", **SHAPES))
    _, report = _command(tmp_path, capsys, body)
    assert {"oxy-p1", "oxy-s1"} <= {line["id"] for line in report["orders"]}


def test_epics_no_results_answer_is_no_gap_for_the_command_either(tmp_path, capsys) -> None:
    """Epic's 4101 "Resource request returns no results" is the empty answer itself: the card names nothing, and the
    command no longer names its OperationOutcome as an error item."""
    body = hook_request(drafts=[oxycodone_draft()], prefetch=full_prefetch("order-sign", udsLabs=epic_empty_search()))
    code, report = _command(tmp_path, capsys, body)
    assert code == 0 and "unread" not in report


def test_a_search_with_an_error_in_it_is_named_once_and_counted_as_the_card_counts_it(tmp_path, capsys) -> None:
    """The hook takes nothing from a prefetched search that carries an error OperationOutcome (it asks the FHIR server
    again, or names it): the command names it by its key alone and, as the card's total, leaves its order out."""
    error = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception"}]}
    failed = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": OXY_SHORT}, {"resource": error}]}
    body = hook_request(drafts=[oxycodone_draft()], prefetch=full_prefetch("order-sign", medsActive=failed))
    card = _card_lines(tmp_path, body)
    code, report = _command(tmp_path, capsys, body)
    assert _named_by_command(report) == {"medsActive": "the FHIR server reported an error (OperationOutcome)"}
    assert "the FHIR server reported an error (OperationOutcome)" in card[_label("medsActive")]
    assert "oxy-s1" not in {line["id"] for line in report["orders"]} and code == UNREAD_EXIT
