"""The demo patients: FHIR R4 bundles written at a fixed anchor date, moved to the evaluation date on load."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

DATA_DIR = Path(__file__).resolve().parent
HOOKS = ("order-sign", "patient-view")

# A full FHIR date, optionally followed by a time and an offset. Partial dates (YYYY, YYYY-MM) are left alone:
# moving them by days is meaningless, and the bundles do not use them.
_DATE_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?$")


@dataclass(frozen=True)
class DemoOrder:
    """The order the story is about, as choices in the demo EHR's order form."""

    drug: str
    sig: str
    days: int
    refills: int = 0
    replaces: str | None = None


@dataclass(frozen=True)
class DemoPatient:
    id: str
    name: str
    title: str
    story: str
    expected: Mapping[str, tuple[str, ...]]
    order: DemoOrder
    bundle: Mapping[str, Any]

    def resources(self, resource_type: str | None = None) -> list[dict[str, Any]]:
        """The bundle's resources, optionally of one type."""
        found = [entry["resource"] for entry in self.bundle.get("entry", [])]
        return [r for r in found if resource_type is None or r.get("resourceType") == resource_type]


def shift_dates(value: Any, days: int) -> Any:
    """A copy of a JSON value with every date, dateTime and instant moved by `days`.

    Only the calendar date changes: the time of day and the UTC offset are kept exactly as written.
    """
    if isinstance(value, dict):
        return {key: shift_dates(item, days) for key, item in value.items()}
    if isinstance(value, list):
        return [shift_dates(item, days) for item in value]
    if isinstance(value, str) and days:
        match = _DATE_PREFIX.match(value)
        if match:
            try:
                moved = date.fromisoformat(match.group(1)) + timedelta(days=days)
            except ValueError:
                return value
            return moved.isoformat() + (match.group(2) or "")
    return value


@cache
def _manifest() -> dict[str, Any]:
    return json.loads((DATA_DIR / "patients.json").read_text(encoding="utf-8"))


@cache
def _raw_bundle(file_name: str) -> dict[str, Any]:
    return json.loads((DATA_DIR / file_name).read_text(encoding="utf-8"))


def anchor_date() -> date:
    """The date the bundles are written for; each bundle's `timestamp` states it too."""
    return date.fromisoformat(_manifest()["anchor"])


def _display_name(bundle: Mapping[str, Any]) -> str:
    for entry in bundle.get("entry", []):
        resource = entry.get("resource", {})
        if resource.get("resourceType") == "Patient":
            name = (resource.get("name") or [{}])[0]
            return " ".join([*name.get("given", []), name.get("family", "")]).strip()
    return "unnamed patient"


def load_demo_patients(today: date) -> dict[str, DemoPatient]:
    """Every demo patient, keyed by Patient id, with its bundle's dates moved so the anchor becomes `today`."""
    offset = (today - anchor_date()).days
    patients: dict[str, DemoPatient] = {}
    for item in _manifest()["patients"]:
        bundle = shift_dates(_raw_bundle(item["file"]), offset)
        order = item["order"]
        patients[item["id"]] = DemoPatient(
            id=item["id"],
            name=_display_name(bundle),
            title=item["title"],
            story=item["story"],
            expected=MappingProxyType({hook: tuple(item["expected"].get(hook, ())) for hook in HOOKS}),
            order=DemoOrder(
                drug=order["drug"],
                sig=order["sig"],
                days=int(order["days"]),
                refills=int(order.get("refills", 0)),
                replaces=order.get("replaces"),
            ),
            bundle=bundle,
        )
    return patients
