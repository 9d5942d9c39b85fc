"""The hook call a check runs for: which hook, whose chart, which user, which orders are newly selected."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HookContext:
    hook: str  # "order-select" | "order-sign" | "patient-view"
    patient_id: str | None
    user_id: str | None = None
    encounter_id: str | None = None
    selections: tuple[str, ...] = ()  # order-select context.selections, e.g. "MedicationRequest/<id>"
