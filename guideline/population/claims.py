"""Claims as payers export them (ExplanationOfBenefit: CARIN Blue Button, CMS Blue Button and BCDA), read as the
fills, diagnoses and procedures they stand for, so the review reads them with the same readers as everything else."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from guideline.exclusions import HOSPICE_PLACE_OF_SERVICE, PLACE_OF_SERVICE_SYSTEMS, is_hospice_bill_type
from guideline.fhirdata import a_date, as_dict, as_list, coding_code, coding_system, local_reference, text
from guideline.population.quality import Quality
from guideline.record.model import (
    BILLING_UNITS_EXTENSION,
    CLAIM_EXTENSION,
    DIAGNOSIS_CLAIM_EXTENSION,
    PROCEDURE_CLAIM_EXTENSION,
)
from guideline.terminology import hospice_care_codes

# Claim type codes of a prescription drug claim: HL7's claim-type (and its older ex-claimtype) "pharmacy", CMS Blue
# Button's eob-type "PDE" (a Part D prescription drug event).
PHARMACY_CLAIM_TYPES = frozenset({"pharmacy", "pde"})
# Claim types that are hospice care in themselves (CMS Blue Button's eob-type).
HOSPICE_CLAIM_TYPES = frozenset({"hospice"})
# The claim care-team role of the prescriber, kept on the fill's performer.
_PRESCRIBING = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/claimcareteamrole", "code": "prescribing"}]
}
HOSPICE_CARE = {"system": "http://snomed.info/sct", "code": "385763009", "display": "Hospice care (claim)"}
VOID_CLAIM_STATUSES = frozenset({"cancelled", "entered-in-error"})
# A claim's status as its fills carry it: an active (adjudicated) claim is a fill handed over; a draft one is not
# final yet, and is counted as a fill not counted for its status, as a cancelled one is.
_FILL_STATUS = {
    "active": "completed",
    "draft": "in-progress",
    "cancelled": "cancelled",
    "entered-in-error": "entered-in-error",
}
# related.relationship codes (HL7's ex-relatedclaimrelationship and CARIN's C4BBRelatedClaimRelationshipCodes, any
# system): on an adjustment, "prior" (and CARIN's early "replaced") names the claim it replaces; on the replaced
# claim, CARIN's "replacedby" names its replacement.
REPLACES = frozenset({"prior", "replaced"})
REPLACED_BY = frozenset({"replacedby"})
# The prescription (Rx service reference) number of a Part D event, as Blue Button 2.0 and BCDA name it: a reversal
# and the fill it cancels carry the same one. The fills a claim stands for keep it as their identifier.
RX_NUMBER_SUFFIX = "rx_srvc_rfrnc_num"
# The fill number a pharmacy claim states (CARIN's `refillnum`, Blue Button's `fill_num`: 0 a first fill, 1 the
# first refill), and which part of a fill it was (Blue Button's and BCDA's dispensing status, `dspnsng_stus_cd`: P a
# part fill, C the completion of one), kept on the fills it stands for as an identifier under PainPlan's own system,
# so the one rule for a fill sent twice (guideline.sent_twice) tells apart what they tell apart: two fill numbers
# are two fills (a vacation supply: refills 1 and 2 handed over together), and so are a part fill and its completion,
# or two part fills, on one day in one quantity. A completion, or a whole fill, sent twice under one number is one.
FILL_NUMBER_SYSTEM = "urn:painplan:claim-fill-number"
_PART_FILL, _COMPLETION = "P", "C"
ENCOUNTER_DIAGNOSIS = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "encounter-diagnosis"}]
}


def is_claim(resource: Mapping[str, Any]) -> bool:
    return resource.get("resourceType") == "ExplanationOfBenefit"


def claim_resources(claim: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The FHIR resources a claim stands for: a MedicationDispense per drug line of a pharmacy claim; a Condition
    per diagnosis and a Procedure per coded line of any other claim. A cancelled claim stands for nothing but its
    fills, which keep its status (the review counts them as not counted for their status)."""
    ident = text(claim.get("id")) or "claim"
    patient = as_dict(claim.get("patient"))
    status = text(claim.get("status"))
    if _claim_type_codes(claim) & PHARMACY_CLAIM_TYPES:
        fills = _fills(claim, ident, patient, _FILL_STATUS.get(status or "active", "unknown"))
        if status in VOID_CLAIM_STATUSES or not _is_hospice_claim(claim):
            return fills
        # Dispensed at the hospice place of service (34): billed for a patient in hospice on the days it bills, so
        # hospice care as an institutional hospice claim is, on both faces (one rule: `_is_hospice_claim`).
        return [*fills, _hospice_care(claim, ident, 1, patient)]
    if status in VOID_CLAIM_STATUSES:
        return []
    return [*_diagnoses(claim, ident, patient), *_procedures(claim, ident, patient)]


def with_claims_read(
    resources: list[Mapping[str, Any]], quality: Quality, patient_id: str = ""
) -> list[Mapping[str, Any]]:
    """Claims replaced by the fills, diagnoses and procedures they stand for (guideline.population.claims), after
    the claims an adjustment replaces are dropped; then reversals and the fills they cancel are taken out
    (`settled_fills`). A claim that stands for nothing is counted, never dropped unseen, and so is a hospice claim
    carrying no day of care, under `patient_id`, whose hospice care on no day is taken out as a hook takes it out
    (`_without_undated_hospice_care`). A fill billed twice is read once with every other fill sent twice, by
    guideline.sent_twice, once the record is read."""
    if not any(is_claim(r) or _is_reversal(r) for r in resources):
        return resources  # the usual EHR patient: no claim, no negative fill
    # A diagnosis billed on no day is in effect on every day the review reads (a cancer billed in 2019 would leave a
    # 2026 member out of every measure): it is not read, and its claim is named while the patient is in a measure.
    kept: list[Mapping[str, Any]] = []
    undated: set[int] = set()
    hospice: list[int] = []
    for resource, claim in _without_undated_hospice_care(
        _claims_read(resources, quality, patient_id, hospice), hospice
    ):
        if claim is not None and undated_diagnosis(resource):
            undated.add(claim)
        else:
            kept.append(resource)
    if undated:
        quality.claim_diagnoses_undated[patient_id] += len(undated)
    return kept


def undated_diagnosis(resource: Mapping[str, Any]) -> bool:
    """A diagnosis `_diagnoses` read from a claim that states no first day of service (`billed_days`), or one that is
    no date ("2026-13-45")."""
    # Its recordedDate is that day, the one mark both faces read: the point of care asks the same of the record's
    # Condition (guideline.exclusions.undated_claim), so a claim giving only its last day is undated on both. Read by
    # the record's own parser: a day written but no date was kept here, and in effect on every day, while the point of
    # care named it as giving no date of service.
    if resource.get("resourceType") != "Condition":
        return False
    return a_date(resource.get("recordedDate")) is None


def _claims_read(
    resources: list[Mapping[str, Any]], quality: Quality, patient_id: str, undated: list[int] | None = None
) -> list[tuple[Mapping[str, Any], int | None]]:
    """`with_claims_read`, each resource with the position of the claim it was read from (None: not from a claim).
    The position of each hospice claim with no day of care (`undated_hospice_claim`) is added to `undated`: the one
    place either face learns of them, so the card names every claim the review counts."""
    kept = {id(claim) for claim in settled_claims([r for r in resources if is_claim(r)], quality)}
    read: list[tuple[Mapping[str, Any], int | None]] = []
    for number, resource in enumerate(resources):
        if not is_claim(resource):
            read.append((resource, None))
        elif id(resource) in kept:
            derived = claim_resources(resource)
            quality.claims_not_read += not derived
            if derived and undated_hospice_claim(resource):
                quality.hospice_claims_undated[patient_id] += 1
                if undated is not None:
                    undated.append(number)
            read.extend((item, number) for item in derived)
    places = [i for i, (resource, _) in enumerate(read) if resource.get("resourceType") == "MedicationDispense"]
    dropped = {places[i] for i in settled_fills([read[i][0] for i in places], quality)}
    left = [entry for i, entry in enumerate(read) if i not in dropped]
    quality.claims_read += len({claim for _, claim in left if claim is not None})
    return left


def _is_reversal(resource: Mapping[str, Any]) -> bool:
    """A fill of negative quantity (a reversal). Asked of every resource of every patient, so read in place."""
    if resource.get("resourceType") != "MedicationDispense":
        return False
    quantity = resource.get("quantity")
    value = quantity.get("value") if type(quantity) is dict else None
    return isinstance(value, (int, float)) and value < 0  # a bool is no quantity, and never < 0


# Said after the count of a hook's claims that stood for nothing (`HookClaims.unread`): one wording for the card's
# data-incomplete line and the plan page's "Payer claims not counted" row.
CLAIMS_UNREAD = "left out: no drug line, diagnosis or procedure PainPlan reads, or cancelled"


@dataclass(frozen=True)
class HookClaims:
    """A hook's resources with its payer claims read (`claims_read_for_a_hook`), how many claims stood for nothing,
    and the hospice claims that carry no day of care, each named ("Hospice claim (ExplanationOfBenefit h-1)")."""

    resources: Sequence[Mapping[str, Any]]
    unread: int = 0
    undated_hospice: tuple[str, ...] = ()


def claims_read_for_a_hook(resources: Sequence[Mapping[str, Any]]) -> HookClaims:
    """A hook's resources with any payer claims read as the population review reads them (`with_claims_read`), how
    many claims stood for nothing, and the hospice claims with no day of care, named as claims: the very claims the
    review counts (`undated_hospice_claim`, asked once in `_claims_read`), whatever they stand for (hospice care, or
    a pharmacy's fills at the hospice place of service). The hospice care such a claim stands for is on no day, so
    it cannot exclude the patient, and it is taken out rather than named as an undated procedure that is in no
    chart. Without a claim the resources are returned as they are (a negative fill from the EHR stays to be named)."""
    # Asked of every resource of every hook call, and nearly always none is a claim: a plain loop, not a generator
    # calling is_claim once per resource.
    for resource in resources:
        if resource.get("resourceType") == "ExplanationOfBenefit":  # is_claim
            break
    else:
        return HookClaims(resources)
    quality = Quality()
    listed = list(resources)
    undated: list[int] = []
    read = _without_undated_hospice_care(_claims_read(listed, quality, "", undated), undated)
    named = (_claim_named(listed[claim]) for claim in undated)
    return HookClaims([resource for resource, _ in read], quality.claims_not_read, tuple(dict.fromkeys(named)))


def _without_undated_hospice_care(
    read: list[tuple[Mapping[str, Any], int | None]], undated: list[int]
) -> list[tuple[Mapping[str, Any], int | None]]:
    """`_claims_read`'s resources without the hospice care on no day that the hospice claims at `undated` were read
    as: each such claim is named as a claim (`hospice_claims_undated`, the card's "Hospice claim" line), so its care
    is not named a second time as an undated procedure that is in no chart. An EHR's own procedure stays."""
    if not undated:
        return read
    return [entry for entry in read if entry[1] not in undated or not is_undated_hospice_care(entry[0])]


def is_undated_hospice_care(resource: Mapping[str, Any]) -> bool:
    """Hospice care on no day, as `_hospice_care` reads it from a hospice claim: known by its content (a Procedure
    coded as the claim's hospice care, with no performed date), so a copy of it is known as well as the original."""
    if resource.get("resourceType") != "Procedure" or "performedDateTime" in resource or "performedPeriod" in resource:
        return False
    return any(
        coding.get("system") == HOSPICE_CARE["system"] and coding.get("code") == HOSPICE_CARE["code"]
        for coding in _codings(resource.get("code"))
    )


def _claim_named(claim: Mapping[str, Any]) -> str:
    """ "Hospice claim (ExplanationOfBenefit h-1)": how the card names a claim."""
    ident = text(claim.get("id"))
    return f"Hospice claim (ExplanationOfBenefit {ident})" if ident else "Hospice claim (ExplanationOfBenefit)"


def _claim_type_codes(claim: Mapping[str, Any]) -> set[str]:
    return set(_codes(claim.get("type")))


def _codings(concept: Any) -> list[Mapping[str, Any]]:
    return [as_dict(c) for c in as_list(as_dict(concept).get("coding"))]


def _codes(concept: Any) -> list[str]:
    """A concept's codes in lower case ("" for a coding with none): how a claim's categories and reasons are matched."""
    return [(text(c.get("code")) or "").lower() for c in _codings(concept)]


def _claim_day(claim: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> str | None:
    """The day of service of what these lines bill: their earliest service date that is a date, else the claim's first
    day of service (`billed_days`), as its diagnoses are dated; else their earliest day as written (no date, named
    so: a claim stating only its last day has no first day)."""
    days = _served_days(lines)
    return min(_readable(days), default=None) or billed_days(claim)[0] or min(days, default=None)


def _denied(adjudications: Any) -> bool:
    """Whether a claim's or a line's adjudication says the payer denied it: CARIN's payment status "denied", or a
    line's denial reason (the pharmacy's reject code)."""
    for entry in as_list(adjudications):
        entry = as_dict(entry)
        if "denied" in _codes(entry.get("reason")):
            return True
        if "denialreason" in _codes(entry.get("category")):
            return True
    return False


def _fills(claim: Mapping[str, Any], ident: str, patient: Mapping[str, Any], status: str | None) -> list[dict]:
    prescriber = _care_team_member(claim, "prescribing")
    pharmacy = next((as_dict(claim.get(k)) for k in ("provider", "facility", "organization") if claim.get(k)), {})
    performers = []
    if prescriber:  # its function says this performer prescribed the fill (guideline.fills ties fills to orders so)
        performers.append({"actor": _typed(prescriber, "Practitioner"), "function": _PRESCRIBING})
    if pharmacy:
        performers.append({"actor": _typed(pharmacy, "Organization")})
    claim_days = _days_supply(claim.get("supportingInfo"))
    numbers = _claim_numbers(claim)
    if prescriber or pharmacy:
        # Only a fill that names who prescribed or dispensed it carries its fill number: a first fill's 0 in common
        # must never tie two fills that nothing else ties (guideline.sent_twice.tied).
        numbers += _fill_number(claim, ident)
    fills = []
    claim_denied = _denied(claim.get("adjudication"))
    for number, item in enumerate(as_list(claim.get("item")), start=1):
        item = as_dict(item)
        medication = item.get("productOrService") or item.get("service")  # R4, STU3 (Blue Button v1)
        if not medication:
            continue
        quantity = as_dict(item.get("quantity"))
        # A denied claim or line was not paid for and may never have been dispensed: a declined fill, which the
        # review counts among the fills not counted for their status.
        denied = status == "completed" and (claim_denied or _denied(item.get("adjudication")))
        fill: dict[str, Any] = {
            "resourceType": "MedicationDispense",
            # The claim's id and its line's: a line naming the fill names the claim, and a later line by its number
            # (`Dispense.named_by` reads it from here), never by this id, which is in no system.
            "id": f"{ident}-{text(item.get('sequence')) or number}",
            "status": "declined" if denied else status,
            "subject": patient,
            "medicationCodeableConcept": medication,
            "performer": performers,
            # Two lines of one claim are two prescriptions filled together, never one fill sent twice.
            "extension": [{"url": CLAIM_EXTENSION, "valueString": ident}],
        }
        if numbers:
            fill["identifier"] = numbers
        day = _claim_day(claim, [item])
        if day:
            fill["whenHandedOver"] = day
        if "value" in quantity:
            # With its unit: a liquid's quantity is in mL (NCPDP's quantity dispensed), read as a dispense's is.
            fill["quantity"] = {k: quantity[k] for k in ("value", "unit", "system", "code") if k in quantity}
            if not quantity.get("unit") and not quantity.get("code"):
                # No unit: a claim's quantity is in NCPDP billing units (mL for a liquid), which the fill's reader
                # applies once it knows the product's form (guideline.fills.fill_quantity).
                fill["quantity"]["extension"] = [{"url": BILLING_UNITS_EXTENSION, "valueBoolean": True}]
        days = _days_supply(quantity.get("extension"), by_url=True) or claim_days
        if days is not None:
            fill["daysSupply"] = {"value": days}
        fills.append(fill)
    return fills


# The supportingInfo categories (and Blue Button v1 extension URLs) of a fill's days' supply: CARIN's `dayssupply`,
# Blue Button's `days_suply_num` variable.
_DAYS_SUPPLY = ("dayssupply", "days_suply_num")


def _days_supply(entries: Any, by_url: bool = False) -> Any:
    """Days' supply from supportingInfo or, with `by_url`, from the line quantity's extensions (Blue Button v1): the
    first such entry's value, as written."""
    return next((v for v in _entry_values(entries, _DAYS_SUPPLY, by_url) if v is not None), None)


def _entry_values(entries: Any, names: tuple[str, ...], by_url: bool = False) -> Iterator[Any]:
    """The value (`valueQuantity.value`, else `valueInteger`) of each supportingInfo entry whose category names one
    of `names` (lower case) by a code, or by a Blue Button variable's URL ending in it; with `by_url`, of each
    extension whose URL does. The one rule both a claim's days' supply and its fill number are read by."""
    for entry in map(as_dict, as_list(entries)):
        named = [(text(entry.get("url")) or "").lower()] if by_url else _codes(entry.get("category"))
        if any(code.rpartition("/")[2] in names for code in named):
            yield as_dict(entry.get("valueQuantity")).get("value", entry.get("valueInteger"))


def _fill_number(claim: Mapping[str, Any], ident: str) -> list[dict[str, str]]:
    """The claim's fill number and part as an identifier (FILL_NUMBER_SYSTEM), none when it states neither: "2" a
    second refill, "2 completion" the completion of its part fill, "2 part fill of claim <id>" a part fill (each part
    its own: two parts of one day and quantity are two dispenses, as two part-fill dispenses are)."""
    info = as_list(claim.get("supportingInfo"))
    number = _info_value(info, ("refillnum", "fill_num"))
    status = _dispensing_status(info)
    words = [] if number is None else [number]
    if status == _PART_FILL:
        words.append(f"part fill of claim {ident}")
    elif status == _COMPLETION:
        words.append("completion")
    return [{"system": FILL_NUMBER_SYSTEM, "value": " ".join(words)}] if words else []


def _info_value(entries: list[Any], names: tuple[str, ...]) -> str | None:
    """The whole number a supportingInfo entry of one of these categories carries (`_entry_values`), as text ("0",
    "2"); None when there is none."""
    for value in _entry_values(entries, names):
        if type(value) in (int, float) and math.isfinite(value) and value == int(value):
            return str(int(value))
        if isinstance(value, str) and value.strip().isdigit():
            return str(int(value))
    return None


def _dispensing_status(entries: list[Any]) -> str | None:
    """P (a part fill) or C (the completion of one), as a Part D event's dispensing status says; None otherwise."""
    for entry in map(as_dict, entries):
        if any(code.endswith("dspnsng_stus_cd") for code in _codes(entry.get("category"))):
            found = {(text(c.get("code")) or "").strip().upper() for c in _codings(entry.get("code"))}
            found.add((text(entry.get("valueString")) or "").strip().upper())
            for status in (_PART_FILL, _COMPLETION):
                if status in found:
                    return status
    return None


def _care_team_member(claim: Mapping[str, Any], role: str) -> Mapping[str, Any]:
    for member in as_list(claim.get("careTeam")):
        member = as_dict(member)
        if any((text(c.get("code")) or "").lower() == role for c in _codings(member.get("role"))):
            return as_dict(member.get("provider"))
    return {}


def _typed(actor: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    """A claim says which slot an actor fills (prescriber, pharmacy): a reference by identifier alone gets that type."""
    if "reference" in actor or "type" in actor:
        return actor
    return {**actor, "type": kind}


def _diagnoses(claim: Mapping[str, Any], ident: str, patient: Mapping[str, Any]) -> list[dict]:
    """A claim's diagnoses, each as a condition in effect for the claim's dates only (`billed_days`: its lines' when
    it has no billablePeriod): a diagnosis billed years ago is no evidence of cancer now (it ends when the claim
    does, so the exclusions read it against their window). Each is marked with the claim's id: the claim bills a
    visit on its first day, which the point of care counts as a visit linked to the diagnosis
    (guideline.exclusions.cancer_visits). With no first day, no recordedDate: undated (`undated_diagnosis`)."""
    day, last = billed_days(claim)
    # A last day that is no date ("2026-13-45") is read as none, as the record reads it, so the diagnosis ends on the
    # first day, as one billed with no last day does: kept, the review read the diagnosis as in effect with no end (a
    # palliative care visit a year ago left the member out of the measures), while the point of care excluded no one.
    last = a_date(last) or day
    conditions = []
    for number, entry in enumerate(as_list(claim.get("diagnosis")), start=1):
        code = as_dict(entry).get("diagnosisCodeableConcept")
        if not code:
            continue
        condition = {
            "resourceType": "Condition",
            "id": f"{ident}-dx{number}",
            "subject": patient,
            "category": [ENCOUNTER_DIAGNOSIS],
            "code": code,
            "extension": [{"url": DIAGNOSIS_CLAIM_EXTENSION, "valueString": ident}],
        }
        if day:
            condition["recordedDate"] = day
        if last:
            condition["abatementDateTime"] = last
        conditions.append(condition)
    return conditions


def _procedures(claim: Mapping[str, Any], ident: str, patient: Mapping[str, Any]) -> list[dict]:
    """A Procedure per coded line and per coded procedure of a claim, each on its day (`_claim_day`): a line's own;
    a procedure's own date, else that of the lines naming it (`procedureSequence`; a CARIN professional claim dates
    its lines only). Then the claim's hospice care, for a hospice claim. Each is marked with the claim's id, which
    names it wherever it is named (`Procedure.named_by`): its own id is made up here, in no system."""
    lines = [as_dict(item) for item in as_list(claim.get("item"))]
    coded: list[tuple[Any, str | None]] = []
    for item in lines:
        coded.append((item.get("productOrService") or item.get("service"), _claim_day(claim, [item])))
    for entry in as_list(claim.get("procedure")):
        entry = as_dict(entry)
        day = text(entry.get("date")) or _claim_day(claim, _lines_naming(lines, entry.get("sequence")))
        coded.append((entry.get("procedureCodeableConcept"), day))
    procedures = []
    for number, (code, day) in enumerate(coded, start=1):
        if not code:
            continue
        procedure = {
            "resourceType": "Procedure",
            "id": f"{ident}-px{number}",
            "status": "completed",
            "subject": patient,
            "code": code,
            "extension": _read_from(ident),
        }
        if day:
            procedure["performedDateTime"] = day
        procedures.append(procedure)
    if _is_hospice_claim(claim):
        procedures.append(_hospice_care(claim, ident, len(coded) + 1, patient))
    return procedures


def _read_from(ident: str) -> list[dict[str, str]]:
    """The mark of a procedure read from the claim `ident` (PROCEDURE_CLAIM_EXTENSION)."""
    return [{"url": PROCEDURE_CLAIM_EXTENSION, "valueString": ident}]


def _hospice_care(claim: Mapping[str, Any], ident: str, number: int, patient: Mapping[str, Any]) -> dict[str, Any]:
    """A hospice claim (of id `ident`) as hospice care over every day it bills (`hospice_days`), its procedure
    `number`: dated by its first day alone, a month's care billed from before the exclusions' window and ending
    inside it excluded no one."""
    care: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": f"{ident}-px{number}",
        "status": "completed",
        "subject": patient,
        "code": {"coding": [HOSPICE_CARE]},
        "extension": _read_from(ident),
    }
    start, end = hospice_days(claim)
    if start and end:
        care["performedPeriod"] = {"start": start, "end": end}
    elif start or end:
        care["performedDateTime"] = start or end
    return care


# supportingInfo categories stating the hospice stay: CARIN's `admissionperiod`, Blue Button's hospice start date.
_STAY_CATEGORIES = ("admissionperiod", "clm_hospc_start_dt_id")


def billed_days(claim: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The first and last day of service a claim bills: its `billablePeriod`; else the span of its lines' service
    dates (`servicedDate`, `servicedPeriod`: a CARIN professional claim may date nothing else). Never `created`, the
    day the claim was written (often weeks after the care). (None, None) when it states neither."""
    billed = as_dict(claim.get("billablePeriod"))
    start, end = text(billed.get("start")), text(billed.get("end"))
    if a_date(start) or a_date(end):
        return start, end
    # A period that is no date ("2026-02-30") is as good as none: the lines' days that are dates bill the claim.
    days = _served_days([as_dict(item) for item in as_list(claim.get("item"))])
    readable = _readable(days)
    if readable:
        return readable[0], readable[-1]
    if start or end:
        return start, end  # no date anywhere: as written, so the claim is named as undated
    return (min(days), max(days)) if days else (None, None)


def _readable(days: Sequence[str]) -> list[str]:
    """The days the record's own parser reads as dates (`a_date`), earliest first: sorted with the others, an
    unreadable "2026-02-30" came before a readable "2026-03-02"."""
    # As text, as before: ISO days (and timestamps) sort by the day written, the day the review dates a claim by.
    return sorted(day for day in days if a_date(day) is not None)


def _served_days(lines: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every day of service claim lines state (`servicedDate`, `servicedPeriod` start and end), as written."""
    days: list[str] = []
    for item in lines:
        served = as_dict(item.get("servicedPeriod"))
        days += [d for d in (text(item.get("servicedDate")), text(served.get("start")), text(served.get("end"))) if d]
    return days


def _lines_naming(lines: Sequence[Mapping[str, Any]], sequence: Any) -> list[Mapping[str, Any]]:
    """The claim lines that name this procedure: its `sequence` (a positiveInt) among their `procedureSequence`."""
    if type(sequence) is not int:  # not a bool, which compares equal to 1
        return []
    return [
        item for item in lines if any(type(n) is int and n == sequence for n in as_list(item.get("procedureSequence")))
    ]


def hospice_days(claim: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The first and last day of care a hospice claim bills (`billed_days`); else the stay its supportingInfo
    states; each only when it is a date (`a_date`). (None, None) when it carries no day of care."""
    # A day that is no date is read as none by the record, so kept here it made hospice care on no day that no claim
    # named; the review, cutting a timestamp to its written day, read a bad offset as a hospice stay.
    start, end = map(a_date, billed_days(claim))
    if start or end:
        return start, end
    for info in map(as_dict, as_list(claim.get("supportingInfo"))):
        if any(name.endswith(_STAY_CATEGORIES) for name in _codes(info.get("category"))):
            stay = as_dict(info.get("timingPeriod"))
            start = a_date(text(stay.get("start"))) or a_date(text(info.get("timingDate")))
            end = a_date(text(stay.get("end")))
            if start or end:
                return start, end
    return None, None


def undated_hospice_claim(claim: Mapping[str, Any]) -> bool:
    """A hospice claim that carries no day of care (`hospice_days`): hospice care on no day the exclusions read,
    so it is named, never dropped unseen."""
    return is_claim(claim) and _is_hospice_claim(claim) and hospice_days(claim) == (None, None)


def _is_hospice_claim(claim: Mapping[str, Any]) -> bool:
    """A hospice claim: its type (Blue Button's HOSPICE), a UB-04 hospice type of bill, a line given at the
    hospice place of service (34): a physician's visit there is care given in hospice, or a line billed as hospice
    care (`_hospice_line`)."""
    if _claim_type_codes(claim) & HOSPICE_CLAIM_TYPES:
        return True
    for item in map(as_dict, as_list(claim.get("item"))):
        if _hospice_line(item):
            return True
        for coding in _codings(item.get("locationCodeableConcept")):
            system, code = text(coding.get("system")), (text(coding.get("code")) or "").strip()
            if system in PLACE_OF_SERVICE_SYSTEMS and code == HOSPICE_PLACE_OF_SERVICE:
                return True
    for info in as_list(claim.get("supportingInfo")):
        info = as_dict(info)
        if "typeofbill" in _codes(info.get("category")):
            bill = next((text(c.get("code")) or "" for c in _codings(info.get("code"))), "")
            if is_hospice_bill_type(bill):
                return True
    return False


def _hospice_line(item: Mapping[str, Any]) -> bool:
    """A line billed as hospice care: its revenue code or its service (HCPCS) is one of the exclusions' hospice care
    codes (`hospice_care_codes`: a CARIN claim may say hospice by nothing else), so the claim is hospice care over
    every day it bills, not on its first day alone."""
    codings = (*_codings(item.get("revenue")), *_codings(item.get("productOrService") or item.get("service")))
    if not codings:
        return False
    hospice = hospice_care_codes()
    for coding in codings:
        code = (text(coding.get("code")) or "").strip()
        system = coding_system(text(coding.get("system")), code)
        if (system, coding_code(system, code)) in hospice:
            return True
    return False


# ---------------------------------------------------------------------------------------------------------------
# Adjustments, reversals and claims billed twice: a payer's history of one fill is not several fills


def settled_claims(claims: Sequence[Mapping[str, Any]], quality: Quality) -> list[Mapping[str, Any]]:
    """The claims no other claim in the export replaces. An adjustment names the claim it replaces in `related`
    (relationship `prior`, by `claim` reference or by claim number in `reference`), or the replaced claim names
    its replacement (`replacedby`): the replaced one is dropped and counted in `claims_replaced`, the replacing
    one read. A claim naming a replacement the export does not hold stays: it is the only record of its fill. An
    entered-in-error or cancelled claim replaces nothing."""
    if not any(claim.get("related") for claim in claims):
        return list(claims)
    by_id: dict[str, list[int]] = {}
    by_number: dict[str, list[tuple[str | None, int]]] = {}
    for index, claim in enumerate(claims):
        ident = text(claim.get("id"))
        if ident:
            by_id.setdefault(ident, []).append(index)
        for identifier in map(as_dict, as_list(claim.get("identifier"))):
            value = text(identifier.get("value"))
            if value:
                by_number.setdefault(value, []).append((text(identifier.get("system")), index))
    replaced: set[int] = set()
    for index, claim in enumerate(claims):
        if text(claim.get("status")) in VOID_CLAIM_STATUSES:
            continue
        for entry in map(as_dict, as_list(claim.get("related"))):
            codes = set(_codes(entry.get("relationship")))
            named = _related_claims(entry, by_id, by_number) - {index}
            if codes & REPLACES:
                replaced |= named
            if codes & REPLACED_BY and named:
                replaced.add(index)
    quality.claims_replaced += len(replaced)
    return [claim for index, claim in enumerate(claims) if index not in replaced]


def _related_claims(
    entry: Mapping[str, Any], by_id: Mapping[str, list[int]], by_number: Mapping[str, list[tuple[str | None, int]]]
) -> set[int]:
    """The export's claims a `related` entry names: by its `claim` reference's id (a payer writes `Claim/<id>` of
    the claim the explanation of benefit is for, under the same id), or by claim number (`claim.identifier`, or
    `reference`), matched on the number and, when both state one, the system."""
    found: set[int] = set()
    target = as_dict(entry.get("claim"))
    local = local_reference(text(target.get("reference")))
    if local:
        found.update(by_id.get(local.rpartition("/")[2], ()))
    for identifier in (as_dict(target.get("identifier")), as_dict(entry.get("reference"))):
        value, system = text(identifier.get("value")), text(identifier.get("system"))
        for known_system, index in by_number.get(value or "", ()):
            if not system or not known_system or system == known_system:
                found.add(index)
    return found


def _claim_numbers(claim: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The numbers a claim's fills carry as their identifiers, to tell a fill sent twice from two fills
    (guideline.sent_twice: a system both carry, numbering them differently, makes two fills). A Part D event's
    prescription number (with its fill number and part, `_fill_number`) is the fill's identity, as CMS's own
    duplicate check keys it: two events under it are one fill, whatever their event ids. A claim with none (CARIN)
    carries its claim numbers instead (each identifier with a system): two claims one payer adjudicated under two
    numbers are two fills it paid (a fill billed again is rejected as a duplicate; an adjustment names the claim it
    replaces), while one claim sent twice under two resource ids, or one fill billed to two payers (two systems), is
    one fill billed twice."""
    identifiers = [as_dict(i) for i in as_list(claim.get("identifier"))]
    rx_numbers = [i for i in identifiers if _is_rx_number(i)]
    if rx_numbers:
        return rx_numbers
    return [
        {"system": i["system"], "value": i["value"]}
        for i in identifiers
        if text(i.get("system")) and text(i.get("value"))
    ]


def is_claim_number(system: str) -> bool:
    """Whether a claim fill's number, by its system, is its claim's own number (`_claim_numbers`: CARIN's unique
    claim id), not its fill number or a Part D prescription number: a number that sets two fills apart only as two
    claims."""
    return system != FILL_NUMBER_SYSTEM and not system.endswith(RX_NUMBER_SUFFIX)


def _is_rx_number(identifier: Mapping[str, Any]) -> bool:
    return (text(identifier.get("system")) or "").endswith(RX_NUMBER_SUFFIX) and bool(text(identifier.get("value")))


def _quantity(fill: Mapping[str, Any]) -> Decimal | None:
    value = as_dict(fill.get("quantity")).get("value")
    if type(value) not in (int, float):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:  # NaN or infinite: no quantity
        return None


def _counts(fill: Mapping[str, Any]) -> bool:
    """A fill the review counts by its status (completed, or none stated)."""
    return text(fill.get("status")) in (None, "completed")


def _written_day(fill: Mapping[str, Any]) -> str | None:
    day = text(fill.get("whenHandedOver")) or text(fill.get("whenPrepared"))
    return day[:10] if day else None


def _drug_codes(fill: Mapping[str, Any]) -> set[tuple[str, str]]:
    """The medication's codes (system, code), or its reference, or its words when it has neither: R4's
    medicationCodeableConcept or medicationReference, or R5's `medication` (a CodeableReference holding either)."""
    both = as_dict(fill.get("medication"))
    reference = text(as_dict(fill.get("medicationReference") or both.get("reference")).get("reference"))
    if reference:
        return {("reference", reference)}
    concept = as_dict(fill.get("medicationCodeableConcept") or both.get("concept"))
    codes = {(text(c.get("system")) or "", text(c.get("code")) or "") for c in _codings(concept) if text(c.get("code"))}
    words = (text(concept.get("text")) or "").lower()
    return codes or ({("text", words)} if words else set())


def _performers(fill: Mapping[str, Any]) -> set[str]:
    return {json.dumps(as_dict(p).get("actor"), sort_keys=True) for p in as_list(fill.get("performer"))}


def _rx_numbers(fill: Mapping[str, Any]) -> set[str]:
    return {text(i.get("value")) or "" for i in map(as_dict, as_list(fill.get("identifier"))) if _is_rx_number(i)}


def _reverses(reversal: Mapping[str, Any], fill: Mapping[str, Any]) -> bool:
    """Whether a reversal cancels this fill. Conservative: the same drug code, day (as written) and quantity, and,
    when both name them, the same pharmacy and prescriber and the same prescription number."""
    quantity, cancelled = _quantity(reversal), _quantity(fill)
    if quantity is None or cancelled is None or -quantity != cancelled:
        return False
    day = _written_day(reversal)
    if day is None or day != _written_day(fill) or not (_drug_codes(reversal) & _drug_codes(fill)):
        return False
    for read in (_performers, _rx_numbers):
        mine, theirs = read(reversal), read(fill)
        if mine and theirs and mine != theirs:
            return False
    return True


def settled_fills(fills: Sequence[Mapping[str, Any]], quality: Quality) -> set[int]:
    """Which of a patient's fills (MedicationDispense, an EHR's or read from a claim) are no fill: a
    reversal (a negative quantity: NCPDP's reversal as payers export it) cancels the fill it reverses (`_reverses`)
    and is itself dropped, or, with none to cancel, is dropped alone. Returns their positions. Reversals are settled
    before fills sent twice are read once (guideline.sent_twice): a pharmacy that reverses a claim and bills it again
    sends three identical lines but one fill."""
    ordered = sorted(range(len(fills)), key=lambda i: (text(fills[i].get("id")) or "", i))
    signs = {i: _quantity(fills[i]) for i in ordered if _counts(fills[i])}
    dropped: set[int] = set()
    for i in ordered:
        sign = signs.get(i)
        if sign is None or sign >= 0:
            continue
        dropped.add(i)
        match = next(
            (j for j in ordered if j not in dropped and (signs.get(j) or 0) > 0 and _reverses(fills[i], fills[j])),
            None,
        )
        if match is None:
            quality.reversals_unmatched += 1
        else:
            dropped.add(match)
            quality.fills_reversed += 1
    return dropped
