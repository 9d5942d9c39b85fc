"""`urine-drug-test` (guideline 10.3) says when a urine drug test on record is still waiting for its result (status
"registered"): it is no result, so the card still asks for one, but it said "There is no urine drug test result on
record", which a clinician reads as "never tested" while the test was collected and is with the lab. The plan page's
tile says the same, in the same words."""

from __future__ import annotations

from typing import Any

from builders import LOINC, PATIENT_ID, card, med_request, observation, patient, run
from test_plan import plan_for
from test_uds_tile_unknown_status import NAMED, _unknown
from test_uds_unreadable_specimen import OXYCODONE_5, TEST_DAY, _long_term_fills

from guideline.plan.note import note_text

CHECK_ID = "urine-drug-test"
PENDING = f"A urine drug test collected on {TEST_DAY} has no result yet (status registered)."
SUMMARY = f"Urine drug test: result pending since {TEST_DAY}"
LAB = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}


def _epic_registered(code: str, display: str, ident: str, when: str = TEST_DAY) -> dict[str, Any]:
    """Epic Beaker: a urine drug test collected and received in the lab, no value yet (status registered), dated by
    its collection time and not yet issued."""
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "registered",
        "category": [LAB],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": f"{when}T09:14:00-05:00",
    }


def _oracle_registered_report(when: str = TEST_DAY, status: str = "registered") -> dict[str, Any]:
    """Oracle Health (Cerner) R4: the lab report of a urine drug screen, registered with no result linked yet."""
    return {
        "resourceType": "DiagnosticReport",
        "id": "M-8812345",
        "status": status,
        "category": [
            {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}],
                "text": "Laboratory",
            }
        ],
        "code": {
            "coding": [
                {"system": LOINC, "code": "65750-2", "display": "Drugs of abuse 5 panel - Urine by Screen method"}
            ],
            "text": "Drug Screen Urine",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": f"{when}T14:20:00.000Z",
    }


OPIATES = ("19295-5", "Opiates Ur Ql Scn")
PANEL = ("65750-2", "Drugs of Abuse Screen, Urine")


def _sign(*resources: dict[str, Any]):
    draft = med_request(OXYCODONE_5, draft=True, id="ox1", supply_days=30)
    return run("order-sign", drafts=[draft], resources=list(resources))


def test_an_epic_registered_screen_is_said_pending_not_none_on_record() -> None:
    found = card(_sign(_epic_registered(*OPIATES, "eUDS.R1")), CHECK_ID)
    assert found is not None  # no result is no test done: the card still asks for one
    assert found.detail.startswith(f"There is **no urine drug test result on record** for this patient. {PENDING}")
    assert found.summary == SUMMARY


def test_an_epic_registered_panel_and_its_analytes_are_one_test_pending() -> None:
    tests = [_epic_registered(*PANEL, "eUDS.P"), _epic_registered(*OPIATES, "eUDS.P1")]
    found = card(_sign(*tests), CHECK_ID)
    assert found is not None
    assert found.detail.count("has no result yet") == 1 and PENDING in found.detail


def test_an_oracle_registered_report_is_said_pending() -> None:
    found = card(_sign(_oracle_registered_report()), CHECK_ID)
    assert found is not None
    assert PENDING in found.detail and found.summary == SUMMARY


def test_a_pending_test_newer_than_an_old_result_is_named_beside_it() -> None:
    older = observation("19295-5", when="2025-01-10", value_string="Negative")
    found = card(_sign(older, _epic_registered(*OPIATES, "eUDS.R1")), CHECK_ID)
    assert found is not None
    assert found.detail.startswith(
        f"The last urine drug test result on record is from **2025-01-10**, over 12 months ago. {PENDING}"
    )
    assert found.summary == SUMMARY


def test_two_days_pending_are_both_named_the_newest_in_the_summary() -> None:
    tests = [_epic_registered(*OPIATES, "eUDS.R1"), _epic_registered(*OPIATES, "eUDS.R2", when="2026-01-15")]
    found = card(_sign(*tests), CHECK_ID)
    assert found is not None
    assert (
        f"Urine drug tests collected on {TEST_DAY} and 2026-01-15 have no result yet (status registered)."
        in found.detail
    )
    assert found.summary == f"Urine drug test: 2 results pending (newest {TEST_DAY})"


def test_one_older_than_the_window_or_cancelled_is_not_named() -> None:
    old = _epic_registered(*OPIATES, "eUDS.R1", when="2025-03-02")
    cancelled = _oracle_registered_report(status="cancelled")
    found = card(_sign(old, cancelled), CHECK_ID)
    assert found is not None and "no result yet" not in found.detail
    assert found.summary == "Order a urine drug test: none on record for a patient starting or on longer-term opioids"


def test_a_test_resulted_since_leaves_the_card_quiet() -> None:
    # The old registered copy beside the final result of a newer test: the year's test is done.
    resulted = observation("19295-5", when="2026-04-20", value_string="Negative")
    assert card(_sign(_epic_registered(*OPIATES, "eUDS.R1"), resulted), CHECK_ID) is None


def test_the_tile_and_the_note_say_the_same_as_the_card() -> None:
    resources = [*_long_term_fills(), _epic_registered(*OPIATES, "eUDS.R1")]
    plan = plan_for([patient(), *resources])
    tile = next(t for t in plan.section("tasks").content if t.key == "uds")
    found = card(run("patient-view", resources=resources), CHECK_ID)
    assert found is not None and found.summary == SUMMARY
    assert tile.not_counted == PENDING and PENDING in found.detail and PENDING in tile.detail
    # "Last: none on record", as the card's "no urine drug test result on record": no test done has a result.
    assert tile.none_found.startswith("none on record") or tile.none_found.startswith("none in the last")
    assert PENDING in note_text(plan)


def test_the_history_section_lists_it_as_pending() -> None:
    # Beside the tile's words, the section said only "No urine drug test results in the past 13 months".
    plan = plan_for([patient(), *_long_term_fills(), _oracle_registered_report()])
    history = plan.section("uds").content
    assert not history.rows
    assert history.pending == (f"Drug Screen Urine collected on {TEST_DAY}, no result yet (status registered)",)


def test_beside_a_result_of_unknown_status_the_tile_still_reads_none_readable() -> None:
    # The test waiting for its result has none to read, but the fentanyl screen of unknown status is one not read.
    pending = _epic_registered(*OPIATES, "eUDS.R1", when="2026-04-02")
    plan = plan_for([patient(), *_long_term_fills(), _unknown(), pending])
    tile = next(t for t in plan.section("tasks").content if t.key == "uds")
    assert NAMED in tile.not_counted and "has no result yet" in tile.not_counted
    assert tile.none_found == "none readable on record"


def test_beside_a_result_of_unknown_status_the_card_says_what_the_tile_says() -> None:
    # One rule words the tests not counted for both faces (`urine_drug_test.not_counted_words`): the card's finding
    # holds the tile's line whole, the result of unknown status first, then the test awaiting its result.
    pending = _epic_registered(*OPIATES, "eUDS.R1", when="2026-04-02")
    resources = [*_long_term_fills(), _unknown(), pending]
    tile = next(t for t in plan_for([patient(), *resources]).section("tasks").content if t.key == "uds")
    found = card(run("patient-view", resources=resources), CHECK_ID)
    assert found is not None
    assert tile.not_counted.startswith(NAMED) and tile.not_counted.endswith("has no result yet (status registered).")
    assert f" {tile.not_counted}" in found.detail.split("\n\n")[0]


def test_the_record_is_scanned_for_tests_awaiting_their_result_once_per_plan(monkeypatch) -> None:
    # The card, the tile and the history each scanned every result and report again.
    import guideline.checks.urine_drug_test as check

    original, calls = check.awaiting_results, []

    def counted(*args: Any) -> Any:
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(check, "awaiting_results", counted)
    plan = plan_for([patient(), *_long_term_fills(), med_request(OXYCODONE_5), _oracle_registered_report()])
    assert plan.section("uds").content.pending and PENDING in note_text(plan)
    assert len(calls) == 1
