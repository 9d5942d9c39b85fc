"""Readers: one lenient function per FHIR resource type, from JSON to the typed model."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from guideline import memo
from guideline.durations import quantity_days
from guideline.fhirdata import (
    MEDSTATEMENT_CATEGORY_SYSTEMS,
    Concept,
    Quantity,
    as_dict,
    as_list,
    clear_caches,
    code_text,
    concept,
    concepts,
    decimal,
    extension_value,
    ingredient_item,
    integer,
    is_absolute_url,
    medication_element,
    medication_ingredients,
    no_day_written,
    parse_date,
    parse_datetime,
    quantity,
    quantity_text,
    readings_by_text,
    reference,
    text,
    unread_date,
    unversioned,
    zoned_readings_by_text,
)
from guideline.identifiers import MARK, actor_kind, actor_reference
from guideline.record.identity import Actors, actors_in, directory_by_url, who
from guideline.record.model import (
    BILLING_UNITS_EXTENSION,
    CLAIM_EXTENSION,
    DIAGNOSIS_CLAIM_EXTENSION,
    EPIC_ADMIN_AMOUNT,
    EPIC_ORDERED_DOSE,
    PROCEDURE_CLAIM_EXTENSION,
    Administration,
    CarePlan,
    Component,
    Condition,
    Consent,
    DiagnosticReport,
    Dispense,
    DispenseRequest,
    DocumentReference,
    Dosage,
    DoseAndRate,
    Encounter,
    Goal,
    GoalTarget,
    Medication,
    MedicationIngredient,
    MedOrder,
    Observation,
    Patient,
    Place,
    Procedure,
    ResolvedMedication,
    ServiceRequest,
    TimingRepeat,
    flags_not_read,
    order_located,
    value_words_not_read,
)
from guideline.record.pool import (
    SOURCE,
    MedicationPool,
    absolute_on_source,
    clear_inline_medications,
    coded_medication,
    located_id,
    located_reference,
    on_another_server,
)
from guideline.record.slot_init import UNREAD


def _medication(data: Mapping[str, Any], siblings: Any = None) -> Medication:
    """A Medication in R4's shape, R5's (`doseForm`; an ingredient's `item` a CodeableReference, its strength
    `strengthRatio`), STU3's (an ingredient's strength is `amount`) or DSTU2's (form and ingredients under
    `product`). An ingredient given by reference (R4's itemReference, DSTU2's item) is the contained Medication or
    Substance it points at, known by its code; any other by its display. `siblings`: the contained resources of the
    order that contains this Medication, among which its "#id" references resolve too."""
    product = as_dict(data.get("product"))  # DSTU2
    local = _contained_by_id(data, siblings)
    ingredients = []
    for ingredient in medication_ingredients(data):
        strength = as_dict(ingredient.get("strength") or ingredient.get("amount") or ingredient.get("strengthRatio"))
        named, by_reference = ingredient_item(ingredient)
        ingredients.append(
            MedicationIngredient.make(
                item=concept(named if named is not None else _referenced(by_reference, local)),
                strength_numerator=quantity(strength.get("numerator")),
                strength_denominator=quantity(strength.get("denominator")),
                active=ingredient.get("isActive") is not False,  # R4, R5 and STU3; absent is active
            )
        )
    return Medication.make(
        id=text(data.get("id")),
        code=concept(data.get("code")),
        form=concept(data.get("form") or data.get("doseForm") or product.get("form")),  # R4/STU3, R5, DSTU2
        ingredients=tuple(ingredients),
    )


# Compared, never hashed: a contained resource whose resourceType is no text (a list) is then no ingredient an "#id"
# names, as a contained Medication so written names no medicine (`_resolve_medication`); as a set's key it made the
# whole order unreadable.
_INGREDIENT_TYPES = ("Medication", "Substance")


def _contained_by_id(data: Mapping[str, Any], siblings: Any) -> dict[str, Mapping[str, Any]]:
    """The contained Medications and Substances an ingredient's "#id" may name, by id: the Medication's own first,
    then its container's (a contained resource's "#id" resolves among its container's, as Epic sends an order)."""
    found: dict[str, Mapping[str, Any]] = {}
    for item in (*as_list(data.get("contained")), *as_list(siblings)):
        resource = as_dict(item)
        key = text(resource.get("id"))
        if key and resource.get("resourceType") in _INGREDIENT_TYPES:
            found.setdefault(key, resource)
    return found


def _referenced(reference: Mapping[str, Any], local: Mapping[str, Mapping[str, Any]]) -> Any:
    """The ingredient a Reference names: a contained Medication's or Substance's code (R5's Substance.code is a
    CodeableReference: its concept), with the reference's display as its text when the code has none; otherwise
    the display alone (a Substance on the server is not fetched: its display is all PainPlan reads of it)."""
    display = reference.get("display")
    target = text(reference.get("reference")) or ""
    code = as_dict(as_dict(local.get(target[1:])).get("code")) if target.startswith("#") else {}
    if "concept" in code:
        code = as_dict(code.get("concept"))
    if not code:
        return {"text": display}
    return code if code.get("text") or not display else {**code, "text": display}


def _resolve_medication(data: Mapping[str, Any], pool: MedicationPool) -> ResolvedMedication:
    """medication[x]: R4's (and STU3's, DSTU2's) medicationCodeableConcept or medicationReference, or R5's
    `medication`, a CodeableReference holding the same concept or reference."""
    # The usual R4 concept, read in place (this runs for every order, fill and statement): medication_element
    # answers it the same, and decides every other case, R5's `medication` included (read by R4's names only, an R5
    # oxycodone order was "a medication with no name or code"), as every other reader of medication[x] does.
    inline = coded_medication(data.get("medicationCodeableConcept"))
    if inline is not None:
        return inline
    concept, named = medication_element(data)
    inline = None if concept is None else coded_medication(concept)
    if inline is not None:
        return inline
    ref_data = as_dict(named)
    ref = text(ref_data.get("reference"))
    display = text(ref_data.get("display"))
    if ref and ref.startswith("#"):
        wanted = ref[1:]
        contained = next(
            (
                as_dict(c)
                for c in as_list(data.get("contained"))
                if as_dict(c).get("resourceType") == "Medication" and as_dict(c).get("id") == wanted
            ),
            None,
        )
        return _resolved(contained, ref, display, siblings=data.get("contained"))
    if not ref:
        return _resolved(None, ref, display)
    if SOURCE in data:  # another server's order: its `Medication/m1` is that server's, never the EHR's m1
        ref = absolute_on_source(ref, data)
    # One object per reference in a call, so orders and fills of the same Medication are read and recognised once.
    found = pool.resolved.get((ref, display))
    if found is None:
        target = pool.find_medication(ref)
        elsewhere = target is None and on_another_server(ref, pool.server)
        found = pool.resolved[(ref, display)] = _resolved(target, ref, display, elsewhere)
    return found


def _resolved(
    target: Mapping[str, Any] | None,
    ref: str | None,
    display: str | None,
    elsewhere: bool = False,
    siblings: Any = None,
) -> ResolvedMedication:
    if target is None:
        return ResolvedMedication.make(concept=None, reference=ref, reference_display=display, elsewhere=elsewhere)
    medication = _medication(target, siblings)
    return ResolvedMedication.make(
        concept=medication.code or Concept(), resource=medication, reference=ref, reference_display=display
    )


def _strings(value: Any) -> tuple[str, ...]:
    """A FHIR string array's items (timeOfDay, when, dayOfWeek), each kept: one that is no string (3, or the null
    FHIR JSON puts where only an extension is given) as "", which dosage reads as unknown rather than dropping it,
    so the schedule never reads as fewer doses or days than written."""
    if value is None:
        return ()
    return tuple(item if isinstance(item, str) else "" for item in as_list(value))


def _period(value: Any, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """A Period's start and end (either may be missing)."""
    if value is None:
        return None, None
    period = as_dict(value)
    if not period:
        return None, None
    return parse_datetime(period.get("start"), tz), parse_datetime(period.get("end"), tz)


def _unread_period_dates(value: Any, name: str, start: datetime | None, end: datetime | None) -> tuple[str, ...]:
    """A Period's dates sent but not read (`fhirdata.unread_date`), each named with its element and as written."""
    period = as_dict(value)
    if not period or (start is not None and end is not None):
        return ()
    return _unread_dates_named(((f"{name}.start", period.get("start"), start), (f"{name}.end", period.get("end"), end)))


def _unread_dates_named(dates: tuple[tuple[str, Any, datetime | None], ...]) -> tuple[str, ...]:
    """Each (element, as sent, as read) sent but not read (`fhirdata.unread_date`), named with its element."""
    unread = ((name, unread_date(sent, read)) for name, sent, read in dates)
    return tuple(f"{name} '{written}'" for name, written in unread if written is not None)


def _repeat(data: Mapping[str, Any], tz: ZoneInfo) -> TimingRepeat | None:
    if not data:
        return None
    get = data.get
    bounds = get("boundsPeriod")
    bounds_start, bounds_end = _period(bounds, tz)
    return TimingRepeat.make(
        frequency=_sent_number(get("frequency")),
        frequency_max=_sent_number(get("frequencyMax")),
        period=_sent_number(get("period")),
        period_max=_sent_number(get("periodMax")),
        period_unit=text(get("periodUnit") or get("periodUnits")),  # DSTU2: periodUnits
        time_of_day=_strings(get("timeOfDay")),
        when=_strings(get("when")),
        bounds_duration=quantity(get("boundsDuration") or get("boundsQuantity")),  # DSTU2: boundsQuantity
        bounds_start=bounds_start,
        bounds_end=bounds_end,
        day_of_week=_strings(get("dayOfWeek")),
        unread_dates=() if bounds is None else _unread_period_dates(bounds, "boundsPeriod", bounds_start, bounds_end),
    )


def _sent_number(value: Any) -> Decimal | None:
    """A timing number; one that was sent but cannot be read (text, beyond 10^12) is 0, which no rule accepts, so
    the dosage has no frequency and is named. None (absent) would let FHIR's implicit 1 stand in for it: "every 2^63
    hours" read as hourly."""
    if value is None:
        return None
    number = decimal(value)
    return Decimal(0) if number is None else number


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
    return DoseAndRate.make(
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
    elif not entries and ("quantityQuantity" in data or "quantityRange" in data):
        # DSTU2's MedicationStatement names the dose quantity[x]: the same dose under another name.
        entries = [_dose_entry({"doseQuantity": get("quantityQuantity"), "doseRange": get("quantityRange")})]
    max_dose = as_dict(as_list(get("maxDosePerPeriod"))[0]) if get("maxDosePerPeriod") else as_dict(None)
    as_needed = get("asNeededBoolean") is True or bool(as_dict(get("asNeededCodeableConcept")))
    has_extensions = "extension" in data
    return Dosage.make(
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
    codings = value.get("coding") if type(value) is dict else None
    if type(codings) is list:
        # The usual shape, coding objects with text codes, read in place (no Concept is kept for these): the same
        # code concept() would give. A numeric code or a coding that is no plain object goes to concept() below.
        for item in codings:
            code = item.get("code") if type(item) is dict else _UNUSUAL
            if type(code) is str:
                code = code.strip()
                if code:
                    return code
            elif code is not None:
                break
        else:
            return None
    found = concept(value)
    if found is not None:
        for coding in found.codings:
            if coding.code:
                return coding.code
    return None


_UNUSUAL = object()

COURSE_OF_THERAPY_SYSTEMS = frozenset(
    {
        "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy",
        "http://hl7.org/fhir/medication-request-course-of-therapy",  # STU3
    }
)


def _unit_changes_days(supplied: Quantity | None) -> bool:
    """Whether a daysSupply's unit makes its days other than its number: weeks, hours, a unit not known ("4 wk",
    "720 h", "boxes"); a unit of days, or none, leaves the number as it is."""
    if supplied is None or not (supplied.unit or supplied.code):
        return False
    # A chart's fills share a few days' supply objects (`quantity` gives one per distinct text): each is converted
    # once, by identity, where converting costs two Decimal operations per fill. The entry holds its quantity, so
    # its id stays its own.
    known = _UNIT_CHANGES.get(id(supplied))
    if known is not None:
        return known[1]
    changes = quantity_days(supplied) != supplied.value
    if len(_UNIT_CHANGES) >= _READ_LIMIT:
        _UNIT_CHANGES.clear()  # bounded: after a clear the units are simply converted again
    _UNIT_CHANGES[id(supplied)] = (supplied, changes)
    return changes


_UNIT_CHANGES: dict[int, tuple[Quantity, bool]] = {}


def _course_of_therapy(value: Any) -> str | None:
    """The HL7 course-of-therapy code when the concept carries one, else its first code: Oracle Health sends its own
    code first ("Physician Stop") and HL7's "acute" second, and read by the first code the order's own "acute" was
    lost (its class then came from its days' supply)."""
    codings = value.get("coding") if type(value) is dict else None
    if type(codings) is list and len(codings) > 1:
        for item in codings:
            if type(item) is dict and item.get("system") in COURSE_OF_THERAPY_SYSTEMS:
                code = item.get("code")
                if type(code) is str and code.strip():
                    return code.strip()
    return _first_code(value)


# How many distinct readings each remembering reader keeps (emptied when full).
_READ_LIMIT = 8192


def _read_course(value: Any) -> str | None:
    return code_text(_course_of_therapy(value))


# courseOfTherapyType, read once per distinct content: a chart's orders share a few ("acute", "continuous"), and
# reading one took three calls per order.
_course = readings_by_text(_read_course, _READ_LIMIT, dict, None)


def _read_dosages(value: Any, tz: ZoneInfo) -> tuple[Dosage, ...]:
    return tuple(_dosage(d, tz) for d in map(as_dict, as_list(value)) if d)


# dosageInstruction, read once per distinct content: a chart repeats a few instructions many times.
_dosages = zoned_readings_by_text(_read_dosages, _READ_LIMIT, ())


def _read_dispense_request(data: Any, tz: ZoneInfo) -> DispenseRequest:
    dispense = as_dict(data)
    if not dispense:
        return _NO_DISPENSE_REQUEST
    validity = dispense.get("validityPeriod")
    validity_start, validity_end = _period(validity, tz)
    return DispenseRequest.make(
        validity_start=validity_start,
        validity_end=validity_end,
        repeats_allowed=integer(dispense.get("numberOfRepeatsAllowed")),
        quantity=quantity(dispense.get("quantity")),
        expected_supply=quantity(dispense.get("expectedSupplyDuration")),
        unread_dates=()
        if validity is None
        else _unread_period_dates(validity, "dispenseRequest.validityPeriod", validity_start, validity_end),
    )


_NO_DISPENSE_REQUEST = DispenseRequest()
# dispenseRequest, read once per distinct content like the dosages.
_dispense_request = zoned_readings_by_text(_read_dispense_request, _READ_LIMIT, _NO_DISPENSE_REQUEST)


def read_med_order(
    data: Mapping[str, Any], is_draft: bool, tz: ZoneInfo, pool: MedicationPool | None = None
) -> MedOrder:
    get = data.get
    pool = pool or MedicationPool()
    authored = get("authoredOn") or get("dateWritten")  # DSTU2's MedicationOrder: dateWritten
    prior = get("priorPrescription")
    order_id, source = text(get("id")), _source_of(data) if SOURCE in data else None  # the usual: the EHR's own
    # The fields up to where it lives by position: CPython 3.11 compiles a call whose positional arguments plus twice
    # its keywords pass 30 into one that packs the keywords into a dict (about 4 times the cost of the call;
    # tests/test_reader_calls_fast.py).
    identifiers, course = get("identifier"), get("courseOfTherapyType")
    return MedOrder.make(
        order_id,
        is_draft,
        code_text(get("status")),
        code_text(get("intent")),
        concepts(get("category")),  # categories
        _resolve_medication(data, pool),  # medication
        _unread_date(authored, tz),  # authored_on, parsed when read (model.MedOrder)
        located_reference(reference(prior), data, pool.server) if prior else None,  # prior_prescription
        # course_of_therapy, read when used (model.MedOrder)
        None if course is None else (UNREAD, _course, course),  # type: ignore[arg-type]  # lazy field: slot_init reads the UNREAD tuple on first use
        _dosages(get("dosageInstruction"), tz),  # dosages
        _dispense_request(get("dispenseRequest"), tz),  # dispense
        order_located("MedicationRequest", order_id, source),  # located
        authored_partial=no_day_written(authored),
        # Who prescribed it ties a fill naming no order to it (a few orders of a call): read when used.
        requester=None if "requester" not in data and "prescriber" not in data else (UNREAD, _requester, data, pool),  # type: ignore[arg-type]  # lazy field: slot_init reads the UNREAD tuple on first use
        # R4's reported[x]; R5 says `reported: true` (who reported it is its informationSource).
        reported=get("reportedBoolean") is True or type(get("reportedReference")) is dict or get("reported") is True,
        source=source,
        # read when used (model.MedOrder)
        identifiers=(UNREAD, _numbers, identifiers) if identifiers else (),  # type: ignore[arg-type]  # lazy field: slot_init reads the UNREAD tuple on first use
        authored_sent=authored,
        sent_type=_SENT_TYPES.get(get("resourceType")),
    )


# The order types read as a MedicationRequest under another name, which the EHR holds them by (MedOrder.sent_type).
_SENT_TYPES: dict[str | None, str] = {"MedicationOrder": "MedicationOrder"}


def statement_not_taken(data: Mapping[str, Any]) -> bool:
    """A MedicationStatement saying the patient does not take the medicine: R4's status not-taken, R5's adherence
    not-taking, STU3's taken "n", DSTU2's wasNotTaken. It is no medication the patient takes, as an order not to
    give one is no order."""
    return (
        statement_status(data) == "not-taken"
        or code_text(data.get("taken")) == "n"
        or (data.get("wasNotTaken") is True)
    )


# R5's MedicationStatement has no status active, stopped or not-taken: its status says only that the statement is
# recorded, and whether the medicine is taken is its adherence code (HL7's medication-statement-adherence), read
# here as R4's status. on-hold and stopped are kinds of not-taking in R5, each its own status in R4.
_ADHERENCE_STATUSES = {
    "taking": "active",
    "taking-as-directed": "active",
    "taking-not-as-directed": "active",
    "not-taking": "not-taken",
    "on-hold": "on-hold",
    "on-hold-as-directed": "on-hold",
    "on-hold-not-as-directed": "on-hold",
    "stopped": "stopped",
    "stopped-as-directed": "stopped",
    "stopped-not-as-directed": "stopped",
    "unknown": "unknown",
}


def statement_status(data: Mapping[str, Any]) -> str | None:
    """A MedicationStatement's status in R4's terms. R5's recorded is its adherence read as R4's status: with none,
    active, as a reconciled statement is in R4 (its dates then say whether it is current); with an adherence PainPlan
    cannot read, unknown, so the statement is named and not counted. R5's draft, an unfinished statement, is left
    as it is: like R4's intended, it is no medication taken."""
    status = code_text(data.get("status"))
    if status != "recorded":
        return status
    adherence = data.get("adherence")
    if adherence is None:
        return "active"
    said = concept(as_dict(adherence).get("code"))
    codes = [coding.code for coding in said.codings] if said is not None else []
    return next((_ADHERENCE_STATUSES[code] for code in codes if code in _ADHERENCE_STATUSES), "unknown")


def read_med_statement(data: Mapping[str, Any], tz: ZoneInfo, pool: MedicationPool) -> MedOrder:
    """A MedicationStatement (R4, R5, STU3, DSTU2; MedicationUsage, its name in R5's ballots) as a medication
    reported as taken: the same reading an Oracle Health documented home medication gets, so it counts where that
    does and is named "reported as taken".

    With a stated end, the effective period is when it was taken (current while it runs). With none, the last
    date someone confirmed it (dateAsserted, else the start) is its start, and it stays current for the days an
    order with no end does: a medication confirmed at last month's reconciliation is taken now, one confirmed
    two years ago may not be."""
    get = data.get
    period, single, written_asserted = get("effectivePeriod"), None, get("dateAsserted")
    start, end = _period(period, tz)
    unread = () if period is None else _unread_period_dates(period, "effectivePeriod", start, end)
    if start is None and end is None:
        single = get("effectiveDateTime")
        start = parse_datetime(single, tz)
    asserted = parse_datetime(written_asserted, tz)
    unread += _unread_dates_named((("effectiveDateTime", single, start), ("dateAsserted", written_asserted, asserted)))
    noted = start if end is not None or asserted is None else max(asserted, start) if start else asserted
    statement_id = text(get("id"))
    kind = "MedicationUsage" if get("resourceType") == "MedicationUsage" else "MedicationStatement"
    # id and is_draft by position: kept under CPython's fast call (tests/test_reader_calls_fast.py).
    return MedOrder.make(
        statement_id,
        False,  # is_draft
        status=statement_status(data),
        intent="plan",  # a reported medication's intent, as Oracle Health sends one
        categories=tuple(c for c in concepts(get("category")) if not _patient_specified(c)),
        medication=_resolve_medication(data, pool),
        authored_on=noted,
        prior_prescription=None,
        course_of_therapy=None,
        dosages=_dosages(get("dosage"), tz),
        # Its effective period is read as an order's validity period, and its dates not read are named with it.
        dispense=_NO_DISPENSE_REQUEST
        if end is None and not unread
        else DispenseRequest.make(validity_end=end, unread_dates=unread),
        requester=None,  # informationSource is who told, not who prescribed
        reported=True,
        resource_type=kind,
        located=order_located(kind, statement_id, None),
        records_orders=_orders_recorded(data, pool),
    )


def _orders_recorded(data: Mapping[str, Any], pool: MedicationPool) -> tuple[str, ...]:
    """The prescriptions a statement names as its source (R4 basedOn, STU3/R4 derivedFrom), located as an order's
    `located` is: MedicationRequest references only (DSTU2's MedicationOrder read as one, as its orders are), since
    derivedFrom may name any resource."""
    named = (reference(r) for field in ("basedOn", "derivedFrom") for r in as_list(data.get(field)))
    located = (located_reference(r, data, pool.server) for r in named if r)
    return tuple(_as_order_request(r) for r in located if r and r.split("/")[-2:-1] in _ORDER_KINDS)


_ORDER_KINDS = (["MedicationRequest"], ["MedicationOrder"])


def _as_order_request(located: str) -> str:
    """A located order reference with DSTU2's MedicationOrder written as MedicationRequest, as its order is located."""
    head, _, order_id = located.rpartition("/")
    return f"{head.removesuffix('MedicationOrder').removesuffix('MedicationRequest')}MedicationRequest/{order_id}"


def _patient_specified(category: Concept) -> bool:
    """The patientspecified category says who told, not where the medicine is given: no category for the check."""
    return bool(category.codings) and all(
        (c.code or "").lower() == "patientspecified" and c.system in (None, *MEDSTATEMENT_CATEGORY_SYSTEMS)
        for c in category.codings
    )


def _requester(data: Mapping[str, Any], pool: MedicationPool) -> str | None:
    """An order's `requester`, who prescribed it, as `_located_actor` names it."""
    return _located_actor(_prescriber(data.get("requester"), data.get), data, pool)


def _prescriber(requester: Any, get: Callable[[str], Any]) -> str | None:
    """R4's requester; STU3 nests the prescriber under requester.agent, and DSTU2 names it prescriber."""
    if requester is None:
        return actor_reference(get("prescriber"))
    if type(requester) is dict and "agent" in requester and "reference" not in requester:
        return actor_reference(requester["agent"])
    return actor_reference(requester)


def read_dispense(data: Mapping[str, Any], tz: ZoneInfo, pool: MedicationPool) -> Dispense:
    get = data.get
    handed, prepared = get("whenHandedOver"), get("whenPrepared")
    handed_over = parse_datetime(handed, tz)
    supplied = quantity(get("daysSupply"))
    written, extensions = get("quantity"), get("extension")
    # The elements most fills lack (the order filled, fill numbers, PainPlan's claim marks) are read only where sent: a
    # call each per fill of a chart otherwise, each to answer "none".
    authorizing, identifiers = get("authorizingPrescription"), get("identifier")
    # Who dispensed it is read for the few fills that may be one sent twice (`sent_twice`): the three fields it gives
    # share one reading (`_fill_actors`), made when the first of them is read.
    if "performer" in data or "dispenser" in data or "location" in data:
        shared = [data, pool]
        performers = (UNREAD, _fill_actor, shared, 0)
        prescribers, pharmacy = (UNREAD, _fill_actor, shared, 1), (UNREAD, _fill_actor, shared, 2)
    else:
        performers, prescribers, pharmacy = (), (), None  # type: ignore[assignment]  # lazy fields, as above
    # The id, status, medicine and hand-over time by position, as MedOrder.make's: within CPython's fast call
    # (tests/test_reader_calls_fast). A field moved in model.Dispense would take another's value here: the places
    # of all eight are pinned (tests/test_dispense_positions).
    return Dispense.make(
        text(get("id")),
        code_text(get("status")),
        _resolve_medication(data, pool),
        handed_over,
        # when_prepared, days_supply and quantity by position too, keeping the call fast (tests/test_reader_calls_fast).
        # Pharmacies often write one time for both: the same text reads the same, so it is read once. Another is
        # parsed when read (model.Dispense).
        handed_over if type(prepared) is str and prepared == handed else _unread_date(prepared, tz),
        supplied.value if supplied is not None else None,
        # quantity, read when used (model.Dispense)
        None if written is None else (UNREAD, quantity, written),  # type: ignore[arg-type]  # lazy field: slot_init reads the UNREAD tuple on first use
        # authorizing_prescriptions by position too, so that the call stays fast with the fields after it.
        () if authorizing is None else _located_references(authorizing, data, pool.server),
        # read when used (model.Dispense), as are prescribers, pharmacy and numbers
        performers=performers,  # type: ignore[arg-type]  # lazy field: slot_init reads the UNREAD tuple on first use
        prescribers=prescribers,  # type: ignore[arg-type]  # lazy field: slot_init reads the UNREAD tuple on first use
        filled_partial=no_day_written(handed if handed_over is not None else prepared),
        # Its unit is kept, not dropped: "4 wk" read as 4 days ended a 28-day supply in 4. Kept only when it changes
        # the number (not the usual "d"), so the many reads of a fill's days' supply per call convert nothing.
        days_supply_written=supplied if _unit_changes_days(supplied) else None,
        billing_units=type(written) is dict and "extension" in written and _in_billing_units(written["extension"]),
        numbers=() if identifiers is None else (UNREAD, _numbers, identifiers),  # type: ignore[arg-type]  # lazy field: slot_init reads the UNREAD tuple on first use
        pharmacy=pharmacy,  # type: ignore[arg-type]  # lazy field: slot_init reads the UNREAD tuple on first use
        claim=None if extensions is None else _claim_read_from(extensions),
        supply_type=(UNREAD, _supply_type, data["type"]) if "type" in data else None,  # type: ignore[arg-type]  # lazy field: slot_init reads the UNREAD tuple on first use
        source=_source_of(data) if SOURCE in data else None,  # the usual: the EHR's own
        # The usual fill's hand-over date is read, and nothing is looked at here.
        unread_dates=() if handed_over is not None else _unread_fill_dates(handed, prepared, tz),
    )


def _unread_fill_dates(handed: Any, prepared: Any, tz: ZoneInfo) -> tuple[str, ...]:
    """A fill's whenHandedOver and whenPrepared sent but not read (`fhirdata.unread_date`), each named as written."""
    prepared_read = None if prepared is None else parse_datetime(prepared, tz)
    return _unread_dates_named((("whenHandedOver", handed, None), ("whenPrepared", prepared, prepared_read)))


FillActors = tuple[tuple[str, ...], tuple[str, ...], str | None]


def _fill_actor(shared: list[Any], which: int) -> Any:
    """A fill's performers (0), prescribers (1) or pharmacy (2), from the one reading of them `shared` holds after
    the resource and the pool (`_fill_actors`), made on the first call and kept there."""
    if len(shared) == 2:
        shared.append(_fill_actors(shared[0], shared[1]))
    return shared[2][which]


def _fill_actors(data: Mapping[str, Any], pool: MedicationPool) -> FillActors:
    """A fill's performers (DSTU2: its dispenser), those a claim names as prescribing, and its pharmacy, each as
    `identity.who` names it (`_located_actors`)."""
    performers, dispenser = data.get("performer"), data.get("dispenser")
    actors, prescribers, behalf = ((), (), ()) if performers is None else _performers(performers)
    actors = _located_actors(actors or (() if dispenser is None else _dstu2_dispenser(dispenser)), data, pool)
    prescribers = _located_actors(prescribers, data, pool)
    location = _located_actor(reference(data.get("location")), data, pool) if "location" in data else None
    return actors, prescribers, _pharmacy(actors, prescribers, _located_actors(behalf, data, pool), location)


def _supply_type(value: Any) -> Concept | None:
    """MedicationDispense.type, one CodeableConcept in DSTU2, STU3, R4 and R5; an array, as a sender may write it, is
    read as one concept holding all its codings."""
    if type(value) is not list:
        return concept(value)
    found = concepts(value)
    if len(found) < 2:
        return found[0] if found else None
    return Concept(tuple(c for one in found for c in one.codings), next((one.text for one in found if one.text), None))


def _numbers(identifiers: Any) -> tuple[tuple[str, str], ...]:
    """A fill's or an order's identifiers as (system, value), those with a value: what numbers one apart from
    another."""
    found = []
    for identifier in as_list(identifiers):
        identifier = as_dict(identifier)
        value = text(identifier.get("value"))
        if value:
            found.append((text(identifier.get("system")) or "", value))
    return tuple(dict.fromkeys(found))


def _claim_read_from(extensions: Any, mark: str = CLAIM_EXTENSION) -> str | None:
    """The id of the claim a fill (PainPlan's CLAIM_EXTENSION), a diagnosis (DIAGNOSIS_CLAIM_EXTENSION) or a procedure
    (PROCEDURE_CLAIM_EXTENSION) was read from, None for the EHR's own."""
    for extension in map(as_dict, as_list(extensions)):
        if extension.get("url") == mark:
            return text(extension.get("valueString"))
    return None


def _in_billing_units(extensions: Any) -> bool:
    """Whether a fill's quantity's extensions carry PainPlan's mark of a claim's bare quantity (NCPDP billing units)."""
    return any(as_dict(e).get("url") == BILLING_UNITS_EXTENSION for e in as_list(extensions))


def read_administration(data: Mapping[str, Any], tz: ZoneInfo, pool: MedicationPool) -> Administration:
    """A MedicationAdministration: R4's, R5's (occurence[x], so spelled in R5), STU3's (notGiven) or DSTU2's
    (effectiveTime[x], wasNotGiven, the dose as dosage.quantity). A dose recorded as not given reads as R4's status
    not-done, whatever its status says."""
    get = data.get
    not_given = get("notGiven") is True or get("wasNotGiven") is True
    start, end = _period(get("effectivePeriod") or get("effectiveTimePeriod") or get("occurencePeriod"), tz)
    dosage = as_dict(get("dosage"))
    return Administration.make(
        id=text(get("id")),
        status="not-done" if not_given else code_text(get("status")),
        medication=_resolve_medication(data, pool),
        given=parse_datetime(get("effectiveDateTime") or get("effectiveTimeDateTime") or get("occurenceDateTime"), tz),
        given_start=start,
        given_end=end,
        dose=quantity(dosage.get("dose") or dosage.get("quantity")) if dosage else None,
    )


PRESCRIBING_ROLE = "prescribing"  # the claim care-team role (claimcareteamrole) of the prescriber


def _performers(performers: Any) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The performer[].actor references, those of the performers whose function is prescribing (a fill converted
    from a claim names its prescriber so), and the organisations STU3 performers acted on behalf of (onBehalfOf), in
    one pass: a fill names a performer or two."""
    actors, prescribing, behalf = [], [], []
    for performer in as_list(performers):
        performer = as_dict(performer)
        actor = actor_reference(performer.get("actor"))
        if actor:
            actors.append(actor)
        if "onBehalfOf" in performer:
            organisation = actor_reference(performer["onBehalfOf"])
            if organisation:
                behalf.append(organisation)
        function = performer.get("function")
        if function is not None:  # only a claim's performers say what they did
            read = concept(function)
            if read is not None and any(c.code == PRESCRIBING_ROLE for c in read.codings) and actor:
                prescribing.append(actor)
    return tuple(actors), tuple(prescribing), tuple(behalf)


def _pharmacy(
    performers: tuple[str, ...], prescribers: tuple[str, ...], behalf: tuple[str, ...], location: str | None
) -> str | None:
    """The pharmacy a fill names (`Dispense.pharmacy`), its actors as `identity.who` named them: an Organization
    performer; else the organisation a STU3 performer acted on behalf of (STU3 named the pharmacist as the actor);
    else where it was dispensed; else a performer named by identifier alone of no stated type that is not its
    prescriber (an NPI on a relayed fill: the dispenser, read as no pharmacy at all, tied nothing)."""
    for performer in performers:
        # The usual `Organization/x` told by its prefix: `actor_kind` parses only an absolute or conditional one.
        if performer.startswith("Organization/") or (
            ("://" in performer or MARK in performer) and actor_kind(performer) == "Organization"
        ):
            return performer
    if behalf:
        return behalf[0]
    if location:
        return location
    return next((p for p in performers if MARK in p and not actor_kind(p) and p not in prescribers), None)


def _dstu2_dispenser(dispenser: Any) -> tuple[str, ...]:
    """DSTU2's dispenser: the one performer its fills name."""
    actor = actor_reference(dispenser)
    return (actor,) if actor else ()


def _located_actors(found: tuple[str, ...], data: Mapping[str, Any], pool: MedicationPool) -> tuple[str, ...]:
    """Who prescribed or dispensed, as the located identities the references name (`pool.located_reference`): an HIE
    fill's `Practitioner/dr1` and `Organization/ph1` are the HIE's, never the EHR's dr1 and ph1 (tied by them, the
    HIE's fill was read as the EHR's fill sent twice, and the two practices' prescriptions as one course). One by
    identifier (an NPI or NCPDP number names one actor on every server) as written, unless the chart's resources say
    whose it is; a PractitionerRole as its practitioner, when they say (`identity.who`)."""
    if not found:
        return found
    if SOURCE not in data:
        for ref in found:
            if ref[0] == "#" or ":" in ref or MARK in ref or "PractitionerRole/" in ref:  # ":": absolute, or `urn:`
                break
        else:
            return found  # the usual chart: the EHR's own `Practitioner/x`, read as written, no call per actor
    return tuple(_located_actor(ref, data, pool) or ref for ref in found)


def _located_actor(ref: str | None, data: Mapping[str, Any], pool: MedicationPool) -> str | None:
    """One actor reference as `_located_actors` reads it."""
    if not ref:
        return ref
    if MARK not in ref and (SOURCE in data or "://" in ref):
        ref = located_reference(ref, data, pool.server) or ref
    if ref[0] == "#" or MARK in ref or "PractitionerRole/" in ref or ref.startswith("urn:"):  # not `Practitioner/x`
        return who(ref, data, lambda: _actors(pool), pool.server)
    return ref


def _actors(pool: MedicationPool) -> Actors:
    """Who is who among the chart's resources (`identity.Actors`), worked out once per chart when first asked."""
    if pool.actors is None:
        sent = directory_by_url(pool.bundles, pool.server) if pool.bundles else ()
        pool.actors = actors_in(pool.everything, pool.everything_urls, pool.server, sent)
    return pool.actors


def _source_of(data: Mapping[str, Any]) -> str | None:
    """The other server's base a resource was marked from (pool.SOURCE; callers ask only where it is marked)."""
    marked = data[SOURCE]
    return marked if type(marked) is str else None


def _located_references(values: Any, data: Mapping[str, Any], server: str | None) -> tuple[str, ...]:
    """References to other resources as the located identities they name (`pool.located_reference`): an HIE fill's
    `MedicationRequest/123` is the HIE's order 123, never the EHR's."""
    found = _references(values)
    if not found or (server is None and SOURCE not in data and not any("://" in ref for ref in found)):
        return found  # the usual: relative references to the EHR's own orders, read as written
    return tuple(r for r in (located_reference(ref, data, server) for ref in found) if r)


def _references(values: Any) -> tuple[str, ...]:
    if values is None:
        return ()
    found = [reference(v) for v in as_list(values)]
    return tuple([r for r in found if r])


def _value_quantity(data: Mapping[str, Any]) -> Quantity | None:
    """valueQuantity, else a bare valueInteger/valueDecimal as a unitless quantity (pain scores often come so)."""
    given = data.get("valueQuantity")
    if given is not None:
        found = quantity(given)
        if found is not None:
            return found
    for key in ("valueInteger", "valueDecimal"):
        if key in data:
            number = decimal(data[key])
            if number is not None:
                return Quantity(value=number)
    return None


def _component(data: Mapping[str, Any]) -> Component:
    """A panel's component with its own value, flag and range: a drug amount flagged "POS" or above its range in a
    component was otherwise no result at all; and its own reason a value is absent, read as a result's is."""
    flags, ranges, absent = data.get("interpretation"), data.get("referenceRange"), data.get("dataAbsentReason")
    high, below = (None, False) if ranges is None else _reference_high(ranges)
    return Component.make(
        code=concept(data.get("code")),
        value_quantity=_value_quantity(data),
        value_concept=concept(data.get("valueCodeableConcept")),
        value_string=text(data.get("valueString")),
        interpretation=() if flags is None else concepts(flags),
        value_comparator=_comparator(data.get("valueQuantity")),
        reference_high=high,
        reference_below=below,
        data_absent=absent is not None,
        data_absent_reason=None if absent is None else _absent_reason(absent),
    )


def read_observation(data: Mapping[str, Any], tz: ZoneInfo, server: str | None = None) -> Observation:
    """A result (`server`, the EHR's FHIR base, tells whose results a panel's members are: `_member_ids`)."""
    get = data.get
    # Most results carry one effective time, one value and nothing else: an absent element costs a lookup, not
    # a reader call that answers None.
    period, instant = get("effectivePeriod"), get("effectiveInstant")
    words, flags, parts = get("valueString"), get("interpretation"), get("component")
    ranges, measured = get("referenceRange"), get("valueQuantity")
    # Read when used (model.Observation): only a measured drug amount's range is, and labs send one on every result.
    reference_high, reference_below = (None, False) if ranges is None else _unread_range(ranges)
    effective = parse_datetime(get("effectiveDateTime"), tz)
    # a period sent with its end only (a collection ending then) is dated by its end: undated, it was never judged
    effective_period_start = None if period is None else next(filter(None, _period(period, tz)), None)
    effective_instant = None if instant is None else parse_datetime(instant, tz)
    # `issued` dates a result only when no effective[x] does (`result_time`), and nothing else reads it: a lab sends
    # both on nearly every result, and parsing it was about a fifth of the dates a call parsed, for nothing.
    issued = None if effective or effective_period_start or effective_instant else parse_datetime(get("issued"), tz)
    code = concept(get("code"))
    value_concept = concept(get("valueCodeableConcept"))
    value_string = None if words is None else text(words)
    # A result with no number (a coded screen result, the usual drug test) is told so by two lookups, not a call.
    value_quantity = (
        _value_quantity(data) if measured is not None or "valueInteger" in data or "valueDecimal" in data else None
    )
    interpretation = () if flags is None else concepts(flags)
    components = tuple(_component(c) for c in map(as_dict, as_list(parts)) if c) if parts else ()
    value_comparator = None if measured is None else _comparator(measured)
    # Measured on first use, once (slot_init's UNREAD): asked only of drug and validity tests' values.
    value_not_read = (
        None
        if value_string is None and value_concept is None
        else (UNREAD, value_words_not_read, value_string, value_concept)
    )
    flag_not_read = None if not interpretation else (UNREAD, flags_not_read, interpretation)
    # Every field by position, each a local named as the field (tests/test_reader_calls_fast checks the names
    # against the class): a keyword is matched by a scan of the parameter names, and fifteen of them cost about
    # 1,100 instructions per result, a fifth of building it. Only `source`, after the rarer fields, by keyword.
    observation = Observation.make(
        text(get("id")),
        code_text(get("status")),
        code,
        effective,
        effective_period_start,
        effective_instant,
        issued,
        value_concept,
        value_string,
        value_quantity,
        interpretation,
        components,
        value_comparator,
        reference_high,
        reference_below,
        value_not_read,  # type: ignore[arg-type]  # lazy field: slot_init reads the UNREAD tuple on first use
        flag_not_read,  # type: ignore[arg-type]  # lazy field, as value_not_read
        source=_source_of(data) if SOURCE in data else None,  # the usual: the EHR's own
    )
    # `result_time` from the dates just read, and the 1st of a month told in place: two calls fewer per result.
    moment = effective or effective_period_start or effective_instant or issued
    if moment is not None and moment.day == 1 and _may_name_no_day(moment):
        observation = _partially_dated(observation, data, tz)
    elif moment is None:
        observation = _undated_result(observation, data)
    # The rarer elements are set on the few results that carry them: one argument more in the call above costs every
    # result of a chart more than all of them together (it would pass CPython's fast call: test_reader_calls_fast).
    # Five lookups: a set's isdisjoint(data) walked every key of the result, ~500 instructions more.
    if (
        "valueBoolean" in data
        or "valueDateTime" in data
        or "dataAbsentReason" in data
        or "hasMember" in data
        or "related" in data
        or "specimen" in data
        or "note" in data
    ):
        return _with_rare_elements(observation, data, tz, server)
    return observation


# FHIR's own codes for why a value is absent (R4 and R5; STU3's and DSTU2's are the same codes under their own URIs).
_ABSENT_REASON_SYSTEMS = frozenset(
    {
        "http://terminology.hl7.org/CodeSystem/data-absent-reason",
        "http://hl7.org/fhir/data-absent-reason",
    }
)


def _absent_reason(reason: Any) -> str | None:
    """A dataAbsentReason's code (R4, STU3 and DSTU2 alike), lowercased, in FHIR's spelling ("Not_Performed" is
    "not-performed"): its FHIR coding's, where an EHR lists its own coding first, else its first coding's; else its
    text as a code ("Not performed"); None when it says neither."""
    concept = as_dict(reason)
    codings = [as_dict(coding) for coding in as_list(concept.get("coding"))]
    fhir = [coding for coding in codings if text(coding.get("system")) in _ABSENT_REASON_SYSTEMS]
    code = next(filter(None, (text(coding.get("code")) for coding in (*fhir, *codings))), None)
    words = code or text(concept.get("text"))
    return "-".join(words.lower().replace("_", " ").split()) if words else None


def _undated_result(observation: Observation, data: Mapping[str, Any]) -> Observation:
    """A result no date of which was read, with those sent as written (`_unread_result_dates`)."""
    unread = _unread_result_dates(data)
    return replace(observation, unread_dates=unread) if unread else observation


def _unread_result_dates(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The dates of a result or a lab report no date of which was read (effective[x], issued), as written
    ("effectiveDateTime '2026-13-45'"): each was read as none, so naming them says a date was sent and could not be
    read, not that none was."""
    unread = _unread_dates_named(tuple((name, data.get(name), None) for name in _RESULT_DATES))
    period = data.get("effectivePeriod")
    if period is not None:
        unread += _unread_period_dates(period, "effectivePeriod", None, None)
    return unread


# The single dates a result may be dated by (`Observation.result_time`); its effectivePeriod is read apart.
_RESULT_DATES = ("effectiveDateTime", "effectiveInstant", "issued")


def _may_name_no_day(moment: datetime | None) -> bool:
    """Whether a moment read is local midnight on a 1st: what a date written "2026-05" or "2026" reads as, so the
    only moments whose date as written is worth a second look (told without reading the text again)."""
    return moment is not None and moment.day == 1 and not (moment.hour or moment.minute or moment.second)


def _partially_dated(observation: Observation, data: Mapping[str, Any], tz: ZoneInfo) -> Observation:
    """The result with the date it is dated by (`result_time`'s source) as written, when that names a month or a
    year only: read as the 1st, a negative for an opioid prescribed from the 20th was judged against the
    prescriptions of the 1st, and a possible diversion went unflagged."""
    if observation.effective is not None:
        written = data.get("effectiveDateTime")
    elif observation.effective_period_start is not None:
        period = as_dict(data.get("effectivePeriod"))
        written = next((v for v in (period.get("start"), period.get("end")) if parse_datetime(v, tz)), None)
    elif observation.effective_instant is not None:
        written = data.get("effectiveInstant")
    else:
        written = data.get("issued")
    partial = no_day_written(written)
    return observation if partial is None else replace(observation, dated_partial=partial)


def _with_rare_elements(
    observation: Observation, data: Mapping[str, Any], tz: ZoneInfo, server: str | None
) -> Observation:
    """A yes/no or date answer, a reason the value is absent, whether the result is a panel of members, its specimen
    and its notes."""
    answer, answered_on = data.get("valueBoolean"), data.get("valueDateTime")
    has_member, related = data.get("hasMember"), _related_members(data.get("related")) if "related" in data else []
    return replace(
        observation,
        value_boolean=answer if type(answer) is bool else None,
        data_absent=data.get("dataAbsentReason") is not None,
        data_absent_reason=_absent_reason(data.get("dataAbsentReason")),
        value_datetime=None if answered_on is None else parse_datetime(answered_on, tz),
        has_members=bool(has_member or related),
        member_ids=_member_ids(_member_references(has_member, related), data, server, {}),
        specimen=reference(data.get("specimen")),
        notes=tuple(n for n in (text(as_dict(x).get("text")) for x in as_list(data.get("note"))) if n),
    )


def _related_members(related: Any) -> list[Mapping[str, Any]]:
    """STU3's and DSTU2's way to say a result is a panel of others: its `related` entries of type has-member."""
    return [entry for entry in map(as_dict, as_list(related)) if code_text(entry.get("type")) == "has-member"]


def _member_references(has_member: Any, related: list[Mapping[str, Any]]) -> tuple[str, ...]:
    """A panel's member references: R4 hasMember, else STU3/DSTU2 related (has-member) targets."""
    return _references(has_member) or _references([entry.get("target") for entry in related])


def _member_ids(
    refs: tuple[str, ...], holder: Mapping[str, Any], server: str | None, contained: Mapping[str, str]
) -> tuple[str, ...]:
    """A panel's members as the record's Observation keys (`Observation.located`), as a report's results are
    (`result_key`: an HIE panel's `Observation/o2` is the HIE's o2, never the EHR's o2). `holder` is the resource
    the references are written in (the panel, or the report containing it); a contained one ("#m1") is the result
    `contained` keys by that local id (a sibling in the report), else the panel's own contained resource, which is
    not read: keyed under the panel (`<located id>#m1`), it is never another resource's m1 and is named as not
    received. Keyed by the bare id, an HIE panel whose o2 never came read as complete: the EHR holds an o2."""
    keys = []
    for ref in refs:
        if ref.startswith("#"):
            keys.append(contained.get(ref[1:]) or f"{located_id(holder) or 'Observation/'}{ref}")
        else:
            keys.append(result_key(ref, holder, server))
    return tuple(dict.fromkeys(keys))


def _comparator(measured: Any) -> str | None:
    return text(measured.get("comparator")) if type(measured) is dict and "comparator" in measured else None


_BELOW = re.compile(r"<\s*(\d+(?:\.\d+)?)\s*([a-zµ/]+)?", re.IGNORECASE)
# A screening cutoff written as such ("Cutoff: 300 ng/mL", "Cut-off=50", "Screen cutoff 300"), as drug testing labs
# write their reference range: at or above it is detected, as at a "<300 ng/mL" range.
# Its spaces possessive (`\s*+`): handed back, a long run of them was retried space by space.
_CUTOFF = re.compile(r"cut[\s-]?off(?:\s+(?:level|value))?\s*+[:=]?\s*+(\d+(?:\.\d+)?)\s*([a-zµ/]+)?", re.IGNORECASE)


def _unread_range(ranges: Any) -> tuple[Any, Any]:
    """`reference_high` and `reference_below` left for their first use (slot_init's UNREAD), both from one reading of
    the range: the two fields share a one-item list, to which the first of them read adds the pair (`_range_once`).
    Each read on its own, a result whose range was used was read twice."""
    shared = [ranges]
    return (UNREAD, _range_high, shared), (UNREAD, _range_below, shared)


def _range_once(shared: list[Any]) -> tuple[Quantity | None, bool]:
    """The pair `_reference_high` reads from the range `shared` holds, read on the first call and kept there."""
    if len(shared) == 1:
        shared.append(_reference_high(shared[0]))
    return shared[1]


def _range_high(shared: list[Any]) -> Quantity | None:
    """A result's `reference_high`: the upper end of its first reference range (`_reference_high`)."""
    return _range_once(shared)[0]


def _range_below(shared: list[Any]) -> bool:
    """A result's `reference_below`: whether normal lies strictly below that upper end (`_reference_high`)."""
    return _range_once(shared)[1]


def _reference_high(ranges: Any) -> tuple[Quantity | None, bool]:
    """The first reference range's upper end: its `high`, else a text such as "<300 ng/mL", "Negative <1" or
    "Cutoff: 300 ng/mL"."""
    for entry in map(as_dict, as_list(ranges)):
        high = quantity(entry.get("high"))
        if high is not None and high.value is not None:
            return high, False
        words = text(entry.get("text")) or ""
        written = _BELOW.search(words) or _CUTOFF.search(words)
        if written:
            return Quantity(value=Decimal(written.group(1)), unit=written.group(2)), True
    return None, False


# A report's status given to a contained result that states none (a v2 OBX converted without its own status): R4's
# appended is a kind of amended, the rest are an Observation's statuses too.
_REPORT_STATUS_FOR_RESULT = {"appended": "amended", "partial": "preliminary"}


def read_diagnostic_report(
    data: Mapping[str, Any], tz: ZoneInfo, server: str | None = None, container: str | None = None
) -> tuple[DiagnosticReport, tuple[Observation, ...]]:
    """A DiagnosticReport (R4, STU3, DSTU2) and the Observations it contains. HL7 v2 lab feeds converted to FHIR and
    payers' clinical data send a report's results inside it (`result: [{"reference": "#obs1"}]`): unread, a
    fentanyl positive gave no card and a tested patient was "not tested in 12 months". Each contained result is read
    as any result is; one with no date of its own takes the report's (a converted OBX often has none), one with no
    status the report's. Their patient is the report's, which the caller has checked. `container` names a report
    with no id for its contained results' keys (`contained_results`)."""
    get = data.get
    report_id = text(get("id")) or ""
    start, end = _period(get("effectivePeriod"), tz)
    status = code_text(get("status"))
    effective = parse_datetime(get("effectiveDateTime"), tz) or start or end
    issued = parse_datetime(get("issued"), tz)
    dated_partial = _report_partial_date(data, tz) if _may_name_no_day(effective or issued) else None
    unread_dates = () if effective or issued else _unread_result_dates(data)
    # A contained id is local to its report: qualified by the report's, two reports' "#obs1" are two results; by
    # where another server's report lives (`located_id`), as the HIE's report dr1 is not the EHR's dr1.
    qualifier = ((located_id(data) or report_id) if SOURCE in data else report_id) or container or ""
    items = [item for item in map(as_dict, as_list(get("contained"))) if item.get("resourceType") == "Observation"]
    observations, local_ids = contained_results(
        items,
        tz,
        qualifier,
        _REPORT_STATUS_FOR_RESULT.get(status or "", status),
        effective,
        issued,
        dated_partial,
        unread_dates,
    )
    if any(o.has_members for o in observations):  # a contained panel: its members are written in the report
        observations = [
            _members_in_container(o, item, data, server, local_ids) for o, item in zip(observations, items, strict=True)
        ]
    report = DiagnosticReport.make(
        id=report_id or None,
        status=status,
        code=concept(get("code")),
        effective=effective,
        issued=issued,
        conclusion=text(get("conclusion")),
        conclusion_codes=concepts(get("conclusionCode") or get("codedDiagnosis")),  # R4; STU3 and DSTU2
        results=_report_results(get("result"), local_ids, data, server),
        document=bool(get("presentedForm")),
        dated_partial=dated_partial,
        source=_source_of(data) if SOURCE in data else None,  # the usual: the EHR's own
        unread_dates=unread_dates,
    )
    return report, tuple(observations)


def contained_results(
    items: list[Mapping[str, Any]],
    tz: ZoneInfo,
    qualifier: str,
    status: str | None,
    effective: datetime | None,
    issued: datetime | None,
    dated_partial: str | None,
    unread_dates: tuple[str, ...] = (),
) -> tuple[list[Observation], dict[str, str]]:
    """The results contained in a report or a panel (one per item, in their order), each keyed by its container
    (`<qualifier>#<local id>`), and those keys by local id. A contained id means something only inside its
    container: keyed by it alone, two reports without ids each containing "#obs1" were one result, and one report's
    fentanyl screen stood for the other's. One with no status takes the container's `status`, one with no date its
    dates, and, when none of them was read either, those it sent (`unread_dates`) unless it sent its own: named as
    sent, never "undated"."""
    local_ids: dict[str, str] = {}
    observations = []
    for item in items:
        local = text(item.get("id"))
        observation = read_observation(item, tz)
        own_id = None
        if local:
            own_id = local_ids[local] = f"{qualifier}#{local}"
        observation = replace(
            observation,
            id=own_id,
            status=observation.status or status,
            effective=observation.effective if observation.result_time else effective,
            issued=observation.issued if observation.result_time else issued,
            dated_partial=observation.dated_partial if observation.result_time else dated_partial,
            # the container's are sent only when it read no date (`unread_dates`), so it dates none of them either
            unread_dates=observation.unread_dates or (() if observation.result_time else unread_dates),
        )
        observations.append(observation)
    return observations, local_ids


def read_panel(
    data: Mapping[str, Any], tz: ZoneInfo, server: str | None = None, container: str | None = None
) -> tuple[Observation, ...]:
    """A panel and the results contained in it (`hasMember: "#m1"`, STU3/DSTU2 `related`), as a lab interface sends a
    drug screen heading with its results per substance inside it: the panel, then those results, read and judged as
    any result (unread, a fentanyl positive inside the panel gave no card and the panel was named as missing its
    results). They are keyed by the panel (`contained_results`: by where it lives, `located_id`, else `container`),
    take its status and date when they state none, and a sub-panel among them names its members beside it."""
    panel = read_observation(data, tz, server)
    if not panel.has_members:
        return (panel,)
    items = [item for item in map(as_dict, as_list(data.get("contained"))) if item.get("resourceType") == "Observation"]
    if not items:
        return (panel,)
    qualifier = located_id(data) or container or "Observation/"
    members, local_ids = contained_results(
        items, tz, qualifier, panel.status, panel.result_time, panel.issued, panel.dated_partial, panel.unread_dates
    )
    if any(o.has_members for o in members):
        members = [
            _members_in_container(o, item, data, server, local_ids) for o, item in zip(members, items, strict=True)
        ]
    return (_members_in_container(panel, data, data, server, local_ids), *members)


def _members_in_container(
    observation: Observation,
    item: Mapping[str, Any],
    container: Mapping[str, Any],
    server: str | None,
    local_ids: Mapping[str, str],
) -> Observation:
    """A panel in a report or a panel (itself, or contained in it), read from `item`, with its members keyed as
    written in `container`: "#m1" is the container's contained m1 (contained ids are the container's), a relative
    one in an HIE's resource the HIE's (`_member_ids`)."""
    if not observation.has_members:
        return observation
    related = _related_members(item.get("related")) if "related" in item else []
    refs = _member_references(item.get("hasMember"), related)
    return replace(observation, member_ids=_member_ids(refs, container, server, local_ids))


def _report_partial_date(data: Mapping[str, Any], tz: ZoneInfo) -> str | None:
    """A report's date (effective[x], else issued: `DiagnosticReport.result_time`) as written when it names a month
    or a year only, for the results it contains that take its date."""
    period = as_dict(data.get("effectivePeriod")) if data.get("effectivePeriod") is not None else {}
    for written in (data.get("effectiveDateTime"), period.get("start"), period.get("end"), data.get("issued")):
        if parse_datetime(written, tz) is not None:
            return no_day_written(written)
    return None


def _report_results(
    results: Any, local_ids: Mapping[str, str], data: Mapping[str, Any], server: str | None
) -> tuple[str, ...]:
    """A report's result references as the record's Observation keys (`Observation.located`): "#obs1" as its
    contained result's, any other as `result_key` gives it."""
    found = []
    for ref in _references(results):
        found.append(local_ids.get(ref[1:], ref) if ref.startswith("#") else result_key(ref, data, server))
    return tuple(found)


def result_key(ref: str, report: Mapping[str, Any], server: str | None) -> str:
    """A report's result reference as the key of the Observation it names (`Observation.located`): the EHR's as its
    id ("Observation/12", relative or absolute on the EHR's host, as "12"), another server's as its absolute URL (a
    relative one in that server's report is on it, `pool.located_reference`). Keyed by the bare id, an HIE report's
    o9 was read as received because the EHR holds an unrelated o9, and the report went unnamed."""
    located = located_reference(ref, report, server) or ref
    return located if is_absolute_url(located) else result_id(located)


def result_id(ref: str) -> str:
    """A report's result reference as the record's Observation id: "Observation/12" (or an absolute URL ending so,
    or a version of it, "Observation/12/_history/3") as "12"; any other reference (a urn) as written."""
    # Not fhirdata.local_reference, which drops a query string: a result is keyed as its read is judged
    # (`report_results._server_read`), so `Observation/12?_format=xml`, named "not an Observation id" and never read,
    # is never taken for the Observation 12 a payload holds either.
    parts = unversioned(ref.rstrip("/").split("/"))
    return parts[-1] if len(parts) >= 2 and parts[-2].endswith("Observation") and parts[-1] else ref


CLINICAL_STATUS_CODES = frozenset({"active", "recurrence", "relapse", "inactive", "remission", "resolved"})
VERIFICATION_STATUS_CODES = frozenset(
    {"unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"}
)


def _status_code(value: Any, known: frozenset[str]) -> str | None:
    """clinicalStatus/verificationStatus: a CodeableConcept in R4, a plain code string in STU3. A concept whose first
    code is none of the `known` HL7 codes gives the HL7 code of another coding, else the status its words name."""
    if type(value) is dict:
        codings = value.get("coding")
        if type(codings) is list and codings and type(coding := codings[0]) is dict:
            code = coding.get("code")
            if type(code) is str and code in known:  # the usual: HL7's code first, as HL7 writes it
                return code  # what the reading below gives it: a known code has no spaces and no capitals
    elif isinstance(value, str):  # STU3's plain code
        return code_text(value)
    first = code_text(_first_code(value))
    if first in known:
        return first
    return _named_status(value, known) or first


def _named_status(value: Any, known: frozenset[str]) -> str | None:
    """A known status code in any coding, else one a coding's display or the text names ("Entered in Error"): read by
    the first code only, a site's own code sent before HL7's, or a status in words, left a resolved cancer active
    (every check switched off) and an active opioid use disorder not active (no card)."""
    found = concept(value)
    if found is None:
        return None
    for coding in found.codings:
        code = code_text(coding.code)
        if code in known:
            return code
    for words in (*(coding.display for coding in found.codings), found.text):
        named = "-".join(words.lower().split()) if words else None
        if named in known:
            return named
    return None


def _abatement_present(data: Mapping[str, Any]) -> bool:
    """Whether any abatement[x] element (of whatever type suffix) holds a value."""
    try:
        # One search over all the keys: most conditions have no abatement, and testing each key costs more.
        if "abatement" not in "\n".join(data):
            return False
    except TypeError:  # not text keys (no JSON object has them): test each key below
        pass
    return any(data.get(k) not in (None, False, "", {}) for k in data if k.startswith("abatement"))


def read_condition(data: Mapping[str, Any], tz: ZoneInfo) -> Condition:
    get = data.get
    recorded = get("recordedDate") or get("assertedDate") or get("dateRecorded")  # R4, STU3, DSTU2
    onset = get("onsetDateTime") or as_dict(get("onsetPeriod")).get("start")
    # Both dates are parsed when first read (model.Condition); a missing one is None now, with nothing to parse.
    recorded_date = _unread_date(recorded, tz)
    return Condition.make(
        id=text(get("id")),
        code=concept(get("code")),
        categories=concepts(get("category")),
        clinical_status=_status_code(get("clinicalStatus"), CLINICAL_STATUS_CODES),
        verification_status=_status_code(get("verificationStatus"), VERIFICATION_STATUS_CODES),
        # read when used (model.Condition)
        abatement_present=(UNREAD, _abatement_present, data),  # type: ignore[arg-type]  # lazy field: slot_init reads the UNREAD tuple on first use
        recorded_date=recorded_date,
        # A problem is often recorded the day it began: the same text reads the same (one tuple fewer to make).
        onset=recorded_date if type(onset) is str and onset == recorded else _unread_date(onset, tz),
        # Most problems name no visit: told by the lookups, with no call to read nothing.
        encounter=None if (visit := get("encounter") or get("context")) is None else reference(visit),
        # Looked for only where extensions are sent: most diagnoses carry none.
        claim=_claim_read_from(extensions, DIAGNOSIS_CLAIM_EXTENSION) if (extensions := get("extension")) else None,
    )


def read_procedure(data: Mapping[str, Any], tz: ZoneInfo) -> Procedure:
    get = data.get
    performed_period = get("performedPeriod")
    # Most procedures are dated by performedDateTime alone: a missing period is told by the lookup, with no call.
    performed_start, performed_end = (None, None) if performed_period is None else _period(performed_period, tz)
    # STU3's notDone and DSTU2's notPerformed say what R4's status not-done says: a review or a drug test that was
    # not done must not count as one.
    not_done = get("notDone") is True or get("notPerformed") is True
    # R4's performed[x] may be a string: a date written there dates the procedure; other words date nothing.
    written = get("performedDateTime") or get("performedString")
    performed = parse_datetime(written, tz)
    period = as_dict(performed_period) if performed_start or performed_end else {}
    moments = (performed, performed_start, performed_end)
    return Procedure.make(
        id=text(get("id")),
        status="not-done" if not_done else code_text(get("status")),
        code=concept(get("code")),
        performed=performed,
        performed_start=performed_start,
        performed_end=performed_end,
        performed_as=None if performed or performed_start or performed_end else _performed_as(data),
        dated_partial=_latest_partial(moments, (written, period.get("start"), period.get("end"))),
        source=_source_of(data) if SOURCE in data else None,  # the usual: the EHR's own
        # Looked for only where extensions are sent: most procedures carry none.
        claim=_claim_read_from(extensions, PROCEDURE_CLAIM_EXTENSION) if (extensions := get("extension")) else None,
    )


def _latest_partial(moments: tuple[datetime | None, ...], written: tuple[Any, ...]) -> str | None:
    """The latest of `moments` (a procedure's date, as last_performed takes it) as written in `written` when it names
    a month or a year only ("2026-05"), else None; told from each text's length before any is read again."""
    partials = [no_day_written(value) for value in written]
    if not any(partials):
        return None
    dated = [(moment.date(), partial) for moment, partial in zip(moments, partials, strict=True) if moment is not None]
    if not dated:
        return None
    last = max(day for day, _ in dated)
    on_last = [partial for day, partial in dated if day == last]
    return on_last[0] if all(on_last) else None


def _performed_as(data: Mapping[str, Any]) -> str | None:
    """How an undated procedure's performed[x] was given, for a clinician to read: R4's performedAge ("at age 55
    years") and performedRange ("at ages 50–56 years"), which no window can place without guessing, or its words."""
    age = quantity(data.get("performedAge"))
    if age is not None and age.value is not None:
        return f"at age {quantity_text(age)}"
    span = as_dict(data.get("performedRange"))
    if span:
        low, high = quantity(span.get("low")), quantity(span.get("high"))
        if low is not None and high is not None and low.value is not None and high.value is not None:
            return f"at ages {low.value}–{quantity_text(high)}"
        one = low if low is not None and low.value is not None else high
        if one is not None and one.value is not None:
            return f"at age {'at least' if one is low else 'at most'} {quantity_text(one)}"
    words = text(data.get("performedString"))
    return f'"{words}"' if words else None


def _unread_date(value: Any, tz: ZoneInfo) -> Any:
    """A lazy date field's value (slot_init's UNREAD): parsed when first read; None, with nothing to parse, when
    not sent."""
    return None if value is None else (UNREAD, parse_datetime, value, tz)


def read_encounter(data: Mapping[str, Any], tz: ZoneInfo) -> Encounter:
    get = data.get
    # The end is parsed when first read (model.Encounter): only a few visits' ends are read.
    period_start, period_end = _unread_period(get("period"), tz, parse_datetime)
    diagnoses, stay = get("diagnosis"), get("hospitalization")
    # STU3 and DSTU2 name R4's reasonCode `reason`; R4's reasonReference is DSTU2's `indication`.
    reasons = get("reasonCode") if "reasonCode" in data else get("reason")
    linked = get("reasonReference") or get("indication")
    return Encounter.make(
        id=text(get("id")),
        status=code_text(get("status")),
        period_start=period_start,
        period_end=period_end,
        discharge_disposition=None if stay is None else concept(as_dict(stay).get("dischargeDisposition")),
        diagnosis_conditions=_visit_conditions(diagnoses, linked) if diagnoses or linked else (),
        reason_codes=() if reasons is None else concepts(reasons),
        kinds=_visit_kinds(get("type"), get("serviceType"), get("class")),
        places=_visit_places(get("location"), get("contained"), data) if "location" in data else (),
    )


def _unread_period(
    value: Any, tz: ZoneInfo, read_start: Callable[[Any, ZoneInfo], Any] = _unread_date
) -> tuple[Any, Any]:
    """A Period's start and end, each left for its first read (`_unread_date`); a record field that is not lazy (a
    visit's start, which every visit rule reads: model.Encounter) passes `parse_datetime` to read its start now."""
    # The usual Period (parsed JSON, often without an end) is read with no call to as_dict or for a missing end:
    # every visit of a chart passes here.
    period = value if type(value) is dict else as_dict(value)
    if not period:
        return None, None
    end = period.get("end")
    return read_start(period.get("start"), tz), None if end is None else _unread_date(end, tz)


def dated_in(encounter: Encounter, data: Mapping[str, Any], tz: ZoneInfo) -> Encounter:
    """A visit read already (`read_encounter`) with its period read again in another zone: nothing else in it
    depends on the zone, so the rest need not be read again."""
    period_start, period_end = _period(data.get("period"), tz)
    return replace(encounter, period_start=period_start, period_end=period_end)


def _visit_places(locations: Any, contained: Any, data: Mapping[str, Any]) -> tuple[Place, ...]:
    """Where a visit took place (`location`, in every version), each with the type of its Location when the visit
    contains it ("#loc-1"); a Location sent beside the visit is read in by build_record. Another server's visit's
    `Location/l1` is that server's (`absolute_on_source`): joined by it, an HIE visit took the EHR's l1's type."""
    places = []
    elsewhere = SOURCE in data
    for entry in map(as_dict, as_list(locations)):
        target = as_dict(entry.get("location"))
        ref = reference(target)
        if elsewhere and ref:
            ref = absolute_on_source(ref, data)
        name = text(target.get("display"))
        types: tuple[Concept, ...] = ()
        if ref and ref.startswith("#"):
            held = next((as_dict(r) for r in as_list(contained) if "#" + (text(as_dict(r).get("id")) or "") == ref), {})
            types = location_types(held)
            name = name or text(held.get("name"))
        places.append(Place.make(ref, name, code_text(entry.get("status")), types))
    return tuple(places)


def location_types(location: Mapping[str, Any]) -> tuple[Concept, ...]:
    """A Location's types: R4's `type` (a list), STU3's and DSTU2's (one concept)."""
    kind = location.get("type")
    return concepts(kind) if kind is not None else ()


_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def _visit_kinds(kind: Any, service: Any, visit_class: Any) -> tuple[Concept, ...]:
    """A visit's type (a list of concepts in R4, STU3 and DSTU2), R4's serviceType (one concept) and class (one
    Coding, read as a concept of one coding). DSTU2's class is a bare code of a fixed list with no hospice in it."""
    found = concepts(kind) if kind is not None else ()
    if type(visit_class) is dict and visit_class.get("system") == _ACT_CODE:
        visit_class = None  # HL7's encounter classes (AMB, IMP, EMER, HH, ...) have no hospice: the usual class, unread
    for value in (service, visit_class):
        if type(value) is dict:
            read = concept(value)
            if read is not None:
                found = (*found, read)
    return found


def _visit_conditions(diagnoses: Any, linked: Any) -> tuple[str, ...]:
    """The references to what a visit was for: its diagnoses' conditions, then its reason references (a cancer the
    visit names only so is still a cancer visit)."""
    found = [reference(as_dict(d).get("condition")) for d in as_list(diagnoses)] if diagnoses else []
    if linked:
        found += [reference(r) for r in as_list(linked)]
    return tuple([r for r in found if r])


# DSTU2's ProcedureRequest statuses (and STU3's cancelled) as R4 names them: DSTU2 has no "active", so a live order
# from a DSTU2 server (a hospice referral, an evaluation ordered) read as no order at all.
_OLDER_REQUEST_STATUSES = {
    "requested": "active",
    "pending": "active",  # DSTU2 ReferralRequest: sent, not yet acknowledged
    "received": "active",
    "accepted": "active",
    "in-progress": "active",
    "review": "active",  # DSTU2 DiagnosticOrder: results in, being reviewed
    "suspended": "on-hold",
    "rejected": "revoked",
    "aborted": "revoked",
    "failed": "revoked",  # DSTU2 DiagnosticOrder
    "cancelled": "revoked",
}
# A DSTU2 DiagnosticOrder states no intent; its statuses proposed and planned say it is a suggestion or a draft plan,
# no order (R4: intent proposal, plan), so a screen only proposed never reads as a test ordered.
_DIAGNOSTIC_ORDER_SUGGESTIONS = {"proposed": ("active", "proposal"), "planned": ("draft", "plan")}


def _request_status(value: Any) -> str | None:
    """A ServiceRequest's status in R4's terms."""
    status = code_text(value)
    return _OLDER_REQUEST_STATUSES.get(status, status) if status else None


def read_service_request(data: Mapping[str, Any], is_draft: bool, tz: ZoneInfo) -> ServiceRequest:
    """A ServiceRequest, or what it was before R4: a ProcedureRequest (DSTU2 dates it by `orderedOn`), or a
    ReferralRequest, which names what it asks for in `serviceRequested` and `type` and, in DSTU2, is dated by
    `dateSent` or `date` and due by `fulfillmentTime`."""
    code = data.get("code")
    authored = data.get("authoredOn") or data.get("orderedOn")
    due = data.get("occurrencePeriod")
    if code is None and data.get("resourceType") == "ReferralRequest":
        asked = _referral_service(data)
        authored = authored or data.get("dateSent") or data.get("date")
        due = due or data.get("fulfillmentTime")
    else:
        asked = concept(code)
    # Its dates are parsed when read (model.ServiceRequest).
    occurrence_start, occurrence_end = _unread_period(due, tz)
    return ServiceRequest.make(
        id=text(data.get("id")),
        is_draft=is_draft,
        status=_request_status(data.get("status")),
        intent=code_text(data.get("intent")),
        code=asked,
        authored_on=_unread_date(authored, tz),
        occurrence=_unread_date(data.get("occurrenceDateTime"), tz),
        occurrence_start=occurrence_start,
        occurrence_end=occurrence_end,
    )


def read_diagnostic_order(data: Mapping[str, Any], is_draft: bool, tz: ZoneInfo) -> tuple[ServiceRequest, ...]:
    """A DSTU2 DiagnosticOrder (a lab test ordered, such as a urine drug screen) as R4's ServiceRequest: one per test
    of its `item` list, each named by its own code (so a screen ordered with a blood count is still named as the
    screen), dated by its first dated `event` (when it was ordered). An order naming no test gives one request with no
    code, which no rule matches."""
    status = code_text(data.get("status"))
    status, intent = _DIAGNOSTIC_ORDER_SUGGESTIONS.get(status or "", (_request_status(status), None))
    ordered = next((e.get("dateTime") for e in map(as_dict, as_list(data.get("event"))) if e.get("dateTime")), None)
    authored = parse_datetime(ordered, tz)
    codes = [concept(as_dict(item).get("code")) for item in as_list(data.get("item"))]
    named: list[Concept | None] = [c for c in codes if c is not None]
    return tuple(
        ServiceRequest.make(
            id=text(data.get("id")),
            is_draft=is_draft,
            status=status,
            intent=intent,
            code=code,
            authored_on=authored,
            occurrence=None,
            occurrence_start=None,
            occurrence_end=None,
        )
        for code in (named or [None])
    )


def _referral_service(data: Mapping[str, Any]) -> Concept | None:
    """What a referral asks for, as one concept of all the codings of its `serviceRequested` list and its `type`,
    so a referral to hospice is known by either."""
    asked = [*concepts(data.get("serviceRequested")), *concepts(data.get("type"))]
    if not asked:
        return None
    return Concept(tuple(c for a in asked for c in a.codings), next((a.text for a in asked if a.text), None))


def _activity_text(activity: Mapping[str, Any], tz: ZoneInfo) -> str | None:
    """An activity's detail as one line: what (description, else code) and when (scheduled day or text)."""
    detail = as_dict(activity.get("detail"))
    coded = concept(detail.get("code"))
    what = text(detail.get("description")) or (coded.display() if coded is not None else None)
    if not what:
        return None
    period = as_dict(detail.get("scheduledPeriod"))
    when = parse_date(period.get("start"), tz)
    scheduled = text(detail.get("scheduledString"))
    if when is not None:
        return f"{what} ({when.isoformat()})"
    return f"{what} ({scheduled})" if scheduled else what


# An appointment that will not happen is no follow-up to tell the patient about.
_VOID_ACTIVITY = frozenset({"cancelled", "stopped", "entered-in-error", "not-started-declined"})


def _follow_up(activities: list[Any], tz: ZoneInfo) -> date | None:
    """The earliest day an appointment activity is scheduled for (scheduledPeriod.start, else a date written as
    scheduledString, as PainPlan's decision form writes it)."""
    days = []
    for activity in activities:
        detail = as_dict(as_dict(activity).get("detail"))
        if text(detail.get("kind")) != "Appointment" or text(detail.get("status")) in _VOID_ACTIVITY:
            continue
        day = parse_date(as_dict(detail.get("scheduledPeriod")).get("start"), tz) or parse_date(
            detail.get("scheduledString"), tz
        )
        if day is not None:
            days.append(day)
    return min(days, default=None)


def read_care_plan(data: Mapping[str, Any], tz: ZoneInfo) -> CarePlan:
    activities = as_list(data.get("activity"))
    stamp = as_dict(data.get("meta")).get("lastUpdated")
    last_updated = parse_datetime(stamp, tz)
    return CarePlan.make(
        id=text(data.get("id")),
        status=code_text(data.get("status")),
        categories=concepts(data.get("category")),
        created=parse_datetime(data.get("created"), tz),
        period_start=parse_datetime(as_dict(data.get("period")).get("start"), tz),
        last_updated=last_updated,
        title=text(data.get("title")) or text(data.get("description")),
        description=text(data.get("description")),
        activities=tuple(a for a in (_activity_text(as_dict(x), tz) for x in activities) if a),
        notes=tuple(n for n in (text(as_dict(x).get("text")) for x in as_list(data.get("note"))) if n),
        follow_up=_follow_up(activities, tz),
        last_updated_unread=None if last_updated is not None or stamp in (None, "") else str(stamp)[:40],
    )


def read_document(data: Mapping[str, Any], tz: ZoneInfo) -> DocumentReference:
    return DocumentReference.make(
        id=text(data.get("id")),
        status=code_text(data.get("status")),
        type=concept(data.get("type")),
        categories=concepts(data.get("category")),
        date=parse_datetime(data.get("date") or data.get("indexed"), tz),
        description=text(data.get("description")),
    )


def read_consent(data: Mapping[str, Any], tz: ZoneInfo) -> Consent:
    return Consent.make(
        id=text(data.get("id")),
        status=code_text(data.get("status")),
        categories=concepts(data.get("category")),
        date_time=parse_datetime(data.get("dateTime"), tz),
    )


GOAL_BOUNDS = {"<": "below", "<=": "at most", ">=": "at least", ">": "above"}


def _goal_detail(target: Mapping[str, Any]) -> str | None:
    """The target value as written: a quantity, a range, a string or a concept (whichever is present)."""
    amount = quantity(target.get("detailQuantity"))
    if amount is not None and amount.value is not None:
        unit = amount.unit or amount.code or ""
        shown = f"{amount.value} {'' if unit.startswith('{') else unit}".strip()  # UCUM "{score}" is no unit to show
        bound = GOAL_BOUNDS.get(str(as_dict(target.get("detailQuantity")).get("comparator")), "")
        return f"{bound} {shown}".strip()  # "PEG score: at most 4", not a target of exactly 4
    span = as_dict(target.get("detailRange"))
    if span:
        low, high = quantity(span.get("low")), quantity(span.get("high"))
        ends = [str(q.value) if q is not None and q.value is not None else "" for q in (low, high)]
        return "–".join(ends) if any(ends) else None
    words = text(target.get("detailString"))
    if words:
        return words
    coded = concept(target.get("detailCodeableConcept"))
    return coded.display() if coded is not None else None


# STU3's and DSTU2's Goal.status, as R4's lifecycleStatus names it (HL7's STU3-to-R4 map); the rest are spelled alike.
# Read as written, "entered-in-error" and "cancelled" were never seen: such a goal showed as live and met the step.
_STU3_GOAL_STATUS = {
    "in-progress": "active",
    "on-target": "active",
    "ahead-of-target": "active",
    "behind-target": "active",
    "sustaining": "active",
    "achieved": "completed",
}


def _goal_lifecycle(data: Mapping[str, Any]) -> str | None:
    """R4's lifecycleStatus, else STU3's or DSTU2's status in R4's words."""
    if "lifecycleStatus" in data:  # an R4 or R5 Goal: it has no `status`
        return code_text(data.get("lifecycleStatus"))
    status = code_text(data.get("status"))
    return _STU3_GOAL_STATUS.get(status, status) if status is not None else None


def read_goal(data: Mapping[str, Any], tz: ZoneInfo) -> Goal:
    described = concept(data.get("description"))
    targets = tuple(
        GoalTarget.make(
            measure=concept(as_dict(t).get("measure")),
            detail=_goal_detail(as_dict(t)),
            due=parse_date(as_dict(t).get("dueDate"), tz),
        )
        for t in as_list(data.get("target"))
    )
    return Goal.make(
        id=text(data.get("id")),
        lifecycle_status=_goal_lifecycle(data),
        achievement_status=concept(data.get("achievementStatus")),
        categories=concepts(data.get("category")),
        description=described.display() if described is not None else None,
        start=parse_date(data.get("startDate"), tz),
        status_date=parse_date(data.get("statusDate"), tz),
        targets=targets,
        notes=tuple(n for n in (text(as_dict(x).get("text")) for x in as_list(data.get("note"))) if n),
    )


def read_patient(data: Mapping[str, Any], tz: ZoneInfo) -> Patient:
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
    return Patient.make(
        id=text(data.get("id")),
        birth_date=parse_date(data.get("birthDate"), tz),
        name=name,
        gender=text(data.get("gender")),
        mrn=mrn,
        data_elsewhere=_data_elsewhere(data),
    )


# FHIR R4 Patient.link types whose other record holds the patient's data: replaced-by (this one was merged into it
# and "must no longer be used") and refer (this one is valid but not the main source). replaces and seealso point at
# records this one supersedes or merely mentions, so the chart read is still the one to use.
_DATA_ELSEWHERE_LINKS = frozenset({"replaced-by", "refer"})


def _data_elsewhere(data: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """Each (link type, other record) this Patient says holds its data instead of (or besides) itself."""
    found = []
    for link in as_list(data.get("link")):
        entry = as_dict(link)
        kind = text(entry.get("type"))
        if kind in _DATA_ELSEWHERE_LINKS:
            other = as_dict(entry.get("other"))
            found.append((kind, text(other.get("reference")) or text(other.get("display")) or "another record"))
    return tuple(found)


def clear_read_caches() -> None:
    """Forget every cached reading of FHIR content (for cold-cost benchmarks; results never depend on it)."""
    clear_caches()
    _dosages.clear()
    _dispense_request.clear()
    _course.clear()
    _UNIT_CHANGES.clear()
    clear_inline_medications()
    memo.forget_all()  # recognition, MME and terminology answers are keyed by the objects read above
