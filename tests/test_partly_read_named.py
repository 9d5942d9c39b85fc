"""A sedative whose name was only partly read ("alprazolam / XYZ-unknown 1 mg") is named even with no opioid on
record: its unread word may be an opioid. A partly read opioid's dose card says why its dose could not be read."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from builders import days_ago, med_request, patient
from cds_support import bundle, full_prefetch, hook_request, make_app, topics
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from smart_app.plan_view import PageInput, assemble, render_page

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
AMOXICILLIN = "308191"  # amoxicillin 500 MG Oral Capsule: an order no opioid check reads
EPIC_MEDICATION = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"  # an Epic site's own medication records (ERX)
BENZO_NAME = "alprazolam / XYZ-unknown 1 mg"
OPIOID_NAME = "oxycodone / Foo 5 mg"
READ = "read as alprazolam; another ingredient in its name was not recognised"
WHY = "its name was only partly read; the ingredient not recognised may be an opioid"


def text_only(name: str) -> dict[str, Any]:
    """A medication known by its text alone, as a free-text or historical order carries it."""
    return {"text": name}


def epic_local(name: str) -> dict[str, Any]:
    """A medication known by an Epic site's own code, with its name as display and text (no RxNorm)."""
    return {"coding": [{"system": EPIC_MEDICATION, "code": "208771", "display": name}], "text": name}


SHAPES = pytest.mark.parametrize("shape", [text_only, epic_local], ids=["text", "epic"])


def ordered(concept: dict[str, Any], *, draft: bool = False, id: str = "mr-alpra") -> dict[str, Any]:
    request = med_request("0", draft=draft, id=id, authored=None if draft else days_ago(5))
    request["medicationCodeableConcept"] = concept
    return request


def answer(tmp_path: Path, hook: str, drafts: list[dict[str, Any]], meds: list[dict[str, Any]]) -> dict[str, Any]:
    """The service's answer to a hook call whose prefetch holds these medication orders (the rest empty)."""
    body = hook_request(hook, drafts=drafts, prefetch=full_prefetch(hook, medsActive=bundle(*meds)))
    response = make_app(tmp_path).test_client().post(f"/cds-services/{hook}", json=body)
    assert response.status_code == 200
    return response.json


def detail_of(response: dict[str, Any], topic: str) -> str | None:
    found = next((c for c in response["cards"] if c["source"]["topic"]["code"] == topic), None)
    return found["detail"] if found else None


@SHAPES
def test_patient_view_names_a_partly_read_benzodiazepine_with_no_opioid_on_record(tmp_path: Path, shape) -> None:
    # Before: no opioid, so no opioid + sedative card, and nothing named the unread word anywhere.
    response = answer(tmp_path, "patient-view", [], [ordered(shape(BENZO_NAME))])
    assert "opioid-benzodiazepine" not in topics(response)
    detail = detail_of(response, "data-incomplete")
    assert detail is not None
    assert f"- {BENZO_NAME} (current order mr-alpra, {READ}): {WHY}" in detail


@SHAPES
def test_signing_the_partly_read_benzodiazepine_itself_names_it(tmp_path: Path, shape) -> None:
    response = answer(tmp_path, "order-sign", [ordered(shape(BENZO_NAME), draft=True, id="draft-alpra")], [])
    detail = detail_of(response, "data-incomplete")
    assert detail is not None and f"- {BENZO_NAME} (draft order draft-alpra, {READ}): {WHY}" in detail


def test_signing_an_opioid_names_it_beside_the_opioid_and_sedative_card(tmp_path: Path) -> None:
    """The opioid + sedative card says it was partly read; the data-incomplete card says the MME total may miss it."""
    drafts = [med_request(OXYCODONE, draft=True, id="draft-oxy")]
    response = answer(tmp_path, "order-sign", drafts, [ordered(epic_local(BENZO_NAME))])
    assert READ in (detail_of(response, "opioid-benzodiazepine") or "")
    assert f"- {BENZO_NAME} (current order mr-alpra, {READ}): {WHY}" in (detail_of(response, "data-incomplete") or "")


def test_signing_an_order_no_opioid_check_reads_does_not_name_it_on_the_card(tmp_path: Path) -> None:
    """Named on every unrelated order it would be noise; the plan page names it."""
    drafts = [med_request(AMOXICILLIN, draft=True, id="draft-amox")]
    response = answer(tmp_path, "order-sign", drafts, [ordered(text_only(BENZO_NAME))])
    assert BENZO_NAME not in (detail_of(response, "data-incomplete") or "")


def test_a_sedative_read_whole_is_not_named(tmp_path: Path) -> None:
    response = answer(tmp_path, "patient-view", [], [ordered(text_only("alprazolam 1 mg tablet"))])
    assert "alprazolam" not in (detail_of(response, "data-incomplete") or "")


@SHAPES
def test_the_plan_page_panel_names_it(tmp_path: Path, shape) -> None:
    app = make_app(tmp_path)
    settings = app.config["PAINPLAN"]
    with app.test_request_context("/plan"):
        view = assemble(
            PageInput((patient(), ordered(shape(BENZO_NAME))), (), ()),
            settings.guideline,
            "p1",
            settings.evaluation_now(),
            MultiDict(),
        )
        page = render_page(view, MultiDict(), lambda **_: "/plan", handle="H")
    panel = re.search(r'<section id="completeness".*?</section>', page, re.S)
    assert panel is not None
    assert "may be an opioid" in panel.group(0)
    item = escape(f"{BENZO_NAME} (current order mr-alpra, {READ})")
    assert f'<ul id="partly-read-sedatives"><li>{item}</li></ul>' in panel.group(0)


@SHAPES
def test_the_dose_card_says_a_partly_read_opioid_had_another_ingredient_not_recognised(tmp_path: Path, shape) -> None:
    # Before: "the product strength is missing or unusable", as if the product had no strength written.
    response = answer(tmp_path, "order-sign", [ordered(shape(OPIOID_NAME), draft=True, id="draft-oxy-foo")], [])
    detail = detail_of(response, "high-mme") or ""
    assert "missing or unusable" not in detail
    assert (
        f"{OPIOID_NAME}: another ingredient in its name was not recognised, so which strength is the opioid's could "
        "not be told and its dose could not be read"
    ) in detail
