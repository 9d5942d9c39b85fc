"""A card's "Based on" line names the data it rests on only as far as it was read, by one rule
(`unread_data.Unread.basis`): data none of which was read is left out and said so ("; pharmacy fills could not be
read"), data read in part is "the … read" ("; not all … could be read"), and today's drafts, which come with the call,
are still named. A complete record's lines are unchanged."""

from __future__ import annotations

import pytest
from builders import ICD10, NOW, PATIENT_ID, TZ, condition, days_ago, dispense, med_request, observation, patient
from cds_support import OXYCODONE_5, oxycodone_draft

from guideline.cards import Card
from guideline.checks import CHECKS, oud_treatment, unexpected_uds_result
from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.engine import evaluate
from guideline.record import build_record
from guideline.unread_data import (
    CARE_PLANS,
    CONDITIONS,
    FILLS,
    LAB_RESULTS,
    ORDERS,
    PDMP_REVIEWS,
    PROCEDURES,
    SERVICE_REQUESTS,
)

DOWN = "the FHIR server answered HTTP 500"
LORAZEPAM = "197901"  # lorazepam 1 MG Oral Tablet
MORPHINE_ER = "891888"  # morphine sulfate 30 MG Extended Release Oral Tablet
COCAINE_SCREEN = "14314-9"  # Benzoylecgonine [Presence] in Urine by Screen method


def basis(check: str, hook: str, drafts=(), resources=(), unread: dict[str, str] | None = None) -> str:
    """The "Based on" line of `check`'s card, without its emphasis."""
    drafted = {"resourceType": "Bundle", "entry": [{"resource": d} for d in drafts]}
    record = build_record([patient(), *resources], TZ, draft_orders=drafted)
    context = HookContext(hook=hook, patient_id=PATIENT_ID, user_id="Practitioner/dr1")
    cards: dict[str, Card] = {
        card.check_id: card
        for card in evaluate(record, context, GuidelineConfig.from_mapping(), NOW, unread=unread).cards
    }
    line = cards[check].detail.rsplit("\n\n", 1)[-1]
    assert line.startswith("*Based on: ") and line.endswith("*"), line
    return line[1:-1]


def long_term_fills() -> list[dict]:
    """Oxycodone 5 mg filled monthly for 30 days each, the last 28 days ago: long-term opioid therapy."""
    return [dispense(OXYCODONE_5, days_ago(days), days_supply=30) for days in (88, 58, 28)]


def lorazepam_order() -> dict:
    return med_request(LORAZEPAM, id="lz1", authored=days_ago(10), supply_days=30)


def test_naloxone_names_the_drafts_and_not_the_current_orders_or_diagnoses_not_read():
    plain = basis("naloxone", "order-sign", [oxycodone_draft()])
    found = basis("naloxone", "order-sign", [oxycodone_draft()], unread={ORDERS: DOWN, CONDITIONS: DOWN})

    assert plain.startswith("Based on: current opioid and sedative orders including today's drafts, current opioid")
    assert "diagnoses on record" in plain
    assert found.startswith(
        "Based on: today's draft orders, current opioid pharmacy fills, the total daily dose (MME), "
    )
    assert "diagnoses on record" not in found and "current opioid and sedative orders" not in found
    assert found.endswith(
        "(none found in what could be read); current medication orders and diagnoses could not be read."
    )


def test_opioid_benzodiazepine_names_the_fills_only_as_read():
    drafts = [oxycodone_draft()]
    plain = basis("opioid-benzodiazepine", "order-sign", drafts, [lorazepam_order()])
    found = basis("opioid-benzodiazepine", "order-sign", drafts, [lorazepam_order()], unread={FILLS: DOWN})

    assert plain == (
        "Based on: active outpatient orders, current pharmacy fills and today's draft orders for opioids, "
        "benzodiazepines and other CNS depressants (current supply only)."
    )
    assert found == (
        "Based on: active outpatient orders and today's draft orders for opioids, benzodiazepines and other CNS "
        "depressants (current supply only); pharmacy fills could not be read."
    )


def test_urine_drug_test_names_no_results_it_could_not_read():
    plain = basis("urine-drug-test", "order-sign", [oxycodone_draft()], long_term_fills())
    found = basis("urine-drug-test", "order-sign", [oxycodone_draft()], long_term_fills(), {LAB_RESULTS: DOWN})

    assert plain.startswith("Based on: urine drug test results in the last 12 months, urine drug screen orders")
    assert found == plain.replace("urine drug test results in the last 12 months, ", "").removesuffix(".") + (
        "; lab results could not be read."
    )


def test_urine_drug_test_names_the_fills_read_when_not_all_were():
    plain = basis("urine-drug-test", "order-sign", [oxycodone_draft()], long_term_fills())
    found = basis("urine-drug-test", "order-sign", [oxycodone_draft()], long_term_fills(), {FILLS: DOWN})

    assert plain.endswith("current opioid orders and the last 90 days of opioid prescriptions and dispenses.")
    assert found.endswith(
        "current opioid orders and the opioid prescriptions and dispenses read of the last 90 days; not all pharmacy "
        "fills could be read."
    )


def test_er_la_opioid_naive_names_no_dispenses_it_could_not_read():
    drafts = [med_request(MORPHINE_ER, draft=True, id="er1", frequency=2, period=1, period_unit="d")]
    plain = basis("er-la-opioid-naive", "order-sign", drafts)
    found = basis("er-la-opioid-naive", "order-sign", drafts, unread={FILLS: DOWN})

    assert plain.startswith("Based on: opioid and opioid use disorder medication prescriptions and dispenses in this")
    assert found == plain.replace(" and dispenses", "", 1).removesuffix(".") + "; pharmacy fills could not be read."


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks a site turns on (not in the default set)."""
    monkeypatch.setitem(CHECKS, oud_treatment.CHECK_ID, oud_treatment)
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)


def acute_oxycodone() -> dict:
    """Oxycodone 5 mg, 1 tablet every 6 h for 5 days: acute, for an opioid-naive patient."""
    return med_request(OXYCODONE_5, draft=True, id="draft-acute", supply_days=5, quantity=20)


def test_nonopioid_first_and_acute_duration_name_no_dispenses_they_could_not_read():
    for check in ("nonopioid-first", "acute-duration"):
        plain = basis(check, "order-sign", [acute_oxycodone()])
        found = basis(check, "order-sign", [acute_oxycodone()], unread={FILLS: DOWN})

        assert "opioid prescriptions and dispenses" in plain
        assert found == plain.replace("opioid prescriptions and dispenses", "opioid prescriptions").removesuffix(
            "."
        ) + ("; pharmacy fills could not be read.")


def test_reassessment_due_names_no_evaluations_ordered_it_could_not_read():
    plain = basis("reassessment-due", "order-sign", [oxycodone_draft()], long_term_fills())
    found = basis("reassessment-due", "order-sign", [oxycodone_draft()], long_term_fills(), {SERVICE_REQUESTS: DOWN})

    assert plain.endswith(" days and evaluations ordered in the last 30 days.")
    assert found == plain.replace(" and evaluations ordered in the last 30 days.", "") + (
        "; pending orders for tests and referrals could not be read."
    )


def test_pdmp_review_names_only_its_own_reviews_when_the_records_were_not_read():
    plain = basis("pdmp-review", "order-sign", [oxycodone_draft()])
    found = basis("pdmp-review", "order-sign", [oxycodone_draft()], unread={PROCEDURES: DOWN, PDMP_REVIEWS: DOWN})

    assert plain.startswith("Based on: PDMP review procedures and findings in this record and PDMP reviews recorded")
    assert found == plain.replace("PDMP review procedures and findings in this record and ", "").removesuffix(".") + (
        "; procedures and PDMP reviews could not be read."
    )


def test_treatment_plan_names_no_care_plans_it_could_not_read():
    drafts = [med_request(MORPHINE_ER, draft=True, id="er1", frequency=2, period=1, period_unit="d")]
    plain = basis("treatment-plan", "order-sign", drafts)
    found = basis("treatment-plan", "order-sign", drafts, unread={CARE_PLANS: DOWN})

    assert plain.startswith("Based on: care plans, pain management procedures and pain plan notes in this record")
    assert found == plain.replace("care plans, ", "").removesuffix(".") + "; care plans could not be read."


def test_oud_treatment_names_no_fills_it_could_not_read(registered: None):
    oud = condition(ICD10, "F11.20", display="Opioid dependence, uncomplicated")
    plain = basis("oud-treatment", "patient-view", resources=[oud])
    found = basis("oud-treatment", "patient-view", resources=[oud], unread={FILLS: DOWN})

    assert "naltrexone orders, pharmacy fills, today's drafts" in plain
    assert found == plain.replace(" pharmacy fills,", "").removesuffix(".") + "; pharmacy fills could not be read."


def test_unexpected_uds_result_is_judged_only_against_the_dispenses_read(registered: None):
    cocaine = observation(COCAINE_SCREEN, when=days_ago(20), value_string="Positive")
    plain = basis("unexpected-uds-result", "order-sign", [acute_oxycodone()], [cocaine])
    found = basis("unexpected-uds-result", "order-sign", [acute_oxycodone()], [cocaine], {FILLS: DOWN})

    assert "judged against opioid and other prescriptions and dispenses in effect" in plain
    assert found == plain.replace("prescriptions and dispenses", "prescriptions").removesuffix(".") + (
        "; pharmacy fills could not be read."
    )
