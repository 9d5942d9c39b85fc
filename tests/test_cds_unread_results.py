"""The data-incomplete card names a urine drug test result of unknown status as the service answers it."""

from __future__ import annotations

from builders import observation
from cds_support import bundle, data_incomplete_detail


def test_a_drug_test_of_unknown_status_is_named_on_the_data_incomplete_card(tmp_path) -> None:
    # A positive fentanyl of status "unknown" was dropped before any reading: no card and no word on any card.
    result = observation("59673-4", when="2026-06-01T10:00:00Z", value_string="Positive", status="unknown")
    detail = data_incomplete_detail(tmp_path, udsLabs=bundle(result))
    assert "2026-06-01, status unknown" in detail
    assert "of unknown date or status" in detail


# -- the plan page names what the card names -------------------------------------------------------------------

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
COCAINE_SCREEN = "14314-9"


def _unread_results() -> list[dict]:
    """A positive of unknown status, an undated positive and an "Inconclusive" one: none can be judged."""
    from builders import days_ago

    unknown = observation(COCAINE_SCREEN, when=days_ago(20), value_string="Positive", status="unknown")
    undated = observation(COCAINE_SCREEN, value_string="Positive")
    del undated["effectiveDateTime"]
    inconclusive = observation(COCAINE_SCREEN, when=days_ago(40), value_string="Inconclusive")
    return [unknown, undated, inconclusive]


def test_the_plan_view_and_its_note_name_the_results_the_card_names() -> None:
    # The data-incomplete card named each result it could not judge; the plan page's completeness panel did not,
    # so the page's empty "unexpected results" read as "nothing unexpected".
    from builders import days_ago, med_request, run

    from guideline.checks.unexpected_uds_result import unjudged_results, unread_results
    from guideline.plan import build_plan

    current = med_request(OXYCODONE, authored=days_ago(10), supply_days=30)
    evaluation = run("patient-view", resources=[current, *_unread_results()])
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    named = (
        f"urine drug test ({days_ago(40)})",
        "urine drug test (undated)",
        f"urine drug test ({days_ago(20)}, status unknown)",
    )
    assert set(view.named["unread-uds"]) == set(named) and len(view.named["unread-uds"]) == 3
    assert view.named["unread-uds"] == unread_results(evaluation.facts) == unjudged_results(evaluation.facts)
    assert "Urine drug test results not read as positive or negative" in view.note
    assert all(item in view.note for item in named[:2])
    # The result of unknown status is named once, on the tile's line, not again in the list (one name, one place).
    assert f"1 result of unknown status, not counted: urine drug test ({days_ago(20)})." in view.note
    assert view.note.count(f"urine drug test ({days_ago(20)}") == 1


def test_the_plan_view_names_none_where_the_card_would_not() -> None:
    from builders import days_ago, med_request, run

    from guideline.plan import build_plan

    current = med_request(OXYCODONE, authored=days_ago(10), supply_days=30)
    # The check switched off for the hook: the card names nothing, and nor does the page.
    config = {"checks": {"unexpected-uds-result": {"hooks": ["order-sign"]}}}
    evaluation = run("patient-view", resources=[current, *_unread_results()], config=config)
    assert build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now).named["unread-uds"] == ()
    # No current opioid: the check does not apply on patient-view, so neither names anything.
    evaluation = run("patient-view", resources=_unread_results())
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    assert view.named["unread-uds"] == () and "Urine drug test results not read" not in view.note


def test_the_rendered_plan_page_names_a_drug_test_of_unknown_status(tmp_path) -> None:
    import responses
    from builders import med_request, patient
    from test_plan_view import FakeFhir, _app, _open_plan

    current = med_request(OXYCODONE, authored="2026-06-05T09:00:00-04:00", supply_days=30)
    unknown = observation(COCAINE_SCREEN, when="2026-06-01T10:00:00-04:00", value_string="Positive", status="unknown")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, [patient(patient_id="p1"), current, unknown])
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert 'id="unread-uds"' in html
    assert "<li>urine drug test (2026-06-01, status unknown)</li>" in html
    assert "1 urine drug test result of the last 12 months could not be read" in html
