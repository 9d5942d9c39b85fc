"""Urine drug tests known only by a local code or text: read from their names, so they count and are judged."""

from __future__ import annotations

import pytest

from guideline.checks import CHECKS, unexpected_uds_result, urine_drug_test
from guideline.fhirdata import LOINC, Coding, Concept
from guideline.uds_names import substances_named
from tests.builders import card, days_ago, med_request, run

LOCAL = "http://lab.example/codes"
OXYCODONE = "1049621"


def local(text: str) -> Concept:
    return Concept((Coding(LOCAL, "L1", text),))


@pytest.mark.parametrize(
    ("name", "substances"),
    [
        ("Fentanyl, Urine, Screen", ("fentanyl",)),
        ("NORFENTANYL UR CONFIRM", ("fentanyl",)),
        ("Oxycodone/Oxymorphone, Urine", ("oxycodone+oxymorphone",)),  # the test an oxymorphone order explains too
        ("Morphine, Urine, Confirmation", ("morphine",)),  # was "opiate": judged as its LOINC code is
        ("HYDROMORPHONE, URINE", ("hydromorphone",)),
        ("6-Monoacetylmorphine, Urine, Confirmation", ("heroin",)),  # not morphine
        ("Benzoylecgonine (cocaine metabolite), urine", ("cocaine",)),
        ("THC-COOH, urine", ("cannabinoid",)),
        ("UDS 9 panel", ()),  # a panel: the test counts as done, its components carry the substances
        ("DRUG SCREEN, URINE", ()),
    ],
)
def test_a_urine_drug_test_is_read_from_its_name(name: str, substances: tuple[str, ...]) -> None:
    assert substances_named(local(name)) == substances


@pytest.mark.parametrize(
    "concept",
    [
        local("Fentanyl level, serum"),  # not urine
        local("Urine culture"),  # urine, but no drug testing
        local("Urinalysis, complete"),
        local("Chlamydia/GC screen, urine"),  # a urine "screen" that is no drug test
        local("Pregnancy test, urine, qualitative"),
        local("Nicotine/cotinine screen, urine"),
        Concept((Coding(LOINC, "3349-8", "Fentanyl [Mass/volume] in Serum or Plasma"),), "Fentanyl, urine"),  # a LOINC
        None,
    ],
)
def test_other_results_are_not_urine_drug_tests(concept: Concept | None) -> None:
    assert substances_named(concept) is None


def lab(name: str, value: str, days: int = 20) -> dict:
    return {
        "resourceType": "Observation",
        "id": f"lab-{days}",
        "status": "final",
        "code": {"coding": [{"system": LOCAL, "code": "L1", "display": name}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": days_ago(days),
        "valueString": value,
    }


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    monkeypatch.setitem(CHECKS, urine_drug_test.CHECK_ID, urine_drug_test)


def sign(*resources: dict):
    long_term = med_request(OXYCODONE, authored=days_ago(200), supply_days=30, refills=11)
    return run("order-sign", drafts=[med_request(OXYCODONE, draft=True, id="d1")], resources=[long_term, *resources])


def test_a_locally_coded_screen_last_month_is_a_urine_drug_test_on_record() -> None:
    # Before: "none on record" for a patient tested three weeks ago, because the lab sent no LOINC code.
    assert card(sign(), urine_drug_test.CHECK_ID) is not None
    assert card(sign(lab("DRUG SCREEN 9 PANEL, URINE", "See components")), urine_drug_test.CHECK_ID) is None


def test_an_unexpected_locally_coded_result_is_named() -> None:
    found = card(sign(lab("Fentanyl, Urine, Screen", "Positive")), unexpected_uds_result.CHECK_ID)
    assert found is not None and "positive for fentanyl" in found.summary


def test_a_serum_level_is_no_urine_drug_test() -> None:
    evaluation = sign(lab("Fentanyl level, serum", "Positive"))
    assert card(evaluation, unexpected_uds_result.CHECK_ID) is None
    assert card(evaluation, urine_drug_test.CHECK_ID) is not None
