"""The passes that word a renewal's line after the pairs are weighed run in one order, held by their types, not by
comments: `counted_once` -> `named_series_beside` -> `fills_counted_once` -> `named_unlinked`. Each reads the step
the one before returns; run too early, a pass is refused (TypeError) instead of naming an order the total leaves
out. On Epic-shaped orders (`test_renewals9_beside_draft`): Dr Adams's staggered oxycodone 5 mg series on its day 30,
Dr Baker's signed renewal eOxy.R of its first prescription and a draft eOxy.D with no priorPrescription."""

from __future__ import annotations

from decimal import Decimal

import pytest
from test_later4_series_renewal import DR_BAKER
from test_renewals9_beside_draft import renewal_of_first, sign, unlinked_draft

from guideline.facts import Facts
from guideline.mme import MmeSummary, compute_mme
from guideline.renewals import (
    AllCounted,
    PairsCounted,
    counted_once,
    fills_counted_once,
    named_series_beside,
    named_unlinked,
)


def facts() -> Facts:
    return sign(renewal_of_first(DR_BAKER), draft=unlinked_draft()).facts


def weighed(found: Facts) -> MmeSummary:
    """The current opioids' MME before any pair is counted once."""
    return compute_mme(found.current_opioids, found.terms, found.config)


def test_the_passes_in_their_order_give_the_total_the_card_reads() -> None:
    found = facts()
    pairs = named_series_beside(counted_once(weighed(found), found.implied_renewals), found.series_beside)
    counted = named_unlinked(
        fills_counted_once(pairs, found.fill_mme, found.reorders),
        found.series_links,
        found.series_beside,
        found.drug_key,
        found.today,
    )
    assert isinstance(pairs, PairsCounted) and isinstance(counted, AllCounted)
    assert counted.summary.total == found.mme.total == Decimal(120)
    words = {r.order.id: r.explanation for r in counted.summary.orders}
    assert words == {r.order.id: r.explanation for r in found.mme.orders}
    assert "order eOxy.2 is counted once with order eOxy.D, read as one regimen" in words["eOxy.R"]


def test_the_series_words_before_the_pairs_are_counted_once_are_refused() -> None:
    # Before the pairs are counted once, eOxy.2 (left out for the draft) looked counted: the words asked its
    # prescriber about an order the total did not hold.
    found = facts()
    with pytest.raises(TypeError, match="named_series_beside reads PairsCounted"):
        named_series_beside(weighed(found), found.series_beside)  # type: ignore[arg-type]


def test_the_last_words_before_the_fills_are_counted_once_are_refused() -> None:
    found = facts()
    pairs = named_series_beside(counted_once(weighed(found), found.implied_renewals), found.series_beside)
    with pytest.raises(TypeError, match="named_unlinked reads AllCounted, not PairsCounted"):
        named_unlinked(pairs, found.series_links, found.series_beside, found.drug_key, found.today)  # type: ignore[arg-type]


def test_the_series_words_after_the_last_pass_are_refused() -> None:
    found = facts()
    pairs = counted_once(weighed(found), found.implied_renewals)
    counted = fills_counted_once(pairs, found.fill_mme, found.reorders)
    with pytest.raises(TypeError, match="named_series_beside reads PairsCounted, not AllCounted"):
        named_series_beside(counted, found.series_beside)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="fills_counted_once reads PairsCounted, not AllCounted"):
        fills_counted_once(counted, found.fill_mme, found.reorders)  # type: ignore[arg-type]
