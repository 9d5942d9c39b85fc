"""The typed patient record: frozen dataclasses the checks and the plan view read (no parsing here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING, ClassVar, Self

from guideline.fhirdata import (
    Concept,
    Quantity,
    unread_date,
)
from guideline.record.slot_init import slot_init
from guideline.words import longest_not_read

# Marks a fill read from a pharmacy claim whose quantity names no unit: the claim's quantity is in NCPDP billing
# units (guideline.population.claims sets it; read_dispense reads it). PainPlan's own mark, never sent anywhere.
BILLING_UNITS_EXTENSION = "urn:painplan:quantity-in-ncpdp-billing-units"
# Marks a fill read from a pharmacy claim, with the claim's id (guideline.population.claims sets it; read_dispense
# reads it): two lines of one claim are two prescriptions filled together, never one fill sent twice. PainPlan's own
# mark, never sent anywhere.
CLAIM_EXTENSION = "urn:painplan:fill-read-from-claim"
# Marks a diagnosis read from a payer's claim (not a pharmacy one), with the claim's id (guideline.population.claims
# sets it; read_condition reads it): the claim bills a visit on its day of service, which G3 counts as one
# (guideline.exclusions.cancer_visits). PainPlan's own mark, never sent anywhere.
DIAGNOSIS_CLAIM_EXTENSION = "urn:painplan:diagnosis-read-from-claim"
# Marks a procedure read from a payer's claim (a billed line or procedure, or a hospice claim's care), with the claim's
# id (guideline.population.claims sets it; read_procedure reads it): the id made up for the procedure ("eob-1-px1") is
# in no system, so a line naming it names the claim (`Procedure.named_by`). PainPlan's own mark, never sent anywhere.
PROCEDURE_CLAIM_EXTENSION = "urn:painplan:procedure-read-from-claim"

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
    "Goal",
)


@slot_init
@dataclass(frozen=True, slots=True)
class ReadProblem:
    """A resource (or part of one) that could not be read, and why. Carries no patient data."""

    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]

    resource_type: str
    resource_id: str | None
    reason: str
    position: str | None = None  # where it sat in the request ("draft order 2", "patient data item 14")

    def describe(self) -> str:
        """A plain-words name for the resource that could not be read: type, id and position, no contents."""
        named = f"{self.resource_type}/{self.resource_id}" if self.resource_id else self.resource_type
        return f"{named} ({self.position})" if self.position else named


@slot_init
@dataclass(frozen=True, slots=True)
class Patient:
    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]
    id: str | None
    birth_date: date | None
    name: str | None = None
    gender: str | None = None
    mrn: str | None = None
    # The records this one links to as holding the patient's data (`link` of type replaced-by or refer), each
    # (link type, the other record as sent): a merged record's medicines and results may be there, not here.
    data_elsewhere: tuple[tuple[str, str], ...] = ()


@slot_init
@dataclass(frozen=True, slots=True)
class MedicationIngredient:
    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]
    item: Concept | None
    strength_numerator: Quantity | None
    strength_denominator: Quantity | None
    active: bool = True  # False only where the Medication says so (`isActive` false): an excipient, a filler


@slot_init
@dataclass(frozen=True, slots=True)
class Medication:
    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]
    id: str | None
    code: Concept | None
    form: Concept | None
    ingredients: tuple[MedicationIngredient, ...] = ()


@slot_init
@dataclass(frozen=True, slots=True)
class TimingRepeat:
    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]
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
    day_of_week: tuple[str, ...] = ()  # "mon" … "sun": taken only on these days
    # boundsPeriod's dates sent but not read, each with its name as written ("boundsPeriod.start '2026-02-30'").
    unread_dates: tuple[str, ...] = ()


@slot_init
@dataclass(frozen=True, slots=True)
class DoseAndRate:
    """One dose entry; `kind` is the Epic/HL7 type code or text, lowercased (calculated, ordered, ...)."""

    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]

    kind: str | None
    dose: Quantity | None = None
    dose_low: Quantity | None = None
    dose_high: Quantity | None = None
    rate: Quantity | None = None


@slot_init
@dataclass(frozen=True, slots=True)
class Dosage:
    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]
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


@slot_init
@dataclass(frozen=True, slots=True)
class DispenseRequest:
    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]
    validity_start: datetime | None = None
    validity_end: datetime | None = None
    repeats_allowed: int | None = None
    quantity: Quantity | None = None
    expected_supply: Quantity | None = None
    # validityPeriod's dates sent but not read, each with its name as written.
    unread_dates: tuple[str, ...] = ()


@slot_init
@dataclass(frozen=True, slots=True)
class ResolvedMedication:
    """What a medication[x] resolved to (guideline 2.1); `concept` is None when unresolved."""

    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]

    concept: Concept | None
    resource: Medication | None = None
    reference: str | None = None
    reference_display: str | None = None
    # Named by an absolute reference to another server than the EHR's: never read there, nor matched here.
    elsewhere: bool = False

    @property
    def unresolved(self) -> bool:
        return self.concept is None


# Its course of therapy is read for a few orders of a call (a long-term opioid's), when it was written for about
# half of a chart's orders, and who prescribed it and its numbers only to tie a fill or an HIE's copy to it: read when
# used.
@slot_init(lazy=("course_of_therapy", "authored_on", "requester", "identifiers"))
@dataclass(frozen=True, slots=True)
class MedOrder:
    """A MedicationRequest (draft from the hook context, or from the EHR), or a MedicationStatement."""

    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]

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
    # Its `ref` where it lives (`pool.located_id`): an HIE's order 123 is not the EHR's order 123. Worked out once by
    # the reader (`order_located`): the renewal and fill joins read it about 90 times a call, and made as a property
    # it was built again (two calls and a format) at each read.
    located: str | None
    requester: str | None = None  # the prescriber's reference, to tie a fill without authorizingPrescription to it
    reported: bool = False  # reported[x] (R5 reported): told by the patient or another provider, not ordered here
    resource_type: str = "MedicationRequest"  # or MedicationStatement, read as a medication reported as taken
    authored_partial: str | None = None  # authoredOn as written when it names a month or a year only ("2026-05")
    # A draft's Bundle fullUrl ("urn:uuid:…"): an order-select `selections` entry may name a draft by it alone.
    full_url: str | None = None
    # The base of the other server it is from (pool.SOURCE: an HIE's), None for the EHR's own.
    source: str | None = None
    # Its identifiers as (system, value), those with a value: the EHR's order number an HIE's copy keeps
    # (`identity.relayed_orders`).
    identifiers: tuple[tuple[str, str], ...] = ()
    # The type the EHR sent it as when that is not `resource_type`: DSTU2's MedicationOrder, read as a
    # MedicationRequest (its `ref`, for every join), but held by the EHR under its own type. None otherwise.
    sent_type: str | None = None
    # authoredOn (DSTU2's dateWritten) as sent, kept so that one `authored_on` could not read is named as written.
    authored_sent: object = None
    # A statement's basedOn / derivedFrom orders (located, `located_reference`): the prescriptions it is the
    # medication list's entry of, so that it is not counted as a second supply beside one of them.
    records_orders: tuple[str, ...] = ()

    @property
    def unread_dates(self) -> tuple[str, ...]:
        """Its dates sent but not read, each with its name as written ("authoredOn '2026-13-45'"): read as none, they
        leave its supply to be placed by its other dates."""
        # Only a date sent and not read is named: the usual order's read authoredOn is not looked at again.
        sent_unread = self.authored_sent is not None and self.authored_on is None
        authored = unread_date(self.authored_sent, self.authored_on) if sent_unread else None
        repeats = [ds.repeat.unread_dates for ds in self.dosages if ds.repeat and ds.repeat.unread_dates]
        if authored is None and not self.dispense.unread_dates and not repeats:
            return ()  # the usual order, every date read
        named = (f"authoredOn '{authored}'",) if authored is not None else ()
        return (*named, *self.dispense.unread_dates, *(date for dates in repeats for date in dates))

    @property
    def ref(self) -> str | None:
        return f"{self.resource_type}/{self.id}" if self.id else None

    @property
    def held_ref(self) -> str | None:
        """Its reference as the EHR holds it, under the type it was sent as: what a delete of the draft names."""
        return f"{self.sent_type or self.resource_type}/{self.id}" if self.id else None


def order_located(resource_type: str, order_id: str | None, source: str | None) -> str | None:
    """A MedOrder's `located`: its `ref` (`resource_type/id`), under the base of the other server it is from."""
    if not order_id:
        return None
    return f"{source}/{resource_type}/{order_id}" if source else f"{resource_type}/{order_id}"


# What a fill's quantity and type say, who dispensed it and its numbers are read only for the few fills that may be one
# sent twice, and when it was prepared (when that is not when it was handed over) by no check: read when used.
@slot_init(lazy=("quantity", "supply_type", "when_prepared", "performers", "prescribers", "pharmacy", "numbers"))
@dataclass(frozen=True, slots=True)
class Dispense:
    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]
    id: str | None
    status: str | None
    medication: ResolvedMedication
    when_handed_over: datetime | None
    when_prepared: datetime | None
    days_supply: Decimal | None  # daysSupply.value as written: read it in days through fills.days_supply
    quantity: Quantity | None
    authorizing_prescriptions: tuple[str, ...] = ()  # MedicationRequest references the fill was made from
    performers: tuple[str, ...] = ()  # performer.actor references (pharmacy, pharmacist or, in claims, prescriber)
    # The performers a claim names as prescribing (its care team's prescribing member): the only performers that
    # say who prescribed the fill. A pharmacy's own fill names who dispensed it, never its prescriber.
    prescribers: tuple[str, ...] = ()
    # The date it is dated by (handed over, else prepared) as written when it names a month or a year only.
    filled_partial: str | None = None
    # daysSupply when it names a unit ("4 wk", "720 h"): fills.days_supply converts it to days. None for a bare
    # number, which is days (the claim field's meaning).
    days_supply_written: Quantity | None = None
    # A pharmacy claim's bare quantity (no unit): in NCPDP billing units, mL for a liquid (fills.fill_quantity). A
    # MedicationDispense's bare quantity has no such meaning and stays a plain count.
    billing_units: bool = False
    # The fill's identifiers as (system, value): a pharmacy's prescription-fill number, a Part D event's. Two fills
    # numbered differently under one system are two fills (guideline.sent_twice).
    numbers: tuple[tuple[str, str], ...] = ()
    # The pharmacy that dispensed it: an Organization performer, else the organisation a STU3 performer acted on
    # behalf of (onBehalfOf, dropped in R4), else where it was dispensed (location), else a dispenser named by
    # identifier alone (an NPI of no stated type that is not the prescribing performer); as `identity.who` names it.
    pharmacy: str | None = None
    claim: str | None = None  # the id of the pharmacy claim it was read from (CLAIM_EXTENSION), None for a dispense
    # MedicationDispense.type: what kind of fill it was (HL7 v3 ActPharmacySupplyType: a first fill, a refill, a
    # part fill, a trial fill and its balance). Two equal part fills of one prescription on one day are two fills,
    # never one sent twice (guideline.sent_twice). None when not sent, as for every fill read from a claim.
    supply_type: Concept | None = None
    # The base of the other server it is from (pool.SOURCE: an HIE's), None for the EHR's own: an HIE's copy of the
    # EHR's fill under its own id is read once (`sent_twice.relayed_fills`).
    source: str | None = None
    # Its whenHandedOver and whenPrepared sent but not read, each named as written ("whenHandedOver '06/15/2026'"),
    # when no hand-over date was read: read as none, the fill is dated by the other, or not at all.
    unread_dates: tuple[str, ...] = ()

    @property
    def ref(self) -> str | None:
        """Its own reference, `MedicationDispense/<id>`, on the server it is from; None without an id. Another
        server's fill of the same id has the same `ref` (`located` tells them apart), and a claim line's fill has an
        id made up for it (`claim`): a join on the EHR's or the export's own fills asks `source` or `claim` too."""
        return f"MedicationDispense/{self.id}" if self.id else None

    @property
    def located(self) -> str | None:
        """Its id as the record names it: the bare id when the EHR's, its absolute URL when another server's."""
        return _located(self.source, "MedicationDispense", self.id)

    @property
    def named_by(self) -> tuple[str, str] | None:
        """("payer claim", "eob-1"), from a later line ("payer claim", "eob-1, line 2"): what a line names a fill read
        from a pharmacy claim by, as a procedure billed on one is (`Procedure.named_by`); None for a pharmacy's own
        fill, named by its id."""
        if self.claim is None:
            return None
        # Its own id was made up from the claim's and its line's ("eob-1-2", guideline.population.claims): a reader
        # finds that in no system, the claim in the payer's. The line keeps two lines of one claim apart in words
        # when their drug and day are alike; the first, the usual claim's only line, needs none.
        line = self.id.removeprefix(f"{self.claim}-") if self.id and self.id.startswith(f"{self.claim}-") else "1"
        return ("payer claim", self.claim if line == "1" else f"{self.claim}, line {line}")


@slot_init
@dataclass(frozen=True, slots=True)
class Administration:
    """A MedicationAdministration (R4, R5, STU3, DSTU2): a medicine given to the patient, in clinic or on a ward. Its
    status is in R4's terms: STU3's notGiven and DSTU2's wasNotGiven read as R4's not-done."""

    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]

    id: str | None
    status: str | None
    medication: ResolvedMedication
    given: datetime | None  # effectiveDateTime (DSTU2: effectiveTimeDateTime; R5: occurenceDateTime)
    given_start: datetime | None  # effectivePeriod (DSTU2: effectiveTimePeriod; R5: occurencePeriod)
    given_end: datetime | None
    dose: Quantity | None = None  # dosage.dose (DSTU2: dosage.quantity)

    @property
    def when(self) -> datetime | None:
        """The moment it was given: its date and time, else when a period of giving ended, else when it began."""
        return self.given or self.given_end or self.given_start


@slot_init
@dataclass(frozen=True, slots=True)
class Component:
    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]
    code: Concept | None
    value_quantity: Quantity | None
    # A lab may report a drug screen panel as one result with a component per substance, each with its own value,
    # flag and range (R4 gives a component its own interpretation and referenceRange).
    value_concept: Concept | None = None
    value_string: str | None = None
    interpretation: tuple[Concept, ...] = ()
    value_comparator: str | None = None
    reference_high: Quantity | None = None
    reference_below: bool = False
    # Its own dataAbsentReason (Epic sends one per analyte of a panel), read as a result's is (`Observation`'s fields).
    data_absent: bool = False
    data_absent_reason: str | None = None


def _located(source: str | None, kind: str, resource_id: str | None) -> str | None:
    """A resource's id as the record names it: the bare id when the EHR's, its absolute URL when another server's."""
    return f"{source}/{kind}/{resource_id}" if source and resource_id else resource_id


_DISPLAY = attrgetter("display")


def _written_values(value_string: str | None, value_concept: Concept | None) -> list[str]:
    """A result's value in words (`Observation.value_words`), from its valueString and valueCodeableConcept."""
    # Every one, as a lab may say a verdict ("Dilute", "Not performed") in any (guideline.uds reads them all); a
    # value read for a number and named as written reads the first (guideline.specimen_validity `_words`).
    # map and filter, not a generator and a comprehension: asked of every drug and validity result, each a frame.
    if value_concept is None:
        return [value_string] if value_string else []
    return list(filter(None, (value_string, value_concept.text, *map(_DISPLAY, value_concept.codings))))


def value_words_not_read(value_string: str | None, value_concept: Concept | None) -> int | None:
    """`Observation.value_not_read` of a value sent so (a result's, or a panel analyte's read as a result)."""
    return longest_not_read(_written_values(value_string, value_concept))


def flags_not_read(interpretation: tuple[Concept, ...]) -> int | None:
    """`Observation.flag_not_read` of flags sent so (a result's, or a panel analyte's read as a result): the length of
    the longest flag text or coding name when over `words.TEXT_READ_CHARACTERS`, else None."""
    return longest_not_read(text for flag in interpretation for text in (flag.text, *map(_DISPLAY, flag.codings)))


# A result's reference range is read only for a measured drug amount, and whether its value words or its flags are
# too long to read only for a drug test's or a validity test's value: each read when used (labs send a range on
# each result).
@slot_init(lazy=("reference_high", "reference_below", "value_not_read", "flag_not_read"))
@dataclass(frozen=True, slots=True)
class Observation:
    """A result. Its category is not kept: results are told apart by code only, since sites file drug tests and
    surveys under other categories than the searches ask for (docs/configuration.md, prefetch.uds_query)."""

    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]

    id: str | None
    status: str | None
    code: Concept | None
    effective: datetime | None
    effective_period_start: datetime | None  # effectivePeriod.start, else its end when it has only an end
    effective_instant: datetime | None
    issued: datetime | None  # read only when no effective[x] dates the result (all `result_time` reads it for)
    value_concept: Concept | None = None
    value_string: str | None = None
    value_quantity: Quantity | None = None
    interpretation: tuple[Concept, ...] = ()
    components: tuple[Component, ...] = ()
    value_comparator: str | None = None  # valueQuantity.comparator: "<1 ng/mL" is below what the lab can measure
    # The upper end of the normal range, and whether normal lies strictly below it (a text "<300 ng/mL" names the
    # cutoff itself, where a referenceRange.high is the highest normal value).
    reference_high: Quantity | None = None
    reference_below: bool = False
    # The length of its longest value words (`value_words`) when over `words.TEXT_READ_CHARACTERS`, else None: then
    # none of them is read (the result reads no value) and it is named with its length (guideline.result_words).
    # Worked out from its value once, however many readers ask (the drug test reader, specimen validity, the named
    # gaps): one that copies a result with another value gives the copy its own (`value_words_not_read`). Derived,
    # so neither compared nor shown.
    value_not_read: int | None = field(default=None, compare=False, repr=False)
    # The same of its flags (`interpretation`: a flag's text or a coding's name, `flags_not_read`): then the result
    # reads no value either. Measured once, where the drug test reader and the named gaps each measured it; a copy
    # with other flags (a panel's analyte) gives the copy its own. Derived, so neither compared nor shown.
    flag_not_read: int | None = field(default=None, compare=False, repr=False)
    value_boolean: bool | None = None  # valueBoolean: a yes/no row ("PDMP reviewed?") sent as true or false
    data_absent: bool = False  # a dataAbsentReason: the value was not given, and why
    value_datetime: datetime | None = None  # valueDateTime: a row whose answer is a date ("PDMP last reviewed")
    # A panel heading whose results are members of their own (R4 hasMember, STU3/DSTU2 related of type has-member)
    has_members: bool = False
    # Its members as the record's Observation ids (result_id of each reference): a heading whose members did not
    # arrive holds no result read, and must be named.
    member_ids: tuple[str, ...] = ()
    # The date it is dated by (`result_time`) as written when it names a month or a year only ("2026-05"): read as
    # its 1st, and judged against the prescriptions of every day it can mean (guideline.uds).
    dated_partial: str | None = None
    # The base of the other server it is from (pool.SOURCE: an HIE's), None for the EHR's own.
    source: str | None = None
    # Its dates (effective[x], issued) sent but not read, each named as written, when none was read: undated, it is
    # named with them, so that a date sent and mistyped is told from none at all.
    unread_dates: tuple[str, ...] = ()
    # Its specimen as referenced (`specimen`): results of one specimen are judged together (guideline.uds).
    specimen: str | None = None
    notes: tuple[str, ...] = ()  # its notes' text: some labs say there that the specimen is dilute
    # What the validity results of its specimen say of it ("dilute"): set on urine drug test results by
    # guideline.uds, from the specimen's own creatinine, specific gravity or pH results.
    specimen_unfit: tuple[str, ...] = ()
    # Its dataAbsentReason's code ("not-performed", "error"), lowercased; else its text written as one ("Not
    # performed" is "not-performed"): guideline.uds reads some as no test (`data_absent` says only one was sent).
    data_absent_reason: str | None = None

    @property
    def located(self) -> str | None:
        """How a report's results name it (`readers.result_key`): its id when the EHR's, its absolute URL when
        another server's (an HIE's o9 is not the EHR's o9)."""
        return _located(self.source, "Observation", self.id)

    @property
    def value_words(self) -> list[str]:
        """What its value says in words, as sent, in this order: its text (`valueString`), its coded answer's text,
        then each of its codings' names; those sent empty are left out."""
        return _written_values(self.value_string, self.value_concept)

    @property
    def collected(self) -> datetime | None:
        """When its specimen was taken, as sent: effectiveDateTime, else effectivePeriod.start, else effectiveInstant;
        a date alone reads as its midnight (`timeutil.day_only`). None where only the day it was issued is sent."""
        # Where one specimen's results are matched (guideline.uds, guideline.specimen_validity): the day a report was
        # issued may be another sample's, so `result_time`'s fallback to issued is no collection time.
        return self.effective or self.effective_period_start or self.effective_instant

    @property
    def result_time(self) -> datetime | None:
        """effectiveDateTime, else effectivePeriod.start, else effectiveInstant, else issued (guideline 6.4)."""
        # `or` picks the first that is not None: a datetime is always true. Half the cost of a loop over a tuple.
        return self.effective or self.effective_period_start or self.effective_instant or self.issued


@slot_init
@dataclass(frozen=True, slots=True)
class DiagnosticReport:
    """A lab report (R4, STU3, DSTU2). Its results are Observations: those it contains are read into the record's
    observations; one whose results PainPlan cannot read is still a test done, with its conclusion to name."""

    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]

    id: str | None
    status: str | None
    code: Concept | None
    effective: datetime | None  # effectiveDateTime, else effectivePeriod's start (its end when it has only one)
    issued: datetime | None
    conclusion: str | None = None
    conclusion_codes: tuple[Concept, ...] = ()  # R4 conclusionCode; STU3 and DSTU2 codedDiagnosis
    # Its result Observations, by the id each has in the record (a contained one's is "<report id>#<local id>")
    # or, for a reference the record cannot tie to an id, as written.
    results: tuple[str, ...] = ()
    document: bool = False  # sent as a document (presentedForm: a PDF or image), its results perhaps only there
    dated_partial: str | None = None  # its date as written when it names a month or a year only ("2026-05")
    source: str | None = None  # the base of the other server it is from (pool.SOURCE: an HIE's), None for the EHR's
    # Its dates (effective[x], issued) sent but not read, each named as written, when none was read: as a result's.
    unread_dates: tuple[str, ...] = ()

    @property
    def located(self) -> str | None:
        """Its id when the EHR's, its absolute URL when another server's (an HIE's dr1 is not the EHR's dr1)."""
        return _located(self.source, "DiagnosticReport", self.id)

    @property
    def result_time(self) -> datetime | None:
        """When the specimen was taken (effective[x]), else when the report was issued."""
        return self.effective or self.issued


# A problem's dates are read by the plan page and a few exclusions, never by most calls' checks, and whether it abated
# only when it has no clinicalStatus: read when used (readers.read_condition), a chart's problems cost 25 date parses
# and 25 searches of every key a call for nothing.
@slot_init(lazy=("abatement_present", "recorded_date", "onset"))
@dataclass(frozen=True, slots=True)
class Condition:
    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]
    id: str | None
    code: Concept | None
    categories: tuple[Concept, ...]
    clinical_status: str | None
    verification_status: str | None
    abatement_present: bool
    recorded_date: datetime | None
    onset: datetime | None
    encounter: str | None
    claim: str | None = None  # the id of the payer claim it was read from (DIAGNOSIS_CLAIM_EXTENSION), else None

    @property
    def ref(self) -> str | None:
        return f"Condition/{self.id}" if self.id else None


@slot_init
@dataclass(frozen=True, slots=True)
class Procedure:
    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]
    id: str | None
    status: str | None
    code: Concept | None
    performed: datetime | None
    performed_start: datetime | None
    performed_end: datetime | None
    # How performed[x] was given when it dates nothing: R4's performedAge ("at age 55 years") or performedRange, or
    # words that are no date; None when it gave a date or was not sent.
    performed_as: str | None = None
    # Its latest performed date as written when it names a month or a year only ("2026-05"): read as its 1st, and
    # written so wherever a drug test's date is shown (guideline.uds.as_written), as a result's is.
    dated_partial: str | None = None
    source: str | None = None  # the base of the other server it is from (pool.SOURCE: an HIE's), None for the EHR's
    claim: str | None = None  # the id of the payer claim it was read from (PROCEDURE_CLAIM_EXTENSION), else None

    @property
    def located(self) -> str | None:
        """Its id when the EHR's, its absolute URL when another server's (an HIE's pr1 is not the EHR's pr1)."""
        return _located(self.source, "Procedure", self.id)

    @property
    def named_by(self) -> tuple[str, str] | None:
        """("payer claim", "eob-1"): what a line names a procedure read from a payer claim by, as a claim's
        diagnosis is named (guideline.exclusions); None for any other, named by its own id."""
        # Its own id was made up from the claim's ("eob-1-px1"): a reader finds that in no system, the claim in the
        # payer's.
        return None if self.claim is None else ("payer claim", self.claim)


@slot_init
@dataclass(frozen=True, slots=True)
class Place:
    """Where a visit took place (an Encounter's location): the Location it names, the name the visit or the Location
    gives it, its status on the visit (planned, active, reserved, completed), and the Location's type when the
    record holds that Location (contained in the visit, or sent beside it)."""

    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]

    reference: str | None
    name: str | None
    status: str | None = None
    types: tuple[Concept, ...] = ()


# When a visit ended is read only for some visits (a hospice stay's): parsed when read (readers.read_encounter).
@slot_init(lazy=("period_end",))
@dataclass(frozen=True, slots=True)
class Encounter:
    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]
    id: str | None
    status: str | None
    period_start: datetime | None
    period_end: datetime | None
    discharge_disposition: Concept | None
    diagnosis_conditions: tuple[str, ...]
    reason_codes: tuple[Concept, ...]
    # What kind of visit it was, by whom: its type (a list in every version), R4's serviceType and class. A hospice
    # service's visit says so here, often with no hospice procedure, diagnosis or discharge on record.
    kinds: tuple[Concept, ...] = ()
    # Where it took place: a stay in a hospice may be known only by its place (Epic's inpatient visit at
    # "Connecticut Hospice, Branford"), with the Location's type saying hospice.
    places: tuple[Place, ...] = ()

    @property
    def ref(self) -> str | None:
        return f"Encounter/{self.id}" if self.id else None


# A request's dates are read only for a pending drug screen or referral: parsed when read.
@slot_init(lazy=("authored_on", "occurrence", "occurrence_start", "occurrence_end"))
@dataclass(frozen=True, slots=True)
class ServiceRequest:
    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]
    id: str | None
    is_draft: bool
    status: str | None
    intent: str | None
    code: Concept | None
    authored_on: datetime | None
    occurrence: datetime | None
    occurrence_start: datetime | None
    occurrence_end: datetime | None


# A care plan entered in error or revoked is void (a draft, one on hold or with no status is not: it is named).
VOID_CARE_PLAN_STATUSES = frozenset({"entered-in-error", "revoked"})


@slot_init
@dataclass(frozen=True, slots=True)
class CarePlan:
    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]
    id: str | None
    status: str | None
    categories: tuple[Concept, ...]
    created: datetime | None
    period_start: datetime | None
    last_updated: datetime | None
    title: str | None
    description: str | None = None
    activities: tuple[str, ...] = ()  # each activity as written: its detail's description or code, and when
    notes: tuple[str, ...] = ()
    follow_up: date | None = None  # the earliest scheduled day of an appointment activity (the follow-up visit)
    # meta.lastUpdated as written (cut short) when it is given but cannot be read as a date; else None
    last_updated_unread: str | None = None

    @property
    def undated(self) -> bool:
        """Whether it has no date PainPlan can read (created, period start, meta.lastUpdated): no check can place it
        in a window, and it may be years old."""
        return self.created is None and self.period_start is None and self.last_updated is None

    @property
    def void(self) -> bool:
        """Whether it was entered in error or revoked: no check and no section reads it, so nothing names it."""
        return self.status in VOID_CARE_PLAN_STATUSES


@slot_init
@dataclass(frozen=True, slots=True)
class DocumentReference:
    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]
    id: str | None
    status: str | None
    type: Concept | None
    categories: tuple[Concept, ...]
    date: datetime | None
    description: str | None


@slot_init
@dataclass(frozen=True, slots=True)
class Consent:
    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]
    id: str | None
    status: str | None
    categories: tuple[Concept, ...]
    date_time: datetime | None


@slot_init
@dataclass(frozen=True, slots=True)
class GoalTarget:
    """One Goal.target: what is measured, the value aimed for (as written) and by when."""

    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]

    measure: Concept | None
    detail: str | None
    due: date | None


@slot_init
@dataclass(frozen=True, slots=True)
class Goal:
    """A patient goal (pain, function), as the treatment plan's Initiate and Reassess steps read it."""

    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]

    id: str | None
    lifecycle_status: str | None
    achievement_status: Concept | None
    categories: tuple[Concept, ...]
    description: str | None
    start: date | None
    status_date: date | None
    targets: tuple[GoalTarget, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PatientRecord:
    """Everything the checks and the plan view read about one patient."""

    patient: Patient | None = None
    orders: tuple[MedOrder, ...] = ()
    dispenses: tuple[Dispense, ...] = ()
    administrations: tuple[Administration, ...] = ()
    observations: tuple[Observation, ...] = ()
    diagnostic_reports: tuple[DiagnosticReport, ...] = ()
    conditions: tuple[Condition, ...] = ()
    procedures: tuple[Procedure, ...] = ()
    encounters: tuple[Encounter, ...] = ()
    service_requests: tuple[ServiceRequest, ...] = ()
    care_plans: tuple[CarePlan, ...] = ()
    documents: tuple[DocumentReference, ...] = ()
    consents: tuple[Consent, ...] = ()
    goals: tuple[Goal, ...] = ()
    problems: tuple[ReadProblem, ...] = ()
    unresolved_medication_refs: tuple[str, ...] = ()
    # Report results a FHIR client tried to read and could not (or left unread), each (result id, why): named.
    results_not_received: tuple[tuple[str, str], ...] = ()
    # Every name a draft of the hook's draftOrders goes by (`Type/id`, its id, its fullUrl), whatever its type: what
    # an order-select selection is matched against, so one naming a draft PainPlan does not judge is still found.
    draft_names: frozenset[str] = frozenset()
    # Drafts whose identity is in doubt, each counted and named (`record.drafts`): the ids differing drafts share, and
    # the drafts whose subject is another patient than the one in context.
    draft_id_clashes: tuple[str, ...] = ()
    drafts_of_another_patient: tuple[str, ...] = ()
    # (the copy's located id, the EHR resource's): orders and fills another server relayed unchanged under the same id,
    # dropped when pooled (`identity.relayed_unchanged`), told apart by type (`identity.unchanged_orders`,
    # `unchanged_fills`) and named as relayed copies (`identity.relayed_names`, and `Facts.fills_read_once` for fills).
    relayed_unchanged: tuple[tuple[str, str], ...] = ()

    @property
    def drafts(self) -> tuple[MedOrder, ...]:
        return tuple(o for o in self.orders if o.is_draft)

    @property
    def draft_service_requests(self) -> tuple[ServiceRequest, ...]:
        return tuple(s for s in self.service_requests if s.is_draft)
