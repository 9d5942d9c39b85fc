"""A medication name far longer than any product's (a note pasted into an outside record's drug name, a garbled or
hostile feed) is not read: no drug is read from it (a part could name an opioid the rest calls refused), so an
uncoded medication so named is unidentified, and the order is named (`medication-names-not-read`); a name of a
product's length reads as before."""

from __future__ import annotations

from typing import Any

from builders import NOW, med_request, padded, run

from guideline.named_gaps import NAMED_GAPS
from guideline.plan import build_plan
from guideline.recognition import recognise
from guideline.recognition.classify import stated_part
from guideline.words import TEXT_READ_CHARACTERS, clip

NOT_READ = "medication-names-not-read"
NAME = "oxyCODONE (ROXICODONE) 5 MG immediate release tablet"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ACETAMINOPHEN_325 = "313782"  # Acetaminophen 325 MG Oral Tablet: in no opioid or benzodiazepine set


def named_only(name: str, **order: Any) -> dict[str, Any]:
    """An outside record's current order known by its name alone (no code)."""
    resource = med_request("0", id="mr-named", **order)
    resource["medicationCodeableConcept"] = {"text": name}
    return resource


def read(name: str) -> tuple[str, tuple[str, ...]]:
    """How the order of `name` is recognised on patient-view, and what the kind names (checked against the page)."""
    evaluation = run("patient-view", resources=[named_only(name)])
    [order] = [o for o in evaluation.facts.active_orders if o.id == "mr-named"]
    [kind] = [kind for kind in NAMED_GAPS if kind.key == NOT_READ]
    items = kind.items(evaluation.facts)
    assert build_plan(evaluation, (), evaluation.facts.config, NOW).named.get(NOT_READ, ()) == items
    return recognise(order.medication, evaluation.facts.terms).kind, items


def test_a_name_of_a_products_length_is_read() -> None:
    assert read(padded(NAME, TEXT_READ_CHARACTERS)) == ("opioid-by-name", ())


def test_a_name_longer_than_any_products_is_not_read_and_the_order_is_named() -> None:
    kind, items = read(padded(NAME, 1_000_000))
    assert kind == "unidentified"
    assert items == (
        "oxyCODONE (ROXICODONE) 5 MG immediate release tablet see attached report see attached report see attached "
        "report see attached report see attached rep… "
        "(current order mr-named, its name (1,000,000 characters) is longer than any medication's and was not read)",
    )


def test_an_unidentified_medication_of_a_name_not_read_is_shown_by_its_first_150_characters() -> None:
    evaluation = run("patient-view", resources=[named_only(padded(NAME, 1_000_000))])
    [kind] = [kind for kind in NAMED_GAPS if kind.key == "unidentified-medications"]
    [item] = kind.items(evaluation.facts)
    assert item == f"{clip(padded(NAME, 1_000_000), 150)} (current order mr-named)"


def test_no_part_of_a_name_not_read_is_stated() -> None:
    # Cut at "(not" a name of a product's length states acetaminophen; too long to read, it states nothing but itself,
    # as the MME reads it (`stated_part`), so no part of it is read either.
    name = "acetaminophen 325 mg (not oxycodone)"
    assert stated_part(name) == "acetaminophen 325 mg ("
    long = padded(name, TEXT_READ_CHARACTERS + 10)
    assert stated_part(long) == long


def test_a_coded_order_whose_name_not_read_refuses_a_drug_is_read_by_its_code() -> None:
    # "no oxycodone" of a product's length refuses a drug and gives none, so its code in no opioid set is no evidence
    # of what the order is (unidentified); too long to read, the name refuses nothing and the code says not-relevant.
    def kind_of(name: str) -> str:
        resource = med_request("0", id="mr-coded")
        resource["medicationCodeableConcept"] = {
            "coding": [{"system": RXNORM, "code": ACETAMINOPHEN_325}],
            "text": name,
        }
        evaluation = run("patient-view", resources=[resource])
        [order] = [o for o in evaluation.facts.active_orders if o.id == "mr-coded"]
        return recognise(order.medication, evaluation.facts.terms).kind

    assert kind_of("no oxycodone") == "unidentified"
    assert kind_of(padded("no oxycodone", TEXT_READ_CHARACTERS + 10)) == "not-relevant"
