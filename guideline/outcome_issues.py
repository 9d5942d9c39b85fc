"""Whether a server's OperationOutcome issue says its answer is not all there: one rule for every face."""

from __future__ import annotations

from typing import Any

# Epic's OID root: its message codes sit under it, and Epic's 4119 "Additional data may be present for patient." is
# sent beside results when the user may not see all of them (restricted or sensitive records).
EPIC_OID = "urn:oid:1.2.840.114350."
_EPIC_WITHHELD = "4119"
_WITHHELD_TEXT = "additional data may be present"

# HL7 issue types saying not everything was sent, whatever the severity: records withheld ("suppressed", by business,
# consent or privacy rules), a source that did not answer ("incomplete", "timeout", "throttled"), a search cut short
# for its cost ("too-costly": HAPI's and others' "too many results"). Other notes beside results (HAPI's
# "informational" on how a search was read, Epic's 4117 on one immunization without a CVX code) are no gap.
# Retrying a write is another question (smart_app.write.send's TRANSIENT_ISSUES): it asks whether to send again.
NOT_ALL_SENT_CODES = frozenset({"incomplete", "suppressed", "too-costly", "throttled", "timeout"})


def says_not_all_sent(issue: Any) -> bool:
    """Whether an OperationOutcome issue says results were withheld, cut short or may be missing."""
    if not isinstance(issue, dict):
        return False
    code = issue.get("code")
    if isinstance(code, str) and code.strip().lower() in NOT_ALL_SENT_CODES:
        return True
    details = issue.get("details")
    if not isinstance(details, dict):
        details = {}
    for coding in details.get("coding") or []:
        epic = isinstance(coding, dict) and str(coding.get("system") or "").startswith(EPIC_OID)
        if epic and str(coding.get("code") or "") == _EPIC_WITHHELD:
            return True
    return _WITHHELD_TEXT in str(details.get("text") or "").lower()
