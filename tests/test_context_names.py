"""An opioid a name mentions only as why or beside what the order is given ("Senna 8.6 mg while on oxyCODONE") is not
read as the product (clinical-logic, "How a medication is identified" and "A code that is no opioid and a name that
is one"), while real products named with "with" ("Tylenol with Codeine No. 3") stay the opioid."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

import builders as cards
import pytest
from fixtures.mme.helpers import RXNORM, dosage, every, med_request, mme, terms

from guideline.checks.unidentified_medication import CHECK_ID
from guideline.fhirdata import Coding, Concept
from guideline.recognition import recognise
from guideline.recognition.classify import stated_part
from guideline.recognition.lexicon import DRUG_TABLE
from guideline.recognition.names import read_name
from guideline.record import ResolvedMedication
from guideline.terminology import DATA_DIR

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


# ---- context and refusal words beyond "while on" (session 30) ----

LORAZEPAM_05 = "197900"  # lorazepam 0.5 MG Oral Tablet (benzodiazepine set)


@pytest.mark.parametrize(
    "text",
    [
        # Sig-like free-text names from outside records, read alone.
        "senna 8.6 mg tablet, 2 tabs at bedtime (on chronic oxyCODONE)",
        "docusate 100 mg capsule - pt on oxycodone",
        "ondansetron 4 mg tablet, if on HYDROcodone and nauseated",
        "polyethylene glycol 17 g packet, daily while patient taking oxyCODONE",
        "acetaminophen 500 MG tablet - stop oxyCODONE",
        "ibuprofen 600 mg tablet, stopping HYDROcodone",
        "acetaminophen 500 MG tablet, take with oxyCODONE",
        "acetaminophen 500 mg tablet, use along with oxycodone for breakthrough",
        "senna 8.6 mg tablet, per oxyCODONE taper protocol",
        "ibuprofen 600 mg tablet in lieu of HYDROcodone",
        "acetaminophen 500 mg tablet rather than oxycodone",
        "docusate 100 mg capsule, constipation due to oxyCODONE",
    ],
)
def test_more_context_words_leave_an_opioid_only_the_context(text: str) -> None:
    kind, ingredients, _ = _recognised(text)
    assert kind == "not-relevant" and not {"oxycodone", "hydrocodone"} & set(ingredients), text


@pytest.mark.parametrize(
    ("text", "coding"),
    [
        # Epic medicationCodeableConcept.text on the drug's own RxNorm code (display = the code's RxNorm name).
        (
            "acetaminophen 500 MG tablet - stop oxyCODONE",
            Coding(RXNORM, ACETAMINOPHEN_500, "acetaminophen 500 MG Oral Tablet"),
        ),
        (
            "acetaminophen (TYLENOL) 500 MG tablet, take with oxyCODONE",
            Coding(RXNORM, ACETAMINOPHEN_500, "acetaminophen 500 MG Oral Tablet"),
        ),
        (
            "acetaminophen 500 mg tablet, on chronic oxycodone",
            Coding(RXNORM, ACETAMINOPHEN_500, "acetaminophen 500 MG Oral Tablet"),
        ),
        (
            "acetaminophen 500 mg tablet per HYDROcodone taper",
            Coding(RXNORM, ACETAMINOPHEN_500, "acetaminophen 500 MG Oral Tablet"),
        ),
    ],
)
def test_a_partners_code_with_an_opioid_as_context_is_no_conflict(text: str, coding: Coding) -> None:
    assert _recognised(text, coding) == ("not-relevant", ("acetaminophen",), None)


@pytest.mark.parametrize(
    "text",
    [
        "oxyCODONE 5 MG tablet, stop HYDROmorphone",
        "oxyCODONE 5 MG tablet PRN, pt on chronic morphine ER",
        "oxyCODONE 5 MG tablet, per HYDROmorphone taper plan",
        "oxyCODONE 5 MG tablet (if taking methadone, hold)",
    ],
)
def test_an_opioid_code_with_another_opioid_as_context_is_no_conflict(text: str) -> None:
    concept = {"coding": [{"system": RXNORM, "code": OXY_5}], "text": text}
    order = mme(med_request(None, [dosage(1, every(6))], medicationCodeableConcept=concept)).orders[0]
    assert (order.mme, order.drug_conflicts) == (Decimal(30), ()), text


@pytest.mark.parametrize(
    ("text", "kind", "ingredients"),
    [
        # Each new word inside a real product's name or order text: the opioid stays.
        ("HYDROcodone-acetaminophen (NORCO) 10-325 MG per tablet", "opioid-by-name", ("hydrocodone", "acetaminophen")),
        ("acetaminophen-codeine 300-30 MG per tablet", "opioid-by-name", ("acetaminophen", "codeine")),
        (
            "promethazine 6.25 mg per 5 mL and codeine 10 mg per 5 mL syrup",
            "opioid-by-name",
            ("promethazine", "codeine"),
        ),
        (
            "acetaminophen 325 mg per tablet / oxycodone 5 mg per tablet",
            "opioid-by-name",
            ("acetaminophen", "oxycodone"),
        ),
        ("Tylenol with Codeine #3, take with food", "opioid-by-name", ("acetaminophen", "codeine")),
        (
            "oxyCODONE-acetaminophen 5-325 MG tablet, taking 1 tab every 6 hours",
            "opioid-by-name",
            ("oxycodone", "acetaminophen"),
        ),
        ("fentaNYL 25 mcg/hr patch, apply one patch on skin every 72 hours", "opioid-by-name", ("fentanyl",)),
        (
            "HYDROcodone-acetaminophen 5-325 MG tablet, stop if drowsy",
            "opioid-by-name",
            ("hydrocodone", "acetaminophen"),
        ),
        ("oxyCODONE 5 MG tablet, no refills", "opioid-by-name", ("oxycodone",)),
        ("Tylenol w/ Codeine No 3 tablet", "opioid-by-name", ("acetaminophen", "codeine")),
    ],
)
def test_real_products_with_the_new_words_stay_the_opioid(text: str, kind: str, ingredients: tuple[str, ...]) -> None:
    assert _recognised(text)[:2] == (kind, ingredients)


def test_no_rxnorm_name_of_the_packaged_value_sets_is_cut() -> None:
    # Every SCD/SBD display the value sets hold (opioids, benzodiazepines, naloxone, MOUD, ...), brands in brackets.
    sets = json.loads((DATA_DIR / "valuesets.json").read_text(encoding="utf-8"))["sets"]
    names = {row[2] for rows in sets.values() for row in rows if row[0] == 0 and len(row) > 2}
    assert len(names) > 1000
    assert [name for name in names if stated_part(name) != name] == []


@pytest.mark.parametrize(
    ("text", "codings"),
    [
        ("no oxycodone", ()),
        ("NOT oxyCODONE - patient declined", ()),
        ("Patient declined: no HYDROcodone", ()),
        ("No oxyCODONE", (Coding(RXNORM, NEW_RXNORM),)),  # a code the packaged data does not hold says nothing
    ],
)
def test_a_name_that_only_refuses_an_opioid_is_named_not_read_as_it(text: str, codings: tuple[Coding, ...]) -> None:
    recognition = recognise(ResolvedMedication(concept=Concept(codings, text)), terms())
    assert (recognition.kind, recognition.ingredients, recognition.display) == ("unidentified", (), text)


@pytest.mark.parametrize(
    ("text", "ingredients"),
    [
        ("hx: oxycodone 5 mg", ("oxycodone",)),  # a past drug, not a refusal: the whole name is read, as before
        ("oxyCODONE 5 MG tablet (not for long-term use)", ("oxycodone",)),
        ("Tylenol No. 3", ("acetaminophen", "codeine")),
        ("Not to exceed 6 tablets a day: oxyCODONE 5 mg", ("oxycodone",)),  # no drug right after "not"
    ],
)
def test_a_name_with_a_refusal_word_after_its_drug_or_a_past_one_stays_the_opioid(
    text: str, ingredients: tuple[str, ...]
) -> None:
    kind, read, _ = _recognised(text)
    assert kind.startswith("opioid") and read == ingredients


def test_acetaminophen_named_with_the_patients_opioid_gives_no_opioid_benzodiazepine_card() -> None:
    # Epic: acetaminophen's RxNorm code, the order's text saying why it is given. Read as oxycodone (a partner of
    # acetaminophen in one product), it made a lorazepam draft an opioid + benzodiazepine card.
    apap = cards.med_request(
        ACETAMINOPHEN_500, id="apap", authored=cards.days_ago(5), display="acetaminophen 500 MG Oral Tablet"
    )
    apap["medicationCodeableConcept"]["text"] = "acetaminophen 500 mg tablet, on chronic oxyCODONE"
    lorazepam = cards.med_request(LORAZEPAM_05, id="lzp", draft=True, supply_days=5)
    evaluation = cards.run("order-sign", drafts=[lorazepam], resources=[apap])
    assert cards.card(evaluation, "opioid-benzodiazepine") is None


def test_an_outside_order_refusing_an_opioid_is_named_and_not_counted() -> None:
    refused = cards.med_request("0", id="ext1", authored=cards.days_ago(5))
    refused["medicationCodeableConcept"] = {"text": "NO oxyCODONE (patient declined)"}
    oxycodone = cards.med_request(OXY_5, id="oxy", draft=True, supply_days=5)
    evaluation = cards.run("order-sign", drafts=[oxycodone], resources=[refused])
    # The draft's 5 mg every 6 hours only: no opioid of unknown dose beside it making the total "at least".
    assert (evaluation.facts.mme.total, evaluation.facts.mme.state) == (30, "complete")
    found = cards.card(evaluation, CHECK_ID)
    assert found is not None and "NO oxyCODONE (patient declined) (current order ext1)" in found.summary


# ---- a refusal that goes on to name the drug given (session 30) ----


@pytest.mark.parametrize(
    ("text", "kind", "ingredients"),
    [
        # Free-text names from outside records: a refused drug, then, after a break, the drug given.
        ("NOT morphine - hydromorphone 2 mg tablet", "opioid-by-name", ("hydromorphone",)),
        ("no codeine, give tramadol 50 mg", "opioid-by-name", ("tramadol",)),
        (
            "NOT oxyCODONE; HYDROcodone-acetaminophen 5-325 MG tablet",
            "opioid-by-name",
            ("hydrocodone", "acetaminophen"),
        ),
        ("not morphine, not codeine, tramadol 50 mg tablet", "opioid-by-name", ("tramadol",)),
        ("No Tylenol with Codeine - acetaminophen 500 mg tablet", "not-relevant", ("acetaminophen",)),
        ("NO codeine or tramadol; ibuprofen 600 mg tablet", "not-relevant", ("ibuprofen",)),
    ],
)
def test_a_refused_drug_is_dropped_and_the_drug_given_after_it_read(
    text: str, kind: str, ingredients: tuple[str, ...]
) -> None:
    for codings in ((), (Coding(RXNORM, NEW_RXNORM),)):  # a code the packaged data does not hold says nothing
        recognition = recognise(ResolvedMedication(concept=Concept(codings, text)), terms())
        assert (recognition.kind, recognition.ingredients, recognition.display) == (kind, ingredients, text), codings


def test_the_refused_products_form_words_are_not_the_given_drugs() -> None:
    recognition = recognise(
        ResolvedMedication(concept=Concept((), "NOT oxyCODONE ER 10 mg - oxyCODONE 5 mg IR tablet")), terms()
    )
    assert (recognition.kind, recognition.extended_release, recognition.ingredients) == (
        "opioid-by-name",
        False,
        ("oxycodone",),
    )


def test_the_drug_given_after_a_refusal_is_counted_alone() -> None:
    # An outside order named by free text: 2 mg of hydromorphone every 6 hours, 8 mg a day at 5 MME per mg.
    concept = {"text": "NOT morphine - HYDROmorphone 2 mg tablet"}
    order = mme(med_request(None, [dosage(1, every(6))], medicationCodeableConcept=concept)).orders[0]
    assert order.mme == Decimal(40)


def test_a_partners_code_named_as_refused_before_an_opioid_given_is_the_opioid() -> None:
    # Oracle: acetaminophen's code, the order's name refusing it and stating oxycodone: a missed opioid is the worse
    # error, so the name's opioid is read and the conflict named, as for any name stating an opioid against the code.
    coding = Coding(RXNORM, ACETAMINOPHEN_500, "acetaminophen 500 MG Oral Tablet")
    assert _recognised("NO acetaminophen - oxyCODONE 5 mg tablet", coding) == (
        "opioid-by-name",
        ("oxycodone",),
        "acetaminophen",
    )


def test_an_opioid_code_named_as_refused_before_another_opioid_names_the_conflict() -> None:
    concept = {"coding": [{"system": RXNORM, "code": OXY_5}], "text": "NOT oxyCODONE - HYDROmorphone 2 mg tablet"}
    order = mme(med_request(None, [dosage(1, every(6))], medicationCodeableConcept=concept)).orders[0]
    assert order.drug_conflicts[0].startswith("its code says oxycodone, its name says hydromorphone")


@pytest.mark.parametrize(
    "text",
    [
        "no oxycodone 5 mg",  # nothing after the refused drug
        "NOT oxyCODONE (patient declined)",  # a bracket is the refused product's own (its brand, a note)
        "no morphine 15 mg - patient declined, hx nausea",
        "NOT morphine hydromorphone 2 mg",  # no break: what is refused and what given cannot be told apart
    ],
)
def test_a_refusal_stating_no_drug_after_a_break_stays_named(text: str) -> None:
    recognition = recognise(ResolvedMedication(concept=Concept((), text)), terms())
    assert (recognition.kind, recognition.ingredients) == ("unidentified", ()), text


def test_every_rxnorm_name_of_the_packaged_value_sets_reads_as_its_whole_name() -> None:
    # Read alone by name, every SCD/SBD display the value sets hold reads the drugs its whole name names: no refusal
    # or context reading drops an opioid of a real product.
    sets = json.loads((DATA_DIR / "valuesets.json").read_text(encoding="utf-8"))["sets"]
    names = {row[2] for rows in sets.values() for row in rows if row[0] == 0 and len(row) > 2}
    assert len(names) > 1000
    differing = [
        name
        for name in sorted(names)
        if recognise(ResolvedMedication(concept=Concept((), name)), terms()).ingredients
        != tuple(i.name for i in read_name(name).ingredients)
    ]
    assert differing == []


def test_a_break_before_the_refused_drug_is_no_drug_given() -> None:
    recognition = recognise(ResolvedMedication(concept=Concept((), "NOT: oxyCODONE 5 mg")), terms())
    assert (recognition.kind, recognition.ingredients) == ("unidentified", ())
