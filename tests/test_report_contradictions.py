"""A lab report that contradicts its own result: its conclusion says a drug was found ("Positive for oxycodone",
"Detected: oxycodone") while the result it links for that drug reads "Negative" or "Not detected". The contradiction
is named as a kind of its own, and the negative is read the more cautious way, never as an unexpected negative."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from builders import NOW, PATIENT_ID, SNOMED, TODAY, card, days_ago, med_request, observation, run
from synthetic_export import patient, write_export
from test_diagnostic_reports import (
    FENTANYL_SCREEN,
    OXYCODONE_SCREEN,
    contained_result,
    linked_report,
    long_term,
    report,
    reports_of_one_result,
    sign,
)

from guideline.checks import CHECKS, unexpected_uds_result, urine_drug_test
from guideline.config import GuidelineConfig
from guideline.named_gaps import NAMED_GAPS
from guideline.plan import build_plan
from guideline.population import Period
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

DISAGREE = "uds-report-disagreements"
PANEL = "Drugs of abuse 5 panel - Urine"
LINKED = pytest.mark.parametrize("shape", ["referenced", "contained"])  # Quest and Labcorp; Epic Beaker


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, urine_drug_test.CHECK_ID, urine_drug_test)
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)


def disagreements(*resources: dict[str, Any]) -> tuple[str, ...]:
    """What the new kind names on patient-view (a current oxycodone prescription, so the check applies), checked
    against the plan page's data-completeness list of it."""
    evaluation = run("patient-view", resources=[long_term(), *resources])
    [kind] = [kind for kind in NAMED_GAPS if kind.key == DISAGREE]
    named = kind.items(evaluation.facts)
    assert build_plan(evaluation, (), evaluation.facts.config, NOW).named[DISAGREE] == named
    return named


def unread_uds(*resources: dict[str, Any]) -> tuple[str, ...]:
    return unexpected_uds_result.unread_results(run("patient-view", resources=[long_term(), *resources]).facts)


def assert_negative_read_as_found(shape: str, conclusion: str, value: str = "Negative") -> None:
    """The oxycodone result `value` of a report (`shape`) whose conclusion says oxycodone was found: never an
    unexpected negative, the test counted as done and read, the contradiction named, the result not left unread."""
    contradicted = linked_report(shape, conclusion, value)
    assert card(sign(*contradicted), unexpected_uds_result.CHECK_ID) is None
    # a test was done and read: the lab says it found oxycodone
    assert card(sign(*contradicted), urine_drug_test.CHECK_ID) is None
    assert disagreements(*contradicted) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "{conclusion}" but its oxycodone result says "{value}"; '
        f"{ITSELF})",
    )
    assert unread_uds(*contradicted) == ()


@LINKED
@pytest.mark.parametrize(
    "conclusion",
    ["Positive for oxycodone", "Detected: oxycodone", "OXYCODONE: POSITIVE", "Oxycodone found", "Found: oxycodone"],
)
@pytest.mark.parametrize("value", ["Negative", "Not detected"])
def test_a_negative_its_own_reports_conclusion_calls_positive_is_never_an_unexpected_negative(
    shape: str, conclusion: str, value: str
) -> None:
    # Before: the result's "Negative" was read and the conclusion dropped, so a patient the lab says tested positive
    # for the oxycodone they are prescribed got "negative for oxycodone although prescribed" (a diversion signal).
    assert_negative_read_as_found(shape, conclusion, value)


def test_the_contradiction_is_named_on_the_data_incomplete_card(tmp_path) -> None:
    from cds_support import bundle, data_incomplete_detail

    sent = linked_report("referenced", "Positive for oxycodone", "Negative", day="2026-06-01")
    detail = data_incomplete_detail(tmp_path, udsLabs=bundle(*sent[:1]), labReports=bundle(*sent[1:]))
    assert (
        f'{PANEL} (2026-06-01, its conclusion says "Positive for oxycodone" but its oxycodone result says '
        '"Negative"; read the more cautious way: that negative was not judged)'
    ) in detail


def test_a_site_reading_24_months_names_a_contradiction_of_18_months_ago_that_counts_as_the_test(tmp_path) -> None:
    # The report of 18 months ago is that site's test done (the lab says it found oxycodone), so the urine drug test
    # card stays quiet; its disagreement was named only within a fixed 12 months, so the test counted rested on a
    # negative nobody was told was not judged.
    from cds_support import bundle, full_prefetch, hook_request, make_app, oxycodone_draft

    two_years = {"checks": {urine_drug_test.CHECK_ID: {"lookback_months": 24}}}
    sent = linked_report("referenced", "Positive for oxycodone", "Negative", day=days_ago(540))
    draft = oxycodone_draft(supply_days=30, refills=11)  # a new order for longer-term therapy
    prefetch = full_prefetch("order-sign", udsLabs=bundle(*sent[:1]), labReports=bundle(*sent[1:]))
    app = make_app(tmp_path, guideline=two_years)
    cards = app.test_client().post("/cds-services/order-sign", json=hook_request(drafts=[draft], prefetch=prefetch))
    by_topic = {c["source"]["topic"]["code"]: c for c in cards.json["cards"]}
    assert urine_drug_test.CHECK_ID not in by_topic
    assert (
        f'{PANEL} ({days_ago(540)}, its conclusion says "Positive for oxycodone" but its oxycodone result says '
        '"Negative"; read the more cautious way: that negative was not judged)'
    ) in by_topic["data-incomplete"]["detail"]


def test_a_site_that_turns_unexpected_results_off_is_still_told_of_the_contradiction_its_test_rests_on() -> None:
    # The urine drug test card counts the report as the year's test; it was named only where `unexpected-uds-result`
    # runs, so with that check off the count rested on a negative nobody was told was not judged.
    off = {"checks": {unexpected_uds_result.CHECK_ID: {"enabled": False}}}
    evaluation = run(
        "patient-view",
        resources=[long_term(), *linked_report("referenced", "Positive for oxycodone", "Negative")],
        config=off,
    )
    assert card(evaluation, urine_drug_test.CHECK_ID) is None
    [kind] = [kind for kind in NAMED_GAPS if kind.key == DISAGREE]
    assert kind.items(evaluation.facts) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "Positive for oxycodone" but its oxycodone result says '
        f'"Negative"; {ITSELF})',
    )


def test_a_beaker_panel_whose_component_reads_not_detected_names_the_drug() -> None:
    # Epic Beaker: the screen as one result with a component per substance under the lab's own codes, the
    # "Not detected" coded in SNOMED CT, the panel contained in the report that concludes.
    components = [
        {
            "code": {"coding": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.768282", "code": code}], "text": name},
            "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": answer, "display": said}]},
        }
        for code, name, answer, said in (
            ("OXY", "OXYCODONE", "260415000", "Not detected"),
            ("FEN", "FENTANYL", "260415000", "Not detected"),
        )
    ]
    panel = contained_result("obs1", "24349-3", "See components") | {"component": components}
    del panel["valueString"]
    sent = report(panel, when=days_ago(30), conclusion="Positive for oxycodone")
    assert card(sign(sent), unexpected_uds_result.CHECK_ID) is None
    assert disagreements(sent) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "Positive for oxycodone" but its oxycodone result says '
        '"Not detected"; read the more cautious way: that negative was not judged)',
    )


def test_a_confirmation_that_found_the_drug_is_no_contradiction_of_its_negative_screen() -> None:
    # Quest's usual report: a screen under its cut-off and a confirmation by LC-MS/MS that found it, the
    # conclusion following the confirmation. The lab says one thing; nothing is named.
    when = f"{days_ago(30)}T09:14:00-04:00"
    screen = observation(OXYCODONE_SCREEN, when=when, value_string="Negative")
    confirmation = observation("16249-5", when=when, value_string="Positive")  # Oxycodone Ur Ql Cfm
    linking = report(when=days_ago(30), conclusion="Positive for oxycodone", id="rep-q")
    linking["result"] = [{"reference": f"Observation/{o['id']}"} for o in (screen, confirmation)]
    assert disagreements(screen, confirmation, linking) == ()


def test_a_conclusion_that_says_the_drug_was_not_found_is_no_contradiction() -> None:
    # "Positive for fentanyl. Negative for oxycodone." says of oxycodone what its result says: the negative stands,
    # and is the unexpected negative it is for a patient prescribed oxycodone.
    when = f"{days_ago(30)}T09:14:00-04:00"
    oxycodone = observation(OXYCODONE_SCREEN, when=when, value_string="Negative")
    fentanyl = observation(FENTANYL_SCREEN, when=when, value_string="Positive")
    linking = report(when=days_ago(30), conclusion="Positive for fentanyl. Negative for oxycodone.", id="rep-l")
    linking["result"] = [{"reference": f"Observation/{o['id']}"} for o in (oxycodone, fentanyl)]
    assert disagreements(oxycodone, fentanyl, linking) == ()
    found = card(sign(oxycodone, fentanyl, linking), unexpected_uds_result.CHECK_ID)
    assert found is not None and f"negative for oxycodone ({days_ago(30)})" in found.summary


@pytest.mark.parametrize("order", ["positive-first", "negative-first"])
def test_two_reports_that_disagree_about_the_drug_are_named_as_a_disagreement_not_an_unread_test(order: str) -> None:
    # The lab's report and an HIE's copy, one "Positive for oxycodone", one "Negative", both linking a "Negative":
    # the positive one contradicts the result it links too, so the negative is read the more cautious way (not
    # judged), and both disagreements are named under the kind of their own.
    positive, negative = ("final", "Positive for oxycodone", 3), ("final", "Negative", 3)
    sent = reports_of_one_result(
        "Negative", *((positive, negative) if order == "positive-first" else (negative, positive))
    )
    assert card(sign(*sent), unexpected_uds_result.CHECK_ID) is None
    first, second = ("Positive for oxycodone", "Negative")[:: 1 if order == "positive-first" else -1]
    between = f'report conclusions of the same results disagree: "{first}", "{second}"; read the more cautious way'
    itself = (
        'its conclusion says "Positive for oxycodone" but its oxycodone result says "Negative"; read the more '
        "cautious way: that negative was not judged"
    )
    named = disagreements(*sent)
    if order == "positive-first":  # one report, named once with both
        assert named == (f"{PANEL} ({days_ago(30)}, {between}; {itself})",)
    else:
        assert named == (f"{PANEL} ({days_ago(30)}, {between})", f"{PANEL} ({days_ago(30)}, {itself})")
    # named once, with the reports' words: not again as a result not read, nor the disagreement as a test not read
    assert unread_uds(*sent) == ()


def test_the_population_review_counts_a_contradicted_report_as_the_years_test(tmp_path) -> None:
    from test_drug_test_procedures import annual_monitoring

    pair = linked_report("referenced", "Positive for oxycodone", "Negative", day="2026-01-05")
    assert annual_monitoring(tmp_path, "p9", *pair) == ("true", "true")


# -- conclusions said other ways ---------------------------------------------------------------------------------

OPIATE_SCREEN = "19295-5"  # Opiates [Presence] in Urine by Screen method
BENZODIAZEPINE_SCREEN = "14316-4"  # Benzodiazepines [Presence] in Urine by Screen method
MORPHINE_ER = "891888"  # morphine sulfate 30 MG Extended Release Oral Tablet
ITSELF = "read the more cautious way: that negative was not judged"
KEPT = "read the more cautious way: that positive was kept, as a drug found in the sample was in it"


def referenced_report(conclusion: str, *results: tuple[str, str]) -> list[dict[str, Any]]:
    """Quest and Labcorp: a result of its own per (LOINC, value), taken 30 days ago, and the report concluding
    `conclusion` that references them."""
    when = f"{days_ago(30)}T09:14:00-04:00"
    sent = [observation(code, when=when, value_string=value) for code, value in results]
    linking = report(when=days_ago(30), conclusion=conclusion, id="rep-w")
    linking["result"] = [{"reference": f"Observation/{o['id']}"} for o in sent]
    return [*sent, linking]


@LINKED
@pytest.mark.parametrize(
    "conclusion",
    [
        "Oxycodone detected",
        "Oxycodone POSITIVE",
        "oxycodone - positive",
        "Positive: oxycodone, fentanyl",
        "All negative except oxycodone positive",
        "Negative except oxycodone",
        "Fentanyl not detected; oxycodone detected",
        "Oxycodone, oxymorphone detected",
    ],
)
def test_a_conclusion_naming_the_drug_before_its_finding_contradicts_its_negative(shape: str, conclusion: str) -> None:
    # Before: only a clause beginning with its finding was read ("Positive for oxycodone"); a lab writing the drug
    # first ("Oxycodone detected"), or all negative but one, left "negative for oxycodone although prescribed".
    assert_negative_read_as_found(shape, conclusion)


@pytest.mark.parametrize(
    "conclusion",
    ["Oxycodone not detected", "No oxycodone detected", "Oxycodone was not detected", "All negative except fentanyl"],
)
def test_a_conclusion_naming_the_drug_before_saying_it_was_not_found_is_no_contradiction(conclusion: str) -> None:
    sent = linked_report("referenced", conclusion, "Negative")
    assert disagreements(*sent) == ()
    found = card(sign(*sent), unexpected_uds_result.CHECK_ID)
    assert found is not None and f"negative for oxycodone ({days_ago(30)})" in found.summary


@pytest.mark.parametrize(
    ("conclusion", "screen", "label"),
    [
        ("Presumptive positive for opiates", OPIATE_SCREEN, "opiates"),
        ("Opiates presumptive positive", OPIATE_SCREEN, "opiates"),
        ("Presumptive positive for benzodiazepines", BENZODIAZEPINE_SCREEN, "benzodiazepines"),
    ],
)
def test_a_conclusion_naming_a_class_found_contradicts_the_class_screens_negative(
    conclusion: str, screen: str, label: str
) -> None:
    # A class word names the class's own screen, as a result's name is read (uds_names.SUBSTANCE_WORDS).
    sent = referenced_report(conclusion, (screen, "Negative"))
    assert disagreements(*sent) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "{conclusion}" but its {label} result says "Negative"; '
        f"{ITSELF})",
    )
    # a patient on morphine is not told the lab found no opiates: the lab says it found them
    morphine = med_request(MORPHINE_ER, authored=days_ago(200), supply_days=30, refills=11)
    assert card(run("patient-view", resources=[morphine, *sent]), unexpected_uds_result.CHECK_ID) is None
    assert unread_uds(*sent) == ()


def test_a_class_found_is_no_contradiction_of_a_drug_it_does_not_name() -> None:
    # Oxycodone is no opiate to an opiate immunoassay: "Presumptive positive for opiates" says nothing of it.
    sent = referenced_report(
        "Presumptive positive for opiates", (OPIATE_SCREEN, "Positive"), (OXYCODONE_SCREEN, "Negative")
    )
    assert disagreements(*sent) == ()
    found = card(sign(*sent), unexpected_uds_result.CHECK_ID)
    assert found is not None and f"negative for oxycodone ({days_ago(30)})" in found.summary


@LINKED
@pytest.mark.parametrize("conclusion", ["Positive", "POSITIVE - see confirmation", "Presumptive positive"])
def test_a_plain_positive_beside_results_all_negative_contradicts_them(shape: str, conclusion: str) -> None:
    # The report says something was found and every result it links reads negative: before, the negatives were read
    # in silence and the patient prescribed oxycodone got "negative for oxycodone although prescribed".
    assert_negative_read_as_found(shape, conclusion)


def test_a_plain_positive_names_each_negative_it_contradicts() -> None:
    sent = referenced_report("Positive", (OXYCODONE_SCREEN, "Negative"), (FENTANYL_SCREEN, "Not detected"))
    assert disagreements(*sent) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "Positive" but its oxycodone result says "Negative" and its '
        'fentanyl result says "Not detected"; read the more cautious way: those negatives were not judged)',
    )


def test_a_plain_positive_beside_a_positive_result_is_no_contradiction() -> None:
    # The positive it links is what it concludes; the oxycodone negative stands, and is unexpected.
    sent = referenced_report("Positive", (OXYCODONE_SCREEN, "Negative"), (FENTANYL_SCREEN, "Positive"))
    assert disagreements(*sent) == ()
    found = card(sign(*sent), unexpected_uds_result.CHECK_ID)
    assert found is not None and f"negative for oxycodone ({days_ago(30)})" in found.summary


@LINKED
@pytest.mark.parametrize(
    "conclusion", ["Negative", "All drugs negative", "No drugs detected", "Negative for all drugs tested"]
)
def test_a_conclusion_that_nothing_was_found_beside_a_positive_keeps_the_positive_and_says_so(
    shape: str, conclusion: str
) -> None:
    # Before: the report's "Negative" went unsaid beside the fentanyl positive it links. A drug found in the cup was
    # in it, so the positive stands (a summary line cannot explain it away), and the card's line says what the
    # lab's own conclusion says.
    if shape == "referenced":
        sent = referenced_report(conclusion, (FENTANYL_SCREEN, "Positive"))
    else:
        sent = [report(contained_result("obs1", FENTANYL_SCREEN, "Positive"), when=days_ago(30), conclusion=conclusion)]
    found = card(sign(*sent), unexpected_uds_result.CHECK_ID)
    assert found is not None and f"positive for fentanyl ({days_ago(30)})" in found.summary
    assert f'the lab\'s report concludes "{conclusion}"' in found.detail
    assert disagreements(*sent) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "{conclusion}" but its fentanyl result says "Positive"; {KEPT})',
    )


def test_an_expected_positive_its_report_calls_negative_is_named_not_a_card() -> None:
    sent = referenced_report("Negative", (OXYCODONE_SCREEN, "Positive"))
    assert card(sign(*sent), unexpected_uds_result.CHECK_ID) is None
    assert disagreements(*sent) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "Negative" but its oxycodone result says "Positive"; {KEPT})',
    )


@pytest.mark.parametrize(
    ("conclusion", "results"),
    [
        # Quest: a screen over its cut-off, not confirmed; the conclusion follows the confirmation
        ("Negative", ((FENTANYL_SCREEN, "Positive"), ("11235-9", "Negative"))),
        ("Negative for oxycodone. Fentanyl detected.", ((FENTANYL_SCREEN, "Positive"), (OXYCODONE_SCREEN, "Negative"))),
        ("All negative except fentanyl", ((FENTANYL_SCREEN, "Positive"), (OXYCODONE_SCREEN, "Negative"))),
        ("Negative, dilute specimen", ((OXYCODONE_SCREEN, "Negative"),)),
        # a confirmation's finding naming no drug is said of the class it confirms, not of every drug
        ("Opiates: presumptive positive, confirmation negative", ((FENTANYL_SCREEN, "Positive"),)),
        ("Opiates: presumptive positive, confirmation negative", ((OXYCODONE_SCREEN, "Negative"),)),
    ],
    ids=["confirmation", "named", "except", "dilute", "class-then-bare", "class-then-bare-oxycodone"],
)
def test_a_conclusion_of_nothing_found_that_its_results_bear_out_is_no_contradiction(
    conclusion: str, results: tuple[tuple[str, str], ...]
) -> None:
    assert disagreements(*referenced_report(conclusion, *results)) == ()


@pytest.mark.parametrize(
    "conclusion",
    ["Opiates: presumptive positive, confirmation negative", "Screen positive for opiates; LC-MS/MS not detected"],
)
def test_a_confirmation_negative_contradicts_the_screen_positive_it_overrides(conclusion: str) -> None:
    # Before: the confirmation's bare "negative" was dropped and the report read as opiates found, so the opiate
    # screen's positive agreed with it. The definitive result (LC-MS/MS) overrides the presumptive screen: the lab's
    # conclusion says opiates were not found. The screen's positive is kept (a positive stands, KEPT) and the
    # disagreement named, so the clinician reads the confirmation before acting on the screen.
    sent = referenced_report(conclusion, (OPIATE_SCREEN, "Positive"), (FENTANYL_SCREEN, "Positive"))
    assert disagreements(*sent) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "{conclusion}" but its opiates result says "Positive"; {KEPT})',
    )


def test_a_named_denial_contradicts_that_drugs_positive_only() -> None:
    sent = referenced_report("Negative for fentanyl", (FENTANYL_SCREEN, "Positive"), (OXYCODONE_SCREEN, "Positive"))
    assert disagreements(*sent) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "Negative for fentanyl" but its fentanyl result says '
        f'"Positive"; {KEPT})',
    )


def test_a_class_excepted_from_nothing_found_covers_its_drugs() -> None:
    # "All negative except opiates" beside a morphine confirmation that found it: the class stands for its drugs
    # (uds_analytes.CLASS_MEMBERS), so the lab says one thing; a fentanyl positive beside it is contradicted.
    morphine = observation("16196-8", when=f"{days_ago(30)}T09:14:00-04:00", value_string="Positive")
    sent = referenced_report("All negative except opiates", (OPIATE_SCREEN, "Positive"), (FENTANYL_SCREEN, "Positive"))
    sent[-1]["result"].append({"reference": f"Observation/{morphine['id']}"})
    assert disagreements(morphine, *sent) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "All negative except opiates" but its fentanyl result says '
        f'"Positive"; {KEPT})',
    )


OTHER_THAN = [
    "No drugs other than oxycodone detected",
    "No drugs detected other than oxycodone",
    "No other drugs detected besides oxycodone",
    "Nothing other than prescribed oxycodone found",
]


@LINKED
@pytest.mark.parametrize("conclusion", OTHER_THAN)
def test_a_drug_excepted_by_other_than_is_no_contradiction_of_its_positive(shape: str, conclusion: str) -> None:
    # Before: "No drugs other than oxycodone detected" was read as oxycodone not found, so the positive for the
    # oxycodone the patient is prescribed was named as one the lab's own conclusion denies. It says what "All drugs
    # negative except oxycodone" says: oxycodone found, every other drug not.
    sent = linked_report(shape, conclusion, "Positive")
    assert card(sign(*sent), unexpected_uds_result.CHECK_ID) is None
    assert disagreements(*sent) == ()


@pytest.mark.parametrize("conclusion", OTHER_THAN)
def test_a_drug_other_than_the_one_excepted_is_said_not_found(conclusion: str) -> None:
    # ... and a fentanyl positive beside it is one the conclusion denies: kept, and the disagreement named.
    sent = referenced_report(conclusion, (OXYCODONE_SCREEN, "Positive"), (FENTANYL_SCREEN, "Positive"))
    assert disagreements(*sent) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "{conclusion}" but its fentanyl result says "Positive"; {KEPT})',
    )


@pytest.mark.parametrize(
    ("code", "drug"),
    [("19386-2", "chlordiazepoxide"), ("12374-5", "clobazam"), ("16224-8", "triazolam"), ("16233-9", "midazolam")],
)
def test_benzodiazepines_excepted_from_nothing_found_cover_every_benzodiazepine_the_analyte_table_judges(
    code: str, drug: str
) -> None:
    # "All negative except benzodiazepines" beside a confirmation of a benzodiazepine the class list did not name: the
    # class stands for every benzodiazepine of the analyte table (uds_analytes), so the lab says one thing. Before, the
    # list named seven, and a chlordiazepoxide positive was called one the lab's own conclusion says was not found.
    confirmed = observation(code, when=f"{days_ago(30)}T09:14:00-04:00", value_string="Positive")
    sent = referenced_report("All negative except benzodiazepines", (BENZODIAZEPINE_SCREEN, "Positive"))
    sent[-1]["result"].append({"reference": f"Observation/{confirmed['id']}"})
    assert disagreements(confirmed, *sent) == (), drug


@LINKED
@pytest.mark.parametrize(
    "conclusion",
    [
        "No fentanyl, oxycodone detected",
        "No fentanyl and oxycodone detected",
        "No opiates, oxycodone, or fentanyl detected.",
    ],
)
def test_a_statement_that_begins_by_denying_denies_every_drug_it_lists(shape: str, conclusion: str) -> None:
    # Before: "No" was read of the first drug's clause only, and "oxycodone detected" after the comma as a finding,
    # so the report was called one that contradicts its own oxycodone negative, and that negative, of a prescribed
    # oxycodone, was not judged: the unexpected negative (a diversion signal) went unsaid.
    sent = linked_report(shape, conclusion, "Negative")
    assert disagreements(*sent) == ()
    found = card(sign(*sent), unexpected_uds_result.CHECK_ID)
    assert found is not None and "negative for oxycodone" in found.summary


def test_a_drug_denied_in_a_statement_of_its_own_is_not_taken_as_found_by_the_next() -> None:
    # Before: "No oxycodone." said no finding after the drug, so oxycodone waited into the next statement and took
    # its "detected": the report was called one that contradicts its own oxycodone negative, and that negative of a
    # prescribed oxycodone was not judged.
    sent = referenced_report(
        "No oxycodone. Fentanyl, norfentanyl detected.", (OXYCODONE_SCREEN, "Negative"), (FENTANYL_SCREEN, "Positive")
    )
    assert disagreements(*sent) == ()
    found = card(sign(*sent), unexpected_uds_result.CHECK_ID)
    assert found is not None and "negative for oxycodone" in found.summary


@pytest.mark.parametrize("conclusion", ["Positive for gabapentin", "Positive for ethanol metabolites (EtG)"])
def test_a_finding_for_a_drug_painplan_does_not_read_is_no_bare_positive(conclusion: str) -> None:
    # Before: "Positive for gabapentin" named no drug PainPlan reads and was taken as a bare "Positive" said of the
    # report's results, so the negative of a prescribed oxycodone was called contradicted and not judged.
    sent = referenced_report(conclusion, (OXYCODONE_SCREEN, "Negative"))
    assert disagreements(*sent) == ()
    found = card(sign(*sent), unexpected_uds_result.CHECK_ID)
    assert found is not None and "negative for oxycodone" in found.summary


def test_a_finding_of_nothing_for_a_drug_painplan_does_not_read_denies_no_positive() -> None:
    sent = referenced_report("Negative for gabapentin", (FENTANYL_SCREEN, "Positive"))
    assert disagreements(*sent) == ()


@pytest.mark.parametrize(
    ("conclusion", "metabolite"),
    [
        ("Oxycodone positive; all other drugs negative", "18325-1"),  # oxymorphone, by confirmation
        ("All negative except oxycodone", "18325-1"),
    ],
)
def test_a_drug_found_covers_its_metabolites_against_nothing_else_found(conclusion: str, metabolite: str) -> None:
    # A lab names the drug and not its metabolites. Before, the oxymorphone the oxycodone breaks down to was called a
    # positive the lab's own conclusion denies ("read the report"), a false alarm on a consistent report.
    sent = referenced_report(conclusion, ("19643-6", "Positive"), (metabolite, "Positive"))
    assert disagreements(*sent) == ()


def test_a_conclusion_read_positive_after_a_bare_beginning_contradicts_its_negatives() -> None:
    sent = referenced_report("Dilute specimen. Negative.", (OXYCODONE_SCREEN, "Positive"))
    assert disagreements(*sent) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "Dilute specimen. Negative." but its oxycodone result says '
        f'"Positive"; {KEPT})',
    )


# -- drugs joined by "and", metabolites ----------------------------------------------------------------------------

OXYCODONE_CONFIRM = "19643-6"  # oxyCODONE [Presence] in Urine by Confirmatory method
OXYMORPHONE_CONFIRM = "18325-1"  # oxyMORphone [Presence] in Urine by Confirmatory method
HYDROCODONE_CONFIRM = "19483-7"  # HYDROcodone [Presence] in Urine by Confirmatory method
HYDROMORPHONE_CONFIRM = "18473-9"  # HYDROmorphone [Presence] in Urine by Confirmatory method


@LINKED
@pytest.mark.parametrize(
    "conclusion",
    [
        "Oxycodone and metabolites detected",
        "Oxycodone and its metabolites detected",
        "OXYCODONE AND METABOLITE(S) DETECTED",
        "Oxycodone and oxymorphone detected",
        "Fentanyl not detected. Oxycodone and oxymorphone detected.",
        "Negative for fentanyl, oxycodone and metabolites detected",
        "Fentanyl not detected; oxycodone, oxymorphone present",
        # "&" and "with" join as "and" does: labs write both ("Oxycodone & metabolites detected").
        "Oxycodone & metabolites detected",
        "Oxycodone with metabolites detected",
        "Oxycodone with its metabolites detected",
        "Oxycodone&metabolites detected",
    ],
)
def test_a_finding_after_drugs_joined_by_and_is_said_of_each_of_them(shape: str, conclusion: str) -> None:
    # Quest and Labcorp write "Oxycodone and metabolites detected". Before, the reading stopped at "and": "metabolites
    # detected" named no drug, and oxycodone (named bare) took the reading before it or none, so the oxycodone
    # negative the report links was read in silence as "negative for oxycodone although prescribed".
    assert_negative_read_as_found(shape, conclusion)


@pytest.mark.parametrize(
    ("conclusion", "code", "label"),
    [
        ("Hydrocodone and its metabolite hydromorphone present", HYDROCODONE_CONFIRM, "hydrocodone"),
        ("Hydrocodone and its metabolite hydromorphone present", HYDROMORPHONE_CONFIRM, "hydromorphone"),
        ("Positive for fentanyl and norfentanyl", FENTANYL_SCREEN, "fentanyl"),
        ("Hydrocodone with its metabolite hydromorphone present", HYDROMORPHONE_CONFIRM, "hydromorphone"),
        ("Hydrocodone & hydromorphone present", HYDROCODONE_CONFIRM, "hydrocodone"),
    ],
)
def test_each_drug_joined_by_and_is_said_found(conclusion: str, code: str, label: str) -> None:
    sent = referenced_report(conclusion, (code, "Negative"))
    assert disagreements(*sent) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "{conclusion}" but its {label} result says "Negative"; '
        f"{ITSELF})",
    )


@pytest.mark.parametrize(
    "conclusion",
    [
        "Oxycodone and metabolites detected",
        "Positive for oxycodone and metabolites",
        "Oxycodone and its metabolites",
        "Oxycodone & metabolites detected",
        "Positive for oxycodone with metabolites",
    ],
)
def test_metabolite_words_name_no_drug_of_their_own(conclusion: str) -> None:
    # "and metabolites" says nothing of which metabolites: an oxymorphone confirmation under its cut-off beside an
    # oxycodone one that found it is no contradiction (noroxycodone is the main metabolite).
    sent = referenced_report(conclusion, (OXYCODONE_CONFIRM, "Positive"), (OXYMORPHONE_CONFIRM, "Negative"))
    assert disagreements(*sent) == ()


BOTH = (
    "read the more cautious way: that negative was not judged and that positive was kept, as a drug found in the "
    "sample was in it"
)


@pytest.mark.parametrize(
    "conclusion",
    [
        "Positive for oxycodone and negative for fentanyl",
        "Oxycodone detected but fentanyl not detected",
        "Positive for oxycodone and oxymorphone, fentanyl not detected",
        "Positive for oxycodone, oxymorphone, and fentanyl not detected",
    ],
)
def test_each_clause_of_a_mixed_conclusion_keeps_its_own_finding(conclusion: str) -> None:
    # A finding at the end of "and" joins the drugs named bare before it, never a drug another finding was said of.
    sent = referenced_report(conclusion, (OXYCODONE_SCREEN, "Negative"), (FENTANYL_SCREEN, "Positive"))
    assert disagreements(*sent) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "{conclusion}" but its oxycodone result says "Negative" and '
        f'its fentanyl result says "Positive"; {BOTH})',
    )


@pytest.mark.parametrize(
    "conclusion", ["Negative for oxycodone, positive for fentanyl", "Oxycodone not detected and fentanyl detected"]
)
def test_a_mixed_conclusion_its_results_bear_out_is_no_contradiction(conclusion: str) -> None:
    sent = referenced_report(conclusion, (OXYCODONE_SCREEN, "Negative"), (FENTANYL_SCREEN, "Positive"))
    assert disagreements(*sent) == ()
    found = card(sign(*sent), unexpected_uds_result.CHECK_ID)
    assert found is not None and f"negative for oxycodone ({days_ago(30)})" in found.summary


def test_a_drugs_metabolites_found_say_nothing_of_the_drug_itself() -> None:
    # "Oxycodone metabolites detected" (noroxycodone, the parent under its cut-off) is no contradiction of an
    # oxycodone confirmation that did not find it: the negative is read as it says.
    sent = referenced_report("Oxycodone metabolites detected", (OXYCODONE_CONFIRM, "Negative"))
    assert disagreements(*sent) == ()


@pytest.mark.parametrize(
    "conclusion", ["Positive for oxycodone but not fentanyl", "Positive for oxycodone, not for fentanyl"]
)
def test_a_drug_denied_after_a_finding_is_said_not_found(conclusion: str) -> None:
    # Before, "not fentanyl" said no finding of its own and took the one before it: fentanyl was read as found, and
    # the fentanyl negative the report links was named as contradicted and left unjudged.
    sent = referenced_report(conclusion, (OXYCODONE_SCREEN, "Positive"), (FENTANYL_SCREEN, "Negative"))
    assert disagreements(*sent) == ()
    denied = referenced_report(conclusion, (OXYCODONE_SCREEN, "Positive"), (FENTANYL_SCREEN, "Positive"))
    assert disagreements(*denied) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "{conclusion}" but its fentanyl result says "Positive"; {KEPT})',
    )


# -- validity results read once --------------------------------------------------------------------------------


def test_a_contradicting_report_reads_the_records_validity_results_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # The reports not wholly read asked for the specimen verdicts again when a conclusion says what was found, though
    # the record's are read once for every window of results judged (`Facts.specimen_verdicts`).
    from guideline import uds

    reads: list[int] = []
    read_validity = uds.read_validity

    def counted(*args: Any) -> Any:
        reads.append(1)
        return read_validity(*args)

    monkeypatch.setattr(uds, "read_validity", counted)
    evaluation = run(
        "patient-view", resources=[long_term(), *linked_report("referenced", "Positive for oxycodone", "Negative")]
    )
    assert evaluation.facts.unread_drug_test_reports and evaluation.facts.uds_results
    assert len(reads) == 1, reads


def test_reports_whose_conclusion_says_nothing_found_or_not_never_ask_for_the_verdicts() -> None:
    from builders import TZ

    from guideline.config import GuidelineConfig
    from guideline.record import build_record
    from guideline.terminology import load_terminology
    from guideline.uds import unread_drug_test_reports

    def refused() -> Any:
        raise AssertionError("the specimen verdicts were asked for")

    record = build_record([long_term(), *linked_report("referenced", "See scanned report", "Negative")], TZ)
    terms = load_terminology(GuidelineConfig.from_mapping())
    assert unread_drug_test_reports(record, terms, refused) == ()


def test_a_records_conclusions_are_read_once_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    # The results are judged for two windows and the unread reports named: each asked for the conclusions and the
    # contradictions, and read them again (three times a call), though the record's reports and results are one.
    from guideline import uds
    from guideline.memo import forget_all

    calls: list[str] = []
    read = uds.report_contradictions
    monkeypatch.setattr(uds, "report_contradictions", lambda *a, **k: calls.append("read") or read(*a, **k))
    forget_all()
    evaluation = run("patient-view", resources=[long_term(), *linked_report("referenced", "Positive", "Negative")])
    build_plan(evaluation, (), evaluation.facts.config, NOW)
    assert calls == ["read"]


@LINKED
@pytest.mark.parametrize(
    "conclusion",
    ["No drugs other than those prescribed detected", "All drugs negative except prescribed medications"],
)
def test_a_conclusion_excepting_what_was_prescribed_contradicts_no_positive(shape: str, conclusion: str) -> None:
    # Before: read as every drug not found, so the positive for the oxycodone the patient is prescribed was named as
    # one the lab's own conclusion denies; the lab judged against a medication list PainPlan does not see.
    sent = linked_report(shape, conclusion, "Positive")
    assert card(sign(*sent), unexpected_uds_result.CHECK_ID) is None
    assert disagreements(*sent) == ()


def test_the_population_review_reads_a_records_conclusions_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The review counts a patient's tests done (`tests_done`) and reads their unread reports
    # (`unread_drug_test_reports`) with no Facts: both ask for the record's conclusions, read once
    # (`uds._conclusions_of`), as on a hook call.
    from guideline import uds
    from guideline.memo import forget_all

    calls: list[str] = []
    read = uds.report_contradictions
    monkeypatch.setattr(uds, "report_contradictions", lambda *a, **k: calls.append("read") or read(*a, **k))
    forget_all()
    sent = [patient(PATIENT_ID), long_term(), *linked_report("referenced", "Positive", "Negative")]
    write_export(tmp_path / "in", sent)
    period = Period(date(2025, 6, 16), date(2026, 6, 15))
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", period, TODAY, GuidelineConfig.from_mapping(), workers=1)
    assert calls == ["read"]
