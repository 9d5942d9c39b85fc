"""A lab report's conclusion PainPlan cannot read surely of a drug (its words may mean it was found or not, or say
both) is never judged either way: a result of that drug it links is read the more cautious way, as one the conclusion
contradicts (a negative not judged, a positive kept), and the report is named with why (`uds._Claims.unsure`)."""

from __future__ import annotations

import pytest
from builders import card, days_ago
from test_conclusion_table import EVERY, read
from test_diagnostic_reports import FENTANYL_SCREEN, OXYCODONE_SCREEN, linked_report, sign
from test_report_contradictions import ITSELF, KEPT, PANEL, disagreements, referenced_report

from guideline.checks import CHECKS, unexpected_uds_result
from guideline.uds import _clause_readings

OPIATE_SCREEN = "19295-5"  # Opiates [Presence] in Urine by Screen method
MORPHINE_SCREEN = "3830-7"  # Morphine [Presence] in Urine


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
    assert found is None or f"negative for {drug}" not in found.summary
    [named] = disagreements(*sent)
    assert f'its conclusion says "{conclusion}"' in named and f'its {drug} result says "Negative"; {ITSELF}' in named


def test_the_report_says_why_its_conclusion_was_read_neither_way() -> None:
    ambiguous = "Oxycodone positive. Fentanyl, all others negative"
    sent = referenced_report(ambiguous, (OXYCODONE_SCREEN, "Positive"), (FENTANYL_SCREEN, "Positive"))
    assert disagreements(*sent) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "{ambiguous}" (which could not be read surely for fentanyl) '
        f'but its fentanyl result says "Positive"; {KEPT})',
    )
    both = "Positive for oxycodone. Oxycodone not detected."
    assert disagreements(*linked_report("referenced", both, "Positive")) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "{both}" (which says oxycodone was both found and not found) '
        f'but its oxycodone result says "Positive"; {KEPT})',
    )


def test_a_class_heading_says_nothing_sure_of_the_class_screen() -> None:
    heading = "Opiates. All other drugs negative."
    assert disagreements(*referenced_report(heading, (OPIATE_SCREEN, "Negative")))[0].endswith(f"; {ITSELF})")
    assert disagreements(*referenced_report(heading, (OPIATE_SCREEN, "Positive")))[0].endswith(f"; {KEPT})")


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
