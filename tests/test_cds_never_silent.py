"""Never silent: unreadable resources are named, failed stages name the checks that did not run, a malformed
fhirServer is a 400 (and `painplan check` exit 2) that says what is wrong."""

from __future__ import annotations

import json
import logging

import pytest
from builders import RXNORM, condition
from cds_support import OXYCODONE_10, bundle, full_prefetch, hook_request, make_app, oxycodone_draft, raising, topics

from smart_app.cli import main


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


def post(app, body, service="order-sign"):
    return app.test_client().post(f"/cds-services/{service}", json=body)


def card(response, topic):
    return next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == topic)


def test_a_draft_whose_resource_type_is_a_list_is_named_and_the_other_draft_still_gets_its_cards(app):
    broken = {"resourceType": ["MedicationRequest"], "id": "odd-1", "status": "draft"}
    response = post(app, hook_request(drafts=[oxycodone_draft(), broken]))
    assert response.status_code == 200
    assert "high-mme" in topics(response.json) and "naloxone" in topics(response.json)
    detail = card(response, "data-incomplete")["detail"]
    assert "resource/odd-1 (draft order 2)" in detail and "resourceType is not a text value" in detail


def test_a_prefetch_resource_whose_resource_type_is_a_list_is_named_not_dropped_unseen(app):
    prefetch = full_prefetch("order-sign", conditions=bundle({"resourceType": ["Condition"], "id": "c-odd"}))
    response = post(app, hook_request(drafts=[oxycodone_draft()], prefetch=prefetch))
    assert "high-mme" in topics(response.json)
    assert "resource/c-odd (patient data item" in card(response, "data-incomplete")["detail"]


def test_a_dict_where_text_is_expected_never_costs_the_other_cards(app):
    odd = condition("http://hl7.org/fhir/sid/icd-10-cm", "M54.50", id="c-1")
    odd["id"] = {"value": "c-1"}
    odd["clinicalStatus"] = {"coding": {"code": {"nested": True}}}
    odd["code"] = {"coding": [{"system": {"a": 1}, "code": ["M54.50"]}]}
    prefetch = full_prefetch("order-sign", conditions=bundle(odd))
    response = post(app, hook_request(drafts=[oxycodone_draft()], prefetch=prefetch))
    assert response.status_code == 200 and "high-mme" in topics(response.json)


def test_a_failing_check_is_named_and_every_other_check_still_answers(app, monkeypatch, caplog):
    from guideline.checks import CHECKS

    monkeypatch.setattr(CHECKS["naloxone"], "evaluate", raising(RuntimeError("Rivera, Alex")))
    with caplog.at_level(logging.INFO, logger="painplan"):  # the call's log line is INFO: unheard at the default
        response = post(app, hook_request(drafts=[oxycodone_draft()]))
    assert response.status_code == 200
    assert "high-mme" in topics(response.json) and "naloxone" not in topics(response.json)
    not_run = card(response, "checks-not-run")
    assert not_run["indicator"] == "warning" and "Offer naloxone" in not_run["detail"]
    assert "High total daily opioid dose" not in not_run["detail"]
    # The log names the check and the error's type, never its message (which may name the patient).
    assert '"naloxone:RuntimeError"' in caplog.text and "Rivera" not in caplog.text


def test_a_record_that_cannot_be_built_names_every_check_of_the_hook(app, monkeypatch, caplog):
    import cds_hooks.service

    monkeypatch.setattr(cds_hooks.service, "build_record", raising(KeyError("Rivera, Alex: oxycodone")))
    with caplog.at_level(logging.ERROR):
        response = post(app, hook_request(drafts=[oxycodone_draft()]))
    assert response.status_code == 200 and topics(response.json) == ["checks-not-run"]
    detail = response.json["cards"][0]["detail"]
    assert "High total daily opioid dose" in detail and "Offer naloxone" in detail
    assert "record-build-failed" in caplog.text and "Rivera" not in caplog.text


def test_a_card_that_cannot_be_built_costs_only_that_card(app, monkeypatch):
    import cds_hooks.service

    real = cds_hooks.service.card_json

    def flaky(source, options):
        if source.check_id == "pdmp-review":
            raise ValueError("bad link")
        return real(source, options)

    monkeypatch.setattr(cds_hooks.service, "card_json", flaky)
    response = post(app, hook_request(drafts=[oxycodone_draft()]))
    assert "high-mme" in topics(response.json) and "pdmp-review" not in topics(response.json)
    assert "PDMP not reviewed recently: its card could not be built" in card(response, "checks-not-run")["detail"]


def test_snoozes_that_cannot_be_read_are_named(app, monkeypatch):
    import cds_hooks.service

    monkeypatch.setattr(cds_hooks.service.store.CallStore, "load_snoozes", raising(RuntimeError("database gone")))
    response = post(app, hook_request(drafts=[oxycodone_draft()]))
    assert "high-mme" in topics(response.json)
    assert "earlier overrides (snoozes)" in card(response, "data-incomplete")["detail"]


def test_cards_still_go_out_when_they_cannot_be_remembered(app, monkeypatch):
    import cds_hooks.service

    monkeypatch.setattr(cds_hooks.service.store.CallStore, "record_issued", raising(RuntimeError("disk full")))
    response = post(app, hook_request(drafts=[oxycodone_draft()]))
    assert response.status_code == 200 and "high-mme" in topics(response.json)


def test_an_unexpected_failure_of_the_whole_call_is_never_an_empty_card_list(app, monkeypatch):
    import cds_hooks.blueprint

    monkeypatch.setattr(cds_hooks.blueprint, "run_hook", raising(RuntimeError("bug")))
    response = post(app, hook_request(drafts=[oxycodone_draft()]))
    assert response.status_code == 200 and topics(response.json) == ["checks-not-run"]
    assert "Traceback" not in response.get_data(as_text=True)
    assert "High total daily opioid dose" in response.json["cards"][0]["detail"]


MALFORMED_SERVERS = [
    ("not a url", "must be an absolute https URL"),
    ("ftp://x", "must be an absolute https URL"),
    ("http://[::1", "not a valid URL"),
    ("https://", "names no host"),
    ("https:///fhir", "names no host"),
    ("https://ehr.test:99999/fhir", "not a valid URL"),
    (42, "must be a URL string"),
    (["https://ehr.test/fhir"], "must be a URL string"),
]


@pytest.mark.parametrize(("server", "words"), MALFORMED_SERVERS)
def test_a_malformed_fhir_server_is_a_400_operation_outcome_saying_what_is_wrong(app, server, words):
    response = post(app, hook_request(drafts=[oxycodone_draft()], fhirServer=server))
    assert response.status_code == 400
    assert response.json["resourceType"] == "OperationOutcome"
    assert words in response.json["issue"][0]["diagnostics"]


@pytest.mark.parametrize(("server", "words"), MALFORMED_SERVERS)
def test_painplan_check_exits_2_with_the_same_message_for_a_malformed_fhir_server(tmp_path, capsys, app, server, words):
    body = hook_request(drafts=[oxycodone_draft()], fhirServer=server)
    served = post(app, body).json["issue"][0]["diagnostics"]
    path = tmp_path / "request.json"
    path.write_text(json.dumps(body))
    assert main(["check", str(path), "--today", "2026-06-15"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == f"painplan check: {served}" and words in captured.err
    assert captured.out == ""


def test_a_failure_while_gathering_the_chart_still_checks_the_drafts_and_names_the_chart(app, monkeypatch):
    import cds_hooks.service

    monkeypatch.setattr(cds_hooks.service, "gather", raising(RuntimeError("bug")))
    response = post(app, hook_request(drafts=[oxycodone_draft()]))
    assert response.status_code == 200 and "high-mme" in topics(response.json)
    assert "the patient's chart" in card(response, "data-incomplete")["detail"]
    view = post(app, hook_request("patient-view"), "patient-view")
    assert view.status_code == 200 and "checks-not-run" in topics(view.json)


def test_database_failures_are_logged_without_their_message(app, monkeypatch, caplog):
    import cds_hooks.service

    broken = raising(RuntimeError("[parameters: ('patient-secret-id',)]"))
    monkeypatch.setattr(cds_hooks.service.store.CallStore, "load_snoozes", broken)
    monkeypatch.setattr(cds_hooks.service.store.CallStore, "record_issued", broken)
    with caplog.at_level(logging.INFO):
        response = post(app, hook_request(drafts=[oxycodone_draft()]))
    assert response.status_code == 200 and "high-mme" in topics(response.json)
    assert "snooze-load-failed" in caplog.text and "card-store-failed" in caplog.text
    assert "patient-secret-id" not in caplog.text


def test_the_plan_page_names_each_resource_it_could_not_read(tmp_path, monkeypatch):
    import responses
    from test_plan_view import FakeFhir, _app, _open_plan

    from guideline.record import build as record_build

    real = record_build._READERS["Condition"]

    def reader(data, tz):
        if data.get("id") == "c-odd":
            raise ValueError("Rivera, Alex")
        return real[1](data, tz)

    monkeypatch.setitem(record_build._READERS, "Condition", ("conditions", reader))
    odd = condition("http://hl7.org/fhir/sid/icd-10-cm", "M54.50", id="c-odd")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        from builders import patient

        FakeFhir(rsps, [patient(patient_id="p1"), odd])
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert "1 resource could not be read and was skipped" in html
    assert "Condition/c-odd (patient data item" in html and "unreadable: ValueError" in html
    assert "Rivera, Alex: " not in html


@pytest.mark.parametrize(
    ("drafts", "words"),
    [(None, "context.draftOrders is required"), ("MedicationRequest/1", "must be a Bundle"), (7, "must be a Bundle")],
)
def test_an_order_hook_without_readable_draft_orders_is_a_400_not_an_empty_answer(app, drafts, words):
    body = hook_request(drafts=[oxycodone_draft()])
    if drafts is None:
        del body["context"]["draftOrders"]
    else:
        body["context"]["draftOrders"] = drafts
    response = post(app, body)
    assert response.status_code == 400 and words in response.json["issue"][0]["diagnostics"]


def test_a_bundle_entry_without_a_resource_object_is_named(app):
    body = hook_request(drafts=[oxycodone_draft()])
    body["context"]["draftOrders"]["entry"].append({"resource": "MedicationRequest/2"})
    body["context"]["draftOrders"]["entry"].append(7)
    response = post(app, body)
    assert "high-mme" in topics(response.json)
    detail = card(response, "data-incomplete")["detail"]
    assert "resource (draft order 2): skipped: a Bundle entry that holds no resource object" in detail
    assert "resource (draft order 3)" in detail


def test_failing_exclusions_cost_only_the_checks_that_apply_them(app, monkeypatch):
    import guideline.facts

    monkeypatch.setattr(guideline.facts, "general_exclusions", raising(RuntimeError("bug")))
    response = post(app, hook_request(drafts=[oxycodone_draft()]))
    assert response.status_code == 200 and "high-mme" not in topics(response.json)
    detail = card(response, "checks-not-run")["detail"]
    assert "High total daily opioid dose: an internal error stopped it" in detail
    assert "Opioid use disorder without medication treatment" not in detail  # applies no general exclusions


@pytest.mark.parametrize("days", [999_999_999_999, 0.5])
def test_a_fill_whose_days_supply_no_pharmacy_could_send_costs_no_check(app, days):
    # Found by sweeping every number in a chart to extremes: 999,999,999,999 days (under the reader's 10^12 limit)
    # overflowed the calendar in the exposure history, and the urine-test and naloxone checks did not run.
    from synthetic_export import OXYCODONE_10, dispense

    fill = dispense("f-odd", "p1", OXYCODONE_10, "2026-06-01", 120, 30)
    fill["daysSupply"]["value"] = days
    response = post(
        app, hook_request(drafts=[oxycodone_draft()], prefetch=full_prefetch("order-sign", dispenses=bundle(fill)))
    )
    assert response.status_code == 200 and "checks-not-run" not in topics(response.json)
    assert "high-mme" in topics(response.json)
    assert "days' supply is" in card(response, "high-mme")["detail"]  # the fill is named with why it has no MME


@pytest.mark.parametrize("field", ["authoredOn", "validityPeriod"])
def test_an_order_dated_9999_costs_no_check(app, field):
    # "9999-12-31" (an EHR's "no end date") as an active order's start overflowed the calendar in high-MME and the
    # urine-test checks; it now reads as no date, and the order is still counted.
    # Oxycodone 10 mg, 1 tablet every 4 hours (90 MME/day): another product than the draft, so the two add.
    active = {**oxycodone_draft(dose=1), "id": "a-9999", "status": "active", "intent": "order"}
    active["medicationCodeableConcept"] = {"coding": [{"system": RXNORM, "code": OXYCODONE_10}]}
    if field == "authoredOn":
        active["authoredOn"] = "9999-12-31"
    else:
        active["dispenseRequest"] = {**active["dispenseRequest"], "validityPeriod": {"start": "9999-12-31T23:59:59Z"}}
    prefetch = full_prefetch("order-sign", medsActive=bundle(active))
    response = post(app, hook_request(drafts=[oxycodone_draft()], prefetch=prefetch))
    assert response.status_code == 200 and "checks-not-run" not in topics(response.json)
    assert "180.0 MME/day" in card(response, "high-mme")["summary"]


@pytest.mark.parametrize("handed_over", [None, "9999-12-31"])
def test_an_opioid_fill_no_date_places_in_time_is_named_on_the_card(app, handed_over):
    # The plan page named such fills, but the hook's cards read as if the patient had none: 90 MME/day from the
    # draft alone and not a word of a 120-tablet oxycodone fill (found reviewing what "no date" now covers).
    from synthetic_export import OXYCODONE_10, dispense

    fill = dispense("f-undated", "p1", OXYCODONE_10, "2026-06-01", 120, 30)
    fill.pop("whenHandedOver")
    if handed_over:
        fill["whenHandedOver"] = handed_over
    prefetch = full_prefetch("order-sign", dispenses=bundle(fill))
    response = post(app, hook_request(drafts=[oxycodone_draft()], prefetch=prefetch))
    detail = card(response, "data-incomplete")["detail"]
    assert "oxycodone" in detail.lower() and "f-undated" in detail and "no dispense date" in detail


def test_an_opioid_order_of_unknown_category_is_checked_and_named_on_the_card(app):
    # An order whose only category was a site's order class was left out of every check: no card, no word.
    draft = oxycodone_draft()
    draft["category"] = [
        {
            "coding": [
                {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.10.798268.30", "code": "3", "display": "E-Prescribe"}
            ]
        }
    ]
    response = post(app, hook_request(drafts=[draft], prefetch=full_prefetch("order-sign")))
    assert "90.0 MME/day" in card(response, "high-mme")["summary"]
    detail = card(response, "data-incomplete")["detail"]
    assert "draft-oxy" in detail and "E-Prescribe" in detail and "checked as an outpatient prescription" in detail


def test_a_urine_drug_test_result_no_one_can_read_is_named_on_the_card(app):
    # A fentanyl confirmation sent as a number with no flag and no cutoff cannot be judged: before, no card said so,
    # which reads as "nothing unexpected".
    from builders import observation

    result = observation("59673-4", when="2026-06-01T10:00:00Z", value_quantity=12)
    prefetch = full_prefetch("order-sign", udsLabs=bundle(result))
    detail = card(post(app, hook_request(drafts=[oxycodone_draft()], prefetch=prefetch)), "data-incomplete")["detail"]
    assert "2026-06-01" in detail and "not read as positive or negative" in detail


def test_another_patients_data_in_the_chart_is_left_out_and_named_without_their_id(app):
    # A prefetch filled wrongly (or a proxy's answer to another query) lent another patient's lorazepam to this
    # patient's cards: an opioid + benzodiazepine warning for a patient who takes none.
    from builders import PATIENT_ID, med_request

    theirs = med_request("197901", id="mr-theirs", period=8)  # lorazepam 1 mg
    theirs["subject"] = {"reference": "Patient/someone-else-42"}
    ours = med_request("197901", id="mr-ours", period=8)
    ours["subject"] = {"reference": f"https://ehr.example/fhir/Patient/{PATIENT_ID}/_history/3"}  # the same patient
    other_patient = {"resourceType": "Patient", "id": "someone-else-42", "birthDate": "2015-01-01"}
    draft = oxycodone_draft()
    draft["subject"] = {"reference": "Patient/an-id-the-ehr-writes-its-own-way"}  # drafts are never left out
    for chart, warned in (([theirs, other_patient], False), ([theirs, ours], True)):
        prefetch = full_prefetch("order-sign", medsActive=bundle(*chart))
        response = post(app, hook_request(drafts=[draft], prefetch=prefetch))
        assert ("opioid-benzodiazepine" in topics(response.json)) is warned
        assert "90.0 MME/day" in card(response, "high-mme")["summary"]
        detail = card(response, "data-incomplete")["detail"]
        assert "MedicationRequest/mr-theirs" in detail and "about another patient" in detail
        assert "someone-else-42" not in json.dumps(response.json)


def test_a_new_opioid_order_whose_supply_cannot_be_worked_out_is_named(app):
    # No quantity, no supply duration, no refills to count: neither acute nor longer-term, so the urine test, the
    # treatment plan, the acute-duration and the non-opioid-first checks judged nothing, and no card said so.
    draft = oxycodone_draft()
    draft["dispenseRequest"] = {}
    response = post(app, hook_request(drafts=[draft], prefetch=full_prefetch("order-sign")))
    detail = card(response, "data-incomplete")["detail"]
    assert "(draft order draft-oxy)" in detail and "acute or longer-term" in detail
    assert "90.0 MME/day" in card(response, "high-mme")["summary"]  # every other check still answers


def test_a_recent_order_of_unknown_status_is_named(app):
    # Cerner and others send "unknown" for an order whose state they cannot map: it is not counted as current, and
    # the card says so, where before a benzodiazepine of unknown status gave neither a card nor a word.
    from builders import days_ago, med_request

    unknown = med_request("197901", id="lz1", authored=days_ago(10), status="unknown", period=8)
    prefetch = full_prefetch("order-sign", medsRecent={"resourceType": "Bundle", "entry": [{"resource": unknown}]})
    response = post(app, hook_request(drafts=[oxycodone_draft()], prefetch=prefetch))
    detail = card(response, "data-incomplete")["detail"]
    assert "lorazepam 1 MG Oral Tablet (order lz1)" in detail and "status is unknown" in detail


def test_failing_exclusions_still_leave_the_unconverted_opioid_named_on_patient_view(app, monkeypatch):
    # high_mme.unconverted_to_name asked `runs`: the exclusions' failure took the data-incomplete card's line with it.
    from cds_support import full_prefetch
    from test_patient_view_named_gaps import oxycontin_text_sig

    import guideline.facts

    monkeypatch.setattr(guideline.facts, "general_exclusions", raising(RuntimeError("bug")))
    meds = bundle(oxycontin_text_sig())
    body = hook_request("patient-view", prefetch=full_prefetch("patient-view", medsActive=meds, medsRecent=meds))
    response = post(app, body, service="patient-view")
    assert response.status_code == 200
    assert "- OxyContin 40 mg 12 hr tablet (current order a1," in card(response, "data-incomplete")["detail"]
    assert "High total daily opioid dose: an internal error stopped it" in card(response, "checks-not-run")["detail"]
