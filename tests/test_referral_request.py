"""STU3 and DSTU2 referrals (`ReferralRequest`) are read as the R4 `ServiceRequest` they became."""

from __future__ import annotations

from typing import Any

import pytest
from builders import PATIENT_ID, SNOMED, card, days_ago, med_request, run
from test_plan import plan_for

HOSPICE_REFERRAL = "306205009"  # Referral to hospice (procedure)
OXYCODONE = "1049621"  # 2 tablets of 5 mg every 4 hours: 90 MME/day, a critical high-mme card


def stu3_referral(code: str, *, status: str = "active", intent: str = "order", ago: int = 10) -> dict[str, Any]:
    """A STU3 ReferralRequest: what is asked for is `serviceRequested` (a list), dated by `authoredOn`."""
    return {
        "resourceType": "ReferralRequest",
        "id": f"ref-{code}-{status}",
        "status": status,
        "intent": intent,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "serviceRequested": [{"coding": [{"system": SNOMED, "code": code}]}],
        "authoredOn": days_ago(ago),
    }


def dstu2_referral(code: str, *, status: str = "pending", ago: int = 10) -> dict[str, Any]:
    """A DSTU2 ReferralRequest: `patient`, no intent, dated by `dateSent` (or `date`), statuses of its own."""
    return {
        "resourceType": "ReferralRequest",
        "id": f"dref-{code}-{status}",
        "status": status,
        "patient": {"reference": f"Patient/{PATIENT_ID}"},
        "type": {"text": "Referral"},
        "serviceRequested": [{"coding": [{"system": SNOMED, "code": code}]}],
        "dateSent": days_ago(ago),
    }


def high_dose_card_fires(*resources: dict[str, Any]) -> bool:
    draft = med_request(OXYCODONE, draft=True, id="ox1", dose=2, period=4)
    return card(run("order-sign", drafts=[draft], resources=list(resources)), "high-mme") is not None


@pytest.mark.parametrize(
    ("referral", "excluded"),
    [
        (stu3_referral(HOSPICE_REFERRAL), True),
        (stu3_referral(HOSPICE_REFERRAL, status="completed"), True),
        (stu3_referral(HOSPICE_REFERRAL, status="cancelled"), False),
        (stu3_referral(HOSPICE_REFERRAL, ago=120), False),
        (dstu2_referral(HOSPICE_REFERRAL), True),
        (dstu2_referral(HOSPICE_REFERRAL, status="accepted"), True),
        (dstu2_referral(HOSPICE_REFERRAL, status="rejected"), False),
    ],
)
def test_a_hospice_referral_from_a_stu3_or_dstu2_server_excludes_the_patient(
    referral: dict[str, Any], excluded: bool
) -> None:
    # STU3 and DSTU2 record a referral to hospice as a ReferralRequest (R4 folded it into ServiceRequest). Unread,
    # a patient referred to hospice last week got cards asking to reconsider the opioids of their end-of-life care.
    assert high_dose_card_fires(referral) is not excluded


def test_a_referral_names_its_service_by_type_when_it_has_no_service_requested() -> None:
    referral = stu3_referral(HOSPICE_REFERRAL)
    referral["type"] = referral.pop("serviceRequested")[0]
    assert not high_dose_card_fires(referral)


def test_a_stu3_physical_therapy_referral_shows_as_a_non_opioid_therapy_on_the_plan() -> None:
    referral = stu3_referral("91251008")  # Physical therapy procedure
    services = {t.key: t for t in plan_for([referral]).section("nonopioid").content.services}
    assert services["pt"].has and services["pt"].evidence == (f"referred {days_ago(10)}",)


def test_a_dstu2_referral_is_dated_by_its_date_when_not_sent() -> None:
    referral = dstu2_referral("91251008", status="active")
    referral["date"] = referral.pop("dateSent")
    services = {t.key: t for t in plan_for([referral]).section("nonopioid").content.services}
    assert services["pt"].evidence == (f"referred {days_ago(10)}",)


def test_a_stu3_referral_proposed_but_not_signed_is_not_shown_as_referred() -> None:
    # STU3 states the intent; a proposal nobody signed is no referral (3.2), on the plan page as on the cards.
    services = {
        t.key: t for t in plan_for([stu3_referral("91251008", intent="proposal")]).section("nonopioid").content.services
    }
    assert not services["pt"].has and services["pt"].evidence == ()
