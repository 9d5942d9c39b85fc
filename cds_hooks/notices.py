"""PainPlan's own notice cards, apart from the checks' findings: what the card store and the analytics tell apart."""

from __future__ import annotations

DATA_INCOMPLETE = "data-incomplete"
CHECKS_NOT_RUN = "checks-not-run"

# Not a check's finding: they rest on no data, so their cards are issued neither on complete nor on incomplete records
# (the data-incomplete card is itself the notice that records were incomplete).
NOTICES = frozenset({DATA_INCOMPLETE, CHECKS_NOT_RUN})
