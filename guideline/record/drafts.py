"""The draft orders whose identity is in doubt: an id two differing drafts share, a subject that is another patient.

Drafts are the orders being signed: each is counted whatever its id or subject says, and the doubt is named."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from guideline.record.identity import same_apart_from_source


class Repeat(Enum):
    """What a draft is beside the drafts read before it with its type and id."""

    FIRST = "first"  # no earlier draft has its id: read as any resource
    UNCHANGED = "unchanged"  # an earlier draft says the same: one order sent twice, read once (as the chart's copies)
    CLASH = "clash"  # it differs from each earlier one: another order being signed, read as its own


def _positions(indexes: list[int]) -> str:
    """Where drafts sat in draftOrders, in words: "draft order 2", "draft orders 1 and 2", "draft orders 1, 2 and 4"."""
    numbers = [str(index + 1) for index in indexes]
    if len(numbers) == 1:
        return f"draft order {numbers[0]}"
    return f"draft orders {', '.join(numbers[:-1])} and {numbers[-1]}"


def _named(kind: str, resource_id: str | None, indexes: list[int]) -> str:
    """A draft (or drafts of one id) by type, id and position: never its contents."""
    named = f"{kind[:40]}/{resource_id}" if resource_id else kind[:40]
    return f"{named} ({_positions(indexes)})"


@dataclass
class DraftIdentities:
    """The drafts met so far by type and id, and those of another patient, while a record is read."""

    _by_id: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    _found: dict[int, Mapping[str, Any]] = field(default_factory=dict)
    _elsewhere: list[str] = field(default_factory=list)

    def repeat(self, kind: str, resource_id: str, index: int, resource: Mapping[str, Any]) -> Repeat:
        """What the draft at `index` is beside the earlier drafts of its type and id (kept for the ones after it)."""
        earlier = self._by_id.setdefault((kind, resource_id), [])
        if any(same_apart_from_source(self._found[e], resource) for e in earlier):
            return Repeat.UNCHANGED
        earlier.append(index)
        self._found[index] = resource
        return Repeat.FIRST if len(earlier) == 1 else Repeat.CLASH

    def of_another_patient(self, kind: str, resource_id: str | None, index: int) -> None:
        """Notes the draft at `index` names another patient than the one in context."""
        self._elsewhere.append(_named(kind, resource_id, [index]))

    def clashes(self) -> tuple[str, ...]:
        """Each id that differing drafts share, with the drafts' positions, in the order the ids were first met."""
        return tuple(_named(kind, rid, indexes) for (kind, rid), indexes in self._by_id.items() if len(indexes) > 1)

    def of_other_patients(self) -> tuple[str, ...]:
        """Each draft whose subject is another patient."""
        return tuple(self._elsewhere)
