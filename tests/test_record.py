"""The lenient record reader: numeric observation values, broken resources, STU3 shapes and medication references."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from builders import ICD10CM, LOINC, RXNORM, SNOMED, TZ, condition, med_request, observation, patient
from fixtures.mme.helpers import dosage, every
from fixtures.mme.helpers import med_request as mme_order
from fixtures.mme.helpers import mme as mme_of

from guideline.fhirdata import (
    Coding,
    Concept,
    Quantity,
    canonical_system,
    concept,
    json_image,
    parse_datetime,
    quantity,
)
from guideline.memo import MISSING, IdentityMemo
from guideline.record import (
    Dosage,
    build_record,
    clear_read_caches,
    iter_resources,
    medication_references,
)
from guideline.record import build as record_module
from guideline.record.readers import read_condition

PAIN_SCORE = "72514-3"
OXYCODONE_5MG = "1049621"


def pain_score(value_key: str, value: Any) -> dict[str, Any]:
    resource = observation(PAIN_SCORE, category="survey")
    resource[value_key] = value
    return resource


# ---- numeric observation values ----------------------------------------------------------------------------------


def test_value_integer_is_read_as_a_unitless_quantity() -> None:
    record = build_record([pain_score("valueInteger", 7)], TZ)
    assert record.observations[0].value_quantity == Quantity(value=Decimal(7))


def test_value_decimal_is_read_exactly() -> None:
    record = build_record([pain_score("valueDecimal", 6.5)], TZ)
    assert record.observations[0].value_quantity == Quantity(value=Decimal("6.5"))


def test_value_quantity_wins_over_value_integer() -> None:
    resource = pain_score("valueInteger", 3)
    resource["valueQuantity"] = {"value": 4, "unit": "{score}"}
    record = build_record([resource], TZ)
    assert record.observations[0].value_quantity == Quantity(value=Decimal(4), unit="{score}")


@pytest.mark.parametrize("bad", [True, "seven", None, [], {}])
def test_a_value_integer_that_is_not_a_number_gives_no_quantity(bad: Any) -> None:
    record = build_record([pain_score("valueInteger", bad)], TZ)
    assert record.observations[0].value_quantity is None
    assert record.problems == ()


def test_component_value_integer_is_read_too() -> None:
    resource = observation("91148-7", category="survey")
    resource["component"] = [{"code": {"coding": [{"system": LOINC, "code": "91146-1"}]}, "valueInteger": 5}]
    component = build_record([resource], TZ).observations[0].components[0]
    assert component.code is not None and component.code.has(LOINC, "91146-1")
    assert component.value_quantity == Quantity(value=Decimal(5))


# ---- broken resources are read leniently ------------------------------------------------------------------------


def test_category_written_as_a_single_object_is_read_as_a_list() -> None:
    resource = condition("http://hl7.org/fhir/sid/icd-10-cm", "M54.50")
    resource["category"] = {"coding": [{"code": "problem-list-item"}]}
    found = build_record([resource], TZ).conditions[0]
    assert [c.codings[0].code for c in found.categories] == ["problem-list-item"]


def test_strings_where_numbers_belong_are_read_as_exact_decimals() -> None:
    order = med_request(OXYCODONE_5MG, dose=1, supply_days=30)
    order["dosageInstruction"][0]["timing"]["repeat"] = {"frequency": "2", "period": " 12 ", "periodUnit": "h"}
    order["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = "1.5"
    order["dispenseRequest"]["numberOfRepeatsAllowed"] = "2"
    read = build_record([order], TZ).orders[0]
    repeat = read.dosages[0].repeat
    assert repeat is not None and (repeat.frequency, repeat.period) == (Decimal(2), Decimal(12))
    assert read.dosages[0].dose_and_rate[0].dose == Quantity(
        Decimal("1.5"), "{tbl}", "http://unitsofmeasure.org", "{tbl}"
    )
    assert read.dispense.repeats_allowed == 2


def test_numbers_keep_their_written_precision_and_types_are_not_confused() -> None:
    # 1, 1.0 and true are different JSON: caching by content must never hand one the other's reading.
    assert quantity({"value": 1}) == Quantity(Decimal("1"))
    assert str(quantity({"value": 1.0}).value) == "1.0"  # type: ignore[union-attr]
    assert quantity({"value": True}) == Quantity(None)
    assert str(quantity({"value": -0.0}).value) == "-0.0"  # type: ignore[union-attr]
    assert json_image({"a": 1}) != json_image({"a": 1.0}) != json_image({"a": True})


def test_a_194_character_id_is_kept_whole() -> None:
    long_id = "e" + "x" * 193
    resource = condition("http://hl7.org/fhir/sid/icd-10-cm", "M54.50", id=long_id)
    found = build_record([resource], TZ).conditions[0]
    assert found.id == long_id and len(found.id) == 194
    assert found.ref == f"Condition/{long_id}"


def test_an_operation_outcome_in_a_bundle_is_reported_and_the_rest_is_read() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"resource": {"resourceType": "OperationOutcome", "id": "oo1", "issue": [{"severity": "error"}]}},
            {"resource": observation(PAIN_SCORE, value_quantity=4)},
        ],
    }
    record = build_record([bundle], TZ)
    assert len(record.observations) == 1
    assert [(p.resource_type, p.resource_id) for p in record.problems] == [("OperationOutcome", "oo1")]
    assert "error" in record.problems[0].reason


def test_a_resource_whose_reader_raises_is_skipped_and_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = condition("http://hl7.org/fhir/sid/icd-10-cm", "M54.50", id="c-broken")
    fine = condition("http://hl7.org/fhir/sid/icd-10-cm", "G47.33", id="c-fine")

    def reader(data: Any, tz: Any) -> Any:
        if data.get("id") == "c-broken":
            raise ValueError("a field this reader cannot handle")
        return read_condition(data, tz)

    monkeypatch.setitem(record_module._READERS, "Condition", ("conditions", reader))
    record = build_record([broken, fine, patient()], TZ)
    assert [c.id for c in record.conditions] == ["c-fine"]
    assert [(p.resource_type, p.resource_id, p.reason) for p in record.problems] == [
        ("Condition", "c-broken", "unreadable: ValueError")
    ]
    assert record.patient is not None  # the rest of the chart is still read


def test_the_reason_for_a_problem_never_carries_patient_data(monkeypatch: pytest.MonkeyPatch) -> None:
    def reader(data: Any, tz: Any) -> Any:
        raise KeyError("Rivera, Alex: oxycodone")

    monkeypatch.setitem(record_module._READERS, "Observation", ("observations", reader))
    problem = build_record([observation(PAIN_SCORE)], TZ).problems[0]
    assert "Rivera" not in problem.reason and problem.reason == "unreadable: KeyError"


@pytest.mark.parametrize(
    "garbage",
    [
        {"resourceType": "Observation", "id": 12, "code": "not a concept", "category": [None, 3, "x"]},
        {
            "resourceType": "Condition",
            "code": {"coding": {"code": 123}},
            "clinicalStatus": "active",
            "onsetDateTime": 5,
        },
        {"resourceType": "MedicationRequest", "dosageInstruction": "one a day", "dispenseRequest": [1, 2]},
        {"resourceType": "Encounter", "period": "yesterday", "diagnosis": {"condition": "Condition/1"}},
    ],
)
def test_wrong_shapes_give_empty_fields_never_an_exception(garbage: dict[str, Any]) -> None:
    record = build_record([garbage], TZ)
    assert record.problems == ()
    assert sum(len(getattr(record, f)) for f in ("observations", "conditions", "orders", "encounters")) == 1


def test_a_numeric_code_becomes_a_string_and_a_numeric_id_still_deduplicates() -> None:
    resource = {"resourceType": "Condition", "id": 12, "code": {"coding": [{"system": "urn:local", "code": 123}]}}
    record = build_record([resource, copy.deepcopy(resource)], TZ)
    assert len(record.conditions) == 1
    assert record.conditions[0].code == Concept((Coding("urn:local", "123"),))


# ---- STU3 shapes --------------------------------------------------------------------------------------------------


def test_stu3_dose_on_the_dosage_itself_is_read_as_one_dose_entry() -> None:
    order = med_request(OXYCODONE_5MG)
    order["resourceType"] = "MedicationOrder"
    dosage = order["dosageInstruction"][0]
    del dosage["doseAndRate"]
    dosage["doseQuantity"] = {"value": 2, "unit": "tablet"}
    read = build_record([order], TZ).orders[0]
    assert read.dosages[0].dose_and_rate[0].dose == Quantity(Decimal(2), "tablet")


def test_stu3_status_strings_and_asserted_date() -> None:
    resource = {
        "resourceType": "Condition",
        "id": "c1",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "38341003"}]},
        "clinicalStatus": " active ",
        "verificationStatus": "confirmed",
        "assertedDate": "2025-04-01",
        "context": {"reference": "Encounter/e1"},
    }
    found = build_record([resource], TZ).conditions[0]
    assert (found.clinical_status, found.verification_status) == ("active", "confirmed")
    assert found.recorded_date == parse_datetime("2025-04-01", TZ)
    assert found.encounter == "Encounter/e1"


# ---- medications by reference -------------------------------------------------------------------------------------


def _by_reference(reference: str) -> dict[str, Any]:
    order = med_request(OXYCODONE_5MG)
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": reference, "display": "oxycodone 5 mg tablet"}
    return order


def _medication(medication_id: str, rxcui: str = OXYCODONE_5MG) -> dict[str, Any]:
    return {"resourceType": "Medication", "id": medication_id, "code": {"coding": [{"system": RXNORM, "code": rxcui}]}}


def test_a_contained_medication_is_resolved() -> None:
    order = _by_reference("#med1")
    order["contained"] = [_medication("med1")]
    medication = build_record([order], TZ).orders[0].medication
    assert not medication.unresolved
    assert medication.concept is not None and medication.concept.has(RXNORM, OXYCODONE_5MG)
    assert medication.resource is not None and medication.resource.id == "med1"


def test_a_medication_elsewhere_in_the_bundle_is_resolved_by_full_url() -> None:
    bundle = {
        "resourceType": "Bundle",
        "entry": [
            {"fullUrl": "urn:uuid:4f1c", "resource": {k: v for k, v in _medication("x").items() if k != "id"}},
            {"resource": _by_reference("urn:uuid:4f1c")},
        ],
    }
    medication = build_record([bundle], TZ).orders[0].medication
    assert medication.concept is not None and medication.concept.has(RXNORM, OXYCODONE_5MG)


@pytest.mark.parametrize("reference", ["Medication/m7", "https://ehr.example.org/fhir/Medication/m7"])
def test_a_medication_elsewhere_in_the_bundle_is_resolved_by_type_and_id(reference: str) -> None:
    # An absolute reference on the EHR's own server (Epic's) names the Medication of that id there.
    bundle = {
        "resourceType": "Bundle",
        "entry": [{"resource": _medication("m7")}, {"resource": _by_reference(reference)}],
    }
    record = build_record([bundle], TZ, fhir_server="https://ehr.example.org/fhir")
    assert record.orders[0].medication.concept is not None
    assert record.orders[0].medication.concept.has(RXNORM, OXYCODONE_5MG)
    assert record.unresolved_medication_refs == ()
    assert medication_references([bundle], "https://ehr.example.org/fhir") == set()


def test_an_unresolved_reference_is_listed_and_keeps_its_display() -> None:
    record = build_record([_by_reference("Medication/missing"), _by_reference("#not-contained")], TZ)
    assert all(o.medication.unresolved for o in record.orders)
    assert record.orders[0].medication.reference_display == "oxycodone 5 mg tablet"
    assert record.unresolved_medication_refs == ("#not-contained", "Medication/missing")
    assert medication_references([_by_reference("Medication/missing")]) == {"Medication/missing"}


def test_a_fetched_medication_resolves_the_reference() -> None:
    record = build_record([_by_reference("Medication/m9")], TZ, extra_medications=[_medication("m9")])
    assert not record.orders[0].medication.unresolved


# ---- drafts, deduplication and caching ----------------------------------------------------------------------------


def test_a_draft_beats_its_ehr_copy_and_duplicates_are_read_once() -> None:
    ehr_copy = med_request(OXYCODONE_5MG, id="same", status="active")
    draft = med_request(OXYCODONE_5MG, id="same", draft=True)
    record = build_record(
        [ehr_copy, copy.deepcopy(ehr_copy)], TZ, draft_orders={"resourceType": "Bundle", "entry": [{"resource": draft}]}
    )
    assert [(o.id, o.is_draft) for o in record.orders] == [("same", True)]


def test_nested_bundles_and_lists_are_walked_in_order() -> None:
    inner = {"resourceType": "Bundle", "entry": [{"resource": observation(PAIN_SCORE)}]}
    outer = {
        "resourceType": "Bundle",
        "entry": [{"resource": inner}, {"resource": patient()}, "junk", {"resource": {}}],
    }
    kinds = [r["resourceType"] for r, _ in iter_resources([outer, None, 5])]
    # Junk entries are kept as placeholders so the record names them (never dropped unseen).
    assert kinds == ["Observation", "Patient", None, None]
    problems = build_record([outer], TZ).problems
    assert [(p.position, p.reason) for p in problems] == [
        ("patient data item 3", "a Bundle entry that holds no resource object"),
        ("patient data item 4", "a Bundle entry that holds no resource object"),
    ]


def test_identical_instructions_are_shared_and_different_ones_are_not() -> None:
    first, second = med_request(OXYCODONE_5MG), med_request(OXYCODONE_5MG)
    other = med_request(OXYCODONE_5MG, dose=2)
    record = build_record([first, second, other], TZ)
    a, b, c = (o.dosages[0] for o in record.orders)
    assert a is b and a == b
    assert a != c and isinstance(c, Dosage)
    assert a.dose_and_rate[0].dose is not None and a.dose_and_rate[0].dose.value == 1
    assert c.dose_and_rate[0].dose is not None and c.dose_and_rate[0].dose.value == 2


def test_a_cached_reading_matches_a_fresh_one_for_odd_but_valid_json() -> None:
    odd = {"coding": [{}, {"system": "urn:a", "code": " x ", "display": "", "userSelected": True}], "text": "  "}
    assert concept(odd) == Concept((Coding("urn:a", "x", None, True),), None)
    assert concept(copy.deepcopy(odd)) is concept(odd)  # one shared immutable object per distinct content
    bare = {"system": "urn:a", "code": "y", "display": "Y"}
    assert concept(bare) == Concept((Coding("urn:a", "y", "Y"),), "Y")


def test_clearing_the_read_caches_changes_no_reading() -> None:
    chart = [med_request(OXYCODONE_5MG, id="a"), pain_score("valueInteger", 4), condition(RXNORM, "x", id="c")]
    before = build_record(chart, TZ)
    clear_read_caches()
    assert build_record(copy.deepcopy(chart), TZ) == before


def test_identity_memo_answers_only_for_the_very_same_objects_and_stays_bounded() -> None:
    memo = IdentityMemo(limit=2)
    first, equal_copy = Concept((Coding(RXNORM, "1"),)), Concept((Coding(RXNORM, "1"),))
    memo.put("q", first, answer=True)
    assert memo.get("q", first) is True
    assert memo.get("q", equal_copy) is MISSING  # equal content, another object: asked again, never guessed
    assert memo.get("other question", first) is MISSING
    memo.put("q", equal_copy, first, answer=False)
    assert memo.get("q", equal_copy, first) is False and memo.get("q", first, equal_copy) is MISSING
    memo.put("q", Concept(), answer=1)  # a third entry empties the full memo first
    assert memo.get("q", first) is MISSING and len(memo.entries) == 1


def test_a_weak_identity_memo_holds_one_weak_reference_per_object_however_often_it_is_emptied() -> None:
    # Benchmarks empty every memo before each cold run (`forget_all`), and a full memo empties itself: a reference
    # left behind by each entry emptied would pile up on a configuration that lives as long as the service.
    import gc
    import weakref

    from guideline.memo import WeakIdentityMemo

    class Configuration:  # a long-lived object a call only borrows
        pass

    memo = WeakIdentityMemo(limit=2)
    held = Configuration()
    for _ in range(50):
        memo.clear()
        memo.put("q", held, answer=1)
    gc.collect()
    assert memo.get("q", held) == 1 and len(weakref.getweakrefs(held)) == 1
    gone = weakref.ref(held)
    del held
    gc.collect()
    assert gone() is None and memo.entries == {}  # its entry went with it


def test_absurd_numbers_read_as_missing_and_the_checks_still_answer() -> None:
    from builders import card, med_request, run

    from guideline.fhirdata import decimal

    assert decimal("1e308") is None and decimal(10**400) is None and decimal(1e300) is None
    assert decimal("2.5") == Decimal("2.5") and decimal(0) == Decimal(0)
    evaluation = run("order-sign", drafts=[med_request("1049621", draft=True, dose=1e300)])
    assert evaluation.failures == ()
    assert card(evaluation, "high-mme").indicator == "info"  # the dose is unknown, never a crash or a huge MME


def test_crafted_medication_references_never_resolve_to_another_resource() -> None:
    from guideline.record import medication_references

    order = {
        "resourceType": "MedicationRequest",
        "id": "x",
        "medicationReference": {"reference": "Medication/../../admin"},
    }
    assert medication_references([order]) == {"Medication/../../admin"}
    absolute = dict(order, medicationReference={"reference": "https://ehr.example/fhir/Medication/abc-1"})
    assert medication_references([absolute], "https://ehr.example/fhir") == {"Medication/abc-1"}
    # On no server known to be the EHR's, it stays as written: never read as the EHR's Medication/abc-1.
    assert medication_references([absolute]) == {"https://ehr.example/fhir/Medication/abc-1"}


@pytest.mark.parametrize(
    ("extra", "present"),
    [
        ({}, False),
        ({"abatementDateTime": "2025-01-01"}, True),
        ({"abatementString": "in remission"}, True),
        ({"abatementBoolean": True}, True),
        ({"abatementBoolean": False}, False),
        ({"abatementString": ""}, False),
        ({"abatementPeriod": {}}, False),
        ({"abatementAge": {"value": 40, "unit": "a"}}, True),
        ({"abatementDate": "2025-01-01"}, True),  # not a FHIR name, but an abatement all the same
        ({"_abatementDateTime": {"extension": []}}, False),  # a primitive's extension holds no value
        ({"note\nabatement": "x"}, False),  # a key that only contains the word
    ],
)
def test_abatement_of_any_type_suffix_is_read_and_only_a_value_counts(extra: dict[str, Any], present: bool) -> None:
    resource = {**condition(ICD10CM, "M54.50"), **extra}
    assert read_condition(resource, TZ).abatement_present is present


def test_a_care_plans_follow_up_is_its_earliest_live_appointment_in_either_shape() -> None:
    def appointment(status: str, **when: Any) -> dict[str, Any]:
        return {"detail": {"kind": "Appointment", "status": status, "description": "Follow-up visit", **when}}

    plan = {
        "resourceType": "CarePlan",
        "id": "cp1",
        "status": "active",
        "activity": [
            appointment("cancelled", scheduledString="2026-06-20"),
            appointment("scheduled", scheduledString="2026-08-01"),
            appointment("scheduled", scheduledPeriod={"start": "2026-07-14T09:30:00-04:00"}),
            appointment("scheduled", scheduledString="when the patient is ready"),
            {"detail": {"kind": "ServiceRequest", "status": "scheduled", "scheduledString": "2026-06-18"}},
            "not an activity",
        ],
    }
    (read,) = build_record([plan], TZ).care_plans
    assert read.follow_up is not None and read.follow_up.isoformat() == "2026-07-14"
    assert "Follow-up visit (when the patient is ready)" in read.activities
    (none,) = build_record([{**plan, "activity": [appointment("scheduled")]}], TZ).care_plans
    assert none.follow_up is None


@pytest.mark.parametrize(
    "sent",
    ["9999-12-31", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-12:00", "9999-12", "9999", "0001-01-01", "1799-12-31"],
)
def test_a_date_outside_1800_to_2200_reads_as_no_date(sent):
    # 9999-12-31 is how several EHRs say "no end date"; near year 1 or 9999 every window and supply counted from the
    # date overflowed (a date sweep found it in high-MME, the urine-test checks, the plan page and the population).
    assert parse_datetime(sent, TZ) is None


def test_dates_inside_the_window_still_read():
    assert parse_datetime("1800-01-01", TZ).year == 1800 and parse_datetime("2200-12-31T10:00:00Z", TZ).year == 2200
    assert parse_datetime("2026-06", TZ).day == 1


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("urn:oid:2.16.840.1.113883.6.88", RXNORM),
        ("URN:OID:2.16.840.1.113883.6.88", RXNORM),
        ("http://www.nlm.nih.gov/research/umls/rxnorm/", RXNORM),
        ("https://www.nlm.nih.gov/research/umls/rxnorm", RXNORM),
        ("urn:oid:2.16.840.1.113883.6.96", SNOMED),
        ("urn:oid:2.16.840.1.113883.6.1", LOINC),
        ("https://loinc.org", LOINC),
        ("urn:oid:2.16.840.1.113883.6.90", ICD10CM),
        ("urn:oid:2.16.840.1.113883.6.69", "http://hl7.org/fhir/sid/ndc"),
        ("RxNorm", RXNORM),  # a bare name
        ("SNOMED CT", SNOMED),
        ("ICD-10-CM", ICD10CM),
        ("http://lab.example/codes/", "http://lab.example/codes/"),  # any other system is kept as written
        # HL7's own systems under their STU3 names, and interpretation as the HL7 v2 table with the same codes
        ("http://hl7.org/fhir/v2/0078", "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"),
        (
            "http://terminology.hl7.org/CodeSystem/v2-0078",
            "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
        ),
        ("http://hl7.org/fhir/condition-category", "http://terminology.hl7.org/CodeSystem/condition-category"),
        ("http://hl7.org/fhir/discharge-disposition", "http://terminology.hl7.org/CodeSystem/discharge-disposition"),
    ],
)
def test_a_code_system_written_as_its_oid_or_another_url_form_is_read_as_its_fhir_name(written: str, read: str) -> None:
    # C-CDA conversions and HIE feeds name systems by OID: an RxNorm oxycodone was an unidentified medication.
    assert canonical_system(written) == read
    found = concept({"coding": [{"system": written, "code": "1049621"}]})
    assert found is not None and found.codings[0].system == read


def test_an_order_coded_under_the_rxnorm_oid_gets_its_mme() -> None:
    resource = mme_order(None, [dosage(1, every(6))])
    resource["medicationCodeableConcept"] = {
        "coding": [{"system": "urn:oid:2.16.840.1.113883.6.88", "code": "1049621"}]
    }
    order = mme_of(resource).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal(30))  # oxycodone 5 mg, 1 tablet every 6 hours


def test_status_codes_in_capitals_read_as_the_standard_writes_them() -> None:
    # FHIR writes every status in lower case; an order sent "Active", a fill "Completed" or a result "Final" was no
    # active order, no completed fill and no final result (an opioid with a new benzodiazepine gave no card).
    order = med_request(OXYCODONE_5MG, status="Active", intent="Order")
    diagnosis = condition(ICD10CM, "C50.911", clinical=None)
    diagnosis["clinicalStatus"] = {"coding": [{"code": "ACTIVE"}]}
    result = observation(PAIN_SCORE, status="Final")
    record = build_record([order, diagnosis, result], TZ)
    assert (record.orders[0].status, record.orders[0].intent) == ("active", "order")
    assert record.conditions[0].clinical_status == "active"
    assert record.observations[0].status == "final"


def test_stu3_systems_are_read_where_they_decide_a_card() -> None:
    # A fentanyl screen flagged POS under STU3's interpretation system read as no value (no card); a cancer on the
    # problem list under STU3's category system was hidden, so its exclusion did not apply.
    from builders import card, days_ago, run

    draft = med_request(OXYCODONE_5MG, draft=True, id="ox1", dose=2, period=4)
    flagged = observation("59673-4", when=days_ago(20))
    flagged["interpretation"] = {"coding": [{"system": "http://hl7.org/fhir/v2/0078", "code": "POS"}]}
    assert card(run("order-sign", drafts=[draft], resources=[flagged]), "unexpected-uds-result") is not None
    cancer = condition(ICD10CM, "C50.911", category=None)
    cancer["category"] = [
        {"coding": [{"system": "http://hl7.org/fhir/condition-category", "code": "problem-list-item"}]}
    ]
    assert card(run("order-sign", drafts=[draft], resources=[cancer]), "high-mme") is None


def test_dstu2_dates_are_read_under_their_dstu2_names() -> None:
    # DSTU2's MedicationOrder has dateWritten, not authoredOn: read as having no start, a 2-year-old order with no
    # supply stayed "current" (status active is the only evidence) and counted in the total.
    from builders import days_ago, run

    old = med_request(OXYCODONE_5MG, supply_days=None)
    old["resourceType"] = "MedicationOrder"
    del old["authoredOn"]
    old["dateWritten"] = days_ago(700)[:10]
    assert run("patient-view", resources=[old]).facts.active_orders == ()
    recent = {**old, "dateWritten": days_ago(10)[:10]}
    assert len(run("patient-view", resources=[recent]).facts.active_orders) == 1
    problem = condition(ICD10CM, "C50.911")
    problem["dateRecorded"] = problem.pop("recordedDate", None) or "2025-01-02"
    record = build_record([patient(), problem], TZ)
    assert record.conditions[0].recorded_date is not None


def test_dstu2_timing_and_statement_dose_are_read_under_their_dstu2_names() -> None:
    # DSTU2 writes the period's unit as periodUnits and a statement's dose as quantityQuantity: read under the R4
    # names only, 2 tablets every 4 hours had "no frequency" and the order no MME unless a quantity made it up.
    order = {
        "resourceType": "MedicationOrder",
        "id": "mo1",
        "status": "active",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": OXYCODONE_5MG}]},
        "dosageInstruction": [
            {"timing": {"repeat": {"frequency": 1, "period": 4, "periodUnits": "h"}}, "doseQuantity": {"value": 2}}
        ],
    }
    assert mme_of(order).total == Decimal(90)
    statement = {
        "resourceType": "MedicationStatement",
        "id": "ms1",
        "status": "active",
        "medicationCodeableConcept": order["medicationCodeableConcept"],
        "dosage": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 4, "periodUnits": "h"}},
                "quantityQuantity": {"value": 2, "unit": "tablet"},
            }
        ],
    }
    assert mme_of(statement).total == Decimal(90)
    ranged = copy.deepcopy(statement)
    ranged["dosage"][0]["quantityRange"] = {"low": {"value": 1}, "high": {"value": 2}}
    del ranged["dosage"][0]["quantityQuantity"]
    assert mme_of(ranged).total == Decimal(90)  # the high end of the range, as for doseRange


def test_stu3_and_dstu2_prescribers_and_dstu2_dispensers_are_read() -> None:
    # STU3 nests the prescriber under requester.agent and DSTU2 names it prescriber (its fills name the pharmacy
    # dispenser): read as R4's requester only, their fills named no prescriber and OMP counted none of them.
    stu3 = mme_order(OXYCODONE_5MG, [dosage(1, every(6))], id="s3")
    stu3["requester"] = {"agent": {"reference": "Practitioner/dr3"}, "onBehalfOf": {"reference": "Organization/o"}}
    dstu2 = {**mme_order(OXYCODONE_5MG, [dosage(1, every(6))], id="d2"), "resourceType": "MedicationOrder"}
    dstu2["prescriber"] = {"reference": "Practitioner/dr2"}
    fill = {
        "resourceType": "MedicationDispense",
        "id": "f2",
        "status": "completed",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": OXYCODONE_5MG}]},
        "dispenser": {"reference": "Organization/pharmacy9"},
    }
    record = build_record([stu3, dstu2, fill], TZ)
    assert [o.requester for o in record.orders] == ["Practitioner/dr3", "Practitioner/dr2"]
    assert record.dispenses[0].performers == ("Organization/pharmacy9",)


def test_stu3_and_dstu2_medication_strengths_are_read() -> None:
    # STU3 writes an ingredient's strength as amount, DSTU2 nests form and ingredients under product (its item a
    # Reference to a Substance): read under R4's names only, a local-coded oxycodone 5 mg tablet had no strength.
    def order(medication: dict[str, Any]) -> list[dict[str, Any]]:
        request = mme_order(OXYCODONE_5MG, [dosage(2, every(4))], id=f"o-{medication['id']}")
        del request["medicationCodeableConcept"]
        request["medicationReference"] = {"reference": f"Medication/{medication['id']}"}
        return [request, medication]

    five_mg = {"numerator": {"value": 5, "unit": "mg"}, "denominator": {"value": 1, "unit": "tablet"}}
    local = {"coding": [{"system": "urn:oid:1.2.3.4", "code": "L1", "display": "OXYCODONE HCL ORAL"}]}
    stu3 = {
        "resourceType": "Medication",
        "id": "stu3",
        "code": local,
        "form": {"text": "tablet"},
        "ingredient": [{"itemCodeableConcept": {"coding": [{"system": RXNORM, "code": "7804"}]}, "amount": five_mg}],
    }
    dstu2 = {
        "resourceType": "Medication",
        "id": "dstu2",
        "code": local,
        "product": {
            "form": {"text": "tablet"},
            "ingredient": [{"item": {"reference": "Substance/s1", "display": "oxycodone"}, "amount": five_mg}],
        },
    }
    assert mme_of(*order(stu3)).total == Decimal(90)
    assert mme_of(*order(dstu2)).total == Decimal(90)
    r4_reference = copy.deepcopy(stu3)
    r4_reference["ingredient"] = [
        {"itemReference": {"reference": "Substance/s1", "display": "Oxycodone HCl"}, "strength": five_mg}
    ]
    assert mme_of(*order(r4_reference)).total == Decimal(90)
    # An ingredient named without a strength leaves the product's own name to say it, as before.
    named = copy.deepcopy(dstu2)
    named["code"]["coding"][0]["display"] = "OXYCODONE HCL 5 MG TAB"
    del named["product"]["ingredient"][0]["amount"]
    assert mme_of(*order(named)).total == Decimal(90)


def test_a_dstu2_diagnosis_category_is_a_visible_condition() -> None:
    from builders import card, run

    draft = med_request(OXYCODONE_5MG, draft=True, id="ox1", dose=2, period=4)
    for code, excluded in (("diagnosis", True), ("symptom", False)):
        cancer = condition(ICD10CM, "C50.911", category=None)
        cancer["category"] = {"coding": [{"system": "http://hl7.org/fhir/condition-category", "code": code}]}
        assert (card(run("order-sign", drafts=[draft], resources=[cancer]), "high-mme") is None) is excluded, code


def test_the_hl7_course_of_therapy_is_read_when_an_ehrs_own_code_comes_first() -> None:
    # Oracle Health sends its own code first: read by the first code, its "acute" was lost and a 30-day acute order
    # was classed by its supply as subacute/chronic.
    order = med_request(OXYCODONE_5MG)
    order["courseOfTherapyType"] = {
        "coding": [
            {"system": "https://fhir.cerner.com/ec2458f2/codeSet/4009", "code": "2337", "display": "Physician Stop"},
            {"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy", "code": "acute"},
        ],
        "text": "Physician Stop",
    }
    record = build_record([patient(), order], TZ)
    assert record.orders[0].course_of_therapy == "acute"
    order["courseOfTherapyType"] = {"coding": [{"system": "https://fhir.cerner.com/x/codeSet/4009", "code": "2338"}]}
    assert build_record([patient(), order], TZ).orders[0].course_of_therapy == "2338"  # no HL7 code: as before


def test_a_versioned_medication_reference_names_the_medication() -> None:
    """`Medication/med1/_history/3` (a server that writes versioned references) is the Medication med1: it was
    neither found in the payload nor read from the server, so the order was 'unidentified (not found)' and its
    opioid left out of the MME total. Read, or fetched, as its current version."""
    from guideline.record import medication_references
    from tests.builders import RXNORM, med_request, run

    order = med_request("1049621", draft=True, id="ox1", supply_days=30, quantity=120)
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": "https://ehr.example.org/fhir/Medication/med1/_history/3"}
    medication = {
        "resourceType": "Medication",
        "id": "med1",
        "code": {"coding": [{"system": RXNORM, "code": "1049621"}]},
    }
    server = "https://ehr.example.org/fhir"
    evaluation = run("order-sign", drafts=[order], resources=[medication], fhir_server=server)
    assert float(evaluation.facts.mme.total) == 30.0
    assert medication_references([[order]], server) == {"Medication/med1"}  # read from the server by its id
    traversal = dict(order, medicationReference={"reference": "Medication/../_history/3"})
    assert medication_references([[traversal]]) != {"Medication/.."}  # never a path step


def test_an_entry_typed_bundle_with_no_type_and_no_entries_is_named_not_dropped() -> None:
    # A MedicationRequest whose resourceType was mangled to "Bundle" on its way through an interface engine: it has
    # no `type` (every Bundle has one) and no entries, so it is no Bundle, and walked as one it vanished unseen.
    mangled = {**med_request(OXYCODONE_5MG, id="mr-mangled", status="active"), "resourceType": "Bundle"}
    empty_search = {"resourceType": "Bundle", "type": "searchset", "total": 0}  # a real empty nested Bundle
    outer = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": mangled}, {"resource": empty_search}],
    }
    problems = build_record([outer], TZ).problems
    assert [(p.resource_id, p.position) for p in problems] == [("mr-mangled", "patient data item 1")]
    assert "no type and no entries" in problems[0].reason
