"""The typed, lenient patient record built from FHIR JSON (R4, STU3 dose shape, sandbox payloads).

A resource that cannot be read is skipped and reported in `PatientRecord.problems`; it never fails the call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from guideline.fhirdata import (
    Concept,
    Image,
    Quantity,
    as_dict,
    as_list,
    clear_caches,
    concept,
    concepts,
    decimal,
    extension_value,
    from_image,
    integer,
    json_image,
    parse_date,
    parse_datetime,
    quantity,
    reference,
    text,
)

EPIC_ORDERED_DOSE = "https://open.epic.com/fhir/extensions/ordered-dose"
EPIC_ADMIN_AMOUNT = "https://open.epic.com/fhir/extensions/admin-amount"

# The FHIR resource types a record is built from (guideline 14.1): what the plan view asks the EHR to read.
READ_RESOURCE_TYPES: tuple[str, ...] = (
    "Patient",
    "MedicationRequest",
    "MedicationDispense",
    "Medication",
    "Observation",
    "Condition",
    "Procedure",
    "Encounter",
    "ServiceRequest",
    "CarePlan",
    "DocumentReference",
    "Consent",
)


@dataclass(frozen=True, slots=True)
class ReadProblem:
    """A resource (or part of one) that could not be read, and why. Carries no patient data."""

    resource_type: str
    resource_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Patient:
    id: str | None
    birth_date: date | None
    name: str | None = None
    gender: str | None = None
    mrn: str | None = None


@dataclass(frozen=True, slots=True)
class MedicationIngredient:
    item: Concept | None
    strength_numerator: Quantity | None
    strength_denominator: Quantity | None


@dataclass(frozen=True, slots=True)
class Medication:
    id: str | None
    code: Concept | None
    form: Concept | None
    ingredients: tuple[MedicationIngredient, ...] = ()


@dataclass(frozen=True, slots=True)
class TimingRepeat:
    frequency: Decimal | None = None
    frequency_max: Decimal | None = None
    period: Decimal | None = None
    period_max: Decimal | None = None
    period_unit: str | None = None
    time_of_day: tuple[str, ...] = ()
    when: tuple[str, ...] = ()
    bounds_duration: Quantity | None = None
    bounds_start: datetime | None = None
    bounds_end: datetime | None = None


@dataclass(frozen=True, slots=True)
class DoseAndRate:
    """One dose entry; `kind` is the Epic/HL7 type code or text, lowercased (calculated, ordered, ...)."""

    kind: str | None
    dose: Quantity | None = None
    dose_low: Quantity | None = None
    dose_high: Quantity | None = None
    rate: Quantity | None = None


@dataclass(frozen=True, slots=True)
class Dosage:
    sequence: int | None = None
    text: str | None = None
    repeat: TimingRepeat | None = None
    timing_code: Concept | None = None
    as_needed: bool = False
    dose_and_rate: tuple[DoseAndRate, ...] = ()
    max_dose_numerator: Quantity | None = None
    max_dose_denominator: Quantity | None = None
    epic_ordered_dose: Quantity | None = None
    epic_admin_amount: Quantity | None = None


@dataclass(frozen=True, slots=True)
class DispenseRequest:
    validity_start: datetime | None = None
    validity_end: datetime | None = None
    repeats_allowed: int | None = None
    quantity: Quantity | None = None
    expected_supply: Quantity | None = None


@dataclass(frozen=True, slots=True)
class ResolvedMedication:
    """What a medication[x] resolved to (guideline 2.1); `concept` is None when unresolved."""

    concept: Concept | None
    resource: Medication | None = None
    reference: str | None = None
    reference_display: str | None = None

    @property
    def unresolved(self) -> bool:
        return self.concept is None


@dataclass(frozen=True, slots=True)
class MedOrder:
    """A MedicationRequest (draft from the hook context, or from the EHR)."""

    id: str | None
    is_draft: bool
    status: str | None
    intent: str | None
    categories: tuple[Concept, ...]
    medication: ResolvedMedication
    authored_on: datetime | None
    prior_prescription: str | None
    course_of_therapy: str | None
    dosages: tuple[Dosage, ...]
    dispense: DispenseRequest

    @property
    def ref(self) -> str | None:
        return f"MedicationRequest/{self.id}" if self.id else None


@dataclass(frozen=True, slots=True)
class Dispense:
    id: str | None
    status: str | None
    medication: ResolvedMedication
    when_handed_over: datetime | None
    when_prepared: datetime | None
    days_supply: Decimal | None
    quantity: Quantity | None


@dataclass(frozen=True, slots=True)
class Component:
    code: Concept | None
    value_quantity: Quantity | None


@dataclass(frozen=True, slots=True)
class Observation:
    id: str | None
    status: str | None
    code: Concept | None
    categories: tuple[Concept, ...]
    effective: datetime | None
    effective_period_start: datetime | None
    effective_instant: datetime | None
    issued: datetime | None
    value_concept: Concept | None = None
    value_string: str | None = None
    value_quantity: Quantity | None = None
    interpretation: tuple[Concept, ...] = ()
    components: tuple[Component, ...] = ()

    @property
    def result_time(self) -> datetime | None:
        """effectiveDateTime, else effectivePeriod.start, else effectiveInstant, else issued (guideline 6.4)."""
        for value in (self.effective, self.effective_period_start, self.effective_instant, self.issued):
            if value is not None:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Condition:
    id: str | None
    code: Concept | None
    categories: tuple[Concept, ...]
    clinical_status: str | None
    verification_status: str | None
    abatement_present: bool
    recorded_date: datetime | None
    onset: datetime | None
    encounter: str | None

    @property
    def ref(self) -> str | None:
        return f"Condition/{self.id}" if self.id else None


@dataclass(frozen=True, slots=True)
class Procedure:
    id: str | None
    status: str | None
    code: Concept | None
    performed: datetime | None
    performed_start: datetime | None
    performed_end: datetime | None


@dataclass(frozen=True, slots=True)
class Encounter:
    id: str | None
    status: str | None
    period_start: datetime | None
    period_end: datetime | None
    discharge_disposition: Concept | None
    diagnosis_conditions: tuple[str, ...]
    reason_codes: tuple[Concept, ...]

    @property
    def ref(self) -> str | None:
        return f"Encounter/{self.id}" if self.id else None


@dataclass(frozen=True, slots=True)
class ServiceRequest:
    id: str | None
    is_draft: bool
    status: str | None
    intent: str | None
    code: Concept | None
    authored_on: datetime | None
    occurrence: datetime | None
    occurrence_start: datetime | None
    occurrence_end: datetime | None


@dataclass(frozen=True, slots=True)
class CarePlan:
    id: str | None
    status: str | None
    categories: tuple[Concept, ...]
    created: datetime | None
    period_start: datetime | None
    last_updated: datetime | None
    title: str | None


@dataclass(frozen=True, slots=True)
class DocumentReference:
    id: str | None
    status: str | None
    type: Concept | None
    categories: tuple[Concept, ...]
    date: datetime | None
    description: str | None


@dataclass(frozen=True, slots=True)
class Consent:
    id: str | None
    status: str | None
    categories: tuple[Concept, ...]
    date_time: datetime | None


@dataclass(frozen=True)
class PatientRecord:
    """Everything the checks and the plan view read about one patient."""

    patient: Patient | None = None
    orders: tuple[MedOrder, ...] = ()
    dispenses: tuple[Dispense, ...] = ()
    observations: tuple[Observation, ...] = ()
    conditions: tuple[Condition, ...] = ()
    procedures: tuple[Procedure, ...] = ()
    encounters: tuple[Encounter, ...] = ()
    service_requests: tuple[ServiceRequest, ...] = ()
    care_plans: tuple[CarePlan, ...] = ()
    documents: tuple[DocumentReference, ...] = ()
    consents: tuple[Consent, ...] = ()
    problems: tuple[ReadProblem, ...] = ()
    unresolved_medication_refs: tuple[str, ...] = ()

    @property
    def drafts(self) -> tuple[MedOrder, ...]:
        return tuple(o for o in self.orders if o.is_draft)

    @property
    def draft_service_requests(self) -> tuple[ServiceRequest, ...]:
        return tuple(s for s in self.service_requests if s.is_draft)


# ---------------------------------------------------------------------------------------------------------------
# Remembering answers about record objects

# ---------------------------------------------------------------------------------------------------------------
# Reading resources


@dataclass
class _Pool:
    """Resources by type/id (for medicationReference resolution) with the first-seen order kept."""

    medications: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    # One ResolvedMedication per inline concept: orders of the same drug share it, and so share the terminology's
    # membership answers. Keyed by identity; the value holds the concept, so the id cannot be reused meanwhile.
    inline: dict[int, ResolvedMedication] = field(default_factory=dict)

    def add_medication(self, resource: Mapping[str, Any], full_url: str | None) -> None:
        resource_id = text(resource.get("id"))
        if resource_id:
            self.medications.setdefault(f"Medication/{resource_id}", resource)
        if full_url:
            self.medications.setdefault(full_url, resource)

    def inline_medication(self, code: Concept) -> ResolvedMedication:
        found = self.inline.get(id(code))
        if found is None or found.concept is not code:
            found = self.inline[id(code)] = ResolvedMedication(concept=code)
        return found


def iter_resources(payload: Any) -> Iterable[tuple[Mapping[str, Any], str | None]]:
    """Every resource in a resource, Bundle (any type, nested) or list, with its Bundle fullUrl if any."""
    found: list[tuple[Mapping[str, Any], str | None]] = []
    _collect(payload, found)
    return iter(found)


def _collect(payload: Any, found: list[tuple[Mapping[str, Any], str | None]]) -> None:
    """Appends what iter_resources yields (a list, not nested generators: charts have thousands of entries)."""
    if isinstance(payload, list):
        for item in payload:
            if type(item) is dict and item.get("resourceType") != "Bundle":
                # The common case, a plain resource, without a call per item (the same test as below).
                if isinstance(item.get("resourceType"), str):
                    found.append((item, None))
                continue
            _collect(item, found)
        return
    data = as_dict(payload)
    if not data:
        return
    if data.get("resourceType") == "Bundle":
        for entry in as_list(data.get("entry")):
            entry_data = as_dict(entry)
            resource = as_dict(entry_data.get("resource"))
            if resource.get("resourceType") == "Bundle":
                _collect(resource, found)
            elif resource:
                found.append((resource, text(entry_data.get("fullUrl"))))
        return
    if isinstance(data.get("resourceType"), str):
        found.append((data, None))


def _medication(data: Mapping[str, Any]) -> Medication:
    ingredients = []
    for item in as_list(data.get("ingredient")):
        ingredient = as_dict(item)
        strength = as_dict(ingredient.get("strength"))
        ingredients.append(
            MedicationIngredient(
                item=concept(ingredient.get("itemCodeableConcept")),
                strength_numerator=quantity(strength.get("numerator")),
                strength_denominator=quantity(strength.get("denominator")),
            )
        )
    return Medication(
        id=text(data.get("id")),
        code=concept(data.get("code")),
        form=concept(data.get("form")),
        ingredients=tuple(ingredients),
    )


def _resolve_medication(data: Mapping[str, Any], pool: _Pool) -> ResolvedMedication:
    inline = concept(data.get("medicationCodeableConcept"))
    if inline is not None:
        return pool.inline_medication(inline)
    ref_data = as_dict(data.get("medicationReference"))
    ref = text(ref_data.get("reference"))
    display = text(ref_data.get("display"))
    target: Mapping[str, Any] | None = None
    if ref and ref.startswith("#"):
        wanted = ref[1:]
        target = next(
            (
                as_dict(c)
                for c in as_list(data.get("contained"))
                if as_dict(c).get("resourceType") == "Medication" and as_dict(c).get("id") == wanted
            ),
            None,
        )
    elif ref:
        target = pool.medications.get(ref) or pool.medications.get(_relative(ref))
    if target is None:
        return ResolvedMedication(concept=None, reference=ref, reference_display=display)
    medication = _medication(target)
    return ResolvedMedication(
        concept=medication.code or Concept(), resource=medication, reference=ref, reference_display=display
    )


_TYPE_AND_ID = re.compile(r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,256}$")


def _relative(ref: str) -> str:
    """`https://ehr/fhir/Medication/1` → `Medication/1` (absolute references in Epic payloads); anything that does
    not end in a plain `Type/id` (dot segments, history paths) is returned unchanged and so never resolves."""
    parts = ref.rstrip("/").split("/")
    tail = "/".join(parts[-2:]) if len(parts) >= 2 else ref
    if not _TYPE_AND_ID.match(tail) or parts[-1] in (".", ".."):
        return ref
    return tail


def _strings(value: Any) -> tuple[str, ...]:
    """The string items of a FHIR string array (timeOfDay, when); anything else is dropped."""
    if value is None:
        return ()
    return tuple(item for item in as_list(value) if isinstance(item, str))


def _repeat(data: Mapping[str, Any], tz: ZoneInfo) -> TimingRepeat | None:
    if not data:
        return None
    get = data.get
    bounds = as_dict(get("boundsPeriod"))
    return TimingRepeat(
        frequency=decimal(get("frequency")),
        frequency_max=decimal(get("frequencyMax")),
        period=decimal(get("period")),
        period_max=decimal(get("periodMax")),
        period_unit=text(get("periodUnit")),
        time_of_day=_strings(get("timeOfDay")),
        when=_strings(get("when")),
        bounds_duration=quantity(get("boundsDuration")),
        bounds_start=parse_datetime(bounds.get("start"), tz) if bounds else None,
        bounds_end=parse_datetime(bounds.get("end"), tz) if bounds else None,
    )


def _dose_kind(entry: Mapping[str, Any]) -> str | None:
    kind = concept(entry.get("type"))
    if kind is None:
        return None
    code = next((c.code for c in kind.codings if c.code), None)
    value = code or kind.text
    return value.strip().lower() if value else None


def _dose_entry(entry: Mapping[str, Any]) -> DoseAndRate:
    get = entry.get
    dose_range = as_dict(get("doseRange"))
    return DoseAndRate(
        kind=_dose_kind(entry),
        dose=quantity(get("doseQuantity")),
        dose_low=quantity(dose_range.get("low")) if dose_range else None,
        dose_high=quantity(dose_range.get("high")) if dose_range else None,
        rate=quantity(get("rateQuantity")),
    )


def _dosage(data: Mapping[str, Any], tz: ZoneInfo) -> Dosage:
    get = data.get
    timing = as_dict(get("timing"))
    entries = [_dose_entry(entry) for entry in map(as_dict, as_list(get("doseAndRate"))) if entry]
    if not entries and ("doseQuantity" in data or "doseRange" in data):
        entries = [_dose_entry(data)]  # STU3 shape: the dose sits on the dosage itself
    max_dose = as_dict(as_list(get("maxDosePerPeriod"))[0]) if get("maxDosePerPeriod") else as_dict(None)
    as_needed = get("asNeededBoolean") is True or bool(as_dict(get("asNeededCodeableConcept")))
    has_extensions = "extension" in data
    return Dosage(
        sequence=integer(get("sequence")),
        text=text(get("text")),
        repeat=_repeat(as_dict(timing.get("repeat")), tz),
        timing_code=concept(timing.get("code")),
        as_needed=as_needed,
        dose_and_rate=tuple(entries),
        max_dose_numerator=quantity(max_dose.get("numerator")),
        max_dose_denominator=quantity(max_dose.get("denominator")),
        epic_ordered_dose=quantity(extension_value(data, EPIC_ORDERED_DOSE, "valueQuantity"))
        if has_extensions
        else None,
        epic_admin_amount=quantity(extension_value(data, EPIC_ADMIN_AMOUNT, "valueQuantity"))
        if has_extensions
        else None,
    )


def _first_code(value: Any) -> str | None:
    """The first coded value of a CodeableConcept (courseOfTherapyType, an R4 status)."""
    found = concept(value)
    if found is not None:
        for coding in found.codings:
            if coding.code:
                return coding.code
    return None


def _course_of_therapy(data: Mapping[str, Any]) -> str | None:
    return _first_code(data.get("courseOfTherapyType"))


def _dosages(value: Any, tz: ZoneInfo) -> tuple[Dosage, ...]:
    """dosageInstruction. A chart repeats a few instructions many times, so each distinct one is read once and
    shared (Dosage is immutable), which also lets MME and supply remember their answers per instruction."""
    if value is None:
        return ()
    try:
        image = json_image(value)
    except TypeError:  # not plain parsed JSON (a caller's own Mapping): read it as it is
        return _read_dosages(value, tz)
    return _dosages_from_image(image, tz)


@lru_cache(maxsize=4096)
def _dosages_from_image(image: Image, tz: ZoneInfo) -> tuple[Dosage, ...]:
    return _read_dosages(from_image(image), tz)


def _read_dosages(value: Any, tz: ZoneInfo) -> tuple[Dosage, ...]:
    return tuple(_dosage(d, tz) for d in map(as_dict, as_list(value)) if d)


def _dispense_request(value: Any, tz: ZoneInfo) -> DispenseRequest:
    """dispenseRequest, read once per distinct content like the dosages."""
    if value is None:
        return _NO_DISPENSE_REQUEST
    try:
        image = json_image(value)
    except TypeError:
        return _read_dispense_request(value, tz)
    return _dispense_request_from_image(image, tz)


@lru_cache(maxsize=4096)
def _dispense_request_from_image(image: Image, tz: ZoneInfo) -> DispenseRequest:
    return _read_dispense_request(from_image(image), tz)


def _read_dispense_request(data: Any, tz: ZoneInfo) -> DispenseRequest:
    dispense = as_dict(data)
    if not dispense:
        return _NO_DISPENSE_REQUEST
    validity = as_dict(dispense.get("validityPeriod"))
    return DispenseRequest(
        validity_start=parse_datetime(validity.get("start"), tz),
        validity_end=parse_datetime(validity.get("end"), tz),
        repeats_allowed=integer(dispense.get("numberOfRepeatsAllowed")),
        quantity=quantity(dispense.get("quantity")),
        expected_supply=quantity(dispense.get("expectedSupplyDuration")),
    )


_NO_DISPENSE_REQUEST = DispenseRequest()


def read_med_order(data: Mapping[str, Any], is_draft: bool, tz: ZoneInfo, pool: _Pool | None = None) -> MedOrder:
    get = data.get
    return MedOrder(
        id=text(get("id")),
        is_draft=is_draft,
        status=text(get("status")),
        intent=text(get("intent")),
        categories=concepts(get("category")),
        medication=_resolve_medication(data, pool or _Pool()),
        authored_on=parse_datetime(get("authoredOn"), tz),
        prior_prescription=reference(get("priorPrescription")),
        course_of_therapy=_course_of_therapy(data),
        dosages=_dosages(get("dosageInstruction"), tz),
        dispense=_dispense_request(get("dispenseRequest"), tz),
    )


def _dispense(data: Mapping[str, Any], tz: ZoneInfo, pool: _Pool) -> Dispense:
    get = data.get
    return Dispense(
        id=text(get("id")),
        status=text(get("status")),
        medication=_resolve_medication(data, pool),
        when_handed_over=parse_datetime(get("whenHandedOver"), tz),
        when_prepared=parse_datetime(get("whenPrepared"), tz),
        days_supply=decimal(as_dict(get("daysSupply")).get("value")),
        quantity=quantity(get("quantity")),
    )


def _value_quantity(data: Mapping[str, Any]) -> Quantity | None:
    """valueQuantity, else a bare valueInteger/valueDecimal as a unitless quantity (pain scores often come so)."""
    found = quantity(data.get("valueQuantity"))
    if found is not None:
        return found
    for key in ("valueInteger", "valueDecimal"):
        if key in data:
            number = decimal(data[key])
            if number is not None:
                return Quantity(value=number)
    return None


def _component(data: Mapping[str, Any]) -> Component:
    return Component(code=concept(data.get("code")), value_quantity=_value_quantity(data))


def _observation(data: Mapping[str, Any], tz: ZoneInfo) -> Observation:
    get = data.get
    period = as_dict(get("effectivePeriod"))
    parts = get("component")
    return Observation(
        id=text(get("id")),
        status=text(get("status")),
        code=concept(get("code")),
        categories=concepts(get("category")),
        effective=parse_datetime(get("effectiveDateTime"), tz),
        effective_period_start=parse_datetime(period.get("start"), tz) if period else None,
        effective_instant=parse_datetime(get("effectiveInstant"), tz),
        issued=parse_datetime(get("issued"), tz),
        value_concept=concept(get("valueCodeableConcept")),
        value_string=text(get("valueString")),
        value_quantity=_value_quantity(data),
        interpretation=concepts(get("interpretation")),
        components=tuple(_component(c) for c in map(as_dict, as_list(parts)) if c) if parts else (),
    )


def _status_code(value: Any) -> str | None:
    """clinicalStatus/verificationStatus: a CodeableConcept in R4, a plain code string in STU3."""
    if isinstance(value, str):
        return value.strip() or None
    return _first_code(value)


def _condition(data: Mapping[str, Any], tz: ZoneInfo) -> Condition:
    get = data.get
    abatement_keys = [k for k in data if k.startswith("abatement")]
    return Condition(
        id=text(get("id")),
        code=concept(get("code")),
        categories=concepts(get("category")),
        clinical_status=_status_code(get("clinicalStatus")),
        verification_status=_status_code(get("verificationStatus")),
        abatement_present=any(data.get(k) not in (None, False, "", {}) for k in abatement_keys),
        recorded_date=parse_datetime(get("recordedDate") or get("assertedDate"), tz),
        onset=parse_datetime(get("onsetDateTime") or as_dict(get("onsetPeriod")).get("start"), tz),
        encounter=reference(get("encounter") or get("context")),
    )


def _procedure(data: Mapping[str, Any], tz: ZoneInfo) -> Procedure:
    get = data.get
    period = as_dict(get("performedPeriod"))
    return Procedure(
        id=text(get("id")),
        status=text(get("status")),
        code=concept(get("code")),
        performed=parse_datetime(get("performedDateTime"), tz),
        performed_start=parse_datetime(period.get("start"), tz) if period else None,
        performed_end=parse_datetime(period.get("end"), tz) if period else None,
    )


def _encounter(data: Mapping[str, Any], tz: ZoneInfo) -> Encounter:
    get = data.get
    period = as_dict(get("period"))
    diagnoses = get("diagnosis")
    return Encounter(
        id=text(get("id")),
        status=text(get("status")),
        period_start=parse_datetime(period.get("start"), tz),
        period_end=parse_datetime(period.get("end"), tz),
        discharge_disposition=concept(as_dict(get("hospitalization")).get("dischargeDisposition")),
        diagnosis_conditions=tuple(r for r in (reference(as_dict(d).get("condition")) for d in as_list(diagnoses)) if r)
        if diagnoses
        else (),
        reason_codes=concepts(get("reasonCode")),
    )


def read_service_request(data: Mapping[str, Any], is_draft: bool, tz: ZoneInfo) -> ServiceRequest:
    occurrence = as_dict(data.get("occurrencePeriod"))
    return ServiceRequest(
        id=text(data.get("id")),
        is_draft=is_draft,
        status=text(data.get("status")),
        intent=text(data.get("intent")),
        code=concept(data.get("code")),
        authored_on=parse_datetime(data.get("authoredOn"), tz),
        occurrence=parse_datetime(data.get("occurrenceDateTime"), tz),
        occurrence_start=parse_datetime(occurrence.get("start"), tz),
        occurrence_end=parse_datetime(occurrence.get("end"), tz),
    )


def _care_plan(data: Mapping[str, Any], tz: ZoneInfo) -> CarePlan:
    return CarePlan(
        id=text(data.get("id")),
        status=text(data.get("status")),
        categories=concepts(data.get("category")),
        created=parse_datetime(data.get("created"), tz),
        period_start=parse_datetime(as_dict(data.get("period")).get("start"), tz),
        last_updated=parse_datetime(as_dict(data.get("meta")).get("lastUpdated"), tz),
        title=text(data.get("title")) or text(data.get("description")),
    )


def _document(data: Mapping[str, Any], tz: ZoneInfo) -> DocumentReference:
    return DocumentReference(
        id=text(data.get("id")),
        status=text(data.get("status")),
        type=concept(data.get("type")),
        categories=concepts(data.get("category")),
        date=parse_datetime(data.get("date") or data.get("indexed"), tz),
        description=text(data.get("description")),
    )


def _consent(data: Mapping[str, Any], tz: ZoneInfo) -> Consent:
    return Consent(
        id=text(data.get("id")),
        status=text(data.get("status")),
        categories=concepts(data.get("category")),
        date_time=parse_datetime(data.get("dateTime"), tz),
    )


def _patient(data: Mapping[str, Any], tz: ZoneInfo) -> Patient:
    names = [as_dict(n) for n in as_list(data.get("name"))]
    name = None
    if names:
        first_name = names[0]
        name = (
            text(first_name.get("text"))
            or " ".join(
                [
                    *(g for g in as_list(first_name.get("given")) if isinstance(g, str)),
                    text(first_name.get("family")) or "",
                ]
            ).strip()
            or None
        )
    mrn = None
    for identifier in as_list(data.get("identifier")):
        ident = as_dict(identifier)
        type_concept = concept(ident.get("type"))
        if type_concept and any(c.code == "MR" for c in type_concept.codings):
            mrn = text(ident.get("value"))
            break
    return Patient(
        id=text(data.get("id")),
        birth_date=parse_date(data.get("birthDate"), tz),
        name=name,
        gender=text(data.get("gender")),
        mrn=mrn,
    )


def clear_read_caches() -> None:
    """Forget every cached reading of FHIR content (for cold-cost benchmarks; results never depend on it)."""
    clear_caches()
    _dosages_from_image.cache_clear()
    _dispense_request_from_image.cache_clear()


def medication_references(payloads: Iterable[Any]) -> set[str]:
    """References to Medication resources that no given payload contains (they must be fetched, 2.1 c)."""
    pool = _Pool()
    wanted: set[str] = set()
    found = list(iter_resources(list(payloads)))
    for resource, full_url in found:
        if resource.get("resourceType") == "Medication":
            pool.add_medication(resource, full_url)
    for resource, _ in found:
        if resource.get("resourceType") not in ("MedicationRequest", "MedicationDispense"):
            continue
        if resource.get("medicationCodeableConcept"):
            continue
        ref = reference(resource.get("medicationReference"))
        if ref and not ref.startswith("#") and ref not in pool.medications and _relative(ref) not in pool.medications:
            wanted.add(_relative(ref))
    return wanted


Reader = Callable[[Mapping[str, Any], ZoneInfo], Any]

# resourceType → (PatientRecord field, reader). Orders, service requests and dispenses need more than the resource
# and the zone (draft flag, Medication pool), so build_record reads those itself.
_READERS: dict[str, tuple[str, Reader]] = {
    "Observation": ("observations", _observation),
    "Condition": ("conditions", _condition),
    "Procedure": ("procedures", _procedure),
    "Encounter": ("encounters", _encounter),
    "CarePlan": ("care_plans", _care_plan),
    "DocumentReference": ("documents", _document),
    "Consent": ("consents", _consent),
}
_ORDER_TYPES = ("MedicationRequest", "MedicationOrder")  # MedicationOrder: STU3's name
_SERVICE_REQUEST_TYPES = ("ServiceRequest", "ProcedureRequest")


def _resource_id(resource: Mapping[str, Any]) -> str | None:
    raw = resource.get("id")
    return str(raw) if isinstance(raw, int) else text(raw)


def build_record(
    resources: Iterable[Any],
    tz: ZoneInfo,
    draft_orders: Any = None,
    extra_medications: Iterable[Mapping[str, Any]] = (),
) -> PatientRecord:
    """Pool every resource (Bundles of any type, lists, single resources) into one deduplicated record.

    `draft_orders` is the hook's `context.draftOrders` (a Bundle, list or resource); drafts win over an EHR copy
    with the same id. `extra_medications` are Medication resources fetched separately for references.
    """
    found: list[tuple[Mapping[str, Any], str | None]] = []
    _collect(draft_orders, found)
    draft_count = len(found)
    _collect(list(resources), found)
    pool = _Pool()
    for resource, full_url in found:
        if resource.get("resourceType") == "Medication":
            pool.add_medication(resource, full_url)
    for medication in extra_medications:
        pool.add_medication(medication, None)

    seen: set[tuple[str, str]] = set()
    collected: dict[str, list[Any]] = {name: [] for name, _ in _READERS.values()}
    orders: list[MedOrder] = []
    service_requests: list[ServiceRequest] = []
    dispenses: list[Dispense] = []
    problems: list[ReadProblem] = []
    patient: Patient | None = None

    for index, (resource, _) in enumerate(found):
        kind = resource.get("resourceType")
        resource_id = _resource_id(resource)
        if resource_id:
            key = (kind, resource_id)
            if key in seen:
                continue  # drafts come first, so a draft beats its EHR copy (guideline 3.3)
            seen.add(key)
        try:
            reading = _READERS.get(kind)
            if reading is not None:
                collected[reading[0]].append(reading[1](resource, tz))
            elif kind in _ORDER_TYPES:
                orders.append(read_med_order(resource, index < draft_count, tz, pool))
            elif kind in _SERVICE_REQUEST_TYPES:
                service_requests.append(read_service_request(resource, index < draft_count, tz))
            elif kind == "MedicationDispense":
                dispenses.append(_dispense(resource, tz, pool))
            elif kind == "Patient":
                patient = patient or _patient(resource, tz)
            elif kind == "OperationOutcome":
                problems.append(ReadProblem(kind, resource_id, "the EHR reported an error instead of data"))
        except Exception as error:  # noqa: BLE001 - one unreadable resource must never fail the call
            problems.append(ReadProblem(str(kind), resource_id, f"unreadable: {type(error).__name__}"))

    unresolved = tuple(
        sorted({o.medication.reference for o in orders if o.medication.unresolved and o.medication.reference})
    )
    return PatientRecord(
        patient=patient,
        orders=tuple(orders),
        dispenses=tuple(dispenses),
        service_requests=tuple(service_requests),
        problems=tuple(problems),
        unresolved_medication_refs=unresolved,
        **{name: tuple(values) for name, values in collected.items()},
    )
