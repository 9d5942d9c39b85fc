"""An opioid a name mentions only as why or beside what the order is given ("Senna 8.6 mg while on oxyCODONE") is not
read as the product (clinical-logic, "How a medication is identified" and "A code that is no opioid and a name that
is one"), while real products named with "with" ("Tylenol with Codeine No. 3") stay the opioid."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from fixtures.mme.helpers import RXNORM, dosage, every, med_request, mme, terms

from guideline.fhirdata import Coding, Concept
from guideline.recognition import recognise
from guideline.recognition.classify import stated_part
from guideline.recognition.lexicon import DRUG_TABLE
from guideline.record import ResolvedMedication

ACETAMINOPHEN_500 = "198440"  # acetaminophen 500 MG Oral Tablet: in no set PainPlan reads
NEW_RXNORM = "2670001"  # an RxNorm code the packaged data does not hold
OXY_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
EPIC_ERX = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"  # an Epic site's own medication record (ERX) codes


def _recognised(text: str, *codings: Coding) -> tuple[str, tuple[str, ...], str | None]:
    recognition = recognise(ResolvedMedication(concept=Concept(codings, text)), terms())
    return recognition.kind, recognition.ingredients, recognition.code_says


def test_a_partners_code_named_before_an_opioid_is_the_partner() -> None:
    # Oracle: acetaminophen's RxNorm code and display, the order's name saying when to take it.
    coding = Coding(RXNORM, ACETAMINOPHEN_500, "acetaminophen 500 MG Oral Tablet")
    assert _recognised("Acetaminophen 500 mg (use before oxycodone)", coding) == (
        "not-relevant",
        ("acetaminophen",),
        None,
    )


def test_a_code_in_no_set_with_no_name_and_a_laxative_named_while_on_an_opioid_is_the_laxative() -> None:
    assert _recognised("Senna 8.6 mg while on oxyCODONE", Coding(RXNORM, NEW_RXNORM)) == (
        "not-relevant",
        ("senna",),
        None,
    )


@pytest.mark.parametrize(
    "text",
    [
        "Senna 8.6 mg tablet for oxyCODONE constipation",
        "docusate 100 mg capsule, oxycodone-induced constipation",
        "Senna-docusate 8.6-50 mg tablet with oxyCODONE",
        "acetaminophen 500 mg tablet after HYDROcodone",
        "ibuprofen 600 mg from HYDROcodone taper",
        "acetaminophen 325 mg (not oxycodone)",  # the refusal words, now read for a name alone too
    ],
)
def test_an_opioid_named_as_context_is_not_the_product(text: str) -> None:
    kind, ingredients, _ = _recognised(text)
    assert kind == "not-relevant" and not {"oxycodone", "hydrocodone"} & set(ingredients), text


@pytest.mark.parametrize(
    ("text", "kind", "ingredients"),
    [
        ("Tylenol with Codeine No. 3", "opioid-by-name", ("acetaminophen", "codeine")),
        ("acetaminophen-codeine 300-30 mg (Tylenol with Codeine #3)", "opioid-by-name", ("acetaminophen", "codeine")),
        ("oxycodone with acetaminophen 5-325 mg tablet", "opioid-by-name", ("oxycodone", "acetaminophen")),
        (
            "hydrocodone bitartrate and acetaminophen 5-325 mg tablet",
            "opioid-by-name",
            ("hydrocodone", "acetaminophen"),
        ),
        ("Phenergan with Codeine 6.25-10 mg/5 mL", "opioid-by-name", ("promethazine", "codeine")),
        ("guaifenesin with codeine 100-10 mg/5 mL syrup", "opioid-by-name", ("guaifenesin", "codeine")),
        ("Acetaminophen 500 mg with oxycodone 5 mg", "opioid-by-name", ("acetaminophen", "oxycodone")),
        ("naloxone 4 mg/actuation nasal spray for opioid overdose", "naloxone", ("naloxone",)),
        ("methadone 40 MG Tablet for Oral Suspension [Methadose]", "opioid-by-name", ("methadone",)),
    ],
)
def test_real_products_stay_read_whole(text: str, kind: str, ingredients: tuple[str, ...]) -> None:
    assert _recognised(text)[:2] == (kind, ingredients)


def test_no_product_of_the_drug_table_is_cut() -> None:
    with DRUG_TABLE.open(newline="", encoding="utf-8") as table:
        names = {row["drug_name"] for row in csv.DictReader(table)}
    assert [name for name in names if stated_part(name) != name] == []


def test_an_opioid_code_named_with_the_opioid_it_replaces_as_context_is_no_conflict() -> None:
    concept = {"coding": [{"system": RXNORM, "code": OXY_5}], "text": "oxyCODONE 5 MG tablet, taper from HYDROmorphone"}
    order = mme(med_request(None, [dosage(1, every(6))], medicationCodeableConcept=concept)).orders[0]
    assert (order.mme, order.drug_conflicts) == (Decimal(30), ())


def test_the_mme_reads_the_reference_display_as_recognition_does() -> None:
    # Epic: a drug record mapped to oxycodone 5 mg, the order's reference naming hydromorphone 2 mg.
    order = med_request(
        None, [dosage(1, every(6))], medicationReference={"reference": "#erx", "display": "HYDROmorphone 2 MG tablet"}
    )
    order["contained"] = [
        {
            "resourceType": "Medication",
            "id": "erx",
            "code": {
                "coding": [
                    {"system": EPIC_ERX, "code": "10814"},
                    {"system": RXNORM, "code": OXY_5, "display": "oxycodone hydrochloride 5 MG Oral Tablet"},
                ]
            },
        }
    ]
    counted = mme(order).orders[0]
    assert counted.mme == Decimal(40)
    assert counted.drug_conflicts == (
        "its code says oxycodone, its name says hydromorphone: counted as hydromorphone, 40.0 MME/day against 30.0 "
        "as oxycodone; check which drug is meant",
    )


def test_a_no_opioid_name_beside_a_counted_other_opioid_says_what_was_counted() -> None:
    # Oracle: oxycodone 5 mg's code, its display edited to diazepam, the order's name hydromorphone 2 mg (40 MME/day
    # against the code's 30): the hydromorphone reading is counted, so the diazepam line cannot say "kept as oxycodone".
    concept = {
        "coding": [{"system": RXNORM, "code": OXY_5, "display": "diazePAM 5 MG tablet"}],
        "text": "HYDROmorphone 2 MG tablet",
    }
    order = mme(med_request(None, [dosage(1, every(6))], medicationCodeableConcept=concept)).orders[0]
    assert order.mme == Decimal(40)
    assert (
        "its code says oxycodone, its name says diazepam: counted as hydromorphone, 40.0 MME/day; as diazepam it is "
        "no opioid; check which drug is meant"
    ) in order.drug_conflicts


def test_a_cut_that_drops_no_drug_keeps_the_whole_names_form_words() -> None:
    # "not" cuts the name, but the part before reads the same drug: its release word after the cut still counts.
    recognition = recognise(
        ResolvedMedication(concept=Concept((), "oxyCODONE 10 mg tablet, do not crush, ER")), terms()
    )
    assert (recognition.kind, recognition.extended_release) == ("opioid-by-name", True)
