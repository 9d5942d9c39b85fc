"""A payer claim handed to a hook that gives no date of service (no billablePeriod, no line service dates) is no
evidence that its diagnosis is current: at the point of care it applies no exclusion whose rule needs the diagnosis
current or recent (terminal illness G4, palliative care Z51.5 in G5, sickle cell disease where a site asks for an
active one), and it is named on the data-incomplete card. Sickle cell disease is lifelong: the CDC's G2 reads any
diagnosis whatever its status, so an undated claim billing it still excludes by default.

Before, the claim's diagnosis was read as a condition with no clinical status and no abatement, which counts as
active: one undated claim billing Z51.5 switched every opioid check off, with no date to say when."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builders import PATIENT_ID, run
from cds_support import bundle, full_prefetch, hook_request, make_app, oxycodone_draft, topics
from test_payer_code_systems import carrier_claim

from guideline.exclusions import undated_claim_diagnoses
from guideline.population.claims import claims_read_for_a_hook

# Blue Button bills ICD-10-CM under `sid/icd-10`, no dot, no display. 99497: advance care planning, a palliative visit.
PALLIATIVE_CARE = "Z515"
SICKLE_CELL_CRISIS = "D5700"  # Hb-SS disease with crisis, unspecified
OPIOID_CARDS = {"high-mme", "naloxone", "pdmp-review", "urine-drug-test", "treatment-plan"}


def undated_claim(ident: str, diagnosis: str) -> dict[str, Any]:
    """A Part B carrier claim billing `diagnosis` as a CARIN or Blue Button professional claim may send it with no
    billablePeriod and no service date on its line: dated by nothing at all."""
    claim = carrier_claim(ident, PATIENT_ID, "2026-01-01", diagnosis, "99497")
    del claim["billablePeriod"]
    claim["item"] = [{key: value for key, value in line.items() if key != "servicedPeriod"} for line in claim["item"]]
    return claim


def order_sign(tmp_path: Path, *claims: dict[str, Any]) -> dict[str, Any]:
    """The hook's answer to an order-sign of oxycodone 5 mg, 4 tablets every 6 hours (80 mg, 120 MME/day), with these
    Blue Button claims in the conditions prefetch."""
    prefetch = full_prefetch("order-sign", conditions=bundle(*claims))
    body = hook_request(drafts=[oxycodone_draft(dose=4, every_hours=6)], prefetch=prefetch)
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200
    return response.json


def incomplete_detail(answer: dict[str, Any]) -> str:
    [card] = [c for c in answer["cards"] if c["source"]["topic"]["code"] == "data-incomplete"]
    return card["detail"]


def exclusions(*claims: dict[str, Any], config: dict[str, Any] | None = None) -> tuple[set[str], tuple[str, ...]]:
    """The exclusions that apply to a patient with these claims (patient-view), and the undated claims named."""
    read = claims_read_for_a_hook(list(claims))
    facts = run("patient-view", resources=list(read.resources), config=config).facts
    return {finding.name for finding in facts.exclusions}, undated_claim_diagnoses(facts)


def test_an_undated_claim_billing_palliative_care_leaves_the_high_dose_card_and_is_named(tmp_path: Path) -> None:
    # Before, Z51.5 on a claim of no date applied terminal_condition and hospice_palliative: no card at all.
    answer = order_sign(tmp_path, undated_claim("bb-pc-1", PALLIATIVE_CARE))
    assert set(topics(answer)) >= OPIOID_CARDS
    assert "- Payer claim bb-pc-1 bills Z515: gives no date of service" in incomplete_detail(answer)


def test_an_undated_claim_billing_palliative_care_applies_no_exclusion() -> None:
    assert exclusions(undated_claim("bb-pc-1", PALLIATIVE_CARE)) == (set(), ("Payer claim bb-pc-1 bills Z515",))


def test_a_dated_claim_billing_palliative_care_this_month_still_excludes() -> None:
    dated = carrier_claim("bb-pc-1", PATIENT_ID, "2026-06-01", PALLIATIVE_CARE, "99497")
    applied, named = exclusions(dated)
    assert "hospice_palliative" in applied
    assert named == ()


def test_an_undated_claim_billing_sickle_cell_disease_excludes_as_any_diagnosis_of_it_does(tmp_path: Path) -> None:
    # G2 reads any sickle cell disease diagnosis whatever its status: a lifelong disease, billed on any day or none.
    assert exclusions(undated_claim("bb-sc-1", SICKLE_CELL_CRISIS)) == ({"sickle_cell"}, ())
    assert set(topics(order_sign(tmp_path, undated_claim("bb-sc-1", SICKLE_CELL_CRISIS)))) == set()


def test_where_the_site_asks_for_active_sickle_cell_disease_an_undated_claim_does_not_exclude_and_is_named() -> None:
    # No date of service, nothing says the diagnosis is current: as a dated claim's (in effect on its days only).
    active_only = {"exclusions": {"sickle_cell": {"require_active": True}}}
    claim = undated_claim("bb-sc-1", SICKLE_CELL_CRISIS)
    assert exclusions(claim, config=active_only) == (set(), ("Payer claim bb-sc-1 bills D5700",))


def test_an_undated_claim_billing_palliative_care_is_named_where_only_the_terminal_exclusion_reads_it() -> None:
    # The terminal-illness set holds Z51.5 too: with the hospice exclusion off, it is that exclusion the claim missed.
    hospice_off = {"exclusions": {"hospice_palliative": {"enabled": False}}}
    claim = undated_claim("bb-pc-1", PALLIATIVE_CARE)
    assert exclusions(claim, config=hospice_off) == (set(), ("Payer claim bb-pc-1 bills Z515",))
