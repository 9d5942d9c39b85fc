"""Plan building blocks: DSM-5 OUD scoring, inline SVG charts, snoozed cards shown with their reason."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from builders import NOW, PATIENT_ID, patient, run

from guideline.cards import Card, Snooze
from guideline.engine import Evaluation
from guideline.oud_criteria import CRITERIA, assess, severity_for
from guideline.plan import build_alerts
from smart_app.svg_charts import ReferenceLine, Series, line_chart


@pytest.mark.parametrize(
    ("count", "severity"),
    [
        (0, "none"),
        (1, "none"),
        (2, "mild"),
        (3, "mild"),
        (4, "moderate"),
        (5, "moderate"),
        (6, "severe"),
        (11, "severe"),
    ],
)
def test_dsm5_severity_bands(count: int, severity: str) -> None:
    assert severity_for(count) == severity


def test_tolerance_and_withdrawal_count_only_without_medical_supervision() -> None:
    keys = ["tolerance", "withdrawal", "craving"]
    assert assess(keys).counted == 1 and assess(keys).severity == "none"
    unsupervised = assess(keys, supervised=False)
    assert unsupervised.counted == 3 and unsupervised.severity == "mild"
    assert unsupervised.label == "3 of 11 criteria: mild opioid use disorder criteria met"


def test_unknown_checklist_keys_are_ignored() -> None:
    assessment = assess(["craving", "<script>", "craving"])
    assert assessment.checked == frozenset({"craving"}) and assessment.counted == 1
    assert len(CRITERIA) == 11 and len({c.key for c in CRITERIA}) == 11


def test_chart_is_accessible_and_draws_reference_lines() -> None:
    start, end = date(2025, 6, 15), date(2026, 6, 15)
    svg = str(
        line_chart(
            "c1",
            "Daily MME",
            "Peak 60 & rising",
            start,
            end,
            [
                Series(
                    "MME",
                    ((start, Decimal("0")), (end - timedelta(days=20), Decimal("60")), (end, Decimal("60"))),
                    step=True,
                )
            ],
            [ReferenceLine(50, "50 MME/day"), ReferenceLine(90, "90 MME/day", "ref-critical")],
            "MME/day",
        )
    )
    assert svg.startswith('<svg class="chart" id="c1"') and 'role="img"' in svg
    assert '<title id="c1-title">Daily MME</title>' in svg and "Peak 60 &amp; rising" in svg
    assert "50 MME/day" in svg and "90 MME/day" in svg and 'class="ref-critical"' in svg
    assert svg.count("<polyline") == 1
    # A step line holds each value until the next change: 2 corner points per change after the first.
    points = svg.split('points="')[1].split('"')[0].split()
    assert len(points) == 5


def test_chart_escapes_text_and_handles_no_points() -> None:
    svg = str(line_chart("c2", "<b>x</b>", "d", date(2026, 1, 1), date(2026, 6, 1), [Series("none", ())]))
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "<polyline" not in svg


def test_snoozed_cards_are_listed_with_date_and_reason() -> None:
    until = NOW + timedelta(days=80)
    snooze = Snooze("urine-drug-test", PATIENT_ID, until, "info", reason="uds-done-elsewhere")
    base = run("patient-view", resources=[patient()], snoozes=[snooze])
    card = Card("urine-drug-test", "info", "No urine drug test in the last 12 months", "detail")
    alerts = build_alerts(Evaluation(cards=(), snoozed=(card,), facts=base.facts))
    assert alerts.snoozed == ((card, f"snoozed until {until.date().isoformat()} (uds-done-elsewhere)"),)
    assert alerts.cards == ()


@pytest.mark.parametrize(
    ("search", "sections"),
    [
        # what patients report taking counts in the total, the risks and what explains a urine test result
        ("statements", {"medications", "mme_history", "risks", "uds", "oud"}),
        # doses given in clinic are OUD treatment and explain a positive urine test
        ("administrations", {"uds", "oud"}),
    ],
)
def test_a_failed_optional_search_is_noted_in_every_section_it_feeds(search: str, sections: set[str]) -> None:
    """Before, a failed search of medication statements or administrations was named on the completeness panel
    only: the OUD section said no medication for OUD was on record with no word that the doses given were unread."""
    from guideline.plan import QueryStatus, build_plan
    from tests.builders import NOW, med_request, run

    evaluation = run("patient-view", resources=[med_request("1049621", supply_days=30)])
    failed = QueryStatus(search, f"The {search} search", f"{search}?patient=p", 0, False, "HTTP 500")
    view = build_plan(evaluation, (failed,), evaluation.facts.config, NOW)
    noted = {
        s.key for s in view.sections if any(n.startswith(f"The {search} search could not be read") for n in s.notices)
    }
    assert sections <= noted


@pytest.mark.parametrize("sections", [{"medications", "mme_history", "risks", "alerts"}])
def test_a_failed_dispense_search_is_noted_in_the_sections_that_count_fills(sections: set[str]) -> None:
    """The current opioids and their MME, the MME history and the higher-dose risk all count pharmacy fills that no
    order stands for, and the alerts come from checks that read them: with the dispense search failed, the current
    opioids said "0 MME/day (no current opioid orders or fills)" with no word beside it that no fill was read."""
    from guideline.plan import QueryStatus, build_plan
    from tests.builders import NOW, run

    evaluation = run("patient-view", resources=[])
    failed = QueryStatus("dispenses", "Pharmacy dispenses", "MedicationDispense?patient=p", 0, False, "HTTP 500")
    view = build_plan(evaluation, (failed,), evaluation.facts.config, NOW)
    noted = {
        s.key for s in view.sections if any(n.startswith("Pharmacy dispenses could not be read") for n in s.notices)
    }
    assert sections <= noted
