"""Which Medication references PainPlan reads with the user's token: one rule for the hook and the plan page.

A medicationReference is EHR data. Only a plain `Medication/<id>` is read; anything else ("../../metadata", a query,
a space, another resource type, a dot segment) is never sent to the FHIR server, and its order is still named as an
unidentified medication, with why, on the card and on the page's data-completeness panel.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest
import responses
from builders import patient
from cds_support import FHIR as HOOK_FHIR
from cds_support import full_prefetch, hook_request, make_app, oxycodone_draft
from test_plan import OXYCODONE_5
from test_plan_view import FHIR, FakeFhir, _app, _open_plan

from cds_hooks.gather import MEDICATIONS, gather
from cds_hooks.request import parse_hook_request
from cds_hooks.services import templates
from guideline.config import GuidelineConfig
from guideline.recognition import unidentified_name
from guideline.record import build_record, readable_medication_references
from guideline.record.model import ResolvedMedication

UNREAD = "its medication reference could not be read"

# References an EHR (or whoever wrote the order) may put in medicationReference that are no Medication read.
BAD_REFERENCES = [
    "../../metadata",  # climbs out of the FHIR base: the token went to https://ehr.example.org/metadata
    "Medication/1?_format=xml",  # a query on the read
    "Medication/a b",  # a space: no FHIR id
    "Patient/p1",  # another resource type: the Patient was read and counted as a "Medication detail"
    "Medication/../Patient/p1",  # the same, by a dot segment
    "Medication/..",  # the FHIR base itself, read with the token
    "Medication/.",
    "Medication/%2e%2e",  # an encoded dot segment
    "medication/m-oxy",  # not the type's name
]
# On another host, and no Medication: never read either, and named as on another server
# (tests/test_foreign_medication_references.py).
ELSEWHERE = "https://other.example.net/steal"


def epic_order(order_id: str, reference: str) -> dict[str, Any]:
    """An active outpatient order as Epic sends it: the medicine named only by reference, no RxNorm on the order."""
    return {
        "resourceType": "MedicationRequest",
        "id": order_id,
        "status": "active",
        "intent": "order",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                        "code": "community",
                    }
                ]
            }
        ],
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2026-06-10T09:12:00Z",
        "medicationReference": {"reference": reference},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}],
            }
        ],
        "dispenseRequest": {"expectedSupplyDuration": {"value": 30, "unit": "Day", "code": "d"}},
    }


OXY_MEDICATION = {
    "resourceType": "Medication",
    "id": "m-oxy",
    "code": {
        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": OXYCODONE_5}],
        "text": "oxyCODONE 5 MG tablet",
    },
}


def instance_reads(calls: Any, base: str) -> list[str]:
    """Every request that was not a search, as its path under `base` (or its whole URL when outside it)."""
    reads = []
    for call in calls:
        url = call.request.url
        if urlsplit(url).query and url.startswith(base + "/") and "/" not in url[len(base) + 1 :].split("?")[0]:
            continue  # a search: MedicationRequest?patient=...
        reads.append(url[len(base) + 1 :] if url.startswith(base + "/") else url)
    return reads


def open_page(tmp_path: Any, resources: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """The plan page's HTML and the instance reads it made."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, resources)
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
        calls = list(rsps.calls)
    return html, instance_reads(calls, FHIR)


def listed(html: str, list_id: str) -> list[str]:
    found = re.search(rf'<ul id="{list_id}">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", found.group(1), re.S) if found else []


def panel_row(html: str, label: str) -> str:
    found = re.search(rf"<tr[^>]*><td>{re.escape(label)}</td>.*?</tr>", html, re.S)
    return found.group(0) if found else ""


# ---- the rule itself ----


@pytest.mark.parametrize(
    "reference",
    ["Medication/m-oxy", "Medication/eW3.rJ-0lK9" + "x" * 190, "Medication/1.2.840"],
)
def test_a_plain_medication_id_is_read(reference: str) -> None:
    assert readable_medication_references({reference}) == [reference]


@pytest.mark.parametrize("reference", [*BAD_REFERENCES, ELSEWHERE, "Medication/" + "x" * 257, "Medication/", "#med1"])
def test_anything_else_is_not_read(reference: str) -> None:
    assert readable_medication_references({reference, "Medication/m-oxy"}) == ["Medication/m-oxy"]


def test_an_unreadable_reference_names_its_medication_with_why() -> None:
    assert unidentified_name(ResolvedMedication(None, reference="../../metadata")) == (
        f"medication ../../metadata ({UNREAD})"
    )
    # A readable reference that no read answered keeps its words, as the page and card named it before.
    assert (
        unidentified_name(ResolvedMedication(None, reference="Medication/m9")) == "medication Medication/m9 (not found)"
    )
    # So does a contained one the order does not hold: nothing was there to read.
    assert unidentified_name(ResolvedMedication(None, reference="#med1")) == "medication #med1 (not found)"


def test_a_medication_found_with_no_name_or_code_is_not_called_not_found() -> None:
    # An order's contained Medication that carries only a form: found and read, but nothing in it says what it is.
    # "Not found" would send the clinician looking for a record that is there.
    order = {
        "resourceType": "MedicationRequest",
        "id": "o1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "contained": [{"resourceType": "Medication", "id": "m", "form": {"text": "tablet"}}],
        "medicationReference": {"reference": "#m"},
    }
    medication = build_record([order], ZoneInfo("America/New_York")).orders[0].medication
    assert (
        unidentified_name(medication) == "medication #m (its Medication names no medicine: no code, name or ingredient)"
    )


# ---- the plan page ----


@pytest.mark.parametrize("reference", BAD_REFERENCES)
def test_the_page_never_reads_a_reference_that_is_no_medication_id(tmp_path: Any, reference: str) -> None:
    html, reads = open_page(tmp_path, [patient(), epic_order("ord-1", reference)])
    assert reads == ["Patient/p1"]  # the demographics read, and nothing the order's reference pointed at
    assert listed(html, "unidentified-medications") == [f"medication {reference} ({UNREAD}) (current order ord-1)"]
    row = panel_row(html, "Medication details")
    assert 'class="failed"' in row
    assert "1 not read: an order names its medication by a reference that is not a Medication id" in row
    assert "Some data could not be read:" in html and "Medication details" in html


def test_the_page_reads_the_good_references_and_names_the_rest(tmp_path: Any) -> None:
    resources = [
        patient(),
        epic_order("ord-good", "Medication/m-oxy"),
        epic_order("ord-up", "../../metadata"),
        epic_order("ord-xml", "Medication/m-oxy?_format=xml"),
        OXY_MEDICATION,
    ]
    html, reads = open_page(tmp_path, resources)
    assert sorted(reads) == ["Medication/m-oxy", "Patient/p1"]
    assert '<strong id="total-mme">30.0 MME/day</strong>' in html  # the readable order still counts
    assert listed(html, "unidentified-medications") == [
        f"medication ../../metadata ({UNREAD}) (current order ord-up)",
        f"medication Medication/m-oxy?_format=xml ({UNREAD}) (current order ord-xml)",
    ]
    row = panel_row(html, "Medication details")
    assert '<td class="num">1</td>' in row
    assert "2 not read: an order names its medication by a reference that is not a Medication id" in row


class PatientForMedication(FakeFhir):
    """A gateway that answers the read of Medication/m-oxy with a Patient resource."""

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        if request.url.endswith("/Medication/m-oxy"):
            self.requests.append((request.url, dict(request.headers)))
            return 200, {}, json.dumps({**patient(), "id": "m-oxy"})
        return super()._answer(request)


def test_a_read_that_answers_no_medication_gives_the_page_no_medication(tmp_path: Any) -> None:
    # The hook keeps only the Medications a read answers; so does the page (it counted the Patient as one).
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        PatientForMedication(rsps, [patient(), epic_order("ord-1", "Medication/m-oxy")])
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert '<td class="num">0</td>' in panel_row(html, "Medication details")
    assert listed(html, "unidentified-medications") == ["medication Medication/m-oxy (not found) (current order ord-1)"]


# ---- the hook and the page read the same references ----

MIXED = [
    "Medication/m-oxy",
    "Medication/m2/_history/3",  # a versioned reference: its current version
    "https://other.example.net/fhir/Medication/m-far",  # absolute on another server: read by neither
    ELSEWHERE,
    *BAD_REFERENCES,
]


def hook_reads(references: list[str]) -> list[str]:
    """The Medication paths the hook's FHIR fallback reads for active orders naming these references."""
    orders = [epic_order(f"ord-{n}", ref) for n, ref in enumerate(references)]
    prefetch = full_prefetch("order-sign")
    prefetch["medsActive"] = {"resourceType": "Bundle", "entry": [{"resource": o} for o in orders]}
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch, fhir=True)
    request = parse_hook_request(body, "order-sign", allow_http=False)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(r"https?://.*"), json={"resourceType": "Bundle", "type": "searchset"})
        data = gather(
            request, templates("order-sign", GuidelineConfig.from_mapping()), today=date(2026, 6, 15), budget_seconds=5
        )
        calls = list(rsps.calls)
    assert MEDICATIONS in data.gaps
    return sorted(instance_reads(calls, HOOK_FHIR))


def test_the_hook_and_the_page_read_exactly_the_same_medications(tmp_path: Any) -> None:
    orders = [epic_order(f"ord-{n}", ref) for n, ref in enumerate(MIXED)]
    _, page = open_page(tmp_path, [patient(), *orders])
    expected = ["Medication/m-oxy", "Medication/m2"]
    assert sorted(read for read in page if read != "Patient/p1") == expected
    assert hook_reads(MIXED) == expected


def test_the_hook_names_an_unreadable_draft_with_why(tmp_path: Any) -> None:
    draft = {**oxycodone_draft(), "id": "d-up"}
    draft.pop("medicationCodeableConcept")
    draft["medicationReference"] = {"reference": "../../metadata"}
    app = make_app(tmp_path)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(r"https?://.*"), json={"resourceType": "Bundle", "type": "searchset"})
        response = app.test_client().post("/cds-services/order-sign", json=hook_request(drafts=[draft], fhir=True))
        reads = [unquote(urlsplit(c.request.url).path) for c in rsps.calls]
    assert response.status_code == 200
    assert reads == []  # the prefetch held everything else
    details = " ".join(card["detail"] for card in response.json["cards"])
    assert f"medication ../../metadata ({UNREAD})" in details
    assert "not a Medication id" in details
