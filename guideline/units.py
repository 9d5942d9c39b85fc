"""A unit as EHRs spell it, read as one key: the one place doses, strengths and durations tidy unit words.

Three readings, kept apart because they answer differently for a few spellings (each caller's answers are as they
were; which should win is a clinical decision, not a tidy-up):

- `unit_key`: trimmed, lower case, UCUM annotation braces dropped. Strengths read their denominator by it.
- `normalise_unit`: `unit_key`, and a trailing "(s)", "(es)", "(ies)" or full stop dropped, spaces collapsed. Doses,
  dispense quantities and count words read by it.
- `duration_key`: trimmed, lower case, "(s)" anywhere made "s", braces dropped at the ends only. Days' supplies,
  timing bounds and maxDosePerPeriod denominators read by it. Unlike `normalise_unit`, "min(s)", "wk(s)", "mo(s)" and
  "days." name no duration unit here (they read "mins", "wks", "mos", "days.").
"""

from __future__ import annotations

import re

_PLURAL_MARK = re.compile(r"\((?:e?s|ies)\)$")
_SPACES = re.compile(r"\s+")


def unit_key(raw: str) -> str:
    """A unit trimmed, in lower case, without UCUM annotation braces: " {Tablets} " → "tablets"."""
    return raw.strip().lower().replace("{", "").replace("}", "")


def normalise_unit(raw: str | None) -> str | None:
    """A unit as EHRs spell it, as one key: "mg(s)", "MG.", "{tbl}", "patch(es)" → "mg", "mg", "tbl", "patch"."""
    if raw is None:
        return None
    key = _PLURAL_MARK.sub("", unit_key(raw).strip().rstrip(".")).rstrip(".").strip()
    return _SPACES.sub(" ", key) or None


def duration_key(raw: str) -> str:
    """A duration's unit as its table is keyed: "Day(s)" → "days", "{days}" → "days" (see the module's note on how
    this differs from `normalise_unit`)."""
    return raw.strip().lower().replace("(s)", "s").strip("{}")
