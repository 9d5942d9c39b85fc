"""A result contained in a resource is that resource's own: a panel's members sent inside it are read and judged, and
two containers' `#obs1` (reports without ids, panels without ids, two servers' resources) are two results.

A contained id means something only inside its container (FHIR: contained resources have no identity of their own),
so every contained result is keyed by its container (`readers.contained_results`): an EHR report's `dr1#obs1`, an HIE
report's under its HIE URL, a panel's `Observation/p1#m1`, and a container with no id by its Bundle fullUrl or, with
none, by where it sat in the call. Before, a panel's own contained members were never read (named as not received,
so a fentanyl positive inside a panel gave no card), and two reports without ids each containing `#obs1` shared one
key, so one report's fentanyl screen stood for the other report, whose only result was a urine creatinine, and the
other report went unnamed."""

from __future__ import annotations

from typing import Any

import pytest
from builders import PATIENT_ID, TZ, card, days_ago, med_request, run

from guideline.checks import CHECKS, unexpected_uds_result
from guideline.checks.unexpected_uds_result import CHECK_ID, unread_results
from guideline.config import GuidelineConfig
from guideline.record import build_record
from guideline.record.pool import resources_in
from guideline.terminology import load_terminology
from guideline.uds import unread_drug_test_reports

EPIC = "https://fhir.epic.example/interconnect-fhir-oauth/api/FHIR/R4"
HIE = "https://hie.example.org/fhir"
LOINC = "http://loinc.org"
PANEL = ("69739-1", "Drugs of abuse panel - Urine by Screen method")
FENTANYL = ("11235-9", "Fentanyl [Presence] in Urine by Screen method")
OXYCODONE_SCREEN = ("58430-0", "oxyCODONE+oxyMORphone [Presence] in Urine by Screen method")
CREATININE = ("2161-8", "Creatinine [Mass/volume] in Urine")
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
WHEN = days_ago(20)
EARLIER = days_ago(40)


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, CHECK_ID, unexpected_uds_result)


def _code(code: tuple[str, str]) -> dict[str, Any]:
    return {"coding": [{"system": LOINC, "code": code[0], "display": code[1]}], "text": code[1]}


def _panel(panel_id: str | None, members: list[str], contained: list[dict[str, Any]], when: str = WHEN) -> dict:
    """An Epic-style urine drug screen panel heading (LOINC 69739-1) with its members sent inside it, named "#m1"."""
    panel: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
        ],
        "code": _code(PANEL),
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": f"{when}T08:55:00-04:00",
        "issued": f"{when}T18:02:11-04:00",
        "contained": contained,
        "hasMember": [{"reference": ref} for ref in members],
    }
    return panel if panel_id is None else {"id": panel_id, **panel}


def _member(local: str, code: tuple[str, str], value: str, **more: Any) -> dict[str, Any]:
    """A contained result as an interface engine writes one: its local id, code and value; no subject (the
    container's), and no date or status of its own unless given."""
    return {"resourceType": "Observation", "id": local, "code": _code(code), "valueString": value, **more}


def _v2_report(report_id: str | None, contained: list[dict[str, Any]], when: str = WHEN) -> dict[str, Any]:
    """A urine drug screen report converted from an HL7 v2 ORU feed, its results contained in it and named "#id"."""
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": _code(PANEL),
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": f"{when}T08:55:00-04:00",
        "contained": contained,
        "result": [{"reference": f"#{c['id']}"} for c in contained],
    }
    return report if report_id is None else {"id": report_id, **report}


def _entry(base: str, resource: dict[str, Any]) -> dict[str, Any]:
    url = f"{base}/{resource['resourceType']}/{resource['id']}"
    return {"fullUrl": url, "resource": resource, "search": {"mode": "match"}}


def _searchset(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": list(entries)}


def _sign(*resources: dict[str, Any]):
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=5)
    return run("order-sign", drafts=[draft], resources=list(resources), fhir_server=EPIC)


def _unread_reports(resources: list[Any], pooled: bool = False) -> list[tuple[str | None, str | None]]:
    """(report id, day) of each urine drug test report with no drug test result read."""
    if pooled:  # as the hook reads its prefetch: plain resources, fullUrls gone, another server's marked
        record = build_record(resources_in(resources, EPIC), TZ, pooled=True, fhir_server=EPIC)
    else:
        record = build_record(resources, TZ, fhir_server=EPIC)
    unread = unread_drug_test_reports(record, load_terminology(GuidelineConfig.from_mapping()))
    return [(u.report.id, u.day.isoformat() if u.day else None) for u in unread]


# ---- a panel's own contained members are read and judged ---------------------------------------------------------


def test_an_ehr_panels_own_contained_members_are_read_and_judged() -> None:
    # The panel heading carries its per-substance results inside it: fentanyl positive (not prescribed) and
    # oxycodone negative. Before, the members were not read: "2 of its 2 results not received" and no
    # card for the fentanyl.
    panel = _panel(
        "p1",
        ["#m1", "#m2"],
        [_member("m1", FENTANYL, "Positive"), _member("m2", OXYCODONE_SCREEN, "Negative")],
    )
    evaluation = _sign(_searchset(_entry(EPIC, panel)))
    assert unread_results(evaluation.facts) == ()
    found = card(evaluation, CHECK_ID)
    assert found is not None
    assert found.facts["unexpected"] == [{"substance": "fentanyl", "value": "positive", "date": WHEN}]


def test_a_contained_member_with_its_own_status_and_date_keeps_them() -> None:
    # A member withdrawn by the lab (entered-in-error) is no result: the panel's status does not make it one.
    panel = _panel(
        "p1",
        ["#m1", "#m2"],
        [
            _member("m1", FENTANYL, "Positive", status="entered-in-error"),
            _member("m2", OXYCODONE_SCREEN, "Negative", status="final", effectiveDateTime=f"{EARLIER}T08:00:00Z"),
        ],
    )
    evaluation = _sign(panel)
    assert card(evaluation, CHECK_ID) is None
    results = evaluation.facts.uds_results
    days = {r.observation.code.display(): r.day.isoformat() for r in results if not r.observation.has_members}
    assert days == {OXYCODONE_SCREEN[1]: EARLIER}


def test_two_servers_panels_p1_each_read_their_own_contained_m1() -> None:
    # The EHR's panel p1 holds an oxycodone negative as "#m1"; the HIE's panel p1 (another practice's screen) holds a
    # fentanyl positive as "#m1". Each is its own result: the HIE's fentanyl is judged, never the EHR's m1.
    ehr = _searchset(_entry(EPIC, _panel("p1", ["#m1"], [_member("m1", OXYCODONE_SCREEN, "Negative")])))
    hie = _searchset(_entry(HIE, _panel("p1", ["#m1"], [_member("m1", FENTANYL, "Positive")], EARLIER)))
    evaluation = _sign(ehr, hie)
    assert unread_results(evaluation.facts) == ()
    found = card(evaluation, CHECK_ID)
    assert found is not None
    assert found.facts["unexpected"] == [{"substance": "fentanyl", "value": "positive", "date": EARLIER}]
    keys = sorted(o.located or "" for o in evaluation.facts.record.observations)
    assert keys == ["Observation/p1#m1", f"{HIE}/Observation/p1", f"{HIE}/Observation/p1#m1", "p1"]


def test_a_panels_contained_member_is_never_a_result_contained_in_another_resource() -> None:
    # The panel's "#m1" is its own fentanyl positive; a report with no id contains an m1 of its own, a creatinine.
    # Each reads its own: the fentanyl is judged.
    panel = _panel("p1", ["#m1"], [_member("m1", FENTANYL, "Positive")])
    other = _v2_report(None, [_member("m1", CREATININE, "112 mg/dL")])
    found = card(_sign(panel, other), CHECK_ID)
    assert found is not None
    assert found.facts["unexpected"] == [{"substance": "fentanyl", "value": "positive", "date": WHEN}]


def test_a_sub_panel_inside_a_panel_names_its_members_beside_it() -> None:
    # The heading holds a confirmation sub-panel "#conf" whose own member "#m3" (a fentanyl positive by LC-MS/MS) sits
    # beside it in the heading: contained ids are the container's, so "#m3" is the heading's m3.
    confirmation = _member("conf", PANEL, "See members", hasMember=[{"reference": "#m3"}])
    del confirmation["valueString"]
    panel = _panel(
        "p1",
        ["#m1", "#conf"],
        [_member("m1", OXYCODONE_SCREEN, "Negative"), confirmation, _member("m3", FENTANYL, "Positive")],
    )
    evaluation = _sign(panel)
    assert unread_results(evaluation.facts) == ()
    found = card(evaluation, CHECK_ID)
    assert found is not None
    assert found.facts["unexpected"] == [{"substance": "fentanyl", "value": "positive", "date": WHEN}]


def test_an_id_less_panels_missing_member_is_not_another_id_less_panels() -> None:
    # Two panels without ids (a lab interface's feed): the first names "#m1" and "#m2" but carries only m1; the
    # second carries an m2 of its own. Keyed as "Observation/#m2" both, the first panel read as complete.
    first = _panel(None, ["#m1", "#m2"], [_member("m1", OXYCODONE_SCREEN, "Negative")])
    second = _panel(None, ["#m2"], [_member("m2", FENTANYL, "Negative")], EARLIER)
    assert unread_results(_sign(first, second).facts) == (f"{PANEL[1]} ({WHEN}, 1 of its 2 results not received)",)


# ---- reports without ids: each reads its own contained #obs1 -------------------------------------------------------


@pytest.mark.parametrize("pooled", [False, True], ids=["built", "pooled"])
def test_two_reports_without_ids_each_read_their_own_obs1(pooled: bool) -> None:
    # Two converted drug screen reports with no ids, as a v2 feed sends them: the first's "#obs1" is a fentanyl
    # screen, the second's (40 days ago) a urine creatinine alone. Both were "#obs1": the fentanyl screen stood for
    # the second report, which went unnamed though no drug test result of it was read.
    fentanyl = _v2_report(None, [_member("obs1", FENTANYL, "Negative")])
    creatinine = _v2_report(None, [_member("obs1", CREATININE, "112 mg/dL")], EARLIER)
    assert _unread_reports([fentanyl, creatinine], pooled) == [(None, EARLIER)]


def test_two_reports_without_ids_in_a_transaction_are_told_by_their_fullurls() -> None:
    fentanyl = _v2_report(None, [_member("obs1", FENTANYL, "Negative")])
    creatinine = _v2_report(None, [_member("obs1", CREATININE, "112 mg/dL")], EARLIER)
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:6f1c2d3e-0a4b-4c5d-8e9f-0a1b2c3d4e01", "resource": creatinine},
            {"fullUrl": "urn:uuid:6f1c2d3e-0a4b-4c5d-8e9f-0a1b2c3d4e02", "resource": fentanyl},
        ],
    }
    assert _unread_reports([bundle]) == [(None, EARLIER)]


# ---- through the CDS service -------------------------------------------------------------------------------------


def test_the_order_sign_service_judges_a_prefetched_panels_own_members(tmp_path) -> None:
    # The prefetch's urine drug test search returns the heading with its members inside it: the service reads them
    # (pooled, as the hook gathers its data), gives the unexpected-result card and names nothing as not received.
    from cds_support import full_prefetch, hook_request, make_app

    panel = _panel(
        "p1",
        ["#m1", "#m2"],
        [_member("m1", FENTANYL, "Positive"), _member("m2", OXYCODONE_SCREEN, "Negative")],
    )
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=5)
    body = hook_request(drafts=[draft], prefetch=full_prefetch("order-sign", udsLabs=_searchset(_entry(EPIC, panel))))
    answer = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body).get_json()
    by_topic = {c["source"]["topic"]["code"]: c for c in answer["cards"]}
    assert "fentanyl" in by_topic[CHECK_ID]["summary"]
    assert "results not received" not in by_topic.get("data-incomplete", {}).get("detail", "")


def test_each_contained_panel_names_the_members_written_in_its_own_element() -> None:
    """A contained sub-panel's members are read from that very element, not found again by its local id: a panel
    with no id beside another id-less result (not conformant, but sent) names its own members."""
    from guideline.record.readers import read_diagnostic_report

    def result(code: str, **more: Any) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": code}]},
            **more,
        }

    report = {
        "resourceType": "DiagnosticReport",
        "id": "dr9",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": PANEL[0]}]},
        "effectiveDateTime": WHEN,
        "contained": [
            result(CREATININE[0]),
            result(PANEL[0], hasMember=[{"reference": "#m1"}]),
            result(FENTANYL[0], id="m1"),
        ],
        "result": [{"reference": "#m1"}],
    }
    _, contained = read_diagnostic_report(report, TZ)
    assert [o.member_ids for o in contained] == [(), ("dr9#m1",), ()]
