"""A member's enrolment over the measurement period, read from the payer's Coverage: every gap named on the row and
in data-quality.json (`population.enrolment = name`, the default), or the member left out of the denominators as
PQA's continuous-enrolment rule does (`continuous`, one gap of up to `enrolment_gap_days` allowed)."""

from __future__ import annotations

import json

import pytest
from synthetic_export import OXYCODONE_10, dispense, patient, write_export
from test_population_measures import PERIOD, TODAY

from guideline.config import ConfigError, GuidelineConfig
from guideline.population import MEASURES, Directory, PatientOutcome, evaluate_patient
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

NAMED = GuidelineConfig.from_mapping()
CONTINUOUS = GuidelineConfig.from_mapping({"population": {"enrolment": "continuous"}})


def coverage(ident: str, pid: str, start: str | None, end: str | None, status: str | None = "active") -> dict:
    """A payer's Coverage for the member (Medicaid managed care), enrolled from `start` to `end` (either open)."""
    resource: dict = {
        "resourceType": "Coverage",
        "id": ident,
        "beneficiary": {"reference": f"Patient/{pid}"},
        "subscriberId": f"M{pid}",
        "relationship": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship", "code": "self"}]
        },  # fmt: skip
        "payor": [{"reference": "Organization/husky"}],
    }
    if status is not None:
        resource["status"] = status
    period = {key: value for key, value in (("start", start), ("end", end)) if value is not None}
    if period:
        resource["period"] = period
    return resource


def high_dose(pid: str) -> list[dict]:
    """Oxycodone 10 mg, 180 tablets for 30 days, twice: 90 MME/day for 60 days (OHD's denominator and numerator)."""
    return [
        patient(pid),
        dispense(f"{pid}-f1", pid, OXYCODONE_10, "2026-01-05", 180, 30, "drA", "ph1"),
        dispense(f"{pid}-f2", pid, OXYCODONE_10, "2026-02-04", 180, 30, "drA", "ph1"),
    ]


def evaluate(pid: str, coverages: list[dict], config: GuidelineConfig = NAMED) -> PatientOutcome:
    return evaluate_patient(pid, [*high_dose(pid), *coverages], PERIOD, config, TODAY, Directory())


def enrolment(outcome: PatientOutcome) -> tuple:
    assert outcome.row is not None
    row = outcome.row
    return row["enrolled_days"], row["enrolment_gaps"], row["longest_enrolment_gap_days"]


# ---------------------------------------------------------------------------------------------------------------
# The quarter's first 20 days only (2026 Q1 has 90 days): a gap of 70 days


def test_by_default_a_member_enrolled_for_part_of_the_period_stays_in_the_denominators_and_is_named() -> None:
    outcome = evaluate("e1", [coverage("e1-cov", "e1", "2025-01-01", "2026-01-20")])
    assert outcome.row is not None
    assert (outcome.row["ohd_den"], outcome.row["ohd_num"], outcome.row["excluded"]) == (True, True, None)
    assert enrolment(outcome) == (20, 1, 70)
    assert outcome.quality.members_enrolled_part_of_period == 1
    evidence = json.loads(outcome.row["evidence"])
    assert evidence["enrolment"] == [
        "Coverage enrols the member on 20 of the period's 90 days: 1 gap, the longest 70 days"
    ]


def test_under_continuous_enrolment_a_member_enrolled_for_part_of_the_period_is_in_no_denominator() -> None:
    outcome = evaluate("e1", [coverage("e1-cov", "e1", "2025-01-01", "2026-01-20")], CONTINUOUS)
    assert outcome.row is not None
    assert not any(outcome.row[f"{m}_{part}"] for m in ("ohd", "omp", "ohdmp", "cob", "nal") for part in ("den", "num"))
    assert outcome.row["excluded"] == "not continuously enrolled (1 gap, the longest 70 days)"
    assert enrolment(outcome) == (20, 1, 70)
    assert outcome.quality.members_not_continuously_enrolled == 1
    assert outcome.quality.members_enrolled_part_of_period == 0  # left out by the setting: no rate to mark


def test_a_coverage_with_no_end_enrols_to_the_period_end() -> None:
    outcome = evaluate("e2", [coverage("e2-cov", "e2", "2024-07-01", None)], CONTINUOUS)
    assert outcome.row is not None and outcome.row["ohd_den"] is True
    assert enrolment(outcome) == (90, 0, None)
    assert "enrolment" not in json.loads(outcome.row["evidence"])


def test_an_end_written_as_9999_12_31_is_no_end() -> None:
    outcome = evaluate("e2", [coverage("e2-cov", "e2", "2024-07-01", "9999-12-31")], CONTINUOUS)
    assert enrolment(outcome) == (90, 0, None)
    assert not outcome.quality.coverage_not_read


def test_two_coverages_that_together_cover_the_period_leave_no_gap() -> None:
    # A plan change mid-quarter, the second dated as a dateTime (its date part as written, as every date)
    coverages = [
        coverage("e3-a", "e3", "2025-07-01", "2026-02-14"),
        coverage("e3-b", "e3", "2026-02-15T00:00:00-05:00", "2026-12-31T23:59:59-05:00"),
    ]
    outcome = evaluate("e3", coverages, CONTINUOUS)
    assert enrolment(outcome) == (90, 0, None)
    assert outcome.row is not None and outcome.row["ohd_den"] is True
    assert outcome.quality.members_enrolled_part_of_period + outcome.quality.members_not_continuously_enrolled == 0


def test_a_cancelled_coverage_is_no_enrolment() -> None:
    coverages = [
        coverage("e4-a", "e4", "2025-01-01", "2026-01-20"),
        coverage("e4-b", "e4", "2026-01-21", "2026-12-31", status="cancelled"),
        coverage("e4-c", "e4", "2026-01-21", "2026-12-31", status="entered-in-error"),
    ]
    outcome = evaluate("e4", coverages, CONTINUOUS)
    assert enrolment(outcome) == (20, 1, 70)
    assert outcome.row is not None and outcome.row["ohd_den"] is False
    # Before, the evidence said the member had a gap and not that two Coverages on record over it did not count.
    assert json.loads(outcome.row["evidence"])["excluded"] == [
        "Coverage enrols the member on 20 of the period's 90 days: 1 gap, the longest 70 days; "
        "Coverage/e4-b not counted: coverage 2026-01-21 to 2026-12-31 is cancelled; "
        "Coverage/e4-c not counted: coverage 2026-01-21 to 2026-12-31 was entered in error; "
        "population.enrolment = continuous allows one gap of up to 31 days, so the member is in no measure"
    ]


def _typed(resource: dict, code: str) -> dict:
    """A Coverage whose type is an HL7 ActCode insurance policy or program (CARIN's dental example: DENTAL)."""
    system = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
    return {**resource, "type": {"coding": [{"system": system, "code": code}]}}


def test_a_dental_or_vision_plan_is_no_enrolment_in_the_drug_benefit() -> None:
    # The member's health plan ends on 20 January; their dental and vision plans go on. The measures count members
    # enrolled with a drug benefit: before, the dental plan filled the gap and the member was "continuously enrolled".
    coverages = [
        coverage("e9-med", "e9", "2025-01-01", "2026-01-20"),
        _typed(coverage("e9-dental", "e9", "2025-01-01", None), "DENTAL"),
        _typed(coverage("e9-dentprg", "e9", "2025-01-01", None), "DENTPRG"),
        _typed(coverage("e9-vision", "e9", "2025-01-01", None), "VISPOL"),
        # Whatever its dates say, a dental plan adds no day: its US date does not make the enrolment unknown.
        _typed(coverage("e9-dental-renewal", "e9", "01/21/2026", None), "DENTAL"),
    ]
    outcome = evaluate("e9", coverages, CONTINUOUS)
    assert enrolment(outcome) == (20, 1, 70)
    assert not outcome.quality.members_enrolment_unknown and not outcome.quality.coverage_not_read
    assert outcome.row is not None and outcome.row["ohd_den"] is False
    assert outcome.row["excluded"] == "not continuously enrolled (1 gap, the longest 70 days)"
    # Each plan over the gap that did not fill it is named, with why (its dates as written, the US one too).
    assert json.loads(outcome.row["evidence"])["excluded"] == [
        "Coverage enrols the member on 20 of the period's 90 days: 1 gap, the longest 70 days; "
        "Coverage/e9-dental not counted: dental coverage from 2025-01-01 is no medical or drug coverage; "
        "Coverage/e9-dentprg not counted: dental coverage from 2025-01-01 is no medical or drug coverage; "
        "Coverage/e9-vision not counted: vision coverage from 2025-01-01 is no medical or drug coverage; "
        "Coverage/e9-dental-renewal not counted: dental coverage from 01/21/2026 is no medical or drug coverage; "
        "population.enrolment = continuous allows one gap of up to 31 days, so the member is in no measure"
    ]


def test_the_evidence_of_a_gap_names_the_dental_plan_over_it_and_no_plan_outside_the_period() -> None:
    # Before: "Coverage enrols the member on 20 of the period's 90 days: 1 gap, the longest 70 days", though the
    # member's record holds a plan for the whole year: the analyst could not tell why it did not count.
    coverages = [
        coverage("e12-med", "e12", "2025-01-01", "2026-01-20"),
        _typed(coverage("e12-dental", "e12", "2026-01-01", "2026-12-31"), "DENTAL"),
        _typed(coverage("e12-dental-2024", "e12", "2024-01-01", "2024-12-31"), "DENTAL"),  # explains no gap
    ]
    outcome = evaluate("e12", coverages)
    assert outcome.row is not None and outcome.row["ohd_den"] is True
    assert json.loads(outcome.row["evidence"])["enrolment"] == [
        "Coverage enrols the member on 20 of the period's 90 days: 1 gap, the longest 70 days; "
        "Coverage/e12-dental not counted: dental coverage 2026-01-01 to 2026-12-31 is no medical or drug coverage"
    ]


def test_a_member_whose_only_coverage_is_a_vision_plan_is_told_why_they_are_enrolled_on_no_day() -> None:
    vision = _typed(coverage("e13-vision", "e13", None, None), "VISPOL")
    outcome = evaluate("e13", [vision])
    assert enrolment(outcome) == (0, 1, 90)
    assert json.loads(outcome.row["evidence"])["enrolment"] == [
        "Coverage enrols the member on 0 of the period's 90 days: 1 gap, the longest 90 days; "
        "Coverage/e13-vision not counted: vision coverage with no dates is no medical or drug coverage"
    ]


def test_a_plan_not_counted_is_named_beside_a_coverage_not_read() -> None:
    coverages = [
        coverage("e14-med", "e14", "2025-01-01", "2026-01-20"),
        coverage("e14-renewal", "e14", "01/21/2026", None),  # a US date: enrolment unknown
        _typed(coverage("e14-dental", "e14", "2025-01-01", None), "DENTAL"),
    ]
    outcome = evaluate("e14", coverages)
    assert outcome.quality.members_enrolment_unknown == {"e14": 1}
    assert json.loads(outcome.row["evidence"])["enrolment"] == [
        "enrolment unknown: Coverage/e14-renewal could not be read (period.start '01/21/2026' is not a date); "
        "the Coverage read enrols the member on 20 of the period's 90 days: 1 gap, the longest 70 days; "
        "Coverage/e14-dental not counted: dental coverage from 2025-01-01 is no medical or drug coverage; "
        "kept in the measures"
    ]


def test_a_dental_plan_typed_by_actcode_oid_is_no_enrolment_either() -> None:
    # ActCode by its OID, as a C-CDA-derived Coverage spells it (and as a fill's type is read, sent_twice): the same
    # dental plan. Before, only the two URLs were read, and this one filled the gap.
    dental = coverage("e11-dental", "e11", "2025-01-01", None)
    dental["type"] = {"coding": [{"system": "urn:oid:2.16.840.1.113883.5.4", "code": "DENTAL"}]}
    outcome = evaluate("e11", [coverage("e11-med", "e11", "2025-01-01", "2026-01-20"), dental], CONTINUOUS)
    assert enrolment(outcome) == (20, 1, 70)
    assert outcome.row is not None and outcome.row["ohd_den"] is False


# CARIN Blue Button's Coverage as CMS sends it (Blue Button 2.0, BCDA): one Coverage per Medicare part, typed
# SUBSIDIZ, its class a group "Medicare" and a plan naming the part.
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
SOPT = "https://nahdo.org/sopt"


def _class(kind: str, value: str, name: str | None = None) -> dict:
    """A Coverage.class entry of a CARIN class type (group, plan, rxbin, ...)."""
    entry: dict = {"type": {"coding": [{"system": COVERAGE_CLASS, "code": kind}]}, "value": value}
    return {**entry, "name": name} if name is not None else entry


def _medicare(resource: dict, *classes: dict) -> dict:
    """A CMS Coverage as Blue Button sends it: typed SUBSIDIZ, paid by CMS, with these classes."""
    return {
        **resource,
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "SUBSIDIZ"}]},
        "payor": [{"identifier": {"value": "Centers for Medicare and Medicaid Services"}}],
        "class": list(classes),
    }


def _part(resource: dict, part: str) -> dict:
    """Blue Button's Coverage of one Medicare part: group "Medicare", plan "Part A" (B, C, D)."""
    return _medicare(resource, _class("group", "Medicare"), _class("plan", f"Part {part}"))


def _sopt(resource: dict, code: str, display: str) -> dict:
    """A Coverage typed by the Source of Payment Typology, as US Core's Coverage types Medicare."""
    return {**resource, "type": {"coding": [{"system": SOPT, "code": code, "display": display}]}}


def test_medicare_part_a_or_b_is_no_enrolment_in_the_drug_benefit() -> None:
    # The member's Part D plan ends on 20 January; Parts A and B go on. Neither pays for an outpatient prescription:
    # before, they filled the gap and the member was "continuously enrolled", the fills of the gap unpaid by any plan.
    coverages = [
        _part(coverage("m1-part-d", "m1", "2025-01-01", "2026-01-20"), "D"),
        _part(coverage("m1-part-a", "m1", "2019-07-01", None), "A"),
        _part(coverage("m1-part-b", "m1", "2019-07-01", None), "B"),
    ]
    outcome = evaluate("m1", coverages, CONTINUOUS)
    assert enrolment(outcome) == (20, 1, 70)
    assert not outcome.quality.members_enrolment_unknown and not outcome.quality.coverage_not_read
    assert outcome.row is not None and outcome.row["ohd_den"] is False
    assert json.loads(outcome.row["evidence"])["excluded"] == [
        "Coverage enrols the member on 20 of the period's 90 days: 1 gap, the longest 70 days; "
        "Coverage/m1-part-a not counted: Medicare Part A coverage from 2019-07-01 is no drug coverage; "
        "Coverage/m1-part-b not counted: Medicare Part B coverage from 2019-07-01 is no drug coverage; "
        "population.enrolment = continuous allows one gap of up to 31 days, so the member is in no measure"
    ]


def test_medicare_part_a_or_b_by_its_payment_typology_or_its_words_is_no_drug_coverage() -> None:
    worded = coverage("m2-words", "m2", "2025-01-01", None)
    worded["type"] = {"text": "MEDICARE PART B"}  # a payer's words alone, no code
    named = _medicare(coverage("m2-named", "m2", "2025-01-01", None), _class("plan", "1A", "Medicare Part A"))
    coverages = [
        coverage("m2-med", "m2", "2025-01-01", "2026-01-20"),
        _sopt(coverage("m2-ffs", "m2", "2025-01-01", None), "121", "Medicare FFS"),  # US Core: Parts A and B
        worded,
        named,
    ]
    outcome = evaluate("m2", coverages)
    assert enrolment(outcome) == (20, 1, 70)
    assert json.loads(outcome.row["evidence"])["enrolment"] == [
        "Coverage enrols the member on 20 of the period's 90 days: 1 gap, the longest 70 days; "
        "Coverage/m2-ffs not counted: Medicare Part A and B coverage from 2025-01-01 is no drug coverage; "
        "Coverage/m2-words not counted: Medicare Part B coverage from 2025-01-01 is no drug coverage; "
        "Coverage/m2-named not counted: Medicare Part A coverage from 2025-01-01 is no drug coverage"
    ]


@pytest.mark.parametrize(
    "medicare",
    [
        pytest.param(_part(coverage("m3-cov", "m3", "2026-01-21", None), "D"), id="Part D"),
        pytest.param(_part(coverage("m3-cov", "m3", "2026-01-21", None), "C"), id="Part C (Medicare Advantage)"),
        pytest.param(
            _sopt(coverage("m3-cov", "m3", "2026-01-21", None), "122", "Medicare Drug Benefit"), id="SOPT 122"
        ),
        pytest.param(_sopt(coverage("m3-cov", "m3", "2026-01-21", None), "111", "Medicare HMO"), id="SOPT 111 (MA)"),
        # Medicare, no part named: it may be Part D or an MA-PD plan, so it enrols (no member dropped on a guess)
        pytest.param(_sopt(coverage("m3-cov", "m3", "2026-01-21", None), "1", "MEDICARE"), id="SOPT 1"),
        pytest.param(
            _sopt(coverage("m3-cov", "m3", "2026-01-21", None), "12", "Medicare (Non-managed Care)"), id="SOPT 12"
        ),
        pytest.param(
            _medicare(coverage("m3-cov", "m3", "2026-01-21", None), _class("group", "Medicare")), id="group Medicare"
        ),
        # A part named with a drug benefit beside it: the drug benefit is believed
        pytest.param(
            _medicare(
                coverage("m3-cov", "m3", "2026-01-21", None),
                _class("plan", "Part A"),
                _class("rxbin", "610014"),
            ),
            id="Part A with an rxbin",
        ),
        pytest.param(
            _medicare(
                coverage("m3-cov", "m3", "2026-01-21", None), _class("plan", "H1234", "Medicare Parts A, B and D")
            ),
            id="Parts A, B and D",
        ),
        pytest.param(
            _medicare(coverage("m3-cov", "m3", "2026-01-21", None), _class("plan", "Part B"), _class("group", "MAPD")),
            id="Part B of an MA-PD group",
        ),
        pytest.param(
            {
                **_sopt(coverage("m3-cov", "m3", "2026-01-21", None), "121", "Medicare FFS"),
                "class": [_class("plan", "Part D")],
            },
            id="SOPT 121 with a Part D plan",
        ),
        pytest.param(
            {
                **_part(coverage("m3-cov", "m3", "2026-01-21", None), "B"),
                "type": {"coding": [{"system": "urn:oid:2.16.840.1.113883.5.4", "code": "DRUGPOL"}]},
            },
            id="Part B typed as a drug policy",
        ),
    ],
)
def test_part_d_medicare_advantage_or_medicare_of_no_part_stated_enrols(medicare: dict) -> None:
    coverages = [coverage("m3-med", "m3", "2025-01-01", "2026-01-20"), medicare]
    assert enrolment(evaluate("m3", coverages, CONTINUOUS)) == (90, 0, None)


@pytest.mark.parametrize(
    "classes",
    [
        pytest.param([_class("group", "GRP-7", "Acme Auto Parts A/S employees")], id="a group name saying Parts A"),
        pytest.param([_class("group", "GRP-7"), _class("plan", "Part B")], id="a plan 'Part B' of no Medicare"),
    ],
)
def test_a_health_plan_naming_a_part_but_not_medicare_enrols(classes: list[dict]) -> None:
    # Before, a commercial health policy whose group or plan said "Parts A" or "Part B" was read as Medicare Part A or
    # B, enrolled the member on no day, and left them out of every measure under continuous enrolment.
    health = {**_typed(coverage("m5-health", "m5", "2026-01-21", None), "EHCPOL"), "class": classes}
    coverages = [coverage("m5-med", "m5", "2025-01-01", "2026-01-20"), health]
    assert enrolment(evaluate("m5", coverages, CONTINUOUS)) == (90, 0, None)


def test_a_part_named_beside_medicare_as_the_payor_is_medicare() -> None:
    part_b = {
        **coverage("m6-part-b", "m6", "2026-01-21", None),
        "payor": [{"display": "Medicare"}],
        "class": [_class("plan", "Part B")],
    }
    outcome = evaluate("m6", [coverage("m6-med", "m6", "2025-01-01", "2026-01-20"), part_b], CONTINUOUS)
    assert enrolment(outcome) == (20, 1, 70)


def test_a_cancelled_medicare_part_a_or_dental_plan_is_named_as_cancelled() -> None:
    # Blue Button sends a Part A it no longer covers as cancelled. What matters first is that it is cancelled (it
    # covers nothing, whatever it is): before, it was named as Medicare Part A, read as if in force.
    part_a = _part(coverage("m4-part-a", "m4", "2020-03-17", "2026-06-17", status="cancelled"), "A")
    dental = _typed(coverage("m4-dental", "m4", "2026-01-21", None, status="entered-in-error"), "DENTAL")
    outcome = evaluate("m4", [coverage("m4-med", "m4", "2025-01-01", "2026-01-20"), part_a, dental])
    assert json.loads(outcome.row["evidence"])["enrolment"] == [
        "Coverage enrols the member on 20 of the period's 90 days: 1 gap, the longest 70 days; "
        "Coverage/m4-part-a not counted: coverage 2020-03-17 to 2026-06-17 is cancelled; "
        "Coverage/m4-dental not counted: coverage from 2026-01-21 was entered in error"
    ]


def test_a_medigap_or_medicare_msa_plan_is_no_drug_coverage() -> None:
    # A Medicare supplement (Medigap) plan pays what Parts A and B leave, a Medicare MSA plan (SOPT 123) a savings
    # account's deductible: neither pays for an outpatient prescription. Before, either filled the gap.
    worded = {**coverage("m7-words", "m7", "2026-01-21", None), "type": {"text": "Medicare Supplement"}}
    lettered = {  # a plan letter beside Medicare: Medigap Plan G, as a payer's classes send it
        **coverage("m7-plan-g", "m7", "2026-01-21", None),
        "class": [_class("group", "MED-SUPP", "Medicare"), _class("plan", "G", "Plan G")],
    }
    coverages = [
        coverage("m7-med", "m7", "2025-01-01", "2026-01-20"),
        _sopt(coverage("m7-sopt", "m7", "2026-01-21", None), "523", "Medicare supplemental policy (as second payer)"),
        worded,
        lettered,
        _sopt(coverage("m7-msa", "m7", "2026-01-21", None), "123", "Medicare Medical Savings Account (MSA)"),
    ]
    outcome = evaluate("m7", coverages, CONTINUOUS)
    assert enrolment(outcome) == (20, 1, 70)
    assert json.loads(outcome.row["evidence"])["excluded"] == [
        "Coverage enrols the member on 20 of the period's 90 days: 1 gap, the longest 70 days; "
        "Coverage/m7-sopt not counted: Medicare supplement (Medigap) coverage from 2026-01-21 is no drug coverage; "
        "Coverage/m7-words not counted: Medicare supplement (Medigap) coverage from 2026-01-21 is no drug coverage; "
        "Coverage/m7-plan-g not counted: Medicare supplement (Medigap) coverage from 2026-01-21 is no drug coverage; "
        "Coverage/m7-msa not counted: Medicare MSA coverage from 2026-01-21 is no drug coverage; "
        "population.enrolment = continuous allows one gap of up to 31 days, so the member is in no measure"
    ]


@pytest.mark.parametrize(
    "plan",
    [
        pytest.param({"type": {"text": "Medicare Supplement Plan K"}}, id="Medicare Supplement Plan K"),
        pytest.param({"type": {"text": "AARP Medicare Supplement Plan L"}}, id="AARP Medicare Supplement Plan L"),
        pytest.param(
            {"class": [_class("group", "MED-SUPP", "Medicare"), _class("plan", "K", "Plan K")]},
            id="Plan K beside a group Medicare",
        ),
        pytest.param({"type": {"text": "MEDICARE PLAN L"}}, id="a type's words 'MEDICARE PLAN L'"),
        pytest.param(
            {"payor": [{"display": "Medicare"}], "class": [_class("plan", "M", "Plan M")]},
            id="Plan M paid by Medicare",
        ),
    ],
)
def test_medigap_plan_k_l_or_m_beside_medicare_is_no_drug_coverage(plan: dict) -> None:
    # Medigap Plans K, L and M are sold today beside F, G and N, and pay no more for a prescription. Before, a plan
    # letter K, L or M beside Medicare with no word of a supplement filled the gap.
    medigap = {**coverage("m9-medigap", "m9", "2026-01-21", None), **plan}
    outcome = evaluate("m9", [coverage("m9-med", "m9", "2025-01-01", "2026-01-20"), medigap], CONTINUOUS)
    assert enrolment(outcome) == (20, 1, 70)
    assert json.loads(outcome.row["evidence"])["excluded"][0].endswith(
        "Coverage/m9-medigap not counted: Medicare supplement (Medigap) coverage from 2026-01-21 is no drug coverage; "
        "population.enrolment = continuous allows one gap of up to 31 days, so the member is in no measure"
    )


@pytest.mark.parametrize(
    "plan",
    [
        pytest.param(
            {**_typed(coverage("m8-cov", "m8", "2026-01-21", None), "EHCPOL"), "class": [_class("plan", "Plan G")]},
            id="a health plan's 'Plan G' of no Medicare",
        ),
        pytest.param(
            {
                **_typed(coverage("m8-cov", "m8", "2026-01-21", None), "EHCPOL"),
                "class": [_class("plan", "Supplemental Plan N")],
            },
            id="a health plan's 'Supplemental Plan N' of no Medicare",
        ),
        pytest.param(
            {**_typed(coverage("m8-cov", "m8", "2026-01-21", None), "EHCPOL"), "class": [_class("plan", "Plan K")]},
            id="a health plan's 'Plan K' of no Medicare",
        ),
        pytest.param(
            {**coverage("m8-cov", "m8", "2026-01-21", None), "type": {"text": "Medicare Part D"}}, id="Part D"
        ),
        # "Plan D" beside Medicare is read as the drug benefit's Part D, never as Medigap Plan D (A to D are left out)
        pytest.param(
            {**coverage("m8-cov", "m8", "2026-01-21", None), "type": {"text": "Medicare Plan D"}}, id="Plan D"
        ),
        pytest.param(
            {
                **_sopt(coverage("m8-cov", "m8", "2026-01-21", None), "523", "Medicare supplemental policy"),
                "class": [_class("rxbin", "004336")],
            },
            id="Medigap with a pharmacy card",
        ),
        pytest.param(
            {**coverage("m8-cov", "m8", "2026-01-21", None), "type": {"text": "Medicare Supplement Plan J with Rx"}},
            id="a pre-2006 Medigap plan with drugs",
        ),
        pytest.param(
            {
                **coverage("m8-cov", "m8", "2026-01-21", None),
                "type": {"text": "Medigap"},
                "class": [_class("plan", "Part D")],
            },
            id="Medigap beside Part D",
        ),
        pytest.param(
            {
                **_sopt(coverage("m8-cov", "m8", "2026-01-21", None), "123", "Medicare MSA"),
                "class": [_class("group", "Medicare Advantage MSA")],
            },
            id="an MSA plan named Medicare Advantage",
        ),
    ],
)
def test_a_supplement_plan_that_may_pay_for_drugs_or_a_plan_letter_of_no_medicare_enrols(plan: dict) -> None:
    coverages = [coverage("m8-med", "m8", "2025-01-01", "2026-01-20"), plan]
    assert enrolment(evaluate("m8", coverages, CONTINUOUS)) == (90, 0, None)


def test_a_health_or_drug_plan_of_any_stated_type_enrols() -> None:
    coverages = [
        _typed(coverage("e10-med", "e10", "2025-01-01", "2026-01-20"), "HIP"),
        _typed(coverage("e10-drug", "e10", "2026-01-21", None), "DRUGPOL"),
    ]
    assert enrolment(evaluate("e10", coverages, CONTINUOUS)) == (90, 0, None)


def test_a_coverage_with_no_status_counts() -> None:
    # DSTU2's Coverage states no status
    outcome = evaluate("e5", [coverage("e5-cov", "e5", "2025-01-01", "2026-12-31", status=None)], CONTINUOUS)
    assert enrolment(outcome) == (90, 0, None)


def test_a_ten_day_gap_is_allowed_under_continuous_enrolment_with_31_days() -> None:
    coverages = [coverage("e6-a", "e6", "2025-01-01", "2026-02-09"), coverage("e6-b", "e6", "2026-02-20", None)]
    outcome = evaluate("e6", coverages, CONTINUOUS)
    assert enrolment(outcome) == (80, 1, 10)
    assert outcome.row is not None and (outcome.row["ohd_den"], outcome.row["excluded"]) == (True, None)
    assert outcome.quality.members_enrolment_gap_allowed == 1
    assert outcome.quality.members_not_continuously_enrolled == 0


def test_a_gap_longer_than_the_setting_allows_is_refused() -> None:
    coverages = [coverage("e6-a", "e6", "2025-01-01", "2026-02-09"), coverage("e6-b", "e6", "2026-02-20", None)]
    strict = GuidelineConfig.from_mapping({"population": {"enrolment": "continuous", "enrolment_gap_days": 7}})
    outcome = evaluate("e6", coverages, strict)
    assert outcome.row is not None and outcome.row["ohd_den"] is False
    assert outcome.row["excluded"] == "not continuously enrolled (1 gap, the longest 10 days)"


def test_a_second_gap_is_refused_under_continuous_enrolment() -> None:
    coverages = [
        coverage("e7-a", "e7", "2025-01-01", "2026-01-09"),
        coverage("e7-b", "e7", "2026-01-15", "2026-02-27"),
        coverage("e7-c", "e7", "2026-03-05", None),
    ]
    outcome = evaluate("e7", coverages, CONTINUOUS)
    assert enrolment(outcome) == (80, 2, 5)
    assert outcome.row is not None and outcome.row["ohd_den"] is False
    assert outcome.row["excluded"] == "not continuously enrolled (2 gaps, the longest 5 days)"
    evidence = json.loads(outcome.row["evidence"])
    assert evidence["excluded"] == [
        "Coverage enrols the member on 80 of the period's 90 days: 2 gaps, the longest 5 days; "
        "population.enrolment = continuous allows one gap of up to 31 days, so the member is in no measure"
    ]


def test_a_coverage_that_cannot_be_read_is_named_and_the_member_is_enrolment_unknown() -> None:
    coverages = [
        coverage("e8-a", "e8", "2026-13-01", None),  # no such month
        coverage("e8-b", "e8", None, None, status=None),  # no period, no status: says nothing
        coverage("e8-c", "e8", "2026-01-01", None, status="suspended"),  # no status FHIR defines
    ]
    outcome = evaluate("e8", coverages, CONTINUOUS)
    assert enrolment(outcome) == (None, None, None)
    assert outcome.row is not None and outcome.row["ohd_den"] is True  # not stated: denominators unchanged
    assert outcome.quality.coverage_not_read == {
        "Coverage/e8-a: period.start '2026-13-01' is not a date": 1,
        "Coverage/e8-b: no period and no status": 1,
        "Coverage/e8-c: status 'suspended' is not one FHIR defines": 1,
    }
    assert outcome.quality.members_enrolment_unknown == {"e8": 1}  # not "not stated": Coverage was sent
    assert outcome.quality.members_enrolment_not_stated == 0


def test_a_coverage_of_no_shape_fhir_knows_is_named_and_never_stops_the_member() -> None:
    odd = coverage("e11-a", "e11", "2025-01-01", None, status=None)
    odd["status"], bad_period = ["active"], coverage("e11-b", "e11", None, None)
    bad_period["period"] = "2026"
    outcome = evaluate("e11", [odd, bad_period, coverage("e11-c", "e11", "2025-01-01", "2026-12-31")])
    assert enrolment(outcome) == (90, 0, None)
    assert outcome.quality.coverage_not_read == {
        "Coverage/e11-a: status ['active'] is not one FHIR defines": 1,
        "Coverage/e11-b: period is not a period": 1,
    }


def test_a_coverage_ending_before_it_starts_is_named() -> None:
    coverages = [coverage("e9-a", "e9", "2026-03-01", "2026-02-01"), coverage("e9-b", "e9", "2025-01-01", None)]
    outcome = evaluate("e9", coverages)
    assert enrolment(outcome) == (90, 0, None)
    assert outcome.quality.coverage_not_read == {"Coverage/e9-a: period ends (2026-02-01) before it starts": 1}


def test_a_member_without_coverage_is_enrolment_not_stated() -> None:
    outcome = evaluate("e10", [])
    assert enrolment(outcome) == (None, None, None)
    assert outcome.quality.members_enrolment_not_stated == 1


@pytest.mark.parametrize(
    ("setting", "key"),
    [
        ({"enrolment": "pqa"}, "population.enrolment"),
        ({"enrolment": 1}, "population.enrolment"),
        ({"enrolment_gap_days": -1}, "population.enrolment_gap_days"),
        ({"enrolment_gap_days": 10.5}, "population.enrolment_gap_days"),
        ({"enrolment_gap_days": "31"}, "population.enrolment_gap_days"),
        ({"enrolment_gap_days": True}, "population.enrolment_gap_days"),
    ],
)
def test_a_bad_enrolment_setting_is_refused_naming_its_key(setting: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        GuidelineConfig.from_mapping({"population": setting})


def test_a_gap_allowance_of_zero_days_is_a_setting() -> None:
    config = GuidelineConfig.from_mapping({"population": {"enrolment": "continuous", "enrolment_gap_days": 0}})
    assert config["population"]["enrolment_gap_days"] == 0


# ---------------------------------------------------------------------------------------------------------------
# The whole run (DuckDB)


def _run(tmp_path, resources: list[dict], config: GuidelineConfig = NAMED) -> tuple[dict, list[str]]:
    source = tmp_path / "in"
    write_export(source, resources)
    summary = review(ndjson_files(source), tmp_path / "out", PERIOD, TODAY, config, "duckdb", workers=1)
    return json.loads((tmp_path / "out" / "data-quality.json").read_text()), list(summary)


def test_the_run_counts_members_without_coverage_when_others_have_some(tmp_path) -> None:
    resources = [*high_dose("a1"), *high_dose("a2"), coverage("a1-cov", "a1", "2025-01-01", "2026-01-20")]
    quality, summary = _run(tmp_path, resources)
    assert (quality["members_enrolled_part_of_period"], quality["members_enrolment_not_stated"]) == (1, 1)
    text = "\n".join(summary)
    assert "1 member whose Coverage leaves a gap in the period" in text
    assert "1 member with no Coverage in the export" in text
    assert "enrolment not checked" not in text


def test_a_run_whose_export_holds_no_coverage_says_enrolment_was_not_checked(tmp_path) -> None:
    quality, summary = _run(tmp_path, [*high_dose("b1"), *high_dose("b2")])
    assert quality["members_enrolment_not_stated"] == 0
    assert [line for line in summary if "enrolment" in line] == [
        "enrolment not checked: the export holds no Coverage (population.enrolment = name)"
    ]


def test_a_coverage_naming_the_member_as_subscriber_only_is_theirs(tmp_path) -> None:
    # DSTU2's Coverage names no beneficiary: the subscriber is the member
    dstu2 = coverage("c1-cov", "c1", "2025-01-01", "2026-01-20", status=None)
    dstu2["subscriber"] = dstu2.pop("beneficiary")
    quality, _ = _run(tmp_path, [*high_dose("c1"), dstu2], CONTINUOUS)
    assert quality["members_not_continuously_enrolled"] == 1
    assert quality["resources_without_patient"] == 0


# ---------------------------------------------------------------------------------------------------------------
# The dashboard

TOKEN = "population-token-0123456789"


def _dashboard(tmp_path, resources: list[dict], config: GuidelineConfig = NAMED) -> str:
    source = tmp_path / "in"
    write_export(source, resources)
    review(ndjson_files(source), tmp_path / "runs" / "2026q1", PERIOD, TODAY, config, "duckdb", workers=1)
    return dashboard_page(tmp_path)


def dashboard_page(tmp_path) -> str:
    """The dashboard over the runs under tmp_path/runs, as an analyst's browser gets it."""
    import base64

    from smart_app import create_app

    app = create_app(
        {
            "instance_path": str(tmp_path / "instance"),
            "auth": "off",
            "population_root": str(tmp_path / "runs"),
            "population_token": TOKEN,
        }
    )
    basic = base64.b64encode(f"analyst:{TOKEN}".encode()).decode()
    page = app.test_client().get("/population/", headers={"Authorization": f"Basic {basic}"})
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _rate_row(html: str, measure: str) -> str:
    return html.split(f'<tr id="rate-{measure}">')[1].split("</tr>")[0]


def test_the_dashboard_marks_every_rate_while_members_enrolled_for_part_of_the_period_are_counted(tmp_path) -> None:
    html = _dashboard(tmp_path, [*high_dose("d1"), coverage("d1-cov", "d1", "2025-01-01", "2026-01-20")])
    for measure in ("OHD", "AMO"):
        assert (
            "This rate may count patients PQA's measure leaves out:</strong> 1 member whose Coverage leaves a gap"
            in _rate_row(html, measure)
        )
    assert "Patients may be missing" not in _rate_row(html, "OHD")
    assert "each gap is named (population.enrolment = name)" in html


def test_the_dashboard_says_enrolment_was_not_checked_when_the_export_holds_no_coverage(tmp_path) -> None:
    html = _dashboard(tmp_path, high_dose("d2"), CONTINUOUS)
    # The command's summary's words, as the run wrote them in data-quality.json's `run`.
    assert (
        '<p id="enrolment">Enrolment not checked: the export holds no Coverage (population.enrolment = continuous)'
        in html
    )
    # No rate is marked for enrolment (the IOP rates are, for a quarter-only export: see test_population_not_checked).
    assert not any("Coverage leaves a gap" in _rate_row(html, m.id) for m in MEASURES)


def test_the_dashboard_says_continuous_enrolment_applies(tmp_path) -> None:
    html = _dashboard(tmp_path, [*high_dose("d3"), coverage("d3-cov", "d3", "2025-01-01", "2026-01-20")], CONTINUOUS)
    assert "Members not continuously enrolled over the period are in no measure" in html
    assert not any("Coverage leaves a gap" in _rate_row(html, m.id) for m in MEASURES)


def test_only_an_end_written_as_a_real_far_date_is_open() -> None:
    # A far start is no "no end"; a far day that does not exist (30 February) and a far week date are no date at all.
    coverages = [
        coverage("e2b-a", "e2b", "9999-01-01", None),
        coverage("e2b-b", "e2b", "2024-07-01", "9999-02-30"),
        coverage("e2b-c", "e2b", "2024-07-01", "9999-W52-1"),
    ]
    outcome = evaluate("e2b", coverages)
    assert outcome.quality.coverage_not_read == {
        "Coverage/e2b-a: period.start '9999-01-01' is not a date": 1,
        "Coverage/e2b-b: period.end '9999-02-30' is not a date": 1,
        "Coverage/e2b-c: period.end '9999-W52-1' is not a date": 1,
    }
    assert enrolment(outcome) == (None, None, None)


def test_a_run_whose_coverage_file_could_not_be_opened_does_not_say_the_export_holds_none(tmp_path) -> None:
    """A damaged Coverage.ndjson.gz is named as input not read; the enrolment line must not then claim the export
    holds no Coverage, which it may well hold."""
    source = tmp_path / "in"
    write_export(source, [*high_dose("d1"), *high_dose("d2")])
    (source / "Coverage.ndjson.gz").write_bytes(b"\x1f\x8b\x08\x00 not a whole gzip stream")
    summary = review(ndjson_files(source), tmp_path / "out", PERIOD, TODAY, NAMED, "duckdb", workers=1)
    assert [line for line in summary if line.startswith("enrolment")] == [
        "enrolment not checked: no Coverage was read, and 1 input file could not be read in full, which may hold "
        "it (population.enrolment = name)"
    ]


@pytest.mark.parametrize(
    ("gaps", "allowed", "counts"),
    [
        ((), None, False),
        ((), 45, False),
        ((10,), None, True),
        ((10,), 45, False),
        ((46,), 45, True),
        ((5, 5), 45, True),
    ],
)
def test_which_gaps_count_is_one_rule_for_known_and_unknown_enrolment(
    gaps: tuple[int, ...], allowed: int | None, counts: bool
) -> None:
    from guideline.population.enrolment import CoverageNotRead, CoverageRead, Enrolment

    enrolment = Enrolment(365 - sum(gaps), gaps)
    assert enrolment.gap_counts(allowed) is counts
    assert (
        CoverageRead(enrolment, (CoverageNotRead("Coverage/c9", "no period and no status"),)).unknown(allowed) is counts
    )
