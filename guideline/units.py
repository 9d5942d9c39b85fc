"""A unit as EHRs spell it, read as one key: the one place doses, strengths and durations tidy unit words.

Two readings:

- `unit_key`: trimmed, lower case, UCUM annotation braces dropped. Strengths read their denominator by it (an hour
  by `normalise_unit`, so "hour(s)" and "hrs" are hours there too).
- `normalise_unit`: `unit_key`, and a trailing "(s)", "(es)", "(ies)" or full stop dropped, spaces collapsed. Doses,
  dispense quantities, count words and durations (days' supplies, timing bounds, maxDosePerPeriod periods) read by
  it: durations once had a reading of their own, under which "24 hr", "min(s)", "wk(s)" and "days." named no unit.
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
