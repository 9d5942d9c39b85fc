"""A lab report's conclusion PainPlan cannot read surely of a drug (its words may mean it was found or not, or say
both) is never judged either way: a result of that drug it links is read the more cautious way (a negative not
judged, a positive kept, `uds._Claims.unsure`). A negative so left unjudged is named as what it is, a conclusion that
could not be read surely (`uds-conclusions-unsure`); one the conclusion says both of is a contradiction, named among
the lab's words that disagree."""

from __future__ import annotations

import pytest
from builders import NOW, SNOMED, card, days_ago, run
from test_conclusion_table import EVERY, read
from test_diagnostic_reports import FENTANYL_SCREEN, OXYCODONE_SCREEN, linked_report, long_term, sign
from test_report_contradictions import ITSELF, KEPT, PANEL, disagreements, referenced_report

from guideline.checks import CHECKS, unexpected_uds_result, urine_drug_test
from guideline.named_gaps import NAMED_GAPS
from guideline.plan import build_plan
from guideline.plan.uds_history import build_uds
from guideline.uds import _clause_readings

OPIATE_SCREEN = "19295-5"  # Opiates [Presence] in Urine by Screen method
MORPHINE_SCREEN = "3830-7"  # Morphine [Presence] in Urine


UNSURE = "uds-conclusions-unsure"
OXYCODONE_RESULT = "oxyCODONE+oxyMORphone Ur Ql Scn"


def unsure_named(*resources: dict) -> tuple[str, ...]:
    """What the kind of results a conclusion could not be read surely for names on patient-view (a current oxycodone
    prescription), checked against the plan page's data-completeness list of it."""
    evaluation = run("patient-view", resources=[long_term(), *resources])
    [kind] = [kind for kind in NAMED_GAPS if kind.key == UNSURE]
    named = kind.items(evaluation.facts)
    assert build_plan(evaluation, (), evaluation.facts.config, NOW).named[UNSURE] == named
    return named


def unsure_item(name: str, conclusion: str, drug: str, value: str = "Negative") -> str:
    """How a negative left unjudged by a conclusion not read surely is named."""
    return (
        f'{name} "{value}" ({days_ago(30)}) not judged: its lab report\'s conclusion "{conclusion}" could not be read '
        f"surely for {drug}"
    )


def not_read(conclusion: str) -> set[str]:
    """The drugs (row keys) the conclusion names but is not read surely of, as the reader yields them."""
    return {drug for said, named in _clause_readings(conclusion) if said == "indeterminate" for drug in named}


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)


@pytest.mark.parametrize(
    ("conclusion", "found", "not_found", "unsure"),
    [
        # "all other" sets apart the drug named before it: an amount under what the lab reports ("<"), or a cutoff
        # alone, says neither that it was found nor that it was not (read as every drug not found, it was)
        pytest.param(
            "Oxycodone <0.5 ng/mL, all other drugs negative", set(), {EVERY}, {"oxycodone"}, id="amount-below"
        ),
        pytest.param(
            "Oxycodone (cutoff 100 ng/mL), all other drugs negative", set(), {EVERY}, {"oxycodone"}, id="cutoff-alone"
        ),
        # "Fentanyl [positive], all others negative" or "fentanyl [and] all others negative" (it was read found)
        pytest.param(
            "Oxycodone positive. Fentanyl, all others negative",
            {"oxycodone"},
            {EVERY},
            {"fentanyl"},
            id="bare-after-a-finding",
        ),
        pytest.param(
            "Oxycodone positive, fentanyl, all others negative",
            {"oxycodone"},
            {EVERY},
            {"fentanyl"},
            id="bare-after-a-finding-in-its-statement",
        ),
        # ... but a list a finding written first heads is that finding's: "Positive for oxycodone, fentanyl"
        pytest.param(
            "Positive for oxycodone, fentanyl, all others negative",
            {"oxycodone", "fentanyl"},
            {EVERY},
            set(),
            id="listed-after-positive-for",
        ),
        # a class heading alone: neither every opiate found nor opiates not found (it was read every opiate found)
        pytest.param("Opiates. All other drugs negative.", set(), {EVERY}, {"opiate"}, id="class-heading"),
        pytest.param("Opiates, all other drugs negative", set(), {EVERY}, {"opiate"}, id="class-bare"),
        # a drug or class named alone in a statement (a heading) says nothing sure when the next statement's finding
        # names drugs of its own (before, it took that finding: "Oxycodone. Fentanyl not detected." read oxycodone
        # not found, and "Opiates. Oxycodone positive." every opiate found)
        pytest.param(
            "Opiates. Oxycodone positive. All other drugs negative.",
            {"oxycodone"},
            {EVERY},
            {"opiate"},
            id="class-heading-then-a-drug",
        ),
        pytest.param(
            "Opiates. Morphine not detected.", set(), {"morphine"}, {"opiate"}, id="class-heading-then-denied"
        ),
        pytest.param("Oxycodone. Fentanyl not detected.", set(), {"fentanyl"}, {"oxycodone"}, id="drug-heading"),
        # a drug named with an amount measured and no finding of its own, with no "all other" after it: found, or a
        # measured amount under the lab's cutoff (it was read as nothing, and its linked negative judged unexpected)
        pytest.param("Oxycodone 250 ng/mL", set(), set(), {"oxycodone"}, id="amount-alone"),
        pytest.param(
            "Oxycodone 250 ng/mL. Fentanyl not detected.", set(), {"fentanyl"}, {"oxycodone"}, id="amount-statement"
        ),
        pytest.param(
            "Fentanyl not detected, oxycodone 250 ng/mL", set(), {"fentanyl"}, {"oxycodone"}, id="finding-then-amount"
        ),
        pytest.param(
            "OXYCODONE: POSITIVE, oxymorphone 80 ng/mL",
            {"oxycodone"},
            set(),
            {"oxymorphone"},
            id="amount-after-finding",
        ),
        # ... an amount under what the lab reports is no doubt: it was not found, or too little to say
        pytest.param("Oxycodone <0.5 ng/mL", set(), set(), set(), id="amount-below-alone"),
        # a cutoff printed beside the amount that cannot settle it (another unit, or none printed) leaves it as one with
        # no cutoff is: measured, read neither way
        pytest.param("Oxycodone 250 mcg/mL (cutoff 100 ng/mL)", set(), set(), {"oxycodone"}, id="cutoff-other-unit"),
        pytest.param("Oxycodone (cutoff 100): 250 ng/mL", set(), set(), {"oxycodone"}, id="cutoff-no-unit"),
        # ... as is a bound on both sides of the cutoff printed beside it (it was read as nothing, and a linked
        # negative judged unexpected beside the lab's own "<150 ng/mL")
        pytest.param("Oxycodone <150 ng/mL (cutoff 100 ng/mL)", set(), set(), {"oxycodone"}, id="bound-over-cutoff"),
        pytest.param(
            "Oxycodone (cutoff 100 ng/mL): <150 ng/mL", set(), set(), {"oxycodone"}, id="cutoff-then-bound-over-it"
        ),
        # a finding naming no drug right after a drug's own finding that disagrees with it: the lab's words say both,
        # so the drug is read neither way (the bare finding was dropped, and the drug read as its first finding said)
        pytest.param("Oxycodone negative. Positive.", set(), set(), {"oxycodone"}, id="bare-finding-disagrees"),
        pytest.param(
            "Oxycodone 80 ng/mL (cutoff 100 ng/mL). Positive.",
            set(),
            set(),
            {"oxycodone"},
            id="bare-finding-disagrees-with-the-cutoff",
        ),
        pytest.param(
            "Oxycodone detected, not detected", set(), set(), {"oxycodone"}, id="bare-finding-disagrees-in-statement"
        ),
        pytest.param(
            "Fentanyl not detected. Oxycodone positive. Negative.",
            set(),
            {"fentanyl"},
            {"oxycodone"},
            id="bare-finding-disagrees-with-the-last",
        ),
        # ... one that agrees changes nothing, nor one heading the drugs after it
        pytest.param("Oxycodone positive. Positive.", {"oxycodone"}, set(), set(), id="bare-finding-agrees"),
        pytest.param(
            "Oxycodone detected\nNegative\nFentanyl", {"oxycodone"}, {"fentanyl"}, set(), id="bare-finding-heads"
        ),
    ],
)
def test_a_drug_the_conclusion_may_say_either_of_is_read_neither_way(
    conclusion: str, found: set[str], not_found: set[str], unsure: set[str]
) -> None:
    assert read(conclusion) == (found, not_found)
    assert not_read(conclusion) == unsure


@pytest.mark.parametrize(
    "conclusion",
    [
        "Oxycodone 250 ng/mL, all other drugs negative",
        "Oxycodone <0.5 ng/mL, all other drugs negative",
        "Oxycodone positive. Fentanyl, all others negative",
        "Positive for oxycodone. Oxycodone not detected.",
        "Oxycodone. Fentanyl not detected.",
        "Oxycodone 250 ng/mL",
        "Oxycodone 250 ng/mL. Fentanyl not detected.",
        "Fentanyl not detected, oxycodone 250 ng/mL",
        "Oxycodone 250 mcg/mL (cutoff 100 ng/mL)",
        "Oxycodone (cutoff 100): 250 ng/mL",
        "Oxycodone (cutoff 100 ng/mL): <150 ng/mL",
        "Oxycodone negative. Positive.",
        "Oxycodone 80 ng/mL (cutoff 100 ng/mL). Positive.",
    ],
)
def test_a_prescribed_opioids_negative_beside_such_a_conclusion_is_no_unexpected_negative(conclusion: str) -> None:
    # Before, "Oxycodone 250 ng/mL, all other drugs negative" agreed with the oxycodone screen's "Negative": the card
    # said the patient on oxycodone tested negative for it, a diversion signal on the lab's own doubt.
    if "Fentanyl," in conclusion:
        sent = referenced_report(conclusion, (OXYCODONE_SCREEN, "Positive"), (FENTANYL_SCREEN, "Negative"))
        drug = "fentanyl"
    else:
        sent = linked_report("referenced", conclusion, "Negative")
        drug = "oxycodone"
    found = card(sign(*sent), unexpected_uds_result.CHECK_ID)
    # no card: the oxycodone negative is not judged, and the other results are expected (fentanyl, not prescribed,
    # negative; oxycodone positive)
    assert found is None
    # found ("Oxycodone 250 ng/mL, all other drugs negative"), or found and not found: the conclusion contradicts it
    if conclusion in (
        "Oxycodone 250 ng/mL, all other drugs negative",
        "Positive for oxycodone. Oxycodone not detected.",
    ):
        [named] = disagreements(*sent)
        assert (
            f'its conclusion says "{conclusion}"' in named and f'its {drug} result says "Negative"; {ITSELF}' in named
        )
        assert unsure_named(*sent) == ()
        return
    # ... any other could not be read surely: named as such, never as the lab's words that disagree
    assert disagreements(*sent) == ()
    [named] = unsure_named(*sent)
    assert named.endswith(f'its lab report\'s conclusion "{conclusion}" could not be read surely for {drug}')
    assert f'"Negative" ({days_ago(30)}) not judged: ' in named


def test_a_negative_left_unjudged_is_named_with_the_conclusion_not_read_surely() -> None:
    # Before, it was named as a report whose words "disagree" ("but its oxycodone result says ..."), which says the
    # lab contradicted itself: it did not; PainPlan could not tell what its words say of oxycodone.
    measured = "Oxycodone 250 ng/mL"
    sent = linked_report("referenced", measured, "Negative")
    sent[0]["code"]["text"] = OXYCODONE_RESULT
    assert unsure_named(*sent) == (unsure_item(OXYCODONE_RESULT, measured, "oxycodone"),)
    assert disagreements(*sent) == ()


def test_a_negative_sent_as_a_code_alone_is_quoted_as_read_as_its_contradiction_is() -> None:
    # A coded negative with no words (Oracle Health's SNOMED answer, no display) was quoted as "", an empty value on
    # the card and the page; the lab's words that disagree quote it as read ("negative"), and so does this line.
    measured = "Oxycodone 250 ng/mL"
    sent = linked_report("referenced", measured, None)
    sent[0]["valueCodeableConcept"] = {"coding": [{"system": SNOMED, "code": "260385009"}]}  # Negative (qualifier)
    sent[0]["code"]["text"] = OXYCODONE_RESULT
    assert unsure_named(*sent) == (unsure_item(OXYCODONE_RESULT, measured, "oxycodone", "negative"),)
    contradicted = linked_report("referenced", "Positive for oxycodone", None)
    contradicted[0]["valueCodeableConcept"] = sent[0]["valueCodeableConcept"]
    [named] = disagreements(*contradicted)
    assert 'its oxycodone result says "negative"' in named


def test_a_negative_whose_date_could_not_be_read_is_named_with_the_date_as_sent() -> None:
    # It was named "(undated)", where every other line about the result says which date was sent and not read.
    measured = "Oxycodone 250 ng/mL"
    sent = linked_report("referenced", measured, "Negative")
    sent[0]["effectiveDateTime"] = "2026-13-45"
    sent[0]["code"]["text"] = OXYCODONE_RESULT
    assert unsure_named(*sent) == (
        f"{OXYCODONE_RESULT} \"Negative\" (effectiveDateTime '2026-13-45' could not be read as a date) not judged: its "
        f'lab report\'s conclusion "{measured}" could not be read surely for oxycodone',
    )


def test_the_history_row_says_the_conclusion_could_not_be_read_surely(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, urine_drug_test.CHECK_ID, urine_drug_test)
    evaluation = run(
        "patient-view", resources=[long_term(), *linked_report("referenced", "Oxycodone 250 ng/mL", "Negative")]
    )
    [row] = [row for row in build_uds(evaluation.facts).rows if row.value == "none"]
    assert row.not_judged == 'its lab report\'s conclusion "Oxycodone 250 ng/mL" could not be read surely for oxycodone'
    # a true contradiction keeps its words
    contradicted = linked_report("referenced", "Positive for oxycodone. Oxycodone not detected.", "Negative")
    evaluation = run("patient-view", resources=[long_term(), *contradicted])
    [row] = [row for row in build_uds(evaluation.facts).rows if row.value == "none"]
    assert row.not_judged == "its lab report's conclusion disagrees with it (read the more cautious way)"


def test_a_positive_beside_a_conclusion_not_read_surely_is_kept_and_not_named() -> None:
    # A positive is kept whichever way the words are read: naming it was noise (it was named as words that disagree).
    ambiguous = "Oxycodone positive. Fentanyl, all others negative"
    sent = referenced_report(ambiguous, (OXYCODONE_SCREEN, "Positive"), (FENTANYL_SCREEN, "Positive"))
    assert disagreements(*sent) == () and unsure_named(*sent) == ()
    heading = "Opiates. Oxycodone positive. All other drugs negative."
    assert disagreements(*referenced_report(heading, (OPIATE_SCREEN, "Positive"))) == ()
    # ... while a conclusion that says the drug was both found and not found contradicts itself, and is named so
    both = "Positive for oxycodone. Oxycodone not detected."
    assert disagreements(*linked_report("referenced", both, "Positive")) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "{both}" (which says oxycodone was both found and not found) '
        f'but its oxycodone result says "Positive"; {KEPT})',
    )


def test_a_class_heading_says_nothing_sure_of_the_class_screen() -> None:
    heading = "Opiates. All other drugs negative."
    negative = referenced_report(heading, (OPIATE_SCREEN, "Negative"))
    [named] = unsure_named(*negative)
    assert named.endswith(f'its lab report\'s conclusion "{heading}" could not be read surely for opiates')
    assert disagreements(*negative) == ()
    positive = referenced_report(heading, (OPIATE_SCREEN, "Positive"))
    assert disagreements(*positive) == () and unsure_named(*positive) == ()


def test_a_drug_named_by_two_analytes_found_and_not_is_found_as_before() -> None:
    # The lab found norfentanyl and fentanyl under its cutoff: fentanyl was taken, and a screen's positive agrees.
    metabolite = "Norfentanyl 12 ng/mL POS; Fentanyl <0.5 ng/mL NEG"
    assert not_read(metabolite) == set()
    assert disagreements(*referenced_report(metabolite, (FENTANYL_SCREEN, "Positive"))) == ()


def test_a_drug_read_surely_beside_a_class_heading_is_read_as_said() -> None:
    # "Opiates." says nothing sure of the opiates, but the morphine it denies by name is denied: a morphine screen's
    # positive beside it is one the conclusion contradicts, not one it could not be read for.
    heading = "Opiates. Morphine not detected."
    [named] = disagreements(*referenced_report(heading, (MORPHINE_SCREEN, "Positive")))
    assert "could not be read surely" not in named and named.endswith(f"; {KEPT})")


def test_the_data_incomplete_card_names_the_negative_with_the_conclusion_not_read_surely(tmp_path) -> None:
    from cds_support import bundle, data_incomplete_detail

    sent = linked_report("referenced", "Oxycodone 250 ng/mL", "Negative", day="2026-06-01")
    sent[0]["code"]["text"] = OXYCODONE_RESULT
    detail = data_incomplete_detail(tmp_path, udsLabs=bundle(*sent[:1]), labReports=bundle(*sent[1:]))
    assert (
        f'{OXYCODONE_RESULT} "Negative" (2026-06-01) not judged: its lab report\'s conclusion "Oxycodone 250 ng/mL" '
        "could not be read surely for oxycodone: its words may say the drug was found, so that negative was not judged "
        "as unexpected; read the report"
    ) in detail
    assert "disagree" not in detail
