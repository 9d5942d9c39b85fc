"""General exclusions G1–G5 (guideline 7) through the engine, shown on the `high-mme` check."""

from __future__ import annotations

from typing import Any

import pytest
from builders import (
    ICD10,
    SNOMED,
    card,
    condition,
    days_ago,
    encounter,
    med_request,
    patient,
    procedure,
    run,
    service_request,
)

from guideline.engine import Evaluation

CHECK = "high-mme"
OXYCODONE = "1049621"  # 2 tablets of 5 mg every 4 hours = 60 mg = 90 MME/day: a critical high-mme card
SICKLE_CELL = "417357006"
BREAST_CANCER = "C50.011"
ACUTE_LIVER_FAILURE = "197270009"  # conditions-likely-terminal-for-opioid-prescribing
HOSPICE_CARE = "385763009"  # Hospice care (regime/therapy); also a hospice discharge disposition
HOSPICE_REFERRAL = "306205009"  # Referral to hospice (procedure)
DISCHARGE_DISPOSITION = "http://terminology.hl7.org/CodeSystem/discharge-disposition"


def evaluate(*resources: dict[str, Any], config: dict | None = None) -> Evaluation:
    draft = med_request(OXYCODONE, draft=True, id="ox1", dose=2, period=4)
    return run("order-sign", drafts=[draft], resources=list(resources), config=config)


def excluded(*resources: dict[str, Any], config: dict | None = None) -> bool:
    """True when the exclusions silence high-mme (the same order always fires without them)."""
    return card(evaluate(*resources, config=config), CHECK) is None


def exclusion_names(*resources: dict[str, Any], config: dict | None = None) -> list[str]:
    return [f.name for f in evaluate(*resources, config=config).facts.exclusions]


def test_the_baseline_order_fires() -> None:
    assert not excluded()


# -- G1 age under 18 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth_date", "is_excluded"),
    [("2010-01-01", True), ("2008-06-16", True), ("2008-06-15", False), ("1970-04-01", False), (None, False)],
    ids=["age-16", "turns-18-tomorrow", "turns-18-today", "adult", "birth-date-missing"],
)
def test_g1_age(birth_date: str | None, is_excluded: bool) -> None:
    assert excluded(patient(birth_date=birth_date)) is is_excluded


def test_g1_evidence_and_toggle() -> None:
    (finding,) = evaluate(patient(birth_date="2010-01-01")).facts.exclusions
    assert (finding.name, finding.evidence) == ("age_under_18", "age 16")
    assert not excluded(patient(birth_date="2010-01-01"), config={"exclusions": {"age_under_18": {"enabled": False}}})


# -- G2 sickle cell --------------------------------------------------------------------------------------------


def test_g2_sickle_cell_of_any_status() -> None:
    assert excluded(condition(SNOMED, SICKLE_CELL, clinical="resolved"))
    assert excluded(condition(SNOMED, SICKLE_CELL, clinical=None, category=None))


def test_g2_require_active_option() -> None:
    config = {"exclusions": {"sickle_cell": {"require_active": True}}}
    assert not excluded(condition(SNOMED, SICKLE_CELL, clinical="resolved"), config=config)
    assert excluded(condition(SNOMED, SICKLE_CELL), config=config)


def test_g2_refuted_or_non_clinical_category_is_invisible() -> None:
    refuted = condition(SNOMED, SICKLE_CELL)
    refuted["verificationStatus"] = {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "refuted"}]
    }
    assert not excluded(refuted)
    assert not excluded(condition(SNOMED, SICKLE_CELL, category="billing-only"))


@pytest.mark.parametrize(
    "category",
    [
        {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "Problem-List-Item"}
            ]
        },
        {
            "coding": [
                {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.10.798268.1", "code": "8", "display": "Problem List"}
            ]
        },
        {"text": "Problem list item"},
    ],
)
def test_g2_a_problem_list_category_as_sites_write_it_is_visible(category: dict) -> None:
    # In capitals or under a site's own code, the problem-list category hid the diagnosis from every check.
    diagnosis = condition(SNOMED, SICKLE_CELL, category=None)
    diagnosis["category"] = [category]
    assert excluded(diagnosis)


def test_g2_a_site_category_that_names_no_visible_category_still_hides() -> None:
    diagnosis = condition(SNOMED, SICKLE_CELL, category=None)
    diagnosis["category"] = [
        {"coding": [{"system": "urn:oid:1.2.840.114350.x", "code": "9", "display": "Medical History"}]}
    ]
    assert not excluded(diagnosis)


@pytest.mark.parametrize(
    ("system", "code", "is_excluded"),
    [
        (ICD10, "D57.1", True),  # sickle-cell disease without crisis: the commonest outpatient code
        (ICD10, "D57.00", True),
        (ICD10, "D57.20", True),
        (ICD10, "D57.40", True),
        (ICD10, "D57.80", True),
        (SNOMED, "417357006", True),
        (SNOMED, "127040003", True),  # sickle cell anemia, a descendant of 417357006
        (ICD10, "D57.3", False),  # sickle-cell trait: a carrier state, not the disease
        (SNOMED, "16402000", False),  # sickle cell trait
        (ICD10, "D571", True),  # claims and many exports write ICD-10-CM codes without the dot
        (ICD10, "D5700", True),
        (ICD10, "d57.1", True),
        (ICD10, "D573", False),  # the trait stays the trait without its dot too
    ],
)
def test_g2_sickle_cell_disease_excludes_and_the_trait_does_not(system: str, code: str, is_excluded: bool) -> None:
    assert excluded(condition(system, code)) is is_excluded


def test_g2_a_site_can_add_and_remove_exclusion_codes() -> None:
    local = "http://example.org/local-problems"
    config = {
        "exclusions": {
            "sickle_cell": {"add_codes": [f"{local}|SCD-9"], "remove_codes": [f"{ICD10}|D57.1"]},
            "active_cancer": {"remove_codes": [f"{ICD10}|{BREAST_CANCER}"]},
        }
    }
    assert excluded(condition(local, "SCD-9"), config=config)
    assert not excluded(condition(ICD10, "D57.1"), config=config)
    assert not excluded(condition(ICD10, BREAST_CANCER), config=config)
    assert excluded(condition(ICD10, "D57.00"), config=config)  # the rest of the set is untouched
    assert not excluded(condition(ICD10, "D571"), config=config)  # removed in either spelling


def test_g2_a_site_code_written_without_its_dot_matches_the_dotted_code() -> None:
    config = {"exclusions": {"sickle_cell": {"add_codes": [f"{ICD10}|D7589"]}}}
    assert not excluded(condition(ICD10, "D75.89"))
    assert excluded(condition(ICD10, "D75.89"), config=config)
    assert excluded(condition(ICD10, "D7589"), config=config)


@pytest.mark.parametrize("bad", [["D57.1"], "http://hl7.org/fhir/sid/icd-10-cm|D57.1", [f"{ICD10}|"], [42]])
def test_g2_a_malformed_site_code_is_a_config_error_naming_the_key(bad: Any) -> None:
    from guideline.config import ConfigError, GuidelineConfig
    from guideline.terminology import load_terminology

    # Caught when the settings are loaded (a wrong type) or when the codes are read: either way, the key is named.
    with pytest.raises(ConfigError, match="exclusions.sickle_cell.add_codes"):
        load_terminology(GuidelineConfig.from_mapping({"exclusions": {"sickle_cell": {"add_codes": bad}}}))


# -- G3 active cancer ------------------------------------------------------------------------------------------


def test_g3a_active_cancer_on_the_problem_list_or_uncategorised() -> None:
    assert excluded(condition(ICD10, BREAST_CANCER))
    assert excluded(condition(ICD10, BREAST_CANCER, category=None))
    assert exclusion_names(condition(ICD10, BREAST_CANCER)) == ["active_cancer"]


def test_g3a_resolved_or_encounter_diagnosis_only_does_not_exclude() -> None:
    assert not excluded(condition(ICD10, BREAST_CANCER, clinical="resolved"))
    assert not excluded(condition(ICD10, BREAST_CANCER, category="encounter-diagnosis"))


def test_g3a_a_status_in_words_or_after_a_site_code_is_read() -> None:
    # Read by the first code only, a resolved cancer whose status came as words ("Resolved") or under a site's own
    # code first had no status, so it read as active and switched every check off; refuted in words stayed visible.
    site_first = condition(ICD10, BREAST_CANCER, clinical=None)
    site_first["clinicalStatus"] = {
        "coding": [
            {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.4.698084.10021", "code": "3", "display": "Resolved"},
            {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "resolved"},
        ]
    }
    resolved_in_words = condition(ICD10, BREAST_CANCER, clinical=None)
    resolved_in_words["clinicalStatus"] = {"text": "Resolved"}
    refuted_in_words = condition(ICD10, BREAST_CANCER)
    refuted_in_words["verificationStatus"] = {"text": "Entered in Error"}
    for diagnosis in (site_first, resolved_in_words, refuted_in_words):
        assert not excluded(diagnosis)
    active_in_words = condition(ICD10, BREAST_CANCER, clinical=None)
    active_in_words["clinicalStatus"] = {"coding": [{"system": "urn:local", "code": "A", "display": "Active"}]}
    assert excluded(active_in_words)


@pytest.mark.parametrize("verification", ["unconfirmed", "provisional", "differential"])
def test_a_tentative_diagnosis_excludes_no_one(verification: str) -> None:
    # A diagnosis under work-up ("rule out", a working diagnosis) is recorded unconfirmed, provisional or
    # differential: a suspected cancer, a possible sickle cell disease or a terminal illness not yet confirmed
    # switched every check off.
    status = {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": verification}]
    }
    tentative = []
    for system, code in (
        (ICD10, BREAST_CANCER),
        (SNOMED, SICKLE_CELL),
        (SNOMED, ACUTE_LIVER_FAILURE),
        (ICD10, "Z51.5"),
    ):
        diagnosis = condition(system, code)
        diagnosis["verificationStatus"] = status
        tentative.append(diagnosis)
        assert not excluded(diagnosis)
    cancer = condition(ICD10, BREAST_CANCER, clinical="resolved", category="encounter-diagnosis", id="ca1")
    cancer["verificationStatus"] = status
    assert not excluded(cancer, *(encounter(start=days_ago(ago), diagnoses=["Condition/ca1"]) for ago in (30, 200)))
    confirmed = condition(ICD10, BREAST_CANCER)
    confirmed["verificationStatus"] = {"coding": [{"code": "confirmed"}]}
    assert excluded(confirmed)


@pytest.mark.parametrize(
    "category",
    [
        {
            "coding": [
                {
                    "system": "urn:oid:1.2.840.114350.1.13.0.1.7.10.798268.30",
                    "code": "2",
                    "display": "Encounter Diagnosis",
                }
            ]
        },
        {"text": "Encounter diagnosis"},
    ],
    ids=["site-coding", "text"],
)
def test_g3a_an_encounter_diagnosis_as_sites_write_it_is_only_an_encounter_diagnosis(category: dict) -> None:
    # Such a category makes the diagnosis visible (it names a visible category), but read by HL7's code alone it was
    # no encounter diagnosis: one visit's cancer diagnosis read as a problem-list cancer and switched every check off.
    diagnosis = condition(ICD10, BREAST_CANCER, category=None)
    diagnosis["category"] = [category]
    assert not excluded(diagnosis)
    on_the_problem_list = condition(ICD10, BREAST_CANCER)
    on_the_problem_list["category"].append(category)
    assert excluded(on_the_problem_list)


def test_g3b_two_cancer_visits_in_12_months() -> None:
    cancer = condition(ICD10, BREAST_CANCER, clinical="resolved", category="encounter-diagnosis", id="ca1")
    visits = [encounter(start=days_ago(ago), diagnoses=["Condition/ca1"]) for ago in (30, 200)]
    assert excluded(cancer, *visits)
    assert not excluded(cancer, visits[0])


def test_g3b_old_or_cancelled_visits_do_not_count() -> None:
    cancer = condition(ICD10, BREAST_CANCER, clinical="resolved", category="encounter-diagnosis", id="ca1")
    recent = encounter(start=days_ago(30), diagnoses=["Condition/ca1"])
    old = encounter(start=days_ago(400), diagnoses=["Condition/ca1"])
    cancelled = encounter(start=days_ago(60), status="cancelled", diagnoses=["Condition/ca1"])
    assert not excluded(cancer, recent, old)
    assert not excluded(cancer, recent, cancelled)


def test_g3b_link_through_condition_encounter() -> None:
    first, second = encounter(start=days_ago(30)), encounter(start=days_ago(90))
    conditions = [
        condition(ICD10, BREAST_CANCER, clinical="resolved", category="encounter-diagnosis", encounter=ref)
        for ref in (f"Encounter/{first['id']}", f"Encounter/{second['id']}")
    ]
    assert excluded(first, second, *conditions)


@pytest.mark.parametrize(
    ("element", "value"),
    [
        ("reason", [{"coding": [{"system": ICD10, "code": BREAST_CANCER}]}]),  # STU3 and DSTU2 name reasonCode so
        ("reasonReference", [{"reference": "Condition/ca1"}]),  # R4: the visit was for that diagnosis
        ("indication", [{"reference": "Condition/ca1"}]),  # DSTU2's name for it
    ],
    ids=["stu3-dstu2-reason", "r4-reason-reference", "dstu2-indication"],
)
def test_g3b_a_visit_for_cancer_as_stu3_dstu2_and_r4_reasons_say_it(element: str, value: list) -> None:
    # Read from R4's reasonCode and diagnosis only, two oncology visits of a STU3 or DSTU2 server, or visits whose
    # reason is a reference to the cancer, were no cancer visits: the patient got every card.
    cancer = condition(ICD10, BREAST_CANCER, clinical="resolved", category="encounter-diagnosis", id="ca1")
    visits = [encounter(start=days_ago(ago)) for ago in (30, 200)]
    for visit in visits:
        visit[element] = value
    assert excluded(cancer, *visits)
    assert not excluded(cancer, visits[0])


# -- G4 terminal condition -------------------------------------------------------------------------------------


def test_g4_active_terminal_condition_only() -> None:
    assert excluded(condition(SNOMED, ACUTE_LIVER_FAILURE))
    assert not excluded(condition(SNOMED, ACUTE_LIVER_FAILURE, clinical="resolved"))
    config = {"exclusions": {"terminal_condition": {"enabled": False}}}
    assert not excluded(condition(SNOMED, ACUTE_LIVER_FAILURE), config=config)


# -- G5 hospice and palliative care ----------------------------------------------------------------------------


def test_g5a_hospice_discharge_within_12_months() -> None:
    assert excluded(encounter(start=days_ago(200), discharge=(SNOMED, HOSPICE_CARE)))
    assert excluded(encounter(start=days_ago(20), discharge=(DISCHARGE_DISPOSITION, "hosp")))
    assert not excluded(encounter(start=days_ago(400), discharge=(SNOMED, HOSPICE_CARE)))
    assert not excluded(encounter(start=days_ago(20), status="cancelled", discharge=(SNOMED, HOSPICE_CARE)))


@pytest.mark.parametrize(
    ("disposition", "hospice"),
    [
        ({"coding": [{"system": "https://www.nubc.org/CodeSystem/PatDischargeStatus", "code": "50"}]}, True),
        ({"coding": [{"system": "http://www.nubc.org/patient-discharge", "code": "51"}]}, True),
        (
            {
                "coding": [
                    {
                        "system": "urn:oid:1.2.840.114350.1.13.0.1.7.10.698084.18888",
                        "code": "7",
                        "display": "Hospice - Home",
                    }
                ]
            },
            True,
        ),
        ({"text": "Discharged to hospice"}, True),
        ({"coding": [{"system": "https://www.nubc.org/CodeSystem/PatDischargeStatus", "code": "01"}]}, False),  # home
        ({"coding": [{"system": "urn:oid:1.2.840.114350.x", "code": "1", "display": "Home or Self Care"}]}, False),
    ],
)
def test_g5a_a_hospice_discharge_as_ehrs_and_claims_code_it(disposition: dict, hospice: bool) -> None:
    # Epic codes the disposition in its own system and claims use NUBC's discharge status: a hospice patient read as
    # discharged home got cards asking to reconsider the opioids of their end-of-life care.
    stay = encounter(start=days_ago(20))
    stay["hospitalization"] = {"dischargeDisposition": disposition}
    assert excluded(stay) is hospice


def test_g5b_hospice_procedure_within_90_days() -> None:
    assert excluded(procedure(SNOMED, HOSPICE_CARE, performed=days_ago(90)))
    assert not excluded(procedure(SNOMED, HOSPICE_CARE, performed=days_ago(91)))
    config = {"exclusions": {"hospice_palliative": {"procedure_days": 120}}}
    assert excluded(procedure(SNOMED, HOSPICE_CARE, performed=days_ago(100)), config=config)


def test_g5b_hospice_care_still_in_progress_excludes_however_long_ago_it_began() -> None:
    # Hospice care in progress with an open period is care now; read by its start alone, a patient in hospice for
    # more than 90 days got every card. A completed record with an open end stays read by its start.
    ongoing = procedure(SNOMED, HOSPICE_CARE, status="in-progress")
    del ongoing["performedDateTime"]
    ongoing["performedPeriod"] = {"start": days_ago(200)}
    assert excluded(ongoing)
    finished = procedure(SNOMED, HOSPICE_CARE)
    del finished["performedDateTime"]
    finished["performedPeriod"] = {"start": days_ago(200)}
    assert not excluded(finished)


def test_g5c_hospice_order_within_90_days() -> None:
    """Reference differs: the 2022 logic dropped the hospice ServiceRequest branch."""
    assert excluded(service_request(SNOMED, HOSPICE_REFERRAL, authored=days_ago(10)))
    assert excluded(service_request(SNOMED, HOSPICE_REFERRAL, authored=days_ago(10), intent="plan"))
    assert not excluded(service_request(SNOMED, HOSPICE_REFERRAL, authored=days_ago(10), intent="option"))
    # A proposal nobody signed (another tool's suggestion to refer to hospice) is no referral: read as one, it
    # switched every check off for a patient nobody had referred.
    assert not excluded(service_request(SNOMED, HOSPICE_REFERRAL, authored=days_ago(10), intent="proposal"))
    assert not excluded(service_request(SNOMED, HOSPICE_REFERRAL, authored=days_ago(10), status="revoked"))
    assert not excluded(service_request(SNOMED, HOSPICE_REFERRAL, authored=days_ago(120)))


@pytest.mark.parametrize(("status", "is_excluded"), [("requested", True), ("accepted", True), ("rejected", False)])
def test_g5c_a_dstu2_hospice_order_by_its_own_statuses(status: str, is_excluded: bool) -> None:
    # DSTU2's ProcedureRequest says an order is live as requested, received, accepted or in progress (it has no
    # "active"): read as R4's statuses, a hospice referral from a DSTU2 server was no order and the patient got
    # every card.
    referral = service_request(SNOMED, HOSPICE_REFERRAL, status=status)
    referral["resourceType"] = "ProcedureRequest"
    del referral["intent"], referral["authoredOn"]
    referral["orderedOn"] = days_ago(10)
    assert excluded(referral) is is_excluded


def test_g5d_palliative_care_z51_5() -> None:
    assert excluded(condition(ICD10, "Z51.5"))
    assert excluded(condition(ICD10, "Z51.5", clinical="resolved", recorded=days_ago(30)))
    assert not excluded(condition(ICD10, "Z51.5", clinical="resolved", recorded=days_ago(100)))
    # Z51.5 is also in the limited-life-expectancy set, so an active one stays excluded by G4 when the G5d row is
    # off; a resolved recent one is G5d's alone.
    config = {"exclusions": {"hospice_palliative": {"include_z51_5": False}}}
    assert exclusion_names(condition(ICD10, "Z51.5"), config=config) == ["terminal_condition"]
    assert not excluded(condition(ICD10, "Z51.5", clinical="resolved", recorded=days_ago(30)), config=config)


def test_g5_a_visit_for_palliative_or_hospice_care_by_its_reason() -> None:
    # Epic and claims code a palliative-care visit Z51.5 on the encounter itself (its reason), often with no separate
    # diagnosis: read from conditions only, a patient seen by palliative care last week got every card.
    palliative = {"coding": [{"system": ICD10, "code": "Z515", "display": "Encounter for palliative care"}]}
    hospice = {"coding": [{"system": SNOMED, "code": HOSPICE_CARE}]}
    for reason, ago, is_excluded in ((palliative, 10, True), (hospice, 60, True), (palliative, 100, False)):
        visit = encounter(start=days_ago(ago))
        visit["reasonCode"] = [reason]
        assert excluded(visit) is is_excluded
    planned = encounter(start=days_ago(10), status="planned")
    planned["reasonCode"] = [palliative]
    assert not excluded(planned)
    config = {"exclusions": {"hospice_palliative": {"include_z51_5": False}}}
    visit = encounter(start=days_ago(10))
    visit["reason"] = [palliative]  # STU3 and DSTU2
    assert excluded(visit)
    assert not excluded(visit, config=config)


def test_g5_toggle() -> None:
    config = {"exclusions": {"hospice_palliative": {"enabled": False}}}
    assert not excluded(procedure(SNOMED, HOSPICE_CARE, performed=days_ago(5)), config=config)


# -- per-check switch ------------------------------------------------------------------------------------------


def test_a_check_can_ignore_the_general_exclusions() -> None:
    config = {"checks": {CHECK: {"apply_general_exclusions": False}}}
    assert not excluded(patient(birth_date="2010-01-01"), config=config)


def test_every_applying_exclusion_is_reported_with_evidence() -> None:
    findings = evaluate(patient(birth_date="2010-01-01"), condition(SNOMED, SICKLE_CELL)).facts.exclusions
    assert [f.name for f in findings] == ["age_under_18", "sickle_cell"]
    assert all(f.label and f.evidence for f in findings)


TYPE_OF_BILL = "https://www.nubc.org/CodeSystem/TypeOfBill"


@pytest.mark.parametrize(
    ("field", "kind", "hospice"),
    [
        (
            "type",
            [{"coding": [{"system": SNOMED, "code": "183919006", "display": "Urgent admission to hospice"}]}],
            True,
        ),
        ("type", [{"coding": [{"system": SNOMED, "code": "305336008"}]}], True),
        ("serviceType", {"coding": [{"system": SNOMED, "code": HOSPICE_CARE}]}, True),
        (
            "serviceType",
            {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/service-type", "code": "x"}],
                "text": "Hospice",
            },
            True,
        ),
        # Epic's own department and visit type, known by name only
        (
            "type",
            [
                {
                    "coding": [
                        {
                            "system": "urn:oid:1.2.840.114350.1.13.0.1.7.10.698084.30",
                            "code": "1012",
                            "display": "HOSPICE HOME VISIT",
                        }
                    ]
                }
            ],
            True,
        ),
        (
            "class",
            {"system": "urn:oid:1.2.840.114350.1.72.1.7.7.10.696784.13260", "code": "13", "display": "Hospice"},
            True,
        ),
        # UB-04 type of bill 81x and 82x: hospice, non-hospital and hospital based
        ("type", [{"coding": [{"system": TYPE_OF_BILL, "code": "0811"}]}], True),
        ("type", [{"coding": [{"system": TYPE_OF_BILL, "code": "822"}]}], True),
        ("type", [{"coding": [{"system": TYPE_OF_BILL, "code": "0131"}]}], False),  # hospital outpatient
        ("type", [{"coding": [{"system": SNOMED, "code": "185349003", "display": "Encounter for check up"}]}], False),
        ("type", [{"text": "Non-hospice home health visit"}], False),
        # A visit about hospice that is no hospice care: a referral, an evaluation or information visit, its end
        ("type", [{"text": "Hospice Referral"}], False),
        ("type", [{"text": "HOSPICE EVAL"}], False),
        ("type", [{"text": "Hospice Informational Visit"}], False),
        ("type", [{"text": "Pre-hospice visit"}], False),
        ("serviceType", {"text": "Hospice revocation"}, False),
        ("class", {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}, False),
    ],
)
def test_g5_a_visit_by_a_hospice_service_by_its_type(field: str, kind: Any, hospice: bool) -> None:
    # A visit of the hospice service says so in its type, service type or class, often with no discharge, procedure
    # or diagnosis of hospice care: a patient seen by hospice today got cards asking to reconsider their opioids.
    visit = encounter(start=days_ago(1))
    visit[field] = kind
    assert excluded(visit) is hospice


def test_g5_a_hospice_visit_counts_while_recent_or_ongoing() -> None:
    hospice = [{"coding": [{"system": SNOMED, "code": "305336008", "display": "Admission to hospice"}]}]
    for start, status, is_excluded in (
        (days_ago(90), "finished", True),
        (days_ago(91), "finished", False),
        (days_ago(10), "planned", False),
        (days_ago(10), "cancelled", False),
        (days_ago(300), "in-progress", True),  # an open hospice stay: care now, however long ago it began
    ):
        visit = encounter(start=start, status=status)
        visit["type"] = hospice
        assert excluded(visit) is is_excluded, (start, status)
    # A stay that ended is read by its end.
    ended = encounter(start=days_ago(300))
    ended["period"]["end"] = days_ago(30)
    ended["type"] = hospice
    assert excluded(ended)
    (finding,) = evaluate(ended).facts.exclusions
    assert "Admission to hospice" in finding.evidence


def test_g5_a_dstu2_hospice_visit_by_its_type() -> None:
    # DSTU2 has no serviceType and names the period as R4 does; its type is a list of concepts like R4's.
    visit = encounter(start=days_ago(3))
    visit["type"] = [{"text": "Hospice"}]
    visit["class"] = "home"  # DSTU2: a plain code
    assert excluded(visit)
