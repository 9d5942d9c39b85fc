"""Realistic order-sign request bodies (~160 kB, 200 resources, Epic-like shapes) that differ on every call.

Each body is built from a seed: ids, dates, doses, results and the drug mix change with it, so nothing a real call
would meet cold is warm in the benchmark. `CALL_TOKEN` sits inside every id; a load generator replaces it per call
(`unique_call`) so even a body reused from a pre-built set never repeats an id.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from typing import Any

from guideline.fhirdata import ICD10CM, LOINC, MEDREQ_CATEGORY, RXNORM, SNOMED, UCUM

CALL_TOKEN = "@@call@@"
TODAY = date(2026, 6, 15)
EHR = "https://fhir.ehr.example/api/FHIR/R4"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ENCOUNTER_CLASS = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
EPIC_DOSE_TYPE = "http://epic.com/CodeSystem/dose-rate-type"

# (rxcui, display, unit, ucum): opioids, benzodiazepines, sedatives, MOUD, naloxone and everyday non-opioids.
DRUGS = (
    ("1049621", "oxycodone hydrochloride 5 MG Oral Tablet", "tablet", "{tbl}"),
    ("1049683", "oxycodone hydrochloride 10 MG Oral Tablet", "tablet", "{tbl}"),
    ("856999", "acetaminophen 325 MG / hydrocodone bitartrate 10 MG Oral Tablet", "tablet", "{tbl}"),
    ("857002", "acetaminophen 325 MG / hydrocodone bitartrate 5 MG Oral Tablet", "tablet", "{tbl}"),
    ("835603", "tramadol hydrochloride 50 MG Oral Tablet", "tablet", "{tbl}"),
    ("891881", "morphine sulfate 15 MG Extended Release Oral Tablet", "tablet", "{tbl}"),
    ("197901", "lorazepam 1 MG Oral Tablet", "tablet", "{tbl}"),
    ("197527", "clonazepam 0.5 MG Oral Tablet", "tablet", "{tbl}"),
    ("854873", "zolpidem tartrate 10 MG Oral Tablet", "tablet", "{tbl}"),
    ("1010604", "buprenorphine 8 MG / naloxone 2 MG Sublingual Film", "film", "{film}"),
    ("1725059", "naloxone hydrochloride 40 MG/ML Nasal Spray", "spray", "{spray}"),
    ("310431", "gabapentin 300 MG Oral Capsule", "capsule", "{cap}"),
    ("197806", "ibuprofen 600 MG Oral Tablet", "tablet", "{tbl}"),
    ("314076", "lisinopril 10 MG Oral Tablet", "tablet", "{tbl}"),
    ("861007", "metformin hydrochloride 500 MG Oral Tablet", "tablet", "{tbl}"),
    ("617310", "atorvastatin 20 MG Oral Tablet", "tablet", "{tbl}"),
    ("312940", "sertraline 50 MG Oral Tablet", "tablet", "{tbl}"),
    ("313782", "acetaminophen 325 MG Oral Tablet", "tablet", "{tbl}"),
)
DRAFTS = DRUGS[:6]
# (frequency, period, unit, as needed, words)
SIGS = (
    (1, 4, "h", True, "every 4 hours as needed for pain"),
    (1, 6, "h", True, "every 6 hours as needed for pain"),
    (1, 8, "h", False, "every 8 hours"),
    (1, 12, "h", False, "every 12 hours"),
    (1, 1, "d", False, "once daily"),
    (2, 1, "d", False, "twice daily"),
    (3, 1, "d", False, "three times daily"),
)
UDS = (
    ("19295-5", "Opiates [Presence] in Urine by Screen method"),
    ("19642-8", "oxyCODONE [Presence] in Urine by Screen method"),
    ("14316-4", "Benzodiazepines [Presence] in Urine by Screen method"),
    ("14314-9", "Benzoylecgonine [Presence] in Urine by Screen method"),
    ("59673-4", "fentaNYL [Presence] in Urine by Screen method"),
    ("19659-2", "Amphetamines [Presence] in Urine by Screen method"),
    ("18282-4", "Cannabinoids [Presence] in Urine by Screen method"),
)
NEGATIVE = {"system": SNOMED, "code": "260385009", "display": "Negative"}
POSITIVE = {"system": SNOMED, "code": "10828004", "display": "Positive"}
LABS = (
    ("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", 70, 180),
    ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.6, 1.6),
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 11, 17),
    ("1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 7, 60),
)
CONDITIONS = (
    ("M54.50", "Low back pain, unspecified"),
    ("M17.11", "Unilateral primary osteoarthritis, right knee"),
    ("G89.29", "Other chronic pain"),
    ("I10", "Essential (primary) hypertension"),
    ("E11.9", "Type 2 diabetes mellitus without complications"),
    ("F41.1", "Generalized anxiety disorder"),
    ("F32.A", "Depression, unspecified"),
    ("E78.5", "Hyperlipidemia, unspecified"),
    ("M79.7", "Fibromyalgia"),
    ("K21.9", "Gastro-esophageal reflux disease without esophagitis"),
    ("G47.00", "Insomnia, unspecified"),
    ("J45.909", "Unspecified asthma, uncomplicated"),
)
PROCEDURES = (
    ("80146002", "Appendectomy"),
    ("229070002", "Stretching exercises"),
    ("91251008", "Physical therapy procedure"),
    ("18949003", "Change of dressing"),
)


class _Chart:
    """One patient's chart for one call: every id carries the call token and a per-body serial."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.patient = f"e{self.rng.getrandbits(48):012x}{CALL_TOKEN}"
        self.serial = 0
        self.shift = self.rng.randint(0, 20)  # days: dates move between bodies

    def new_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{CALL_TOKEN}-{self.serial}"

    def day(self, max_days_ago: int) -> date:
        return TODAY - timedelta(days=self.rng.randint(0, max_days_ago) + self.shift)

    def moment(self, max_days_ago: int) -> str:
        hour, minute = self.rng.randint(7, 18), self.rng.randint(0, 59)
        return f"{self.day(max_days_ago).isoformat()}T{hour:02d}:{minute:02d}:00-05:00"

    def subject(self) -> dict[str, Any]:
        return {"reference": f"Patient/{self.patient}"}

    def encounter_ref(self) -> dict[str, Any]:
        return {"reference": f"Encounter/{self.new_id('enc')}"}

    def order(self, drug: tuple[str, str, str, str], *, draft: bool = False, status: str = "active") -> dict:
        rxcui, display, unit, ucum = drug
        frequency, period, period_unit, as_needed, words = self.rng.choice(SIGS)
        dose = self.rng.choice((1, 1, 1, 2))
        days = self.rng.choice((5, 7, 14, 30, 30, 90))
        per_day = {"h": 24 / period, "d": frequency / period}[period_unit] * (frequency if period_unit == "h" else 1)
        quantity = max(1, round(dose * per_day * days))
        authored = TODAY.isoformat() + "T10:00:00-05:00" if draft else self.moment(400)
        dosage: dict[str, Any] = {
            "text": f"Take {dose} {unit} by mouth {words}",
            "timing": {
                "repeat": {"frequency": frequency, "period": period, "periodUnit": period_unit},
            },
            "asNeededBoolean": as_needed,
            "route": {"text": "Oral"},
            "doseAndRate": [
                {
                    "type": {"coding": [{"system": EPIC_DOSE_TYPE, "code": "calculated", "display": "calculated"}]},
                    "doseQuantity": {"value": dose, "unit": unit, "system": UCUM, "code": ucum},
                },
            ],
        }
        if as_needed:
            dosage["asNeededCodeableConcept"] = {"text": "pain"}
            del dosage["asNeededBoolean"]
        return {
            "resourceType": "MedicationRequest",
            "id": self.new_id("draft" if draft else "mr"),
            "status": "draft" if draft else status,
            "intent": "order",
            "category": [
                {
                    "coding": [{"system": MEDREQ_CATEGORY, "code": "community", "display": "Community"}],
                }
            ],
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui, "display": display}]},
            "subject": self.subject(),
            "encounter": self.encounter_ref(),
            "authoredOn": authored,
            "requester": {"reference": "Practitioner/eM5CWtq15N0WJeuCet5bJlQ3"},
            "courseOfTherapyType": {"coding": [{"code": "acute" if days <= 14 else "continuous"}]},
            "dosageInstruction": [dosage],
            "dispenseRequest": {
                "numberOfRepeatsAllowed": self.rng.choice((0, 0, 1, 2)),
                "quantity": {"value": quantity, "unit": unit},
                "expectedSupplyDuration": {"value": days, "unit": "Day", "system": UCUM, "code": "d"},
            },
        }

    def dispense(self) -> dict[str, Any]:
        rxcui, display, unit, _ = self.rng.choice(DRUGS)
        days = self.rng.choice((7, 30, 30, 90))
        handed = self.moment(380)
        return {
            "resourceType": "MedicationDispense",
            "id": self.new_id("md"),
            "status": "completed",
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui, "display": display}]},
            "subject": self.subject(),
            "performer": [{"actor": {"display": "Main Street Pharmacy"}}],
            "type": {"coding": [{"code": "FF", "display": "First Fill"}]},
            "quantity": {"value": self.rng.choice((30, 60, 90, 120)), "unit": unit},
            "daysSupply": {"value": days, "unit": "Day", "system": UCUM, "code": "d"},
            "whenPrepared": handed,
            "whenHandedOver": handed,
        }

    def observation(self, code: str, display: str, category: str, when: str, value: dict) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": self.new_id("obs"),
            "status": "final",
            "category": [{"coding": [{"system": OBS_CATEGORY, "code": category}]}],
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
            "subject": self.subject(),
            "effectiveDateTime": when,
            "issued": when[:10] + "T16:30:00Z",
            **value,
        }

    def uds_panel(self) -> list[dict[str, Any]]:
        when = self.moment(360)
        return [
            self.observation(
                code,
                display,
                "laboratory",
                when,
                {"valueCodeableConcept": {"coding": [POSITIVE if self.rng.random() < 0.15 else NEGATIVE]}},
            )
            for code, display in UDS
        ]

    def lab(self) -> dict[str, Any]:
        code, display, unit, low, high = self.rng.choice(LABS)
        value = round(self.rng.uniform(low, high), 1)
        observation = self.observation(
            code,
            display,
            "laboratory",
            self.moment(360),
            {"valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}},
        )
        observation["referenceRange"] = [{"low": {"value": low, "unit": unit}, "high": {"value": high, "unit": unit}}]
        return observation

    def pdmp(self) -> dict[str, Any]:
        code = "461651000124104"
        resource = self.observation(code, "Review of PDMP record done", "survey", self.moment(80), {})
        resource["code"] = {"coding": [{"system": SNOMED, "code": code}], "text": "PDMP reviewed"}
        return resource

    def condition(self) -> dict[str, Any]:
        code, display = self.rng.choice(CONDITIONS)
        onset = self.day(3000).isoformat()
        return {
            "resourceType": "Condition",
            "id": self.new_id("cond"),
            "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active", "display": "Active"}]},
            "verificationStatus": {"coding": [{"system": CONDITION_VER, "code": "confirmed", "display": "Confirmed"}]},
            "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]}],
            "code": {"coding": [{"system": ICD10CM, "code": code, "display": display}], "text": display},
            "subject": self.subject(),
            "onsetDateTime": onset,
            "recordedDate": onset,
        }

    def procedure(self) -> dict[str, Any]:
        code, display = self.rng.choice(PROCEDURES)
        return {
            "resourceType": "Procedure",
            "id": self.new_id("proc"),
            "status": "completed",
            "code": {"coding": [{"system": SNOMED, "code": code, "display": display}], "text": display},
            "subject": self.subject(),
            "performedDateTime": self.moment(700),
        }

    def encounter(self) -> dict[str, Any]:
        start = self.moment(360)
        return {
            "resourceType": "Encounter",
            "id": self.new_id("enc"),
            "identifier": [
                {"use": "usual", "system": "urn:oid:1.2.840.114350", "value": str(self.rng.getrandbits(30))}
            ],
            "status": "finished",
            "class": {"system": ENCOUNTER_CLASS, "code": "AMB", "display": "ambulatory"},
            "type": [{"coding": [{"system": "urn:oid:1.2.840.114350.1.13", "code": "101"}], "text": "Office Visit"}],
            "subject": self.subject(),
            "period": {"start": start, "end": start[:11] + "23:00:00-05:00"},
        }

    def service_request(self) -> dict[str, Any]:
        return {
            "resourceType": "ServiceRequest",
            "id": self.new_id("sr"),
            "status": "active",
            "intent": "order",
            "code": {"coding": [{"system": LOINC, "code": "19295-5"}], "text": "Urine drug screen"},
            "subject": self.subject(),
            "authoredOn": self.moment(60),
        }


def _bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"fullUrl": f"{EHR}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }


def order_sign_body(seed: int) -> dict[str, Any]:
    """A 200-resource order-sign request: 1 draft opioid, 45 orders, 30 fills, 58 observations (UDS panels, labs,
    PDMP reviews), 25 conditions, 12 procedures, 25 encounters, 3 service requests and the patient."""
    chart = _Chart(seed)
    rng = chart.rng
    draft = chart.order(rng.choice(DRAFTS), draft=True)
    active = [chart.order(rng.choice(DRUGS)) for _ in range(10)]
    recent = [chart.order(rng.choice(DRUGS), status=rng.choice(("completed", "stopped"))) for _ in range(35)]
    labs = [o for _ in range(6) for o in chart.uds_panel()] + [chart.lab() for _ in range(14)]
    born = TODAY.replace(year=TODAY.year - rng.randint(25, 80)) - timedelta(days=rng.randint(0, 360))
    patient = {
        "resourceType": "Patient",
        "id": chart.patient,
        "identifier": [
            {
                "use": "usual",
                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                "value": str(rng.randint(10**6, 10**7)),
            }
        ],
        "name": [{"use": "official", "family": "Rivera", "given": ["Alex"]}],
        "gender": rng.choice(("female", "male")),
        "birthDate": born.isoformat(),
    }
    return {
        "hook": "order-sign",
        "hookInstance": f"{rng.getrandbits(128):032x}{CALL_TOKEN}",
        "context": {
            "userId": "Practitioner/eM5CWtq15N0WJeuCet5bJlQ3",
            "patientId": chart.patient,
            "encounterId": chart.new_id("enc"),
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": draft}]},
        },
        "prefetch": {
            "patient": patient,
            "medsActive": _bundle(active),
            "medsRecent": _bundle(recent),
            "dispenses": _bundle([chart.dispense() for _ in range(30)]),
            "udsLabs": _bundle(labs),
            "pdmpObs": _bundle([chart.pdmp() for _ in range(2)]),
            "conditions": _bundle([chart.condition() for _ in range(25)]),
            "procedures": _bundle([chart.procedure() for _ in range(12)]),
            "encounters": _bundle([chart.encounter() for _ in range(25)]),
            "serviceRequests": _bundle([chart.service_request() for _ in range(3)]),
            "carePlans": _bundle([]),
            "planNotes": _bundle([]),
        },
    }


def encoded_bodies(count: int, first_seed: int = 1) -> list[bytes]:
    """`count` different bodies as compact UTF-8 JSON (as EHRs send it), each carrying CALL_TOKEN for `unique_call`."""
    return [
        json.dumps(order_sign_body(seed), separators=(",", ":")).encode()
        for seed in range(first_seed, first_seed + count)
    ]


def unique_call(raw: bytes, call: int) -> bytes:
    """The body with this call's number in every id (the token is replaced, the JSON stays valid)."""
    return raw.replace(CALL_TOKEN.encode(), f"-c{call:x}".encode())
