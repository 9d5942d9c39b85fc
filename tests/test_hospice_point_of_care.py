"""Hospice care at the point of care as the population review reads it: a hospice stay begun before the window and
still open, or spanning it, excludes as a recent hospice visit does; a hospice claim with no day of care handed to a
hook is named on the data-incomplete card, never passed over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import PATIENT_ID
from cds_support import bundle, full_prefetch, hook_request, make_app, oxycodone_draft, topics
from synthetic_export import patient
from test_population_measure_edges import _evaluate, _high_dose, _hospice_stay, _row

# Epic's own visit class and visit type for its hospice service (TODAY is 2026-06-15; the window 90 days back).
EPIC_CLASS = "urn:oid:1.2.840.114350.1.72.1.7.7.10.696784.13260"
EPIC_VISIT_TYPE = "urn:oid:1.2.840.114350.1.13.0.1.7.10.698084.30"
OPIOID_CARDS = {"high-mme", "naloxone", "pdmp-review", "urine-drug-test", "treatment-plan"}


def epic_hospice_stay(start: str, end: str | None, status: str) -> dict[str, Any]:
    """A hospice stay as Epic sends it: its class and visit type say hospice, nothing else does."""
    period = {"start": start, **({"end": end} if end else {})}
    return {
        "resourceType": "Encounter",
        "id": "eHsp.1",
        "status": status,
        "class": {"system": EPIC_CLASS, "code": "13", "display": "Hospice"},
        "type": [
            {
                "coding": [{"system": EPIC_VISIT_TYPE, "code": "1012", "display": "HOSPICE HOME VISIT"}],
                "text": "HOSPICE HOME VISIT",
            }
        ],
        "subject": {"reference": f"Patient/{PATIENT_ID}", "display": "Test, Patient"},
        "period": period,
    }


def order_sign(tmp_path: Path, **prefetch: Any) -> dict[str, Any]:
    body = hook_request(drafts=[oxycodone_draft()], prefetch=full_prefetch("order-sign", **prefetch))
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200
    return response.json


def test_without_hospice_care_the_opioid_cards_fire(tmp_path: Path) -> None:
    assert set(topics(order_sign(tmp_path))) == OPIOID_CARDS


def test_a_recent_hospice_visit_excludes(tmp_path: Path) -> None:
    visit = epic_hospice_stay("2026-06-01T09:00:00-04:00", "2026-06-01T10:00:00-04:00", "finished")
    assert topics(order_sign(tmp_path, encounters=bundle(visit))) == []


@pytest.mark.parametrize(
    ("start", "end", "status"),
    [
        # Admitted in January, still in hospice: the stay's expected end (Epic sends one) is after today.
        ("2026-01-05T09:00:00-05:00", "2026-07-31T09:00:00-04:00", "in-progress"),
        ("2026-01-05T09:00:00-05:00", "2026-07-31T09:00:00-04:00", "onleave"),
        # Admitted last autumn, discharged after today: the stay spans the whole 90 days.
        ("2025-11-20", "2026-06-20", "finished"),
    ],
)
def test_a_hospice_stay_begun_before_the_window_and_going_on_excludes_as_a_recent_visit_does(
    tmp_path: Path, start: str, end: str, status: str
) -> None:
    # Before, a stay was counted only when it started or ended in the last 90 days: a patient in hospice since
    # January got every opioid card, while the population review left them out of its measures.
    assert topics(order_sign(tmp_path, encounters=bundle(epic_hospice_stay(start, end, status)))) == []


@pytest.mark.parametrize("status", ["planned", "cancelled", "entered-in-error"])
def test_a_hospice_stay_planned_cancelled_or_in_error_never_excludes(tmp_path: Path, status: str) -> None:
    stay = epic_hospice_stay("2026-01-05T09:00:00-05:00", "2026-07-31T09:00:00-04:00", status)
    assert set(topics(order_sign(tmp_path, encounters=bundle(stay)))) == OPIOID_CARDS


def test_the_review_reads_a_planned_hospice_stay_as_no_care_as_the_point_of_care_does() -> None:
    # One rule for both: a planned stay in the history window (2025-10-03 to 2026-03-31) is no hospice care.
    planned = _hospice_stay("s", "h9", "2025-11-01", "2026-02-01", status="planned")
    assert _row(_evaluate("h9", [patient("h9"), *_high_dose("h9"), planned]))["excluded"] is None
    going_on = _hospice_stay("s", "h10", "2025-09-01", "2026-05-31", status="in-progress")
    assert _row(_evaluate("h10", [patient("h10"), *_high_dose("h10"), going_on]))["excluded"] == (
        "hospice or palliative care (encounter)"
    )


BLUE_BUTTON_TYPE = "https://bluebutton.cms.gov/resources/codesystem/eob-type"


def hospice_claim(ident: str, **extra: Any) -> dict[str, Any]:
    """A CMS Blue Button hospice claim for the patient, with what `extra` adds (dates, status)."""
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": ident,
        "status": "active",
        "type": {"coding": [{"system": BLUE_BUTTON_TYPE, "code": "HOSPICE", "display": "Hospice claim"}]},
        "patient": {"reference": f"Patient/{PATIENT_ID}"},
        "created": "2026-06-01",  # the day it was written: no day of care
        **extra,
    }


def data_incomplete(found: dict[str, Any]) -> str:
    return next(c for c in found["cards"] if c["source"]["topic"]["code"] == "data-incomplete")["detail"]


def test_a_hospice_claim_with_no_day_of_care_is_named_as_such_on_the_card(tmp_path: Path) -> None:
    # Before, it was named only as "Hospice care (claim) (procedure h-undated-px1), no date", a procedure in no
    # chart, with no word that the hospice exclusion could not be checked.
    found = order_sign(tmp_path, procedures=bundle(hospice_claim("h-undated")))
    assert set(topics(found)) == OPIOID_CARDS | {"data-incomplete"}
    detail = data_incomplete(found)
    assert (
        "- Hospice claim (ExplanationOfBenefit h-undated): has no date of care (no billing period, service date or "
        "stay), so whether the patient is in hospice now could not be told and the hospice exclusion could not be "
        "checked for it; check whether the patient receives hospice care" in detail
    )
    assert "h-undated-px" not in detail


def test_a_dated_hospice_claim_excludes_and_is_not_named(tmp_path: Path) -> None:
    claim = hospice_claim("h-dated", billablePeriod={"start": "2026-06-01", "end": "2026-06-30"})
    assert topics(order_sign(tmp_path, procedures=bundle(claim))) == []


def test_a_cancelled_hospice_claim_with_no_day_of_care_is_counted_as_left_out_not_named_as_hospice(
    tmp_path: Path,
) -> None:
    detail = data_incomplete(order_sign(tmp_path, procedures=bundle(hospice_claim("h-void", status="cancelled"))))
    assert "payer claims (ExplanationOfBenefit): 1 left out" in detail
    assert "h-void" not in detail and "hospice exclusion" not in detail


# ---------------------------------------------------------------------------------------------------------------
# One rule for a hospice claim with no day of care: the claim's content decides, for the card and the review alike

POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
CARIN_INFO = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType"
NDC = "http://hl7.org/fhir/sid/ndc"


def hospice_pharmacy_claim(ident: str, pid: str) -> dict[str, Any]:
    """A CARIN Blue Button pharmacy claim for morphine oral solution dispensed to a patient in hospice (place of
    service 34), with no service date: the payer filled in only the day it was written."""
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": ident,
        "status": "active",
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "pharmacy"}]},
        "use": "claim",
        "outcome": "complete",
        "patient": {"reference": f"Patient/{pid}"},
        "created": "2026-02-20",
        "provider": {"reference": "Organization/pharm-77", "display": "HOSPICE PHARMACIA"},
        "supportingInfo": [
            {
                "sequence": 1,
                "category": {"coding": [{"system": CARIN_INFO, "code": "dayssupply"}]},
                "valueQuantity": {"value": 7},
            }
        ],
        "item": [
            {
                "sequence": 1,
                "productOrService": {
                    "coding": [{"system": NDC, "code": "00054023750", "display": "MORPHINE SULFATE 20 MG/ML SOLN"}]
                },
                "locationCodeableConcept": {"coding": [{"system": POS, "code": "34", "display": "Hospice"}]},
                "quantity": {"value": 30, "unit": "mL"},
            }
        ],
    }


def hospice_professional_claim(ident: str, pid: str) -> dict[str, Any]:
    """A CARIN professional claim for a physician's visit given in hospice (place of service 34), undated."""
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": ident,
        "status": "active",
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "professional"}]},
        "use": "claim",
        "outcome": "complete",
        "patient": {"reference": f"Patient/{pid}"},
        "created": "2026-02-20",
        "item": [
            {
                "sequence": 1,
                "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99347"}]},
                "locationCodeableConcept": {"coding": [{"system": POS, "code": "34"}]},
            }
        ],
    }


def review_undated_hospice_claims(pid: str, claim: dict[str, Any]) -> int:
    """How many hospice claims with no day of care the population review counts for a high-dose patient."""
    outcome = _evaluate(pid, [patient(pid), *_high_dose(pid), claim])
    return outcome.quality.hospice_claims_undated[pid]


@pytest.mark.parametrize(
    "build",
    [
        lambda ident, pid: (
            {k: v for k, v in hospice_claim(ident).items() if k != "patient"}
            | {"patient": {"reference": f"Patient/{pid}"}}
        ),
        hospice_professional_claim,
        hospice_pharmacy_claim,
    ],
    ids=["blue-button-hospice", "professional-at-hospice", "pharmacy-at-hospice"],
)
def test_a_hospice_claim_with_no_day_of_care_is_named_by_the_card_and_counted_by_the_review_alike(
    tmp_path: Path, build: Any
) -> None:
    # Before, a pharmacy claim at place of service 34 with no date was counted by the review but not named on the
    # card: the card asked only whether a procedure derived from the claim was its hospice care.
    assert review_undated_hospice_claims("h-rx", build("c-1", "h-rx")) == 1
    detail = data_incomplete(order_sign(tmp_path, procedures=bundle(build("c-1", PATIENT_ID))))
    assert "- Hospice claim (ExplanationOfBenefit c-1): has no date of care" in detail


def test_the_card_knows_undated_hospice_care_by_its_content_not_by_which_object_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before, the card knew the hospice care read from an undated claim by object identity: a copy of it (a cache, a
    # serialisation) was read as an undated procedure in no chart, and the claim went unnamed as hospice.
    import copy

    from guideline.population import claims

    read = claims.claim_resources
    monkeypatch.setattr(claims, "claim_resources", lambda claim: copy.deepcopy(read(claim)))
    found = claims.claims_read_for_a_hook([hospice_claim("h-undated")])
    assert found.undated_hospice == ("Hospice claim (ExplanationOfBenefit h-undated)",)
    assert found.resources == []


# ---------------------------------------------------------------------------------------------------------------
# One status rule for a hospice procedure, at the point of care and in the review: the same patient, both faces

EPIC_PROCEDURE = "urn:oid:1.2.840.114350.1.13.0.1.7.2.696580"


def epic_hospice_procedure(pid: str, status: str) -> dict[str, Any]:
    """Hospice care as Epic's Procedure.Read sends it, performed 20 to 25 March 2026: in the point of care's 90 days
    (today 2026-06-15) and in the review's history window (2025-10-03 to 2026-03-31) alike."""
    return {
        "resourceType": "Procedure",
        "id": "eHSPpx.1",
        "status": status,
        "code": {
            "coding": [
                {"system": "http://snomed.info/sct", "code": "385763009", "display": "Hospice care"},
                {"system": EPIC_PROCEDURE, "code": "HSP100", "display": "HOSPICE CARE"},
            ],
            "text": "HOSPICE CARE",
        },
        "subject": {"reference": f"Patient/{pid}", "display": "Test, Patient"},
        "performedPeriod": {"start": "2026-03-20T10:00:00-04:00", "end": "2026-03-25T16:00:00-04:00"},
    }


def both_faces(tmp_path: Path, resource: Any) -> tuple[set[str], str, str | None, int]:
    """The hook's card topics and data-incomplete detail ("" without one), and the review's exclusion and count of
    possible hospice care not counted, for one patient with `resource(pid)` on record."""
    found = order_sign(tmp_path, **resource(PATIENT_ID))
    detail = next((c["detail"] for c in found["cards"] if c["source"]["topic"]["code"] == "data-incomplete"), "")
    prefetched = [entry["resource"] for value in resource("h-both").values() for entry in value["entry"]]
    outcome = _evaluate("h-both", [patient("h-both"), *_high_dose("h-both"), *prefetched])
    return set(topics(found)), detail, _row(outcome)["excluded"], outcome.quality.hospice_not_counted["h-both"]


@pytest.mark.parametrize("status", ["completed", "in-progress"])
def test_hospice_care_given_excludes_at_the_point_of_care_and_from_the_measures(tmp_path: Path, status: str) -> None:
    cards, detail, excluded, named = both_faces(
        tmp_path, lambda pid: {"procedures": bundle(epic_hospice_procedure(pid, status))}
    )
    assert (cards, excluded, named) == (set(), "hospice or palliative care (procedure)", 0)


@pytest.mark.parametrize(
    ("status", "why"), [("unknown", "status unknown"), ("on-hold", "on hold"), ("stopped", "stopped")]
)
def test_hospice_care_whose_status_does_not_say_it_was_given_excludes_neither_face_and_both_name_it(
    tmp_path: Path, status: str, why: str
) -> None:
    # Before, the review left this patient out of every measure while the card, reading it as no hospice care,
    # fired every opioid card and said nothing of the hospice record it had passed over.
    cards, detail, excluded, named = both_faces(
        tmp_path, lambda pid: {"procedures": bundle(epic_hospice_procedure(pid, status))}
    )
    assert cards == OPIOID_CARDS | {"data-incomplete"}
    assert f"- HOSPICE CARE (procedure eHSPpx.1, {why}): may be hospice care" in detail
    assert (excluded, named) == (None, 1)


@pytest.mark.parametrize("status", ["preparation", "not-done", "entered-in-error"])
def test_hospice_care_not_begun_or_not_done_excludes_neither_face_and_is_not_named(tmp_path: Path, status: str) -> None:
    cards, detail, excluded, named = both_faces(
        tmp_path, lambda pid: {"procedures": bundle(epic_hospice_procedure(pid, status))}
    )
    assert (cards, excluded, named) == (OPIOID_CARDS, None, 0)


# ---------------------------------------------------------------------------------------------------------------
# A hospice stay known only by where it took place: one rule for both faces

EPIC_INPATIENT = {"system": EPIC_CLASS, "code": "1", "display": "Inpatient"}
POS_HOSPICE = {"system": POS, "code": "34", "display": "Hospice"}
SNOMED_HOSPICE_PLACE = {"system": "http://snomed.info/sct", "code": "284546000", "display": "Hospice"}


def epic_stay_at(pid: str, place: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An Epic inpatient stay begun 20 March 2026 and going on (in both faces' windows), whose class and type say
    only that it is a hospital encounter: its place is the one thing that could say hospice."""
    return {
        "resourceType": "Encounter",
        "id": "eCTH.1",
        "status": "in-progress",
        "class": EPIC_INPATIENT,
        "type": [
            {
                "coding": [{"system": EPIC_VISIT_TYPE, "code": "3", "display": "Hospital Encounter"}],
                "text": "Hospital Encounter",
            }
        ],
        "subject": {"reference": f"Patient/{pid}", "display": "Test, Patient"},
        "period": {"start": "2026-03-20T14:00:00-04:00"},
        "location": [{"location": place, "status": "active"}],
        **extra,
    }


def oracle_contained_hospice(pid: str) -> dict[str, Any]:
    """The stay as Oracle Health sends a visit's place: a Location contained in the Encounter, typed hospice (place
    of service 34)."""
    place = {"reference": "#loc-1", "display": "Connecticut Hospice, Branford"}
    held = {
        "resourceType": "Location",
        "id": "loc-1",
        "name": "Connecticut Hospice, Branford",
        "type": [{"coding": [POS_HOSPICE], "text": "Hospice"}],
    }
    return epic_stay_at(pid, place, contained=[held])


def test_a_stay_at_a_place_typed_hospice_excludes_at_the_point_of_care_and_from_the_measures(tmp_path: Path) -> None:
    # Before, a visit's place was never read: a patient staying at a hospice got every opioid card, and the review
    # kept them in OHD's numerator.
    cards, detail, excluded, named = both_faces(
        tmp_path, lambda pid: {"encounters": bundle(oracle_contained_hospice(pid))}
    )
    assert (cards, excluded, named) == (set(), "hospice or palliative care (encounter)", 0)


def test_a_stay_at_a_location_sent_beside_the_visit_and_typed_hospice_excludes(tmp_path: Path) -> None:
    # Epic names the Location by reference; a prefetch or search that includes it (_include=Encounter:location)
    # sends it beside the visit, typed as SNOMED CT's hospice environment.
    place = {"reference": "Location/e4W3eRk2pnfVx0bhMy0Dt9w3", "display": "Connecticut Hospice, Branford"}
    location = {
        "resourceType": "Location",
        "id": "e4W3eRk2pnfVx0bhMy0Dt9w3",
        "status": "active",
        "name": "Connecticut Hospice, Branford",
        "type": [{"coding": [SNOMED_HOSPICE_PLACE], "text": "Hospice"}],
    }
    assert topics(order_sign(tmp_path, encounters=bundle(epic_stay_at(PATIENT_ID, place), location))) == []


def test_a_stay_known_as_hospice_by_the_place_name_only_excludes_neither_face_and_both_name_it(tmp_path: Path) -> None:
    # Epic's visit names its place by reference and display; with no Location type to say so, a name is not read as
    # hospice care (it would switch every safety check off), and the possible hospice stay is named, never passed
    # over.
    place = {"reference": "Location/e4W3eRk2pnfVx0bhMy0Dt9w3", "display": "Connecticut Hospice, Branford"}
    cards, detail, excluded, named = both_faces(tmp_path, lambda pid: {"encounters": bundle(epic_stay_at(pid, place))})
    assert cards == OPIOID_CARDS | {"data-incomplete"}
    assert (
        "- Stay at Connecticut Hospice, Branford (visit eCTH.1, hospice by the place's name only): may be hospice care"
        in detail
    )
    assert (excluded, named) == (None, 1)


def test_a_hospice_place_only_planned_for_the_visit_is_no_stay_there(tmp_path: Path) -> None:
    stay = oracle_contained_hospice(PATIENT_ID)
    stay["location"][0]["status"] = "planned"
    assert set(topics(order_sign(tmp_path, encounters=bundle(stay)))) == OPIOID_CARDS
