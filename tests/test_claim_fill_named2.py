"""The last lines that named a fill by a bare id now name a payer claim's fill by its claim, as every other line
does (`Dispense.named_by`, `facts.fill_called`): a fill billed on a pharmacy claim whose dose could not be weighed
against the order it supplies is "payer claim eob-7 on 2026-06-05: …", never "pharmacy fill eob-7-1 on …", an id
PainPlan made up that no system holds.

A fill that may be another one sent twice names that other fill the same way: "possibly the same fill as payer
claim eob-pde-8812".

Before, the data-incomplete card and the order's line named the claim's fill "pharmacy fill eob-7-1": nobody could
find it to check it."""

from __future__ import annotations

from typing import Any

from builders import NOW, TZ, run
from test_fill_dose_three_faces import medication, oxycodone_order, patient, pharmacy_fill
from test_fill_dose_unread import named
from test_fills_sent_twice import carin_claim, epic_dispense
from test_population_fill_integrity import pharmacy_claim

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.facts import Facts
from guideline.named_gaps import fills_possibly_sent_twice
from guideline.plan.medications import _read_once_elsewhere
from guideline.population.claims import claims_read_for_a_hook
from guideline.record import build_record

OXYCODONE_10 = ("1049683", "oxycodone hydrochloride 10 MG Oral Tablet")


def claim_without_quantity() -> dict[str, Any]:
    """A Part D plan's claim for the order's oxycodone on 5 June with the quantity dropped from its drug line."""
    claim = pharmacy_claim("eob-7", "p1", "2026-06-05", 90, 30, OXYCODONE_10)
    del claim["item"][0]["quantity"]
    claim["careTeam"][0]["provider"] = {"reference": "Practitioner/eDrA"}
    return claim


def facts_of(*resources: dict[str, Any]) -> Facts:
    """The facts of Epic's order beside these resources, claims read as a hook reads them."""
    read = list(claims_read_for_a_hook(list(resources)).resources)
    record = build_record([patient(), medication(), oxycodone_order(), *read], TZ)
    return Facts(record, HookContext("patient-view", "p1"), GuidelineConfig.from_mapping(), NOW)


def test_a_claim_fill_of_unread_dose_is_named_by_its_claim() -> None:
    (line,) = named(facts_of(claim_without_quantity()))
    assert "payer claim eob-7 on 2026-06-05: " in line
    assert "eob-7-1" not in line


def test_a_pharmacys_own_fill_of_unread_dose_keeps_its_id() -> None:
    fill = pharmacy_fill()
    del fill["quantity"]
    (line,) = named(facts_of(fill))
    assert "pharmacy fill eDisp.77 on 2026-06-05: " in line


def current_claim(claim_id: str) -> dict[str, Any]:
    """The payer's CARIN pharmacy claim for oxycodone 10 mg #180 for 30 days, filled 2026-06-10 (today 2026-06-15)."""
    claim = carin_claim(claim_id)
    claim["billablePeriod"] = {"start": "2026-06-10"}
    claim["item"][0]["servicedDate"] = "2026-06-10"
    return claim


def possible_copies(*resources: dict[str, Any]) -> tuple[str, ...]:
    """The fills a patient-view hook names as possibly sent twice, claims read as a hook reads them."""
    return fills_possibly_sent_twice(
        run("patient-view", resources=list(claims_read_for_a_hook(list(resources)).resources)).facts
    )


def test_a_possible_copy_of_a_claims_fill_names_that_claim() -> None:
    # A second claim for the same fill, its prescriber left out: perhaps the same fill billed twice, perhaps two.
    rebilled = current_claim("eob-pde-9001")
    rebilled.pop("careTeam")
    assert possible_copies(current_claim("eob-pde-8812"), rebilled) == (
        "oxycodone hydrochloride 10 MG Oral Tablet (payer claim eob-pde-9001, possibly the same fill as payer claim "
        "eob-pde-8812)",
    )


def test_a_possible_copy_of_a_pharmacys_fill_names_its_id() -> None:
    claim = current_claim("eob-pde-9001")
    claim.pop("careTeam")
    fill = epic_dispense(whenHandedOver="2026-06-10T15:32:00Z")
    assert possible_copies(fill, claim) == (
        "oxycodone hydrochloride 10 MG Oral Tablet (payer claim eob-pde-9001, possibly the same fill as "
        "eZ8m1kq0Rb3sT6vXyA2dFhg3)",
    )


def test_the_plan_page_names_a_claims_fill_read_once_by_its_claim() -> None:
    # One fill billed under two claim numbers, read once; its supply ended before today, so the fills table does not
    # list it and the page names it among the fills read once.
    claims = [carin_claim("eob-pde-8812"), carin_claim("eob-pde-8812-rebill")]
    facts = run("patient-view", resources=list(claims_read_for_a_hook(claims).resources)).facts
    (line,) = _read_once_elsewhere(facts, ())
    assert line.startswith("oxycodone hydrochloride 10 MG Oral Tablet filled 2026-05-06 (payer claim eob-pde-8812), ")
