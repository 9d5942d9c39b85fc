"""The drug key says by its type whether it names an identified product (an RxNorm product, or its strengths and
form), the only evidence `identity.relayed_orders` takes that two orders are one; `Facts._identified_drug` no longer
reads that from the key's spelling ("rxnorm:", "strengths:"), which a change of spelling would silently break."""

from __future__ import annotations

from builders import NOW, TZ, med_request, patient

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.facts import Facts
from guideline.fills import same_drug_key
from guideline.record import build_record
from guideline.record.identity import IdentifiedDrug

OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
EPIC_LOCAL = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"  # Epic's own medication ids (ERX)


def _facts(*orders: dict) -> Facts:
    record = build_record([patient(), *orders], TZ)
    return Facts(record, HookContext("patient-view", "p1"), GuidelineConfig.from_mapping(), NOW)


def test_an_rxnorm_product_is_an_identified_drug_key() -> None:
    facts = _facts(med_request(OXYCODONE_5, id="o1"))
    [order] = facts.record.orders
    key = facts.drug_key(order)
    assert isinstance(key, IdentifiedDrug)
    assert key == same_drug_key(order, facts.terms)  # still the one string every rule compares
    assert facts._identified_drug(order) == key


def test_a_local_code_or_a_name_is_no_identified_drug_key() -> None:
    local = med_request(OXYCODONE_5, id="o2")
    local["medicationCodeableConcept"] = {
        "coding": [{"system": EPIC_LOCAL, "code": "31864"}],
        "text": "Zzqx compounded cream",
    }
    facts = _facts(local)
    [order] = facts.record.orders
    key = facts.drug_key(order)
    assert not isinstance(key, IdentifiedDrug)
    assert facts._identified_drug(order) is None
