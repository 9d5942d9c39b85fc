"""A Medication whose RxNorm code the drug table holds (oxycodone hydrochloride 5 MG Oral Tablet) and whose own
ingredient list states another plausible strength of the same opioid (oxycodone 10 mg per tablet): the record
contradicts itself, as when an order's name states another strength. The higher strength is counted, as for a name
(clinical-logic, MME step 1), and the disagreement is named wherever the order's MME line is shown ("the code says 5 mg
oxycodone, the ingredient list says 10 mg: counted at 10 mg, check which strength is meant"). Before, the code's
strength was counted and the list passed over without a word (only a list strength no product holds was named)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import builders
from builders import days_ago, pbm_fill_mme
from cds_support import plan_page
from fixtures.mme.helpers import RXNORM, dosage, every, mme, qty
from fixtures.mme.helpers import med_request as mme_request
from markupsafe import escape

EPIC_MEDICATION = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"  # an Epic site's own medication records (ERX)
OXYCODONE = "7804"
ACETAMINOPHEN = "161"
OXY_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
OXY_10 = "1049683"  # oxycodone hydrochloride 10 MG Oral Tablet
PERCOCET_5 = "1049640"  # acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet [Percocet]
LIST_SAYS_10 = (
    "the code says 5 mg oxycodone, the ingredient list says 10 mg: counted at 10 mg, check which strength is meant"
)


def _ingredient(rxcui: str, name: str, mg: Any) -> dict[str, Any]:
    return {
        "itemCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui, "display": name}], "text": name},
        "strength": {"numerator": qty(mg, "mg"), "denominator": qty(1, "{tbl}")},
    }


def epic_medication(rxcui: str, text: str, *ingredients: dict[str, Any]) -> dict[str, Any]:
    """An Epic Medication (ERX record) coded with RxNorm beside its local code, with its ingredient list."""
    return {
        "resourceType": "Medication",
        "id": "erx-4410",
        "code": {
            "coding": [
                {"system": EPIC_MEDICATION, "code": "240517", "display": text},
                {"system": RXNORM, "code": rxcui},
            ],
            "text": text,
        },
        "form": {"text": "tablet"},
        "ingredient": list(ingredients),
    }


def oxy_5_listing_10() -> dict[str, Any]:
    return epic_medication(OXY_5, "oxyCODONE IR tablet", _ingredient(OXYCODONE, "oxycodone", 10))


def _ordered(medication: dict[str, Any], hours: int = 6) -> dict[str, Any]:
    request = mme_request(None, [dosage(1, every(hours))])
    request["contained"] = [medication]
    request["medicationReference"] = {"reference": f"#{medication['id']}", "display": medication["code"]["text"]}
    return request


def test_a_plausible_listed_strength_above_the_codes_is_counted_and_named() -> None:
    # 1 tablet every 6 hours: 5 mg is 30 MME/day, 10 mg 60.
    order = mme(_ordered(oxy_5_listing_10())).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal(60))
    assert order.explanation.endswith(LIST_SAYS_10), order.explanation


def test_a_listed_strength_below_the_codes_keeps_the_codes_and_is_named() -> None:
    medication = epic_medication(OXY_10, "oxyCODONE IR tablet", _ingredient(OXYCODONE, "oxycodone", 5))
    order = mme(_ordered(medication)).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal(60))
    assert order.explanation.endswith(
        "the code says 10 mg oxycodone, the ingredient list says 5 mg: counted at 10 mg, check which strength is meant"
    ), order.explanation


def test_a_combinations_list_disagreeing_on_its_opioid_is_named() -> None:
    medication = epic_medication(
        PERCOCET_5,
        "PERCOCET TAB",
        _ingredient(OXYCODONE, "oxycodone", "7.5"),
        _ingredient(ACETAMINOPHEN, "acetaminophen", 325),
    )
    order = mme(_ordered(medication)).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal(45))  # 7.5 mg × 4 × 1.5
    assert "the code says 5 mg oxycodone, the ingredient list says 7.5 mg: counted at 7.5 mg" in order.explanation


def test_a_name_and_a_list_each_disagreeing_are_both_named_and_the_highest_counted() -> None:
    medication = epic_medication(OXY_5, "oxycodone 10 mg tablet", _ingredient(OXYCODONE, "oxycodone", 15))
    order = mme(_ordered(medication)).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal(90))  # 15 mg × 4 × 1.5
    assert "the code says 5 mg oxycodone, the name says 10 mg" in order.explanation
    assert "the code says 5 mg oxycodone, the ingredient list says 15 mg: counted at 15 mg" in order.explanation


def test_a_name_above_the_list_is_counted_though_the_list_is_read_after_it() -> None:
    """Each statement is weighed against the code's own strength: the list's 10 mg neither undoes the name's 15 mg
    nor is compared with it."""
    medication = epic_medication(OXY_5, "oxycodone 15 mg tablet", _ingredient(OXYCODONE, "oxycodone", 10))
    order = mme(_ordered(medication)).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal(90))  # 15 mg × 4 × 1.5
    assert "the code says 5 mg oxycodone, the name says 15 mg: counted at 15 mg" in order.explanation
    # Each line says the strength the dose was counted at: the list's line said "counted at 10 mg" of a dose
    # counted at 15.
    assert "the code says 5 mg oxycodone, the ingredient list says 10 mg: counted at 15 mg" in order.explanation


def test_a_list_agreeing_with_the_code_says_nothing() -> None:
    medication = epic_medication(OXY_5, "oxyCODONE IR tablet", _ingredient(OXYCODONE, "oxycodone", 5))
    order = mme(_ordered(medication)).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal(30))
    assert "check which strength" not in order.explanation


def test_the_high_dose_card_counts_it_and_names_the_disagreement() -> None:
    """An order-sign draft, 1 tablet every 4 hours: 45 MME/day by the code, 90 by the list."""
    draft = builders.med_request(OXY_5, draft=True, id="draft-erx", period=4, supply_days=5)
    del draft["medicationCodeableConcept"]
    draft["contained"] = [oxy_5_listing_10()]
    draft["medicationReference"] = {"reference": "#erx-4410", "display": "oxyCODONE IR tablet"}
    high = builders.card(builders.run("order-sign", drafts=[draft]), "high-mme")
    assert high is not None and "90.0 MME/day" in high.summary
    assert "the code says 5 mg oxycodone, the ingredient list says 10 mg: counted at 10 mg" in high.detail


def test_the_plan_page_names_it(tmp_path: Path) -> None:
    current = _ordered(oxy_5_listing_10())
    current.update(id="mr-erx", subject={"reference": "Patient/p1"}, authoredOn=days_ago(10))
    assert str(escape(LIST_SAYS_10)) in plan_page(tmp_path, current)


def test_a_pharmacy_fill_of_it_says_it_too() -> None:
    # 120 tablets for 30 days: 4 a day; 10 mg is 60 MME/day.
    result = pbm_fill_mme({"contained": [oxy_5_listing_10()], "medicationReference": {"reference": "#erx-4410"}})
    assert (result.state, result.mme) == ("ok", Decimal(60))
    assert LIST_SAYS_10 in result.explanation
