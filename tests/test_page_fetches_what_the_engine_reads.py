"""The plan page fetches what the engine reads, so the page and the card never disagree on one patient: a fill dated
only by when it was prepared, a result dated only by when it was issued, the Medication of a current order among
many, and PEGs recorded as their three items. Before, a FHIR server answering the page's dated searches as FHIR
defines them left each of these out: 0 MME/day on the page against 90 on the card, "none on record" of a
cocaine-positive screen the card discussed."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses
from builders import LOINC, RXNORM, days_ago, med_request, observation, patient
from cds_support import hook_request, topics
from test_plan import rich_patient
from test_plan_view import FHIR, FakeFhir, _app, _open_plan

TODAY = date(2026, 6, 15)
OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
AMOXICILLIN = "308191"


def _on_or_after(value: str | None, bound: str) -> bool:
    return bool(value) and value[:10] >= bound


class SearchingFhir(FakeFhir):
    """The EHR's server answering searches as FHIR R4 defines each parameter: MedicationDispense `whenhandedover`
    on whenHandedOver and `whenprepared` on whenPrepared; Observation `date` on effective[x] (never `issued`) and
    `code` on its codings; `_lastUpdated` on meta.lastUpdated; `_id` on the id. An undated resource matches no date
    bound. Parameters it does not know it ignores, as a lenient server does."""

    DATED: dict[tuple[str, str], Any] = {
        ("MedicationDispense", "whenhandedover"): lambda r: r.get("whenHandedOver"),
        ("MedicationDispense", "whenprepared"): lambda r: r.get("whenPrepared"),
        ("Observation", "date"): lambda r: r.get("effectiveDateTime") or (r.get("effectivePeriod") or {}).get("start"),
        ("MedicationRequest", "authoredon"): lambda r: r.get("authoredOn"),
    }

    def __init__(self, rsps: responses.RequestsMock, resources: list[dict[str, Any]]) -> None:
        super().__init__(rsps, resources)
        # Searches refused with an OperationOutcome, as a strict server or a missing scope does: by parameter name
        # ("whenprepared") or by parameter and value ("category=survey").
        self.refuse: set[str] = set()

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        url = urlsplit(request.url)
        kind = url.path.rsplit("/", 1)[-1]
        params = parse_qs(url.query)
        asked = set(params) | {f"{name}={value}" for name, values in params.items() for value in values}
        if self.refuse & asked:
            self.requests.append((request.url, dict(request.headers)))
            return 400, {}, json.dumps({"resourceType": "OperationOutcome", "issue": [{"severity": "error"}]})
        status, headers, body = super()._answer(request)
        if status != 200 or "?" not in request.url:
            return status, headers, body
        bundle = json.loads(body)
        bundle["entry"] = [e for e in bundle["entry"] if self._matches(kind, e["resource"], params)]
        return status, headers, json.dumps(bundle)

    def _matches(self, kind: str, resource: dict[str, Any], params: dict[str, list[str]]) -> bool:
        for name, values in params.items():
            value = values[0]
            dated = self.DATED.get((kind, name))
            if dated is not None and value.startswith("ge") and not _on_or_after(dated(resource), value[2:]):
                return False
            if name == "_lastUpdated" and not _on_or_after((resource.get("meta") or {}).get("lastUpdated"), value[2:]):
                return False
            if name == "_id" and resource.get("id") not in value.split(","):
                return False
            if name == "code" and kind == "Observation":
                wanted = {c.rsplit("|", 1)[-1] for c in value.split(",")}
                if not wanted & {c.get("code") for c in resource["code"].get("coding", [])}:
                    return False
        return True


def _card(resources: list[dict[str, Any]], tmp_path: Any) -> list[str]:
    """The patient-view card's topics, the hook reading the same server (its prefetch searches are undated)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        SearchingFhir(rsps, resources)
        (tmp_path / "hook").mkdir(exist_ok=True)
        app = _app(tmp_path / "hook", auth="off")
        body = hook_request("patient-view", prefetch={}, fhir=True) | {"fhirServer": FHIR}
        return topics(app.test_client().post("/cds-services/patient-view", json=body).get_json())


def _page(resources: list[dict[str, Any]], tmp_path: Any, refuse: set[str] = frozenset()) -> tuple[str, SearchingFhir]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = SearchingFhir(rsps, resources)
        server.refuse |= set(refuse)
        (tmp_path / "page").mkdir(exist_ok=True)
        html = _open_plan(_app(tmp_path / "page")).get_data(as_text=True)
    return html, server


def _total(html: str) -> str:
    found = re.search(r'<strong id="total-mme">([^<]*)</strong>', html)
    return found.group(1) if found else ""


def _prepared_only_fill() -> dict[str, Any]:
    """An outside pharmacy's oxycodone fill as a claims feed sends it: prepared, never marked handed over, no order."""
    return {
        "resourceType": "MedicationDispense",
        "id": "eRxFill-77120",
        "status": "completed",
        "subject": {"reference": "Patient/p1", "display": "Rivera, Alex"},
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": OXYCODONE_5, "display": "oxycodone hydrochloride 5 MG Oral Tablet"}],
            "text": "oxyCODONE 5 mg tablet",
        },
        "quantity": {"value": 360, "unit": "tablet", "system": "http://unitsofmeasure.org", "code": "{tbl}"},
        "daysSupply": {"value": 30, "unit": "d", "system": "http://unitsofmeasure.org", "code": "d"},
        "whenPrepared": f"{days_ago(5)}T14:05:00-05:00",
        "meta": {"lastUpdated": f"{days_ago(5)}T14:06:12Z"},
    }


def test_a_fill_dated_only_by_when_it_was_prepared_is_counted_on_the_page_as_on_the_card(tmp_path: Any) -> None:
    resources = [patient(patient_id="p1"), _prepared_only_fill()]
    assert "high-mme" in _card(resources, tmp_path)  # 360 tablets over 30 days: 12 a day, 90 MME/day
    html, server = _page(resources, tmp_path)
    assert _total(html).startswith("90.0 MME/day"), _total(html)
    asked = [url for url, _ in server.requests if "/MedicationDispense?" in url]
    assert any("whenhandedover=ge2024-06-15" in url for url in asked)
    assert any("whenprepared=ge2024-06-15" in url for url in asked)
    assert "Pharmacy dispenses (2 years): 1 item" in html


def test_a_fill_both_searches_return_is_counted_once(tmp_path: Any) -> None:
    fill = _prepared_only_fill()
    fill["whenHandedOver"] = f"{days_ago(5)}T16:30:00-05:00"
    html, _ = _page([patient(patient_id="p1"), fill], tmp_path)
    assert _total(html).startswith("90.0 MME/day"), _total(html)
    assert "Pharmacy dispenses (2 years): 1 item" in html


def test_a_server_refusing_the_prepared_date_search_is_asked_again_without_the_date(tmp_path: Any) -> None:
    # A strict server refuses `whenprepared` (HTTP 400): asked once more without the date bound, the fill is read
    # (tests/test_second_search_refused.py has the rest: a second refusal is named, 401/403/5xx are not asked again).
    html, server = _page([patient(patient_id="p1"), _prepared_only_fill()], tmp_path, refuse={"whenprepared"})
    assert _total(html).startswith("90.0 MME/day"), _total(html)
    assert "Pharmacy dispenses (2 years): 1 item" in html
    asked = [url for url, _ in server.requests if "/MedicationDispense?" in url]
    assert asked[-1].endswith("MedicationDispense?patient=p1&_count=100"), asked


def _issued_only_screen() -> dict[str, Any]:
    """A cocaine screen as a reference lab's interface files it: resulted (issued), no effective[x], lab category."""
    return {
        "resourceType": "Observation",
        "id": "eLab.2291.14314",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                        "display": "Laboratory",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {"system": LOINC, "code": "14314-9", "display": "Benzoylecgonine [Presence] in Urine by Screen"}
            ],
            "text": "Cocaine metabolite, urine screen",
        },
        "subject": {"reference": "Patient/p1", "display": "Rivera, Alex"},
        "issued": f"{days_ago(40)}T17:42:00Z",
        "valueString": "Positive",
        "interpretation": [{"coding": [{"code": "A", "display": "Abnormal"}], "text": "Abnormal"}],
        "meta": {"lastUpdated": f"{days_ago(40)}T17:42:05Z"},
    }


def _without_lab_results(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in resources if not (r["resourceType"] == "Observation" and "laboratory" in json.dumps(r))]


def test_a_result_dated_only_by_when_it_was_issued_is_read_on_the_page_as_on_the_card(tmp_path: Any) -> None:
    resources = [*_without_lab_results(rich_patient()), _issued_only_screen()]
    for r in resources:
        r.setdefault("subject", {"reference": "Patient/p1"})
    assert "unexpected-uds-result" in _card(resources, tmp_path)
    html, server = _page(resources, tmp_path)
    assert "cocaine" in html.lower()
    assert "Urine drug test — none on record" not in re.sub(r"<[^>]+>|\s+", " ", html)
    asked = [url for url, _ in server.requests if "category=laboratory" in url]
    assert any("date=ge2025-05-15" in url for url in asked)
    assert any("_lastUpdated=ge2025-05-15" in url for url in asked)


def test_a_result_both_lab_searches_return_is_read_once(tmp_path: Any) -> None:
    screen = observation("14314-9", when=f"{days_ago(40)}T09:10:00Z", value_string="Positive")
    screen["meta"] = {"lastUpdated": f"{days_ago(40)}T17:42:05Z"}
    html, _ = _page([*_without_lab_results(rich_patient()), screen], tmp_path)
    assert "Laboratory results (13 months): 1 item" in html


def _epic_order(i: int, rxcui: str, display: str, ago: int, status: str, **kwargs: Any) -> list[dict[str, Any]]:
    """An Epic order naming its medicine by reference, and the Medication it names."""
    order = med_request(rxcui, id=f"eOrd{i}", authored=days_ago(ago), status=status, **kwargs)
    order.pop("medicationCodeableConcept")
    order["medicationReference"] = {"reference": f"Medication/eMed{i:03d}", "display": display}
    medication = {
        "resourceType": "Medication",
        "id": f"eMed{i:03d}",
        "code": {"coding": [{"system": RXNORM, "code": rxcui, "display": display}], "text": display},
    }
    return [order, medication]


def _many_medications(older: int, first: int = 30, every: int = 15) -> list[dict[str, Any]]:
    """`older` completed antibiotic orders, from `first` days ago back every `every` days, each its own Medication,
    and the current oxycodone order whose Medication id sorts after them all."""
    resources = [patient(patient_id="p1")]
    for i in range(older):
        resources += _epic_order(i, AMOXICILLIN, "amoxicillin 500 MG Oral Capsule", first + i * every, "completed")
    oxycodone = _epic_order(999, OXYCODONE_5, "oxycodone hydrochloride 5 MG Oral Tablet", 5, "active")
    oxycodone[0].update(med_request(OXYCODONE_5, authored=days_ago(5), dose=2, period=4, supply_days=30))
    oxycodone[0].pop("medicationCodeableConcept")
    oxycodone[0]["id"] = "eOrd999"
    return resources + oxycodone


def test_the_current_orders_medication_is_read_however_many_others_there_are(tmp_path: Any) -> None:
    resources = _many_medications(41)
    html, server = _page(resources, tmp_path)
    assert _total(html).startswith("90.0 MME/day"), _total(html)
    assert any(url.endswith("/Medication/eMed999") for url, _ in server.requests)


def test_medications_not_read_for_the_cap_are_named_and_the_current_one_still_counts(tmp_path: Any) -> None:
    from smart_app.plan_view import MEDICATION_READ_CAP

    # Orders 13 to 23 months old, more than the cap: the oldest are left unread, and named.
    resources = _many_medications(MEDICATION_READ_CAP + 10, first=400, every=6)
    html, server = _page(resources, tmp_path)
    assert _total(html).startswith("90.0 MME/day"), _total(html)
    read = {url.rsplit("/", 1)[-1] for url, _ in server.requests if "/Medication/" in url}
    assert "eMed999" in read and "eMed000" in read  # the newest older order's is read, not the oldest's
    assert f"eMed{MEDICATION_READ_CAP + 9:03d}" not in read
    assert f"Medication details: {MEDICATION_READ_CAP + 1} items, cut off at the page limit" in html
    assert "Naloxone (Medication details could not be read in full (cut off at the page limit))" in html


def _peg_items(ago: int, pain: int, enjoyment: int, activity: int) -> list[dict[str, Any]]:
    """A PEG recorded as its three item Observations on one day, as Epic flowsheets file it."""
    return [
        observation(code, when=f"{days_ago(ago)}T10:15:00-05:00", value_quantity=value, category="survey")
        for code, value in (("75893-8", pain), ("91145-3", enjoyment), ("91146-1", activity))
    ]


def test_the_coded_scores_search_asks_for_the_peg_items_the_scores_read() -> None:
    from guideline.plan.scores import PEG_ITEMS
    from smart_app.plan_view import plan_queries

    query = plan_queries("p1", TODAY)["coded_scores"]
    assert all(f"http://loinc.org|{code}" in query for code in PEG_ITEMS)


def test_pegs_recorded_as_items_are_known_when_the_questionnaire_search_fails(tmp_path: Any) -> None:
    base = [r for r in rich_patient() if not (r["resourceType"] == "Observation" and "survey" in json.dumps(r))]
    resources = base + _peg_items(200, 7, 6, 5) + _peg_items(100, 6, 6, 5) + _peg_items(10, 5, 5, 4)
    html, _ = _page(resources, tmp_path, refuse={"category=survey"})
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Questionnaire scores (2 years) could not be read" in text
    # Before: the Assess step said "PEG (pain, enjoyment, general activity) — none in 2 years" and asked for one.
    assert "PEG (pain, enjoyment, general activity)" not in text
    assert "PEG 4.7 of 10" in text and "Latest PEG: 4.7" in text
    assert "A PEG score: none on record" not in text


def _screen_panel(code: str, display: str, ago: int, total: int) -> dict[str, Any]:
    """A PHQ-9 or GAD-7 panel as a flowsheet maps the row: the total is the panel's own value, no total component."""
    panel = observation(code, when=f"{days_ago(ago)}T09:40:00-05:00", value_quantity=total, category="survey")
    panel["code"]["coding"][0]["display"] = display
    panel["code"]["text"] = display.split(" ")[0]
    panel["valueQuantity"] |= {"unit": "{score}", "system": "http://unitsofmeasure.org", "code": "{score}"}
    return panel


def test_the_coded_scores_search_asks_for_the_screen_panels_the_screens_read() -> None:
    from guideline.plan.screens import PANELS
    from smart_app.plan_view import plan_queries

    query = plan_queries("p1", TODAY)["coded_scores"]
    assert all(f"http://loinc.org|{code}" in query for code in PANELS)


def test_screen_panels_carrying_their_total_are_known_when_the_questionnaire_search_fails(tmp_path: Any) -> None:
    base = [r for r in rich_patient() if not (r["resourceType"] == "Observation" and "survey" in json.dumps(r))]
    panels = [
        _screen_panel("44249-1", "PHQ-9 quick depression assessment panel", 40, 12),
        _screen_panel("69737-5", "Generalized anxiety disorder 7 item (GAD-7)", 40, 6),
    ]
    html, server = _page(base + panels, tmp_path, refuse={"category=survey"})
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Questionnaire scores (2 years) could not be read" in text
    # Before: the coded search did not ask for the panels, so both screens were "could not be read" with the survey
    # search, though the EHR answered the coded search.
    assert "PHQ-9 12" in text and "GAD-7 6" in text, text[text.find("PHQ-9") - 200 : text.find("PHQ-9") + 400]
    coded = [url for url, _ in server.requests if "code=" in url and "/Observation?" in url]
    assert any("44249-1" in url and "69737-5" in url for url in coded)
