"""An opioid left out of the MME total whose reason has no words is said to be not counted, reason not recorded: the
plan page called every such row "buprenorphine", whatever the drug.

The MME module gives every exclusion its reason today (buprenorphine, or methadone for opioid use disorder), so the
page's fallback is reached only by an exclusion whose reason the page has no words for (a reason added to the MME
module's exclusions before its words) or a computation that gives none. The tests make the computation drop the
reason, as such a change would, for a realistic Oracle Health home-medication methadone row."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import responses
from builders import NOW, days_ago, med_request, patient, run
from test_oud_methadone import program_methadone
from test_plan_view import FakeFhir, _app, _open_plan

import guideline.facts
import guideline.mme
from guideline.plan import build_plan

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
NOT_RECORDED = "not counted in MME, reason not recorded"


@pytest.fixture
def no_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    """The MME computation as the page reads it, with each exclusion's reason dropped."""
    real = guideline.mme.compute_mme

    def compute(orders: Any, terms: Any, config: Any) -> Any:
        summary = real(orders, terms, config)
        stripped = tuple(
            replace(o, reason=None, reason_text=None) if o.state == "excluded" else o for o in summary.orders
        )
        return replace(summary, orders=stripped)

    monkeypatch.setattr(guideline.mme, "compute_mme", compute)
    monkeypatch.setattr(guideline.facts, "compute_mme", compute)


def _plan(resources: list[dict]) -> Any:
    evaluation = run("patient-view", resources=resources)
    return build_plan(evaluation, (), evaluation.facts.config, NOW)


@pytest.mark.usefixtures("no_reason")
def test_a_row_left_out_with_no_reason_is_not_called_buprenorphine() -> None:
    oxycodone = med_request(OXYCODONE, id="ox1", authored=days_ago(5), supply_days=10)
    view = _plan([program_methadone(), oxycodone])
    [row] = view.section("medications").content.not_counted
    assert row.name == "methadone hydrochloride 10 MG/ML Oral Solution" and row.mme == "not counted"
    assert row.why == NOT_RECORDED
    line = next(line for line in view.note.split("\n") if line.startswith("- methadone hydrochloride"))
    assert NOT_RECORDED in line and "buprenorphine" not in line, line


@pytest.mark.usefixtures("no_reason")
def test_the_total_and_the_history_say_what_is_known() -> None:
    view = _plan([program_methadone()])
    assert view.section("medications").content.total == "0 MME/day (an opioid with no reason recorded is not counted)"
    history = view.section("mme_history").content
    assert history.buprenorphine_days == 0 and history.oud_methadone_days == 0
    assert history.unexplained_days == 15  # days ago 14 .. today


def test_with_the_reason_given_the_history_counts_it_as_before() -> None:
    history = _plan([program_methadone()]).section("mme_history").content
    assert (history.oud_methadone_days, history.buprenorphine_days, history.unexplained_days) == (15, 0, 0)


@pytest.mark.usefixtures("no_reason")
def test_the_rendered_page_names_no_buprenorphine(tmp_path: Any) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, [patient(), program_methadone()])
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert "Buprenorphine supplied on" not in html and "buprenorphine (not included in MME)" not in html
    assert "An opioid not counted in MME, with no reason recorded, was supplied on 15 days." in html
    assert "0 MME/day (an opioid with no reason recorded is not counted)" in html
