"""The card model every check returns; faces turn it into CDS Hooks JSON or plan-view HTML."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Indicator = Literal["info", "warning", "critical"]

INDICATOR_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}

SUMMARY_LIMIT = 139


@dataclass(frozen=True, slots=True)
class OverrideReason:
    system: str
    code: str
    display: str


@dataclass(frozen=True, slots=True)
class Link:
    """An absolute link, or (type "smart") a link to the plan view; `view` goes into appContext."""

    label: str
    url: str = ""
    type: Literal["absolute", "smart"] = "absolute"
    view: str | None = None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One suggestion with exactly one action (Epic allows one action per suggestion)."""

    label: str
    action: Literal["create", "delete"]
    description: str
    is_recommended: bool = False
    resource: Mapping[str, Any] | None = None
    resource_id: str | None = None


@dataclass(frozen=True)
class Card:
    """A check's finding, in our words, with the evidence the clinician needs to act on it."""

    check_id: str
    indicator: Indicator
    summary: str
    detail: str
    suggestions: tuple[Suggestion, ...] = ()
    links: tuple[Link, ...] = ()
    override_reasons: tuple[OverrideReason, ...] = ()
    view: str = "plan"
    orders: tuple[str, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)
    # False for a finding a snooze must not hide: a snooze is per check and patient, not per finding, so one set
    # for an earlier finding would silence a different one (a new order nobody could identify).
    snoozable: bool = True

    def __post_init__(self) -> None:
        if not self.summary or len(self.summary) > SUMMARY_LIMIT:
            raise ValueError(f"{self.check_id}: summary must be 1..{SUMMARY_LIMIT} characters")


@dataclass(frozen=True, slots=True)
class Snooze:
    """A clinician's override that silences one check for one patient (and maybe one user) until a date."""

    check_id: str
    patient_id: str
    until: datetime
    indicator: Indicator
    user_id: str | None = None
    reason: str | None = None
    set_at: datetime | None = None
