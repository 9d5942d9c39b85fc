"""Orders whose date was sent but cannot be read ("2026-13-45", "06/15/2026", "2026-06-15T25:00:00Z"). Such a date
reads as none: an active order with no other date counts as current, the safe side for the MME total. It was counted
with nothing said; now each is named with the date as written, on the card, the plan page and the note."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import PATIENT_ID, RXNORM, days_ago, dispense, med_request, observation, run
from cds_support import bundle, full_prefetch, hook_request, make_app

from guideline.checks.unexpected_uds_result import unread_results
from guideline.plan import build_plan

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet: 1 tablet every 6 hours = 30 MME/day
NAME = "oxycodone hydrochloride 5 MG Oral Tablet"


def _named_by_every_face(tmp_path: Path, key: str, resource: dict, kind: str, words: str) -> str:
    """The item of `kind` an order-sign names for `resource` sent under prefetch `key`: on the data-incomplete card
    (holding `words`), and the same on the plan page's list and in its note. Returns the item as the page names it."""
    draft = med_request(OXYCODONE, draft=True, id="draft", supply_days=5)
    prefetch = full_prefetch("order-sign", **{key: bundle(resource)})
    response = (
        make_app(tmp_path)
        .test_client()
        .post("/cds-services/order-sign", json=hook_request(drafts=[draft], prefetch=prefetch))
    )
    incomplete = [c for c in response.json["cards"] if c["source"]["topic"]["code"] == "data-incomplete"]
    assert len(incomplete) == 1 and words in incomplete[0]["detail"]
    evaluation = run("order-sign", drafts=[draft], resources=[resource])
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    (named,) = view.named[kind]
    assert words in named and named in view.note
    return named


def _order(authored: str | None = None, **validity: str) -> dict:
    """An Epic outpatient oxycodone order, 30 days' supply, written on `authored`, with a validity period."""
    order = med_request(OXYCODONE, id="ox1", authored=authored, supply_days=30, display=NAME)
    if validity:
        order["dispenseRequest"]["validityPeriod"] = validity
    return order


@pytest.mark.parametrize("written", ["2026-13-45", "2026-06-15T25:00:00Z", "06/15/2026", "last Tuesday"])
def test_an_active_order_whose_written_date_cannot_be_read_is_counted_and_named(written: str) -> None:
    evaluation = run("patient-view", resources=[_order(written)])
    assert [o.id for o in evaluation.facts.active_orders] == ["ox1"]
    assert evaluation.facts.mme.total == 30
    assert evaluation.facts.unreadable_dates == (
        f"{NAME} (current order ox1, authoredOn '{written}' could not be read as a date)",
    )


def test_an_unreadable_earliest_fill_date_is_named_and_the_day_written_dates_the_supply() -> None:
    evaluation = run("patient-view", resources=[_order(days_ago(3), start="06/20/2026")])
    assert [o.id for o in evaluation.facts.active_orders] == ["ox1"]
    assert evaluation.facts.unreadable_dates == (
        f"{NAME} (current order ox1, dispenseRequest.validityPeriod.start '06/20/2026' could not be read as a date)",
    )


def test_an_order_left_out_by_its_readable_dates_is_named_as_not_counted() -> None:
    # Written 60 days ago, 30 days' supply: ended by what was read, though its unread validity end may say otherwise.
    evaluation = run("patient-view", resources=[_order(days_ago(60), end="2026-13-01")])
    assert evaluation.facts.active_orders == ()
    assert evaluation.facts.unreadable_dates == (
        f"{NAME} (order ox1, dispenseRequest.validityPeriod.end '2026-13-01' could not be read as a date; "
        "not counted as current)",
    )


def test_an_unreadable_instruction_start_is_named() -> None:
    order = _order(days_ago(3))
    order["dosageInstruction"][0]["timing"]["repeat"]["boundsPeriod"] = {"start": "2026-02-30"}
    evaluation = run("patient-view", resources=[order])
    assert evaluation.facts.unreadable_dates == (
        f"{NAME} (current order ox1, boundsPeriod.start '2026-02-30' could not be read as a date)",
    )


def test_orders_with_readable_or_missing_dates_are_not_named() -> None:
    dated, undated = _order(days_ago(3), start=days_ago(3)), _order(None)
    no_end = _order(days_ago(3), end="9999-12-31")  # the sentinel several EHRs send for "no end date"
    for order in (dated, undated, no_end):
        assert run("patient-view", resources=[order]).facts.unreadable_dates == ()


def test_an_order_of_unreadable_date_is_named_on_the_card_the_plan_page_and_the_note(tmp_path: Path) -> None:
    named = f"{NAME} (current order ox1, authoredOn '2026-13-45' could not be read as a date)"
    assert _named_by_every_face(tmp_path, "medsActive", _order("2026-13-45"), "unreadable-dates", named) == named


def test_the_rendered_plan_page_lists_it_in_its_data_completeness_panel(tmp_path: Path) -> None:
    import responses
    from builders import patient
    from test_plan_view import FakeFhir, _app, _open_plan

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, [patient(patient_id="p1"), _order("06/15/2026")])
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert 'id="unreadable-dates"' in html
    assert "(current order ox1, authoredOn &#39;06/15/2026&#39; could not be read as a date)" in html
    assert "had a date PainPlan could not read" in html


def _fill(handed_over: str | None, prepared: str | None = None) -> dict:
    """A pharmacy fill of oxycodone, 30 days' supply, with no order in the chart, dated as the pharmacy wrote it."""
    fill = {**dispense(OXYCODONE, handed_over or "", days_supply=30), "id": "d1", "quantity": {"value": 120}}
    fill["medicationCodeableConcept"]["coding"][0]["display"] = NAME
    if handed_over is None:
        del fill["whenHandedOver"]
    if prepared is not None:
        fill["whenPrepared"] = prepared
    return fill


@pytest.mark.parametrize("written", ["06/10/2026", "2026-06-10T25:00:00Z"])
def test_a_fill_whose_only_date_cannot_be_read_is_named_undated_with_the_date_as_written(written: str) -> None:
    evaluation = run("patient-view", resources=[_fill(written)])
    assert evaluation.facts.current_fills == ()
    assert evaluation.facts.undated_fills == (
        f"{NAME} (fill d1, whenHandedOver '{written}' could not be read as a date)",
    )


def test_a_fill_with_no_date_sent_is_named_as_before() -> None:
    assert run("patient-view", resources=[_fill(None)]).facts.undated_fills == (f"{NAME} (fill d1)",)


def test_a_fill_dated_by_when_prepared_because_when_handed_over_cannot_be_read_is_counted_and_named() -> None:
    evaluation = run("patient-view", resources=[_fill("2026-13-10", prepared=days_ago(5))])
    assert [s.dispense.id for s in evaluation.facts.current_fills] == ["d1"]
    assert evaluation.facts.undated_fills == ()
    assert evaluation.facts.unreadable_dates == (
        f"{NAME} (current fill d1, whenHandedOver '2026-13-10' could not be read as a date; dated by whenPrepared)",
    )


def test_a_fill_of_unreadable_date_is_named_on_the_card_and_the_plan_page(tmp_path: Path) -> None:
    named = f"{NAME} (fill d1, whenHandedOver '06/10/2026' could not be read as a date)"
    assert _named_by_every_face(tmp_path, "dispenses", _fill("06/10/2026"), "undated-fills", named) == named


COCAINE_SCREEN = "14314-9"  # Benzoylecgonine [Presence] in Urine by Screen method


def _drug_test(**dated: str) -> dict:
    """A lab's final cocaine screen, negative, dated as the lab wrote it (no other date)."""
    result = {**observation(COCAINE_SCREEN, value_string="Negative"), "id": "uds1"}
    del result["effectiveDateTime"]
    return {**result, **dated}


@pytest.mark.parametrize(
    ("dated", "written"),
    [
        ({"effectiveDateTime": "2026-13-45"}, "effectiveDateTime '2026-13-45'"),
        ({"effectiveDateTime": "06/01/2026"}, "effectiveDateTime '06/01/2026'"),
        ({"effectivePeriod": {"start": "2026-06-01T25:00:00Z"}}, "effectivePeriod.start '2026-06-01T25:00:00Z'"),
        ({"issued": "yesterday"}, "issued 'yesterday'"),
    ],
)
def test_a_drug_test_whose_date_cannot_be_read_is_named_with_it_as_written(dated: dict, written: str) -> None:
    evaluation = run("patient-view", resources=[_order(days_ago(3)), _drug_test(**dated)])
    (named,) = unread_results(evaluation.facts)
    assert named.endswith(f"({written} could not be read as a date)")


def test_a_drug_test_with_no_date_sent_is_named_undated_as_before() -> None:
    evaluation = run("patient-view", resources=[_order(days_ago(3)), _drug_test()])
    (named,) = unread_results(evaluation.facts)
    assert named.endswith("(undated)")


def test_a_drug_test_of_unreadable_date_is_named_on_the_card_and_the_plan_page(tmp_path: Path) -> None:
    written = "(effectiveDateTime '2026-13-45' could not be read as a date)"
    test = _drug_test(effectiveDateTime="2026-13-45")
    assert _named_by_every_face(tmp_path, "udsLabs", test, "unread-uds", written).endswith(written)


def test_a_draft_whose_earliest_fill_date_cannot_be_read_is_named_as_signed_today() -> None:
    # The second prescription of a staggered series, its "do not fill before" date keyed as the EHR displays it.
    draft = med_request(OXYCODONE, draft=True, id="draft2", supply_days=30, display=NAME)
    draft["dispenseRequest"]["validityPeriod"] = {"start": "07/15/2026"}
    evaluation = run("order-sign", drafts=[draft])
    assert evaluation.facts.unreadable_dates == (
        f"{NAME} (draft order draft2, dispenseRequest.validityPeriod.start '07/15/2026' could not be read as a date)",
    )


def _reported(**dated: str) -> dict:
    """An Epic MedicationStatement: oxycodone the patient reports taking, 1 tablet every 6 hours (30 MME/day)."""
    return {
        "resourceType": "MedicationStatement",
        "id": "ms1",
        "status": "active",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": OXYCODONE, "display": NAME}]},
        "dosage": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}],
            }
        ],
        **dated,
    }


@pytest.mark.parametrize(
    ("dated", "written"),
    [
        ({"effectiveDateTime": "2026-13-45"}, "effectiveDateTime '2026-13-45'"),
        ({"effectivePeriod": {"start": "06/01/2026"}}, "effectivePeriod.start '06/01/2026'"),
        ({"dateAsserted": "2026-06-31"}, "dateAsserted '2026-06-31'"),
    ],
)
def test_a_reported_medication_whose_date_cannot_be_read_is_counted_and_named(dated: dict, written: str) -> None:
    evaluation = run("patient-view", resources=[_reported(**dated)])
    assert evaluation.facts.mme.total == 30
    assert evaluation.facts.unreadable_dates == (
        f"{NAME} (reported medication ms1, {written} could not be read as a date)",
    )


def test_a_reported_medication_with_its_dates_read_is_not_named() -> None:
    evaluation = run("patient-view", resources=[_reported(effectiveDateTime=days_ago(10), dateAsserted=days_ago(2))])
    assert evaluation.facts.unreadable_dates == ()
