"""A preliminary urine drug test result that carries no value yet (no value of any kind, no flag, no component or
member with one) is a test whose result has not come: it is said awaiting its result, as one of status "registered"
is, and is no test done. It counted as the year's test: for a patient on long-term opioids whose only test was such a
result, the `urine-drug-test` card was quiet and the tile said the test was done. A preliminary result with a value
is still a test done (preliminary)."""

from __future__ import annotations

from typing import Any

from builders import LOINC, card, patient, run
from test_plan import plan_for
from test_uds_card_result_pending import LAB, OPIATES, PANEL, _epic_registered, _sign
from test_uds_unreadable_specimen import _long_term_fills

from guideline.plan.note import note_text
from guideline.uds import tests_done as counted_by_the_review

CHECK_ID = "urine-drug-test"
DAY = "2026-06-01"  # two weeks before the tests' today, 2026-06-15
PENDING = f"A urine drug test collected on {DAY} has no result yet (status preliminary, no value yet)."


def _epic_preliminary(code: str, display: str, ident: str, **value: Any) -> dict[str, Any]:
    """Epic Beaker: a urine drug screen collected and started in the lab, status preliminary, with `value` (none:
    nothing sent yet but its name and times)."""
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "preliminary",
        "category": [LAB],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": f"{DAY}T09:14:00-05:00",
        "issued": f"{DAY}T11:02:00Z",
        **value,
    }


def test_a_preliminary_with_no_value_is_no_test_done_and_said_pending() -> None:
    found = card(_sign(_epic_preliminary(*OPIATES, "eUDS.P1")), CHECK_ID)
    assert found is not None and found.facts["last_test"] is None
    assert found.detail.startswith(f"There is **no urine drug test result on record** for this patient. {PENDING}")
    assert found.summary == f"Urine drug test: result pending since {DAY}"


def test_a_preliminary_with_a_value_is_still_a_test_done() -> None:
    valued = _epic_preliminary(*OPIATES, "eUDS.P1", valueString="Negative")
    assert card(_sign(valued), CHECK_ID) is None


def test_a_preliminary_flagged_only_is_still_a_test_done() -> None:
    flag = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "A"}]}
    assert card(_sign(_epic_preliminary(*OPIATES, "eUDS.P1", interpretation=[flag])), CHECK_ID) is None


def test_a_preliminary_panel_whose_components_carry_values_is_a_test_done() -> None:
    component = {"code": {"coding": [{"system": LOINC, "code": "19295-5"}], "text": "Opiates"}, "valueString": "Neg"}
    assert card(_sign(_epic_preliminary(*PANEL, "eUDS.P", component=[component])), CHECK_ID) is None


def test_a_preliminary_panel_and_its_members_with_no_value_are_one_test_pending() -> None:
    heading = _epic_preliminary(*PANEL, "eUDS.P", hasMember=[{"reference": "Observation/eUDS.P1"}])
    found = card(_sign(heading, _epic_preliminary(*OPIATES, "eUDS.P1")), CHECK_ID)
    assert found is not None and found.detail.count("has no result yet") == 1 and PENDING in found.detail


def test_a_preliminary_panel_with_a_member_resulted_is_a_test_done() -> None:
    heading = _epic_preliminary(*PANEL, "eUDS.P", hasMember=[{"reference": "Observation/eUDS.P1"}])
    member = _epic_preliminary(*OPIATES, "eUDS.P1", valueString="Negative")
    assert card(_sign(heading, member), CHECK_ID) is None


def test_beside_a_registered_test_both_statuses_are_said() -> None:
    registered = _epic_registered(*OPIATES, "eUDS.R1", when="2026-05-20")
    found = card(_sign(_epic_preliminary(*OPIATES, "eUDS.P1"), registered), CHECK_ID)
    assert found is not None
    assert (
        f"Urine drug tests collected on {DAY} and 2026-05-20 have no result yet (status preliminary, no value yet; "
        "status registered)."
    ) in found.detail


def test_the_tile_the_note_and_the_history_say_it_pending() -> None:
    resources = [*_long_term_fills(), _epic_preliminary(*OPIATES, "eUDS.P1")]
    plan = plan_for([patient(), *resources])
    tile = next(t for t in plan.section("tasks").content if t.key == "uds")
    assert tile.state != "done" and tile.last_done is None
    assert tile.not_counted == PENDING and PENDING in note_text(plan)
    found = card(run("patient-view", resources=resources), CHECK_ID)
    assert found is not None and PENDING in found.detail
    history = plan.section("uds").content
    assert not history.rows
    assert history.pending == (
        f"Opiates Ur Ql Scn collected on {DAY}, no result yet (status preliminary, no value yet)",
    )


def test_the_population_review_does_not_count_it_either() -> None:
    # One rule for the card and the annual-monitoring measure (`uds._results_and_items`).
    run_ = _sign(_epic_preliminary(*OPIATES, "eUDS.P1"))
    assert counted_by_the_review(run_.facts.record.observations, run_.facts.terms) == ()
