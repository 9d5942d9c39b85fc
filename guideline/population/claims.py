"""Claims as payers export them (ExplanationOfBenefit: CARIN Blue Button, CMS Blue Button and BCDA), read as the
fills, diagnoses and procedures they stand for, so the review reads them with the same readers as everything else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guideline.exclusions import is_hospice_bill_type
from guideline.fhirdata import as_dict, as_list, text

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
        return _fills(claim, ident, patient, _FILL_STATUS.get(status or "active", "unknown"))
    if status in VOID_CLAIM_STATUSES:
        return []
    return [*_diagnoses(claim, ident, patient), *_procedures(claim, ident, patient)]


def _claim_type_codes(claim: Mapping[str, Any]) -> set[str]:
    return {(text(c.get("code")) or "").lower() for c in _codings(claim.get("type"))}


def _codings(concept: Any) -> list[Mapping[str, Any]]:
    return [as_dict(c) for c in as_list(as_dict(concept).get("coding"))]


def _claim_day(claim: Mapping[str, Any], item: Mapping[str, Any] | None = None) -> str | None:
    """The day of service: the line's, else the claim's billable period start."""
    if item is not None:
        day = text(item.get("servicedDate")) or text(as_dict(item.get("servicedPeriod")).get("start"))
        if day:
            return day
    return text(as_dict(claim.get("billablePeriod")).get("start"))


def _denied(adjudications: Any) -> bool:
    """Whether a claim's or a line's adjudication says the payer denied it: CARIN's payment status "denied", or a
    line's denial reason (the pharmacy's reject code)."""
    for entry in as_list(adjudications):
        entry = as_dict(entry)
        if any((text(c.get("code")) or "").lower() == "denied" for c in _codings(entry.get("reason"))):
            return True
        if any((text(c.get("code")) or "").lower() == "denialreason" for c in _codings(entry.get("category"))):
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
            "id": f"{ident}-{text(item.get('sequence')) or number}",
            "status": "declined" if denied else status,
            "subject": patient,
            "medicationCodeableConcept": medication,
            "performer": performers,
        }
        day = _claim_day(claim, item)
        if day:
            fill["whenHandedOver"] = day
        if "value" in quantity:
            fill["quantity"] = {"value": quantity["value"]}
        days = _days_supply(quantity.get("extension"), by_url=True) or claim_days
        if days is not None:
            fill["daysSupply"] = {"value": days}
        fills.append(fill)
    return fills


def _days_supply(entries: Any, by_url: bool = False) -> Any:
    """Days' supply from supportingInfo (CARIN's `dayssupply`, Blue Button's `days_suply_num` category) or, with
    `by_url`, from the line quantity's extensions (Blue Button v1)."""
    for entry in as_list(entries):
        entry = as_dict(entry)
        if by_url:
            named = [text(entry.get("url")) or ""]
        else:
            named = [(text(c.get("code")) or "") for c in _codings(entry.get("category"))]
        if any(n.lower() == "dayssupply" or n.endswith("days_suply_num") for n in named):
            value = as_dict(entry.get("valueQuantity")).get("value", entry.get("valueInteger"))
            if value is not None:
                return value
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
    """A claim's diagnoses, each as a condition in effect for the claim's dates only: a diagnosis billed years ago
    is no evidence of cancer now (it ends when the claim does, so the exclusions read it against their window)."""
    day = _claim_day(claim)
    last = text(as_dict(claim.get("billablePeriod")).get("end")) or day
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
        }
        if day:
            condition["recordedDate"] = day
        if last:
            condition["abatementDateTime"] = last
        conditions.append(condition)
    return conditions


def _procedures(claim: Mapping[str, Any], ident: str, patient: Mapping[str, Any]) -> list[dict]:
    coded: list[tuple[Any, str | None]] = []
    for item in as_list(claim.get("item")):
        item = as_dict(item)
        coded.append((item.get("productOrService") or item.get("service"), _claim_day(claim, item)))
    for entry in as_list(claim.get("procedure")):
        entry = as_dict(entry)
        coded.append((entry.get("procedureCodeableConcept"), text(entry.get("date")) or _claim_day(claim)))
    if _is_hospice_claim(claim):
        coded.append(({"coding": [HOSPICE_CARE]}, _claim_day(claim)))
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
        }
        if day:
            procedure["performedDateTime"] = day
        procedures.append(procedure)
    return procedures


def _is_hospice_claim(claim: Mapping[str, Any]) -> bool:
    if _claim_type_codes(claim) & HOSPICE_CLAIM_TYPES:
        return True
    for info in as_list(claim.get("supportingInfo")):
        info = as_dict(info)
        if any((text(c.get("code")) or "").lower() == "typeofbill" for c in _codings(info.get("category"))):
            bill = next((text(c.get("code")) or "" for c in _codings(info.get("code"))), "")
            if is_hospice_bill_type(bill):
                return True
    return False
