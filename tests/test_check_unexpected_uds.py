"""`unexpected-uds-result` (guideline 10.4): results the prescriptions in effect do not explain."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest

from guideline.checks import CHECKS, unexpected_uds_result
from guideline.checks.unexpected_uds_result import CHECK_ID
from tests.builders import (
    SNOMED,
    assert_person_centred,
    card,
    days_ago,
    dispense,
    med_request,
    observation,
    patient,
    run,
)

OXYCODONE = "1049621"
HYDROCODONE_APAP = "856999"
LORAZEPAM = "197901"
COCAINE = "14314-9"  # Benzoylecgonine [Presence] in Urine by Screen method
OXYCODONE_SCREEN = "58430-0"  # oxyCODONE+oxyMORphone Ur Ql Scn
OPIATE_SCREEN = "19295-5"  # Opiates [Presence] in Urine by Screen method
BENZO_SCREEN = "14316-4"
CANNABINOID_SCREEN = "19287-2"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, CHECK_ID, unexpected_uds_result)


def trigger() -> dict:
    return med_request(OXYCODONE, draft=True, id="ox1", supply_days=5)


def uds(code: str, days: int, value: str | None, **kwargs: object) -> dict:
    return observation(code, when=days_ago(days), value_string=value, **kwargs)


def sign(*resources: dict, config: dict | None = None):
    return card(run("order-sign", drafts=[trigger()], resources=list(resources), config=config), CHECK_ID)


# -- fires -----------------------------------------------------------------------------------------------------


def test_unexpected_positive_is_named_tabled_and_explained() -> None:
    found = sign(uds(COCAINE, 20, "Positive"))
    assert found is not None
    assert found.indicator == "warning"
    assert (
        found.summary == "Discuss unexpected urine drug test result with the patient: positive for cocaine (2026-05-26)"
    )
    assert "| Substance | 2026-05-26 |" in found.detail
    assert "| cocaine | **positive (unexpected)** |" in found.detail
    assert "2026-05-26: positive for cocaine, not prescribed in the 30 days before" in found.detail
    assert "confirmatory testing" in found.detail
    assert "not for dismissing the patient or stopping opioids abruptly" in found.detail
    assert "assessment for substance use disorder" in found.detail
    assert "*Based on:" in found.detail
    assert found.suggestions == ()
    assert found.view == "uds"
    assert any(link.url.endswith("#Recommendation10") for link in found.links)
    assert any(link.type == "smart" and link.view == "uds" for link in found.links)
    assert [r.code for r in found.override_reasons] == [
        "results-expected",
        "results-discussed",
        "excluded-condition",  # 11.1: every check but oud-treatment (10.4's own list omits it)
        "data-incorrect",
        "wrong-clinician",
        "snooze-3-months-with-comment",
    ]
    assert found.facts["unexpected"] == [{"substance": "cocaine", "value": "positive", "date": "2026-05-26"}]
    assert_person_centred(found, extra=("clean", "dirty"))


def test_later_negatives_are_counted_and_all_dates_shown_newest_first() -> None:
    found = sign(uds(COCAINE, 100, "positive"), uds(COCAINE, 60, "negative"), uds(COCAINE, 20, "neg"))
    assert found is not None
    assert "| Substance | 2026-05-26 | 2026-04-16 | 2026-03-07 |" in found.detail
    assert "| cocaine | negative | negative | **positive (unexpected)** |" in found.detail
    assert "(2 negative results since)" in found.detail


def test_later_negatives_are_only_of_the_positives_own_substance() -> None:
    """The tally after a positive counts that substance's negatives alone: another screen's negatives, and the
    negatives of a substance with no positive on the card, are not tallied for it."""
    found = sign(
        uds(COCAINE, 100, "positive"),
        uds(OPIATE_SCREEN, 60, "negative"),
        uds(BENZO_SCREEN, 60, "negative"),
        uds(COCAINE, 20, "negative"),
        uds(OPIATE_SCREEN, 10, "negative"),
    )
    assert found is not None
    assert "positive for cocaine, not prescribed in the 30 days before (1 negative result since)" in found.detail
    assert "| benzodiazepines |" not in found.detail  # no finding for it: no row, no tally


def test_unexpected_negative_names_the_prescription() -> None:
    prescribed = med_request(OXYCODONE, authored=days_ago(40), supply_days=60)
    found = sign(prescribed, uds(OXYCODONE_SCREEN, 10, "Not detected"))
    assert found is not None
    assert found.summary == (
        "Discuss unexpected urine drug test result with the patient: negative for oxycodone (2026-06-05)"
    )
    assert (
        "negative for oxycodone although oxycodone hydrochloride 5 MG Oral Tablet was prescribed (2026-05-06)"
        in found.detail
    )


def test_value_from_coded_value_or_interpretation_only() -> None:
    coded = uds(COCAINE, 15, None, value_code=(SNOMED, "10828004"))
    assert sign(coded) is not None
    interpreted = uds(COCAINE, 15, None, interpretation="POS")
    assert sign(interpreted) is not None


@pytest.mark.parametrize(
    "value",
    [
        "Confirmed positive",
        "Presumptive Positive",
        "Screen positive",
        "Reactive",
        "Present",
        "DETECTED >1000 ng/mL",
        "Cocaine metabolite: POSITIVE",  # the substance's name first, as some labs write the value
    ],
)
def test_positive_as_labs_write_it(value: str) -> None:
    # "Confirmed positive", "Screen positive", "Reactive" and "Present" read as no value: no card at all.
    found = sign(uds(COCAINE, 20, value))
    assert found is not None and "positive for cocaine" in found.summary


@pytest.mark.parametrize(
    "value",
    [
        "Presumptive Negative",
        "Screen negative",
        "Confirmed negative",
        "Non-detected",
        "Non-reactive",
        "Absent",
        "Oxycodone/Oxymorphone: Not Detected",
    ],
)
def test_negative_as_labs_write_it(value: str) -> None:
    # An expected oxycodone that comes back negative is the finding; these read as no value before.
    active = med_request(OXYCODONE, authored=days_ago(10), supply_days=30)
    found = sign(active, uds(OXYCODONE_SCREEN, 5, value))
    assert found is not None and "negative for oxycodone" in found.summary


@pytest.mark.parametrize(
    ("code", "value"),
    [("52101004", "positive"), ("11214006", "positive"), ("2667000", "negative"), ("131194007", "negative")],
)
def test_present_reactive_absent_and_non_reactive_codes(code: str, value: str) -> None:
    active = med_request(OXYCODONE, authored=days_ago(10), supply_days=30)
    found = sign(
        active,
        uds(OXYCODONE_SCREEN, 5, None, value_code=(SNOMED, code)),
        uds(COCAINE, 5, None, value_code=(SNOMED, code)),
    )
    assert found is not None
    assert (f"{value} for cocaine" if value == "positive" else f"{value} for oxycodone") in found.summary


def test_an_interpretation_flag_in_lower_case_is_read() -> None:
    assert sign(uds(COCAINE, 15, None, interpretation="pos")) is not None  # was no value: no card


def test_a_bare_qualifier_or_an_unreadable_value_is_still_no_value() -> None:
    for value in ("Confirmed", "Pending", "See comment", "<300 ng/mL"):
        assert sign(uds(COCAINE, 20, value)) is None


def test_patient_view_with_an_active_opioid_order() -> None:
    active = med_request(OXYCODONE, authored=days_ago(5), supply_days=30)
    evaluation = run("patient-view", resources=[active, uds(COCAINE, 20, "positive")])
    assert card(evaluation, CHECK_ID) is not None


def test_same_day_screen_and_confirmation_are_one_finding() -> None:
    confirm = "16226-3"  # Benzoylecgonine [Mass/volume] in Urine by Confirmatory method
    found = sign(uds(COCAINE, 20, "positive"), uds(confirm, 20, "positive"))
    assert found is not None
    assert found.summary.count("cocaine") == 1
    assert len(found.facts["unexpected"]) == 1


def test_mixed_values_on_one_day_share_a_cell() -> None:
    confirm = "16226-3"
    found = sign(uds(COCAINE, 20, "positive"), uds(confirm, 20, "negative"))
    assert found is not None
    assert "**positive / negative (unexpected)**" in found.detail


def test_max_dates_limits_the_columns() -> None:
    config = {"checks": {CHECK_ID: {"max_dates": 2}}}
    results = [uds(COCAINE, d, "negative") for d in (10, 30, 50)] + [uds(COCAINE, 5, "positive")]
    found = sign(*results, config=config)
    assert found is not None
    assert "| Substance | 2026-06-10 | 2026-06-05 |" in found.detail
    assert "2 older test dates not shown." in found.detail


def test_many_findings_keep_the_summary_short() -> None:
    results = [uds(COCAINE, d, "positive") for d in range(5, 120, 10)]
    found = sign(*results)
    assert found is not None
    assert len(found.summary) <= 139
    assert found.summary.startswith(
        "Discuss unexpected urine drug test results with the patient: positive for cocaine (2026-06-10)"
    )
    assert "more" in found.summary


def test_optional_repeat_screen_suggestion() -> None:
    config = {"checks": {CHECK_ID: {"suggest_repeat": True}}}
    found = sign(uds(COCAINE, 20, "positive"), config=config)
    assert found is not None
    [suggestion] = found.suggestions
    assert suggestion.label == "Order a repeat urine drug screen" and suggestion.action == "create"
    ServiceRequest.model_validate(dict(suggestion.resource))
    assert suggestion.resource["code"]["coding"][0]["code"] == "310627008"


def test_cannabinoid_only_when_enabled() -> None:
    assert sign(uds(CANNABINOID_SCREEN, 20, "positive")) is None
    config = {"checks": {CHECK_ID: {"cannabinoid": True}}}
    found = sign(uds(CANNABINOID_SCREEN, 20, "positive"), config=config)
    assert found is not None and "cannabinoids" in found.summary


def test_negative_benzodiazepine_only_when_configured() -> None:
    lorazepam = med_request(LORAZEPAM, authored=days_ago(20), supply_days=30)
    result = uds(BENZO_SCREEN, 5, "negative")
    assert sign(lorazepam, result) is None
    wider = ["buprenorphine", "fentanyl", "methadone", "opiate", "oxycodone", "benzodiazepine"]
    config = {"checks": {CHECK_ID: {"unexpected_negative_substances": wider}}}
    found = sign(lorazepam, result, config=config)
    assert found is not None and "negative for benzodiazepines" in found.summary


# -- does not fire ---------------------------------------------------------------------------------------------


def test_expected_positive_from_a_prescription_in_effect() -> None:
    prescribed = med_request(OXYCODONE, authored=days_ago(40), supply_days=60)
    assert sign(prescribed, uds(OXYCODONE_SCREEN, 10, "positive")) is None


def test_opiate_positive_explained_by_hydrocodone() -> None:
    """Guideline 10.4 (reference differs): hydrocodone shows up on opiate screens."""
    prescribed = med_request(HYDROCODONE_APAP, authored=days_ago(20), supply_days=30)
    assert sign(prescribed, uds(OPIATE_SCREEN, 10, "positive")) is None


def test_negative_opiate_screen_with_hydrocodone_is_not_unexpected() -> None:
    prescribed = med_request(HYDROCODONE_APAP, authored=days_ago(20), supply_days=30)
    assert sign(prescribed, uds(OPIATE_SCREEN, 10, "negative")) is None


def test_prescription_in_effect_means_supply_overlapping_the_30_days_before() -> None:
    # Supply ended 25 days before the test: in effect. Ended 35 days before: not in effect.
    ended_25 = dispense(OXYCODONE, days_ago(70), days_supply=35)  # covers days 70..36 ago; test 10 days ago
    assert sign(ended_25, uds(OXYCODONE_SCREEN, 10, "positive")) is None
    ended_35 = dispense(OXYCODONE, days_ago(80), days_supply=35)  # covers days 80..46 ago
    assert sign(ended_35, uds(OXYCODONE_SCREEN, 10, "positive")) is not None


def test_results_older_than_twelve_months_are_ignored() -> None:
    assert sign(uds(COCAINE, 400, "positive")) is None


def test_indeterminate_or_valueless_results_are_never_unexpected() -> None:
    disagreeing = uds(COCAINE, 10, "negative", interpretation="POS")
    assert sign(disagreeing, uds(COCAINE, 12, None)) is None


def test_order_sign_needs_a_new_opioid_order() -> None:
    evaluation = run(
        "order-sign", drafts=[med_request(LORAZEPAM, draft=True)], resources=[uds(COCAINE, 20, "positive")]
    )
    assert card(evaluation, CHECK_ID) is None


def test_patient_view_needs_an_active_opioid_order() -> None:
    assert card(run("patient-view", resources=[uds(COCAINE, 20, "positive")]), CHECK_ID) is None


def test_general_exclusions_stop_the_card() -> None:
    assert sign(patient("2010-01-01"), uds(COCAINE, 20, "positive")) is None


def test_disabled() -> None:
    assert sign(uds(COCAINE, 20, "positive"), config={"checks": {CHECK_ID: {"enabled": False}}}) is None


def test_a_substance_reported_as_a_component_of_a_panel_is_judged() -> None:
    # A lab's panel with one component per substance: the components were never read, so this gave no card.
    panel = uds("46983-7", 20, None)
    panel["component"] = [
        {
            "code": {"coding": [{"system": "http://loinc.org", "code": COCAINE}]},
            "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "10828004"}]},
        },
        {"code": {"coding": [{"system": "http://loinc.org", "code": OXYCODONE_SCREEN}]}, "valueString": "Negative"},
    ]
    found = sign(panel)
    assert found is not None and "positive for cocaine" in found.summary


@pytest.mark.parametrize("value", ["Cutoff: 300 ng/mL", "See comment: specimen dilute", "a:" * 5000])
def test_a_colon_is_not_a_result(value: str) -> None:
    from guideline.uds import value_from_text

    assert value_from_text(value) is None


def _panel(members: list[str], stu3: bool = False) -> dict:
    """A urine drug screen panel heading whose substance results are members of their own (R4 hasMember, STU3
    related of type has-member)."""
    heading = uds(URINE_PANEL, 20, None)
    if stu3:
        heading["related"] = [{"type": "has-member", "target": {"reference": ref}} for ref in members]
    else:
        heading["hasMember"] = [{"reference": ref} for ref in members]
    return heading


URINE_PANEL = "69739-1"  # Drugs of abuse panel - Urine by Screen method


@pytest.mark.parametrize("stu3", [False, True], ids=["R4", "STU3"])
def test_a_panel_whose_member_results_were_not_received_is_named(stu3: bool) -> None:
    """The panel heading counts as the year's test, and its members carry the results; when the search returned the
    heading without its members (they sit under another category or code), an unexpected positive among them went
    unseen and nothing said the results were missing."""
    from guideline.checks.unexpected_uds_result import unread_results

    evaluation = run("order-sign", drafts=[trigger()], resources=[_panel(["Observation/m1", "Observation/m2"], stu3)])
    assert unread_results(evaluation.facts) == (f"urine drug test ({days_ago(20)}, 2 of its 2 results not received)",)


def test_a_panel_whose_members_were_received_names_nothing() -> None:
    from guideline.checks.unexpected_uds_result import unread_results

    member = uds(OXYCODONE_SCREEN, 20, "Negative")
    member["id"] = "m1"
    evaluation = run("order-sign", drafts=[trigger()], resources=[_panel(["Observation/m1"]), member])
    assert unread_results(evaluation.facts) == ()
