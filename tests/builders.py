"""Hand-written FHIR R4 fixture builders and a one-call engine runner, with a fixed evaluation date."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from guideline.cards import Card, Snooze
from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.engine import Evaluation, evaluate
from guideline.fhirdata import ICD10CM, UCUM
from guideline.fhirdata import LOINC as LOINC  # re-exported: tests name code systems from the builders
from guideline.fhirdata import RXNORM as RXNORM
from guideline.fhirdata import SNOMED as SNOMED
from guideline.record import build_record

ICD10 = ICD10CM
TZ = ZoneInfo("America/New_York")
TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=TZ)
PATIENT_ID = "p1"

_counter = {"n": 0}


def _next_id(prefix: str) -> str:
    _counter["n"] += 1
    return f"{prefix}{_counter['n']}"


def days_ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


def patient(birth_date: str | None = "1970-04-01", patient_id: str = PATIENT_ID) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": patient_id,
        "name": [{"given": ["Alex"], "family": "Rivera"}],
    }
    if birth_date:
        resource["birthDate"] = birth_date
    return resource


def med_request(
    rxcui: str,
    *,
    id: str | None = None,
    draft: bool = False,
    status: str | None = None,
    authored: str | None = None,
    dose: float | int = 1,
    unit: str = "{tbl}",
    frequency: int = 1,
    period: float | int = 6,
    period_unit: str = "h",
    supply_days: int | None = 30,
    quantity: int | None = None,
    category: str | None = "community",
    refills: int | None = None,
    intent: str = "order",
    as_needed: bool = False,
    course: str | None = None,
    display: str | None = None,
) -> dict[str, Any]:
    """An outpatient MedicationRequest: `dose` `unit` every `period` `period_unit`, `supply_days` per fill."""
    coding: dict[str, Any] = {"system": RXNORM, "code": rxcui}
    if display:
        coding["display"] = display
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": id or _next_id("mr"),
        "status": status or ("draft" if draft else "active"),
        "intent": intent,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "authoredOn": authored or days_ago(0),
        "medicationCodeableConcept": {"coding": [coding]},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": frequency, "period": period, "periodUnit": period_unit}},
                "asNeededBoolean": as_needed,
                "doseAndRate": [{"doseQuantity": {"value": dose, "unit": unit, "system": UCUM, "code": unit}}],
            }
        ],
        "dispenseRequest": {},
    }
    if category:
        resource["category"] = [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category", "code": category}
                ]
            }
        ]
    if supply_days is not None:
        resource["dispenseRequest"]["expectedSupplyDuration"] = {
            "value": supply_days,
            "unit": "days",
            "system": UCUM,
            "code": "d",
        }
    if quantity is not None:
        resource["dispenseRequest"]["quantity"] = {"value": quantity, "unit": unit, "system": UCUM, "code": unit}
    if refills is not None:
        resource["dispenseRequest"]["numberOfRepeatsAllowed"] = refills
    if course:
        resource["courseOfTherapyType"] = {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy", "code": course}
            ]
        }
    return resource


def dispense(rxcui: str, handed_over: str, days_supply: int | None = 30, status: str = "completed") -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationDispense",
        "id": _next_id("md"),
        "status": status,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui}]},
        "whenHandedOver": handed_over,
    }
    if days_supply is not None:
        resource["daysSupply"] = {"value": days_supply, "unit": "d", "system": UCUM, "code": "d"}
    return resource


def pbm_fill_mme(medicine: Mapping[str, Any]) -> Any:
    """The MME line of a pharmacy's fill, 120 tablets for 30 days handed over 2026-06-01, whose medicine is
    `medicine` (the dispense's `medicationCodeableConcept`, or `contained` with its `medicationReference`)."""
    from guideline.fills import fill_mme
    from guideline.terminology import load_terminology

    resource = {
        "resourceType": "MedicationDispense",
        "id": "fill-1",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        **medicine,
        "quantity": {"value": 120, "unit": "tablet", "system": "http://unitsofmeasure.org", "code": "{tbl}"},
        "daysSupply": {"value": 30, "unit": "d", "system": "http://unitsofmeasure.org", "code": "d"},
        "whenHandedOver": "2026-06-01",
    }
    config = GuidelineConfig.from_mapping({})
    return fill_mme(build_record([resource], TZ).dispenses[0], load_terminology(config), config)


def condition(
    system: str,
    code: str,
    *,
    display: str | None = None,
    clinical: str | None = "active",
    category: str | None = "problem-list-item",
    recorded: str | None = None,
    encounter: str | None = None,
    id: str | None = None,
) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": id or _next_id("c"),
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {"coding": [coding]},
        "recordedDate": recorded or days_ago(200),
    }
    if clinical:
        resource["clinicalStatus"] = {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": clinical}]
        }
    if category:
        resource["category"] = [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": category}]}
        ]
    if encounter:
        resource["encounter"] = {"reference": encounter}
    return resource


def observation(
    code: str,
    *,
    system: str = LOINC,
    when: str | None = None,
    value_string: str | None = None,
    value_code: tuple[str, str] | None = None,
    interpretation: str | None = None,
    value_quantity: float | None = None,
    status: str = "final",
    category: str | None = "laboratory",
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": _next_id("o"),
        "status": status,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {"coding": [{"system": system, "code": code}]},
        "effectiveDateTime": when or days_ago(0),
    }
    if category:
        resource["category"] = [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": category}]}
        ]
    if value_string is not None:
        resource["valueString"] = value_string
    if value_code is not None:
        resource["valueCodeableConcept"] = {"coding": [{"system": value_code[0], "code": value_code[1]}]}
    if value_quantity is not None:
        resource["valueQuantity"] = {"value": value_quantity}
    if interpretation is not None:
        resource["interpretation"] = [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                        "code": interpretation,
                    }
                ]
            }
        ]
    return resource


def procedure(system: str, code: str, *, performed: str | None = None, status: str = "completed") -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": _next_id("pr"),
        "status": status,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {"coding": [{"system": system, "code": code}]},
        "performedDateTime": performed or days_ago(0),
    }


def service_request(
    system: str, code: str, *, authored: str | None = None, status: str = "active", intent: str = "order"
) -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "id": _next_id("sr"),
        "status": status,
        "intent": intent,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {"coding": [{"system": system, "code": code}]},
        "authoredOn": authored or days_ago(0),
    }


def encounter(
    *, start: str, status: str = "finished", discharge: tuple[str, str] | None = None, diagnoses: Sequence[str] = ()
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": _next_id("e"),
        "status": status,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "period": {"start": start},
    }
    if discharge:
        resource["hospitalization"] = {
            "dischargeDisposition": {"coding": [{"system": discharge[0], "code": discharge[1]}]}
        }
    if diagnoses:
        resource["diagnosis"] = [{"condition": {"reference": ref}} for ref in diagnoses]
    return resource


def run(
    hook: str,
    *,
    drafts: Iterable[Mapping[str, Any]] = (),
    resources: Iterable[Mapping[str, Any]] = (),
    config: Mapping[str, Any] | GuidelineConfig | None = None,
    selections: Sequence[str] = (),
    snoozes: Sequence[Snooze] = (),
    with_patient: bool = True,
    now: datetime = NOW,
    user_id: str | None = "Practitioner/dr1",
    fhir_server: str | None = None,
    checks_patient: bool = False,
) -> Evaluation:
    """Build the record the way the service does and evaluate one hook call (`fhir_server`: the request's;
    `checks_patient`: the record told the patient in context, as the service tells it, to name another's data)."""
    settings = config if isinstance(config, GuidelineConfig) else GuidelineConfig.from_mapping(config or {})
    pool = list(resources)
    if with_patient and not any(r.get("resourceType") == "Patient" for r in pool):
        pool.append(patient())
    drafted = {"resourceType": "Bundle", "entry": [{"resource": d} for d in drafts]}
    own = PATIENT_ID if checks_patient else None
    record = build_record(pool, TZ, draft_orders=drafted, fhir_server=fhir_server, patient_id=own)
    context = HookContext(
        hook=hook, patient_id=PATIENT_ID, user_id=user_id, encounter_id="enc1", selections=tuple(selections)
    )
    return evaluate(record, context, settings, now, snoozes)


def padded(text: str, length: int) -> str:
    """`text`, then a pasted report's words up to `length` characters, ending in a full stop (the readers strip
    spaces, so a text cut at one would be shorter than `length`)."""
    return (text + " " + "see attached report " * length)[: length - 1] + "."


def card(evaluation: Evaluation, check_id: str) -> Card | None:
    return next((c for c in evaluation.cards if c.check_id == check_id), None)


def all_text(card_: Card) -> str:
    """Every sentence a clinician can read on a card, for language checks."""
    parts = [card_.summary, card_.detail]
    parts += [s.label for s in card_.suggestions] + [s.description for s in card_.suggestions]
    parts += [link.label for link in card_.links] + [r.display for r in card_.override_reasons]
    return "\n".join(parts)


# Words the Connecticut stigma-free care training (and the CDC) ask clinicians not to use about people.
STIGMATISING = re.compile(
    r"\b(abusers?|addicts?|drug[- ]seek(ing|ers?)|junkies?|substance abuse|"
    r"(clean|dirty) (urine|tests?|screens?|results?)|urine (was|is) (clean|dirty))\b",
    re.IGNORECASE,
)
# Fragments no card of ours may contain, whatever follows them ("addict" also rules out "addicted").
STIGMATISING_FRAGMENTS = ("abuser", "addict", "drug-seeking", "clean urine", "dirty urine", "substance abuse")


def assert_person_centred(card_: Card, extra: tuple[str, ...] = ()) -> None:
    """No stigmatising word anywhere a clinician reads on the card."""
    text = all_text(card_)
    lowered = text.lower()
    found = [word for word in (*STIGMATISING_FRAGMENTS, *extra) if word in lowered]
    match = STIGMATISING.search(text)
    assert not found and match is None, found or match.group(0)


EPIC_ERX = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"  # an Epic site's own medication record (ERX) codes


def as_epic_erx(order: dict[str, Any], name: str, rxcui: str, rx_display: str | None = None) -> dict[str, Any]:
    """The order as Epic sends one of a drug record (ERX) named `name` and mapped to RxNorm `rxcui`: a contained
    Medication coded by both, the name as the reference's display and the code's text."""
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": "#erx", "display": name}
    rxnorm = {"system": RXNORM, "code": rxcui} | ({"display": rx_display} if rx_display else {})
    coding = [{"system": EPIC_ERX, "code": "10814", "display": name}, rxnorm]
    order["contained"] = [{"resourceType": "Medication", "id": "erx", "code": {"coding": coding, "text": name}}]
    return order
