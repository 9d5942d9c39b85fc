"""Strengths written with a thousands separator ("1,000 mcg", "ACTIQ 1,600 MCG") or a decimal comma ("7,5 mg") are
read as the number written; list commas ("5 mg, 325 mg") still separate strengths."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fixtures.mme.helpers import dosage, every, med_request, mme, qty

from guideline.recognition.names import read_name


def strengths(name: str) -> dict[str, tuple[Decimal, str]]:
    return {s.ingredient: (s.mg, s.per) for s in read_name(name).strengths}


@pytest.mark.parametrize(
    ("name", "ingredient", "mg", "per"),
    [
        # Before: the comma was a space, so "1,000 mcg" was "000 mcg", 0 mg.
        ("Cyanocobalamin 1,000 mcg", "cyanocobalamin", Decimal(1), "unit"),
        ("CYANOCOBALAMIN 1,000 MCG PO TABS", "cyanocobalamin", Decimal(1), "unit"),
        ("fentanyl citrate 1,000 mcg/20 mL injection", "fentanyl", Decimal("0.05"), "ml"),
        ("ACTIQ 1,600 MCG LOZG", "fentanyl", Decimal("1.6"), "unit"),
        ("fentanyl citrate 1,200 mcg buccal lozenge", "fentanyl", Decimal("1.2"), "unit"),
        ("morphine sulfate 10,000 mcg tablet", "morphine", Decimal(10), "unit"),
        ("acetaminophen 1,000 mg tablet", "acetaminophen", Decimal(1000), "unit"),
        # A comma right after the number ("1,600, mcg") left "1,600" a decimal comma: 1.6 mcg, a thousandth of the dose.
        ("fentanyl citrate lozenge 1,600, mcg", "fentanyl", Decimal("1.6"), "unit"),
    ],
)
def test_a_thousands_separator_is_read_as_one_number(name: str, ingredient: str, mg: Decimal, per: str) -> None:
    assert strengths(name)[ingredient] == (mg, per)


def test_a_thousands_separator_keeps_its_written_text() -> None:
    assert read_name("ACTIQ 1,600 MCG LOZG").strength_of("fentanyl").shown == "1600 mcg"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # Before: "7,5 mg" was "7 5 mg", read as 5 mg of oxycodone: a third of the dose lost, silently.
        ("oxyCODONE 7,5 mg tablet", {"oxycodone": (Decimal("7.5"), "unit")}),
        ("oxycodone/paracetamol 7,5/325 mg tablet", {"oxycodone": (Decimal("7.5"), "unit")}),
        ("morphine 0,5 mg/ml oral solution", {"morphine": (Decimal("0.5"), "ml")}),
        ("Fentanyl 12,5 mcg/h transdermal patch", {"fentanyl": (Decimal("0.0125"), "hour")}),
    ],
)
def test_a_decimal_comma_is_read_as_a_decimal_point(name: str, expected: dict) -> None:
    found = strengths(name)
    assert {k: found[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "hydrocodone bitartrate 5 mg, acetaminophen 325 mg tablet",
            {"hydrocodone": (Decimal(5), "unit"), "acetaminophen": (Decimal(325), "unit")},
        ),
        (
            "oxycodone 10 mg,acetaminophen 325 mg",
            {"oxycodone": (Decimal(10), "unit"), "acetaminophen": (Decimal(325), "unit")},
        ),
    ],
)
def test_list_commas_still_separate_strengths(name: str, expected: dict) -> None:
    assert strengths(name) == expected


@pytest.mark.parametrize("name", ["HYDROCODONE-ACETAMINOPHEN 5,325 MG TABLET", "Norco 10,325"])
def test_a_combination_written_with_a_comma_between_its_strengths_gives_no_strength(name: str) -> None:
    """ "5,325" read as 5325 mg is one number for two ingredients: which is whose cannot be told, so none is given."""
    assert read_name(name).strengths == ()


def _actiq(name: str) -> dict:
    request = med_request(None, [dosage(qty(1, "{lozenge}"), every(6))])
    request["medicationCodeableConcept"] = {"text": name}
    return request


def test_the_mme_of_a_transmucosal_fentanyl_written_with_a_thousands_separator() -> None:
    # Before: "1,600 mcg" was "1 600 mcg", read as 600 mcg: 2400 mcg a day, 312 MME, where 6400 mcg is 832 MME.
    order = mme(_actiq("fentanyl citrate 1,600 mcg lozenge")).orders[0]
    assert (order.state, order.mme, order.daily_dose_text) == ("ok", Decimal(832), "6400 mcg fentanyl/day")
    assert order.mme == mme(_actiq("fentanyl citrate 1600 mcg lozenge")).orders[0].mme
