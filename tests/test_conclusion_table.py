"""Urine drug test conclusions as labs write them (Quest, Labcorp, Aegis/Dominion-style pain-management labs, Epic
Beaker), each with the drugs it says were found and not found as the report's reader (`guideline.uds`) takes them.
A row PainPlan misreads and that is not small and sure to fix is marked xfail with why, so it is named, not hidden.
"""

from __future__ import annotations

import pytest
from builders import card, days_ago, observation
from test_diagnostic_reports import FENTANYL_SCREEN, OXYCODONE_SCREEN, contained_result, linked_report, report, sign
from test_report_contradictions import ITSELF, KEPT, PANEL, disagreements, referenced_report

from guideline.checks import CHECKS, unexpected_uds_result, urine_drug_test
from guideline.uds import _clause_readings, value_from_text

EVERY = "*"  # a reading naming no drug: "Positive", "No drugs detected" (said of every drug tested)


def read(conclusion: str) -> tuple[set[str], set[str]]:
    """The drugs (row keys) the conclusion says were found and not found, as the reader yields them (those it is not
    read surely of: tests/test_conclusion_not_read.py)."""
    found: set[str] = set()
    not_found: set[str] = set()
    for said, named in _clause_readings(conclusion):
        if said in ("positive", "negative"):
            (found if said == "positive" else not_found).update(named or (EVERY,))
    return found, not_found


def misread(why: str) -> pytest.MarkDecorator:
    """A row PainPlan misreads, named with why it is not fixed yet; strict, so a fix must say so."""
    return pytest.mark.xfail(strict=True, reason=why)


ROWS = [
    # Quest
    pytest.param("Positive for oxycodone", {"oxycodone"}, set(), id="quest-positive-for"),
    pytest.param("Negative for fentanyl", set(), {"fentanyl"}, id="quest-negative-for"),
    pytest.param("Oxycodone and metabolites detected", {"oxycodone"}, set(), id="quest-and-metabolites"),
    pytest.param("Oxycodone and oxymorphone present", {"oxycodone", "oxymorphone"}, set(), id="quest-and-present"),
    pytest.param(
        "Positive for oxycodone and oxymorphone, fentanyl not detected",
        {"oxycodone", "oxymorphone"},
        {"fentanyl"},
        id="quest-mixed",
    ),
    pytest.param("No drugs detected", set(), {EVERY}, id="quest-no-drugs"),
    pytest.param("All drugs negative except oxycodone", {"oxycodone"}, {EVERY}, id="quest-except"),
    # "other than", "besides", "apart from" except as "except" does, the finding written before or after them
    pytest.param("No drugs other than oxycodone detected", {"oxycodone"}, {EVERY}, id="quest-other-than"),
    pytest.param("No drugs detected other than oxycodone", {"oxycodone"}, {EVERY}, id="quest-detected-other-than"),
    pytest.param("No other drugs detected besides oxycodone", {"oxycodone"}, {EVERY}, id="quest-besides"),
    pytest.param(
        "Nothing other than prescribed oxycodone found", {"oxycodone"}, {EVERY}, id="painlab-nothing-other-than"
    ),
    pytest.param("No drugs detected apart from oxycodone", {"oxycodone"}, {EVERY}, id="quest-apart-from"),
    pytest.param("No drugs except oxycodone detected", {"oxycodone"}, {EVERY}, id="quest-except-before-finding"),
    pytest.param("All drugs other than oxycodone negative", {"oxycodone"}, {EVERY}, id="painlab-all-other-than"),
    pytest.param("Except for oxycodone, all drugs negative", {"oxycodone"}, {EVERY}, id="painlab-except-first"),
    pytest.param("Other than oxycodone, no drugs detected", {"oxycodone"}, {EVERY}, id="painlab-other-than-first"),
    pytest.param("Oxycodone detected. No other drugs detected.", {"oxycodone"}, {EVERY}, id="quest-no-other-drugs"),
    # excepting what was prescribed, by a list PainPlan does not see: said of no drug it can name, so read as nothing
    # (it was read as every drug not found, and a prescribed drug found beside it was named as contradicted)
    pytest.param("No drugs other than those prescribed detected", set(), set(), id="painlab-other-than-prescribed"),
    pytest.param("No drugs detected other than prescribed medications", set(), set(), id="painlab-prescribed-after"),
    pytest.param("All drugs negative except prescribed medications", set(), set(), id="painlab-except-prescribed"),
    pytest.param(
        "Except for prescribed medications, all drugs negative", set(), set(), id="painlab-except-prescribed-first"
    ),
    pytest.param(
        "No drugs other than those prescribed detected. Fentanyl positive.",
        {"fentanyl"},
        set(),
        id="painlab-prescribed-then-named",
    ),
    # an exception closed by its finding ("other than oxycodone detected") ends there: a drug named after it is not
    # in it (before, "fentanyl negative" was said of the excepted oxycodone too)
    pytest.param(
        "No drugs other than oxycodone detected, fentanyl negative",
        {"oxycodone"},
        {EVERY, "fentanyl"},
        id="quest-other-than-then-comma",
    ),
    pytest.param(
        "No drugs other than oxycodone and oxymorphone detected, fentanyl not detected",
        {"oxycodone", "oxymorphone"},
        {EVERY, "fentanyl"},
        id="quest-other-than-two-then-comma",
    ),
    pytest.param(
        "Nothing other than oxycodone found, fentanyl not found",
        {"oxycodone"},
        {EVERY, "fentanyl"},
        id="painlab-nothing-other-than-then-comma",
    ),
    pytest.param(
        "No drugs except oxycodone detected, fentanyl not detected",
        {"oxycodone"},
        {EVERY, "fentanyl"},
        id="quest-except-before-finding-then-comma",
    ),
    pytest.param(
        "No drugs other than oxycodone detected, fentanyl positive",
        {"oxycodone", "fentanyl"},
        {EVERY},
        id="quest-other-than-then-positive",
    ),
    pytest.param(
        "No drugs other than oxycodone detected, confirmation negative",
        set(),
        {EVERY, "oxycodone"},
        id="quest-other-than-then-confirmation",
    ),
    pytest.param(
        "All drugs negative except oxycodone, fentanyl negative",
        {"oxycodone"},
        {EVERY, "fentanyl"},
        id="quest-except-then-comma",
        marks=misread(
            "an exception written after its finding has no end written: 'except oxycodone, oxymorphone' lists two "
            "drugs, and telling that list's end from the next drug's own finding would be guesswork (an exception "
            "closed by its finding, 'No drugs other than oxycodone detected, fentanyl negative', is read)"
        ),
    ),
    pytest.param(
        "No drugs other than oxycodone and oxymorphone detected. Fentanyl not detected.",
        {"oxycodone", "oxymorphone"},
        {EVERY, "fentanyl"},
        id="quest-other-than-then-named",
    ),
    pytest.param(
        "Opiates screen negative; oxycodone confirmed positive",
        {"oxycodone"},
        {"opiate"},
        id="quest-screen-then-confirmation",
    ),
    # the project reads a drug's metabolites found as saying nothing of the drug itself (its parent under cut-off)
    pytest.param("Oxycodone metabolites detected", set(), set(), id="quest-metabolites-only"),
    pytest.param("Methadone and EDDP detected", {"methadone"}, set(), id="quest-methadone-eddp"),
    pytest.param("Morphine detected. 6-MAM not detected.", {"morphine"}, {"heroin"}, id="quest-6mam"),
    pytest.param("No fentanyl or oxycodone detected", set(), {"fentanyl", "oxycodone"}, id="quest-no-or"),
    # every drug tested not found, in the words labs use
    pytest.param("No drugs of abuse found", set(), {EVERY}, id="quest-no-drugs-of-abuse-found"),
    pytest.param("No substances detected", set(), {EVERY}, id="quest-no-substances"),
    # "found" where "detected" is read: a finding after the drug or before it, denied by "not", "no", "none", "nothing"
    pytest.param("No oxycodone found", set(), {"oxycodone"}, id="quest-no-drug-found"),
    pytest.param("Oxycodone not found", set(), {"oxycodone"}, id="quest-drug-not-found"),
    pytest.param("Oxycodone found", {"oxycodone"}, set(), id="quest-drug-found"),
    pytest.param(
        "Oxycodone and metabolites found, fentanyl not found", {"oxycodone"}, {"fentanyl"}, id="quest-found-mixed"
    ),
    # Labcorp
    pytest.param(
        "OXYCODONE: POSITIVE; OXYMORPHONE: POSITIVE; FENTANYL: NEGATIVE",
        {"oxycodone", "oxymorphone"},
        {"fentanyl"},
        id="labcorp-labels",
    ),
    pytest.param("Oxycodone: POS; Fentanyl: NEG", {"oxycodone"}, {"fentanyl"}, id="labcorp-pos-neg"),
    pytest.param("Detected: oxycodone, oxymorphone", {"oxycodone", "oxymorphone"}, set(), id="labcorp-detected"),
    pytest.param("Not detected: fentanyl, norfentanyl", set(), {"fentanyl"}, id="labcorp-not-detected"),
    pytest.param("Found: oxycodone, oxymorphone", {"oxycodone", "oxymorphone"}, set(), id="labcorp-found"),
    pytest.param("Not found: fentanyl", set(), {"fentanyl"}, id="labcorp-not-found"),
    pytest.param("Fentanyl: not found", set(), {"fentanyl"}, id="labcorp-label-not-found"),
    pytest.param(
        "Negative for opiates, oxycodone, fentanyl", set(), {"opiate", "oxycodone", "fentanyl"}, id="labcorp-list"
    ),
    pytest.param(
        "Presumptive positive: opiates. Confirmed: oxycodone.",
        {"opiate", "oxycodone"},
        set(),
        id="labcorp-presumptive-confirmed",
    ),
    pytest.param("Presumptive positive for fentanyl, confirmed", {"fentanyl"}, set(), id="labcorp-confirmed-after"),
    pytest.param(
        "Screen positive for benzodiazepines; confirmation negative",
        set(),
        {"benzodiazepine"},
        id="labcorp-confirmation-negative",
    ),
    pytest.param(
        "Opiates: presumptive positive, confirmation negative",
        set(),
        {"opiate"},
        id="labcorp-class-then-bare",
    ),
    # a definitive result (LC-MS/MS, GC-MS) overrides the presumptive screen it confirms
    pytest.param(
        "Positive for oxycodone and oxymorphone, LC-MS/MS negative",
        set(),
        {"oxycodone", "oxymorphone"},
        id="labcorp-method-negative",
    ),
    pytest.param(
        "Negative for fentanyl, opiates presumptive positive, confirmed by GC-MS: not detected",
        set(),
        {"fentanyl", "opiate"},
        id="labcorp-confirms-the-finding-before-it",
    ),
    pytest.param(
        "Presumptive positive for fentanyl; confirmatory testing positive",
        {"fentanyl"},
        set(),
        id="labcorp-confirmatory-positive",
    ),
    pytest.param("Confirmation negative", set(), {EVERY}, id="labcorp-confirmation-alone"),
    # ... and so does one naming the drug its screen named: not found, never "both found and not found" (a
    # contradiction only when no confirmation word separates them)
    pytest.param(
        "Oxycodone screen positive. Oxycodone confirmation negative.",
        set(),
        {"oxycodone"},
        id="painlab-drug-screen-then-its-confirmation",
    ),
    pytest.param(
        "Oxycodone screen positive; oxycodone negative by LC-MS/MS",
        set(),
        {"oxycodone"},
        id="painlab-drug-screen-then-its-method",
    ),
    pytest.param(
        "Presumptive positive for oxycodone; oxycodone confirmed negative",
        set(),
        {"oxycodone"},
        id="labcorp-presumptive-then-drug-confirmed",
    ),
    pytest.param(
        "Presumptive positive for oxycodone; confirmed negative",
        set(),
        {"oxycodone"},
        id="labcorp-presumptive-confirmed",
    ),
    pytest.param(
        "Oxycodone confirmation negative. Oxycodone screen positive.",
        set(),
        {"oxycodone"},
        id="painlab-confirmation-before-its-screen",
    ),
    pytest.param(
        "Oxycodone screen positive. Oxycodone confirmation positive. Fentanyl confirmation negative.",
        {"oxycodone"},
        {"fentanyl"},
        id="painlab-confirmations-of-each",
    ),
    # ... a screen is one written so: "screen", "presumptive", or a screening method ("by immunoassay", "EIA")
    pytest.param(
        "Oxycodone by immunoassay positive; oxycodone negative by LC-MS/MS",
        set(),
        {"oxycodone"},
        id="painlab-immunoassay-then-its-method",
    ),
    pytest.param(
        "Oxycodone EIA positive. Oxycodone confirmation negative.",
        set(),
        {"oxycodone"},
        id="painlab-eia-then-its-confirmation",
    ),
    pytest.param(
        "Oxycodone positive (presumptive). Oxycodone confirmation negative.",
        set(),
        {"oxycodone"},
        id="painlab-presumptive-bracketed-then-its-confirmation",
    ),
    # ... while a finding not written as a screen's gives way to none: the lab says both (a contradiction, named and
    # neither way judged). Read as the confirmation alone, a prescribed oxycodone's linked negative was an unexpected
    # negative on a report that also says oxycodone was found.
    pytest.param(
        "Oxycodone confirmation negative. Oxycodone positive.",
        {"oxycodone"},
        {"oxycodone"},
        id="painlab-confirmation-then-a-finding",
    ),
    pytest.param(
        "Oxycodone: confirmation negative at 300 ng/mL cutoff. Oxycodone positive at 100 ng/mL cutoff.",
        {"oxycodone"},
        {"oxycodone"},
        id="painlab-confirmation-then-a-finding-at-cutoffs",
    ),
    pytest.param(
        "Oxycodone positive. Oxycodone confirmation negative.",
        {"oxycodone"},
        {"oxycodone"},
        id="painlab-finding-then-a-confirmation",
    ),
    # ... nor to one naming no drug, which confirms the findings just before it only (`_confirmed`)
    pytest.param(
        "Oxycodone positive. Presumptive positive for oxycodone; confirmed negative",
        {"oxycodone"},
        {"oxycodone"},
        id="painlab-finding-then-a-screen-confirmed",
    ),
    # ... and so does one in brackets after the screen's finding
    pytest.param(
        "Opiates presumptive positive (confirmation negative)", set(), {"opiate"}, id="labcorp-confirmation-bracketed"
    ),
    pytest.param("Oxycodone (confirmed positive)", {"oxycodone"}, set(), id="labcorp-confirmed-bracketed"),
    pytest.param(
        "Positive for fentanyl, oxycodone (confirmed negative)",
        {"fentanyl"},
        {"oxycodone"},
        id="labcorp-confirmed-bracketed-after-a-drug",
    ),
    pytest.param(
        "Fentanyl positive (confirmed negative), oxycodone positive",
        {"oxycodone"},
        {"fentanyl"},
        id="labcorp-confirmation-bracketed-then-drug",
    ),
    # a confirmation after a finding naming no drug overrides it, said of every drug as the screen's was
    pytest.param(
        "Presumptive positive, confirmation negative", set(), {EVERY}, id="labcorp-bare-screen-then-confirmation"
    ),
    pytest.param(
        "Positive for oxycodone; confirmed negative for gabapentin",
        {"oxycodone"},
        set(),
        id="labcorp-confirmation-of-another",
    ),
    # ... and so does one whose method is named after its finding
    pytest.param(
        "Opiates presumptive positive; negative by LC-MS/MS", set(), {"opiate"}, id="labcorp-method-after-finding"
    ),
    pytest.param(
        "Opiates screen positive, confirmation negative by LC-MS/MS",
        set(),
        {"opiate"},
        id="labcorp-confirmation-then-method",
    ),
    pytest.param("Positive by immunoassay, negative by LC-MS/MS", set(), {EVERY}, id="labcorp-immunoassay-then-method"),
    pytest.param("Oxycodone/Oxymorphone: Positive", {"oxycodone+oxymorphone"}, set(), id="labcorp-combined-test"),
    pytest.param("No drugs of abuse identified", set(), {EVERY}, id="labcorp-no-drugs-identified"),
    pytest.param("Negative for all drugs tested", set(), {EVERY}, id="labcorp-negative-for-all"),
    # Aegis/Dominion-style pain-management reports: findings judged against the medication list they were sent
    pytest.param(
        "Consistent with prescribed oxycodone",
        {"oxycodone"},
        set(),
        id="painlab-consistent",
        marks=misread(
            "'consistent with' is the lab's judgement against a medication list PainPlan does not see; it names no "
            "finding, and reading one from it would take 'inconsistent with prescribed oxycodone' (not found) apart "
            "from 'consistent' by guesswork"
        ),
    ),
    pytest.param(
        "Inconsistent: fentanyl detected, not prescribed", {"fentanyl"}, set(), id="painlab-inconsistent-detected"
    ),
    pytest.param(
        "Inconsistent with prescribed oxycodone: oxycodone not detected",
        set(),
        {"oxycodone"},
        id="painlab-inconsistent-not-detected",
    ),
    pytest.param(
        "Expected: oxycodone detected. Unexpected: fentanyl detected.",
        {"oxycodone", "fentanyl"},
        set(),
        id="painlab-expected-unexpected",
    ),
    pytest.param("Unexpected positive for fentanyl", {"fentanyl"}, set(), id="painlab-unexpected-positive"),
    pytest.param("Unexpected negative for oxycodone", set(), {"oxycodone"}, id="painlab-unexpected-negative"),
    pytest.param(
        "Buprenorphine and norbuprenorphine detected, consistent with prescription",
        {"buprenorphine"},
        set(),
        id="painlab-consistent-after",
    ),
    pytest.param(
        "Hydrocodone and hydromorphone present, consistent with hydrocodone use",
        {"hydrocodone", "hydromorphone"},
        set(),
        id="painlab-present-consistent",
    ),
    pytest.param("Results consistent with prescribed medication", set(), set(), id="painlab-consistent-no-drug"),
    pytest.param(
        "Positive for oxycodone (prescribed) and fentanyl (not prescribed)",
        {"oxycodone", "fentanyl"},
        set(),
        id="painlab-prescribed-notes",
    ),
    pytest.param("Oxycodone (negative) fentanyl (positive)", {"fentanyl"}, {"oxycodone"}, id="painlab-parenthesized"),
    pytest.param("Fentanyl (POS)", {"fentanyl"}, set(), id="painlab-parenthesized-abbreviation"),
    # an amount with its unit between a drug and its finding (Aegis, Dominion, Millennium) is read past to the finding
    pytest.param(
        "Oxycodone >1000 ng/mL (positive); fentanyl <1 ng/mL (negative)",
        {"oxycodone"},
        {"fentanyl"},
        id="painlab-amounts",
    ),
    pytest.param("Oxycodone 1,250 ng/mL (positive)", {"oxycodone"}, set(), id="painlab-amount-thousands"),
    pytest.param("Fentanyl 0.5 ng/mL (positive)", {"fentanyl"}, set(), id="painlab-amount-decimal"),
    pytest.param(
        "Oxycodone 300 ng/ml positive, fentanyl <1 ng/mL negative",
        {"oxycodone"},
        {"fentanyl"},
        id="painlab-amounts-unbracketed",
    ),
    pytest.param(
        "Oxycodone: >1000 ng/mL POS; Fentanyl: < 1 ng/mL NEG", {"oxycodone"}, {"fentanyl"}, id="painlab-amount-labels"
    ),
    pytest.param("Oxycodone (250 ng/mL) detected", {"oxycodone"}, set(), id="painlab-amount-bracketed"),
    pytest.param(
        "Positive for oxycodone 1,250 ng/mL, oxymorphone 430 ng/mL",
        {"oxycodone", "oxymorphone"},
        set(),
        id="painlab-positive-for-amounts",
    ),
    # ... and is no finding: a drug named with one and no finding of its own is neither found nor not found (read
    # neither way: tests/test_conclusion_not_read.py), never given the finding of a drug named beside it (before,
    # "Fentanyl not detected, oxycodone 250 ng/mL" read oxycodone as not found: a measured oxycodone named as denied)
    pytest.param("Oxycodone 250 ng/mL, fentanyl not detected", set(), {"fentanyl"}, id="painlab-amount-no-finding"),
    pytest.param("Fentanyl not detected, oxycodone 250 ng/mL", set(), {"fentanyl"}, id="painlab-finding-then-amount"),
    pytest.param("Oxycodone 250 ng/mL. Fentanyl not detected.", set(), {"fentanyl"}, id="painlab-amount-statement"),
    pytest.param("Oxycodone >1000 ng/mL", set(), set(), id="painlab-amount-alone"),
    pytest.param("Fentanyl 0.5 ng/mL, oxycodone 2,500 ng/mL", set(), set(), id="painlab-amounts-alone"),
    # a finding after an "and" group of drugs named with amounts is said of the group, as "Oxycodone and oxymorphone
    # positive" is (before, only the drug named last was read found, and "and metabolites detected" every drug)
    pytest.param(
        "Oxycodone 250 ng/mL and oxymorphone 80 ng/mL positive",
        {"oxycodone", "oxymorphone"},
        set(),
        id="painlab-amounts-and-group",
    ),
    pytest.param(
        "Oxycodone >1000 ng/mL & oxymorphone 430 ng/mL detected, fentanyl <1 ng/mL not detected",
        {"oxycodone", "oxymorphone"},
        {"fentanyl"},
        id="painlab-amounts-and-group-then-drug",
    ),
    pytest.param("Oxycodone 250 ng/mL and metabolites detected", {"oxycodone"}, set(), id="painlab-amount-metabolites"),
    # ... never one said before it: an amount measured is no "not detected"
    pytest.param("Fentanyl not detected and oxycodone 250 ng/mL", set(), {"fentanyl"}, id="painlab-finding-and-amount"),
    # a cutoff in brackets is an amount too, read past to the finding (Aegis, Dominion print the cutoff beside each)
    pytest.param("Oxycodone 250 ng/mL (cutoff 100 ng/mL) positive", {"oxycodone"}, set(), id="painlab-amount-cutoff"),
    pytest.param(
        "Oxycodone 250 ng/mL (cutoff 100 ng/mL) POSITIVE; Fentanyl <0.5 ng/mL (cut-off: 0.5 ng/mL) NEGATIVE",
        {"oxycodone"},
        {"fentanyl"},
        id="painlab-amounts-cutoffs",
    ),
    pytest.param("Oxycodone (cutoff 100 ng/mL) not detected", set(), {"oxycodone"}, id="painlab-cutoff-alone"),
    # an amount with the cutoff printed beside it and no finding of its own is read against that cutoff: at or above
    # it found, below it not found (before, "Oxycodone (cutoff 100 ng/mL): 250 ng/mL" read nothing, its cutoff taken
    # for its amount, and a linked negative was judged unexpected against the lab's own 250 ng/mL)
    pytest.param("Oxycodone (cutoff 100 ng/mL): 250 ng/mL", {"oxycodone"}, set(), id="painlab-cutoff-then-amount"),
    pytest.param("Oxycodone 250 ng/mL (cutoff 100 ng/mL)", {"oxycodone"}, set(), id="painlab-amount-over-cutoff"),
    pytest.param("Oxycodone 80 ng/mL (cutoff 100 ng/mL)", set(), {"oxycodone"}, id="painlab-amount-under-cutoff"),
    pytest.param("Oxycodone 100 ng/mL (cutoff 100 ng/mL)", {"oxycodone"}, set(), id="painlab-amount-at-cutoff"),
    pytest.param("Oxycodone >1000 ng/mL (cut-off: 300 ng/mL)", {"oxycodone"}, set(), id="painlab-over-range-cutoff"),
    pytest.param("Fentanyl <0.5 ng/mL (cut-off: 0.5 ng/mL)", set(), {"fentanyl"}, id="painlab-under-limit-cutoff"),
    pytest.param(
        "Oxycodone 1,250 ng/mL (cutoff 300 ng/mL), fentanyl 0.2 ng/mL (cutoff 0.5 ng/mL)",
        {"oxycodone"},
        {"fentanyl"},
        id="painlab-amounts-against-cutoffs",
    ),
    pytest.param(
        "Oxycodone 80 ng/mL (cutoff 100 ng/mL), all other drugs negative",
        set(),
        {"oxycodone", EVERY},
        id="painlab-under-cutoff-all-other",
    ),
    pytest.param(
        "Oxycodone 250 ng/mL (cutoff 100 ng/mL). Confirmation negative.",
        set(),
        {"oxycodone"},
        id="painlab-over-cutoff-then-confirmation",
    ),
    # ... while the lab's own finding of it, after it or heading its list, is read as written
    pytest.param(
        "Oxycodone 80 ng/mL (cutoff 100 ng/mL), positive", {"oxycodone"}, set(), id="painlab-cutoff-comma-word"
    ),
    pytest.param(
        "Positive for oxycodone 1,250 ng/mL, oxymorphone 80 ng/mL (cutoff 100 ng/mL)",
        {"oxycodone", "oxymorphone"},
        set(),
        id="painlab-positive-for-amount-under-cutoff",
    ),
    # Deliberately cautious: an amount alone is no finding, and "POSITIVE" was said of oxycodone, written after it;
    # given to oxymorphone, a measured amount under the lab's cutoff would be read as found
    pytest.param("OXYCODONE: POSITIVE, oxymorphone 80 ng/mL", {"oxycodone"}, set(), id="painlab-finding-then-amount"),
    # as Quest, Millennium and Dominion write amounts beside their findings
    pytest.param("Fentanyl: Not Detected (<0.5 ng/mL)", set(), {"fentanyl"}, id="painlab-not-detected-amount-after"),
    pytest.param("Oxycodone: Positive (1,250 ng/mL)", {"oxycodone"}, set(), id="millennium-positive-amount-after"),
    pytest.param("Fentanyl: <1.0 ng/mL - Negative", set(), {"fentanyl"}, id="dominion-amount-dash-finding"),
    pytest.param("Oxycodone detected at 1,250 ng/mL", {"oxycodone"}, set(), id="painlab-detected-at-amount"),
    # norfentanyl is read as fentanyl's row, as a result named norfentanyl is (`uds_names`)
    pytest.param("Norfentanyl 12 ng/mL POS", {"fentanyl"}, set(), id="painlab-metabolite-amount"),
    pytest.param(
        "Oxycodone, Urine 1,250 ng/mL (H)",
        {"oxycodone"},
        set(),
        id="quest-amount-flag",
        marks=misread(
            "'(H)' is a flag against a reference range the conclusion does not give, read only as a result's coded "
            "flag; in free words a lone letter in brackets is as often a note, and the comma of Quest's test name "
            "('Oxycodone, Urine') parts the drug from its amount"
        ),
    ),
    # "above cutoff" is a finding, read as a result's value reads it (`value_from_text`), as "below cutoff" is
    pytest.param("Oxycodone 1,250 ng/mL (above cutoff)", {"oxycodone"}, set(), id="painlab-amount-above-cutoff"),
    pytest.param("Oxycodone 1,250 ng/mL, above the cutoff", {"oxycodone"}, set(), id="painlab-amount-comma-above"),
    pytest.param(
        "Oxycodone above cutoff; fentanyl below cutoff", {"oxycodone"}, {"fentanyl"}, id="painlab-above-and-below"
    ),
    pytest.param(
        "Oxycodone detected. Ethanol above cutoff; confirmation negative.",
        {"oxycodone"},
        set(),
        id="painlab-above-cutoff-of-a-drug-not-read",
    ),
    # a finding naming no drug in the clause right after a drug's amount, in its statement, is that drug's (before,
    # "below cutoff" was read of every drug, and "positive" of every drug)
    pytest.param("Oxycodone 250 ng/mL, positive", {"oxycodone"}, set(), id="painlab-amount-comma-finding"),
    pytest.param(
        "Hydrocodone 85 ng/mL, below cutoff of 100 ng/mL",
        set(),
        {"hydrocodone"},
        id="painlab-amount-comma-below-cutoff",
    ),
    pytest.param(
        "Oxycodone 250 ng/mL and oxymorphone 80 ng/mL, positive",
        {"oxycodone", "oxymorphone"},
        set(),
        id="painlab-amounts-and-group-comma-finding",
    ),
    pytest.param(
        "Fentanyl not detected, oxycodone 250 ng/mL, positive",
        {"oxycodone"},
        {"fentanyl"},
        id="painlab-finding-then-amount-comma-finding",
    ),
    pytest.param(
        "Oxycodone 250 ng/mL, confirmation negative", set(), {"oxycodone"}, id="painlab-amount-comma-confirmation"
    ),
    # ... said of the drugs before it, never of a drug measured after it
    pytest.param(
        "Hydrocodone 85 ng/mL, below cutoff of 100 ng/mL, oxycodone 250 ng/mL",
        set(),
        {"hydrocodone"},
        id="painlab-amount-below-cutoff-then-amount",
    ),
    # ... and never of it when said of another drug, or of every drug
    pytest.param("Oxycodone 250 ng/mL, positive for gabapentin", set(), set(), id="painlab-amount-comma-another"),
    # ... but "all other" sets apart the drug measured before it: found, its amount written without "<" (before, it
    # was read as every drug not found, the measured one too); "<0.5 ng/mL" is read neither way
    # (tests/test_conclusion_not_read.py)
    pytest.param(
        "Oxycodone 250 ng/mL, all other drugs negative", {"oxycodone"}, {EVERY}, id="painlab-amount-all-other"
    ),
    pytest.param(
        "Oxycodone 250 ng/mL. Fentanyl not detected. All other drugs negative.",
        {"oxycodone"},
        {"fentanyl", EVERY},
        id="painlab-amount-statement-all-other",
    ),
    pytest.param(
        "Oxycodone. No fentanyl.",
        {"oxycodone"},
        {"fentanyl"},
        id="painlab-bare-name",
        marks=misread(
            "a drug named alone in a statement says nothing; reading it as found would read headings "
            "('Oxycodone. Confirmation by LC-MS/MS.') and notes as findings"
        ),
    ),
    pytest.param(
        "Positive: Oxycodone, Oxymorphone. Negative: all other analytes.",
        {"oxycodone", "oxymorphone"},
        {EVERY},
        id="painlab-positive-then-all-other",
    ),
    pytest.param("Positive for oxycodone but not fentanyl", {"oxycodone"}, {"fentanyl"}, id="painlab-positive-but-not"),
    pytest.param("THC positive, all other drugs negative", {"cannabinoid"}, {EVERY}, id="painlab-all-other"),
    # a drug named bare before "all other ..." is the one the lab found: "other" sets it apart from the drugs not found,
    # as "Positive: oxycodone. All other drugs negative" does (before, it took the "negative" and read not found)
    pytest.param("Oxycodone, all other drugs negative", {"oxycodone"}, {EVERY}, id="painlab-bare-then-all-other"),
    pytest.param(
        "Oxycodone and oxymorphone; all other drugs negative",
        {"oxycodone", "oxymorphone"},
        {EVERY},
        id="painlab-bare-and-then-all-other",
    ),
    pytest.param("Oxycodone. All others negative", {"oxycodone"}, {EVERY}, id="painlab-bare-then-all-others"),
    pytest.param(
        "Oxycodone, all other analytes not detected", {"oxycodone"}, {EVERY}, id="painlab-bare-then-all-other-analytes"
    ),
    pytest.param("Oxycodone, no other drugs detected", {"oxycodone"}, {EVERY}, id="painlab-bare-then-no-other"),
    pytest.param(
        "Oxycodone. Negative: all other analytes.", {"oxycodone"}, {EVERY}, id="beaker-bare-then-negative-all-other"
    ),
    # ... never one the statement denies
    pytest.param(
        "No oxycodone, all other drugs negative", set(), {"oxycodone", EVERY}, id="painlab-denied-then-all-other"
    ),
    # norfentanyl found is fentanyl's row found though the parent is under its cutoff: read both, the found one wins
    # (`_Claims`), as a toxicologist reads it (fentanyl is metabolised to norfentanyl, which stays longer in urine)
    pytest.param(
        "Norfentanyl 12 ng/mL POS; Fentanyl <0.5 ng/mL NEG",
        {"fentanyl"},
        {"fentanyl"},
        id="painlab-metabolite-found-parent-not",
    ),
    pytest.param("Positive for gabapentin", set(), set(), id="painlab-drug-not-read"),
    pytest.param("All drugs absent", set(), {EVERY}, id="painlab-all-absent"),
    pytest.param("All drugs absent except oxycodone", {"oxycodone"}, {EVERY}, id="painlab-all-absent-except"),
    # "absent" after a drug is said of that drug only, never of every drug
    pytest.param("Oxycodone present, fentanyl absent", {"oxycodone"}, {"fentanyl"}, id="painlab-present-absent"),
    # Epic Beaker
    pytest.param("POSITIVE", {EVERY}, set(), id="beaker-positive"),
    pytest.param("NEGATIVE", set(), {EVERY}, id="beaker-negative"),
    pytest.param("Negative, dilute specimen", set(), {EVERY}, id="beaker-dilute"),
    pytest.param("All analytes negative", set(), {EVERY}, id="beaker-all-analytes"),
    pytest.param(
        "AMPHETAMINES NEG\nBENZODIAZEPINES NEG\nOPIATES POS",
        {"opiate"},
        {"amphetamine", "benzodiazepine"},
        id="beaker-lines",
    ),
    pytest.param("Oxycodone - Positive, Fentanyl - Negative", {"oxycodone"}, {"fentanyl"}, id="beaker-dashes"),
    pytest.param("Specimen validity normal. All analytes below cutoff.", set(), {EVERY}, id="beaker-below-cutoff"),
    pytest.param("All analytes below cutoff", set(), {EVERY}, id="beaker-all-below-cutoff"),
    pytest.param("None detected", set(), {EVERY}, id="beaker-none-detected"),
    pytest.param("None found", set(), {EVERY}, id="beaker-none-found"),
    pytest.param("Nothing detected", set(), {EVERY}, id="beaker-nothing-detected"),
    pytest.param("Nothing found", set(), {EVERY}, id="beaker-nothing-found"),
    pytest.param("All results negative", set(), {EVERY}, id="beaker-all-results-negative"),
    pytest.param("See individual results", set(), set(), id="beaker-see-results"),
    pytest.param(
        "Oxycodone not detected; fentanyl detected", {"fentanyl"}, {"oxycodone"}, id="beaker-not-detected-first"
    ),
    # A screen's finding and its confirmation's, as Quest, Labcorp, pain-management labs and Beaker write them: the
    # confirmation overrides a finding written as a screen's (`uds._screens_overridden`), and one naming no drug
    # overrides the findings it follows (`uds._confirmed`)
    pytest.param(
        "Oxycodone: Presumptive Positive. Confirmation: Negative.", set(), {"oxycodone"}, id="painlab-label-confirmed"
    ),
    pytest.param(
        "Oxycodone: Presumptive Positive. Confirmation: Positive 1,250 ng/mL.",
        {"oxycodone"},
        set(),
        id="painlab-label-confirmed-amount",
    ),
    pytest.param(
        "Screen: Oxycodone POSITIVE. Confirmation: Oxycodone NEGATIVE.",
        set(),
        {"oxycodone"},
        id="beaker-screen-then-confirmation",
    ),
    pytest.param("Oxycodone positive by EIA. Oxycodone confirmed negative.", set(), {"oxycodone"}, id="labcorp-by-eia"),
    # a screening method in the clause of its finding makes it a screen's, as `uds._SCREENED` says
    pytest.param(
        "Oxycodone by immunoassay: positive. Oxycodone confirmed negative by LC-MS/MS.",
        set(),
        {"oxycodone"},
        id="painlab-by-immunoassay-label",
    ),
    pytest.param(
        "Oxycodone: screen negative. Oxycodone: confirmation positive 150 ng/mL.",
        {"oxycodone"},
        set(),
        id="painlab-screen-missed-confirmed",
    ),
    pytest.param(
        "Presumptive positive for oxycodone and fentanyl; confirmed negative for fentanyl.",
        {"oxycodone"},
        {"fentanyl"},
        id="quest-confirmation-of-one",
    ),
    pytest.param(
        "Oxycodone screen positive; confirmation: oxycodone negative, oxymorphone positive.",
        {"oxymorphone"},
        {"oxycodone"},
        id="painlab-confirmation-list",
    ),
    pytest.param("Oxycodone screen positive; confirmation pending", {"oxycodone"}, set(), id="quest-pending"),
    pytest.param(
        "Oxycodone positive; fentanyl presumptive positive, confirmation negative.",
        {"oxycodone"},
        {"fentanyl"},
        id="painlab-confirmation-of-the-statement",
    ),
    pytest.param(
        "Oxycodone positive. THC screen positive, confirmation negative.",
        {"oxycodone"},
        {"cannabinoid"},
        id="painlab-confirmation-of-a-class",
    ),
    # A confirmation naming no drug is said of the one finding it follows (`uds._confirmed`), never of a confirmed
    # one, nor of one before a finding of a drug PainPlan does not read: said of every finding of its statement, or
    # of the statement before, a prescribed oxycodone the lab calls found was read not found, and its linked
    # negative fired the unexpected-negative card
    pytest.param(
        "Oxycodone positive, fentanyl positive (confirmation negative)",
        {"oxycodone"},
        {"fentanyl"},
        id="painlab-bracketed-confirmation-of-the-last",
    ),
    pytest.param(
        "Oxycodone confirmed positive, fentanyl screen positive, confirmation negative.",
        {"oxycodone"},
        {"fentanyl"},
        id="painlab-confirmation-of-a-confirmation",
    ),
    pytest.param(
        "Oxycodone detected. Ethanol screen positive; confirmation negative.",
        {"oxycodone"},
        set(),
        id="painlab-confirmation-of-a-drug-not-read",
    ),
    # ... nor, at the conclusion's start, of every drug: it confirms the unread drug's finding it follows (it was read
    # as every drug not found)
    pytest.param(
        "Ethanol positive; confirmation negative. Oxycodone detected.",
        {"oxycodone"},
        set(),
        id="painlab-first-confirmation-of-a-drug-not-read",
    ),
    pytest.param(
        "Ethanol screen positive, confirmed negative. Fentanyl not detected.",
        set(),
        {"fentanyl"},
        id="painlab-first-confirmed-of-a-drug-not-read",
    ),
    pytest.param(
        "Positive for oxycodone. Positive for gabapentin; confirmation negative.",
        {"oxycodone"},
        set(),
        id="painlab-confirmation-after-positive-for-another",
    ),
    pytest.param(
        "POSITIVE. Presumptive positive for gabapentin; confirmation negative.",
        {EVERY},
        set(),
        id="beaker-confirmation-after-positive-for-another-keeps-positive",
    ),
    # The test named before its finding ("Urine drug screen", "UDS", "Urine drug test") is read as the finding alone
    pytest.param(
        "Urine drug screen positive for oxycodone.", {"oxycodone"}, set(), id="beaker-urine-drug-screen-positive-for"
    ),
    pytest.param("UDS negative for fentanyl", set(), {"fentanyl"}, id="uds-negative-for"),
    pytest.param("Urine drug test: positive for oxycodone", {"oxycodone"}, set(), id="urine-drug-test-positive-for"),
    pytest.param(
        "Drugs of abuse screen positive for oxycodone", {"oxycodone"}, set(), id="drugs-of-abuse-screen-positive-for"
    ),
    pytest.param(
        "Urine drug screen positive for oxycodone. Confirmation negative.",
        set(),
        {"oxycodone"},
        id="urine-drug-screen-then-confirmation",
    ),
    # The method between the drug and its finding: the finding after it is read, a screen's or a confirmation's
    pytest.param("Oxycodone EIA positive", {"oxycodone"}, set(), id="labcorp-method-before-finding"),
    pytest.param("Oxycodone by immunoassay positive", {"oxycodone"}, set(), id="by-immunoassay-before-finding"),
    pytest.param("Fentanyl ELISA negative", set(), {"fentanyl"}, id="elisa-before-finding"),
    pytest.param(
        "Oxycodone (EIA) positive; oxycodone LC-MS/MS negative",
        set(),
        {"oxycodone"},
        id="method-screen-then-method-confirmation",
    ),
    # ELISA is a screening immunoassay as EIA is: its finding gives way to the confirmation (it was read both ways)
    pytest.param(
        "Oxycodone ELISA positive. Oxycodone LC-MS/MS negative.",
        set(),
        {"oxycodone"},
        id="elisa-screen-then-method-confirmation",
    ),
    pytest.param(
        "Fentanyl positive by ELISA; fentanyl confirmed negative",
        set(),
        {"fentanyl"},
        id="by-elisa-then-confirmation",
    ),
    pytest.param(
        "Oxycodone screen positive. Oxycodone by LC-MS/MS negative.",
        set(),
        {"oxycodone"},
        id="screen-then-confirmation-by-method",
    ),
    # A confirmation written with no break after its screen's finding, abbreviated ("confirm NEG"), or in the next cell
    # of a one-line report (two or more spaces before its label) is a statement of its own, and overrides the screen:
    # read as one clause, the screen's "positive" stood alone (the lab's confirmed negative dropped in silence)
    pytest.param(
        "OXYCODONE SCREEN: POSITIVE  OXYCODONE CONFIRMATION: NEGATIVE",
        set(),
        {"oxycodone"},
        id="beaker-one-line-screen-and-confirmation",
    ),
    pytest.param("Oxycodone - screen POS, confirm NEG", set(), {"oxycodone"}, id="painlab-confirm-abbreviated"),
    pytest.param("Oxycodone screen POS / confirm NEG", set(), {"oxycodone"}, id="painlab-confirm-after-a-slash"),
    # "conf" and "conf." are confirmation words as "confirm" is, right before a finding that ends its clause (read as
    # one clause, the screen's "POS" stood alone)
    pytest.param("Oxycodone screen POS conf NEG", set(), {"oxycodone"}, id="painlab-conf-abbreviated"),
    pytest.param("Oxycodone screen POS, conf. NEG", set(), {"oxycodone"}, id="painlab-conf-point-abbreviated"),
    pytest.param(
        "Oxycodone screen POS; conf: NEG. Fentanyl negative.",
        set(),
        {"oxycodone", "fentanyl"},
        id="painlab-conf-then-a-statement",
    ),
    pytest.param("Oxycodone conf. negative", set(), {"oxycodone"}, id="painlab-drug-conf-negative"),
    pytest.param(
        "Oxycodone positive. Conf. pending, see conference notes.", {"oxycodone"}, set(), id="conf-no-finding"
    ),
    pytest.param(
        "Oxycodone screen positive confirmation negative", set(), {"oxycodone"}, id="confirmation-with-no-break"
    ),
    pytest.param(
        "Oxycodone screen positive - LC-MS/MS negative", set(), {"oxycodone"}, id="method-confirmation-after-a-dash"
    ),
    pytest.param("Screen positive confirmation negative", set(), {EVERY}, id="confirmation-with-no-break-no-drug"),
    pytest.param(
        "Oxycodone: POSITIVE  Fentanyl: NEGATIVE", {"oxycodone"}, {"fentanyl"}, id="beaker-one-line-two-drugs"
    ),
    pytest.param(
        "Negative: fentanyl  Positive: oxycodone", {"oxycodone"}, {"fentanyl"}, id="beaker-one-line-findings-first"
    ),
    # ... never a confirmation's method with no finding after it, nor "confirm" said as a verb
    pytest.param("Oxycodone positive confirmed by LC-MS/MS", {"oxycodone"}, set(), id="confirmed-by-no-finding"),
    pytest.param(
        "Oxycodone screen positive. Confirm positive screens by LC-MS/MS if needed.",
        {"oxycodone"},
        set(),
        id="confirm-said-as-a-verb",
    ),
    pytest.param(
        "Oxycodone screen positive. Please confirm negative results with the prescriber.",
        {"oxycodone"},
        set(),
        id="confirm-negative-said-as-a-verb",
    ),
    # ... nor a list parted by runs of spaces with no label after them
    pytest.param("Detected:  oxycodone  oxymorphone", {"oxycodone", "oxymorphone"}, set(), id="one-line-list-of-drugs"),
]


@pytest.mark.parametrize(("conclusion", "found", "not_found"), ROWS)
def test_a_conclusion_is_read_as_the_lab_wrote_it(conclusion: str, found: set[str], not_found: set[str]) -> None:
    assert read(conclusion) == (found, not_found)


@pytest.mark.parametrize(
    "conclusion",
    ["Oxycodone (positive) fentanyl (negative)", "Oxycodone (POS)", "Unexpected positive for oxycodone"],
)
def test_a_finding_in_brackets_or_after_unexpected_contradicts_its_negative(
    monkeypatch: pytest.MonkeyPatch, conclusion: str
) -> None:
    # Before, these said nothing: the oxycodone negative the lab's own conclusion calls found was read in silence as
    # "negative for oxycodone although prescribed" (a diversion signal).
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    contradicted = linked_report("referenced", conclusion, "Negative")
    assert card(sign(*contradicted), unexpected_uds_result.CHECK_ID) is None
    assert disagreements(*contradicted) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "{conclusion}" but its oxycodone result says "Negative"; '
        f"{ITSELF})",
    )


@pytest.mark.parametrize(
    "conclusion",
    ["Oxycodone, all other drugs negative", "Oxycodone. No other drugs detected.", "Oxycodone. All others negative"],
)
def test_a_drug_named_before_all_other_drugs_negative_is_no_contradiction_of_its_positive(
    monkeypatch: pytest.MonkeyPatch, conclusion: str
) -> None:
    # Before, the oxycodone the lab names apart from "all other drugs" took their "negative": the positive for the
    # oxycodone the patient is prescribed was named as one the lab's own conclusion denies.
    monkeypatch.setitem(CHECKS, urine_drug_test.CHECK_ID, urine_drug_test)
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    sent = linked_report("referenced", conclusion, "Positive")
    assert card(sign(*sent), unexpected_uds_result.CHECK_ID) is None
    assert disagreements(*sent) == ()
    # ... while a fentanyl positive beside it is one the conclusion denies: kept, and the disagreement named
    beside = referenced_report(conclusion, (OXYCODONE_SCREEN, "Positive"), (FENTANYL_SCREEN, "Positive"))
    assert disagreements(*beside) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "{conclusion}" but its fentanyl result says "Positive"; {KEPT})',
    )


@pytest.mark.parametrize(
    "conclusion",
    [
        "Oxycodone screen positive. Oxycodone confirmation negative.",
        "Oxycodone screen positive; oxycodone negative by LC-MS/MS",
        "Presumptive positive for oxycodone; confirmed negative",
        "Oxycodone ELISA positive. Oxycodone LC-MS/MS negative.",
        "Oxycodone - screen POS, confirm NEG",
        "OXYCODONE SCREEN: POSITIVE  OXYCODONE CONFIRMATION: NEGATIVE",
        "Oxycodone screen POS conf NEG",
    ],
)
def test_a_confirmation_negative_of_the_drug_its_screen_found_is_the_labs_finding(
    monkeypatch: pytest.MonkeyPatch, conclusion: str
) -> None:
    # Before, the screen and its confirmation of one drug read "both found and not found": the oxycodone negative was
    # left unjudged and named as a contradiction, though the lab's definitive result says it was not found.
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    sent = linked_report("referenced", conclusion, "Negative")
    assert disagreements(*sent) == ()
    found = card(sign(*sent), unexpected_uds_result.CHECK_ID)
    assert found is not None and f"negative for oxycodone ({days_ago(30)})" in found.summary


@pytest.mark.parametrize(
    "conclusion",
    [
        "Oxycodone confirmation negative. Oxycodone positive.",
        "Oxycodone: confirmation negative at 300 ng/mL cutoff. Oxycodone positive at 100 ng/mL cutoff.",
    ],
)
def test_a_confirmation_beside_a_finding_not_written_as_a_screen_is_no_unexpected_negative(
    monkeypatch: pytest.MonkeyPatch, conclusion: str
) -> None:
    # The confirmation overrode every other reading of oxycodone, whatever it was: the report that also says
    # oxycodone was found read "not found", and its linked negative fired the unexpected-negative card for a patient
    # prescribed oxycodone. Only a screen's finding gives way; these say both, so the negative is not judged and the
    # lab's words that disagree are named.
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    sent = linked_report("referenced", conclusion, "Negative")
    found = card(sign(*sent), unexpected_uds_result.CHECK_ID)
    assert found is None
    assert disagreements(*sent) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "{conclusion}" (which says oxycodone was both found and not '
        f'found) but its oxycodone result says "Negative"; {ITSELF})',
    )


@pytest.mark.parametrize(
    "conclusion",
    [
        "Oxycodone positive, fentanyl positive (confirmation negative)",
        "Oxycodone detected. Ethanol screen positive; confirmation negative.",
        "Urine drug screen positive for oxycodone.",
        "UDS positive for oxycodone",
        "Oxycodone EIA positive",
        "Oxycodone by immunoassay positive",
        "POSITIVE. Presumptive positive for gabapentin; confirmation negative.",
        "Oxycodone (cutoff 100 ng/mL): 250 ng/mL",
        "Oxycodone 250 ng/mL (cutoff 100 ng/mL)",
        "Oxycodone 1,250 ng/mL (above cutoff)",
    ],
)
def test_a_conclusion_that_calls_oxycodone_found_is_no_unexpected_negative(
    monkeypatch: pytest.MonkeyPatch, conclusion: str
) -> None:
    # Each says oxycodone (or a drug: "POSITIVE") was found; its linked negative is the lab contradicting itself,
    # never judged. Read as not found (or as nothing), the negative fires the unexpected-negative card for a patient
    # prescribed oxycodone.
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    sent = linked_report("referenced", conclusion, "Negative")
    found = card(sign(*sent), unexpected_uds_result.CHECK_ID)
    assert found is None


@pytest.mark.parametrize(
    "conclusion",
    ["Oxycodone 80 ng/mL (cutoff 100 ng/mL)", "Fentanyl not detected, oxycodone 80 ng/mL (cutoff 100 ng/mL)"],
)
def test_an_amount_under_its_printed_cutoff_agrees_with_a_negative(
    monkeypatch: pytest.MonkeyPatch, conclusion: str
) -> None:
    # The lab measured oxycodone under the cutoff it prints: not found, as its oxycodone result says. Before, it was
    # read neither way, so the prescribed oxycodone's negative was left unjudged (guideline 10.4).
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    sent = linked_report("referenced", conclusion, "Negative")
    assert disagreements(*sent) == ()
    found = card(sign(*sent), unexpected_uds_result.CHECK_ID)
    assert found is not None and f"negative for oxycodone ({days_ago(30)})" in found.summary


@pytest.mark.parametrize(
    "conclusion", ["Oxycodone (cutoff 100 ng/mL): 250 ng/mL", "Oxycodone 1,250 ng/mL (above cutoff)"]
)
def test_an_amount_over_its_cutoff_contradicts_a_negative(conclusion: str) -> None:
    # The lab's conclusion says oxycodone was found: its negative result is the lab disagreeing with itself, named
    # so (before, the first read nothing and the second could not be read surely)
    assert disagreements(*linked_report("referenced", conclusion, "Negative")) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "{conclusion}" but its oxycodone result says "Negative"; '
        f"{ITSELF})",
    )


def test_a_value_confirmed_positive_after_its_screen_is_no_unexpected_negative(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As a conclusion, these words read oxycodone found (the row "painlab-screen-missed-confirmed"); as the oxycodone
    # result's own value they read negative (only a confirmation naming no drug was taken in a value), and fired the
    # unexpected-negative card.
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    value = "Oxycodone: screen negative. Oxycodone: confirmation positive 150 ng/mL."
    result = observation(OXYCODONE_SCREEN, when=f"{days_ago(30)}T09:14:00-04:00", value_string=value)
    found = card(sign(result), unexpected_uds_result.CHECK_ID)
    assert found is None


def test_confirmations_of_one_drug_that_disagree_still_say_both() -> None:
    # the screen gives way to them, but neither confirmation to the other: read both ways, so neither way (`_Claims`)
    both = "Oxycodone screen positive. Oxycodone confirmed negative. Oxycodone confirmed positive."
    assert read(both) == ({"oxycodone"}, {"oxycodone"})
    assert [said for said, _ in _clause_readings(both)] == ["negative", "positive"]


METABOLITE_FOUND = "Norfentanyl 12 ng/mL POS; Fentanyl <0.5 ng/mL NEG"


def test_a_metabolite_found_beside_its_parent_under_cutoff_reads_the_drug_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The lab found norfentanyl, not fentanyl over its cutoff: fentanyl was taken (it is metabolised to norfentanyl,
    # found longer in urine), so a fentanyl positive beside it is what the lab concludes, and a fentanyl screen's
    # negative is one the conclusion says was found: not judged, and the disagreement named with the lab's words.
    monkeypatch.setitem(CHECKS, urine_drug_test.CHECK_ID, urine_drug_test)
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    assert disagreements(*referenced_report(METABOLITE_FOUND, (FENTANYL_SCREEN, "Positive"))) == ()
    assert disagreements(*referenced_report(METABOLITE_FOUND, (FENTANYL_SCREEN, "Negative"))) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "{METABOLITE_FOUND}" but its fentanyl result says "Negative"; '
        f"{ITSELF})",
    )


def beaker_report(conclusion: str, code: str, value: str) -> dict:
    """Epic Beaker's report (its v2 feed, converted): one result contained per substance, taken 30 days ago."""
    return report(contained_result("obs1", code, value), when=days_ago(30), conclusion=conclusion)


def test_all_drugs_absent_beside_a_prescribed_opioids_negative_is_an_unexpected_negative(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The conclusion agrees with the negative: read as every drug not found, it takes nothing from it (guideline 10.4).
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    sent = linked_report("contained", "All drugs absent", "Negative")
    found = card(sign(*sent), unexpected_uds_result.CHECK_ID)
    assert found is not None and f"negative for oxycodone ({days_ago(30)})" in found.summary
    assert disagreements(*sent) == ()


def test_all_drugs_absent_beside_a_positive_keeps_the_positive_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    # Before, "All drugs absent" was read as saying nothing: the fentanyl positive it denies was judged with nothing
    # said of the lab's own summary. Now the card's line quotes it and the disagreement is named.
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    sent = beaker_report("All drugs absent", FENTANYL_SCREEN, "Positive")
    found = card(sign(sent), unexpected_uds_result.CHECK_ID)
    assert found is not None and f"positive for fentanyl ({days_ago(30)})" in found.summary
    assert 'the lab\'s report concludes "All drugs absent"' in found.detail
    assert disagreements(sent) == (
        f'{PANEL} ({days_ago(30)}, its conclusion says "All drugs absent" but its fentanyl result says "Positive"; '
        f"{KEPT})",
    )


@pytest.mark.parametrize("value", ["Not found", "None found", "Nothing detected"])
def test_a_prescribed_opioids_result_not_found_is_an_unexpected_negative(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # A result's value is read by the words a conclusion's finding is (`value_from_text`, one rule). Before, "Not
    # found" was no reading: the oxycodone the lab did not find in a patient prescribed it was named as not read
    # and never judged (guideline 10.4).
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    result = observation(OXYCODONE_SCREEN, when=f"{days_ago(30)}T09:14:00-04:00", value_string=value)
    found = card(sign(result), unexpected_uds_result.CHECK_ID)
    assert found is not None and f"negative for oxycodone ({days_ago(30)})" in found.summary


def test_a_result_found_is_read_positive() -> None:
    assert value_from_text("Found") == "positive"


def test_a_first_confirmation_of_a_drug_not_read_denies_no_positive_beside_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Read as every drug not found, the lab's confirmation of its ethanol screen denied the fentanyl it found: its
    # positive was named as one the lab's own conclusion denies, the card quoting the conclusion against it.
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    conclusion = "Ethanol positive; confirmation negative. Oxycodone detected."
    sent = referenced_report(conclusion, (OXYCODONE_SCREEN, "Positive"), (FENTANYL_SCREEN, "Positive"))
    assert disagreements(*sent) == ()
    found = card(sign(*sent), unexpected_uds_result.CHECK_ID)
    assert found is not None and f"positive for fentanyl ({days_ago(30)})" in found.summary
    assert "the lab's report concludes" not in found.detail
