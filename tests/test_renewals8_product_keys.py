"""`orders.is_product` tells a recognised product by its key's type (`identity.IdentifiedDrug`), the evidence every
renewal, reorder and series rule needs that two orders are one prescription. A key naming a product but built as a
plain `str` (a caller keying orders another way) read silently as "not a product": a renewal then counted beside the
order it renews. Guarded two ways: every key producer those rules are given returns an `IdentifiedDrug` for a
recognised product, in each shape EHRs send one, and a plain string spelled as a product key is refused loudly."""

from __future__ import annotations

from typing import Any

import pytest
from builders import NOW, RXNORM, TZ, med_request, patient

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.facts import Facts
from guideline.fills import same_drug_key
from guideline.orders import identified, is_product
from guideline.record import build_record
from guideline.record.identity import IdentifiedDrug
from guideline.terminology import load_terminology

NDC = "http://hl7.org/fhir/sid/ndc"
OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet (SCD)
PERCOCET_5 = "1049640"  # acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet [Percocet] (SBD)
OXYCODONE_APAP_5 = "1049221"  # its clinical drug (SCD)
OXYCODONE_NDC = "00406-0512-01"  # an NDC the site's crosswalk maps to oxycodone 5 mg tablets
CROSSWALK = {"ndc": {"rxnorm": {OXYCODONE_NDC: OXYCODONE_5}}}


def epic_scd() -> list[dict[str, Any]]:
    """Epic: a medicationReference to a Medication coded with the RxNorm SCD and Epic's own ERX code."""
    order = med_request(OXYCODONE_5, id="eOxy.1")
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": "Medication/eMed5", "display": "oxyCODONE 5 mg tablet"}
    medication = {
        "resourceType": "Medication",
        "id": "eMed5",
        "code": {
            "coding": [
                {"system": RXNORM, "code": OXYCODONE_5, "display": "oxycodone hydrochloride 5 MG Oral Tablet"},
                {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288", "code": "10814"},
            ],
            "text": "oxyCODONE 5 mg tablet",
        },
    }
    return [order, medication]


def sbd_brand() -> list[dict[str, Any]]:
    """A brand (SBD) coded order: Percocet 5/325."""
    return [med_request(PERCOCET_5, id="brand.1", display="Percocet 5 MG / 325 MG Oral Tablet")]


def ndc_only() -> list[dict[str, Any]]:
    """An order coded by NDC alone, no name: identified through the site's crosswalk."""
    order = med_request(OXYCODONE_5, id="ndc.1")
    order["medicationCodeableConcept"] = {"coding": [{"system": NDC, "code": OXYCODONE_NDC}]}
    return [order]


def oracle_name_only() -> list[dict[str, Any]]:
    """Oracle Health: a free-text medication with no coding (identified from its name's strength and form)."""
    order = med_request(OXYCODONE_5, id="O-MR-1")
    order["medicationCodeableConcept"] = {"text": "oxyCODONE 5 mg oral tablet"}
    return [order]


SHAPES = {
    "epic-scd": (epic_scd, f"rxnorm:{OXYCODONE_5}"),
    "sbd-brand": (sbd_brand, f"rxnorm:{OXYCODONE_APAP_5}"),
    "ndc-only": (ndc_only, f"rxnorm:{OXYCODONE_5}"),
    "oracle-name-only": (oracle_name_only, None),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_key_producer_the_series_rules_read_types_a_recognised_product(shape: str) -> None:
    build, spelled = SHAPES[shape]
    config = GuidelineConfig.from_mapping(CROSSWALK)
    terms = load_terminology(config)
    record = build_record([patient(), *build()], TZ)
    facts = Facts(record, HookContext("patient-view", "p1"), config, NOW, terms=terms)
    (order,) = record.orders
    keys = [
        same_drug_key(order, terms),  # the population review's, and the first call of the memo
        same_drug_key(order, terms),  # remembered per medication: the memo hands back the same type
        facts.drug_key(order),  # the point of care's: every renewal, reorder and series rule is given this one
        facts.drug_key(order),
    ]
    for key in keys:
        assert type(key) is IdentifiedDrug, (shape, key)
        assert is_product(key) and identified(key) == key
    if spelled is not None:
        assert keys[0] == spelled
    else:
        assert keys[0].startswith("strengths:")


def test_a_code_or_a_name_alone_is_no_product() -> None:
    assert not is_product("codes:urn:oid:1.2.840.114350.1.13.0.1.7.2.698288|10814")
    assert not is_product("name:zzqx compounded cream")
    assert identified("name:zzqx compounded cream") is None


@pytest.mark.parametrize("spelled", [f"rxnorm:{OXYCODONE_5}", "strengths:Oral Tablet:7804:5/1"])
def test_a_product_key_built_as_a_plain_string_is_refused_loudly(spelled: str) -> None:
    # Read as "not a product", a renewal of that oxycodone counted beside the order it renews: 120 MME/day for 60.
    with pytest.raises(TypeError, match="IdentifiedDrug"):
        is_product(spelled)
