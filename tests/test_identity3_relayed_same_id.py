"""One order from two sources, one rule: an HIE relaying Epic's oxycodone order eRx.1 unchanged, under the same id
but its own fullUrl, is the EHR's order read once (as a copy under the HIE's own id is, `test_hie_relay`). Before,
the pooling dropped that copy without a word, while a copy under the HIE's own id was named on the card and the plan
row; and the HIE's fill of its copy (naming `MedicationRequest/eRx.1`, the HIE's order) stood for no order and added
its own dose (120 MME/day for 60)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from builders import NOW, TZ, card, patient, run
from test_hie_relay import EPIC, HIE, _entry, _hie_medication, _order, _searchset
from test_signed_renewal import fill, medication

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.facts import Facts
from guideline.plan.medications import build_medications, mme_now
from guideline.record import build_record

COPY = f"{HIE}/MedicationRequest/eRx.1"


def _facts(*bundles: dict[str, Any]) -> Facts:
    record = build_record(list(bundles), TZ, fhir_server=EPIC)
    return Facts(record, HookContext("patient-view", "p1"), GuidelineConfig.from_mapping(), NOW)


def _ehr(*orders: dict[str, Any]) -> dict[str, Any]:
    return _searchset(_entry(EPIC, patient()), _entry(EPIC, medication()), *(_entry(EPIC, o) for o in orders))


def _hie(*resources: dict[str, Any]) -> dict[str, Any]:
    return _searchset(_entry(HIE, _hie_medication()), *(_entry(HIE, r) for r in resources))


def test_the_hies_unchanged_copy_under_the_same_id_is_named_on_the_plan_row() -> None:
    facts = _facts(_ehr(_order("eRx.1")), _hie(_order("eRx.1")))
    assert facts.mme.total == Decimal(60)
    assert facts.relayed_copies({"MedicationRequest/eRx.1"}) == [COPY]
    rows = build_medications(facts, mme_now(facts)).opioids
    assert [(r.order_id, r.sent_twice) for r in rows] == [("eRx.1", f"also relayed as {COPY} (read once)")]


def test_the_high_dose_card_names_the_unchanged_copy_as_it_names_one_under_its_own_id() -> None:
    ehr, hie = _ehr(_order("eRx.1", tablets=2)), _hie(_order("eRx.1", tablets=2))
    evaluation = run("patient-view", resources=[ehr, hie], fhir_server=EPIC, with_patient=False)
    high = card(evaluation, "high-mme")
    assert high is not None and "120.0 MME/day" in high.summary
    assert f"1 order relayed by another server under its own id ({COPY}) was counted once" in high.detail


def test_the_hies_fill_of_its_unchanged_copy_is_the_ehr_orders_fill() -> None:
    # The HIE relays the pharmacy's fill too, naming its copy `MedicationRequest/eRx.1` (the HIE's): it stands for
    # the EHR's order, not for an order of its own beside it (which added 60).
    facts = _facts(_ehr(_order("eRx.1", ago=5)), _hie(_order("eRx.1", ago=5), fill("eRx.1", fill_id="hDisp.9", ago=4)))
    assert facts.record.dispenses[0].authorizing_prescriptions == ("MedicationRequest/eRx.1",)
    assert facts.mme.total == Decimal(60)


def test_a_changed_copy_under_the_same_id_is_another_order_unless_its_number_ties_it() -> None:
    # Another dose under the HIE's eRx.1 and no order number: another server's order, both counted, nothing named.
    changed = _order("eRx.1", number=None, tablets=2)
    facts = _facts(_ehr(_order("eRx.1", number=None)), _hie(changed))
    assert facts.mme.total == Decimal(180)
    assert facts.relayed_copies({"MedicationRequest/eRx.1"}) == []


def test_the_ehrs_own_copy_sent_twice_is_not_named_as_relayed() -> None:
    facts = _facts(_ehr(_order("eRx.1")), _ehr(_order("eRx.1")))
    assert facts.mme.total == Decimal(60)
    assert facts.relayed_copies({"MedicationRequest/eRx.1"}) == []


def test_the_hies_copy_met_before_the_ehrs_own_order_is_still_the_copy() -> None:
    # The HIE's answer comes first in the request. The EHR's order was then dropped as the copy and the HIE's read in
    # its place: the EHR's own fill, naming `MedicationRequest/eRx.1`, stood for no order and added 60 (120).
    facts = _facts(_hie(_order("eRx.1", ago=5)), _ehr(_order("eRx.1", ago=5), fill("eRx.1", fill_id="eDisp.9", ago=4)))
    assert [o.located for o in facts.record.orders] == ["MedicationRequest/eRx.1"]
    assert facts.mme.total == Decimal(60)
    assert facts.relayed_copies({"MedicationRequest/eRx.1"}) == [COPY]
