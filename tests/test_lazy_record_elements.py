"""Elements a reader made into record fields for every resource and the order-sign checks seldom read (an order's
course of therapy, a fill's type and quantity, a result's reference range) are read when first used; what they
read as is unchanged."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from guideline.fhirdata import LOINC, RXNORM, UCUM, Quantity
from guideline.record import readers
from guideline.record.pool import MedicationPool

TZ = ZoneInfo("America/New_York")
OXYCODONE = {"coding": [{"system": RXNORM, "code": "1049621", "display": "oxycodone hydrochloride 5 MG Oral Tablet"}]}


def _counted(monkeypatch: pytest.MonkeyPatch, name: str) -> list[Any]:
    """Every call of the reader function `name` in readers, by its first argument."""
    calls: list[Any] = []
    real = getattr(readers, name)

    def counting(*args: Any) -> Any:
        calls.append(args[0])
        return real(*args)

    monkeypatch.setattr(readers, name, counting)
    return calls


def test_an_orders_course_of_therapy_is_read_when_used(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counted(monkeypatch, "_course")
    system = "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy"
    course = {"coding": [{"system": system, "code": "Continuous"}]}
    order = {
        "resourceType": "MedicationRequest",
        "id": "eMR-1",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": OXYCODONE,
        "authoredOn": "2026-05-01T10:00:00-05:00",
        "courseOfTherapyType": course,
    }
    read = readers.read_med_order(order, False, TZ)
    assert calls == []
    assert read.course_of_therapy == "continuous" and read.course_of_therapy == "continuous" and calls == [course]
    assert readers.read_med_order({**order, "courseOfTherapyType": None}, False, TZ).course_of_therapy is None


def test_a_fills_type_and_quantity_are_read_when_used(monkeypatch: pytest.MonkeyPatch) -> None:
    kinds, amounts = _counted(monkeypatch, "_supply_type"), _counted(monkeypatch, "quantity")
    fill = {
        "resourceType": "MedicationDispense",
        "id": "eMD-1",
        "status": "completed",
        "medicationCodeableConcept": OXYCODONE,
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "FF"}]},
        "quantity": {"value": 60, "unit": "tablet"},
        "daysSupply": {"value": 30, "unit": "Day", "system": UCUM, "code": "d"},
        "whenHandedOver": "2026-05-02T11:00:00-05:00",
    }
    dispense = readers.read_dispense(fill, TZ, MedicationPool())
    assert kinds == [] and amounts == [fill["daysSupply"]]  # the days' supply: read by every supply rule
    assert dispense.quantity == Quantity(Decimal(60), "tablet") and amounts[1:] == [fill["quantity"]]
    assert dispense.supply_type is not None and dispense.supply_type.codings[0].code == "FF"
    assert kinds == [fill["type"]]
    bare = readers.read_dispense({**fill, "type": None, "quantity": None}, TZ, MedicationPool())
    assert bare.supply_type is None and bare.quantity is None


def test_a_results_reference_range_is_read_when_used(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counted(monkeypatch, "_reference_high")
    result = {
        "resourceType": "Observation",
        "id": "eObs-1",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "16250-3", "display": "Oxycodone [Mass/volume] in Urine"}]},
        "effectiveDateTime": "2026-05-02T11:00:00-05:00",
        "valueQuantity": {"value": 420, "unit": "ng/mL", "system": UCUM, "code": "ng/mL"},
        "referenceRange": [{"text": "<300 ng/mL"}],
    }
    observation = readers.read_observation(result, TZ)
    assert calls == []
    assert observation.reference_high == Quantity(Decimal(300), "ng/mL") and observation.reference_below is True
    assert len(calls) == 1  # one reading of the range gives both fields
    assert observation.reference_high == Quantity(Decimal(300), "ng/mL") and len(calls) == 1  # then kept
    # Read in the other order (a copy's equality reads reference_below first), still once.
    other = readers.read_observation({**result, "referenceRange": [{"high": {"value": 300, "unit": "ng/mL"}}]}, TZ)
    assert other.reference_below is False and other.reference_high == Quantity(Decimal(300), "ng/mL")
    assert len(calls) == 2
    plain = readers.read_observation({**result, "referenceRange": None}, TZ)
    assert plain.reference_high is None and plain.reference_below is False


def test_whether_a_problem_has_abated_is_read_when_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read only for a problem with no clinicalStatus (`clinical.is_active`), a search over every key of each."""
    calls = _counted(monkeypatch, "_abatement_present")
    problem = {
        "resourceType": "Condition",
        "id": "eCond-2",
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "G89.29"}]},
        "abatementDateTime": "2025-12-01",
    }
    condition = readers.read_condition(problem, TZ)
    assert calls == []
    assert condition.abatement_present is True and condition.abatement_present is True and len(calls) == 1
    assert readers.read_condition({**problem, "abatementDateTime": None}, TZ).abatement_present is False


def test_dates_and_periods_are_parsed_when_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """One rule for a date left for its first read, in every reader: an order's written day, a problem's dates, a
    visit's end (its start is always read) and a test order's dates and due period."""
    calls = _counted(monkeypatch, "parse_datetime")
    order = readers.read_service_request(
        {
            "resourceType": "ServiceRequest",
            "id": "eSR-uds-1",
            "status": "active",
            "intent": "order",
            "code": {"coding": [{"system": LOINC, "code": "19295-5", "display": "Opiates [Presence] in Urine"}]},
            "authoredOn": "2026-06-10T09:15:00-04:00",
            "occurrencePeriod": {"start": "2026-06-10", "end": "2026-06-24"},
        },
        False,
        TZ,
    )
    visit = readers.read_encounter(
        {
            "resourceType": "Encounter",
            "id": "eEnc-1",
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "period": {"start": "2026-06-10T09:00:00-04:00", "end": "2026-06-10T09:40:00-04:00"},
        },
        TZ,
    )
    problem = readers.read_condition(
        {
            "resourceType": "Condition",
            "id": "eCond-3",
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "G89.29"}]},
            "recordedDate": "2025-03-04",
            "onsetPeriod": {"start": "2024-11-01"},
        },
        TZ,
    )
    assert calls == ["2026-06-10T09:00:00-04:00"]  # the visit's start only
    assert order.occurrence_start is not None and order.occurrence_start.isoformat() == "2026-06-10T00:00:00-04:00"
    assert order.occurrence_end is not None and order.occurrence_end.date().isoformat() == "2026-06-24"
    assert order.authored_on is not None and order.authored_on.hour == 9 and order.occurrence is None
    assert visit.period_end is not None and visit.period_end.minute == 40
    assert problem.recorded_date is not None and problem.recorded_date.date().isoformat() == "2025-03-04"
    assert problem.onset is not None and problem.onset.date().isoformat() == "2024-11-01"
    assert len(calls) == 7 and order.occurrence_end.day == 24 and len(calls) == 7  # each read once, then kept
    empty = readers.read_service_request({"resourceType": "ServiceRequest", "occurrencePeriod": {}}, False, TZ)
    assert (empty.occurrence_start, empty.occurrence_end, empty.authored_on) == (None, None, None)


def test_who_prescribed_an_order_and_its_numbers_are_read_when_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """An order's prescriber ties a fill with no authorizingPrescription to it, and its identifiers tie an HIE's copy
    to it: both read for a few orders of a call, each once, as before."""
    prescribers, numbers = _counted(monkeypatch, "_prescriber"), _counted(monkeypatch, "_numbers")
    order = {
        "resourceType": "MedicationRequest",
        "id": "eMR-2",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": OXYCODONE,
        "authoredOn": "2026-05-01T10:00:00-05:00",
        "requester": {"reference": "Practitioner/eDr-7", "display": "Jane Doe, MD"},
        "identifier": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.798268", "value": "73519"}],
    }
    read = readers.read_med_order(order, False, TZ)
    assert prescribers == [] and numbers == []
    assert read.requester == "Practitioner/eDr-7" and read.requester == "Practitioner/eDr-7" and len(prescribers) == 1
    assert read.identifiers == (("urn:oid:1.2.840.114350.1.13.0.1.7.2.798268", "73519"),) and len(numbers) == 1
    # STU3 names the prescriber under requester.agent, DSTU2's MedicationOrder `prescriber`; none is None.
    stu3 = readers.read_med_order({**order, "requester": {"agent": {"reference": "Practitioner/p3"}}}, False, TZ)
    dstu2 = {
        **order,
        "resourceType": "MedicationOrder",
        "requester": None,
        "prescriber": {"reference": "Practitioner/p2"},
    }
    assert (
        stu3.requester == "Practitioner/p3" and readers.read_med_order(dstu2, False, TZ).requester == "Practitioner/p2"
    )
    bare = readers.read_med_order({**order, "requester": None, "identifier": None}, False, TZ)
    assert bare.requester is None and bare.identifiers == ()


def test_who_dispensed_a_fill_is_read_when_used_once_for_all_three_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fill's performers, the prescriber a claim's care team names and its pharmacy are read only for a fill that
    may be one sent twice (`sent_twice`): one reading gives all three, whichever is read first."""
    calls = _counted(monkeypatch, "_performers")
    fill = {
        "resourceType": "MedicationDispense",
        "id": "eMD-2",
        "status": "completed",
        "medicationCodeableConcept": OXYCODONE,
        "performer": [
            {"actor": {"reference": "Practitioner/eRPh-4", "display": "Sam Lee, RPh"}},
            {"actor": {"reference": "Organization/ePharm-9", "display": "CVS Pharmacy #4410"}},
        ],
        "daysSupply": {"value": 30, "unit": "Day", "system": UCUM, "code": "d"},
        "whenHandedOver": "2026-05-02T11:00:00-05:00",
    }
    dispense = readers.read_dispense(fill, TZ, MedicationPool())
    assert calls == []
    assert dispense.pharmacy == "Organization/ePharm-9" and len(calls) == 1
    assert dispense.performers == ("Practitioner/eRPh-4", "Organization/ePharm-9") and dispense.prescribers == ()
    assert len(calls) == 1
    # A claim's fill names its prescriber by function; a STU3 pharmacist acted on behalf of the pharmacy.
    role = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claimcareteamrole", "code": "prescribing"}]}
    claim = [{"actor": {"reference": "Practitioner/dr1"}, "function": role}]
    stu3 = [{"actor": {"reference": "Practitioner/rph1"}, "onBehalfOf": {"reference": "Organization/ph1"}}]
    from_claim = readers.read_dispense({**fill, "performer": claim}, TZ, MedicationPool())
    assert from_claim.prescribers == ("Practitioner/dr1",) and from_claim.performers == ("Practitioner/dr1",)
    assert readers.read_dispense({**fill, "performer": stu3}, TZ, MedicationPool()).pharmacy == "Organization/ph1"
    # DSTU2's dispenser, and a fill naming only where it was dispensed.
    dstu2 = readers.read_dispense(
        {**fill, "performer": None, "dispenser": {"reference": "Practitioner/d2"}}, TZ, MedicationPool()
    )
    assert dstu2.performers == ("Practitioner/d2",) and dstu2.pharmacy is None
    placed = readers.read_dispense(
        {**fill, "performer": None, "location": {"reference": "Location/l1"}}, TZ, MedicationPool()
    )
    assert placed.pharmacy == "Location/l1" and placed.performers == ()
    alone = readers.read_dispense({**fill, "performer": None}, TZ, MedicationPool())
    assert (alone.performers, alone.prescribers, alone.pharmacy) == ((), (), None)
