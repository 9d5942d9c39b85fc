"""One order sent twice by the EHR, once naming its drug by `medicationReference` to a Medication and once by the
Medication's own code (a prefetch in one shape, a search answer in the other): before, the two copies named no code,
text or reference in common, so they were read as two orders and the dose counted twice (60 MME/day read as 120).
The Medication a copy names is read for its codes, so the copies compare by the drug they name."""

from __future__ import annotations

import copy
from typing import Any

from builders import med_request, run

OXYCODONE_10 = "1049683"  # oxycodone hydrochloride 10 MG Oral Tablet
HYDROMORPHONE_2 = "897696"  # hydromorphone hydrochloride 2 MG Oral Tablet
SERVER = "https://fhir.ehr.example/api/FHIR/R4"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _by_reference(order: dict[str, Any], medication_id: str) -> dict[str, Any]:
    shaped = copy.deepcopy(order)
    del shaped["medicationCodeableConcept"]
    shaped["medicationReference"] = {"reference": f"Medication/{medication_id}"}
    return shaped


def _medication(medication_id: str, rxcui: str) -> dict[str, Any]:
    return {"resourceType": "Medication", "id": medication_id, "code": {"coding": [{"system": RXNORM, "code": rxcui}]}}


def _oxycodone() -> dict[str, Any]:
    return med_request(OXYCODONE_10, id="eOxy", authored="2026-06-10", period=6)  # 10 mg q6h: 60 MME/day


def test_one_order_by_reference_and_by_code_is_counted_once() -> None:
    coded = _oxycodone()
    referenced = _by_reference(coded, "med-ox")
    resources = [referenced, _medication("med-ox", OXYCODONE_10), coded]
    evaluation = run("patient-view", resources=resources, fhir_server=SERVER)
    assert evaluation.facts.mme.total == 60


def test_two_drugs_under_one_id_are_still_two_orders() -> None:
    # The CDC's own cases reuse an id for another drug: by reference to another drug, both are kept.
    coded = _oxycodone()
    other = _by_reference(med_request(HYDROMORPHONE_2, id="eOxy", authored="2026-06-10", period=6), "med-hm")
    resources = [other, _medication("med-hm", HYDROMORPHONE_2), coded]
    evaluation = run("patient-view", resources=resources, fhir_server=SERVER)
    assert evaluation.facts.mme.total > 60
