"""A fill's own reference (`Dispense.ref`, `MedicationDispense/<id>`): the one name the engine, the MME lines and the
population review give a fill by its id, as read from an EHR's dispense, another server's copy and a claim line."""

from __future__ import annotations

import copy
from typing import Any
from zoneinfo import ZoneInfo

from builders import NOW, patient
from test_hie_relay import EPIC, HIE, _entry, _hie_medication, _searchset
from test_signed_renewal import fill, medication

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.facts import Facts
from guideline.fhirdata import RXNORM, UCUM
from guideline.fills import fill_mme
from guideline.population.claims import claim_resources
from guideline.record import Dispense, build_record, readers
from guideline.record.pool import SOURCE, MedicationPool
from guideline.terminology import load_terminology

TZ = ZoneInfo("America/Chicago")
CONFIG = GuidelineConfig.from_mapping({})
TERMS = load_terminology(CONFIG)
OXYCODONE_5 = {"coding": [{"system": RXNORM, "code": "1049621", "display": "oxycodone hydrochloride 5 MG Oral Tablet"}]}


def epic_fill(**changed: Any) -> dict[str, Any]:
    """An Epic R4 MedicationDispense of oxycodone 5 mg, #60 for 30 days, handed over on 2026-11-20."""
    fill: dict[str, Any] = {
        "resourceType": "MedicationDispense",
        "id": "eZ7bCx3Lm1FjX2sn9dQ0Ww3",
        "status": "completed",
        "subject": {"reference": "Patient/erXuFYUfucBZaryVksYEcMg3"},
        "medicationCodeableConcept": OXYCODONE_5,
        "quantity": {"value": 60, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
        "daysSupply": {"value": 30, "unit": "Day", "system": UCUM, "code": "d"},
        "whenHandedOver": "2026-11-20T15:02:00Z",
    }
    fill.update(changed)
    return {k: v for k, v in fill.items() if v is not None}


def read(resource: dict[str, Any]) -> Dispense:
    return readers.read_dispense(resource, TZ, MedicationPool())


def test_the_ehrs_fill_is_named_by_its_type_and_id() -> None:
    fill = read(epic_fill())
    assert fill.ref == "MedicationDispense/eZ7bCx3Lm1FjX2sn9dQ0Ww3"
    assert fill.located == "eZ7bCx3Lm1FjX2sn9dQ0Ww3"  # the record's bare id for the EHR's own


def test_a_fill_without_an_id_has_no_reference() -> None:
    fill = read(epic_fill(id=None))
    assert fill.ref is None and fill.located is None
    assert read(epic_fill(id="")).ref is None  # an empty id names nothing either


def test_another_servers_fill_keeps_its_reference_there_and_is_located_by_url() -> None:
    """An HIE's copy marked with its base (pool.SOURCE): `ref` is its reference on the HIE, which the EHR's fill of
    the same id also has; only `located` tells them apart, so a join on the EHR's fills asks `source` too."""
    copy = read({**epic_fill(id="77"), SOURCE: HIE})
    assert copy.source == HIE
    assert copy.ref == "MedicationDispense/77" == read(epic_fill(id="77")).ref
    assert copy.located == f"{HIE}/MedicationDispense/77"


def test_a_fill_read_from_an_stu3_part_d_claim_is_named_by_the_id_made_for_its_line() -> None:
    """A Blue Button v1 (STU3) Part D event: its drug line's fill is `<claim id>-<line>`, an id no export's
    MedicationDispense carries, and it says which claim it was read from."""
    claim = {
        "resourceType": "ExplanationOfBenefit",
        "id": "pde-2318870452",
        "status": "active",
        "type": {
            "coding": [
                {"system": "https://bluebutton.cms.gov/resources/variables/clm_type_cd", "code": "PDE"},
                {"system": "https://bluebutton.cms.gov/resources/codesystem/eob-type", "code": "PDE"},
            ]
        },
        "patient": {"reference": "Patient/-20000000001809"},
        "billablePeriod": {"start": "2026-10-02", "end": "2026-10-02"},
        "item": [
            {
                "sequence": 1,
                "service": {"coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": "00406055262"}]},
                "servicedDate": "2026-10-02",
                "quantity": {"value": 60},
            }
        ],
    }
    (resource,) = (r for r in claim_resources(claim) if r["resourceType"] == "MedicationDispense")
    fill = read(resource)
    assert fill.claim == "pde-2318870452"
    assert fill.ref == "MedicationDispense/pde-2318870452-1"


def test_a_fills_mme_line_is_named_by_the_fills_reference() -> None:
    for resource in (epic_fill(), epic_fill(id=None), {**epic_fill(id="77"), SOURCE: HIE}):
        fill = read(resource)
        assert fill_mme(fill, TERMS, CONFIG).ref == fill.ref


def test_a_copy_relayed_unchanged_is_named_on_the_ehrs_fill_not_on_another_servers_fill_of_that_id() -> None:
    """Epic's fill eDisp.1, the HIE's unchanged copy of it (dropped when pooled) and a second HIE's own, different
    fill that happens to be numbered eDisp.1 too: the copy is named on Epic's fill, whatever order the servers
    answered in (`Facts.fills_read_once` joins on the EHR's own fills: `ref` alone is the same for both)."""
    ehr_fill = fill("eRx.outside", fill_id="eDisp.1", ago=4)
    other = fill("eRx.elsewhere", 60, fill_id="eDisp.1", ago=40)  # another pharmacy's, 40 days ago
    second_hie = "https://hie2.example.net/fhir"
    ehr = _searchset(_entry(EPIC, patient()), _entry(EPIC, medication()), _entry(EPIC, ehr_fill))
    hie = _searchset(_entry(HIE, _hie_medication()), _entry(HIE, copy.deepcopy(ehr_fill)))
    hie2 = _searchset(_entry(second_hie, _hie_medication()), _entry(second_hie, other))
    for bundles in ([ehr, hie, hie2], [hie2, hie, ehr], [hie, ehr, hie2]):
        record = build_record(bundles, TZ, fhir_server=EPIC)
        facts = Facts(record, HookContext("patient-view", "p1"), CONFIG, NOW)
        assert sorted(d.located or "" for d in record.dispenses) == [
            "eDisp.1",
            f"{second_hie}/MedicationDispense/eDisp.1",
        ]
        ((kept, names),) = facts.fills_read_once.values()
        assert (kept.source, kept.located, names) == (None, "eDisp.1", (f"{HIE}/MedicationDispense/eDisp.1",))
