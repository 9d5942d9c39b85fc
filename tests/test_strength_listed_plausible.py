"""A Medication's ingredient list whose opioid strength no product has (oxycodone 5000 mg a tablet: an EHR drug-file
error, or mg keyed for mcg) is not counted: the order is named with the strength and the largest real one, never
counted as a loud false critical total, and everything else is still evaluated. The bound is the one a name's
strength meets (`implausible-strength`, the largest product strength of that opioid + 10 %). A code the drug table
holds is the product: its own strength is counted over an impossible list strength, which is named (a plausible one
that differs: tests/test_strength_disagree.py)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from builders import days_ago, pbm_fill_mme
from builders import med_request as hook_order
from cds_support import bundle, full_prefetch, hook_request, make_app, plan_page
from fixtures.mme.helpers import RXNORM, dosage, every, mme, qty
from fixtures.mme.helpers import med_request as mme_request
from markupsafe import escape

EPIC_MEDICATION = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"  # an Epic site's own medication records (ERX)
EPIC_FORM = "urn:oid:1.2.840.114350.1.13.0.1.7.4.698288.310"
OXYCODONE = "7804"
FENTANYL = "4337"
OXY_WORDS = (
    "its ingredient list gives 5000 mg oxycodone, which is more than any oxycodone product holds (largest 80 mg): "
    "check the order"
)


def _medication(name: str, rxcui: str, numerator: dict, denominator: dict, form: str | None = "tablet") -> dict:
    """An Epic Medication as the EHR's own drug record (ERX) sends it: its local code, its form, its ingredient."""
    medication: dict[str, Any] = {
        "resourceType": "Medication",
        "id": "erx-1",
        "code": {"coding": [{"system": EPIC_MEDICATION, "code": "240512", "display": name}], "text": name},
        "ingredient": [
            {
                "itemCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui}], "text": name.split()[0]},
                "strength": {"numerator": numerator, "denominator": denominator},
            }
        ],
    }
    if form:
        medication["form"] = {"coding": [{"system": EPIC_FORM, "code": "1", "display": form}], "text": form}
    return medication


def _oxy_5000() -> dict:
    return _medication("PAIN MED ORAL", OXYCODONE, qty(5000, "mg"), qty(1, "{tbl}"))


def _ordered(medication: dict, dose: Any = 1, hours: int = 6) -> dict:
    request = mme_request(None, [dosage(dose, every(hours))])
    request["contained"] = [medication]
    request["medicationReference"] = {"reference": f"#{medication['id']}", "display": medication["code"]["text"]}
    return request


def test_an_impossible_listed_strength_is_not_counted_and_says_why() -> None:
    # Before: 5000 mg of oxycodone a tablet, 4 a day: 30000 MME, counted without a word.
    order = mme(_ordered(_oxy_5000())).orders[0]
    assert (order.state, order.reason, order.mme) == ("unknown", "implausible-strength", None)
    assert order.reason_text == OXY_WORDS


def test_a_patch_listed_in_mg_per_hour_for_mcg_is_named_in_mcg_per_hour() -> None:
    """Fentanyl 25 listed as mg/h (mcg meant): 25000 mcg/h, a thousand times the patch."""
    patch = _medication("FENTANYL PATCH", FENTANYL, qty(25, "mg"), qty(1, "h"), form="patch")
    order = mme(_ordered(patch, qty(1, "{patch}"), 72)).orders[0]
    assert (order.state, order.reason) == ("unknown", "implausible-strength")
    assert order.reason_text == (
        "its ingredient list gives 25000 mcg/h fentanyl, which is more than any fentanyl product holds (largest "
        "100 mcg/h): check the order"
    )


def test_an_ingredient_named_without_a_code_meets_the_bound_too() -> None:
    """DSTU2/Oracle: the ingredient known by its name only ("oxycodone hydrochloride"), 5000 mg a tablet."""
    medication = _oxy_5000()
    medication["ingredient"][0]["itemCodeableConcept"] = {"text": "oxycodone hydrochloride"}
    order = mme(_ordered(medication)).orders[0]
    assert (order.state, order.reason, order.reason_text) == ("unknown", "implausible-strength", OXY_WORDS)


def test_real_listed_strengths_are_still_counted() -> None:
    largest = _medication("OXYCODONE ER", OXYCODONE, qty(80, "mg"), qty(1, "{tbl}"))
    assert (mme(_ordered(largest, 1, 12)).orders[0].state, mme(_ordered(largest, 1, 12)).orders[0].mme) == (
        "ok",
        Decimal(240),
    )
    # A liquid's strength per 5 mL: 5 mg/5 mL is 1 mg/mL, far under the largest (20 mg/mL).
    liquid = _medication("OXYCODONE SOLN", OXYCODONE, qty(5, "mg"), qty(5, "mL"), form="solution")
    order = mme(_ordered(liquid, qty(10, "mL"), 6)).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal(60))
    patch = _medication("FENTANYL PATCH", FENTANYL, qty(100, "ug"), qty(1, "h"), form="patch")
    assert mme(_ordered(patch, qty(1, "{patch}"), 72)).orders[0].state == "ok"


def test_a_known_rxnorm_product_counts_its_own_strength() -> None:
    """Code oxycodone hydrochloride 5 MG Oral Tablet (an SCD the drug table holds) beside an ingredient list saying
    5000 mg: the code is the product, so 5 mg is counted, as a name's impossible strength beside a code is."""
    medication = _oxy_5000()
    medication["code"] = {"coding": [{"system": RXNORM, "code": "1049621"}], "text": "oxyCODONE 5 MG tablet"}
    order = mme(_ordered(medication)).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal(30))
    # ... and the record's contradiction is named, as a name's is: never silently passed over.
    assert order.explanation.endswith(
        "the code says 5 mg oxycodone, the ingredient list says 5000 mg (more than any oxycodone product holds): "
        "counted at 5 mg, check which strength is meant"
    ), order.explanation


def test_a_known_product_whose_list_agrees_says_nothing_more() -> None:
    medication = _medication("OXYCODONE 5 MG TAB", OXYCODONE, qty(5, "mg"), qty(1, "{tbl}"))
    medication["code"] = {"coding": [{"system": RXNORM, "code": "1049621"}], "text": "oxyCODONE 5 MG tablet"}
    order = mme(_ordered(medication)).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal(30))
    assert "check which strength" not in order.explanation


def test_the_card_names_it_and_still_counts_the_rest(tmp_path: Path) -> None:
    draft = hook_order("1049621", draft=True, id="draft-1", authored=None, dose=3, period=4)  # 5 mg: 135 MME
    current = _ordered(_oxy_5000())
    current.update(id="mr-erx", subject={"reference": "Patient/p1"}, authoredOn=days_ago(10))
    body = hook_request("order-sign", drafts=[draft], prefetch=None)
    body["prefetch"] = full_prefetch("order-sign", medsActive=bundle(current))
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    card = next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == "high-mme")
    assert "135" in card["summary"]  # the draft is still counted, the impossible order is not
    assert f"**Could not be converted:**\n- PAIN MED ORAL: {OXY_WORDS}" in card["detail"]
    assert "30000" not in card["summary"] + card["detail"]


def test_the_plan_page_names_it(tmp_path: Path) -> None:
    current = _ordered(_oxy_5000())
    current.update(id="mr-erx", subject={"reference": "Patient/p1"}, authoredOn=days_ago(10))
    assert str(escape(f"PAIN MED ORAL: {OXY_WORDS}")) in plan_page(tmp_path, current)


def test_a_fill_of_it_says_it_too() -> None:
    result = pbm_fill_mme({"contained": [_oxy_5000()], "medicationReference": {"reference": "#erx-1"}})
    assert (result.state, result.reason, result.mme) == ("unknown", "implausible-strength", None)
    assert result.reason_text == OXY_WORDS
