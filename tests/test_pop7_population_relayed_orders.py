"""The HIE's copy in the population review. An EHR's Bulk export holds the EHR's own oxycodone order and the copy a
regional HIE relayed back under its own id, keeping the EHR's order number; the export tells the copy's source only by
`meta.source`. The review reads it once by the point of care's one rule (`identity.relayed_orders`): a patient on
60 MME a day from orders (no fills: EHR data) was at 120, a high dose. Counted in `orders_relayed`. Where
`meta.source` does not tell the two apart (none on either, or every order naming its own), both are read, as before
(an over-count, never a lost order)."""

from __future__ import annotations

from typing import Any

from synthetic_export import OXYCODONE_10, order, patient
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from guideline.population import Directory, evaluate_patient

EPIC_ORDER_ID = "urn:oid:1.2.840.114350.1.13.0.1.7.2.798268"  # Epic's order number (ORD ID) system
HIE = "https://hie.example.org/fhir"


def oxycodone(ident: str, source: str | None, number: str = "1066899", system: str = EPIC_ORDER_ID) -> dict[str, Any]:
    """Oxycodone 10 mg four times a day for 30 days (60 MME a day), written on 5 February, numbered by Epic."""
    resource = order(ident, "p1", OXYCODONE_10, "2026-02-05", "drA", per_day=4, days=30)
    resource["identifier"] = [{"use": "usual", "system": system, "value": number}]
    if source is not None:
        resource["meta"] = {"source": source, "lastUpdated": "2026-02-05T15:02:11Z"}
    return resource


def evaluated(*orders: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    directory = Directory(roles={}, practitioner_orgs={}, names={}, conflicts=0)
    outcome = evaluate_patient(
        "p1", [patient("p1", "1961-09-30"), *orders], PERIOD, GuidelineConfig.from_mapping(), TODAY, directory
    )
    assert outcome.row is not None
    return outcome.row, outcome.quality


def test_the_hies_copy_marked_by_meta_source_is_read_once_and_counted():
    # HAPI-style request ids after `#` name no system: the EHR's order names none.
    row, quality = evaluated(oxycodone("eRx.1", "#a81c2e"), oxycodone("hie-77", f"{HIE}#7f3e"))
    assert (row["source"], row["peak_mme"], row["avg_mme"]) == ("orders", 60.0, 60.0)
    assert quality.orders_relayed == 1


def test_without_a_source_telling_them_apart_both_orders_are_read():
    for orders in (
        (oxycodone("eRx.1", None), oxycodone("hie-77", None)),
        (oxycodone("eRx.1", "https://ehr.example.org/fhir"), oxycodone("hie-77", HIE)),
        (oxycodone("eRx.1", None), oxycodone("hie-77", HIE, system="urn:oid:2.16.840.1.113883.3.72.5.9.1")),
    ):
        row, quality = evaluated(*orders)
        assert (row["peak_mme"], row["avg_mme"], quality.orders_relayed) == (120.0, 120.0, 0)
