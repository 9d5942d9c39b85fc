"""A pharmacy claim billed at place of service 34 (hospice) is hospice evidence on the days it bills, on both faces,
as an institutional hospice claim is: the payer was billed for a fill dispensed to a patient in hospice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cds_support import bundle
from test_hospice_point_of_care import both_faces, hospice_pharmacy_claim

HOSPICE = "hospice or palliative care (procedure)"


def dated(pid: str, status: str = "active", place: str = "34") -> dict[str, Any]:
    """CARIN's pharmacy claim for morphine solution dispensed on 25 March 2026 (in the card's 90 days before 15 June
    and in the review's history window of the first quarter), at place of service `place`."""
    claim = hospice_pharmacy_claim(f"rx-{pid}", pid)
    claim["status"] = status
    claim["billablePeriod"] = {"start": "2026-03-25", "end": "2026-03-25"}
    line = claim["item"][0]
    line["servicedDate"] = "2026-03-25"
    line["locationCodeableConcept"]["coding"][0]["code"] = place
    return claim


def test_a_dated_pharmacy_claim_at_the_hospice_place_of_service_excludes_on_both_faces(tmp_path: Path) -> None:
    # Before, it stood for its fill alone: neither face excluded the patient, while an institutional hospice claim
    # on the same day did, and the same claim with no date was named as a hospice claim.
    cards, detail, excluded, named = both_faces(tmp_path, lambda pid: {"procedures": bundle(dated(pid))})
    assert (cards, excluded, named) == (set(), HOSPICE, 0)


@pytest.mark.parametrize(("status", "place"), [("cancelled", "34"), ("entered-in-error", "34"), ("active", "01")])
def test_a_cancelled_pharmacy_claim_or_one_at_a_pharmacy_excludes_on_neither_face(
    tmp_path: Path, status: str, place: str
) -> None:
    cards, detail, excluded, named = both_faces(tmp_path, lambda pid: {"procedures": bundle(dated(pid, status, place))})
    assert {"high-mme", "naloxone"} <= cards and excluded is None
