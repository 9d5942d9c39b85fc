"""The plan page searches laboratory results over the months the urine drug test card reads (its `lookback_months`,
and a month more), not a fixed 13: a site reading 24 months had the card quiet on a screen 18 months old and the page
saying none was on record."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses
from builders import med_request, observation, patient
from test_plan_view import FakeFhir, _app, _open_plan

from guideline.checks.urine_drug_test import CHECK_ID as UDS_CHECK
from guideline.config import GuidelineConfig

TODAY = date(2026, 6, 15)
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
TWO_YEARS = {"checks": {UDS_CHECK: {"lookback_months": 24}}}


class DatedFhir(FakeFhir):
    """The EHR's server as it answers an Observation search by `code` and `date=geYYYY-MM-DD`: only the results of
    those codes (the base class answers every one), and none before the date."""

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        status, headers, body = super()._answer(request)
        url = urlsplit(request.url)
        params = parse_qs(url.query)
        if status != 200 or not url.path.endswith("/Observation"):
            return status, headers, body
        since = [v[2:] for v in params.get("date", []) if v.startswith("ge")]
        codes = {item.rsplit("|", 1)[-1] for item in params.get("code", [""])[0].split(",") if item}

        def kept(resource: dict[str, Any]) -> bool:
            coded = {c.get("code") for c in resource["code"].get("coding", [])}
            day = resource.get("effectiveDateTime", "")[:10]
            return (not codes or bool(coded & codes)) and (not since or day >= since[0])

        bundle = json.loads(body)
        bundle["entry"] = [e for e in bundle["entry"] if kept(e["resource"])]
        return status, headers, json.dumps(bundle)


def _long_term_with_an_old_screen() -> list[dict[str, Any]]:
    """Oxycodone every month for over a year and an oxycodone-positive urine screen 18 months ago."""
    return [
        patient(patient_id="p1"),
        med_request(OXYCODONE, id="oxy", authored="2025-12-15T10:00:00-05:00", supply_days=30, refills=11),
        observation("16250-3", when="2024-12-10T09:30:00-05:00", value_string="Positive"),  # oxycodone screen
    ]


def _lab_since(config: GuidelineConfig | None) -> str:
    from smart_app.plan_view import plan_queries

    query = plan_queries("p1", TODAY, config)["labs"]
    return re.search(r"date=ge([0-9-]+)", query).group(1)


def test_the_lab_search_follows_the_urine_drug_test_window() -> None:
    assert _lab_since(GuidelineConfig.from_mapping()) == "2025-05-15"  # 13 months, as before
    assert _lab_since(None) == "2025-05-15"
    assert _lab_since(GuidelineConfig.from_mapping(TWO_YEARS)) == "2024-05-15"  # 24 months and one more


def test_the_page_counts_the_screen_the_card_counts(tmp_path: Any) -> None:
    from cds_support import hook_request, make_app

    resources = _long_term_with_an_old_screen()
    prefetch = {
        "patient": resources[0],
        "medsActive": {"resourceType": "Bundle", "entry": [{"resource": resources[1]}]},
        "medsRecent": {"resourceType": "Bundle", "entry": [{"resource": resources[1]}]},
        "udsLabs": {"resourceType": "Bundle", "entry": [{"resource": resources[2]}]},
    }
    card = make_app(tmp_path / "hook", guideline=TWO_YEARS).test_client()
    answer = card.post("/cds-services/patient-view", json=hook_request("patient-view", prefetch=prefetch)).get_json()
    assert UDS_CHECK not in [c["source"]["topic"]["code"] for c in answer["cards"]]  # the card counts the screen
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        DatedFhir(rsps, resources)
        html = _open_plan(_app(tmp_path, guideline=TWO_YEARS)).get_data(as_text=True)
    tile = re.search(r'<li class="task state-([a-z-]+)" data-task="uds">.*?</li>', html, re.S)
    assert tile and tile.group(1) == "done", tile.group(0) if tile else html
    assert "Last: 2024-12-10" in tile.group(0)
    assert "Laboratory results (25 months)" in html
    assert "No urine drug test results in the past" not in html
