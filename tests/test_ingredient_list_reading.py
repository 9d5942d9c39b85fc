"""A Medication's ingredient list is read one way for the MME, for recognition and for the words that say why a dose
was not counted: an ingredient coded by an RxNorm code that is no opioid ingredient code (a precise ingredient, a
salt: oxycodone hydrochloride) is read by its name, as one with no code is; an ingredient given by reference to a
contained Medication or Substance is read by that resource's code; STU3's `amount` is its strength; a site's
ingredient code aliases are read by every reader alike; an inactive (`isActive` false) filler is no ingredient."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import builders
import pytest
from fixtures.mme.helpers import DRUG_FORM, RXNORM, UCUM, config, dosage, every, med_request, mme, orders, terms

from guideline.plan import build_plan, compact_drafts, drafts_from_app_context
from guideline.recognition import recognise
from guideline.recognition.classify import medication_names
from guideline.record import build_record
from guideline.set_names import NALOXONE_RESCUE, OPIOID
from guideline.terminology import load_terminology

EPIC_ERX = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"  # an Epic site's own medication records (ERX)
OXYCODONE_IN = "7804"
OXYCODONE_HCL_PIN = "82063"  # RxNorm precise ingredient: oxycodone hydrochloride


def _five_mg_a_tablet() -> dict[str, Any]:
    """Epic's strength: a Ratio of mg over one TAB of the HL7 orderable drug form."""
    return {
        "numerator": {"value": 5, "unit": "mg", "system": UCUM, "code": "mg"},
        "denominator": {"value": 1, "unit": "TAB", "system": DRUG_FORM, "code": "TAB"},
    }


def _pin_item() -> dict[str, Any]:
    coding = {"system": RXNORM, "code": OXYCODONE_HCL_PIN, "display": "oxycodone hydrochloride"}
    return {"itemCodeableConcept": {"coding": [coding], "text": "oxycodone HCl"}}


def _erx(ingredient: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An Epic drug record whose name gives no strength: only its ingredient list says how much oxycodone it holds."""
    name = "PAIN MED ORAL"
    return {
        "resourceType": "Medication",
        "id": "erx-1",
        "code": {"coding": [{"system": EPIC_ERX, "code": "240512", "display": name}], "text": name},
        "form": {"text": "tablet"},
        "ingredient": [ingredient],
        **extra,
    }


def _ordered(medication: dict[str, Any], *siblings: dict[str, Any]) -> dict[str, Any]:
    """One tablet every 6 hours (20 mg of oxycodone a day at 5 mg: 30 MME/day), the Medication contained."""
    request = med_request(None, [dosage(1, every(6))])
    request["contained"] = [medication, *siblings]
    request["medicationReference"] = {"reference": f"#{medication['id']}"}
    return request


def _counted(request: dict[str, Any]) -> tuple[str, Decimal | None, str]:
    order = mme(request).orders[0]
    return order.state, order.mme, recognise(orders(request)[0].medication, terms()).kind


def _counted_with(request: dict[str, Any], medication: dict[str, Any]) -> tuple[str, Decimal | None, str]:
    order = mme(request, medication).orders[0]
    return order.state, order.mme, recognise(orders(request, medication)[0].medication, terms()).kind


def test_an_epic_ingredient_coded_by_its_precise_ingredient_gives_the_strength() -> None:
    # Before: the RxNorm code 82063 is no opioid ingredient code, so the item was "another ingredient" and its name
    # unread: an opioid without a computable MME, though the list says 5 mg a tablet.
    request = _ordered(_erx({**_pin_item(), "strength": _five_mg_a_tablet()}))
    assert _counted(request) == ("ok", Decimal(30), "opioid-by-name")


def test_an_stu3_ingredient_amount_with_a_precise_ingredient_code_gives_the_strength() -> None:
    request = _ordered(_erx({**_pin_item(), "amount": _five_mg_a_tablet()}))
    assert _counted(request) == ("ok", Decimal(30), "opioid-by-name")


def test_a_non_opioid_ingredient_code_and_name_stay_another_ingredient() -> None:
    acetaminophen = {"system": RXNORM, "code": "161", "display": "acetaminophen"}
    medication = _erx({**_pin_item(), "strength": _five_mg_a_tablet()})
    medication["ingredient"].append(
        {
            "itemCodeableConcept": {"coding": [acetaminophen]},
            "strength": {**_five_mg_a_tablet(), "numerator": {"value": 325, "unit": "mg", "system": UCUM}},
        }
    )
    assert _counted(_ordered(medication)) == ("ok", Decimal(30), "opioid-by-name")


OXYCODONE_RESOURCE = {"coding": [{"system": RXNORM, "code": OXYCODONE_IN, "display": "oxycodone"}]}


@pytest.mark.parametrize("kind", ["Medication", "Substance"])
def test_an_ingredient_by_reference_to_a_contained_resource_is_read_by_its_code(kind: str) -> None:
    # Before: only the reference's display was read, and with none the ingredient named nothing: unidentified.
    ingredient = {"resourceType": kind, "id": "oxy", "code": OXYCODONE_RESOURCE}
    medication = _erx({"itemReference": {"reference": "#oxy"}, "strength": _five_mg_a_tablet()})
    assert _counted(_ordered(medication, ingredient)) == ("ok", Decimal(30), "known-opioid")


def test_an_ingredient_contained_in_the_medication_itself_is_read_by_its_code() -> None:
    """A Medication read from the server holds its ingredient Substance as its own contained resource."""
    medication = _erx(
        {"itemReference": {"reference": "#oxy"}, "strength": _five_mg_a_tablet()},
        contained=[{"resourceType": "Substance", "id": "oxy", "code": OXYCODONE_RESOURCE}],
    )
    request = med_request(None, [dosage(1, every(6))])
    request["medicationReference"] = {"reference": "Medication/erx-1"}
    state, counted, kind = _counted_with(request, medication)
    assert (state, counted, kind) == ("ok", Decimal(30), "known-opioid")


def test_a_reference_display_still_names_an_ingredient_not_contained() -> None:
    medication = _erx({"itemReference": {"reference": "Substance/s1", "display": "Oxycodone HCl"}})
    medication["ingredient"][0]["strength"] = _five_mg_a_tablet()
    assert _counted(_ordered(medication)) == ("ok", Decimal(30), "opioid-by-name")


def test_a_cards_link_carries_the_contained_ingredient_its_draft_names_and_only_its_code() -> None:
    # The plan page reads a draft from the card's link: without the Substance its ingredient names, the page read the
    # draft the card counted at 30 MME/day as unidentified.
    substance = {
        "resourceType": "Substance",
        "id": "oxy",
        "code": OXYCODONE_RESOURCE,
        "text": {"status": "generated", "div": "<div>oxycodone</div>"},
    }
    medication = _erx({"itemReference": {"reference": "#oxy"}, "strength": _five_mg_a_tablet()})
    unnamed = {"resourceType": "Substance", "id": "other", "code": {"text": "not named by the Medication"}}
    draft = {**_ordered(medication, substance, unnamed), "status": "draft"}
    [carried] = compact_drafts([draft], ["rx1"])
    assert [c["id"] for c in carried["contained"]] == ["erx-1", "oxy"]
    assert carried["contained"][1] == {"resourceType": "Substance", "id": "oxy", "code": OXYCODONE_RESOURCE}
    [read] = drafts_from_app_context({"drafts": [carried]})
    assert _counted(read) == _counted(draft) == ("ok", Decimal(30), "known-opioid")


# ---- a site's ingredient code aliases, read by every reader of the list ----

OXY_5000_WORDS = (
    "its ingredient list gives 5000 mg oxycodone, which is more than any oxycodone product holds (largest 80 mg): "
    "check the order"
)


def _aliased(mg: int) -> dict[str, Any]:
    """An ingredient coded only by a code the site aliases to oxycodone (`mme.ingredient_code_aliases`), no name."""
    strength = {**_five_mg_a_tablet(), "numerator": {"value": mg, "unit": "mg", "system": UCUM, "code": "mg"}}
    coded = {"coding": [{"system": RXNORM, "code": OXYCODONE_HCL_PIN}]}
    return _ordered(_erx({"itemCodeableConcept": coded, "strength": strength}))


ALIASES = {OXYCODONE_HCL_PIN: OXYCODONE_IN}


def test_the_words_for_an_impossible_listed_strength_read_the_sites_aliases() -> None:
    # Before: the MME read the alias and refused 5000 mg of oxycodone a tablet, but its words did not, and said only
    # "the product strength is implausible".
    order = mme(_aliased(5000), ingredient_code_aliases=ALIASES).orders[0]
    assert (order.state, order.reason, order.reason_text) == ("unknown", "implausible-strength", OXY_5000_WORDS)


def test_recognition_reads_the_sites_aliases_as_the_mme_does() -> None:
    # Before: counted at 30 MME/day by the MME, yet unidentified to recognition (and so to the cards' sets).
    site = load_terminology(config(ingredient_code_aliases=ALIASES))
    request = _aliased(5)
    medication = orders(request)[0].medication
    assert mme(request, ingredient_code_aliases=ALIASES).orders[0].mme == Decimal(30)
    assert recognise(medication, site).kind == "known-opioid"
    assert site.medication_in(OPIOID, medication)
    # Without the alias the code says nothing and there is no name: named unidentified, never counted.
    assert (mme(request).orders[0].mme, recognise(medication, terms()).kind) == (None, "unidentified")


# ---- isActive: an excipient is no ingredient the dose is measured against ----


def _with_excipient(opioid_active: bool = True) -> dict[str, Any]:
    """Oxycodone 5 mg a tablet with an inactive filler listed (`isActive` false, no strength), as a drug file may."""
    oxycodone = {"itemCodeableConcept": OXYCODONE_RESOURCE, "isActive": opioid_active, "strength": _five_mg_a_tablet()}
    filler = {"itemCodeableConcept": {"text": "microcrystalline cellulose"}, "isActive": False}
    return {**_erx(oxycodone), "ingredient": [oxycodone, filler]}


def _dosed_in_mg(medication: dict[str, Any]) -> dict[str, Any]:
    request = _ordered(medication)
    request["dosageInstruction"] = [dosage({"value": 5, "unit": "mg", "system": UCUM, "code": "mg"}, every(6))]
    return request


def test_an_inactive_ingredient_is_no_partner_of_a_dose_in_mg() -> None:
    # Before: the filler was "another ingredient" with no strength, so "5 mg every 6 hours" of the product was
    # ambiguous (which ingredient does 5 mg measure?) and not counted.
    order = mme(_dosed_in_mg(_with_excipient())).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal(30))


def test_an_opioid_marked_inactive_is_still_counted() -> None:
    """No opioid is an excipient: a record marking one inactive is counted, never hidden."""
    assert _counted(_dosed_in_mg(_with_excipient(opioid_active=False))) == ("ok", Decimal(30), "known-opioid")


# ---- the non-opioid therapies tried read the list as the MME does ----

SITE_DULOXETINE = "90000123"  # a code the site's drug file keeps in the RxNorm system; the site aliases it
DULOXETINE_IN = "72625"


def _cymbalta_ordered(ingredient_code: str) -> dict[str, Any]:
    """An Epic order of its drug record CYMBALTA 60 MG CAPSULE DR: the brand name, and duloxetine only in its list."""
    name = "CYMBALTA 60 MG CAPSULE DR"
    duloxetine = {
        "itemCodeableConcept": {"coding": [{"system": RXNORM, "code": ingredient_code}]},
        "strength": {
            "numerator": {"value": 60, "unit": "mg", "system": UCUM, "code": "mg"},
            "denominator": {"value": 1, "unit": "CAP", "system": DRUG_FORM, "code": "CAP"},
        },
    }
    medication = {
        "resourceType": "Medication",
        "id": "erx-cymbalta",
        "code": {"coding": [{"system": EPIC_ERX, "code": "31542", "display": name}], "text": name},
        "form": {"text": "capsule, delayed release"},
        "ingredient": [duloxetine],
    }
    request = builders.med_request("0", id="rx-cymbalta", authored=builders.days_ago(90), frequency=1, period=1)
    del request["medicationCodeableConcept"]
    request["contained"] = [medication]
    request["medicationReference"] = {"reference": "#erx-cymbalta"}
    return request


def _tried(request: dict[str, Any], settings: dict[str, Any]) -> tuple[str, ...]:
    evaluation = builders.run("patient-view", resources=[request], config=settings)
    content = build_plan(evaluation, (), evaluation.facts.config, builders.NOW).section("nonopioid").content
    return next(t for t in content.medicines if t.key == "antidepressant").evidence


def test_a_non_opioid_named_by_an_aliased_ingredient_code_is_a_therapy_tried() -> None:
    # Before: the non-opioid list read the ingredient codes on its own, without the site's aliases, so duloxetine
    # ordered as Epic's CYMBALTA record (its ingredient coded by the site's own code) was no SNRI tried.
    aliased = {"mme": {"ingredient_code_aliases": {SITE_DULOXETINE: DULOXETINE_IN}}}
    assert _tried(_cymbalta_ordered(SITE_DULOXETINE), aliased) == (
        f"CYMBALTA 60 MG CAPSULE DR (active, {builders.days_ago(90)})",
    )
    assert _tried(_cymbalta_ordered(SITE_DULOXETINE), {}) == ()  # the code alone says nothing without the alias
    assert _tried(_cymbalta_ordered(DULOXETINE_IN), {}) != ()


# ---- recognition reads no inactive ingredient's name, as the MME counts none ----

EPIC_LOCAL_INGREDIENT = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698297"  # an Epic site's own ingredient codes
NALOXONE_IN = "7242"


def _deterrent_naloxone(active: bool) -> dict[str, Any]:
    """An Epic drug record of an abuse-deterrent opioid tablet: its opioid coded only by the site's own ingredient
    code, and naloxone listed as a deterrent the record marks inactive (`isActive` false) or active."""
    opioid = {
        "itemCodeableConcept": {"coding": [{"system": EPIC_LOCAL_INGREDIENT, "code": "40311"}]},
        "strength": {**_five_mg_a_tablet(), "numerator": {"value": 10, "unit": "mg", "system": UCUM, "code": "mg"}},
    }
    naloxone = {
        "itemCodeableConcept": {
            "coding": [{"system": RXNORM, "code": NALOXONE_IN, "display": "naloxone hydrochloride"}]
        },
        "isActive": active,
    }
    name = "PAIN MED ER TABLET"
    return {
        **_erx(opioid),
        "code": {"coding": [{"system": EPIC_ERX, "code": "240610", "display": name}], "text": name},
        "ingredient": [opioid, naloxone],
    }


def test_an_inactive_naloxone_does_not_make_the_product_naloxone() -> None:
    # Before: its name was read, and with the opioid's code unknown the product was read as naloxone, so a patient
    # given this opioid looked supplied with naloxone. Now it names nothing PainPlan knows: unidentified, and named.
    medication = orders(_ordered(_deterrent_naloxone(active=False)))[0].medication
    assert medication_names(medication) == ("PAIN MED ER TABLET tablet",)  # the form words join each name
    assert recognise(medication, terms()).kind == "unidentified"
    assert not terms().medication_in(NALOXONE_RESCUE, medication)


def test_an_active_naloxone_is_still_read_by_its_name() -> None:
    medication = orders(_ordered(_deterrent_naloxone(active=True)))[0].medication
    assert "naloxone hydrochloride tablet" in medication_names(medication)


def test_an_opioid_marked_inactive_is_still_read_by_its_name() -> None:
    """No opioid is a filler (the MME's rule): its name still says what the product is."""
    oxycodone = {"itemCodeableConcept": {"text": "oxycodone hydrochloride"}, "isActive": False}
    medication = orders(_ordered(_erx(oxycodone)))[0].medication
    assert "oxycodone hydrochloride tablet" in medication_names(medication)
    assert recognise(medication, terms()).kind == "opioid-no-mme"


# ---- one substance listed twice is one ingredient ----


def _oxycodone(mg: int, coded: dict[str, Any] | None = None) -> dict[str, Any]:
    strength = {**_five_mg_a_tablet(), "numerator": {"value": mg, "unit": "mg", "system": UCUM, "code": "mg"}}
    return {"itemCodeableConcept": coded or OXYCODONE_RESOURCE, "strength": strength}


def _listed_twice(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    return _ordered({**_erx(first), "ingredient": [first, second]})


@pytest.mark.parametrize(
    "second",
    [_oxycodone(5), {**_pin_item(), "strength": _five_mg_a_tablet()}],
    ids=["the same code twice", "its ingredient and its precise ingredient"],
)
def test_one_opioid_listed_twice_at_one_strength_is_counted_once(second: dict[str, Any]) -> None:
    # Before: each entry was another strength of oxycodone, summed into 10 mg a tablet: 60 MME/day, not 30.
    order = mme(_listed_twice(_oxycodone(5), second)).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal(30))
    assert order.dose_explanation == (
        "PAIN MED ORAL: 1 tablet every 6 hours (4 a day) = 20 mg/day oxycodone × 1.5 = 30.0 MME/day"
    )


def test_one_opioid_listed_twice_at_two_strengths_is_counted_at_the_higher_and_named() -> None:
    """The list contradicts itself, as a code and a name may: the higher counted, the disagreement named."""
    pin = {**_pin_item(), "strength": _oxycodone(10)["strength"]}
    order = mme(_listed_twice(_oxycodone(5), pin)).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal(60))
    assert order.dose_explanation == (
        "PAIN MED ORAL: 1 tablet every 6 hours (4 a day) = 40 mg/day oxycodone × 1.5 = 60.0 MME/day; the ingredient "
        "list says 5 mg oxycodone, the ingredient list's other entry says 10 mg: counted at 10 mg, check which "
        "strength is meant"
    )


@pytest.mark.parametrize("written", (["Substance"], {"text": "Substance"}), ids=("list", "object"))
def test_a_contained_substance_of_no_type_costs_its_ingredient_only_never_the_order(written: Any) -> None:
    """A contained Substance whose resourceType is no text is no ingredient an "#id" names, as a contained
    Medication so written names no medicine: the order is read, and its ingredient by the reference's display alone.
    Before, its type was a set's key and the whole order was named unreadable, its 30 MME/day uncounted."""
    broken = {"resourceType": written, "id": "oxy", "code": OXYCODONE_RESOURCE}
    by_display = {"itemReference": {"reference": "#oxy", "display": "oxycodone hydrochloride"}}
    request = _ordered(_erx({**by_display, "strength": _five_mg_a_tablet()}), broken)
    record = build_record([request], builders.TZ)
    assert not record.problems
    assert _counted(request) == ("ok", Decimal(30), "opioid-by-name")
