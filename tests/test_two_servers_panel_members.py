"""A urine drug test panel's members are the panel's own: never the EHR's results that share their ids.

A panel heading (LOINC 69739-1, drug screen panel) names its results per substance as members (R4 `hasMember`).
Such a reference is read as a report's result reference is (`readers.result_key`, `Observation.located`): the EHR's
as its id, another server's (an HIE's, known by its entry's fullUrl) as its absolute URL, a relative one in the HIE's
panel as the HIE's, and one to a resource contained beside it ("#m1") as that contained resource. Keyed by the bare id,
an HIE panel whose member o2 never arrived was taken as complete because the EHR holds an unrelated o2, and whatever
the HIE's o2 said (a fentanyl positive) went unjudged with nothing named."""

from __future__ import annotations

from typing import Any

import pytest
from builders import PATIENT_ID, days_ago

from guideline.checks import CHECKS, unexpected_uds_result
from guideline.checks.unexpected_uds_result import CHECK_ID, unread_results
from tests.builders import med_request, run

EPIC = "https://fhir.epic.example/interconnect-fhir-oauth/api/FHIR/R4"
HIE = "https://hie.example.org/fhir"
LOINC = "http://loinc.org"
PANEL = ("69739-1", "Drugs of abuse panel - Urine by Screen method")
FENTANYL = ("11235-9", "Fentanyl [Presence] in Urine by Screen method")
OXYCODONE_SCREEN = ("58430-0", "oxyCODONE+oxyMORphone [Presence] in Urine by Screen method")
CREATININE = ("2161-8", "Creatinine [Mass/volume] in Urine")
URINALYSIS = ("24356-8", "Urinalysis complete panel - Urine")
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
WHEN = days_ago(20)


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, CHECK_ID, unexpected_uds_result)


def _result(obs_id: str, code: tuple[str, str], value: str | None) -> dict[str, Any]:
    """A lab result as a reference lab's feed files it (final, LOINC-coded, collected `WHEN`)."""
    result: dict[str, Any] = {
        "resourceType": "Observation",
        "id": obs_id,
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
        ],
        "code": {"coding": [{"system": LOINC, "code": code[0], "display": code[1]}], "text": code[1]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": f"{WHEN}T08:55:00-04:00",
        "issued": f"{WHEN}T18:02:11-04:00",
    }
    if value is not None:
        result["valueString"] = value
    return result


def _panel(panel_id: str, members: list[str]) -> dict[str, Any]:
    return {**_result(panel_id, PANEL, None), "hasMember": [{"reference": ref} for ref in members]}


def _entry(base: str, resource: dict[str, Any]) -> dict[str, Any]:
    url = f"{base}/{resource['resourceType']}/{resource['id']}"
    return {"fullUrl": url, "resource": resource, "search": {"mode": "match"}}


def _searchset(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": list(entries)}


def _unread(*resources: dict[str, Any]) -> tuple[str, ...]:
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=5)
    return unread_results(run("order-sign", drafts=[draft], resources=list(resources), fhir_server=EPIC).facts)


MISSING_ONE = f"{PANEL[1]} ({WHEN}, 1 of its 1 results not received)"


# ---- another server's members ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("member", ["Observation/o2", f"{HIE}/Observation/o2"], ids=["relative", "absolute"])
def test_an_hie_panels_member_o2_is_not_received_because_the_ehr_holds_an_o2(member: str) -> None:
    # The HIE's panel names its own o2 (its fentanyl screen), which the HIE did not send; the EHR's o2 is a urine
    # creatinine of its own. Matched by the bare id, the panel read as complete and nothing said a result was missing.
    ehr = _searchset(_entry(EPIC, _result("o2", CREATININE, "112 mg/dL")))
    hie = _searchset(_entry(HIE, _panel("hp1", [member])))
    assert _unread(ehr, hie) == (MISSING_ONE,)


def test_an_ehr_panel_naming_the_hies_o2_is_not_answered_by_the_ehrs_o2() -> None:
    ehr = _searchset(
        _entry(EPIC, _panel("p1", [f"{HIE}/Observation/o2"])), _entry(EPIC, _result("o2", CREATININE, "112 mg/dL"))
    )
    assert _unread(ehr) == (MISSING_ONE,)


def test_an_hie_panels_member_the_hie_sent_is_received_and_judged() -> None:
    ehr = _searchset(_entry(EPIC, _result("o2", CREATININE, "112 mg/dL")))
    hie = _searchset(
        _entry(HIE, _panel("hp1", ["Observation/o2"])), _entry(HIE, _result("o2", OXYCODONE_SCREEN, "Negative"))
    )
    assert _unread(ehr, hie) == ()


@pytest.mark.parametrize("member", ["Observation/m1", f"{EPIC}/Observation/m1", "Observation/m1/_history/2"])
def test_an_ehr_panels_own_member_named_any_way_on_the_ehr_is_received(member: str) -> None:
    ehr = _searchset(_entry(EPIC, _panel("p1", [member])), _entry(EPIC, _result("m1", OXYCODONE_SCREEN, "Negative")))
    assert _unread(ehr) == ()


# ---- contained members -----------------------------------------------------------------------------------------------


def _v2_report(
    report_id: str | None, contained: list[dict[str, Any]], results: list[str], code: tuple[str, str] = PANEL
) -> dict[str, Any]:
    """A lab report converted from an HL7 v2 ORU feed: its results contained in it, named "#<id>"."""
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code[0], "display": code[1]}], "text": code[1]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": f"{WHEN}T08:55:00-04:00",
        "contained": contained,
        "result": [{"reference": ref} for ref in results],
    }
    return report if report_id is None else {"id": report_id, **report}


def _contained(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource as contained: no subject of its own (its container's)."""
    return {k: v for k, v in resource.items() if k != "subject"}


def test_a_contained_panels_members_contained_beside_it_are_received() -> None:
    # The converted report contains the panel heading and its two members; the heading names them "#m1", "#m2"
    # (contained ids are the container's, so siblings in the report). Read as bare ids, the report's own results
    # were "2 of its 2 results not received".
    contained = [
        _contained(_panel("p", ["#m1", "#m2"])),
        _contained(_result("m1", FENTANYL, "Negative")),
        _contained(_result("m2", OXYCODONE_SCREEN, "Positive")),
    ]
    assert _unread(_v2_report("dr1", contained, ["#p"])) == ()


# ---- a report's contained results on two servers -----------------------------------------------------------------


def test_two_servers_reports_with_one_id_each_read_their_own_contained_obs1() -> None:
    # The EHR's converted report dr1 contains its fentanyl screen "#obs1"; the HIE's report dr1 (another practice's
    # drug screen, another day) contains an "#obs1" of its own, a urine creatinine, and no drug test result. Keyed by
    # the bare report id, both results were "dr1#obs1": the EHR's fentanyl screen stood for the HIE's report, which
    # went unnamed though none of its results is a drug test result PainPlan reads.
    from guideline.config import GuidelineConfig
    from guideline.record import build_record
    from guideline.terminology import load_terminology
    from guideline.uds import unread_drug_test_reports
    from tests.builders import TZ

    ehr_report = _v2_report("dr1", [_contained(_result("obs1", FENTANYL, "Negative"))], ["#obs1"])
    hie_report = {
        **_v2_report("dr1", [_contained(_result("obs1", CREATININE, "112 mg/dL"))], ["#obs1"]),
        "effectiveDateTime": f"{days_ago(40)}T10:05:00-04:00",
    }
    bundle = _searchset(_entry(EPIC, ehr_report), _entry(HIE, hie_report))
    record = build_record([bundle], TZ, fhir_server=EPIC)
    unread = unread_drug_test_reports(record, load_terminology(GuidelineConfig.from_mapping()))
    assert [(u.report.id, u.day.isoformat() if u.day else None) for u in unread] == [("dr1", days_ago(40))]
    assert len({o.located for o in record.observations}) == 2


def test_a_panels_members_named_by_their_bundle_fullurls_are_received() -> None:
    # A lab interface's transaction Bundle ties entries by fullUrl ("urn:uuid:…"), as it does a report's results:
    # the panel's members are the entries under those fullUrls (before: "2 of its 2 results not received").
    fentanyl, oxycodone = _result("m1", FENTANYL, "Negative"), _result("m2", OXYCODONE_SCREEN, "Positive")
    urls = ["urn:uuid:2b0c8a4e-5f0e-4c51-9d0b-7c1f1f3e6a01", "urn:uuid:2b0c8a4e-5f0e-4c51-9d0b-7c1f1f3e6a02"]
    panel = _panel("p1", urls)
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:2b0c8a4e-5f0e-4c51-9d0b-7c1f1f3e6a00", "resource": panel},
            {"fullUrl": urls[0], "resource": fentanyl},
            {"fullUrl": urls[1], "resource": oxycodone},
        ],
    }
    assert _unread(bundle) == ()
