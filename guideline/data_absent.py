"""What FHIR's dataAbsentReason codes say of a value sent without one: the one reading every check reads them by."""

from __future__ import annotations

# hl7.org/fhir/R4/codesystem-data-absent-reason.html. These say nothing was done to give a value: no sample tested
# (the patient declined, the workflow never asked for it), no review done.
ABSENT_NOT_PERFORMED = frozenset({"not-performed", "not-asked", "asked-declined"})
# These say something was done and gave no value that can be read, in these words.
ABSENT_UNREADABLE = {
    "error": "error, no value sent",
    "not-a-number": "value not a number",
    "unknown": "value unknown",
    "asked-unknown": "value unknown",
}
# This says the value "may become available": awaited, said in these words.
ABSENT_TO_COME = {"temp-unknown": "value temporarily unknown"}
# The others say a value stands where PainPlan does not read it (masked, as-text, not-permitted, unsupported), or was
# measured off the scale (positive-infinity, negative-infinity).


def absent_said(reason: str | None) -> str | None:
    """The words of a reason that says a value is awaited or could not be read (`ABSENT_TO_COME`,
    `ABSENT_UNREADABLE`): "value temporarily unknown", "error, no value sent"; None for any other."""
    return ABSENT_TO_COME.get(reason or "") or ABSENT_UNREADABLE.get(reason or "")


def absent_words(reason: str | None) -> str:
    """A value left absent for `reason`, as the faces name it (`absent_said`); one PainPlan does not read, "no value
    read (masked)", or "no value read" when no reason is given."""
    said = absent_said(reason)
    if said:
        return said
    return f"no value read ({reason})" if reason else "no value read"
