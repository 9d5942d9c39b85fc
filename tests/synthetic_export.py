"""Bulk-export NDJSON for population tests and benchmarks: resource builders and a seeded N-patient generator."""

from __future__ import annotations

import contextlib
import gzip
import json
import random
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NDC = "http://hl7.org/fhir/sid/ndc"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"

# (RxNorm code, display)
OXYCODONE_5 = ("1049621", "oxycodone hydrochloride 5 MG Oral Tablet")
OXYCODONE_10 = ("1049683", "oxycodone hydrochloride 10 MG Oral Tablet")
HYDROCODONE_10 = ("856999", "acetaminophen 325 MG / hydrocodone bitartrate 10 MG Oral Tablet")
MORPHINE_ER_15 = ("891878", "12 HR morphine sulfate 15 MG Extended Release Oral Tablet")
FENTANYL_25 = ("245134", "72 HR fentanyl 0.025 MG/HR Transdermal System")
TRAMADOL_50 = ("835603", "tramadol hydrochloride 50 MG Oral Tablet")
BUPRENORPHINE_PATCH = ("904870", "168 HR buprenorphine 0.01 MG/HR Transdermal System")
SUBOXONE_8 = ("1010604", "buprenorphine 8 MG / naloxone 2 MG Sublingual Film")
ALPRAZOLAM = ("308048", "alprazolam 0.5 MG Oral Tablet")
DIAZEPAM = ("197591", "diazepam 5 MG Oral Tablet")
NALOXONE_SPRAY = ("1725059", "naloxone hydrochloride 40 MG/ML Nasal Spray")
LISINOPRIL = ("314076", "lisinopril 10 MG Oral Tablet")


def _reference(kind: str, ident: str | None) -> dict[str, str] | None:
    return {"reference": f"{kind}/{ident}"} if ident else None


def patient(ident: str, birth: str = "1970-01-01", gp: str | None = None, name: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Patient", "id": ident, "birthDate": birth}
    resource["name"] = [{"family": name or f"Person {ident}", "given": ["Alex"]}]
    if gp:
        resource["generalPractitioner"] = [{"reference": gp}]
    return resource


def practitioner(ident: str, name: str | None = None) -> dict[str, Any]:
    return {"resourceType": "Practitioner", "id": ident, "name": [{"text": name or f"Dr. {ident.title()}"}]}


def organization(ident: str, name: str | None = None, kind: str = "prov") -> dict[str, Any]:
    return {
        "resourceType": "Organization",
        "id": ident,
        "name": name or ident,
        "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": kind}]}],
    }


def role(ident: str, practitioner_id: str, organization_id: str) -> dict[str, Any]:
    return {
        "resourceType": "PractitionerRole",
        "id": ident,
        "practitioner": {"reference": f"Practitioner/{practitioner_id}"},
        "organization": {"reference": f"Organization/{organization_id}"},
    }


def medication_concept(drug: tuple[str, str] | None = None, ndc: str | None = None, text: str | None = None):
    concept: dict[str, Any] = {}
    if drug:
        concept["coding"] = [{"system": RXNORM, "code": drug[0], "display": drug[1]}]
    if ndc:
        concept.setdefault("coding", []).append({"system": NDC, "code": ndc})
    if text:
        concept["text"] = text
    return concept


def dispense(
    ident: str,
    patient_id: str,
    drug: tuple[str, str] | None,
    filled: str,
    quantity: float | None,
    days: float | None,
    prescriber: str | None = None,
    pharmacy: str | None = None,
    order: str | None = None,
    status: str | None = "completed",
    concept: Mapping[str, Any] | None = None,
    medication_reference: str | None = None,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationDispense",
        "id": ident,
        "subject": {"reference": f"Patient/{patient_id}"},
        "whenHandedOver": filled,
    }
    if status:
        resource["status"] = status
    if medication_reference:
        resource["medicationReference"] = {"reference": medication_reference}
    else:
        resource["medicationCodeableConcept"] = dict(concept) if concept else medication_concept(drug)
    if quantity is not None:
        resource["quantity"] = {"value": quantity}
    if days is not None:
        resource["daysSupply"] = {"value": days, "unit": "d", "system": "http://unitsofmeasure.org", "code": "d"}
    performers = []
    if prescriber:
        performers.append({"actor": {"reference": f"Practitioner/{prescriber}"}})
    if pharmacy:
        performers.append({"actor": {"reference": f"Organization/{pharmacy}"}})
    if performers:
        resource["performer"] = performers
    if order:
        resource["authorizingPrescription"] = [{"reference": f"MedicationRequest/{order}"}]
    return resource


def order(
    ident: str,
    patient_id: str,
    drug: tuple[str, str],
    authored: str,
    requester: str | None = None,
    per_day: float | None = None,
    days: int | None = None,
    status: str = "active",
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": ident,
        "status": status,
        "intent": "order",
        "subject": {"reference": f"Patient/{patient_id}"},
        "authoredOn": authored,
        "medicationCodeableConcept": medication_concept(drug),
    }
    if requester:
        resource["requester"] = {"reference": f"Practitioner/{requester}"}
    if per_day is not None:
        resource["dosageInstruction"] = [
            {
                "timing": {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}],
            }
        ]
    if days is not None:
        resource["dispenseRequest"] = {
            "expectedSupplyDuration": {
                "value": days,
                "unit": "days",
                "system": "http://unitsofmeasure.org",
                "code": "d",
            },
            "quantity": {"value": (per_day or 1) * days},
        }
    return resource


def condition(
    ident: str, patient_id: str, system: str, code: str, recorded: str = "2025-01-01", status: str | None = "active"
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": ident,
        "subject": {"reference": f"Patient/{patient_id}"},
        "code": {"coding": [{"system": system, "code": code}]},
        "recordedDate": recorded,
    }
    if status:
        resource["clinicalStatus"] = {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": status}]
        }
    return resource


def urine_test(ident: str, patient_id: str, when: str, code: str = "19295-5") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "subject": {"reference": f"Patient/{patient_id}"},
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "effectiveDateTime": when,
        "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "260385009", "display": "Negative"}]},
    }


def hospice_encounter(ident: str, patient_id: str, start: str) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": ident,
        "status": "finished",
        "subject": {"reference": f"Patient/{patient_id}"},
        "period": {"start": start, "end": start},
        "hospitalization": {
            "dischargeDisposition": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/discharge-disposition", "code": "hosp"}]
            }
        },
    }


def write_ndjson(directory: Path, name: str, resources: Iterable[Mapping[str, Any] | str], gz: bool = False) -> Path:
    """One NDJSON file (a raw string is written as-is: that is how tests put a malformed line in)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / (name + (".ndjson.gz" if gz else ".ndjson"))
    opener = gzip.open if gz else open
    with opener(path, "wt", encoding="utf-8") as handle:  # type: ignore[operator]
        for item in resources:
            handle.write((item if isinstance(item, str) else json.dumps(item, separators=(",", ":"))) + "\n")
    return path


def write_export(directory: Path | str, resources: Iterable[Mapping[str, Any] | str]) -> Path:
    """Write resources grouped one type per file, as a Bulk Data export does (raw strings go to Patient)."""
    directory = Path(directory)
    by_type: dict[str, list[Any]] = {}
    for item in resources:
        kind = "Patient" if isinstance(item, str) else str(item.get("resourceType"))
        by_type.setdefault(kind, []).append(item)
    for kind, items in by_type.items():
        write_ndjson(directory, kind, items)
    return directory


# ---------------------------------------------------------------------------------------------------------------
# The seeded generator


class _Ids:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"


def _iso(day: date) -> str:
    return day.isoformat()


def generate(patients: int, seed: int = 1, period_end: date = date(2026, 3, 31), gz: bool = False):  # noqa: C901
    """Yield (resource type, resource or malformed line) for a realistic export of `patients` members."""
    rng = random.Random(seed)
    ids = _Ids()
    practices = [f"prac{n}" for n in range(max(3, patients // 400))]
    pharmacies = [f"pharm{n}" for n in range(max(6, patients // 300))]
    clinicians = [f"dr{n}" for n in range(max(10, patients // 60))]
    for practice in practices:
        yield "Organization", organization(practice, f"Practice {practice[4:]} Family Medicine")
    for pharmacy in pharmacies:
        yield "Organization", organization(pharmacy, f"Pharmacy {pharmacy[5:]}", kind="other")
    roles = {}
    for clinician in clinicians:
        yield "Practitioner", practitioner(clinician, f"Dr. Clinician {clinician[2:]}")
        roles[clinician] = f"role-{clinician}"
        yield "PractitionerRole", role(roles[clinician], clinician, rng.choice(practices))
    yield (
        "Medication",
        {
            "resourceType": "Medication",
            "id": "med-oxy10",
            "code": medication_concept(OXYCODONE_10),
        },
    )
    period_start = date(period_end.year, period_end.month - 2, 1)
    for index in range(patients):
        pid = f"pt{seed}-{index}"
        gp_choice = rng.random()
        pcp = rng.choice(clinicians)
        gp = f"Practitioner/{pcp}" if gp_choice < 0.7 else f"PractitionerRole/{roles[pcp]}" if gp_choice < 0.9 else None
        birth = date(rng.randint(1940, 2012), rng.randint(1, 12), rng.randint(1, 28))
        yield "Patient", patient(pid, _iso(birth), gp)
        profile = rng.random()
        if profile < 0.25:  # no opioids: a blood-pressure tablet
            yield (
                "MedicationDispense",
                dispense(
                    ids("md"),
                    pid,
                    LISINOPRIL,
                    _iso(period_start + timedelta(days=rng.randint(0, 80))),
                    30,
                    30,
                    rng.choice(clinicians),
                    rng.choice(pharmacies),
                ),
            )
            continue
        if profile > 0.97:  # several prescribers and pharmacies at a high dose
            for visit in range(5):
                yield (
                    "MedicationDispense",
                    dispense(
                        ids("md"),
                        pid,
                        OXYCODONE_10,
                        _iso(period_start + timedelta(days=visit * 14)),
                        112,
                        14,
                        clinicians[(index + visit) % len(clinicians)],
                        pharmacies[(index + visit) % len(pharmacies)],
                    ),
                )
            continue
        chronic = profile > 0.6
        drug = rng.choice([OXYCODONE_5, OXYCODONE_10, HYDROCODONE_10, TRAMADOL_50, MORPHINE_ER_15, FENTANYL_25])
        fills = rng.randint(2, 4) if chronic else 1
        day = period_start - timedelta(days=rng.randint(0, 200) if chronic else -rng.randint(0, 80))
        prescriber = rng.choice(clinicians)
        while day <= period_end:
            days = 30 if chronic else rng.choice([3, 5, 7, 10])
            per_day = rng.choice([2, 3, 4, 6, 8]) if drug != FENTANYL_25 else 1
            quantity = per_day * days if drug != FENTANYL_25 else 10
            supply = None if rng.random() < 0.03 else days
            order_id = ids("mr")
            yield "MedicationRequest", order(order_id, pid, drug, _iso(day), prescriber, per_day, days, "completed")
            shop = rng.choice(pharmacies)
            if rng.random() < 0.04:
                concept = medication_concept(None, ndc=f"00406-05{rng.randint(10, 99)}-01", text=None)
                yield (
                    "MedicationDispense",
                    dispense(ids("md"), pid, None, _iso(day), quantity, supply, None, shop, order_id, concept=concept),
                )
            elif rng.random() < 0.05:
                yield (
                    "MedicationDispense",
                    dispense(
                        ids("md"),
                        pid,
                        None,
                        _iso(day),
                        quantity,
                        supply,
                        None,
                        shop,
                        order_id,
                        medication_reference="Medication/med-oxy10",
                    ),
                )
            else:
                yield (
                    "MedicationDispense",
                    dispense(ids("md"), pid, drug, _iso(day), quantity, supply, None, shop, order_id),
                )
            if not chronic or fills <= 1:
                break
            fills -= 0 if day < period_start else 1
            day += timedelta(days=days - rng.randint(0, 4))
            if rng.random() < 0.08:
                prescriber = rng.choice(clinicians)
        if chronic and rng.random() < 0.2:
            benzo_day = period_start + timedelta(days=rng.randint(0, 20))
            for _ in range(3):
                yield (
                    "MedicationDispense",
                    dispense(
                        ids("md"),
                        pid,
                        rng.choice([ALPRAZOLAM, DIAZEPAM]),
                        _iso(benzo_day),
                        60,
                        30,
                        rng.choice(clinicians),
                        rng.choice(pharmacies),
                    ),
                )
                benzo_day += timedelta(days=30)
        if chronic and rng.random() < 0.4:
            yield "Observation", urine_test(ids("obs"), pid, _iso(period_end - timedelta(days=rng.randint(0, 300))))
        if chronic and rng.random() < 0.25:
            yield (
                "MedicationDispense",
                dispense(
                    ids("md"),
                    pid,
                    NALOXONE_SPRAY,
                    _iso(period_start + timedelta(days=rng.randint(0, 60))),
                    2,
                    1,
                    prescriber,
                    rng.choice(pharmacies),
                ),
            )
        extra = rng.random()
        if extra < 0.03:
            yield "Condition", condition(ids("c"), pid, ICD10, "C50.911")
        elif extra < 0.05:
            yield "Condition", condition(ids("c"), pid, ICD10, "D57.1")
        elif extra < 0.07:
            yield "Condition", condition(ids("c"), pid, ICD10, "D57.3")
        elif extra < 0.10:
            yield "Condition", condition(ids("c"), pid, ICD10, "F11.20")
            yield (
                "MedicationDispense",
                dispense(
                    ids("md"),
                    pid,
                    SUBOXONE_8,
                    _iso(period_start + timedelta(days=5)),
                    28,
                    28,
                    prescriber,
                    rng.choice(pharmacies),
                ),
            )
        elif extra < 0.11:
            yield "Encounter", hospice_encounter(ids("enc"), pid, _iso(period_start + timedelta(days=10)))
        if rng.random() < 0.01:
            yield "Patient", '{"resourceType": "Observation", "id": broken'
        if rng.random() < 0.005:
            yield "Basic", {"resourceType": "Basic", "id": ids("b"), "subject": {"reference": f"Patient/{pid}"}}


def write_synthetic_export(directory: Path | str, patients: int, seed: int = 1, gz: bool = False) -> Path:
    """Write the generator's output one file per type (streamed: memory does not grow with `patients`)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        handles: dict[str, Any] = {}
        for kind, item in generate(patients, seed):
            if kind not in handles:
                name = directory / f"{kind}.ndjson{'.gz' if gz else ''}"
                opener = gzip.open if gz else open
                handles[kind] = stack.enter_context(opener(name, "wt", encoding="utf-8"))  # type: ignore[operator]
            handles[kind].write((item if isinstance(item, str) else json.dumps(item, separators=(",", ":"))) + "\n")
    return directory
