"""`nonopioid-first` (guideline 10.11): an acute opioid order for an opioid-naive patient gets an info card."""

from __future__ import annotations

import pytest
from builders import SNOMED, assert_person_centred, card, condition, days_ago, dispense, med_request, run

from guideline.cards import SUMMARY_LIMIT
from guideline.checks import CHECKS, nonopioid_first
from guideline.config import DEFAULTS, ConfigError

CHECK = nonopioid_first.CHECK_ID
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
HYDROCODONE_APAP = "856999"  # acetaminophen 325 MG / hydrocodone bitartrate 10 MG Oral Tablet
BUP_NALOXONE = "1010604"  # buprenorphine 8 MG / naloxone 2 MG Sublingual Film (MOUD_BUP)
ACUTE_LIVER_FAILURE = "197270009"  # SNOMED, in conditions-likely-terminal-for-opioid-prescribing


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, CHECK, nonopioid_first)


def oxy(days: int | None = 3, **kwargs: object) -> dict:
    return med_request(OXYCODONE, draft=True, id=str(kwargs.pop("id", "ox1")), supply_days=days, **kwargs)  # type: ignore[arg-type]


def sign(*drafts: dict, resources: list[dict] | None = None, config: dict | None = None):
    return card(run("order-sign", drafts=list(drafts), resources=resources or [], config=config), CHECK)


def test_acute_order_for_naive_patient_lists_the_options() -> None:
    result = sign(oxy())
    assert result is not None and result.indicator == "info"
    assert "oxycodone hydrochloride 5 MG Oral Tablet" in result.summary
    assert result.summary.startswith("No recent opioid use: consider non-opioid options")
    assert len(result.summary) <= SUMMARY_LIMIT
    for option in DEFAULTS["checks"][CHECK]["options"]:
        assert f"- {option}" in result.detail
    assert "from 2026-03-17 to 2026-06-14" in result.detail
    assert "lowest effective dose for the shortest time" in result.detail and "*Based on:" in result.detail
    (suggestion,) = result.suggestions
    assert (suggestion.action, suggestion.resource_id, suggestion.is_recommended) == (
        "delete",
        "MedicationRequest/ox1",
        False,
    )
    assert [r.code for r in result.override_reasons] == [
        "nonopioid-tried",
        "nonopioid-contraindicated",
        "excluded-condition",
        "wrong-clinician",
        "snooze-3-months-with-comment",
    ]
    assert [link.url for link in result.links] == [
        "https://www.cdc.gov/mmwr/volumes/71/rr/rr7103a1.htm#Recommendation1"
    ]
    assert_person_centred(result)


def test_every_acute_order_is_listed_and_removable() -> None:
    second = med_request(HYDROCODONE_APAP, draft=True, id="hc1", supply_days=3)
    result = sign(oxy(), second)
    assert result is not None and "and 1 more" in result.summary
    assert [s.resource_id for s in result.suggestions] == ["MedicationRequest/ox1", "MedicationRequest/hc1"]


def test_longer_term_order_does_not_fire() -> None:
    assert sign(oxy(30)) is None


def test_unclassified_order_does_not_fire() -> None:
    assert sign(oxy(None)) is None


def test_course_of_therapy_acute_makes_a_long_supply_acute() -> None:
    """Reference differs: it ignores courseOfTherapyType and reads supply only."""
    assert sign(oxy(30, course="acute")) is not None


def test_patient_with_recent_opioids_is_not_naive() -> None:
    assert sign(oxy(), resources=[dispense(OXYCODONE, days_ago(40), days_supply=5)]) is None


def test_buprenorphine_for_oud_is_exempt_by_default() -> None:
    moud = med_request(BUP_NALOXONE, draft=True, id="bup1", supply_days=7)
    assert sign(moud) is None
    assert sign(moud, config={"moud_orders_exempt_from": []}) is not None


def test_options_come_from_configuration() -> None:
    config = {"checks": {CHECK: {"options": ["Ice and rest for 48 hours"]}}}
    result = sign(oxy(), config=config)
    assert result is not None and "- Ice and rest for 48 hours" in result.detail
    assert "Acetaminophen" not in result.detail


def test_empty_option_list_drops_the_heading() -> None:
    result = sign(oxy(), config={"checks": {CHECK: {"options": []}}})
    assert result is not None and "Options to consider first" not in result.detail


def test_indicator_and_switches() -> None:
    assert sign(oxy(), config={"checks": {CHECK: {"indicator": "warning"}}}).indicator == "warning"  # type: ignore[union-attr]
    assert sign(oxy(), config={"checks": {CHECK: {"enabled": False}}}) is None
    with pytest.raises(ConfigError, match=r"checks\.nonopioid-first\.hooks"):
        sign(oxy(), config={"checks": {CHECK: {"hooks": ["patient-view"]}}})  # a new-order check has nothing there


def test_order_select_does_not_run_this_check() -> None:
    assert card(run("order-select", drafts=[oxy()], selections=["MedicationRequest/ox1"]), CHECK) is None


def test_terminal_condition_excludes_unless_that_exclusion_is_off() -> None:
    terminal = condition(SNOMED, ACUTE_LIVER_FAILURE, display="Acute hepatic failure", category=None)
    config = {"exclusions": {"terminal_condition": {"enabled": False}}}
    assert sign(oxy(), resources=[terminal]) is None
    assert sign(oxy(), resources=[terminal], config=config) is not None


def test_an_unidentified_medicine_in_the_window_is_named_as_a_possible_opioid() -> None:
    """ "No recent opioid use" rests on the medicines PainPlan identified: an order of the 90 days whose medicine
    matched no code or name may have been an opioid, and the card counts it, as the opioid-naive card does."""
    past = med_request(OXYCODONE, id="mr-x", status="completed", authored=days_ago(30), supply_days=10)
    past["medicationCodeableConcept"] = {
        "coding": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288", "code": "88421"}],
        "text": "PAIN CMPD TAB (CLINIC STOCK)",
    }
    result = sign(oxy(), resources=[past])
    assert result is not None
    assert "**Could not identify:** 1 medication" in result.detail
    assert result.facts["unidentified_in_window"] == 1
    plain = sign(oxy())
    assert plain is not None and "Could not identify" not in plain.detail
