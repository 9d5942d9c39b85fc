"""A urine drug test report's results that the searches did not return are read from the FHIR server: a reference
lab's results under its own codes (or with no laboratory category) are missed by the Observation searches, and the
report was named "with no result received" though its results, a fentanyl positive among them, were on the server."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from builders import PATIENT_ID, days_ago, med_request, patient
from test_plan_view import FHIR, TOKEN, FakeFhir, _app, _open_plan

from guideline.checks.unexpected_uds_result import CHECK_ID as UNEXPECTED_CHECK

ON = {"prefetch": {"diagnostic_reports": True}}
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
LAB_CODES = "urn:oid:1.2.840.114350.1.13.861.1.7.2.768282"  # an Epic site's own result component codes
ORDER_CODES = "urn:oid:1.2.840.114350.1.13.861.1.7.2.696580"  # and its own lab orderables
OTHER_LAB = "https://fhir.reflab.example.com/r4"


class ChartServer(FakeFhir):
    """The EHR's FHIR server: Observation searches by code or category answer only what matches them, as a real
    server does (the base class answers every Observation to a search by code); every read is recorded."""

    slow: frozenset[str] = frozenset()  # Observation ids whose read times out

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        url = urlsplit(request.url)
        if url.path.rsplit("/", 1)[-1] in self.slow and "/Observation/" in url.path:
            self.requests.append((request.url, dict(request.headers)))
            raise requests.exceptions.ReadTimeout("read timed out")
        codes = parse_qs(url.query).get("code")
        if "/Observation?" not in request.url or not codes:
            return super()._answer(request)
        self.requests.append((request.url, dict(request.headers)))
        wanted = {item.rsplit("|", 1)[-1] for item in codes[0].split(",")}
        matching = [
            r
            for r in self.resources
            if r["resourceType"] == "Observation" and {c.get("code") for c in r["code"].get("coding", [])} & wanted
        ]
        return 200, {}, json.dumps({"resourceType": "Bundle", "type": "searchset", "entry": _entries(matching)})

    def reads(self, kind: str = "Observation") -> list[str]:
        """The ids read one by one (`Observation/<id>`), in the order asked."""
        paths = [urlsplit(u).path for u, _ in self.requests]
        return [p.rsplit("/", 1)[1] for p in paths if re.search(rf"/{kind}/[^/]+$", p)]


def _entries(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"resource": r} for r in resources]


def long_term() -> dict[str, Any]:
    """Oxycodone every month for 200 days: long-term opioid therapy (an active opioid order for patient-view)."""
    return med_request(OXYCODONE, authored=days_ago(200), supply_days=30, refills=11, id="mr-oxy")


def lab_result(obs_id: str, name: str, code: str, value: str, ago: int, stu3: bool = False) -> dict[str, Any]:
    """A reference lab's result as the EHR files it: under the site's own component code, no LOINC, and no
    category (so neither the coded search nor category=laboratory finds it)."""
    when = days_ago(ago)
    result: dict[str, Any] = {
        "resourceType": "Observation",
        "id": obs_id,
        "status": "final",
        "code": {"coding": [{"system": LAB_CODES, "code": code, "display": name}], "text": name},
        "subject": {"reference": f"Patient/{PATIENT_ID}", "display": "Jordan Rivera"},
        "effectiveDateTime": f"{when}T08:55:00-04:00",
        "issued": f"{when}T18:02:11-04:00",
        "valueString": value,
        "interpretation": [
            {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/v2/0078"
                        if stu3
                        else "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                        "code": "A" if value == "POSITIVE" else "N",
                    }
                ]
            }
        ],
        "referenceRange": [{"text": "NEGATIVE"}],
    }
    if stu3:
        result["context"] = {"reference": "Encounter/e-22"}
    return result


FENTANYL = ("eKq3.fentanyl-1", "FENTANYL SCREEN, URINE", "1230004511")
OXYCODONE_RESULT = ("eKq3.oxycodone-1", "OXYCODONE SCREEN, URINE", "1230004517")
CREATININE = ("eKq3.creatinine-1", "CREATININE, URINE", "1230000218")


def results(fentanyl: str = "POSITIVE", ago: int = 30, stu3: bool = False, suffix: str = "") -> list[dict]:
    """The report's three results: fentanyl as given, oxycodone positive (prescribed), urine creatinine."""
    return [
        lab_result(FENTANYL[0] + suffix, FENTANYL[1], FENTANYL[2], fentanyl, ago, stu3),
        lab_result(OXYCODONE_RESULT[0] + suffix, OXYCODONE_RESULT[1], OXYCODONE_RESULT[2], "POSITIVE", ago, stu3),
        lab_result(CREATININE[0] + suffix, CREATININE[1], CREATININE[2], "112 mg/dL", ago, stu3),
    ]


def reflab_report(
    refs: list[str], ago: int = 30, stu3: bool = False, report_id: str = "eKq3.dr-1", code: str | None = None
) -> dict[str, Any]:
    """A reference lab's pain management screen filed by the EHR as a report naming its results by reference."""
    when = days_ago(ago)
    category = {"coding": [{"system": "http://hl7.org/fhir/v2/0074" if stu3 else V2_0074, "code": "LAB"}]}
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": report_id,
        "status": "final",
        "category": category if stu3 else [category],
        "code": {
            "coding": [{"system": ORDER_CODES, "code": code or "LAB7713", "display": "PAIN MGMT DRUG SCREEN, URINE"}],
            "text": "PAIN MGMT DRUG SCREEN, URINE",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": f"{when}T08:55:00-04:00",
        "issued": f"{when}T18:02:11-04:00",
        "performer": [{"display": "Reference Lab West"}],
        "result": [{"reference": ref, "display": "result"} for ref in refs],
    }
    if stu3:
        report["context"] = {"reference": "Encounter/e-22"}
    return report


def chart(stu3: bool = False, **report: Any) -> list[dict[str, Any]]:
    found = results(stu3=stu3)
    return [
        patient(patient_id=PATIENT_ID),
        long_term(),
        reflab_report([f"Observation/{r['id']}" for r in found], stu3=stu3, **report),
        *found,
    ]


def _patient_view(tmp_path: Any, server: ChartServer, guideline: dict | None = None, **body: Any) -> dict:
    from cds_support import hook_request, make_app

    request = hook_request("patient-view", prefetch={}, fhir=True) | {"fhirServer": FHIR, **body}
    app = make_app(tmp_path, guideline=ON if guideline is None else guideline)
    answer = app.test_client().post("/cds-services/patient-view", json=request)
    assert answer.status_code == 200
    return answer.get_json()


def _card(answer: dict, topic: str) -> dict | None:
    return next((c for c in answer["cards"] if c["source"]["topic"]["code"] == topic), None)


def _incomplete(answer: dict) -> str:
    card = _card(answer, "data-incomplete")
    return card["detail"] if card else ""


# -- read, fed to the record and judged: the card and the page -------------------------------------------------


@pytest.mark.parametrize("stu3", [False, True], ids=["R4", "STU3"])
def test_results_under_the_labs_own_codes_are_read_and_an_unexpected_fentanyl_is_on_card_and_page(
    tmp_path: Any, stu3: bool
) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = ChartServer(rsps, chart(stu3=stu3))
        answer = _patient_view(tmp_path / "hook", server)
        hook_reads = server.reads()
        server.requests.clear()
        html = _open_plan(_app(tmp_path, guideline=ON)).get_data(as_text=True)
        page_reads = server.reads()
    expected = sorted([FENTANYL[0], OXYCODONE_RESULT[0], CREATININE[0]])
    assert sorted(hook_reads) == expected and sorted(page_reads) == expected
    card = _card(answer, UNEXPECTED_CHECK)
    assert card is not None and "fentanyl" in (card["summary"] + card["detail"]).lower()
    assert "report with no result received" not in _incomplete(answer)
    assert "<strong>Unexpected:</strong>" in html and "fentanyl" in html.lower()
    assert "report with no result received" not in html


def test_each_read_carries_the_token_to_the_ehrs_own_server_only(tmp_path: Any) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = ChartServer(rsps, chart())
        _patient_view(tmp_path, server)
    reads = [(u, h) for u, h in server.requests if "/Observation/" in u]
    assert len(reads) == 3
    assert all(u.startswith(f"{FHIR}/Observation/") and h["Authorization"] == "Bearer tok-123" for u, h in reads)


@pytest.mark.parametrize(
    "written",
    [
        lambda result_id: f"{FHIR}/Observation/{result_id}",  # absolute, on the EHR's own server
        # versioned: it was named "not an Observation id" and never read, and when the result was sent beside the
        # report, the report was still named "no result received" beside a card judging it
        lambda result_id: f"Observation/{result_id}/_history/3",
    ],
    ids=["absolute", "versioned"],
)
def test_a_reference_to_the_ehrs_own_server_is_read(tmp_path: Any, written) -> None:
    found = results()
    resources = [
        patient(patient_id=PATIENT_ID),
        long_term(),
        reflab_report([written(r["id"]) for r in found]),
        *found,
    ]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = ChartServer(rsps, resources)
        answer = _patient_view(tmp_path, server)
    assert len(server.reads()) == 3
    assert _card(answer, UNEXPECTED_CHECK) is not None
    assert "no result received" not in _incomplete(answer)


# -- a read that fails names that report's results as not received, with why --------------------------------------


def test_a_result_the_server_does_not_find_is_named_with_why_on_card_and_page(tmp_path: Any) -> None:
    resources = [r for r in chart() if r.get("id") != FENTANYL[0]]  # the fentanyl result: 404
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = ChartServer(rsps, resources)
        answer = _patient_view(tmp_path / "hook", server)
        html = _open_plan(_app(tmp_path, guideline=ON)).get_data(as_text=True)
    detail = _incomplete(answer)
    # Two of the three results were read: the report is no longer "unread", but the third is named, never dropped.
    assert "1 of its 3 results not received" in detail
    assert "the FHIR server answered HTTP 404" in detail
    assert "1 of its 3 results not received" in html and "the FHIR server answered HTTP 404" in html


def test_a_result_read_that_times_out_names_the_report_as_without_results(tmp_path: Any) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = ChartServer(rsps, chart())
        server.slow = frozenset({FENTANYL[0], OXYCODONE_RESULT[0], CREATININE[0]})
        answer = _patient_view(tmp_path, server)
    detail = _incomplete(answer)
    assert "report with no result received" in detail and "timed out" in detail
    assert _card(answer, UNEXPECTED_CHECK) is None or "fentanyl" not in _card(answer, UNEXPECTED_CHECK)["summary"]


def test_a_read_past_the_calls_memory_budget_is_named() -> None:
    from cds_hooks.gather import gather
    from cds_hooks.request import HookRequest
    from cds_hooks.services import templates
    from guideline.config import GuidelineConfig
    from guideline.terminology import load_terminology

    config = GuidelineConfig.from_mapping(ON)
    found = results()
    report = reflab_report([f"Observation/{r['id']}" for r in found])
    prefetch = {
        key: {"resourceType": "Bundle", "type": "searchset", "entry": []} for key in templates("patient-view", config)
    }
    prefetch["patient"] = patient(patient_id=PATIENT_ID)
    prefetch["labReports"] = {"resourceType": "Bundle", "entry": [{"resource": report}]}
    request = HookRequest(
        hook="patient-view",
        hook_instance="h-1",
        context={"patientId": PATIENT_ID},
        prefetch=prefetch,
        patient_id=PATIENT_ID,
        fhir_server=FHIR,
        access_token="tok-123",
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for r in found:
            rsps.get(f"{FHIR}/Observation/{r['id']}", json=r)
        data = gather(
            request,
            templates("patient-view", config),
            today=date(2026, 6, 15),
            budget_seconds=5,
            budget_bytes=100,
            terms=load_terminology(config),
        )
    assert dict(data.results_not_received).keys() == {r["id"] for r in found}
    assert all("memory budget" in why for _, why in data.results_not_received)


# -- the cap: newest reports first, whole reports, the rest named ------------------------------------------------


def test_reads_past_the_cap_are_named_and_the_newest_report_is_read(tmp_path: Any, monkeypatch) -> None:
    import guideline.report_results as report_results

    monkeypatch.setattr(report_results, "RESULT_READ_CAP", 4)
    old = results(fentanyl="NEGATIVE", ago=200, suffix="-old")
    new = results(ago=30)
    resources = [
        patient(patient_id=PATIENT_ID),
        long_term(),
        reflab_report([f"Observation/{r['id']}" for r in old], ago=200, report_id="eKq3.dr-old"),
        reflab_report([f"Observation/{r['id']}" for r in new], ago=30),
        *old,
        *new,
    ]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = ChartServer(rsps, resources)
        answer = _patient_view(tmp_path / "hook", server)
        hook_reads = server.reads()
        html = _open_plan(_app(tmp_path, guideline=ON)).get_data(as_text=True)
    assert sorted(hook_reads) == sorted(r["id"] for r in new)  # the newest report whole; the older one left
    assert _card(answer, UNEXPECTED_CHECK) is not None
    detail = _incomplete(answer)
    assert "more than 4 report results to read" in detail
    assert "more than 4 report results to read" in html


# -- what is not read ---------------------------------------------------------------------------------------------


def _prefetch_only(token: str | None = "tok-123") -> dict[str, Any]:
    """A patient-view whose prefetch holds the report and not its results, and names no FHIR server."""
    from cds_support import hook_request

    found = results()
    prefetch = {
        "patient": patient(),
        "medsActive": {"resourceType": "Bundle", "entry": [{"resource": long_term()}]},
        "labReports": {
            "resourceType": "Bundle",
            "entry": [{"resource": reflab_report([f"Observation/{r['id']}" for r in found])}],
        },
    }
    return hook_request("patient-view", prefetch=prefetch, token=token)


NO_SERVER = "not sent in the prefetch, and the request names no FHIR server to read them from"


def test_a_prefetch_only_call_reads_nothing_and_names_each_result_not_received(tmp_path: Any) -> None:
    # Offline from the EHR (no fhirServer): the report was named "with no result received", but its three results
    # were not on the missing-data list, and nothing said why none was read.
    from cds_support import make_app

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        answer = (
            make_app(tmp_path, guideline=ON).test_client().post("/cds-services/patient-view", json=_prefetch_only())
        )
        assert not rsps.calls
    detail = _incomplete(answer.get_json())
    assert f"- results of urine drug test reports: 3 not read; {NO_SERVER}" in detail
    assert f"report with no result received: {NO_SERVER})" in detail


def test_the_offline_check_names_each_result_it_does_not_read() -> None:
    from cds_hooks.gather import REPORT_RESULTS, gather
    from cds_hooks.request import parse_hook_request
    from cds_hooks.services import templates
    from guideline.config import GuidelineConfig
    from guideline.terminology import load_terminology

    config = GuidelineConfig.from_mapping(ON)
    body = _prefetch_only() | {"fhirServer": FHIR}  # a server named, but the offline check reads nothing
    request = parse_hook_request(body, "patient-view", allow_http=True)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        data = gather(
            request,
            templates("patient-view", config),
            today=date(2026, 6, 15),
            budget_seconds=5,
            network=False,
            terms=load_terminology(config),
        )
        assert not rsps.calls
    why = "not sent in the request (the offline check reads nothing from the network)"
    assert dict(data.results_not_received) == {r["id"]: why for r in results()}
    assert data.gaps[REPORT_RESULTS] == f"3 not read; {why}"


@pytest.mark.parametrize("token", ["tok-123", None], ids=["authorized", "open-server"])
def test_results_are_read_with_or_without_authorization(tmp_path: Any, token: str | None) -> None:
    # CDS Hooks allows an open FHIR server (fhirServer with no fhirAuthorization): the searches were read from it
    # without a token, but the report's results were not, and the fentanyl positive among them went unjudged.
    from cds_support import hook_request, make_app

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = ChartServer(rsps, chart())
        body = hook_request("patient-view", prefetch={}, fhir=True, token=token) | {"fhirServer": FHIR}
        answer = make_app(tmp_path, guideline=ON).test_client().post("/cds-services/patient-view", json=body)
    assert answer.status_code == 200
    reads = [(u, h) for u, h in server.requests if "/Observation/" in u]
    assert len(reads) == 3
    assert all(("Authorization" in h) is bool(token) for _, h in reads)
    card = _card(answer.get_json(), UNEXPECTED_CHECK)
    assert card is not None and "fentanyl" in (card["summary"] + card["detail"]).lower()
    assert "report with no result received" not in _incomplete(answer.get_json())


def test_no_result_is_read_for_a_report_that_is_no_urine_drug_test(tmp_path: Any) -> None:
    # A CBC beside the screen: the screen's results are read, the CBC's never (on the card and the page).
    cbc = reflab_report(["Observation/eKq3.wbc-1", "Observation/eKq3.hgb-1"], ago=20, report_id="eKq3.cbc")
    cbc["code"] = {
        "coding": [{"system": "http://loinc.org", "code": "58410-2", "display": "CBC panel - Blood by Automated count"}]
    }
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = ChartServer(rsps, [*chart(), cbc])
        _patient_view(tmp_path / "hook", server)
        _open_plan(_app(tmp_path, guideline=ON))
    reads = server.reads()
    assert len(reads) == 6 and not [r for r in reads if r.startswith(("eKq3.wbc", "eKq3.hgb"))]


@pytest.mark.parametrize("setting", [True, False], ids=["on", "off"])
def test_results_are_read_only_where_the_site_searches_lab_reports(tmp_path: Any, setting: bool) -> None:
    # The report arrives in a site's own prefetch key either way; with prefetch.diagnostic_reports off, nothing more
    # is read (the hot path does no more work than before).
    found = results()
    report = reflab_report([f"Observation/{r['id']}" for r in found])
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = ChartServer(rsps, [patient(patient_id=PATIENT_ID), long_term(), *found])
        _patient_view(
            tmp_path,
            server,
            guideline={"prefetch": {"diagnostic_reports": setting}},
            prefetch={"siteReports": {"resourceType": "Bundle", "entry": [{"resource": report}]}},
        )
    assert len(server.reads()) == (3 if setting else 0)


def test_a_result_on_another_server_is_not_followed_and_is_named(tmp_path: Any) -> None:
    found = results()
    refs = [f"Observation/{r['id']}" for r in found[:2]] + [f"{OTHER_LAB}/Observation/{found[2]['id']}"]
    resources = [patient(patient_id=PATIENT_ID), long_term(), reflab_report(refs), *found]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = ChartServer(rsps, resources)
        answer = _patient_view(tmp_path / "hook", server)
        html = _open_plan(_app(tmp_path, guideline=ON)).get_data(as_text=True)
        assert not [c for c in rsps.calls if c.request.url.startswith(OTHER_LAB)]
    assert sorted(server.reads()) == sorted([found[0]["id"], found[1]["id"]] * 2)
    assert "on another FHIR server" in _incomplete(answer) and "on another FHIR server" in html
    assert TOKEN  # the page's token went to the EHR's server only (no other host is registered with the mock)


# -- which results are sought (pure) ------------------------------------------------------------------------------


def test_only_results_no_payload_holds_are_sought_and_each_once() -> None:
    from guideline.config import GuidelineConfig
    from guideline.report_results import NOT_AN_ID, plan_result_reads
    from guideline.terminology import load_terminology

    terms = load_terminology(GuidelineConfig.from_mapping(ON))
    found = results()
    screen = reflab_report(
        [
            "#contained-1",  # the report's own
            f"Observation/{found[0]['id']}",  # sent beside it: held
            "urn:uuid:6f1c2b1e-0b7a-4f65-9a55-0b1d0e6f2c11",  # held by the entry's fullUrl
            f"Observation/{found[1]['id']}",
            f"Observation/{found[1]['id']}",  # named twice: read once
            "urn:uuid:0d7f7f52-1d5b-4a7e-8c11-6b9b3a1f0e02",  # a urn no entry answers: no id to read
        ]
    )
    payload = {
        "resourceType": "Bundle",
        "entry": [
            {"resource": screen},
            {"resource": found[0]},
            {"fullUrl": "urn:uuid:6f1c2b1e-0b7a-4f65-9a55-0b1d0e6f2c11", "resource": found[2]},
        ],
    }
    plan = plan_result_reads([payload], terms, FHIR)
    assert plan.reads == (f"Observation/{found[1]['id']}",)
    assert plan.not_read == (("urn:uuid:0d7f7f52-1d5b-4a7e-8c11-6b9b3a1f0e02", NOT_AN_ID),)
    cancelled = reflab_report([f"Observation/{found[1]['id']}"]) | {"status": "cancelled"}
    assert plan_result_reads([cancelled], terms, FHIR).reads == ()  # no result to read


def test_a_versioned_result_reference_is_read_as_the_result() -> None:
    """`Observation/<id>/_history/<v>` (versioned references) was named 'not an Observation id' and never read."""
    from guideline.config import GuidelineConfig
    from guideline.report_results import plan_result_reads
    from guideline.terminology import load_terminology

    terms = load_terminology(GuidelineConfig.from_mapping(ON))
    found = results()
    screen = reflab_report(
        [f"Observation/{found[0]['id']}/_history/2", f"{FHIR}/Observation/{found[1]['id']}/_history/1"]
    )
    plan = plan_result_reads([screen], terms, FHIR)
    assert plan.reads == (f"Observation/{found[0]['id']}", f"Observation/{found[1]['id']}") and plan.not_read == ()
    # and a result sent beside the report answers its versioned reference: nothing to read
    assert plan_result_reads([screen, found[0], found[1]], terms, FHIR).reads == ()


def test_only_plain_observation_reads_on_the_ehrs_server_are_planned() -> None:
    """The reads planned are the only paths the card and the page send the token to (neither filters them again): a
    reference that is no plain `Observation/<id>` on the EHR's server is named, never read."""
    from guideline.config import GuidelineConfig
    from guideline.report_results import NOT_AN_ID, OBSERVATION_READ, OTHER_SERVER, plan_result_reads
    from guideline.terminology import load_terminology

    terms = load_terminology(GuidelineConfig.from_mapping(ON))
    hostile = {
        "Observation/..": NOT_AN_ID,
        "Observation/../Patient/eKq3": NOT_AN_ID,
        "Observation/eKq3.fentanyl-1?_format=xml": NOT_AN_ID,
        "Observation/eKq3%2F..%2Fmetadata": NOT_AN_ID,
        "../../metadata": NOT_AN_ID,
        "Patient/eKq3": NOT_AN_ID,
        f"{OTHER_LAB}/Observation/rl-778": OTHER_SERVER,
        "https://attacker.example.com/r4/Observation/x": OTHER_SERVER,
    }
    plan = plan_result_reads([reflab_report([*hostile, "Observation/eKq3.fentanyl-1"])], terms, FHIR)
    assert plan.reads == ("Observation/eKq3.fentanyl-1",)
    assert all(OBSERVATION_READ.fullmatch(path) for path in plan.reads)
    assert [why for _, why in plan.not_read] == list(hostile.values())
