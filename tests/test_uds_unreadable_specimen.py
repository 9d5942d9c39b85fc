"""A urine drug test whose specimen the lab says could not show what the patient takes (a dilute negative; an invalid,
adulterated or substituted specimen) is no year's test for `urine-drug-test` nor for the plan page's tile (Rec 10):
it informed nothing. A test with one readable result still counts."""

from __future__ import annotations

from typing import Any

import pytest
from builders import LOINC, UCUM, days_ago, dispense, med_request, observation, patient
from cds_support import bundle, full_prefetch, hook_request, make_app, topics
from test_plan import plan_for
from test_plan_steps import by_key

OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
TEST_DAY = "2026-03-02"  # 105 days before the tests' today, 2026-06-15
WHY_DILUTE = f"The test of {TEST_DAY} could not be read as a result: dilute specimen; a new test is due."


def _epic_result(code: str, display: str, value: str, *, ident: str, flag: str | None = "N") -> dict[str, Any]:
    """One analyte of an Epic Beaker urine drug screen: LOINC and the lab's name, a valueString, an N or A flag."""
    result: dict[str, Any] = {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
        ],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": f"{TEST_DAY}T09:14:00-05:00",
        "issued": f"{TEST_DAY}T16:40:12Z",
        "valueString": value,
    }
    if flag:
        result["interpretation"] = [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": flag}]}
        ]
    return result


def _screen(
    opiates: str, oxycodone: str, *, flag: str | None = "N", oxycodone_flag: str | None = "N"
) -> list[dict[str, Any]]:
    return [
        _epic_result("19295-5", "Opiates Ur Ql Scn", opiates, ident="eUDS.1", flag=flag),
        _epic_result("58430-0", "oxyCODONE+oxyMORphone Ur Ql Scn", oxycodone, ident="eUDS.2", flag=oxycodone_flag),
    ]


def _long_term_fills() -> list[dict[str, Any]]:
    """Oxycodone filled every 30 days for the last 90: long-term opioid therapy."""
    fills = [dispense(OXYCODONE_5, days_ago(d), days_supply=30) for d in (89, 59, 29)]
    return [fill | {"quantity": {"value": 120, "unit": "tablet", "system": UCUM, "code": "{tbl}"}} for fill in fills]


def _patient_view(tmp_path, results: list[dict[str, Any]]) -> dict[str, Any]:
    prefetch = full_prefetch("patient-view", dispenses=bundle(*_long_term_fills()), udsLabs=bundle(*results))
    response = (
        make_app(tmp_path)
        .test_client()
        .post("/cds-services/patient-view", json=hook_request("patient-view", prefetch=prefetch))
    )
    assert response.status_code == 200
    return response.json


def _uds_card(answer: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in answer["cards"] if c["source"]["topic"]["code"] == "urine-drug-test"), None)


# -- the hook --------------------------------------------------------------------------------------------------


def test_a_dilute_negative_screen_is_no_years_test_and_the_card_says_why(tmp_path) -> None:
    """Epic sends "NEGATIVE-DILUTE" flagged N: read neither way and named, it still counted as the year's test, and
    "Order a urine drug test" stayed quiet for a patient whose only test in the year could not be read."""
    answer = _patient_view(tmp_path, _screen("NEGATIVE-DILUTE", "NEGATIVE-DILUTE"))

    found = _uds_card(answer)
    assert found is not None
    assert found["summary"] == f"Order a urine drug test: the test of {TEST_DAY} could not be read (dilute specimen)"
    assert WHY_DILUTE in found["detail"]
    assert "no readable urine drug test result on record" in found["detail"]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("Invalid specimen", "invalid specimen"),
        ("Adulterated", "adulterated specimen"),
        ("Negative; specimen substituted", "substituted specimen"),
        ("Dilute", "dilute specimen"),
    ],
)
def test_an_invalid_adulterated_or_substituted_specimen_is_no_years_test(tmp_path, value: str, why: str) -> None:
    found = _uds_card(_patient_view(tmp_path, _screen(value, value)))
    assert found is not None
    assert f"the test of {TEST_DAY} could not be read as a result: {why}; a new test is due" in found["detail"].lower()


def test_a_test_with_one_readable_result_still_counts(tmp_path) -> None:
    """A dilute specimen positive for oxycodone is a positive: dilution never makes a drug appear, so the test
    informed care and is the year's test, whatever its other analytes say."""
    results = _screen("NEGATIVE-DILUTE", "POSITIVE-DILUTE", oxycodone_flag="A")
    assert "urine-drug-test" not in topics(_patient_view(tmp_path, results))


def test_a_readable_negative_still_counts(tmp_path) -> None:
    assert "urine-drug-test" not in topics(_patient_view(tmp_path, _screen("NEGATIVE", "NEGATIVE")))


def test_a_rejected_specimen_is_still_no_test_at_all(tmp_path) -> None:
    """Already no test done: the card says none on record, as before."""
    rejected = _screen("Specimen rejected", "Specimen rejected", flag=None, oxycodone_flag=None)
    found = _uds_card(_patient_view(tmp_path, rejected))
    assert found is not None
    assert "could not be read" not in found["detail"]
    assert found["summary"].startswith("Order a urine drug test: none on record")


def test_an_older_readable_test_is_the_last_and_the_unread_one_is_named(tmp_path) -> None:
    older = _epic_result("19295-5", "Opiates Ur Ql Scn", "Negative", ident="eUDS.0")
    older["effectiveDateTime"], older["issued"] = "2025-04-01T10:00:00-05:00", "2025-04-01T18:00:00Z"
    found = _uds_card(_patient_view(tmp_path, [*_screen("NEGATIVE-DILUTE", "NEGATIVE-DILUTE"), older]))
    assert found is not None
    assert (
        "The last readable urine drug test result on record is from **2025-04-01**, over 12 months ago."
        in (found["detail"])
    )
    assert WHY_DILUTE in found["detail"]


# -- the plan page ---------------------------------------------------------------------------------------------


def _uds_tile(results: list[dict[str, Any]]):
    plan = plan_for([patient(), *_long_term_fills(), *results])
    tile = next(t for t in plan.section("tasks").content if t.key == "uds")
    topics_ = [c.check_id for c in plan.section("alerts").content.cards]
    return tile, topics_


def test_the_tile_asks_for_a_test_when_the_only_one_could_not_be_read() -> None:
    """The tile said "Up to date" with the dilute negative as its last test, beside a card asking for one."""
    tile, topics_ = _uds_tile(_screen("NEGATIVE-DILUTE", "NEGATIVE-DILUTE"))
    assert "urine-drug-test" in topics_
    assert tile.state == "never" and tile.last_done is None
    assert tile.detail.startswith(WHY_DILUTE)


def test_the_tile_counts_a_test_with_a_readable_result() -> None:
    tile, topics_ = _uds_tile(_screen("NEGATIVE-DILUTE", "POSITIVE-DILUTE", oxycodone_flag="A"))
    assert "urine-drug-test" not in topics_
    assert tile.state == "done" and tile.last_done.isoformat() == TEST_DAY
    assert "could not be read" not in tile.detail


def test_the_tile_shows_the_older_readable_test_as_the_last() -> None:
    older = observation("19295-5", when="2025-04-01", value_string="Negative")
    tile, _ = _uds_tile([*_screen("Invalid specimen", "Invalid specimen"), older])
    assert tile.state == "overdue" and tile.last_done.isoformat() == "2025-04-01"
    assert f"The test of {TEST_DAY} could not be read as a result: invalid specimen; a new test is due." in tile.detail


def test_the_tile_and_step_one_say_none_readable_rather_than_none_on_record() -> None:
    """Beside a test the chart shows, "None on record" was untrue of it: the tile, step 1 and the note say none
    readable."""
    plan = plan_for([patient(), *_long_term_fills(), *_screen("NEGATIVE-DILUTE", "NEGATIVE-DILUTE")])
    tile = next(t for t in plan.section("tasks").content if t.key == "uds")
    assert tile.state_label == "None readable on record"
    assess = by_key(plan.section("steps").content)["assess"]
    evidence = next(e for e in assess.evidence if e.label == "Urine drug test")
    assert evidence.detail == "none readable on record"


def test_the_tile_says_none_on_record_with_no_test_at_all() -> None:
    plan = plan_for([patient(), *_long_term_fills()])
    tile = next(t for t in plan.section("tasks").content if t.key == "uds")
    assert tile.state_label == "None on record" and "could not be read" not in tile.detail


# -- not performed, beside a flag ------------------------------------------------------------------------------


def _order_sign(tmp_path, results: list[dict[str, Any]]) -> dict[str, Any]:
    """An oxycodone order being signed for the patient on long-term oxycodone, with these results on record."""
    prefetch = full_prefetch("order-sign", dispenses=bundle(*_long_term_fills()), udsLabs=bundle(*results))
    draft = med_request(OXYCODONE_5, draft=True, id="d1")
    request = hook_request("order-sign", drafts=[draft], prefetch=prefetch)
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=request)
    assert response.status_code == 200
    return response.json


@pytest.mark.parametrize("value", ["Specimen rejected", "Test not performed", "TNP", "Quantity not sufficient"])
def test_a_specimen_not_tested_beside_the_flag_n_is_no_test_and_no_negative(tmp_path, value: str) -> None:
    """Epic Beaker sends the flag N beside "Specimen rejected": read by the flag, the untested sample was the year's
    test and a negative for oxycodone (an "all clear", or a negative for a prescribed opioid) on no test at all."""
    answer = _order_sign(tmp_path, _screen(value, value))
    found = _uds_card(answer)
    assert found is not None
    assert found["summary"].startswith("Order a urine drug test: none on record")
    assert "unexpected-uds-result" not in topics(answer)


def test_a_specimen_not_tested_beside_a_flag_a_is_no_positive_either(tmp_path) -> None:
    answer = _order_sign(tmp_path, _screen("Specimen rejected", "Specimen rejected", flag="A", oxycodone_flag="A"))
    assert _uds_card(answer) is not None
    assert "unexpected-uds-result" not in topics(answer)


def test_a_reading_beside_a_note_that_it_was_not_confirmed_is_still_a_test(tmp_path) -> None:
    """The value's own reading stands: "Negative; quantity not sufficient for confirmation" is a test done."""
    value = "Negative; quantity not sufficient for confirmation"
    assert "urine-drug-test" not in topics(_order_sign(tmp_path, _screen(value, value)))


def test_the_copied_note_says_none_readable_once() -> None:
    """The note read "Urine drug test: none readable on record, next due … (none readable on record)", and named no
    test it could not read."""
    from guideline.plan.note import note_text

    plan = plan_for([patient(), *_long_term_fills(), *_screen("NEGATIVE-DILUTE", "NEGATIVE-DILUTE")])
    tile = next(t for t in plan.section("tasks").content if t.key == "uds")
    line = next(line for line in note_text(plan).splitlines() if line.startswith("- Urine drug test:"))
    assert line == f"- Urine drug test: none readable on record, next due {tile.next_due.isoformat()}. {WHY_DILUTE}"


def test_the_copied_note_names_the_test_it_could_not_read_in_the_tiles_words() -> None:
    """The note said "none readable on record" without naming the test the chart shows; the tile names it."""
    from guideline.plan.note import note_text

    older = observation("19295-5", when="2025-04-01", value_string="Negative")
    plan = plan_for([patient(), *_long_term_fills(), *_screen("Invalid specimen", "Invalid specimen"), older])
    tile = next(t for t in plan.section("tasks").content if t.key == "uds")
    line = next(line for line in note_text(plan).splitlines() if line.startswith("- Urine drug test:"))
    assert line == (
        f"- Urine drug test: last 2025-04-01, next due {tile.next_due.isoformat()} (overdue). "
        f"The test of {TEST_DAY} could not be read as a result: invalid specimen; a new test is due."
    )


# -- a panel whose items carry the results ---------------------------------------------------------------------

EPIC_COMPONENT = "urn:oid:1.2.840.114350.1.13.0.1.7.2.768282"  # an Epic site's lab component identifiers


def _panel_heading(when: str, **items: Any) -> dict[str, Any]:
    """An Epic urine drug screen panel heading (the lab's own code, no LOINC) with no value of its own: its items
    carry the results."""
    heading = _epic_result("", "DRUG SCREEN, URINE", "", ident="ePanel.1", flag=None)
    del heading["valueString"]
    heading["code"]["coding"] = [{"system": EPIC_COMPONENT, "code": "1554", "display": "DRUG SCREEN, URINE"}]
    heading["effectiveDateTime"], heading["issued"] = when, when
    return heading | items


def _dilute_components(when: str) -> dict[str, Any]:
    """The heading with a component per substance, each a dilute negative flagged N (Epic's own component codes)."""
    flag = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "N"}]}]
    return _panel_heading(
        when,
        component=[
            {
                "code": {"coding": [{"system": EPIC_COMPONENT, "code": code, "display": name}], "text": name},
                "valueString": "NEGATIVE-DILUTE",
                "interpretation": flag,
            }
            for code, name in (("1560", "FENTANYL"), ("1562", "OXYCODONE"))
        ],
    )


def _dilute_members(when: str) -> dict[str, Any]:
    """The heading with its results per substance contained in it (`hasMember: "#m1"`), each a dilute negative."""
    members = []
    for n, (code, name) in enumerate((("19295-5", "Opiates Ur Ql Scn"), ("58430-0", "oxyCODONE Ur Ql Scn")), 1):
        member = _epic_result(code, name, "NEGATIVE-DILUTE", ident=f"m{n}")
        del member["subject"]
        member["effectiveDateTime"], member["issued"] = when, when
        members.append(member)
    return _panel_heading(when, hasMember=[{"reference": "#m1"}, {"reference": "#m2"}], contained=members)


PANELS = pytest.mark.parametrize("panel", [_dilute_components, _dilute_members], ids=["components", "has-member"])


@PANELS
def test_a_panel_whose_items_are_all_dilute_negatives_is_no_years_test_on_the_card(tmp_path, panel) -> None:
    found = _uds_card(_patient_view(tmp_path, [panel(f"{TEST_DAY}T09:14:00-05:00")]))
    assert found is not None
    assert WHY_DILUTE in found["detail"]


@PANELS
def test_a_panel_whose_items_are_all_dilute_negatives_is_no_annual_monitoring_test(tmp_path, panel) -> None:
    """The review read only whole results: the heading, with no value, was a test done there, and AMO was met for a
    patient the card asked a test of."""
    from test_drug_test_procedures import annual_monitoring

    assert annual_monitoring(tmp_path, "p1", panel("2026-01-05T09:14:00-05:00")) == ("true", "false")


def test_the_card_reads_which_tests_could_not_be_read_once_per_window(tmp_path, monkeypatch) -> None:
    """The card asks whether the year's results hold a test that could be read, then names those that could not:
    one reading of the year's results serves both (and one of every result, for the last test done)."""
    import guideline.uds as uds

    windows: list[int] = []
    read = uds._unreadable

    def counted(readings: Any, *rest: Any) -> Any:
        windows.append(len(readings))
        return read(readings, *rest)

    monkeypatch.setattr(uds, "_unreadable", counted)
    found = _uds_card(_patient_view(tmp_path, _screen("NEGATIVE-DILUTE", "NEGATIVE-DILUTE")))
    assert found is not None and WHY_DILUTE in found["detail"]
    assert len(windows) == 2
