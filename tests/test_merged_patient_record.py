"""A Patient the EHR retired in a merge (`link` replaced-by, or refer: its data on another record) is named on the
data-incomplete card and the plan page; every check still runs on what was read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import patient
from cds_support import full_prefetch, hook_request, make_app, oxycodone_draft, topics

MERGED = (
    "This patient record was replaced by Patient/p9 (merged): its medications and results may be recorded there, "
    "so checks here may be incomplete"
)


def _linked(kind: str, active: bool = False) -> dict[str, Any]:
    """The Patient as an MPI merge leaves it: inactive, linking to the record that replaced it."""
    merged = patient()
    merged["active"] = active
    merged["link"] = [{"other": {"reference": "Patient/p9"}, "type": kind}]
    return merged


def _cards(tmp_path: Path, hook: str, resource: dict[str, Any]) -> list[dict[str, Any]]:
    drafts = [oxycodone_draft()] if hook == "order-sign" else []
    body = hook_request(hook, drafts=drafts, prefetch=full_prefetch(hook, patient=resource))
    response = make_app(tmp_path).test_client().post(f"/cds-services/{hook}", json=body)
    assert response.status_code == 200
    return response.json["cards"]


@pytest.mark.parametrize("hook", ["patient-view", "order-sign"])
def test_a_patient_record_replaced_by_another_is_named_on_the_card(tmp_path: Path, hook: str) -> None:
    cards = _cards(tmp_path, hook, _linked("replaced-by"))
    incomplete = next(c for c in cards if c["source"]["topic"]["code"] == "data-incomplete")
    assert f"- {MERGED}\n" in incomplete["detail"] + "\n", incomplete["detail"]


def test_a_record_that_refers_to_the_main_one_is_named(tmp_path: Path) -> None:
    cards = _cards(tmp_path, "patient-view", _linked("refer", active=True))
    incomplete = next(c for c in cards if c["source"]["topic"]["code"] == "data-incomplete")
    assert "This patient record refers to Patient/p9 (its main record)" in incomplete["detail"]


@pytest.mark.parametrize("kind", ["replaces", "seealso"])
def test_a_record_that_replaced_or_only_mentions_another_is_not_named(tmp_path: Path, kind: str) -> None:
    # The surviving record of a merge (replaces) and a mere cross-reference (seealso) are the chart to read.
    assert "data-incomplete" not in topics({"cards": _cards(tmp_path, "patient-view", _linked(kind, active=True))})


def test_the_other_checks_still_run_on_a_merged_record(tmp_path: Path) -> None:
    cards = _cards(tmp_path, "order-sign", _linked("replaced-by"))
    plain = _cards(tmp_path / "plain", "order-sign", patient())
    assert set(topics({"cards": plain})) <= set(topics({"cards": cards}))
