"""A medication on the EHR's active medication list as reported (a home medication an outside prescriber gave,
Oracle Health's reported MedicationRequest with intent plan, Epic's with intent order), written down more than 90
days ago with no end date: it is on the list today, so the benzodiazepine and sedative co-prescribing checks count
it; an opioid so listed is not counted in the MME total (no recent order says its dose) and is named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import card, days_ago, med_request, patient, run
from cds_support import bundle, full_prefetch, hook_request, make_app
from werkzeug.datastructures import MultiDict

from smart_app.plan_view import PageInput, assemble, render_page

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
ALPRAZOLAM = "308048"  # alprazolam 0.5 MG Oral Tablet
LORAZEPAM = "197901"  # lorazepam 1 MG Oral Tablet
ZOLPIDEM = "854873"  # zolpidem tartrate 10 MG Oral Tablet


def home_med(rxcui: str, id: str, authored: str, intent: str = "plan", **kwargs: Any) -> dict[str, Any]:
    """A home medication as Oracle Health sends it: reported, intent plan, active, no days' supply or end."""
    resource = med_request(rxcui, id=id, authored=authored, supply_days=None, intent=intent, **kwargs)
    resource["reportedBoolean"] = True
    return resource


def oxycodone_draft() -> dict[str, Any]:
    return med_request(OXYCODONE, id="ox1", draft=True, supply_days=5)


@pytest.mark.parametrize("intent", ["plan", "order"])
def test_an_old_active_home_benzodiazepine_counts_for_a_new_opioid(intent: str) -> None:
    alprazolam = home_med(ALPRAZOLAM, "bz", "2025-10-01", intent=intent, period=1, period_unit="d")
    found = card(run("order-sign", drafts=[oxycodone_draft()], resources=[alprazolam]), "opioid-benzodiazepine")
    assert found is not None
    assert "alprazolam 0.5 MG Oral Tablet (reported as taken, noted 2025-10-01)" in found.detail


def test_a_reported_by_reference_home_sedative_counts_for_the_cns_check() -> None:
    zolpidem = home_med(ZOLPIDEM, "zd", "2024-01-15", period=1, period_unit="d")
    del zolpidem["reportedBoolean"]
    zolpidem["reportedReference"] = {"reference": "Patient/p1"}
    evaluation = run(
        "order-sign",
        drafts=[oxycodone_draft()],
        resources=[zolpidem],
        config={"checks": {"opioid-benzodiazepine": {"cns_enabled": True}}},
    )
    found = card(evaluation, "opioid-benzodiazepine")
    assert found is not None and "zolpidem" in found.detail


def test_a_new_benzodiazepine_beside_an_old_home_opioid_warns() -> None:
    oxycodone = home_med(OXYCODONE, "hm-ox", "2025-11-20")
    lorazepam = med_request(LORAZEPAM, id="lz1", draft=True, period=1, period_unit="d")
    found = card(run("order-sign", drafts=[lorazepam], resources=[oxycodone]), "opioid-benzodiazepine")
    assert found is not None and "oxycodone" in found.detail


def test_patient_view_counts_both_when_both_are_on_the_list() -> None:
    oxycodone = home_med(OXYCODONE, "hm-ox", "2025-11-20")
    alprazolam = home_med(ALPRAZOLAM, "bz", "2025-10-01", period=1, period_unit="d")
    assert card(run("patient-view", resources=[oxycodone, alprazolam]), "opioid-benzodiazepine") is not None


def test_an_old_home_opioid_is_left_out_of_the_mme_and_named(tmp_path: Path) -> None:
    oxycodone = home_med(OXYCODONE, "hm-ox", "2025-11-20", dose=2, period=4)  # 90 MME/day, were it counted
    evaluation = run("order-sign", drafts=[oxycodone_draft()], resources=[oxycodone])
    assert evaluation.facts.mme.total == 30  # the draft alone: 20 mg/day oxycodone x 1.5
    assert evaluation.facts.listed_opioids_named == (
        "oxycodone hydrochloride 5 MG Oral Tablet (reported medication hm-ox, noted on the medication list 2025-11-20)",
    )
    body = hook_request(drafts=[oxycodone_draft()], prefetch=full_prefetch("order-sign", medsActive=bundle(oxycodone)))
    cards = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body).json["cards"]
    detail = next(c["detail"] for c in cards if c["source"]["topic"]["code"] == "data-incomplete")
    assert (
        "- oxycodone hydrochloride 5 MG Oral Tablet (reported medication hm-ox, noted on the medication list "
        "2025-11-20): has no order or end date in the last 90 days, so its dose was not counted in the MME total"
    ) in detail


def test_an_old_active_order_of_this_site_still_ends_after_90_days() -> None:
    # Not reported: an order written here 257 days ago with no end is no evidence the patient takes it now (3.3).
    lorazepam = med_request(LORAZEPAM, id="lz-old", authored="2025-10-01", supply_days=None)
    assert card(run("order-sign", drafts=[oxycodone_draft()], resources=[lorazepam]), "opioid-benzodiazepine") is None


def test_a_home_medication_whose_supply_ended_is_not_on_the_list_today() -> None:
    alprazolam = home_med(ALPRAZOLAM, "bz", "2025-10-01", period=1, period_unit="d")
    alprazolam["dispenseRequest"]["validityPeriod"] = {"start": "2025-10-01", "end": "2026-01-01"}
    assert card(run("order-sign", drafts=[oxycodone_draft()], resources=[alprazolam]), "opioid-benzodiazepine") is None


def test_a_recent_home_benzodiazepine_is_current_as_before() -> None:
    alprazolam = home_med(ALPRAZOLAM, "bz", days_ago(75), period=1, period_unit="d")
    evaluation = run("order-sign", drafts=[oxycodone_draft()], resources=[alprazolam])
    assert card(evaluation, "opioid-benzodiazepine") is not None
    assert evaluation.facts.listed_opioids_named == ()


def test_the_named_window_follows_the_current_order_default_days_setting(tmp_path: Path) -> None:
    # A site that keeps an order with no end current for 120 days: the card and the page say 120, not 90.
    oxycodone = home_med(OXYCODONE, "hm-ox", "2025-11-20", dose=2, period=4)
    app = make_app(tmp_path, guideline={"current_order_default_days": 120})
    body = hook_request(drafts=[oxycodone_draft()], prefetch=full_prefetch("order-sign", medsActive=bundle(oxycodone)))
    cards = app.test_client().post("/cds-services/order-sign", json=body).json["cards"]
    detail = next(c["detail"] for c in cards if c["source"]["topic"]["code"] == "data-incomplete")
    assert "has no order or end date in the last 120 days, so its dose was not counted in the MME total" in detail
    assert "90 days" not in detail
    settings = app.config["PAINPLAN"]
    with app.test_request_context("/plan"):
        view = assemble(
            PageInput((patient(), oxycodone), (), ()), settings.guideline, "p1", settings.evaluation_now(), MultiDict()
        )
        page = render_page(view, MultiDict(), lambda **_: "/plan", handle="H")
    assert "(reported, recorded or last confirmed more than 120 days ago with no end date)" in page
    assert "more than 90 days ago" not in page


# -- a MedicationStatement on the list: Epic and STU3 servers send home medications so --------------------------


def home_statement(rxcui: str, id: str, asserted: str, shape: str = "r4", **fields: Any) -> dict[str, Any]:
    """An active home medication as a MedicationStatement, taken since long ago, last confirmed on `asserted`, with
    no end: R4 as Epic sends it (effectivePeriod start, dateAsserted), or STU3's shape (taken "y", a date only)."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": id,
        "status": "active",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": rxcui}]
        },
        "informationSource": {"reference": "Patient/p1"},
    }
    if shape == "stu3":
        resource |= {
            "taken": "y",
            "effectiveDateTime": asserted,
            "dosage": [
                {"timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}}, "doseQuantity": {"value": 1}}
            ],
        }
    else:
        resource |= {
            "effectivePeriod": {"start": "2024-03-01"},
            "dateAsserted": asserted,
            "dosage": [
                {
                    "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
                    "doseAndRate": [{"doseQuantity": {"value": 1}}],
                }
            ],
        }
    resource.update(fields)
    return resource


def lorazepam_draft() -> dict[str, Any]:
    return med_request(LORAZEPAM, id="lz1", draft=True, period=1, period_unit="d")


@pytest.mark.parametrize("shape", ["r4", "stu3"])
def test_a_new_benzodiazepine_beside_an_old_active_opioid_statement_warns(shape: str) -> None:
    # Last confirmed 8 months ago, still active, no end: on the list today, as a reported MedicationRequest is.
    oxycodone = home_statement(OXYCODONE, "ms-ox", "2025-10-15", shape)
    evaluation = run("order-sign", drafts=[lorazepam_draft()], resources=[oxycodone])
    found = card(evaluation, "opioid-benzodiazepine")
    assert found is not None
    assert "oxycodone hydrochloride 5 MG Oral Tablet (reported as taken, noted 2025-10-15)" in found.detail
    # Named on the plan page as left out of the MME total.
    assert evaluation.facts.listed_opioids_named == (
        "oxycodone hydrochloride 5 MG Oral Tablet (reported medication ms-ox, noted on the medication list 2025-10-15)",
    )


@pytest.mark.parametrize("shape", ["r4", "stu3"])
def test_an_old_active_opioid_statement_is_left_out_of_the_mme_and_named_on_an_opioid_order(
    shape: str, tmp_path: Path
) -> None:
    oxycodone = home_statement(OXYCODONE, "ms-ox", "2025-10-15", shape)  # 30 MME/day, were it counted
    evaluation = run("order-sign", drafts=[oxycodone_draft()], resources=[oxycodone])
    assert evaluation.facts.mme.total == 30  # the draft alone
    body = hook_request(drafts=[oxycodone_draft()], prefetch=full_prefetch("order-sign", medsActive=bundle(oxycodone)))
    cards = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body).json["cards"]
    detail = next(c["detail"] for c in cards if c["source"]["topic"]["code"] == "data-incomplete")
    assert "oxycodone hydrochloride 5 MG Oral Tablet (reported medication ms-ox, noted on the medication list" in detail


@pytest.mark.parametrize(
    "not_listed",
    [
        {"effectivePeriod": {"start": "2024-03-01", "end": "2025-12-01"}},  # taken until December
        {"status": "completed"},
        {"status": "stopped"},
        {"status": "not-taken"},
        {"status": "entered-in-error"},
        {"status": "on-hold"},
        {"taken": "n"},  # STU3: not taken, whatever the status
    ],
)
def test_an_opioid_statement_that_ended_or_is_not_taken_is_not_on_the_list(not_listed: dict[str, Any]) -> None:
    oxycodone = home_statement(OXYCODONE, "ms-ox", "2025-10-15", **not_listed)
    evaluation = run("order-sign", drafts=[lorazepam_draft()], resources=[oxycodone])
    assert card(evaluation, "opioid-benzodiazepine") is None
    assert evaluation.facts.listed_medications == ()


def test_an_old_active_benzodiazepine_statement_counts_on_patient_view_with_a_current_opioid() -> None:
    lorazepam = home_statement(LORAZEPAM, "ms-lz", "2025-09-01")
    oxycodone = med_request(OXYCODONE, id="ox-now", authored=days_ago(10), supply_days=30)
    assert card(run("patient-view", resources=[lorazepam, oxycodone]), "opioid-benzodiazepine") is not None


# -- the data-incomplete card names a listed opioid only where the MME total is worked out -----------------------

AMOXICILLIN = "308191"  # amoxicillin 500 MG Oral Capsule
RECONCILE = "so its dose was not counted in the MME total; reconcile the medication list"


def data_incomplete(tmp_path: Path, hook: str, drafts: list[dict[str, Any]], *resources: dict[str, Any]) -> str:
    """The data-incomplete card's detail for this hook call ("" when there is none)."""
    prefetch = full_prefetch(hook, medsActive=bundle(*resources))
    body = hook_request(hook, drafts=drafts, prefetch=prefetch)
    cards = make_app(tmp_path).test_client().post(f"/cds-services/{hook}", json=body).json["cards"]
    return next((c["detail"] for c in cards if c["source"]["topic"]["code"] == "data-incomplete"), "")


@pytest.mark.parametrize("listed", ["request", "statement"])
def test_a_listed_opioid_is_not_named_where_no_mme_total_is_worked_out(listed: str, tmp_path: Path) -> None:
    oxycodone = (
        home_med(OXYCODONE, "hm-ox", "2025-11-20")
        if listed == "request"
        else home_statement(OXYCODONE, "hm-ox", "2025-11-20")
    )
    assert "hm-ox" not in data_incomplete(tmp_path, "patient-view", [], oxycodone)
    amoxicillin = med_request(AMOXICILLIN, id="amx", draft=True, supply_days=10)
    assert "hm-ox" not in data_incomplete(tmp_path, "order-sign", [amoxicillin], oxycodone)
    detail = data_incomplete(tmp_path, "order-sign", [oxycodone_draft()], oxycodone)
    assert (
        "hm-ox, noted on the medication list 2025-11-20): has no order or end date in the last 90 days, " + RECONCILE
        in detail
    )


def test_a_listed_opioid_is_named_on_patient_view_beside_a_current_opioid(tmp_path: Path) -> None:
    # The patient has a current opioid order: the MME total is worked out on patient-view, and misses this one.
    listed = home_med(OXYCODONE, "hm-ox", "2025-11-20")
    current = med_request(OXYCODONE, id="ox-now", authored=days_ago(10), supply_days=30)
    assert RECONCILE in data_incomplete(tmp_path, "patient-view", [], listed, current)


def test_the_plan_page_names_a_listed_opioid_statement_with_no_opioid_ordered(tmp_path: Path) -> None:
    oxycodone = home_statement(OXYCODONE, "ms-ox", "2025-10-15")
    app = make_app(tmp_path)
    settings = app.config["PAINPLAN"]
    with app.test_request_context("/plan"):
        view = assemble(
            PageInput((patient(), oxycodone), (), ()), settings.guideline, "p1", settings.evaluation_now(), MultiDict()
        )
        page = render_page(view, MultiDict(), lambda **_: "/plan", handle="H")
    assert "reported medication ms-ox, noted on the medication list 2025-10-15" in page


def test_a_home_medication_a_draft_converts_to_a_prescription_is_no_longer_listed() -> None:
    # Oracle Health's "convert to prescription": the new order names the home medication in priorPrescription. The
    # home entry was still listed beside the draft that replaces it ("left out of the MME total", and counted by the
    # co-prescribing checks), since the drafts were taken out before asking what they replace.
    lorazepam = home_med(LORAZEPAM, "hm-lz", "2025-06-01", period=1, period_unit="d")
    oxycodone = home_med(OXYCODONE, "hm-ox", "2025-06-01")
    draft = med_request(OXYCODONE, id="ox2", draft=True, supply_days=5)
    draft["priorPrescription"] = {"reference": "MedicationRequest/hm-ox"}
    evaluation = run("order-sign", drafts=[draft], resources=[oxycodone, lorazepam])
    assert [o.id for o in evaluation.facts.listed_medications] == ["hm-lz"]
    assert evaluation.facts.listed_opioids_named == ()
