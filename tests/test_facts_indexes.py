"""Facts reads each medication, test code and supply once per call: the answers must be the ones reading every
order, dispense and result on its own gives."""

from __future__ import annotations

from datetime import timedelta

from guideline.facts import Facts
from guideline.fills import same_drug_key, source_order, supply_intervals
from guideline.history import UNKNOWN_SUPPLY_DAYS, order_interval
from guideline.recognition.diagnoses import names_diagnosis
from guideline.supply import order_supply
from guideline.terminology import (
    BENZO,
    BENZODIAZEPINE_MEDS,
    HOSPICE_FINDING,
    MALIGNANT_CANCER,
    MOUD,
    OPIOID,
    OPIOID_POISONING,
    OUD,
    OXYCODONE_MEDS,
    PDMP_REVIEW,
    SICKLE_CELL,
    SLEEP_BREATHING,
    SUD_HISTORY,
    TERMINAL,
    UDS_TEST,
)
from guideline.timeutil import day_span
from tests.builders import (
    ICD10,
    SNOMED,
    TODAY,
    condition,
    days_ago,
    dispense,
    med_request,
    observation,
    run,
)

OXYCODONE = "1049621"
LORAZEPAM = "197901"
BUP_NALOXONE = "1010604"
IBUPROFEN = "197806"
OXYCODONE_SCREEN = "58430-0"
OPIATE_SCREEN = "19295-5"


def facts_of(*resources: dict, drafts: tuple[dict, ...] = ()) -> Facts:
    drafts = drafts or (med_request(OXYCODONE, draft=True, id="new", supply_days=5),)
    return run("order-sign", drafts=list(drafts), resources=list(resources)).facts


def test_only_in_keeps_the_record_order_and_agrees_with_asking_each_item() -> None:
    facts = facts_of(
        med_request(OXYCODONE, status="active", authored=days_ago(10)),
        med_request(LORAZEPAM, status="active", authored=days_ago(9)),
        med_request(IBUPROFEN, status="active", authored=days_ago(8)),
        med_request(BUP_NALOXONE, status="completed", authored=days_ago(40)),
        dispense(OXYCODONE, days_ago(9)),
        dispense(LORAZEPAM, days_ago(8)),
        dispense(OXYCODONE, days_ago(3)),
    )
    items = (*facts.record.orders, *facts.record.dispenses)
    for set_name in (OPIOID, BENZO, MOUD):
        assert facts.only_in(set_name, items) == tuple(i for i in items if facts.is_in(set_name, i))
    assert [facts.name(i) for i in facts.only_in(BENZO, items)] == ["lorazepam 1 MG Oral Tablet"] * 2


def test_supply_intervals_are_the_history_rules_and_one_answer_per_object() -> None:
    facts = facts_of(
        med_request(OXYCODONE, status="active", authored=days_ago(10), supply_days=14, refills=1),
        med_request(OXYCODONE, status="completed", authored=days_ago(60), supply_days=None),
        dispense(OXYCODONE, days_ago(5), days_supply=None),
        dispense(OXYCODONE, days_ago(4), days_supply=7),
    )
    for order in facts.record.orders:
        assert facts.order_interval(order) == order_interval(order, facts.supply(order))
        assert facts.order_interval(order) is facts.order_interval(order)


def test_each_result_is_judged_as_if_it_were_the_only_one_on_record() -> None:
    """A screen and its confirmation share a code and a day: they are judged once, and must read as each alone."""
    supply = (med_request(OXYCODONE, status="completed", authored=days_ago(40), supply_days=30),)
    results = (
        observation(OXYCODONE_SCREEN, when=days_ago(20), value_string="Negative"),
        observation(OXYCODONE_SCREEN, when=days_ago(20), value_string="Positive"),
        observation(OXYCODONE_SCREEN, when=days_ago(20), value_string="Positive"),
        observation(OPIATE_SCREEN, when=days_ago(20), value_string="Positive"),
        observation(OPIATE_SCREEN, when=days_ago(90), value_string="Negative"),
        observation("2345-7", when=days_ago(20), value_string="Positive"),  # glucose: not a urine drug test
    )
    together = facts_of(*supply, *results).uds_results_since(12)
    alone = [facts_of(*supply, r).uds_results_since(12) for r in results]
    assert len(together) == 5
    assert sorted(repr((r.day, r.name, r.value, r.substances)) for r in together) == sorted(
        repr((r.day, r.name, r.value, r.substances)) for one in alone for r in one
    )
    assert any(s.unexpected for r in together for s in r.substances)  # the judging is exercised, not only reading


def test_results_within_a_window_end_today_while_since_keeps_a_future_date() -> None:
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    facts = facts_of(
        observation(OPIATE_SCREEN, when=tomorrow, value_string="Negative"),
        observation(OPIATE_SCREEN, when=days_ago(0), value_string="Negative"),
        observation(OPIATE_SCREEN, when=days_ago(400), value_string="Negative"),
    )
    assert [r.day.isoformat() for r in facts.uds_results_since(12) if r.day] == [tomorrow, days_ago(0)]
    assert [r.day.isoformat() for r in facts.uds_results_within(12) if r.day] == [days_ago(0)]


def test_a_fill_finds_its_order_as_matching_it_against_every_order_does() -> None:
    """Facts matches fills against its real orders and their intervals read once; `fills.source_order` reads them
    per fill: both must name the same order (or none), whether the fill names it or only shares drug and dates."""
    named = dispense(OXYCODONE, days_ago(4))
    named["authorizingPrescription"] = [{"reference": "https://ehr.example/fhir/MedicationRequest/rx-old/_history/2"}]
    facts = facts_of(
        med_request(OXYCODONE, id="rx-old", status="completed", authored=days_ago(40), supply_days=30),
        med_request(OXYCODONE, id="rx-now", status="active", authored=days_ago(10), supply_days=14),
        med_request(OXYCODONE, id="rx-later", status="active", authored=days_ago(5), supply_days=14),
        med_request(LORAZEPAM, id="rx-benzo", status="active", authored=days_ago(6), supply_days=30),
        med_request(OXYCODONE, id="rx-unknown-supply", status="active", supply_days=None),  # from today, 30 days
        named,
        dispense(OXYCODONE, days_ago(8)),
        dispense(OXYCODONE, days_ago(3)),
        dispense(LORAZEPAM, days_ago(2)),
        dispense(IBUPROFEN, days_ago(2)),
        dispense(OXYCODONE, days_ago(120)),
    )
    found = [facts.source_order(d) for d in facts.record.dispenses]
    assert found == [
        source_order(d, facts.record.orders, facts.drug_key, facts.order_interval) for d in facts.record.dispenses
    ]
    assert [o.id if o else None for o in found] == ["rx-old", "rx-now", "rx-later", "rx-benzo", None, None]


def test_the_same_drug_key_is_remembered_per_medication_and_a_day_span_per_length() -> None:
    facts = facts_of(med_request(OXYCODONE, status="active"), dispense(OXYCODONE, days_ago(3)))
    order, fill = facts.record.orders[0], facts.record.dispenses[0]
    key = same_drug_key(order, facts.terms)
    assert key == same_drug_key(fill, facts.terms) == facts.drug_key(fill) == f"rxnorm:{OXYCODONE}"
    assert day_span(29) == timedelta(days=29) and day_span(29) is day_span(29)


def test_real_order_intervals_are_each_orders_own_even_when_orders_share_their_parts() -> None:
    """Orders of one drug written on different days share their dispense request, dosages and medication objects:
    the remembered interval must still follow each order's own start."""
    facts = facts_of(
        med_request(OXYCODONE, status="active", authored=days_ago(10), supply_days=14),
        med_request(OXYCODONE, status="completed", authored=days_ago(40), supply_days=14),
        med_request(OXYCODONE, status="completed", authored=days_ago(70), supply_days=14),
        med_request(OXYCODONE, status="completed", authored=days_ago(70), supply_days=None),
    )
    pairs = [(order, facts.order_interval(order)) for order in facts.real_orders]
    assert [order for order, _ in pairs] == [o for o in facts.record.orders if not o.is_draft]
    for order, interval in pairs:
        assert interval == order_interval(order, order_supply(order, facts.terms, facts.config))
    assert len({interval for _, interval in pairs}) == 4
    assert pairs[0][1] == (TODAY - day_span(10), TODAY - day_span(10) + day_span(13))


def test_fills_of_one_day_share_their_dates_but_keep_their_own_supply() -> None:
    """Fills handed over the same day share the reader's date object: the prescription history must still date
    each fill by its own days' supply (30 days when it states none), read once though its drug is in two sets."""
    facts = facts_of(
        dispense(OXYCODONE, days_ago(5), days_supply=None),
        dispense(OXYCODONE, days_ago(5), days_supply=7),
        dispense(LORAZEPAM, days_ago(5), days_supply=3),
    )
    history, handed = facts.prescription_history, TODAY - day_span(5)
    # A negative is unexpected from the day after a supply's first to its last: a verdict turns the day after each.
    after = (handed + day_span(1), handed + day_span(7), handed + day_span(30))
    assert history.turning_days(OXYCODONE_MEDS, positive=False) == after
    assert history.turning_days(OPIOID, positive=False) == after
    assert history.turning_days(BENZODIAZEPINE_MEDS, positive=False) == (handed + day_span(1), handed + day_span(3))
    assert history.taking_on(BENZODIAZEPINE_MEDS, handed + day_span(2)) is not None
    assert history.taking_on(BENZODIAZEPINE_MEDS, handed + day_span(3)) is None


def test_the_first_prescription_on_record_explains_a_result_whatever_drug_came_first() -> None:
    """A set's supplies are gathered per medication: they must still be read in record order, so the prescription
    a result is laid to is the first on record in effect, not the first of the first drug."""
    morphine = "891888"
    facts = facts_of(
        med_request(OXYCODONE, status="completed", authored=days_ago(100), supply_days=10),  # over long before
        med_request(morphine, status="completed", authored=days_ago(10), supply_days=30),
        med_request(OXYCODONE, status="completed", authored=days_ago(5), supply_days=30),
    )
    names = [facts.name(o) for o in facts.record.orders if not o.is_draft]
    taking = facts.prescription_history.taking_on(OPIOID, TODAY)
    assert taking is not None and taking.name == names[1] and taking.day == TODAY - day_span(10)
    effect = facts.prescription_history.in_effect(OPIOID, TODAY)
    assert effect is not None and effect.name == names[1]


def _coded(resource: dict, code: dict) -> dict:
    """The resource with another shape of code (text only, no system, several codings)."""
    return {**resource, "code": code}


def test_conditions_and_observations_in_a_set_are_the_ones_asking_about_each_gives() -> None:
    """Facts looks each distinct code up once per set: what it finds must be what asking about every condition and
    observation gives, in record order, whatever shape the code has (dotless ICD-10-CM, lower case, no system, an
    unknown system, text only, no code at all, a refuted or resolved condition, STU3-style several codings)."""
    conditions = (
        condition(ICD10, "D57.1"),
        condition(ICD10, "D571", clinical="resolved"),
        condition(ICD10, "d57.1", category=None),
        condition(SNOMED, "417357006"),
        condition("http://example.org/local-codes", "D57.1"),
        _coded(condition(ICD10, "D57.1"), {"coding": [{"code": "D57.1"}]}),
        _coded(condition(ICD10, "D57.1"), {"text": "sickle cell disease"}),
        _coded(condition(ICD10, "D57.1"), {}),
        condition(ICD10, "C25.0"),
        condition(ICD10, "C25.0", clinical="remission"),
        condition(ICD10, "F11.20"),
        condition(ICD10, "F10.20"),
        condition(ICD10, "T40.2X1A"),
        condition(SNOMED, "1148647001"),
        condition(ICD10, "G47.33"),
        _coded(
            condition(ICD10, "F11.20"),
            {"coding": [{"system": "http://example.org/local-codes", "code": "x"}, {"system": ICD10, "code": "F1120"}]},
        ),
        condition(ICD10, "D57.1"),
    )
    refuted = condition(ICD10, "D57.1")
    refuted["verificationStatus"] = {"coding": [{"code": "refuted"}]}
    observations = (
        observation("461621000124108", system=SNOMED, when=days_ago(3)),
        observation("461621000124108", system=SNOMED, when=days_ago(30), status="amended"),
        observation("170935008", system=SNOMED, when=days_ago(10)),
        observation("170935008", system="http://example.org/local-codes", when=days_ago(10)),
        _coded(observation(OPIATE_SCREEN, when=days_ago(2)), {"coding": [{"code": OPIATE_SCREEN}]}),
        _coded(observation(OPIATE_SCREEN, when=days_ago(2)), {"text": "urine opiates"}),
        observation(OPIATE_SCREEN, when=days_ago(2), value_string="Negative"),
        observation(OXYCODONE_SCREEN, when=days_ago(2), value_string="Negative"),
        observation(OPIATE_SCREEN, when=days_ago(40), value_string="Positive"),
    )
    facts = facts_of(*conditions, refuted, *observations)
    contains = facts.terms.contains
    found = 0
    for set_name in (SICKLE_CELL, MALIGNANT_CANCER, TERMINAL, OUD, SUD_HISTORY, OPIOID_POISONING, SLEEP_BREATHING):
        for active_only, pool in ((False, facts.visible_conditions), (True, facts.active_conditions)):
            # A text-only entry is read by its words for the sets that have word rules (sickle cell disease here).
            expected = tuple(c for c in pool if contains(set_name, c.code) or names_diagnosis(set_name, c.code))
            assert facts.conditions_in(set_name, active_only=active_only) == expected
            found += len(expected)
    for set_name in (PDMP_REVIEW, HOSPICE_FINDING, UDS_TEST):
        expected = tuple(o for o in facts.record.observations if contains(set_name, o.code))
        assert facts.observations_in(set_name) == expected
        found += len(expected)
    # five coded, one ("sickle cell disease") by its words
    assert len(facts.conditions_in(SICKLE_CELL)) == 6 and len(facts.observations_in(UDS_TEST)) == 3
    assert found > 20  # the sets are exercised, not only their empty answers


def test_the_exposure_history_and_the_uds_expectations_read_lazily_what_reading_every_interval_gives() -> None:
    """An order's supply interval is read only where something needs it (an opioid's exposure, a set a result asks
    about, a fill's own drug): the answers must be those of a Facts that read every order's interval first."""
    naltrexone = "1483744"
    facts = facts_of(
        med_request(OXYCODONE, status="completed", authored=days_ago(80), supply_days=30),
        med_request(OXYCODONE, status="completed", authored=days_ago(50), supply_days=30, intent="plan"),
        med_request(OXYCODONE, status="active", authored=days_ago(20), supply_days=30, refills=1),
        med_request(OXYCODONE, status="stopped", authored=days_ago(100), supply_days=None),
        med_request(BUP_NALOXONE, status="completed", authored=days_ago(60), supply_days=28),
        med_request(naltrexone, status="completed", authored=days_ago(30), supply_days=30),
        med_request(LORAZEPAM, status="active", authored=days_ago(15), supply_days=30),
        med_request(IBUPROFEN, status="active", authored=days_ago(5), supply_days=10),
        med_request(OXYCODONE, status="completed", authored=days_ago(40), category="inpatient"),
        dispense(OXYCODONE, days_ago(19), days_supply=30),
        dispense(LORAZEPAM, days_ago(14), days_supply=None),
        dispense(IBUPROFEN, days_ago(4)),
        observation(OPIATE_SCREEN, when=days_ago(10), value_string="Negative"),
        observation(OXYCODONE_SCREEN, when=days_ago(10), value_string="Positive"),
    )
    eager = Facts(facts.record, facts.context, facts.config, facts.now, facts.snoozes, facts.terms)
    every_interval = [eager.order_interval(order) for order in eager.real_orders]  # every interval read first
    assert len(every_interval) == len(facts.record.orders) - 1
    assert facts.exposure == eager.exposure
    assert facts.uds_results_since(12) == eager.uds_results_since(12)
    for set_name in {s.expected_by for s in facts.terms.uds_substances if s.expected_by} | {BENZO, OPIOID, MOUD}:
        for day in (TODAY - day_span(n) for n in (0, 10, 25, 45, 70, 95)):
            history, full = facts.prescription_history, eager.prescription_history
            assert history.in_effect(set_name, day) == full.in_effect(set_name, day)
            assert history.taking_on(set_name, day) == full.taking_on(set_name, day)
    assert [facts.source_order(d) for d in facts.record.dispenses] == [
        eager.source_order(d) for d in eager.record.dispenses
    ]


def test_the_exposure_history_queues_the_fills_of_the_drugs_it_reads_as_queueing_every_fill_does() -> None:
    """Only the fills of drugs that build tolerance are queued for the opioid history: each keeps the place queueing
    every fill gives it (early refills of one drug, a fill of unknown supply), and the others are left out."""
    naltrexone = "1483744"
    facts = facts_of(
        dispense(OXYCODONE, days_ago(40), days_supply=30),
        dispense(LORAZEPAM, days_ago(39), days_supply=30),
        dispense(OXYCODONE, days_ago(25), days_supply=30),  # early: queued after the first
        dispense(BUP_NALOXONE, days_ago(20), days_supply=None),
        dispense(BUP_NALOXONE, days_ago(10), days_supply=14),
        dispense(naltrexone, days_ago(30), days_supply=30),
        dispense(LORAZEPAM, days_ago(20), days_supply=30),
        dispense(IBUPROFEN, days_ago(5)),
    )
    every = supply_intervals(
        facts.exposure_dispenses, facts.drug_key, course_of=facts.fill_course, unknown_days=UNKNOWN_SUPPLY_DAYS
    )
    queued = {id(s.dispense): (s.start, s.end) for s in every}
    read = [d for d in facts.exposure_dispenses if facts.is_in(OPIOID, d) or facts.is_in(MOUD, d)]
    naltrexone_fills = [d for d in read if not facts.is_in(OPIOID, d) and facts.name(d).lower().startswith("naltr")]
    supplies = dict((id(d), interval) for d, interval in facts.exposure_fill_supplies)
    assert len(read) == 5 and len(naltrexone_fills) == 1
    for item in facts.exposure_dispenses:
        kept = item in read and item not in naltrexone_fills
        # The fills of medicines that build no tolerance are left out: the history reads nothing of them.
        assert (id(item) in supplies) == kept
        assert supplies.get(id(item)) == (queued[id(item)] if kept else None)
    assert supplies[id(facts.exposure_dispenses[2])][0] == TODAY - day_span(10)  # the early refill, queued


def _npi(number: str) -> dict:
    return {"type": "Practitioner", "identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": number}}


def test_a_fill_is_tied_to_its_order_by_prescriber_named_by_npi_too() -> None:
    # A claim names the prescriber by NPI alone. The same NPI on the order ties them; another NPI is another
    # prescriber's fill; a prescriber named by reference on the order is no evidence either way, as before. A
    # performer that is not the claim's prescriber (the dispensing pharmacist) says nothing of the prescriber.
    order = {**med_request(OXYCODONE, authored=days_ago(20), supply_days=30), "id": "mr-npi"}
    fill = dispense(OXYCODONE, days_ago(19), days_supply=30)
    prescribing = {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/claimcareteamrole", "code": "prescribing"}]
    }
    tied = []
    for requester, performer in (
        (_npi("1234567893"), {"actor": _npi(" 1234567893"), "function": prescribing}),
        (_npi("1234567893"), {"actor": _npi("9876543213"), "function": prescribing}),
        ({"reference": "Practitioner/dr1"}, {"actor": _npi("9876543213"), "function": prescribing}),
        (_npi("1234567893"), {"actor": _npi("9876543213")}),
    ):
        facts = run(
            "patient-view",
            resources=[{**order, "requester": requester}, {**fill, "performer": [performer]}],
        ).facts
        found = facts.source_order(facts.record.dispenses[0])
        tied.append(found.id if found else None)
    assert tied == ["mr-npi", None, "mr-npi", "mr-npi"]
