"""The demo EHR's orderables and the draft MedicationRequest it builds (static/js/demo.js builds the same shape)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from guideline.fhirdata import MEDREQ_CATEGORY, RXNORM, UCUM
from smart_app.demo_data import DATA_DIR

# Administrations per day for one unit of timing period; PRN sigs count at their maximum, as prescribers do.
_PER_DAY = {"min": Decimal(1440), "h": Decimal(24), "d": Decimal(1), "wk": Decimal(1) / 7}


@dataclass(frozen=True)
class Drug:
    key: str
    rxnorm: str
    display: str
    text: str
    unit: str
    ucum: str
    group: str
    fixed_quantity: int | None = None


@dataclass(frozen=True)
class Sig:
    key: str
    text: str
    dose: int
    frequency: int
    period: int
    period_unit: str
    as_needed: bool


@cache
def catalog() -> tuple[dict[str, Drug], dict[str, Sig]]:
    """Drugs and sigs offered by the order form, keyed by their keys (loaded once)."""
    raw = json.loads((DATA_DIR / "catalog.json").read_text(encoding="utf-8"))
    drugs = {item["key"]: Drug(**item) for item in raw["drugs"]}
    sigs = {item["key"]: Sig(**item) for item in raw["sigs"]}
    return drugs, sigs


def catalog_json() -> dict[str, Any]:
    """The catalog as plain JSON for the page."""
    drugs, sigs = catalog()
    return {
        "drugs": [asdict(drug) for drug in drugs.values()],
        "sigs": [asdict(sig) for sig in sigs.values()],
    }


def dispense_quantity(drug: Drug, sig: Sig, days: int) -> int:
    """Units to dispense for `days` at the sig's maximum use, rounded up to whole units."""
    if drug.fixed_quantity:
        return drug.fixed_quantity
    per_day = Decimal(sig.dose) * Decimal(sig.frequency) * _PER_DAY[sig.period_unit] / Decimal(sig.period)
    return max(1, math.ceil(per_day * days))


def build_draft_order(
    *,
    order_id: str,
    patient_id: str,
    drug: Drug,
    sig: Sig,
    days: int,
    refills: int,
    now: datetime,
    replaces: str | None = None,
    user_id: str = "Practitioner/demo-clinician",
) -> dict[str, Any]:
    """A draft community MedicationRequest as an EHR's order composer would send it in `draftOrders`."""
    unit = {"value": 1, "unit": drug.unit, "system": UCUM, "code": drug.ucum}
    order: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "category": [{"coding": [{"system": MEDREQ_CATEGORY, "code": "community", "display": "Community"}]}],
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": drug.rxnorm, "display": drug.display}],
            "text": drug.text,
        },
        "subject": {"reference": f"Patient/{patient_id}"},
        "authoredOn": now.isoformat(timespec="seconds"),
        "requester": {"reference": user_id},
        "dosageInstruction": [
            {
                "sequence": 1,
                "text": f"{drug.text}: {sig.text}",
                "timing": {"repeat": {"frequency": sig.frequency, "period": sig.period, "periodUnit": sig.period_unit}},
                "asNeededBoolean": sig.as_needed,
                "doseAndRate": [{"doseQuantity": {**unit, "value": sig.dose}}],
            }
        ],
        "dispenseRequest": {
            "numberOfRepeatsAllowed": refills,
            "quantity": {**unit, "value": dispense_quantity(drug, sig, days)},
            "expectedSupplyDuration": {"value": days, "unit": "days", "system": UCUM, "code": "d"},
        },
    }
    if replaces:
        order["priorPrescription"] = {"reference": f"MedicationRequest/{replaces}"}
    return order


def story_draft(patient: Any, now: datetime, order_id: str = "demo-draft-1") -> dict[str, Any]:
    """The draft order a demo patient's story is about."""
    drugs, sigs = catalog()
    order = patient.order
    return build_draft_order(
        order_id=order_id,
        patient_id=patient.id,
        drug=drugs[order.drug],
        sig=sigs[order.sig],
        days=order.days,
        refills=order.refills,
        now=now,
        replaces=order.replaces,
    )


def draft_bundle(orders: list[Mapping[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": dict(o)} for o in orders]}
