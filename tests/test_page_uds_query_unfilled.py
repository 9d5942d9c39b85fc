"""The site's own urine drug test search (`prefetch.uds_query`) that cannot be filled in when the page runs is named on
the data-completeness panel, and the tiles resting on it say "not known": the page searched the laboratory category
instead without a word, so a site whose tests sit elsewhere read "None on record" for a test it never searched."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import responses
from test_plan import rich_patient
from test_plan_view import FakeFhir, _app, _open_plan

from guideline.config import GuidelineConfig

TODAY = date(2026, 6, 15)
# A site whose drug screens are resulted under its own codes, searched by code over 13 months (as the hooks do).
SITE_SEARCH = (
    "Observation?patient={{context.patientId}}&code=http://loinc.org|19295-5,http://loinc.org|3349-8"
    "&date=ge{{today() - 13 months}}"
)
UDS_CODES = ("14314-9", "10998-3")


def _config() -> GuidelineConfig:
    return GuidelineConfig.from_mapping({"prefetch": {"uds_query": SITE_SEARCH}})


def _no_drug_tests() -> list[dict[str, Any]]:
    """Long-term oxycodone with no urine drug test among the laboratory results."""
    return [
        r
        for r in rich_patient()
        if not (r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] in UDS_CODES)
    ]


def test_a_site_search_that_cannot_be_filled_in_for_the_patient_is_named() -> None:
    from smart_app.plan_view import plan_queries, site_uds_search

    # "." is a FHIR id the launch accepts but no path segment: the template cannot be filled with it.
    search, problem = site_uds_search(".", TODAY, _config())
    assert search is None
    assert problem is not None and "prefetch.uds_query" in problem and "laboratory" in problem
    assert "category=laboratory" in plan_queries(".", TODAY, _config())["labs"]
    # Filled in, nothing is named.
    search, problem = site_uds_search("p1", TODAY, _config())
    assert search is not None and search.startswith("Observation?patient=p1&code=") and problem is None
    assert site_uds_search("p1", TODAY, GuidelineConfig.from_mapping()) == (None, None)


def test_the_page_names_the_site_search_it_could_not_run(tmp_path, monkeypatch) -> None:
    import smart_app.plan_view as plan_view

    monkeypatch.setattr(plan_view, "render", lambda *_: None)  # the template could not be filled at run time
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fhir = FakeFhir(rsps, _no_drug_tests())
        html = _open_plan(_app(tmp_path, guideline={"prefetch": {"uds_query": SITE_SEARCH}})).get_data(as_text=True)
    # The laboratory results were still searched (everything else is still evaluated)...
    assert any("category=laboratory" in url for url, _ in fhir.requests)
    # ...and the site's search is named as not read on the data-completeness panel.
    panel = re.search(r'<section id="completeness".*?</section>', html, re.S).group(0)
    row = re.search(r"<tr class=\"failed\"><td>Urine drug test results \(this site&#39;s search\)</td>.*?</tr>", panel)
    assert row is not None, panel
    assert "prefetch.uds_query" in row.group(0)
    # The urine drug test tile does not say "None on record" of a search that was not run.
    tile = re.search(r'<li class="task state-([a-z-]+)" data-task="uds">(.*?)</li>', html, re.S)
    assert tile.group(1) == "not-read", tile.group(0)
    assert "None on record" not in tile.group(2)


def test_the_page_names_nothing_when_the_site_search_runs(tmp_path) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fhir = FakeFhir(rsps, _no_drug_tests())
        html = _open_plan(_app(tmp_path, guideline={"prefetch": {"uds_query": SITE_SEARCH}})).get_data(as_text=True)
    assert not any("category=laboratory" in url for url, _ in fhir.requests)
    assert any("code=http" in url and "19295-5" in url for url, _ in fhir.requests)
    tile = re.search(r'<li class="task state-([a-z-]+)" data-task="uds">', html)
    assert tile.group(1) == "never"
