"""A coded product whose own name states another opioid (clinical-logic, "A code and a name that state different
drugs"): counted by the reading whose MME is the higher, and the conflict named on the order's line and as a named
gap."""

from __future__ import annotations

import csv
from decimal import Decimal
from typing import Any

import builders
import pytest
from fixtures.mme.helpers import RXNORM, dosage, every, med_request, mme, terms

from guideline.fhirdata import Coding, Concept
from guideline.mme import Drug, OrderMme, identify_drug
from guideline.named_gaps import NAMED_GAPS
from guideline.recognition.lexicon import DRUG_TABLE
from guideline.record import ResolvedMedication

OXY_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
HYDROMORPHONE_2 = "897696"  # hydromorphone hydrochloride 2 MG Oral Tablet
CODEINE_ER = "1664543"  # 12 HR chlorpheniramine maleate 8 MG / codeine phosphate 54.3 MG Extended Release Oral Tablet
PERCOCET_5 = "1049640"  # acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet [Percocet]
NORCO_10 = "857001"  # acetaminophen 325 MG / hydrocodone bitartrate 10 MG Oral Tablet [Norco]
EPIC_ERX = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"  # an Epic site's own medication record (ERX) codes
CONFLICT = "its code says oxycodone, its name says hydromorphone"


def _order(coding: dict, text: str | None, dose: object = 1, hours: int = 6) -> OrderMme:
    """One active order of the coded product, as Oracle Health sends it (the order's name as the concept's text)."""
    concept: dict = {"coding": [{"system": RXNORM, **coding}]}
    if text is not None:
        concept["text"] = text
    summary = mme(med_request(None, [dosage(dose, every(hours))], medicationCodeableConcept=concept))
    assert len(summary.orders) == 1
    return summary.orders[0]


def _epic_order(name: str, rxcui: str = OXY_5, hours: int = 6) -> dict[str, Any]:
    """An Epic order of a drug record (ERX) whose RxNorm mapping is `rxcui`, named `name`, 1 tablet every `hours`."""
    order = med_request(None, [dosage(1, every(hours))], medicationReference={"reference": "#erx", "display": name})
    order["contained"] = [
        {
            "resourceType": "Medication",
            "id": "erx",
            "code": {
                "coding": [
                    {"system": EPIC_ERX, "code": "10814", "display": name},
                    {"system": RXNORM, "code": rxcui, "display": "oxycodone hydrochloride 5 MG Oral Tablet"},
                ],
                "text": name,
            },
        }
    ]
    return order


def test_an_epic_drug_record_mapped_to_oxycodone_but_named_hydromorphone_counts_the_hydromorphone() -> None:
    # 1 tablet every 6 hours: 20 mg oxycodone (30 MME/day) by the code, 8 mg hydromorphone (40 MME/day) by the name.
    order = mme(_epic_order("HYDROmorphone 2 MG tablet")).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal(40))
    assert order.daily_dose_text == "8 mg hydromorphone/day"
    assert order.explanation.endswith(
        f"; {CONFLICT}: counted as hydromorphone, 40.0 MME/day against 30.0 as oxycodone; check which drug is meant"
    )
    assert order.drug_conflicts == (
        f"{CONFLICT}: counted as hydromorphone, 40.0 MME/day against 30.0 as oxycodone; check which drug is meant",
    )


def test_a_codeine_code_named_oxycodone_keeps_the_codeine_whose_mme_is_the_higher() -> None:
    # 54.3 mg codeine × 0.15 = 8.145 MME a tablet; 5 mg oxycodone × 1.5 = 7.5: the code's reading is the higher.
    order = _order({"code": CODEINE_ER}, "oxycodone 5 mg pack", hours=12)
    assert order.mme == Decimal("16.29")
    assert order.explanation.endswith(
        "; its code says codeine, its name says oxycodone: counted as codeine, 16.3 MME/day against 15.0 as "
        "oxycodone; check which drug is meant"
    )


def test_a_conflicting_name_without_a_strength_is_named_and_the_code_counted() -> None:
    order = _order({"code": OXY_5}, "HYDROmorphone tablet")
    assert order.mme == Decimal(30)
    assert order.drug_conflicts == (
        f"{CONFLICT}: counted as oxycodone; as hydromorphone its MME could not be worked out; check which drug is "
        "meant",
    )


@pytest.mark.parametrize(
    "text", ["oxyCODONE 5 MG tablet (not HYDROmorphone)", "oxyCODONE 5 mg tab - was HYDROmorphone 2 mg, stopped"]
)
def test_a_drug_the_name_says_is_not_meant_is_no_conflict(text: str) -> None:
    # The words recognition reads a name up to ("not", "was", ...): the hydromorphone is the one replaced, and the
    # order was named as stating "oxycodone and hydromorphone", "check which drug is meant", of a name that says.
    order = _order({"code": OXY_5}, text)
    assert (order.mme, order.drug_conflicts) == (Decimal(30), ())


def test_the_codings_own_display_naming_another_drug_is_a_conflict_too() -> None:
    """Oracle Health: no text, the RxNorm coding's display edited locally."""
    order = _order({"code": OXY_5, "display": "HYDROmorphone 2 mg oral tablet"}, None)
    assert order.mme == Decimal(40)
    assert CONFLICT in order.explanation


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (PERCOCET_5, "Percocet 5/325"),  # a brand: oxycodone with acetaminophen
        (PERCOCET_5, "oxyCODONE-acetaminophen (PERCOCET) 5-325 MG per tablet"),
        (PERCOCET_5, "acetaminophen 325 mg tablet"),  # the name names the non-opioid partner only
        (NORCO_10, "HYDROcodone-acetaminophen (NORCO) 10-325 MG per tablet"),
        (NORCO_10, "NORCO 10-325"),
        (HYDROMORPHONE_2, "HYDROmorphone (DILAUDID) 2 MG tablet"),  # tall-man lettering, not hydrocodone
        (HYDROMORPHONE_2, "HYDROMORPH 2MG TAB"),  # a drug file's cut name
        (OXY_5, "oxyCODONE HCl 5 MG tablet"),  # a salt
        (OXY_5, "Roxicodone 5 mg"),
        (CODEINE_ER, "Tuxarin ER"),
    ],
)
def test_brands_salts_combinations_and_tall_man_names_of_the_coded_drug_are_no_conflict(code: str, name: str) -> None:
    order = _order({"code": code}, name)
    assert order.drug_conflicts == (), name
    assert "its code says" not in order.explanation


def test_tall_man_names_of_two_different_drugs_are_a_conflict() -> None:
    order = _order({"code": HYDROMORPHONE_2}, "HYDROcodone-acetaminophen 10-325 MG per tablet")
    assert order.drug_conflicts[0].startswith("its code says hydromorphone, its name says hydrocodone: counted as ")


def test_no_product_of_the_drug_table_conflicts_with_its_own_name() -> None:
    # Every opioid product's own RxNorm name, as text beside its code: no false conflict anywhere in the table.
    known = terms()
    with DRUG_TABLE.open(newline="", encoding="utf-8") as table:
        products = {row["rxcui"]: row["drug_name"] for row in csv.DictReader(table)}
    conflicting = []
    for rxcui, name in products.items():
        concept = Concept((Coding(RXNORM, rxcui),), name)
        drug = identify_drug(ResolvedMedication(concept=concept), known)
        if isinstance(drug, Drug) and drug.drug_conflicts:
            conflicting.append(name)
    assert conflicting == []


def test_a_pharmacy_fill_is_counted_by_the_same_reading() -> None:
    # 120 tablets for 30 days: 4 a day, as the order above.
    fill = builders.pbm_fill_mme(
        {
            "medicationCodeableConcept": {
                "coding": [{"system": RXNORM, "code": OXY_5, "display": "oxycodone hydrochloride 5 MG Oral Tablet"}],
                "text": "HYDROmorphone 2 MG tablet",
            }
        }
    )
    assert (fill.state, fill.mme) == ("ok", Decimal(40))
    assert fill.rxnorm_code == OXY_5
    assert fill.explanation.endswith(
        f"; {CONFLICT}: counted as hydromorphone, 40.0 MME/day against 30.0 as oxycodone; check which drug is meant"
    )


def _named(facts: Any) -> tuple[str, ...]:
    kind = next(kind for kind in NAMED_GAPS if kind.key == "drug-named-otherwise")
    return kind.items(facts)


def test_the_order_and_the_fill_are_named_on_the_plan_page_and_the_card() -> None:
    """An Epic order-sign call: a current order and a current fill of the mis-mapped drug record."""
    order = builders.med_request(OXY_5, id="eMr1", authored=builders.days_ago(3), display="oxycodone 5 mg tablet")
    order["medicationCodeableConcept"]["text"] = "HYDROmorphone 2 MG tablet"
    fill = {**builders.dispense(OXY_5, builders.days_ago(2)), "id": "eMd1", "quantity": {"value": 120}}
    fill["medicationCodeableConcept"]["text"] = "HYDROmorphone 2 MG tablet"
    draft = builders.med_request(OXY_5, draft=True, id="draft-oxy", supply_days=5)
    facts = builders.run("order-sign", drafts=[draft], resources=[order, fill]).facts
    detail = "counted as hydromorphone, 40.0 MME/day against 30.0 as oxycodone; check which drug is meant"
    assert _named(facts) == (
        f"HYDROmorphone 2 MG tablet (current order eMr1, {CONFLICT}: {detail})",
        f"HYDROmorphone 2 MG tablet (current fill eMd1, {CONFLICT}: {detail})",
    )
    kind = next(kind for kind in NAMED_GAPS if kind.key == "drug-named-otherwise")
    assert kind.card_named(facts) == _named(facts)  # an opioid is being ordered: the MME total is judged
