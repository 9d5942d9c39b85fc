"""FHIR R5 medications: R5 names the medicine `medication`, a CodeableReference (`{"concept": {...}}` or
`{"reference": {"reference": "Medication/1"}}`), where R4 has medicationCodeableConcept or medicationReference.
Read by R4's names only, every R5 order, fill, statement and dose given was "a medication with no name or code":
an oxycodone order got the unidentified-medication card instead of its MME. Each R5 body here is read exactly as its
R4 equivalent is, on the card, on the plan page and in the population review."""

from __future__ import annotations

import copy
import csv
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import responses
from builders import RXNORM, TZ, UCUM, card, days_ago, dispense, med_request, run
from cds_support import FHIR, OXYCODONE_5, bundle, full_prefetch, hook_request, make_app, oxycodone_draft, topics
from synthetic_export import OXYCODONE_10, patient, write_export
from synthetic_export import dispense as export_dispense
from test_medication_administrations import OUD_CHECK, oud, sublocade_given
from test_medication_statements import LORAZEPAM, low_dose_draft, statement
from test_plan import rich_patient
from test_plan_view import FakeFhir, _app, _open_plan

from guideline.config import GuidelineConfig
from guideline.plan import build_plan, compact_drafts
from guideline.population import Period
from guideline.record import build_record, medication_references
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files
from smart_app.population.worker import line_keys

OXYCODONE_CONCEPT = {
    "coding": [{"system": RXNORM, "code": OXYCODONE_5, "display": "oxycodone hydrochloride 5 MG Oral Tablet"}],
    "text": "oxycodone HCl 5 mg tablet",
}
MEDICATION_TYPES = ("MedicationRequest", "MedicationDispense", "MedicationStatement", "MedicationAdministration")


def as_r5(resource: dict[str, Any]) -> dict[str, Any]:
    """The R5 form of an R4 medication resource: medication[x] as the CodeableReference `medication`."""
    converted = copy.deepcopy(resource)
    if "medicationCodeableConcept" in converted:
        converted["medication"] = {"concept": converted.pop("medicationCodeableConcept")}
    elif "medicationReference" in converted:
        converted["medication"] = {"reference": converted.pop("medicationReference")}
    return converted


def all_r5(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [as_r5(r) if r.get("resourceType") in MEDICATION_TYPES else r for r in resources]


def by_reference(resource: dict[str, Any], reference: str, display: str | None = None) -> dict[str, Any]:
    """An R4 resource naming its medicine by reference alone."""
    named = {key: value for key, value in resource.items() if key != "medicationCodeableConcept"}
    named["medicationReference"] = {"reference": reference, **({"display": display} if display else {})}
    return named


def oxycodone_medication(ident: str = "med-oxy-5") -> dict[str, Any]:
    """A Medication as Epic serves it: its RxNorm code and the pharmacy's name."""
    return {
        "resourceType": "Medication",
        "id": ident,
        "code": {
            "coding": [{"system": RXNORM, "code": OXYCODONE_5, "display": "oxycodone hydrochloride 5 MG Oral Tablet"}],
            "text": "OXYCODONE HCL 5 MG PO TABS",
        },
    }


def cards_of(evaluation) -> list[tuple[str, str]]:
    return [(c.check_id, c.summary) for c in evaluation.cards]


# -- the order, fill, statement and dose read as their R4 equivalents ------------------------------------------------


def test_an_r5_oxycodone_order_by_concept_gets_the_cards_of_its_r4_equivalent() -> None:
    # Before: "Could not identify a medication with no name or code: the opioid checks did not count it", and
    # no high-MME card for 90 MME/day.
    draft = {**oxycodone_draft(), "medicationCodeableConcept": OXYCODONE_CONCEPT}
    r4, r5 = run("order-sign", drafts=[draft]), run("order-sign", drafts=[as_r5(draft)])
    assert card(r5, "unidentified-medication") is None
    high = card(r5, "high-mme")
    assert high is not None and "90.0 MME/day" in high.summary
    assert cards_of(r5) == cards_of(r4)


@pytest.mark.parametrize(
    "r4",
    [
        pytest.param({**oxycodone_draft(), "medicationCodeableConcept": OXYCODONE_CONCEPT}, id="order by concept"),
        pytest.param(
            {
                **by_reference(oxycodone_draft(), "#oxy", "oxycodone 5 mg tablet"),
                "contained": [oxycodone_medication("oxy")],
            },
            id="order by contained Medication",
        ),
        pytest.param(by_reference(oxycodone_draft(), "Medication/med-oxy-5"), id="order by Medication read apart"),
        pytest.param(
            by_reference(oxycodone_draft(), "https://ehr.test/fhir/Medication/med-oxy-5"), id="absolute reference"
        ),
    ],
)
def test_an_r5_order_reads_as_the_same_order_as_in_r4(r4: dict[str, Any]) -> None:
    def order(resource: dict[str, Any]):
        record = build_record(
            [],
            TZ,
            draft_orders=[resource],
            extra_medications=[oxycodone_medication()],
            fhir_server="https://ehr.test/fhir",
        )
        return record.orders[0]

    r5 = order(as_r5(r4))
    assert not r5.medication.unresolved and r5.medication.concept.codings[0].code == OXYCODONE_5
    assert r5 == order(r4)


def test_an_r5_fill_statement_and_dose_given_read_as_in_r4() -> None:
    fill = dispense(OXYCODONE_5, days_ago(10))
    taken = statement(LORAZEPAM)
    given = sublocade_given()
    r4 = build_record([fill, by_reference(dispense(OXYCODONE_5, days_ago(40)), "Medication/m1"), given], TZ,
                      extra_medications=[oxycodone_medication("m1")])  # fmt: skip
    r5_fill = as_r5(fill)
    r5 = build_record(
        [r5_fill, as_r5(by_reference(dispense(OXYCODONE_5, days_ago(40)), "Medication/m1")), as_r5(given)],
        TZ,
        extra_medications=[oxycodone_medication("m1")],
    )
    assert [d.medication for d in r5.dispenses] == [d.medication for d in r4.dispenses]
    assert [(d.when_handed_over, d.days_supply) for d in r5.dispenses] == [
        (d.when_handed_over, d.days_supply) for d in r4.dispenses
    ]
    assert r5.administrations == r4.administrations
    assert build_record([as_r5(taken)], TZ).orders == build_record([taken], TZ).orders


def test_a_referenced_r5_medication_is_read_as_its_r4_shape() -> None:
    # R5's Medication names its form `doseForm`, an ingredient `item` (a CodeableReference) and its strength
    # `strengthRatio`: a Medication known only by its ingredient and strength was "unidentified" in R5.
    ingredient_r4 = {
        "itemCodeableConcept": {"text": "oxycodone hydrochloride"},
        "isActive": True,
        "strength": {"numerator": {"value": 5, "unit": "mg", "system": UCUM, "code": "mg"},
                     "denominator": {"value": 1, "unit": "tablet"}},
    }  # fmt: skip
    medication_r4 = {
        "resourceType": "Medication",
        "id": "m-local",
        "code": {"coding": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288", "code": "10814"}]},
        "form": {"text": "tablet"},
        "ingredient": [ingredient_r4],
    }
    medication_r5 = {
        "resourceType": "Medication",
        "id": "m-local",
        "code": medication_r4["code"],
        "doseForm": {"text": "tablet"},
        "ingredient": [
            {
                "item": {"concept": {"text": "oxycodone hydrochloride"}},
                "isActive": True,
                "strengthRatio": ingredient_r4["strength"],
            }
        ],
    }
    order = as_r5(by_reference(oxycodone_draft(), "Medication/m-local"))
    r4 = build_record([], TZ, draft_orders=[order], extra_medications=[medication_r4]).orders[0]
    r5 = build_record([], TZ, draft_orders=[order], extra_medications=[medication_r5]).orders[0]
    assert r5.medication.resource is not None and r5.medication.resource.form is not None
    assert r5 == r4
    high = card(run("order-sign", drafts=[order], resources=[medication_r5]), "high-mme")
    assert high is not None and "90.0 MME/day" in high.summary


def test_an_r5_ingredient_named_by_reference_is_known_by_its_display() -> None:
    medication = {
        "resourceType": "Medication",
        "id": "m-sub",
        "ingredient": [{"item": {"reference": {"reference": "Substance/s1", "display": "oxycodone hydrochloride"}}}],
    }
    order = as_r5(by_reference(oxycodone_draft(), "Medication/m-sub"))
    read = build_record([], TZ, draft_orders=[order], extra_medications=[medication]).orders[0]
    assert read.medication.resource.ingredients[0].item.text == "oxycodone hydrochloride"


def test_an_r5_medication_reported_as_taken_counts_as_in_r4() -> None:
    # R5 says `reported: true` where R4 says reportedBoolean: an Oracle Health home medication (intent plan).
    home = med_request(LORAZEPAM, id="home-loraz", intent="plan", authored=days_ago(20))
    r4 = {**home, "reportedBoolean": True}
    r5 = {**as_r5(home), "reported": True}
    both = card(run("order-sign", drafts=[low_dose_draft()], resources=[r5]), "opioid-benzodiazepine")
    assert both is not None and "reported as taken" in both.detail
    assert cards_of(run("order-sign", drafts=[low_dose_draft()], resources=[r5])) == cards_of(
        run("order-sign", drafts=[low_dose_draft()], resources=[r4])
    )


# -- R5 MedicationStatement: no status active or not-taken; whether it is taken is its adherence ---------------------


def r5_statement(taking: str | None, **fields: Any) -> dict[str, Any]:
    """The R5 form of the R4 statement of lorazepam: status recorded, and `taking` as its adherence code."""
    resource = {**as_r5(statement(LORAZEPAM)), "status": "recorded"}
    if taking is not None:
        system = "http://hl7.org/fhir/CodeSystem/medication-statement-adherence"
        resource["adherence"] = {"code": {"coding": [{"system": system, "code": taking}]}}
    return {**resource, **fields}


@pytest.mark.parametrize("adherence", [None, "taking", "taking-as-directed", "taking-not-as-directed"])
def test_an_r5_statement_recorded_as_taken_is_a_current_medication(adherence: str | None) -> None:
    # Read by R4's statuses, R5's "recorded" was no status PainPlan knew, neither active nor unknown: a
    # benzodiazepine the patient reports taking was left out, and nothing said so.
    both = card(
        run("order-sign", drafts=[low_dose_draft()], resources=[r5_statement(adherence)]), "opioid-benzodiazepine"
    )
    assert both is not None and both.facts["sedatives"] == ["lorazepam 1 MG Oral Tablet"]


@pytest.mark.parametrize("adherence", ["not-taking", "stopped", "stopped-as-directed", "on-hold"])
def test_an_r5_statement_of_a_medicine_not_taken_now_is_no_current_medication(adherence: str) -> None:
    evaluation = run("order-sign", drafts=[low_dose_draft()], resources=[r5_statement(adherence)])
    assert card(evaluation, "opioid-benzodiazepine") is None
    assert not evaluation.facts.unknown_status_orders


def test_an_r5_statement_whose_adherence_painplan_cannot_read_is_named_as_of_unknown_status() -> None:
    unread = r5_statement(None, adherence={"code": {"text": "Patient unsure"}})
    evaluation = run("order-sign", drafts=[low_dose_draft()], resources=[unread])
    assert card(evaluation, "opioid-benzodiazepine") is None
    assert evaluation.facts.unknown_status_orders == ("lorazepam 1 MG Oral Tablet (reported medication ms-197901)",)


def test_an_r5_statement_in_error_or_a_draft_is_no_medication() -> None:
    for status in ("entered-in-error", "draft"):
        evaluation = run("order-sign", drafts=[low_dose_draft()], resources=[r5_statement("taking", status=status)])
        assert card(evaluation, "opioid-benzodiazepine") is None


# -- R5 MedicationAdministration: dated by occurence[x] (so spelled in R5) ------------------------------------------


def test_an_r5_dose_given_is_dated_by_its_occurence_and_counts_as_treatment() -> None:
    given = as_r5(sublocade_given())
    given["occurenceDateTime"] = given.pop("effectiveDateTime")
    read = build_record([given], TZ).administrations[0]
    assert read == build_record([sublocade_given()], TZ).administrations[0]
    evaluation = run("order-sign", drafts=[low_dose_draft()], resources=[oud(), given])
    assert card(evaluation, OUD_CHECK) is None


def test_an_r5_dose_given_over_a_period_is_dated_by_it() -> None:
    given = as_r5(sublocade_given())
    del given["effectiveDateTime"]
    given["occurencePeriod"] = {"start": f"{days_ago(20)}T10:00:00-04:00", "end": f"{days_ago(20)}T10:05:00-04:00"}
    read = build_record([given], TZ).administrations[0]
    assert read.given_start is not None and read.when.date().isoformat() == days_ago(20)


# -- references to fetch -------------------------------------------------------------------------------------------


def test_an_r5_reference_is_a_medication_to_fetch_and_a_concept_or_contained_one_is_not() -> None:
    named = as_r5(by_reference(oxycodone_draft(), "https://ehr.test/fhir/Medication/m7"))
    coded = as_r5(oxycodone_draft())
    contained = {**as_r5(by_reference(oxycodone_draft(), "#oxy")), "contained": [oxycodone_medication("oxy")]}
    fill = as_r5(by_reference(dispense(OXYCODONE_5, days_ago(5)), "Medication/m8"))
    server = "https://ehr.test/fhir"  # the absolute reference is on the EHR's own server
    assert medication_references([[named, coded, contained, fill]], server) == {"Medication/m7", "Medication/m8"}
    held = medication_references([[named, oxycodone_medication("m7")]], server)
    assert held == set()


# -- the hook, with the FHIR server mocked -------------------------------------------------------------------------


def post(tmp_path: Path, body: dict[str, Any], service: str = "order-sign") -> dict[str, Any]:
    response = make_app(tmp_path).test_client().post(f"/cds-services/{service}", json=body)
    assert response.status_code == 200
    return response.json


def summaries(response: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["source"]["topic"]["code"], c["summary"]) for c in response["cards"]]


def test_the_hook_reads_an_r5_order_by_concept_as_the_r4_order(tmp_path: Path) -> None:
    r5 = post(tmp_path, hook_request(drafts=[as_r5(oxycodone_draft())]))
    r4 = post(tmp_path, hook_request(drafts=[oxycodone_draft()]))
    assert "unidentified-medication" not in topics(r5)
    assert summaries(r5) == summaries(r4) and "high-mme" in topics(r5)


@responses.activate
def test_the_hook_reads_the_medication_an_r5_order_names_from_the_fhir_server(tmp_path: Path) -> None:
    # Only medicationReference sent the hook to the FHIR server: an R5 order by reference was never looked up.
    responses.get(f"{FHIR}/Medication/med-oxy-5", json=oxycodone_medication())
    draft = as_r5(by_reference(oxycodone_draft(), "Medication/med-oxy-5", "OXYCODONE HCL 5 MG PO TABS"))
    answer = post(tmp_path, hook_request(drafts=[draft], prefetch=full_prefetch("order-sign"), fhir=True))
    assert [c.request.url for c in responses.calls] == [f"{FHIR}/Medication/med-oxy-5"]
    high = next(c for c in answer["cards"] if c["source"]["topic"]["code"] == "high-mme")
    assert "90.0 MME/day" in high["summary"] and "unidentified-medication" not in topics(answer)


def test_the_hook_reads_an_r5_order_naming_a_contained_medication(tmp_path: Path) -> None:
    r4 = {**by_reference(oxycodone_draft(), "#oxy"), "contained": [oxycodone_medication("oxy")]}
    answer = post(tmp_path, hook_request(drafts=[as_r5(r4)]))
    assert "high-mme" in topics(answer) and "unidentified-medication" not in topics(answer)
    assert summaries(answer) == summaries(post(tmp_path, hook_request(drafts=[r4])))


@responses.activate
def test_the_hook_reads_r5_fills_and_the_medication_a_fill_names(tmp_path: Path) -> None:
    # Lorazepam filled 10 days ago, by code; oxycodone filled by reference to a Medication on the FHIR server.
    r4_fills = [dispense(LORAZEPAM, days_ago(10)), by_reference(dispense(OXYCODONE_5, days_ago(5)), "Medication/m5")]
    responses.get(f"{FHIR}/Medication/m5", json=oxycodone_medication("m5"))

    def answer(fills: list[dict[str, Any]]) -> dict[str, Any]:
        prefetch = full_prefetch("patient-view", dispenses=bundle(*fills))
        return post(tmp_path, hook_request("patient-view", prefetch=prefetch, fhir=True), "patient-view")

    r5 = answer([as_r5(fill) for fill in r4_fills])
    assert [c.request.url for c in responses.calls] == [f"{FHIR}/Medication/m5"]
    both = next(c for c in r5["cards"] if c["source"]["topic"]["code"] == "opioid-benzodiazepine")
    assert "OXYCODONE HCL 5 MG PO TABS (filled) + lorazepam 1 MG Oral Tablet (filled)" in both["summary"]
    assert summaries(r5) == summaries(answer(r4_fills))


def test_the_hook_never_reads_an_r5_reference_that_is_no_medication_id_and_names_its_order(tmp_path: Path) -> None:
    # The same rule as for R4's medicationReference: only a plain Medication/<id> is read with the token.
    draft = as_r5(by_reference(oxycodone_draft(), "Medication/../Patient/p1"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(r"https?://.*"), json={"resourceType": "Bundle", "type": "searchset"})
        answer = post(tmp_path, hook_request(drafts=[draft], fhir=True))
        assert [c.request.url for c in rsps.calls] == []
    details = " ".join(c["detail"] for c in answer["cards"])
    assert "medication Medication/../Patient/p1 (its medication reference could not be read)" in details
    assert "not a Medication id" in details


# -- the plan page -------------------------------------------------------------------------------------------------


def test_the_plan_page_reads_r5_orders_as_r4_ones(tmp_path: Any) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, all_r5(rich_patient()))
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert '<strong id="total-mme">60.0 MME/day</strong>' in html
    assert "lorazepam" in html.lower() and "could not be identified" not in html


def test_the_plan_page_reads_the_medication_an_r5_order_names(tmp_path: Any) -> None:
    order = as_r5(by_reference(med_request(OXYCODONE_5, id="ref-order", authored=days_ago(5)), "Medication/m-oxy"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeFhir(rsps, [rich_patient()[0], order, oxycodone_medication("m-oxy")])
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert any(url.endswith("/Medication/m-oxy") for url, _ in fake.requests)
    assert '<strong id="total-mme">30.0 MME/day</strong>' in html


def test_the_plan_page_reads_an_r5_fill(tmp_path: Any) -> None:
    fill = as_r5(by_reference(dispense(OXYCODONE_5, days_ago(5)), "Medication/m-oxy"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeFhir(rsps, [rich_patient()[0], fill, oxycodone_medication("m-oxy")])
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert any(url.endswith("/Medication/m-oxy") for url, _ in fake.requests)
    assert "could not be identified" not in html and "oxycodone" in html.lower()


def test_an_r5_draft_carried_to_the_plan_page_keeps_its_medicine() -> None:
    draft = as_r5(oxycodone_draft())
    [carried] = compact_drafts([draft], [draft["id"]]) or [None]
    assert carried["medication"] == draft["medication"]


# -- the population review of a Bulk export -------------------------------------------------------------------------

PERIOD = Period(date(2026, 1, 1), date(2026, 3, 31))


def _review(folder: Path, resources: list[Any]) -> tuple[dict[str, str], dict[str, Any]]:
    write_export(folder / "in", resources)
    review(ndjson_files(folder / "in"), folder / "out", PERIOD, date(2026, 4, 15), GuidelineConfig.from_mapping())
    with open(folder / "out" / "patients.csv", encoding="utf-8") as handle:
        rows = {row["patient_id"]: row for row in csv.DictReader(handle)}
    return rows, json.loads((folder / "out" / "data-quality.json").read_text())


def _export_fills(pid: str) -> list[dict[str, Any]]:
    """Oxycodone 10 mg, 180 tablets for 30 days, twice (90 MME/day): once by code, once by a Medication's id."""
    by_code = export_dispense(f"{pid}-f1", pid, OXYCODONE_10, "2026-01-05", 180, 30, "drA", "ph1")
    by_id = export_dispense(f"{pid}-f2", pid, None, "2026-02-04", 180, 30, "drA", "ph1",
                            medication_reference="Medication/med-oxy10")  # fmt: skip
    return [by_code, by_id]


def test_the_population_review_reads_r5_fills_as_r4_ones(tmp_path: Path) -> None:
    coded = {"coding": [{"system": RXNORM, "code": OXYCODONE_10[0], "display": OXYCODONE_10[1]}]}
    medication = {"resourceType": "Medication", "id": "med-oxy10", "code": coded}
    r4_rows, r4_quality = _review(tmp_path / "r4", [patient("p1"), medication, *_export_fills("p1")])
    r5_rows, r5_quality = _review(tmp_path / "r5", [patient("p1"), medication, *map(as_r5, _export_fills("p1"))])
    assert r5_rows["p1"]["opioid_fills"] == "2" and r5_rows["p1"]["ohd_num"] == "true"
    assert r5_rows == r4_rows
    assert r5_quality["unidentified_medications"] == r4_quality["unidentified_medications"] == []


def test_an_export_line_gives_the_medication_an_r5_resource_names() -> None:
    fill = as_r5(export_dispense("d1", "p1", None, "2026-02-04", 30, 30, medication_reference="Medication/m1"))
    assert json.loads(line_keys(json.dumps(fill)) or "[]") == [
        "MedicationDispense",
        "d1",
        "Patient/p1",
        "Medication/m1",
    ]
    coded = as_r5(export_dispense("d2", "p1", OXYCODONE_10, "2026-02-04", 30, 30))
    assert json.loads(line_keys(json.dumps(coded)) or "[]")[3] == ""


# -- one resource id, two medicines: still two resources ------------------------------------------------------------


def test_an_r5_chart_order_sharing_a_drafts_id_but_not_its_drug_is_kept() -> None:
    chart = as_r5(med_request(LORAZEPAM, id="draft-oxy", authored=days_ago(10)))
    record = build_record([chart], TZ, draft_orders=[as_r5(oxycodone_draft())])
    assert sorted(o.medication.concept.codings[0].code for o in record.orders) == sorted([OXYCODONE_5, LORAZEPAM])


# -- R5 MedicationRequest status "ended": no longer taken, but taken before ------------------------------------------

MORPHINE_ER = "891888"  # morphine sulfate 30 MG Extended Release Oral Tablet (ER/LA)
BUPRENORPHINE_NALOXONE = "1010604"  # buprenorphine 8 MG / naloxone 2 MG Sublingual Film


def _er_draft() -> dict[str, Any]:
    return med_request(MORPHINE_ER, draft=True, id="er1", frequency=2, period=1, period_unit="d")


def _past_oxycodone(status: str) -> dict[str, Any]:
    """An R5 oxycodone 5 mg order written 20 days ago for 30 days, as an R5 server sends one it calls `status`."""
    return as_r5(med_request(OXYCODONE_5, id="ox-past", status=status, authored=days_ago(20), supply_days=30))


@pytest.mark.parametrize("status", ["completed", "stopped", "ended"])
def test_an_r5_ended_order_is_opioid_use_as_a_completed_or_stopped_one_is(status: str) -> None:
    # R5 calls an order no longer in effect "ended" (its parent of completed and stopped). Read by R4's statuses
    # only, an R5 server's past oxycodone was no opioid use: the patient read as opioid-naive and a long-acting
    # opioid got the opioid-naive card, and the MME and long-term therapy history lost it.
    evaluation = run("order-sign", drafts=[_er_draft()], resources=[_past_oxycodone(status)])
    assert evaluation.facts.exposure.window_days == (0, 0, 21)
    assert not evaluation.facts.exposure.naive
    assert card(evaluation, "er-la-opioid-naive") is None


def test_an_r5_ended_order_is_no_current_prescription_and_no_unknown_status() -> None:
    # Its supply still reaches today, but the order says the patient should no longer take it: not counted now.
    evaluation = run("order-sign", drafts=[oxycodone_draft()], resources=[_past_oxycodone("ended")])
    assert evaluation.facts.active_orders == ()
    assert evaluation.facts.unknown_status_orders == ()


def test_an_r5_ended_buprenorphine_order_is_past_oud_treatment_as_a_stopped_one_is() -> None:
    past = as_r5(med_request(BUPRENORPHINE_NALOXONE, status="ended", authored=days_ago(60)))
    assert card(run("patient-view", resources=[oud(), past]), OUD_CHECK) is None
    assert card(run("patient-view", resources=[oud(), {**past, "status": "cancelled"}]), OUD_CHECK) is not None


def test_the_population_review_counts_an_r5_ended_order_as_a_completed_one(tmp_path: Path) -> None:
    from synthetic_export import order as export_order

    def prescribed(status: str) -> list[dict[str, Any]]:
        written = export_order("o1", "p1", OXYCODONE_10, "2026-02-01", "drA", per_day=6, days=30, status=status)
        return [patient("p1"), as_r5(written)]

    completed_rows, _ = _review(tmp_path / "completed", prescribed("completed"))
    ended_rows, ended_quality = _review(tmp_path / "ended", prescribed("ended"))
    assert ended_rows == completed_rows and ended_rows["p1"]["avg_mme"] == "90.0"
    assert ended_quality["orders_not_counted_by_status"] == {}


@pytest.mark.parametrize("status", ["suspended", "Discontinued", "expired"])
def test_a_recent_order_whose_status_painplan_cannot_read_is_named_not_silently_left_out(status: str) -> None:
    # No FHIR version has these statuses, but servers send them: such an order is not counted as current (nobody can
    # tell whether it is taken), and before, nothing said so.
    order = med_request(LORAZEPAM, id="lz1", authored=days_ago(10), status=status, period=8)
    evaluation = run("order-sign", drafts=[low_dose_draft()], resources=[order])
    assert evaluation.facts.unknown_status_orders == ("lorazepam 1 MG Oral Tablet (order lz1)",)
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    assert view.named["unknown-status"] == ("lorazepam 1 MG Oral Tablet (order lz1)",)


def test_medication_element_reads_r4_and_r5_medication_as_one_concept_and_one_reference() -> None:
    from guideline.fhirdata import medication_element

    oxycodone = {"coding": [{"system": RXNORM, "code": OXYCODONE_5}], "text": "oxycodone 5 mg tablet"}
    med1 = {"reference": "Medication/1"}
    contained = {"reference": "#med1"}
    assert medication_element({"medicationCodeableConcept": oxycodone}) == (oxycodone, None)
    assert medication_element({"medicationReference": med1}) == (None, med1)
    assert medication_element({"medication": {"concept": oxycodone}}) == (oxycodone, None)
    assert medication_element({"medication": {"reference": med1}}) == (None, med1)
    # An R5 CodeableReference may hold both: the concept names the medicine, the reference is still given.
    assert medication_element({"medication": {"concept": oxycodone, "reference": contained}}) == (oxycodone, contained)
    # An empty concept names nothing, so the reference does.
    assert medication_element({"medicationCodeableConcept": {}, "medicationReference": med1}) == (None, med1)
    assert medication_element({"resourceType": "MedicationRequest"}) == (None, None)
