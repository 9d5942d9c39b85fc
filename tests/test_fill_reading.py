"""How pharmacy fills are read on the hook path: a missing or unknown status, a second prescription of the same drug,
a fill dated after today, and a days' supply written in weeks or hours (evaluated on 2026-06-15)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cds_support import bundle, full_prefetch, hook_request, make_app

from guideline.checks.oud_treatment import treatment_in_window
from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.facts import Facts
from guideline.mme import compute_mme
from guideline.plan.mme_history import build_mme_history
from guideline.record import build_record
from guideline.terminology import load_terminology
from smart_app.mme_command import mme_report
from tests.builders import NOW, PATIENT_ID, RXNORM, TODAY, TZ, UCUM, card, med_request, observation, patient, run

CONFIG = GuidelineConfig.from_mapping({})
TERMS = load_terminology(CONFIG)

OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet: 7.5 MME a tablet
OXYCODONE_10 = "1049683"  # oxycodone hydrochloride 10 MG Oral Tablet: 15 MME a tablet
LORAZEPAM = "197901"
NALOXONE_SPRAY = "1725059"
SUBOXONE_FILM = "1010604"
OXYCODONE_SCREEN = "58430-0"  # oxyCODONE+oxyMORphone Ur Ql Scn
DATA_INCOMPLETE = "data-incomplete"


def fill(
    rxcui: str,
    handed_over: str | None,
    *,
    id: str = "md-1",
    status: str | None = "completed",
    quantity: int = 180,
    days: dict[str, Any] | None = None,
    prepared: str | None = None,
    prescription: str | None = None,
) -> dict[str, Any]:
    """A pharmacy's MedicationDispense as STU3 and Oracle Health send it: status optional, days' supply a Quantity."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationDispense",
        "id": id,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui}]},
        "quantity": {"value": quantity, "unit": "TAB", "system": UCUM, "code": "{tbl}"},
        "daysSupply": days or {"value": 30, "unit": "Day", "system": UCUM, "code": "d"},
    }
    if status is not None:
        resource["status"] = status
    if handed_over:
        resource["whenHandedOver"] = handed_over
    if prepared:
        resource["whenPrepared"] = prepared
    if prescription:
        resource["authorizingPrescription"] = [{"reference": prescription}]
    return resource


def incomplete_detail(tmp_path: Path, *dispenses: dict[str, Any]) -> str:
    """The data-incomplete card's detail (empty when there is none) when the service answers patient-view with these
    fills in the prefetch."""
    body = hook_request("patient-view", prefetch=full_prefetch("patient-view", dispenses=bundle(*dispenses)))
    answer = make_app(tmp_path).test_client().post("/cds-services/patient-view", json=body).get_json()
    return next((c["detail"] for c in answer["cards"] if c["source"]["topic"]["code"] == DATA_INCOMPLETE), "")


# -- 1. A fill with no status, or status unknown ----------------------------------------------------------------


def test_a_benzodiazepine_fill_with_no_status_is_counted_beside_an_opioid_being_signed() -> None:
    draft = med_request(OXYCODONE_5, draft=True, id="draft-oxy", supply_days=5)
    lorazepam = fill(LORAZEPAM, "2026-06-10", status=None, quantity=90)
    found = card(run("order-sign", drafts=[draft], resources=[lorazepam]), "opioid-benzodiazepine")
    assert found is not None


def test_an_opioid_fill_with_no_status_counts_towards_todays_mme(tmp_path: Path) -> None:
    # 180 tablets of oxycodone 10 mg over 30 days: 6 a day, 90 MME/day.
    no_status = fill(OXYCODONE_10, "2026-06-10", status=None)
    found = card(run("patient-view", resources=[no_status]), "high-mme")
    assert found is not None and "90" in found.summary
    assert "md-1" not in incomplete_detail(tmp_path, no_status)  # a fill handed over needs no status to be believed


def test_a_naloxone_fill_with_no_status_is_naloxone_on_hand() -> None:
    opioid = fill(OXYCODONE_10, "2026-06-10", status=None)
    narcan = fill(NALOXONE_SPRAY, "2026-06-10", id="md-narcan", status=None, quantity=2)
    without = run("patient-view", resources=[opioid])
    assert card(without, "naloxone") is not None
    assert card(run("patient-view", resources=[opioid, narcan]), "naloxone") is None


def test_a_fill_of_unknown_status_is_counted_and_named(tmp_path: Path) -> None:
    unknown = fill(OXYCODONE_10, "2026-06-10", status="unknown")
    found = card(run("patient-view", resources=[unknown]), "high-mme")
    assert found is not None and "90" in found.summary
    detail = incomplete_detail(tmp_path, unknown)
    assert "(fill md-1), filled 2026-06-10: status is unknown" in detail, detail


def test_a_fill_with_no_status_and_only_a_prepared_date_is_counted_and_named(tmp_path: Path) -> None:
    prepared_only = fill(OXYCODONE_10, None, status=None, prepared="2026-06-10")
    assert card(run("patient-view", resources=[prepared_only]), "high-mme") is not None
    assert "(fill md-1), filled 2026-06-10: status is unknown" in incomplete_detail(tmp_path, prepared_only)


def test_a_cancelled_fill_still_counts_for_nothing() -> None:
    evaluation = run("patient-view", resources=[fill(OXYCODONE_10, "2026-06-10", status="cancelled")])
    assert card(evaluation, "high-mme") is None


def test_a_naloxone_fill_of_unknown_status_is_not_taken_for_naloxone_on_hand() -> None:
    # Counting it would quiet the card that asks to offer naloxone: only a fill known to be handed over does.
    opioid = fill(OXYCODONE_10, "2026-06-10", status=None)
    narcan = fill(NALOXONE_SPRAY, "2026-06-10", id="md-narcan", status="unknown", quantity=2)
    assert card(run("patient-view", resources=[opioid, narcan]), "naloxone") is not None


def test_a_buprenorphine_fill_with_no_status_handed_over_is_treatment_for_opioid_use_disorder() -> None:
    film = fill(SUBOXONE_FILM, "2026-06-01", id="md-bup", status=None, quantity=60)
    facts = run("patient-view", resources=[film]).facts
    assert [d.id for d in treatment_in_window(facts, 90).fills] == ["md-bup"]


def test_an_oxycodone_fill_with_no_status_explains_an_oxycodone_positive() -> None:
    draft = med_request(OXYCODONE_5, draft=True, id="draft-oxy", supply_days=5)
    screen = observation(OXYCODONE_SCREEN, when="2026-06-05", value_string="Positive")
    resources = [fill(OXYCODONE_5, "2026-05-20", status=None, quantity=120), screen]
    assert card(run("order-sign", drafts=[draft], resources=resources), "unexpected-uds-result") is None
    assert card(run("order-sign", drafts=[draft], resources=[screen]), "unexpected-uds-result") is not None


# -- 2. A second prescription of the same drug --------------------------------------------------------------------


def _pcp_order() -> dict[str, Any]:
    return med_request(OXYCODONE_5, id="pcp1", authored="2026-06-01", quantity=120, supply_days=30)


def test_a_fill_of_another_prescription_of_the_same_drug_adds_to_the_total() -> None:
    own = fill(OXYCODONE_5, "2026-06-01", id="md-pcp", quantity=120, prescription="MedicationRequest/pcp1")
    ed = fill(OXYCODONE_5, "2026-06-08", id="md-ed", quantity=120, prescription="MedicationRequest/ed-999")
    evaluation = run("patient-view", resources=[_pcp_order(), own, ed])
    found = card(evaluation, "high-mme")
    assert found is not None and "60" in found.summary
    report = mme_report(
        {"resourceType": "Bundle", "entry": [{"resource": r} for r in (_pcp_order(), own, ed)]}, CONFIG, TERMS, TODAY
    )
    assert report["current_total_mme"] == 60.0


def test_the_mme_history_adds_the_second_prescription_as_the_total_does() -> None:
    pcp = {**_pcp_order(), "requester": {"reference": "Practitioner/dr-pcp"}}
    own = fill(OXYCODONE_5, "2026-06-01", id="md-pcp", quantity=120, prescription="MedicationRequest/pcp1")
    ed = fill(OXYCODONE_5, "2026-06-08", id="md-ed", quantity=120, prescription="MedicationRequest/ed-999")
    record = build_record([patient(), pcp, own, ed], TZ)
    facts = Facts(record, HookContext("patient-view", PATIENT_ID), CONFIG, NOW)
    assert facts.mme.total == 60
    assert build_mme_history(facts, compute_mme).peak == 60


def test_an_emergency_order_in_the_record_from_another_prescriber_adds() -> None:
    pcp = {**_pcp_order(), "status": "completed", "requester": {"reference": "Practitioner/dr-pcp"}}
    ed_order = {**_pcp_order(), "id": "ed-7", "status": "completed", "requester": {"reference": "Practitioner/dr-ed"}}
    own = fill(OXYCODONE_5, "2026-06-01", id="md-pcp", quantity=120, prescription="MedicationRequest/pcp1")
    ed = fill(OXYCODONE_5, "2026-06-08", id="md-ed", quantity=120, prescription="MedicationRequest/ed-7")
    entries = [{"resource": r} for r in (pcp, ed_order, own, ed)]
    assert mme_report({"resourceType": "Bundle", "entry": entries}, CONFIG, TERMS, TODAY)["current_total_mme"] == 60.0


def test_the_next_prescription_of_the_same_prescriber_filled_early_still_queues() -> None:
    # Schedule II opioids carry no refills: each month is a new prescription. Filled 4 days early, the May supply
    # runs out before the June one starts, so today is 30 MME/day, not 60.
    may = {**_pcp_order(), "id": "rx-may", "authoredOn": "2026-05-20", "status": "completed"}
    june = {**_pcp_order(), "id": "rx-june", "authoredOn": "2026-06-10", "status": "completed"}
    for order in (may, june):
        order["requester"] = {"reference": "Practitioner/dr-pcp"}
    first = fill(OXYCODONE_5, "2026-05-20", id="md-may", quantity=120, prescription="MedicationRequest/rx-may")
    early = fill(OXYCODONE_5, "2026-06-15", id="md-june", quantity=120, prescription="MedicationRequest/rx-june")
    report = mme_report(
        {"resourceType": "Bundle", "entry": [{"resource": r} for r in (may, june, first, early)]}, CONFIG, TERMS, TODAY
    )
    assert report["current_total_mme"] == 30.0


def test_refills_of_one_prescription_still_queue() -> None:
    first = fill(OXYCODONE_5, "2026-06-01", id="md-1", quantity=120, prescription="MedicationRequest/rx-1")
    refill = fill(OXYCODONE_5, "2026-06-08", id="md-2", quantity=120, prescription="MedicationRequest/rx-1")
    report = mme_report(
        {"resourceType": "Bundle", "entry": [{"resource": first}, {"resource": refill}]}, CONFIG, TERMS, TODAY
    )
    assert report["current_total_mme"] == 30.0


def test_a_fill_naming_no_prescription_still_queues_behind_one_that_names_one() -> None:
    first = fill(OXYCODONE_5, "2026-06-01", id="md-1", quantity=120, prescription="MedicationRequest/rx-1")
    unnamed = fill(OXYCODONE_5, "2026-06-08", id="md-2", quantity=120)
    entries = [{"resource": first}, {"resource": unnamed}]
    assert mme_report({"resourceType": "Bundle", "entry": entries}, CONFIG, TERMS, TODAY)["current_total_mme"] == 30.0


# -- 3. A fill dated after today ------------------------------------------------------------------------------------


def test_a_fill_dated_after_today_is_named_and_leaves_the_total_incomplete(tmp_path: Path) -> None:
    ahead = fill(OXYCODONE_10, "2026-06-16")
    assert card(run("patient-view", resources=[ahead]), "high-mme") is None
    detail = incomplete_detail(tmp_path, ahead)
    assert "(fill md-1), dated 2026-06-16, after today: is dated after today" in detail, detail
    report = mme_report(ahead, CONFIG, TERMS, TODAY)
    assert report["current_complete"] is False


def test_a_fill_dated_today_is_not_named_as_ahead(tmp_path: Path) -> None:
    assert "after today" not in incomplete_detail(tmp_path, fill(OXYCODONE_10, "2026-06-15"))
    assert mme_report(fill(OXYCODONE_10, "2026-06-15"), CONFIG, TERMS, TODAY)["current_complete"] is True


# -- 4. A days' supply written in another unit ------------------------------------------------------------------


def _one_fill_line(days: dict[str, Any]) -> dict[str, Any]:
    return mme_report(fill(OXYCODONE_10, "2026-06-10", quantity=120, days=days), CONFIG, TERMS, TODAY)["dispenses"][0]


def test_a_days_supply_in_weeks_is_read_as_days() -> None:
    # 120 tablets over 28 days: 4.29 a day × 15 MME = 64.3 MME/day, still current on 2026-06-15.
    line = _one_fill_line({"value": 4, "unit": "wk", "system": UCUM, "code": "wk"})
    assert line["mme_per_day"] == 64.3 and line["current"] is True


def test_a_days_supply_in_hours_is_read_as_days() -> None:
    line = _one_fill_line({"value": 720, "unit": "h", "system": UCUM, "code": "h"})
    assert line["mme_per_day"] == 60.0


def test_a_days_supply_in_words_and_a_bare_number_are_days() -> None:
    assert _one_fill_line({"value": 30, "unit": "days"})["mme_per_day"] == 60.0
    assert _one_fill_line({"value": 30})["mme_per_day"] == 60.0
    assert _one_fill_line({"value": 1, "unit": "month"})["mme_per_day"] == 60.0  # a month is 30 days


def test_a_days_supply_in_a_unit_not_read_is_unknown_and_named() -> None:
    line = _one_fill_line({"value": 30, "unit": "fortnights"})
    assert line["mme_per_day"] is None and line["status"] == "not-convertible"
    assert "unit" in line["explanation"]
    report = mme_report(
        fill(OXYCODONE_10, "2026-06-10", quantity=120, days={"value": 30, "unit": "fortnights"}), CONFIG, TERMS, TODAY
    )
    assert report["current_complete"] is False
