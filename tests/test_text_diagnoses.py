"""Diagnoses recorded by text alone (no code PainPlan reads): read by conservative word rules for the exclusions and
opioid use disorder, and named on the plan page when no rule reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import ICD10, SNOMED, card, condition, days_ago, med_request, run

from guideline.checks import CHECKS, oud_treatment
from guideline.plan import build_plan

OXYCODONE = "1049621"  # 2 tablets of 5 mg every 4 hours: a critical high-mme card unless excluded
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def text_only(words: str, *, clinical: str | None = "active", id: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """A problem-list entry written as text, with no coding: a free-text entry or an outside record."""
    resource = condition(SNOMED, "0", clinical=clinical, id=id, **kwargs)
    resource["code"] = {"text": words}
    return resource


def excluded_by(*resources: dict[str, Any]) -> list[str]:
    draft = med_request(OXYCODONE, draft=True, id="ox1", dose=2, period=4)
    return [f.name for f in run("order-sign", drafts=[draft], resources=list(resources)).facts.exclusions]


@pytest.mark.parametrize(
    ("words", "exclusion"),
    [
        ("Sickle cell disease", "sickle_cell"),
        ("Sickle-cell anemia (HbSS)", "sickle_cell"),
        ("Sickle cell pain crisis", "sickle_cell"),
        ("HbSC disease", "sickle_cell"),
        ("Sickle-cell disease without crisis", "sickle_cell"),  # ICD-10-CM's own words for D57.1
        ("Sickle cell/Hb-C disease", "sickle_cell"),
        ("Sickle cell trait", None),  # a carrier state, never the disease
        ("Sickle cell disease carrier", None),
        ("Metastatic pancreatic adenocarcinoma", "active_cancer"),
        ("Multiple myeloma", "active_cancer"),
        ("Non-small cell lung cancer, stage IV", "active_cancer"),
        ("History of breast cancer", None),
        ("Hx of colon cancer", None),
        ("Family history of prostate cancer", None),
        ("Personal history of malignant melanoma", None),
        ("Rule out lymphoma", None),
        ("r/o leukemia", None),
        ("Screening for colon cancer", None),
        ("Breast cancer in remission", None),
        # A history written after the name is still a history: read as active cancer, it switched every check off.
        ("Breast cancer, history of", None),
        ("Breast cancer (history)", None),
        ("Colon cancer s/p resection 2015", None),
        ("Prostate cancer, status post prostatectomy", None),
        ("Hodgkin lymphoma, previously treated", None),
        ("Melanoma - past", None),
        ("Basal cell carcinoma of nose", None),
        ("Squamous cell carcinoma of lung, no evidence of recurrence", None),
        ("Malignant hypertension", None),
        ("BRCA1 carrier, increased risk of breast cancer", None),
        ("Terminal illness", "terminal_condition"),
        ("Terminally ill - end of life care", "terminal_condition"),
        ("Receiving hospice care", "terminal_condition"),
        ("Declined hospice", None),
        # Hospice declined, left or ended, written after the word: read as hospice, the patient lost every check.
        ("Hospice - declined", None),
        ("Hospice care declined by patient", None),
        ("Hospice services discontinued", None),
        ("Hospice, revoked", None),
        ("Discharged from hospice", None),
        ("Hospice care (history)", None),
        ("Hospice enrollment", "terminal_condition"),
        ("End of life planning discussed", None),
        ("Crohn's disease of terminal ileum", None),
        ("Low back pain", None),
    ],
)
def test_an_exclusion_known_only_by_its_text(words: str, exclusion: str | None) -> None:
    # Outside records and free-text problem-list entries carry no code: read by codes only, a patient with sickle
    # cell disease or metastatic cancer written so got every card. Words that say the condition is a history, a
    # family's, a trait or under work-up never exclude.
    assert excluded_by(text_only(words)) == ([exclusion] if exclusion else [])


def test_a_resolved_or_tentative_text_diagnosis_excludes_no_one() -> None:
    assert excluded_by(text_only("Metastatic breast cancer", clinical="resolved")) == []
    tentative = text_only("Metastatic breast cancer")
    tentative["verificationStatus"] = {"coding": [{"code": "provisional"}]}
    assert excluded_by(tentative) == []


def test_a_stu3_text_diagnosis_and_one_under_a_local_code_only() -> None:
    # STU3 sends the clinical status as a plain code; a site's own code with no SNOMED or ICD-10-CM beside it is
    # read by its words as a text-only entry is.
    stu3 = text_only("Sickle cell disease", clinical=None)
    stu3["clinicalStatus"] = "active"
    assert excluded_by(stu3) == ["sickle_cell"]
    local = text_only("x")
    local["code"] = {
        "coding": [
            {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.696580", "code": "123", "display": "Metastatic melanoma"}
        ]
    }
    assert excluded_by(local) == ["active_cancer"]


def test_the_evidence_says_the_diagnosis_was_read_from_its_words() -> None:
    draft = med_request(OXYCODONE, draft=True, id="ox1", dose=2, period=4)
    (finding,) = run("order-sign", drafts=[draft], resources=[text_only("Sickle cell disease")]).facts.exclusions
    assert finding.evidence == "Sickle cell disease (read from its words: no code)"


@pytest.fixture()
def oud_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, oud_treatment.CHECK_ID, oud_treatment)


@pytest.mark.parametrize(
    ("words", "fires"),
    [
        ("Opioid use disorder, severe", True),
        ("Opioid dependence", True),
        ("OUD on waitlist for treatment", True),
        ("Heroin use disorder", True),
        ("Opiate addiction", True),
        ("Family history of opioid use disorder", False),
        ("At risk for opioid use disorder", False),
        ("Physiologic opioid dependence on prescribed opioids", False),
        ("Long-term current use of opiate analgesic", False),
        ("Opioid use disorder screening negative", False),
        ("Maternal opioid use disorder affecting newborn", False),
    ],
)
def test_opioid_use_disorder_known_only_by_its_text(oud_check: None, words: str, fires: bool) -> None:
    # A text-only opioid use disorder on the problem list got no offer of treatment.
    found = card(run("patient-view", resources=[text_only(words, recorded="2025-01-10")]), oud_treatment.CHECK_ID)
    assert (found is not None) is fires
    if found is not None:
        assert words in found.detail


def test_the_plan_page_names_active_text_only_diagnoses_it_did_not_read(tmp_path: Path) -> None:
    resources = [
        text_only("Lumbar radiculopathy", id="c-back"),
        text_only("Sleep apnoea (outside record)", id="c-apnea"),
        text_only("Sickle cell disease", id="c-scd"),  # read: an exclusion, not named
        text_only("Old ankle fracture", clinical="resolved", id="c-ankle"),  # not active: not named
        condition(ICD10, "M54.50", id="c-coded"),  # coded: read, whatever it is
    ]
    evaluation = run("patient-view", resources=resources)
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    assert view.named["unread-conditions"] == (
        "Lumbar radiculopathy (condition c-back)",
        "Sleep apnoea (outside record) (condition c-apnea)",
    )
    assert "Diagnoses recorded as text only" in view.note and "c-back" in view.note


def test_the_plan_page_html_shows_unread_text_diagnoses(tmp_path: Path) -> None:
    import responses
    from builders import patient
    from test_plan_view import FakeFhir, _app, _open_plan

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(
            rsps, [patient(patient_id="p1"), text_only("Lumbar radiculopathy", id="c-back", recorded=days_ago(10))]
        )
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert 'id="unread-conditions"' in html and "Lumbar radiculopathy (condition c-back)" in html
