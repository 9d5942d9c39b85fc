"""A pharmacy fill with no `authorizingPrescription` is one supply with the current order of the same drug however
each is identified (docs/clinical-logic.md, "One supply, never two"): an order coded by RxNorm (oxycodone 5 mg tablet,
1049621) and its fill known by name (an Oracle Health free-text dispense, or an NDC with the pharmacy's drug name), or
the reverse, were counted twice: 60 MME/day for a patient taking 30, and a false high-dose card. Fills of another form
or release at the same strength are still a second supply."""

from __future__ import annotations

import pytest
from fillmatch_support import NDC, coded, dosage, every, fill, hook_cards, mme_report, named, order, qty

OXY_5_ORDER = order(coded("1049621"), [dosage(qty(1), every(6))], authored="2026-06-05")  # 30 MME/day, 30 days

FILLS_BY_NAME = {
    "free text": named("oxycodone HCl 5 mg tablet"),
    "NDC with the pharmacy's name": {
        "coding": [{"system": NDC, "code": "00406-0552-01", "display": "OXYCODONE HCL 5 MG TABLET"}]
    },
}


@pytest.mark.parametrize("how", list(FILLS_BY_NAME))
def test_a_fill_of_a_current_coded_order_known_by_name_is_counted_once(how, tmp_path, capsys):
    its_fill = fill(FILLS_BY_NAME[how], handed_over="2026-06-06", days=30, quantity=qty(120))
    report = mme_report(tmp_path, capsys, OXY_5_ORDER, its_fill)
    assert report["current_total_mme"] == 30.0  # was 60.0: the order and its own fill both counted


def test_a_coded_fill_of_an_order_known_by_name_is_counted_once(tmp_path, capsys):
    by_name = order(named("oxycodone 5 mg tablet"), [dosage(qty(1), every(6))], authored="2026-06-05")
    its_fill = fill(coded("1049621"), handed_over="2026-06-06", days=30, quantity=qty(120))
    assert mme_report(tmp_path, capsys, by_name, its_fill)["current_total_mme"] == 30.0  # was 60.0


def test_control_a_coded_fill_of_a_coded_order_is_counted_once(tmp_path, capsys):
    """Passes today: the same pair identified the same way is one supply."""
    its_fill = fill(coded("1049621"), handed_over="2026-06-06", days=30, quantity=qty(120))
    assert mme_report(tmp_path, capsys, OXY_5_ORDER, its_fill)["current_total_mme"] == 30.0


def test_patient_view_gives_no_high_dose_card_for_30_mme_counted_twice(tmp_path):
    its_fill = fill(named("oxycodone HCl 5 mg tablet"), handed_over="2026-06-06", days=30, quantity=qty(120))
    cards = hook_cards(tmp_path, "patient-view", [OXY_5_ORDER, its_fill])
    # Before: "Current opioid dose 60.0 MME/day — overdose risk rises with dose; use the lowest effective dose".
    assert "high-mme" not in cards, cards["high-mme"]["summary"]


def test_a_fill_by_name_of_another_form_is_a_second_supply(tmp_path, capsys):
    """The order is a 5 mg tablet, the fill a 5 mg capsule: not the same form, so not the order's own fill."""
    capsules = fill(named("oxyCODONE HCl 5 MG capsule"), handed_over="2026-06-06", days=30, quantity=qty(120, "{cap}"))
    assert mme_report(tmp_path, capsys, OXY_5_ORDER, capsules)["current_total_mme"] == 60.0


def test_an_immediate_release_fill_by_name_beside_an_extended_release_order_adds(tmp_path, capsys):
    """OxyContin 10 mg q12h (coded, 30 MME/day) and oxycodone 10 mg immediate-release tablets 4 a day (by name,
    60 MME/day): the same strength, not the same drug; both are taken."""
    er_order = order(coded("1049502"), [dosage(qty(1), every(12))], authored="2026-06-05")
    ir_fill = fill(named("oxyCODONE HCl 10 MG tablet"), handed_over="2026-06-06", days=30, quantity=qty(120))
    assert mme_report(tmp_path, capsys, er_order, ir_fill)["current_total_mme"] == 90.0
