"""A lab result or order known by its name alone (no LOINC code) whose name is far longer than any test's (a pasted
text, a garbled or hostile feed) is not read for what test it is: it is no urine drug test to the checks, and it is
named (`test-names-not-read`) by its first 150 characters and its length; a name of a test's length reads as before."""

from __future__ import annotations

from typing import Any

import pytest
from builders import LOINC, NOW, days_ago, med_request, padded, run

from guideline.checks import CHECKS, unexpected_uds_result, urine_drug_test
from guideline.fhirdata import Concept
from guideline.named_gaps import NAMED_GAPS
from guideline.plan import build_plan
from guideline.uds import drug_test_name
from guideline.words import QUOTED_CHARACTERS, TEXT_READ_CHARACTERS, clip

OXYCODONE = "1049621"
NOT_READ = "test-names-not-read"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    monkeypatch.setitem(CHECKS, urine_drug_test.CHECK_ID, urine_drug_test)


def order(name: str, display: str | None = None) -> dict[str, Any]:
    """A urine drug test ordered 5 days ago by a lab's own orderable, known by its name alone (the orderable's
    `display` too, when given, as Epic sends an order's name as its text and its code's name)."""
    coding = {"system": "urn:oid:1.2.3.4", "code": "UDS10"} | ({"display": display} if display is not None else {})
    return {
        "resourceType": "ServiceRequest",
        "id": "sr-1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [coding], "text": name},
        "authoredOn": days_ago(5),
    }


def sign(name: str, display: str | None = None) -> tuple[bool, tuple[str, ...]]:
    """On order-sign of oxycodone for a patient on it long-term, with no test on record and a test ordered by `name`:
    whether the urine drug test card asks for one, and what `test-names-not-read` names (as the plan page does)."""
    return sign_beside(order(name, display))


def sign_beside(resource: dict[str, Any]) -> tuple[bool, tuple[str, ...]]:
    """`sign`, with `resource` the one test, result or report on record."""
    long_term = med_request(OXYCODONE, authored=days_ago(200), supply_days=30, refills=11)
    draft = med_request(OXYCODONE, draft=True, id="d1")
    evaluation = run("order-sign", drafts=[draft], resources=[long_term, resource])
    [kind] = [kind for kind in NAMED_GAPS if kind.key == NOT_READ]
    items = kind.items(evaluation.facts)
    assert build_plan(evaluation, (), evaluation.facts.config, NOW).named.get(NOT_READ, ()) == items
    asks = any(card.check_id == urine_drug_test.CHECK_ID for card in evaluation.cards)
    return asks, items


def test_an_order_named_as_a_test_is_named_is_read() -> None:
    assert sign(padded("Drug screen, urine", TEXT_READ_CHARACTERS)) == (False, ())


def test_an_order_named_as_its_text_and_its_codes_name_is_measured_by_the_longer_not_both() -> None:
    # Each name is of a test's length: added up, they ran past the cap and the order was read as no test, where the
    # same words as a diagnosis's or a medication's name were read.
    name = padded("Drug screen, urine", 1_200)
    assert sign(name, display=name) == (False, ())


def test_an_order_whose_name_is_longer_than_any_tests_is_not_read_and_is_named() -> None:
    name = padded("Drug screen, urine", 1_000_000)
    asks, named = sign(name)
    assert asks  # not read as a urine drug test ordered: the card asks for one
    assert named == (
        f"{clip(name, 150)} (order sr-1, its name (1,000,000 characters) is longer than any test's and was not read)",
    )


def lab(resource_type: str, loinc: str, name: str) -> dict[str, Any]:
    """A final lab result or report of 5 days ago as Oracle Health sends one: its lab's own code (Cerner code set 72)
    first, the LOINC code beside it, and the name as its text."""
    local = {"system": "https://fhir.cerner.com/ec2458f2-1e24-41c8-b71b-0e701af7583d/codeSet/72", "code": "2921468"}
    return {
        "resourceType": resource_type,
        "id": "lab-1",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {
            "coding": [local | {"display": name, "userSelected": True}, {"system": LOINC, "code": loinc}],
            "text": name,
        },
        "effectiveDateTime": days_ago(5),
    }


@pytest.mark.parametrize(
    ("resource_type", "loinc", "name"),
    [
        ("Observation", "58410-2", "CBC panel - Blood by Automated count"),
        ("DiagnosticReport", "57698-3", "Lipid panel with direct LDL - Serum or Plasma"),
    ],
)
def test_a_test_its_loinc_code_settles_is_never_named_whatever_its_names_length(
    resource_type: str, loinc: str, name: str
) -> None:
    # A LOINC outside the drug test sets is another test, whatever its name says: there is nothing for the name to
    # settle, so a name too long to read leaves nothing unread.
    assert sign_beside(lab(resource_type, loinc, padded(name, 1_000_000))) == (True, ())


def screen(name: str) -> dict[str, Any]:
    """An oxycodone screen of 10 days ago reading "Inconclusive", as Epic Beaker sends it: LOINC 58430-0 and its name
    as the coding's display and the text."""
    return {
        "resourceType": "Observation",
        "id": "o-screen",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": LOINC, "code": "58430-0", "display": name}], "text": name},
        "effectiveDateTime": days_ago(10),
        "valueString": "Inconclusive",
    }


def named_unjudged(name: str) -> tuple[str, ...]:
    """The results the data-incomplete card names as not judged (`unread-uds`) on order-sign of oxycodone for a patient
    on it whose one screen, named `name`, read nothing."""
    long_term = med_request(OXYCODONE, authored=days_ago(30), supply_days=30, refills=11)
    draft = med_request(OXYCODONE, draft=True, id="d1")
    evaluation = run("order-sign", drafts=[draft], resources=[long_term, screen(name)])
    return unexpected_uds_result.unjudged_results(evaluation.facts)


def test_a_drug_tests_name_is_quoted_whole_up_to_a_real_names_length() -> None:
    # The longest LOINC name of a drug test PainPlan reads (guideline/data/uds-analytes.csv) is quoted whole.
    name = "OPC3373 (Metabolite of Ariprazole) [Mass/volume] in Urine -- adjusted for lean body mass+urine creatinine"
    assert drug_test_name(Concept((), name)) == name
    assert named_unjudged("oxyCODONE+oxyMORphone Ur Ql Scn") == (f"oxyCODONE+oxyMORphone Ur Ql Scn ({days_ago(10)})",)


def test_a_drug_tests_name_far_longer_than_a_tests_is_quoted_short_cut_at_a_word() -> None:
    # Read by its LOINC code, the result is judged by its value; its name, with a note pasted in, was quoted whole on
    # the card, the plan page and the note.
    name = padded("oxyCODONE+oxyMORphone Ur Ql Scn", 1_000_000)
    quoted = drug_test_name(Concept((), name))
    assert len(quoted) <= QUOTED_CHARACTERS and quoted.endswith(" attached…")
    assert name.startswith(quoted[:-1] + " ")  # cut after a whole word
    assert named_unjudged(name) == (f"{quoted} ({days_ago(10)})",)
