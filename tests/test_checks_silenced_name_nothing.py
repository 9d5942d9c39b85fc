"""A check the general exclusions silence (hospice or palliative care, a patient under 18) neither names the data it
could not read nor is listed among the checks an order escaped: whether a check runs is one rule
(`checks.common.runs`), and naming what a silent check would have judged is noise (the urine drug test checks named
a hospice patient's unread screen on the data-incomplete card on every visit)."""

from __future__ import annotations

from builders import SNOMED, card, days_ago, encounter, med_request, observation, patient, run
from test_check_urine_drug_test import OXYCODONE, chronic_draft, ltot_dispenses

from guideline.checks.unexpected_uds_result import reads_results, unread_results
from guideline.checks.urine_drug_test import drug_tests_read, reads_tests

OXYCODONE_SCREEN = "58430-0"  # oxyCODONE+oxyMORphone Ur Ql Scn

NAMED = f"urine drug test ({days_ago(30)})"  # the screen's name (none sent: "urine drug test") and its day


def _chart(*extra: dict) -> list[dict]:
    """Long-term oxycodone, an active order, and an oxycodone screen last month that reads nothing ("Inconclusive")."""
    screen = observation(OXYCODONE_SCREEN, when=days_ago(30), value_string="Inconclusive")
    return [*ltot_dispenses(), med_request(OXYCODONE, authored=days_ago(20), supply_days=30), screen, *extra]


def _hospice() -> dict:
    """Discharged to hospice 40 days ago: the general exclusions silence the urine drug test checks."""
    return encounter(start=days_ago(40), discharge=(SNOMED, "385763009"))


def test_the_urine_drug_test_checks_name_an_unread_screen_where_they_run() -> None:
    facts = run("patient-view", resources=_chart()).facts
    assert reads_results(facts) and reads_tests(facts) and drug_tests_read(facts)
    assert unread_results(facts) == (NAMED,)


def test_silenced_by_hospice_they_name_nothing() -> None:
    facts = run("patient-view", resources=_chart(_hospice())).facts
    assert not reads_results(facts) and not reads_tests(facts) and not drug_tests_read(facts)
    assert unread_results(facts) == ()  # what the data-incomplete card and the page's panel name


def test_an_unidentified_order_lists_only_the_checks_that_run() -> None:
    unknown = med_request("99999999", draft=True, id="x1")
    found = card(run("order-sign", drafts=[unknown, chronic_draft()]), "unidentified-medication")
    assert found is not None and "(`high-mme`)" in found.detail
    teen = patient(birth_date="2012-01-01")  # under 18: the general exclusions silence the dose checks
    found = card(run("order-sign", drafts=[unknown, chronic_draft()], resources=[teen]), "unidentified-medication")
    assert found is not None and "(`high-mme`)" not in found.detail


def test_exclusions_that_cannot_be_read_cost_neither_the_naming_nor_the_unidentified_card(monkeypatch) -> None:
    # The engine names the checks such exclusions cost; what speaks beside them reads the checks as on for the hook.
    import guideline.facts

    def broken(*_: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(guideline.facts, "general_exclusions", broken)
    assert unread_results(run("patient-view", resources=_chart()).facts) == (NAMED,)
    unknown = med_request("99999999", draft=True, id="x1")
    found = card(run("order-sign", drafts=[unknown, chronic_draft()]), "unidentified-medication")
    assert found is not None and "(`high-mme`)" in found.detail
