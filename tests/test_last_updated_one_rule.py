"""A resource sent twice is read as the same copy by the hooks and the plan page (guideline.record) and by the
population review (guideline.population.versions): both read its meta.lastUpdated by one rule, zone and all."""

from __future__ import annotations

from itertools import permutations
from typing import Any

import pytest
from builders import TZ

from guideline.population.quality import Quality
from guideline.population.versions import newest_versions
from guideline.record import build_record
from guideline.record.copies import which_newer
from guideline.versions import Stamp, last_updated, version_rank

OXYCODONE_5 = {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1049621"}

# meta.lastUpdated as servers and converters write it: Epic (UTC, Z), Oracle Health (an offset and milliseconds), a
# C-CDA conversion with no zone, an offset without its colon, a day, a month or a year alone (claims converters), the
# ISO basic format and an hour with no minutes (neither a FHIR instant), and nothing readable.
STAMPS: tuple[str | None, ...] = (
    "2026-06-10T14:03:22Z",
    "2026-06-10T10:03:22.000-04:00",
    "2026-06-10T10:03:22",
    "2026-06-10T23:30:00+05:30",
    "2026-06-10T10:00:00+0530",
    "2026-06-10",
    "2026-06-11",
    "2026-06",
    "2026-05",
    "2026",
    "20260610T100000Z",
    "2026-06-10T10",
    "2026-06-12T01:00:00",
    None,
    "yesterday",
)


def fill(status: str, stamp: str | None, ident: str = "md-1") -> dict[str, Any]:
    """A MedicationDispense as a payer's export sends it, with its meta.lastUpdated."""
    meta = {"lastUpdated": stamp} if stamp is not None else {}
    return {
        "resourceType": "MedicationDispense",
        "id": ident,
        "meta": meta,
        "status": status,
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"coding": [OXYCODONE_5]},
        "whenHandedOver": "2026-04-20",
        "quantity": {"value": 60},
        "daysSupply": {"value": 30},
    }


@pytest.mark.parametrize("stamp", STAMPS)
def test_a_stamp_is_dated_for_the_review_exactly_when_the_record_reads_it(stamp: str | None) -> None:
    # Before: the review read "2026-06" and "2026" as undated, and the basic format, which the record names as
    # unreadable, as a date.
    assert version_rank(fill("completed", stamp))[0] == isinstance(last_updated(fill("completed", stamp)), Stamp)


@pytest.mark.parametrize(("first", "second"), list(permutations(STAMPS, 2)))
def test_the_review_puts_first_the_copy_the_record_calls_newer(first: str | None, second: str | None) -> None:
    kept, other = fill("completed", first), fill("entered-in-error", second)
    order = which_newer(kept, other)
    if order.newer > 0:
        assert version_rank(other) > version_rank(kept)
    elif order.newer < 0:
        assert version_rank(kept) > version_rank(other)


def test_a_fill_dated_by_its_month_is_read_alike_by_the_hooks_and_the_review() -> None:
    """The fill of May, sent again as an April copy entered in error: both faces read the May copy, as completed."""
    may, april = fill("completed", "2026-05"), fill("entered-in-error", "2026-04-28T09:00:00Z")
    for resources in ([may, april], [april, may]):
        (kept,) = newest_versions(resources, Quality())
        assert kept["status"] == "completed"
        record = build_record(resources, TZ)
        assert [d.status for d in record.dispenses] == ["completed"]
