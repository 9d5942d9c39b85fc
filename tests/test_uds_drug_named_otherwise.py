"""A urine drug test is judged against either drug of an order whose code and name state different opioids
(clinical-logic, "A code and a name that state different drugs"): a positive for either is no unexpected negative
for that order, nor is a positive for the name's drug unexpected, and the card names the conflict."""

from __future__ import annotations

from typing import Any

import pytest

from guideline.checks import CHECKS, unexpected_uds_result
from guideline.checks.unexpected_uds_result import CHECK_ID
from guideline.plan.uds_history import build_uds
from tests.builders import (
    LOINC,
    PATIENT_ID,
    SNOMED,
    as_epic_erx,
    assert_person_centred,
    card,
    days_ago,
    dispense,
    med_request,
    run,
)

OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
OXYCODONE_SCREEN = ("19642-8", "oxyCODONE [Presence] in Urine by Screen method")
OPIATE_SCREEN = ("19295-5", "Opiates [Presence] in Urine by Screen method")
HYDROMORPHONE_SCREEN = ("19486-0", "HYDROmorphone [Presence] in Urine by Screen method")
COCAINE_SCREEN = ("14314-9", "Benzoylecgonine [Presence] in Urine by Screen method")
EPIC_LAB = "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.21"  # an Epic site's own lab components
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CONFLICT = "its code says oxycodone, its name says hydromorphone"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, CHECK_ID, unexpected_uds_result)


def epic_order(name: str, order_id: str = "erx-order") -> dict[str, Any]:
    """An active Epic order written 10 days ago (30 days' supply) of a drug record (ERX) mapped to oxycodone 5 mg's
    RxNorm code and named `name`, as Epic sends it: a contained Medication, the name as the reference's display."""
    return as_epic_erx(med_request("0", id=order_id, authored=days_ago(10)), name, OXYCODONE_5)


def screen(test: tuple[str, str], days: int, positive: bool) -> dict[str, Any]:
    """A urine screen as Epic sends a lab component: coded value and interpretation, with the lab's own code."""
    word, snomed, flag = ("Positive", "10828004", "POS") if positive else ("Negative", "260385009", "NEG")
    return {
        "resourceType": "Observation",
        "id": f"uds-{test[0]}-{days}",
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
        ],
        "code": {
            "coding": [
                {"system": EPIC_LAB, "code": test[0].replace("-", ""), "display": test[1]},
                {"system": LOINC, "code": test[0], "display": test[1]},
            ],
            "text": test[1],
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": f"{days_ago(days)}T09:40:00-04:00",
        "issued": f"{days_ago(days)}T14:02:11Z",
        "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": snomed, "display": word}], "text": word},
        "interpretation": [{"coding": [{"system": INTERPRETATION, "code": flag}], "text": word}],
    }


def found(*resources: dict[str, Any]):
    """The unexpected-result card on patient-view, the conflicting order the active opioid."""
    return card(run("patient-view", resources=list(resources)), CHECK_ID)


def unexpected(*resources: dict[str, Any]) -> list[tuple[str, str]]:
    shown = found(*resources)
    return [] if shown is None else [(item["substance"], item["value"]) for item in shown.facts["unexpected"]]


def test_negative_for_the_code_and_positive_for_the_name_is_no_unexpected_result() -> None:
    # Before: "negative for oxycodone although … was prescribed" and "positive for hydromorphone, not prescribed":
    # a possible diversion called out for a patient taking the drug the order's own name says.
    assert (
        found(
            epic_order("HYDROmorphone 2 MG tablet"),
            screen(OXYCODONE_SCREEN, 3, positive=False),
            screen(HYDROMORPHONE_SCREEN, 3, positive=True),
        )
        is None
    )


def test_a_positive_for_the_name_alone_is_expected_and_names_the_conflict() -> None:
    resources = [
        epic_order("HYDROmorphone 2 MG tablet"),
        screen(HYDROMORPHONE_SCREEN, 3, positive=True),
        screen(COCAINE_SCREEN, 3, positive=True),
    ]
    shown = found(*resources)
    assert shown is not None
    assert [item["substance"] for item in shown.facts["unexpected"]] == ["cocaine"]
    # The card, firing for the cocaine, says the hydromorphone was judged against either drug of the order.
    assert (
        "**Judged against either drug of a prescription whose code and name state different opioids** (a positive for "
        "either is expected, and a negative for one is not unexpected beside a positive for the other that day; "
        "check which drug is meant):\n"
        f"- HYDROmorphone 2 MG tablet ({days_ago(10)}; {CONFLICT})"
    ) in shown.detail
    # The plan page says what explains the positive, and that the order's code says otherwise.
    rows = {row.test: row for row in build_uds(run("patient-view", resources=resources).facts).rows}
    assert rows[HYDROMORPHONE_SCREEN[1]].explained == (f"HYDROmorphone 2 MG tablet ({days_ago(10)}; {CONFLICT})",)
    assert rows[HYDROMORPHONE_SCREEN[1]].unexpected == ()


def test_a_positive_for_the_code_is_no_unexpected_negative_for_the_name() -> None:
    assert (
        unexpected(
            epic_order("HYDROmorphone 2 MG tablet"),
            screen(OXYCODONE_SCREEN, 3, positive=True),
            screen(HYDROMORPHONE_SCREEN, 3, positive=False),
        )
        == []
    )


def test_negative_for_both_drugs_is_still_unexpected_and_the_card_names_the_conflict() -> None:
    shown = found(
        epic_order("HYDROmorphone 2 MG tablet"),
        screen(OXYCODONE_SCREEN, 3, positive=False),
        screen(HYDROMORPHONE_SCREEN, 3, positive=False),
    )
    assert shown is not None
    assert [(i["substance"], i["value"]) for i in shown.facts["unexpected"]] == [
        ("oxycodone", "negative"),
        ("hydromorphone", "negative"),
    ]
    assert (
        f"negative for oxycodone although HYDROmorphone 2 MG tablet was prescribed ({days_ago(10)}; {CONFLICT}, "
        "and no result that day was positive for hydromorphone)" in shown.detail
    )
    assert (
        f"negative for hydromorphone although HYDROmorphone 2 MG tablet was prescribed ({days_ago(10)}; {CONFLICT}, "
        "and no result that day was positive for oxycodone)" in shown.detail
    )
    assert_person_centred(shown)


def test_a_positive_on_another_day_does_not_answer_for_this_day() -> None:
    shown = unexpected(
        epic_order("HYDROmorphone 2 MG tablet"),
        screen(OXYCODONE_SCREEN, 3, positive=False),
        screen(HYDROMORPHONE_SCREEN, 2, positive=True),
    )
    assert shown == [("oxycodone", "negative")]


def test_an_order_whose_name_is_its_code_is_judged_as_before() -> None:
    # No conflict: the hydromorphone positive is unexpected, the oxycodone negative too.
    assert unexpected(
        epic_order("oxyCODONE 5 MG tablet"),
        screen(OXYCODONE_SCREEN, 3, positive=False),
        screen(HYDROMORPHONE_SCREEN, 3, positive=True),
    ) == [("oxycodone", "negative"), ("hydromorphone", "positive")]


def test_a_pharmacy_fill_whose_code_and_name_differ_is_judged_the_same_way() -> None:
    # A community pharmacy's fill (no order on record) coded oxycodone 5 mg and named hydromorphone; a new oxycodone
    # order is signed.
    fill = dispense(OXYCODONE_5, days_ago(5))
    fill["medicationCodeableConcept"]["text"] = "HYDROmorphone 2 MG tablet"
    resources = [fill, screen(OXYCODONE_SCREEN, 3, positive=False), screen(HYDROMORPHONE_SCREEN, 3, positive=True)]
    drafts = [med_request(OXYCODONE_5, draft=True, id="new-oxy", supply_days=5)]
    assert card(run("order-sign", drafts=drafts, resources=resources), CHECK_ID) is None


def test_an_opiate_screen_the_names_drug_explains_answers_for_the_codes_negative() -> None:
    # Hydromorphone is read by opiate immunoassays: a positive opiate screen is one a hydromorphone prescription
    # explains, so it answers for the oxycodone negative as a hydromorphone result would.
    assert (
        unexpected(
            epic_order("HYDROmorphone 2 MG tablet"),
            screen(OXYCODONE_SCREEN, 3, positive=False),
            screen(OPIATE_SCREEN, 3, positive=True),
        )
        == []
    )


def test_a_negative_an_opiate_screen_answers_for_claims_no_result_of_the_names_drug() -> None:
    # The oxycodone negative withdrawn for the opiate screen said "expected: positive for hydromorphone the same day",
    # a hydromorphone result no lab sent; it names the positive the lab did send.
    facts = run(
        "patient-view",
        resources=[
            epic_order("HYDROmorphone 2 MG tablet"),
            screen(OXYCODONE_SCREEN, 3, positive=False),
            screen(OPIATE_SCREEN, 3, positive=True),
        ],
    ).facts
    negatives = [s for r in facts.uds_results_since(12) for s in r.substances if s.value == "negative"]
    assert [(s.label, s.unexpected, s.explanation) for s in negatives] == [
        (
            "oxycodone",
            False,
            "expected: positive for opiates the same day (its code says oxycodone, its name says hydromorphone)",
        )
    ]
