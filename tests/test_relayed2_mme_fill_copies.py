"""`painplan mme` names every copy of a fill it read once, as the card and the plan page do (`Facts.fills_read_once`):
the fill's line says "also sent as … (read once)" and lists the copies in `sent_as`. Before, an HIE's copy relayed
unchanged under the fill's own id (dropped when the record was pooled) was named on the card and the page and
nowhere in the command's output: the EHR lists two fills, the command one, with no word why."""

from __future__ import annotations

import copy
from typing import Any

from builders import NOW, patient
from test_hie_relay import EPIC, HIE, _entry, _hie_medication, _searchset
from test_signed_renewal import fill, medication

from guideline.config import GuidelineConfig
from guideline.terminology import load_terminology
from smart_app.mme_command import mme_report

RX_FILL = "urn:oid:2.16.840.1.113883.3.7418.1.4"  # a pharmacy's prescription-fill number system (NCPDP Rx + fill)


def report(ehr_fill: dict[str, Any], hie_fills: list[dict[str, Any]], hie_first: bool = False) -> dict[str, Any]:
    """Epic's fill and what the regional HIE relays, in one patient-view request whose prefetch holds both answers."""
    ours = _searchset(_entry(EPIC, patient()), _entry(EPIC, medication()), _entry(EPIC, ehr_fill))
    theirs = _searchset(_entry(HIE, _hie_medication()), *(_entry(HIE, f) for f in hie_fills))
    prefetch = {"hie": theirs, "fills": ours} if hie_first else {"fills": ours, "hie": theirs}
    request = {"hook": "patient-view", "fhirServer": EPIC, "context": {"patientId": "p1"}, "prefetch": prefetch}
    config = GuidelineConfig.from_mapping()
    return mme_report(request, config, load_terminology(config), NOW.date())


def test_an_unchanged_copy_under_the_same_id_is_named_on_the_fills_line() -> None:
    ehr_fill = fill("eRx.outside", fill_id="eDisp.1", ago=4)  # an outside prescriber's order, not in the record
    named = f"{HIE}/MedicationDispense/eDisp.1"
    for hie_first in (False, True):
        found = report(ehr_fill, [copy.deepcopy(ehr_fill)], hie_first)
        (line,) = found["dispenses"]
        assert (line["id"], line["current"], line["mme_per_day"]) == ("eDisp.1", True, 60.0)
        assert line["sent_as"] == [named]
        assert line["explanation"].endswith(f"; also sent as {named} (read once)")
        assert found["current_total_mme"] == 60.0


def test_a_copy_under_its_own_id_is_named_on_both_lines() -> None:
    ehr_fill = {**fill("eRx.outside", fill_id="eDisp.1", ago=4), "identifier": [{"system": RX_FILL, "value": "RX7-0"}]}
    found = report(ehr_fill, [{**copy.deepcopy(ehr_fill), "id": "hDisp.9"}])
    kept, relayed = found["dispenses"]
    assert kept["sent_as"] == [f"{HIE}/MedicationDispense/hDisp.9"] and "copy_of" not in kept
    assert relayed["copy_of"] == "eDisp.1" and "sent_as" not in relayed
    assert found["current_total_mme"] == 60.0


def test_a_fill_read_once_names_no_copy_when_there_is_none() -> None:
    found = report(fill("eRx.outside", fill_id="eDisp.1", ago=4), [])
    (line,) = found["dispenses"]
    assert "sent_as" not in line and "also sent as" not in line["explanation"]
