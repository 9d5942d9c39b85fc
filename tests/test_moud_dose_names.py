"""A dose of OUD medication known by its code alone is named by that code's own system (HCPCS, CPT, NDC, RxNorm) or
by the bare code when PainPlan does not know the system: it was called "HCPCS <code>" whatever the code was, so an
Epic procedure whose local code came first read as "HCPCS 78901"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import responses
from builders import ICD10, card, condition, days_ago, patient, procedure, run

from guideline.checks import CHECKS, oud_treatment
from guideline.checks.oud_treatment import moud_dose_label
from guideline.fhirdata import concept
from guideline.plan import build_plan
from guideline.undated import undated_procedures

HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
EPIC_PROCEDURE_CODE = "urn:oid:1.2.840.114350.1.13.0.1.7.2.696580"  # an Epic site's local procedure codes
NDC = "http://hl7.org/fhir/sid/ndc"
VIVITROL_NDC = "65757-300-01"  # naltrexone 380 mg extended-release injection kit


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, oud_treatment.CHECK_ID, oud_treatment)


def coded(*codings: tuple[str, str]) -> dict[str, Any]:
    """A procedure code as FHIR JSON: these (system, code) codings and no display or text."""
    return {"coding": [{"system": system, "code": code} for system, code in codings]}


@pytest.mark.parametrize(
    ("system", "code", "named"),
    [
        pytest.param(HCPCS, "J2315", "HCPCS J2315", id="HCPCS, THO URI"),
        pytest.param(
            "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "J2315", "HCPCS J2315", id="HCPCS http"
        ),
        pytest.param("urn:oid:2.16.840.1.113883.6.285", "q9991", "HCPCS Q9991", id="HCPCS OID"),
        pytest.param("https://bluebutton.cms.gov/resources/codesystem/hcpcs", "J2315", "HCPCS J2315", id="Blue Button"),
        pytest.param("http://www.ama-assn.org/go/cpt", "96372", "CPT 96372", id="CPT"),
        pytest.param("urn:oid:2.16.840.1.113883.6.12", "96372", "CPT 96372", id="CPT OID"),
        pytest.param(NDC, VIVITROL_NDC, f"NDC {VIVITROL_NDC}", id="NDC"),
        pytest.param("urn:oid:2.16.840.1.113883.6.69", VIVITROL_NDC, f"NDC {VIVITROL_NDC}", id="NDC OID"),
        pytest.param("http://www.nlm.nih.gov/research/umls/rxnorm", "1655956", "RxNorm 1655956", id="RxNorm"),
        pytest.param("urn:oid:2.16.840.1.113883.6.88", "1655956", "RxNorm 1655956", id="RxNorm OID"),
        pytest.param(EPIC_PROCEDURE_CODE, "78901", "78901", id="local code: the code alone"),
        pytest.param(None, "78901", "78901", id="no system: the code alone"),
    ],
)
def test_a_dose_is_named_by_its_codes_own_system(system: str | None, code: str, named: str) -> None:
    label = moud_dose_label(concept({"coding": [{"system": system, "code": code}]}))
    assert label == f"medication for opioid use disorder ({named})"


def test_the_billing_code_that_makes_it_a_dose_names_it_before_other_codings() -> None:
    # Epic lists the site's own code first and the HCPCS code as a translation; a claim line may carry its NDC first.
    assert moud_dose_label(concept(coded((EPIC_PROCEDURE_CODE, "78901"), (HCPCS, "J2315")))) == (
        "medication for opioid use disorder (HCPCS J2315)"
    )
    assert moud_dose_label(concept(coded((NDC, VIVITROL_NDC), (HCPCS, "j2315")))) == (
        "medication for opioid use disorder (HCPCS J2315)"
    )


def test_no_code_no_name() -> None:
    assert moud_dose_label(None) is None
    assert moud_dose_label(concept({"text": ""})) is None
    assert moud_dose_label(concept(coded((HCPCS, "")))) is None


def epic_dose(**performed: Any) -> dict[str, Any]:
    """Vivitrol given in clinic as an Epic site records it: its local procedure code, then the HCPCS code."""
    dose = procedure(HCPCS, "J2315", performed=days_ago(20))
    dose["code"] = coded((EPIC_PROCEDURE_CODE, "78901"), (HCPCS, "J2315"))
    if performed:
        del dose["performedDateTime"]
        dose.update(performed)
    return dose


def test_the_plan_page_lists_the_dose_by_its_hcpcs_code() -> None:
    dose = epic_dose()
    evaluation = run("patient-view", resources=[condition(ICD10, "F11.20", display="Opioid dependence"), dose])
    assert card(evaluation, oud_treatment.CHECK_ID) is None
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    assert view.by_key["oud"].content.treatment == (
        f"medication for opioid use disorder (HCPCS J2315) (given, {days_ago(20)})",
    )


def test_the_rendered_plan_page_names_the_dose_by_its_hcpcs_code(tmp_path: Path) -> None:
    from test_plan_view import FakeFhir, _app, _open_plan

    resources = [patient(patient_id="p1"), condition(ICD10, "F11.20", display="Opioid dependence"), epic_dose()]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, resources)
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert "medication for opioid use disorder (HCPCS J2315)" in html
    assert "HCPCS 78901" not in html


def test_an_undated_dose_is_named_on_the_card_and_the_page_by_its_hcpcs_code(tmp_path: Path) -> None:
    from cds_support import bundle, data_incomplete_detail

    dose = epic_dose(performedString="last month")
    dose["id"] = "viv-1"
    detail = data_incomplete_detail(tmp_path, procedures=bundle(dose))
    assert 'medication for opioid use disorder (HCPCS J2315) (procedure viv-1), performed "last month"' in detail

    evaluation = run("patient-view", resources=[dose])
    assert undated_procedures(evaluation.facts) == (
        'medication for opioid use disorder (HCPCS J2315) (procedure viv-1), performed "last month"',
    )
