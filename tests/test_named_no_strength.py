"""An opioid recognised from its name with no strength ("Percocet", "Talwin Compound", Oracle's free-text
"oxycodone-acetaminophen tab") says what was recognised and what is missing, on the card's "Could not be converted"
line, the plan page's row and `painplan mme` alike; the population review's reason key stays `no-strength`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from builders import days_ago, med_request, patient
from cds_support import bundle, full_prefetch, hook_request, make_app
from fixtures.mme.helpers import dosage, every, mme
from fixtures.mme.helpers import med_request as mme_request
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from smart_app.cli import main
from smart_app.plan_view import PageInput, assemble, render_page

EPIC_MEDICATION = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"  # an Epic site's own medication records (ERX)
MULTUM = "https://fhir.cerner.com/d3a8a5cb-2cb8-4e8a-8bf3-31e2bd4e2f0c/synonym"  # an Oracle site's Multum synonym

CASES = [
    # (concept as the EHR sends it, the name shown, the words)
    (
        {"text": "oxycodone-acetaminophen tab"},  # Oracle free text
        "oxycodone-acetaminophen tab",
        "identified from its name as oxycodone with acetaminophen; no strength written",
    ),
    (
        {"coding": [{"system": EPIC_MEDICATION, "code": "10811", "display": "PERCOCET"}], "text": "PERCOCET"},
        "PERCOCET",
        "identified from its name as oxycodone with acetaminophen; no strength written",
    ),
    (
        {"coding": [{"system": MULTUM, "code": "d03431", "display": "Talwin Compound"}], "text": "Talwin Compound"},
        "Talwin Compound",
        "identified from its name as pentazocine with aspirin; no strength written",
    ),
    (
        # A number, but no strength of the opioid: "5" is no mass.
        {"text": "HYDROcodone-acetaminophen 5 tablet"},
        "HYDROcodone-acetaminophen 5 tablet",
        "identified from its name as hydrocodone with acetaminophen; its name gives no strength of the hydrocodone",
    ),
]
IDS = ["oracle-text", "epic-percocet", "talwin-compound", "number-no-unit"]


def ordered(concept: dict[str, Any], *, draft: bool = False, id: str = "mr-1") -> dict[str, Any]:
    request = med_request("0", draft=draft, id=id, authored=None if draft else days_ago(5))
    request["medicationCodeableConcept"] = concept
    return request


@pytest.mark.parametrize(("concept", "shown", "words"), CASES, ids=IDS)
def test_the_order_says_what_was_recognised_and_what_is_missing(concept: dict, shown: str, words: str) -> None:
    request = mme_request(None, [dosage(1, every(6))])
    request["medicationCodeableConcept"] = concept
    order = mme(request).orders[0]
    # The population review's counts and letters are keyed by the reason: it stays the same.
    assert (order.state, order.reason) == ("unknown", "no-strength")
    assert order.reason_text == words
    assert order.explanation == f"{shown}: {words}"


@pytest.mark.parametrize(("concept", "shown", "words"), CASES, ids=IDS)
def test_the_card_says_it(tmp_path: Path, concept: dict, shown: str, words: str) -> None:
    # Before: "- PERCOCET: the product strength is missing or unusable", as if nothing had been read.
    body = hook_request("order-sign", drafts=[ordered(concept, draft=True, id="draft-1")], prefetch=None)
    body["prefetch"] = full_prefetch("order-sign", medsActive=bundle())
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    card = next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == "high-mme")
    assert "missing or unusable" not in card["detail"]
    assert f"**Could not be converted:**\n- {shown}: {words}" in card["detail"]


def test_the_plan_row_says_it(tmp_path: Path) -> None:
    concept, shown, words = CASES[1]
    app = make_app(tmp_path)
    settings = app.config["PAINPLAN"]
    with app.test_request_context("/plan"):
        view = assemble(
            PageInput((patient(), ordered(concept)), (), ()),
            settings.guideline,
            "p1",
            settings.evaluation_now(),
            MultiDict(),
        )
        page = render_page(view, MultiDict(), lambda **_: "/plan", handle="H")
    assert str(escape(f"{shown}: {words}")) in page
    assert "missing or unusable" not in page
    # The notice above the table names the order once: the MME line begins with its name already.
    notice = str(escape(f"Could not be converted (the total is a lower bound): {shown}: {words}"))
    assert notice in page
    assert str(escape(f"{shown}: {shown}:")) not in page


def test_painplan_mme_says_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    concept, shown, words = CASES[0]
    request = mme_request(None, [dosage(1, every(6))], id="rx-oracle")
    request["medicationCodeableConcept"] = concept
    path = tmp_path / "order.json"
    path.write_text(json.dumps(request), encoding="utf-8")
    assert main(["mme", str(path), "--today", "2026-06-01"]) == 0
    line = json.loads(capsys.readouterr().out)["orders"][0]
    assert (line["status"], line["class"], line["identified_by"]) == ("not-convertible", "opioid-no-mme", "name")
    assert line["explanation"] == f"{shown}: {words}"


def test_a_coded_product_with_no_strength_keeps_the_general_words() -> None:
    """Not read from a name: "the product strength is missing or unusable" still says it."""
    request = mme_request(None, [dosage(1, every(6))])
    request["medicationReference"] = {"reference": "#m1"}
    request["contained"] = [
        {
            "resourceType": "Medication",
            "id": "m1",
            "code": {"text": "PAIN MED"},
            "ingredient": [
                {
                    "itemCodeableConcept": {
                        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "7804"}]
                    },
                    "strength": {"numerator": {"value": 5, "unit": "each"}, "denominator": {"value": 1}},
                }
            ],
        }
    ]
    order = mme(request).orders[0]
    assert (order.reason, order.reason_text) == ("no-strength", "the product strength is missing or unusable")


def percocet_fill(handed_over: str) -> dict[str, Any]:
    """A pharmacy fill named "PERCOCET" only, as a PBM medication history sends one: 60 tablets for 15 days."""
    return {
        "resourceType": "MedicationDispense",
        "id": "fill-percocet",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"text": "PERCOCET"},
        "quantity": {"value": 60, "unit": "tablet", "system": "http://unitsofmeasure.org", "code": "{tbl}"},
        "daysSupply": {"value": 15, "unit": "d", "system": "http://unitsofmeasure.org", "code": "d"},
        "whenHandedOver": handed_over,
    }


def test_a_fill_says_it_too() -> None:
    from guideline.config import GuidelineConfig
    from guideline.fills import fill_mme
    from guideline.record import build_record
    from guideline.terminology import load_terminology
    from tests.builders import TZ

    config = GuidelineConfig.from_mapping({})
    fill = build_record([percocet_fill("2026-06-01")], TZ).dispenses[0]
    result = fill_mme(fill, load_terminology(config), config)
    words = "identified from its name as oxycodone with acetaminophen; no strength written"
    assert (result.state, result.reason, result.reason_text) == ("unknown", "no-strength", words)
    assert result.explanation == f"PERCOCET (filled 2026-06-01): {words}"


def test_the_dose_card_names_the_fill_so(tmp_path: Path) -> None:
    # oxycodone 5 mg, 4 tablets every 4 hours: 180 MME a day, so the dose card lists the fills beside it
    draft = med_request("1049621", draft=True, id="draft-oxy", dose=4, period=4)
    prefetch = full_prefetch("order-sign", dispenses=bundle(percocet_fill(days_ago(3))))
    body = hook_request("order-sign", drafts=[draft], prefetch=prefetch)
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    card = next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == "high-mme")
    assert "PERCOCET: identified from its name as oxycodone with acetaminophen; no strength written" in card["detail"]
    assert "missing or unusable" not in card["detail"]


def test_an_ingredient_list_with_no_usable_strength_is_said_too() -> None:
    """An EHR's own record "PERCOCET" listing "oxycodone hydrochloride" at "5 each": no mass, so no strength."""
    request = mme_request(None, [dosage(1, every(6))])
    request["medicationReference"] = {"reference": "#m1"}
    request["contained"] = [
        {
            "resourceType": "Medication",
            "id": "m1",
            "code": {"text": "PERCOCET"},
            "ingredient": [
                {
                    "itemCodeableConcept": {"text": "oxycodone hydrochloride"},
                    "strength": {"numerator": {"value": 5, "unit": "each"}, "denominator": {"value": 1}},
                }
            ],
        }
    ]
    order = mme(request).orders[0]
    assert (order.reason, order.reason_text) == (
        "no-strength",
        "identified from its name as oxycodone with acetaminophen; no strength written, and its ingredient list "
        "gives none PainPlan can use",
    )
