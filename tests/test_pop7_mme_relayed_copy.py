"""`painplan mme` names an HIE's relayed copy of the EHR's order as the high-dose card and the plan page do
(`Facts.relayed_copies`): the EHR's order's line says "also relayed as …(read once)" and lists the copy, the copy's
line names the order it copies (`copy_of`), and the total of every order given counts the order once. Before, the
copy was a second converted line, not current with no reason given, and `total_mme` was 120 for a patient on 60."""

from __future__ import annotations

from typing import Any

from builders import NOW, patient
from test_hie_relay import EPIC, HIE, _entry, _hie_medication, _order, _searchset
from test_signed_renewal import medication

from guideline.config import GuidelineConfig
from guideline.terminology import load_terminology
from smart_app.mme_command import mme_report

COPY = f"{HIE}/MedicationRequest/hie-77"


def report(hie_orders: list[dict[str, Any]]) -> dict[str, Any]:
    """Epic's oxycodone 10 mg every 6 hours (eRx.1, 60 MME a day) and what the regional HIE relays, in one
    patient-view request whose prefetch holds both servers' answers."""
    ehr = _searchset(_entry(EPIC, patient()), _entry(EPIC, medication()), _entry(EPIC, _order("eRx.1")))
    hie = _searchset(_entry(HIE, _hie_medication()), *(_entry(HIE, o) for o in hie_orders))
    request = {"hook": "patient-view", "fhirServer": EPIC, "context": {"patientId": "p1"},
               "prefetch": {"orders": ehr, "hie": hie}}  # fmt: skip
    config = GuidelineConfig.from_mapping()
    return mme_report(request, config, load_terminology(config), NOW.date())


def test_the_relayed_copy_is_named_on_both_lines_and_counted_once():
    found = report([_order("hie-77")])
    kept, copy = found["orders"]
    assert kept["id"] == "eRx.1" and kept["relayed_as"] == [COPY] and kept["current"] is True
    assert kept["explanation"].endswith(f"; also relayed as {COPY} (read once)")
    assert copy["id"] == "hie-77" and copy["copy_of"] == "eRx.1" and copy["current"] is False
    assert copy["explanation"].endswith("; the same order as eRx.1, relayed by another server under its own id: "
                                        "counted once, as eRx.1")  # fmt: skip
    assert found["total_mme"] == found["current_total_mme"] == 60.0 and found["complete"] is True


def test_an_hie_order_that_is_no_copy_is_neither_named_nor_counted_once():
    """The same number under another organisation's system: two orders, each counted (an over-count, never a loss)."""
    found = report([_order("hie-77", system="urn:oid:2.16.840.1.113883.3.72.5.9.1")])
    assert [line.get("relayed_as") for line in found["orders"]] == [None, None]
    assert [line.get("copy_of") for line in found["orders"]] == [None, None]
    assert found["total_mme"] == 120.0
