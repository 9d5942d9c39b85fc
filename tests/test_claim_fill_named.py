"""A fill read from a payer's pharmacy claim is named by its claim: "… (payer claim eob-1), no date", never by the id
PainPlan made up for it ("fill eob-1-1"), which is in no system a reader can search, as a procedure billed on a claim
is (`Dispense.named_by`, `Procedure.named_by`), on both faces. A claim's later drug lines add the line: "(payer
claim eob-1, line 2)", so two fills of one claim alike in name and day are two lines, never one.

Before, a member whose Part D plan billed buprenorphine with no fill date beside their opioid use disorder had "OUD
without treatment" answered by "(fill eob-1-1)": nobody could find that record to check it."""

from __future__ import annotations

import json
from typing import Any

from builders import PATIENT_ID, days_ago, run
from synthetic_export import ICD10, condition, dispense, patient
from test_population_fill_integrity import pharmacy_claim
from test_population_letters import high_dose
from test_population_measure_edges import _evaluate, _row

from guideline.checks.oud_treatment import CHECK_ID as OUD_CHECK
from guideline.facts import Facts
from guideline.population.claims import claims_read_for_a_hook

SUBOXONE_8 = ("1010604", "buprenorphine 8 MG / naloxone 2 MG Sublingual Film")
OXYCODONE_10 = ("1049683", "oxycodone hydrochloride 10 MG Oral Tablet")
UNDATED_WHY = "has no dispense date, so the MME total and the checks could not count it"


def undated(claim: dict[str, Any]) -> dict[str, Any]:
    """The claim with no day of service at all (no billablePeriod, no servicedDate on its lines)."""
    claim.pop("billablePeriod", None)
    for item in claim["item"]:
        item.pop("servicedDate", None)
    return claim


def hook_facts(*claims: dict[str, Any]) -> Facts:
    """The facts a patient-view hook reads from these payer claims, read as a hook reads them."""
    return run("patient-view", resources=list(claims_read_for_a_hook(list(claims)).resources)).facts


def test_the_oud_finding_names_billed_buprenorphine_by_its_claim() -> None:
    pid = "p-bup"
    oud = condition(f"{pid}-oud", pid, ICD10, "F11.20", recorded="2025-06-10")
    no_date = undated(pharmacy_claim("eob-1", pid, "2026-03-01", 14, 14, SUBOXONE_8))
    # A claim status outside ExplanationOfBenefit's value set: a fill of unknown status, named on trust.
    unknown = pharmacy_claim("eob-3", pid, "2026-03-10", 14, 14, SUBOXONE_8, status="unknown")
    outcome = _evaluate(pid, [patient(pid, "1972-04-02"), *high_dose(pid, "drA"), oud, no_date, unknown])
    assert OUD_CHECK in _row(outcome)["findings"].split(",")
    named = json.loads(_row(outcome)["evidence"])[OUD_CHECK]
    assert named[0] == f"buprenorphine 8 MG / naloxone 2 MG Sublingual Film (payer claim eob-1): {UNDATED_WHY}"
    assert named[1].startswith(
        "buprenorphine 8 MG / naloxone 2 MG Sublingual Film (payer claim eob-3), filled 2026-03-10: status is unknown"
    )
    written = json.dumps(_row(outcome), default=str)
    assert "eob-1-1" not in written and "eob-3-1" not in written


def test_the_hook_names_an_oxycodone_claim_of_unknown_status_by_its_claim() -> None:
    claim = pharmacy_claim("eob-2", PATIENT_ID, days_ago(5), 60, 30, OXYCODONE_10, status="unknown")
    assert hook_facts(claim).unknown_status_fills == (
        f"oxycodone hydrochloride 10 MG Oral Tablet (payer claim eob-2), filled {days_ago(5)}",
    )


def test_the_hook_names_undated_and_future_dated_claim_fills_by_their_claims() -> None:
    facts = hook_facts(
        undated(pharmacy_claim("eob-1", PATIENT_ID, days_ago(5), 60, 30, OXYCODONE_10)),
        pharmacy_claim("eob-4", PATIENT_ID, days_ago(-20), 60, 30, OXYCODONE_10),
    )
    assert facts.undated_fills == ("oxycodone hydrochloride 10 MG Oral Tablet (payer claim eob-1)",)
    assert facts.future_dated_fills == (
        f"oxycodone hydrochloride 10 MG Oral Tablet (payer claim eob-4), dated {days_ago(-20)}, after today",
    )


def test_two_lines_of_one_claim_alike_in_words_are_named_apart() -> None:
    # Two undated lines of oxycodone on one claim: two prescriptions filled together, each named by its line.
    claim = undated(pharmacy_claim("eob-5", PATIENT_ID, days_ago(5), 60, 30, OXYCODONE_10))
    claim["item"].append({**claim["item"][0], "sequence": 2})
    assert hook_facts(claim).undated_fills == (
        "oxycodone hydrochloride 10 MG Oral Tablet (payer claim eob-5)",
        "oxycodone hydrochloride 10 MG Oral Tablet (payer claim eob-5, line 2)",
    )


def test_a_pharmacys_own_fill_is_named_by_its_id() -> None:
    fill = dispense("md-1", PATIENT_ID, OXYCODONE_10, days_ago(5), 60, 30, status="unknown")
    facts = run("patient-view", resources=[fill]).facts
    assert facts.unknown_status_fills == (
        f"oxycodone hydrochloride 10 MG Oral Tablet (fill md-1), filled {days_ago(5)}",
    )
