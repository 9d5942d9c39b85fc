"""One prescriber in a CDS Hooks prefetch, however its Bundles name her: a searchset whose renewal names its requester
as `urn:uuid:…`, the fullUrl of a Practitioner (or PractitionerRole) entry the search includes, is her order as much
as the one naming `Practitioner/eDrA`. The hook pools the prefetch without its fullUrls, and kept only the
Medications' ones: the urn named nobody, Dr Adams was two prescribers and her own renewal retired nothing (120 MME/day
for 60, "another prescriber's" on the card), while `painplan mme` of the same request read 60."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from builders import TODAY
from cds_support import FHIR, full_prefetch, hook_request, make_app
from test_identity3_actor_references import DR_ADAMS_URL, ROLE_URL, adams, role
from test_signed_renewal import fill, medication, old, renewal

from guideline.config import GuidelineConfig
from guideline.terminology import load_terminology
from smart_app.mme_command import mme_report

CONFIG = GuidelineConfig.from_mapping()
ADAMS = {"reference": DR_ADAMS_URL, "display": "Adams, Ann, MD"}


def searchset(*entries: tuple[str, dict[str, Any], str]) -> dict[str, Any]:
    """A searchset as the EHR fills a prefetch key: each (fullUrl, resource, search.mode)."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"fullUrl": url, "resource": r, "search": {"mode": mode}} for url, r, mode in entries],
    }


def ehr(resource: dict[str, Any]) -> str:
    """The resource's fullUrl on the EHR's server."""
    return f"{FHIR}/{resource['resourceType']}/{resource['id']}"


def prefetch(renewed_by: Any, *included: tuple[str, dict[str, Any]], **more: Any) -> dict[str, Any]:
    """patient-view's prefetch: Dr Adams's active order (requester `Practitioner/eDrA`) and her renewal naming its
    requester as given, with `included` entries (search.mode include) in the same search, and the old order's fill."""
    orders = [old("active"), renewal(requester=renewed_by), medication()]
    meds = searchset(
        *((ehr(o), o, "include" if o["resourceType"] == "Medication" else "match") for o in orders),
        *((url, r, "include") for url, r in included),
    )
    dispense = fill("eOxy.Old")
    return full_prefetch(
        "patient-view", medsActive=meds, dispenses=searchset((ehr(dispense), dispense, "match")), **more
    )


def high_mme(tmp_path: Path, values: dict[str, Any]) -> str:
    """The high-MME card's detail for a patient-view call with this prefetch (no FHIR server: prefetch only)."""
    body = hook_request("patient-view", prefetch=values)
    cards = make_app(tmp_path).test_client().post("/cds-services/patient-view", json=body).json["cards"]
    return next(c for c in cards if c["source"]["topic"]["code"] == "high-mme")["detail"]


def test_a_requester_named_by_an_included_practitioners_urn_is_that_practitioner(tmp_path: Path) -> None:
    detail = high_mme(tmp_path, prefetch(ADAMS, (DR_ADAMS_URL, adams())))
    assert "Total: 60.0 MME/day" in detail
    assert "another prescriber's" not in detail


def test_a_requester_named_by_an_included_roles_urn_is_its_practitioner(tmp_path: Path) -> None:
    # Oracle Health names the requester by PractitionerRole; a gateway's Bundle names that role by its urn.
    included = ((ROLE_URL, role("Practitioner/eDrA")),)
    detail = high_mme(tmp_path, prefetch({"reference": ROLE_URL}, *included))
    assert "Total: 60.0 MME/day" in detail


def test_a_practitioner_under_another_keys_bundle_answers_too(tmp_path: Path) -> None:
    # A site's own prefetch key (an `_include`d directory search) carries her entry, not the orders' search.
    directory = searchset((DR_ADAMS_URL, adams(), "match"))
    detail = high_mme(tmp_path, prefetch(ADAMS, prescribers=directory))
    assert "Total: 60.0 MME/day" in detail


def test_a_urn_no_entry_is_sent_under_stays_another_prescriber(tmp_path: Path) -> None:
    detail = high_mme(tmp_path, prefetch(ADAMS))
    assert "Total: 120.0 MME/day" in detail
    assert "another prescriber's, still current" in detail
    evans = {**adams("eDrE", "1942284192"), "name": [{"family": "Evans"}]}
    assert "Total: 120.0 MME/day" in high_mme(tmp_path, prefetch(ADAMS, (DR_ADAMS_URL, evans)))


def test_the_card_and_painplan_mme_read_one_prescriber_alike(tmp_path: Path) -> None:
    values = prefetch(ADAMS, (DR_ADAMS_URL, adams()))
    report = mme_report(hook_request("patient-view", prefetch=values), CONFIG, load_terminology(CONFIG), TODAY)
    assert Decimal(str(report["current_total_mme"])) == Decimal(60)
    assert "Total: 60.0 MME/day" in high_mme(tmp_path, values)
