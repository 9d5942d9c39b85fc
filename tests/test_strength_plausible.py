"""A strength read from a name that is more than any product of that opioid holds ("oxycodone 5,325 mg": a
combination's two strengths written as one number, the acetaminophen left out) is not counted: the order is named as
recognised with a strength not plausible, never counted and never silently 0. Real strengths still read right."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from builders import med_request, pbm_fill_mme
from cds_support import bundle, full_prefetch, hook_request, make_app
from fixtures.mme.helpers import dosage, every, mme, qty, terms
from fixtures.mme.helpers import med_request as mme_request

from guideline.recognition.strength_bounds import largest_strength

WORDS = (
    "identified from its name as oxycodone; 5325 mg is more than any oxycodone product holds (largest 80 mg): "
    "check the order"
)


def _named(name: str, dose: Any = 1, hours: int = 6) -> dict:
    request = mme_request(None, [dosage(dose, every(hours))])
    request["medicationCodeableConcept"] = {"text": name}
    return request


def test_an_impossible_strength_read_from_a_name_is_not_counted_and_says_why() -> None:
    # Before: 5325 mg of oxycodone a tablet, 4 a day: 31950 MME, a loud false critical card.
    order = mme(_named("oxycodone 5,325 mg tablet")).orders[0]
    assert (order.state, order.reason, order.mme) == ("unknown", "implausible-strength", None)
    assert order.reason_text == WORDS
    assert order.explanation == f"oxycodone 5,325 mg tablet: {WORDS}"


def test_the_card_names_it_under_could_not_be_converted(tmp_path: Path) -> None:
    draft = med_request("0", draft=True, id="draft-1", authored=None)
    draft["medicationCodeableConcept"] = {"text": "oxyCODONE 5,325 MG TABS"}
    body = hook_request("order-sign", drafts=[draft], prefetch=None)
    body["prefetch"] = full_prefetch("order-sign", medsActive=bundle())
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    card = next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == "high-mme")
    assert (
        "**Could not be converted:**\n- oxyCODONE 5,325 MG TABS: identified from its name as oxycodone; "
        in card["detail"]
    )
    assert "5325 mg is more than any oxycodone product holds (largest 80 mg): check the order" in card["detail"]


def test_the_bounds_come_from_the_drug_table_by_form_family() -> None:
    table = terms()
    assert largest_strength(table, "oxycodone", "unit", "tablet") == Decimal(80)
    assert largest_strength(table, "oxycodone", "ml", "solution") == Decimal(20)
    assert largest_strength(table, "fentanyl", "unit", "lozenge") == Decimal("1.6")
    assert largest_strength(table, "fentanyl", "hour", "patch") == Decimal("0.1")
    assert largest_strength(table, "fentanyl", "unit", None) == Decimal("1.6")  # form unknown: any form
    assert largest_strength(table, "sufentanil", "unit", None) is None  # no product in the table: no bound


def test_a_liquid_stronger_than_any_is_named_in_its_unit() -> None:
    order = mme(_named("methadone 100 mg/mL oral concentrate", qty(1, "mL"), 24)).orders[0]
    assert (order.state, order.reason) == ("unknown", "implausible-strength")
    assert "100 mg/mL is more than any methadone product holds (largest 20 mg/mL)" in order.reason_text


def test_a_patch_stronger_than_any_is_named_in_mcg_per_hour() -> None:
    request = mme_request(None, [dosage(qty(1, "{patch}"), every(72))])
    request["medicationCodeableConcept"] = {"text": "fentanyl 1,000 mcg/hr transdermal patch"}
    order = mme(request).orders[0]
    assert (order.state, order.reason) == ("unknown", "implausible-strength")
    assert "1000 mcg/h is more than any fentanyl product holds (largest 100 mcg/h)" in order.reason_text


def test_real_strengths_read_from_names_are_still_counted() -> None:
    percocet = mme(_named("Percocet 10/325 tablet")).orders[0]
    assert (percocet.state, percocet.mme) == ("ok", Decimal(60))
    patch = mme_request(None, [dosage(qty(1, "{patch}"), every(72))])
    patch["medicationCodeableConcept"] = {"text": "fentanyl 100 mcg/hr transdermal patch"}
    assert mme(patch).orders[0].state == "ok"
    actiq = mme_request(None, [dosage(qty(1, "{lozenge}"), every(6))])
    actiq["medicationCodeableConcept"] = {"text": "ACTIQ 1,600 MCG LOZG"}
    assert (mme(actiq).orders[0].state, mme(actiq).orders[0].mme) == ("ok", Decimal(832))
    methadone = mme(_named("methadone 10 mg/mL oral concentrate", qty(2, "mL"), 24)).orders[0]
    # An oral concentrate is read as methadone for opioid use disorder (kept out of the total), its dose still read.
    assert (methadone.reason, methadone.daily_dose_text) == ("oud-methadone", "20 mg methadone/day")
    largest = mme(_named("oxycodone ER 80 mg tablet", 1, 12)).orders[0]
    assert (largest.state, largest.mme) == ("ok", Decimal(240))


def test_a_coded_product_keeps_its_own_strength() -> None:
    """The rule is for strengths read from names: an RxNorm product's strengths are its own."""
    request = mme_request("1049621", [dosage(1, every(6))])  # oxycodone hydrochloride 5 MG Oral Tablet
    order = mme(request).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal(30))


def test_a_fill_named_so_says_it_too() -> None:
    """A PBM fill "OXYCODONE 5,325 MG TAB", 120 tablets for 30 days: named, not 31950 MME a day."""
    result = pbm_fill_mme({"medicationCodeableConcept": {"text": "OXYCODONE 5,325 MG TAB"}})
    assert (result.state, result.reason, result.mme) == ("unknown", "implausible-strength", None)
    assert result.reason_text == WORDS


def test_a_coded_product_whose_name_states_an_impossible_strength_counts_the_code() -> None:
    """Code oxycodone 5 mg, text "oxycodone 5,325 mg tablet": a name's strength is counted over the code's only
    when some product has it. Before: counted at 5325 mg, 31950 MME/day; now the code's 5 mg, the conflict named."""
    request = mme_request("1049621", [dosage(1, every(6))])  # oxycodone hydrochloride 5 MG Oral Tablet
    request["medicationCodeableConcept"]["text"] = "oxycodone 5,325 mg tablet"
    order = mme(request).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal(30))
    assert order.explanation.endswith(
        "the code says 5 mg oxycodone, the name says 5325 mg (more than any oxycodone product holds): counted at "
        "5 mg, check which strength is meant"
    ), order.explanation


def test_a_coded_product_whose_name_states_a_real_higher_strength_still_counts_the_higher() -> None:
    request = mme_request("1049621", [dosage(1, every(6))])
    request["medicationCodeableConcept"]["text"] = "oxycodone 10 mg tablet"
    order = mme(request).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal(60))
