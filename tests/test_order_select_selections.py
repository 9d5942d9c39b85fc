"""order-select: which drafts `selections` names. A selection that names no draft (a draft sent with only a Bundle
fullUrl, a selection written another way, a typo) or none at all must never answer "no cards": every draft of the
call is then judged and the selection that matched nothing is named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import days_ago, med_request
from cds_support import bundle, full_prefetch, hook_request, make_app

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
ALPRAZOLAM = "308048"  # alprazolam 1 MG Oral Tablet
DRAFT_URL = "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"


def _oxycodone_draft(with_id: bool = True) -> dict[str, Any]:
    """Oxycodone 5 mg, 2 tablets every 4 hours (60 mg/day, 90 MME/day), 5 days."""
    draft = med_request(OXYCODONE, id="d1", draft=True, dose=2, period=4, supply_days=5)
    if not with_id:
        del draft["id"]
    return draft


def _call(tmp_path: Path, drafts_bundle: dict[str, Any], selections: list[str] | None) -> list[dict[str, Any]]:
    """The cards of an order-select call with an active alprazolam order on the chart."""
    alprazolam = med_request(ALPRAZOLAM, id="bz", authored=days_ago(14), period=1, period_unit="d")
    body = hook_request("order-select", prefetch=full_prefetch("order-select", medsActive=bundle(alprazolam)))
    body["context"]["draftOrders"] = drafts_bundle
    if selections is None:
        body["context"].pop("selections", None)
    else:
        body["context"]["selections"] = selections
    response = make_app(tmp_path).test_client().post("/cds-services/order-select", json=body)
    assert response.status_code == 200
    return response.json["cards"]


def _topics(cards: list[dict[str, Any]]) -> set[str]:
    return {c["source"]["topic"]["code"] for c in cards}


def _incomplete(cards: list[dict[str, Any]]) -> str:
    return next((c["detail"] for c in cards if c["source"]["topic"]["code"] == "data-incomplete"), "")


def _collection(draft: dict[str, Any]) -> dict[str, Any]:
    """Epic and Oracle send draftOrders as a collection Bundle; a draft not yet saved may have a fullUrl only."""
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": DRAFT_URL, "resource": draft}]}


@pytest.mark.parametrize("selection", [DRAFT_URL, f"MedicationRequest/{DRAFT_URL}"])
def test_a_draft_with_only_a_full_url_is_selected_by_it(tmp_path: Path, selection: str) -> None:
    cards = _call(tmp_path, _collection(_oxycodone_draft(with_id=False)), [selection])
    assert {"high-mme", "opioid-benzodiazepine"} <= _topics(cards)
    assert DRAFT_URL not in _incomplete(cards)  # it matched: nothing to name


def test_a_selection_naming_the_draft_by_type_and_id_still_selects_only_it(tmp_path: Path) -> None:
    other = med_request("310965", id="d2", draft=True)  # ibuprofen 200 mg, drafted in the same session
    drafts = {"resourceType": "Bundle", "entry": [{"resource": _oxycodone_draft()}, {"resource": other}]}
    cards = _call(tmp_path, drafts, ["MedicationRequest/d2"])
    # Ibuprofen alone is selected: the oxycodone draft is no trigger of its own, and nothing is named.
    assert not {"high-mme", "opioid-benzodiazepine"} & _topics(cards)
    assert "selected order" not in _incomplete(cards)


@pytest.mark.parametrize(
    "selections", [["MedicationRequest/D1-typo"], ["MedicationRequest/d1", "MedicationRequest/x9"]]
)
def test_a_selection_that_names_no_draft_judges_every_draft_and_is_named(tmp_path: Path, selections: list[str]) -> None:
    cards = _call(tmp_path, bundle(_oxycodone_draft()), selections)
    assert {"high-mme", "opioid-benzodiazepine"} <= _topics(cards)
    unmatched = selections[-1]
    assert f'- selected order "{unmatched}": matches no draft order of this call' in _incomplete(cards)


@pytest.mark.parametrize("selections", [[], None])
def test_no_selection_judges_every_draft_and_says_so(tmp_path: Path, selections: list[str] | None) -> None:
    cards = _call(tmp_path, _collection(_oxycodone_draft(with_id=False)), selections)
    assert {"high-mme", "opioid-benzodiazepine"} <= _topics(cards)
    assert "- selected order (none named): matches no draft order of this call" in _incomplete(cards)


def test_a_selection_naming_a_draft_of_another_kind_is_matched(tmp_path: Path) -> None:
    # A urine drug screen drafted beside the oxycodone and selected: a draft of the call, so nothing is named and
    # the oxycodone is not judged as selected.
    screen = {
        "resourceType": "ServiceRequest",
        "id": "sr1",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "19295-5"}]},
    }
    drafts = {"resourceType": "Bundle", "entry": [{"resource": _oxycodone_draft()}, {"resource": screen}]}
    cards = _call(tmp_path, drafts, ["ServiceRequest/sr1"])
    assert "high-mme" not in _topics(cards)
    assert "selected order" not in _incomplete(cards)


@pytest.mark.parametrize(
    "selection",
    [
        "https://ehr.example.org/fhir/MedicationRequest/d2",
        "https://ehr.example.org/fhir/MedicationRequest/d2/_history/3",
    ],
)
def test_a_selection_naming_the_draft_by_its_url_versioned_or_not_selects_only_it(
    tmp_path: Path, selection: str
) -> None:
    other = med_request("310965", id="d2", draft=True)
    drafts = {"resourceType": "Bundle", "entry": [{"resource": _oxycodone_draft()}, {"resource": other}]}
    cards = _call(tmp_path, drafts, [selection])
    assert not {"high-mme", "opioid-benzodiazepine"} & _topics(cards)
    assert "selected order" not in _incomplete(cards)
