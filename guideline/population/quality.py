"""Data-quality counts: what a run could not read or attribute, merged across patients, buckets and engines."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Quality:
    """Counts a run reports in data-quality.json; `merge` adds another's counts (one per bucket or worker)."""

    malformed_lines: int = 0
    resources_by_type: Counter[str] = field(default_factory=Counter)
    unexpected_resource_types: Counter[str] = field(default_factory=Counter)
    resources_without_patient: int = 0
    unreadable_resources: int = 0
    fills_without_days_supply: int = 0
    # Opioid fills in the period whose prescriber, or pharmacy, no reference names: they count towards no distinct
    # prescriber or pharmacy (the OMP measure), so a high number means OMP is undercounted.
    fills_without_prescriber: int = 0
    fills_without_pharmacy: int = 0
    fills_without_date: int = 0
    # A fill of a medication that matters (not "not relevant") whose status is neither completed nor absent: status →
    # fills. Cancelled and entered-in-error fills rightly do not count; in-progress or unknown ones are a site's call.
    fills_not_counted_by_status: Counter[str] = field(default_factory=Counter)
    orders_without_date: int = 0
    # Orders of a medication that matters left out for their status (neither active nor completed): status → orders.
    orders_not_counted_by_status: Counter[str] = field(default_factory=Counter)
    # Active or completed orders of a medication that matters left out because they are no prescription: intent →
    # orders ("plan (reported as taken)" for a medication documented as taken, prescribed elsewhere).
    orders_not_counted_by_intent: Counter[str] = field(default_factory=Counter)
    unidentified_medications: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    unattributed_patients: int = 0
    attributed_to_prescriber: int = 0
    # Patients assigned to a practice (generalPractitioner an Organization) with no clinician named: the practice's.
    attributed_to_practice: int = 0
    patients_from_orders: int = 0
    patients_not_evaluated: int = 0
    evaluation_errors: Counter[str] = field(default_factory=Counter)  # error type → patients
    # Practitioners, roles or organisations sent in differing versions under one id (two export files, say): the
    # newest was read, so the name on a letter does not depend on the order the engine read the files in.
    directory_conflicts: int = 0
    # Claims (ExplanationOfBenefit) read as the fills, diagnoses and procedures they stand for, and those that stood
    # for none (no coded line or diagnosis, or cancelled).
    claims_read: int = 0
    claims_not_read: int = 0

    def merge(self, other: Quality) -> Quality:
        for name in self.__dataclass_fields__:
            mine, theirs = getattr(self, name), getattr(other, name)
            if isinstance(mine, Counter):
                mine.update(theirs)
            else:
                setattr(self, name, mine + theirs)
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "malformed_lines": self.malformed_lines,
            "resources_by_type": dict(sorted(self.resources_by_type.items())),
            "unexpected_resource_types": dict(sorted(self.unexpected_resource_types.items())),
            "resources_without_patient": self.resources_without_patient,
            "unreadable_resources": self.unreadable_resources,
            "fills_without_days_supply": self.fills_without_days_supply,
            "fills_without_prescriber": self.fills_without_prescriber,
            "fills_without_pharmacy": self.fills_without_pharmacy,
            "fills_without_date": self.fills_without_date,
            "fills_not_counted_by_status": dict(sorted(self.fills_not_counted_by_status.items())),
            "orders_without_date": self.orders_without_date,
            "orders_not_counted_by_status": dict(sorted(self.orders_not_counted_by_status.items())),
            "orders_not_counted_by_intent": dict(sorted(self.orders_not_counted_by_intent.items())),
            "unidentified_medications": [
                {"system": system, "code": code, "text": text, "count": count}
                for (system, code, text), count in sorted(
                    self.unidentified_medications.items(), key=lambda item: (-item[1], item[0])
                )
            ],
            "unattributed_patients": self.unattributed_patients,
            "attributed_to_prescriber": self.attributed_to_prescriber,
            "attributed_to_practice": self.attributed_to_practice,
            "patients_from_orders": self.patients_from_orders,
            "patients_not_evaluated": self.patients_not_evaluated,
            "evaluation_errors": dict(sorted(self.evaluation_errors.items())),
            "directory_conflicts": self.directory_conflicts,
            "claims_read": self.claims_read,
            "claims_not_read": self.claims_not_read,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Quality:
        quality = cls()
        for name in (
            "resources_by_type",
            "unexpected_resource_types",
            "fills_not_counted_by_status",
            "orders_not_counted_by_status",
            "orders_not_counted_by_intent",
            "evaluation_errors",
        ):
            getattr(quality, name).update(data.get(name, {}))
        for item in data.get("unidentified_medications", []):
            quality.unidentified_medications[(item["system"], item["code"], item["text"])] += item["count"]
        for name, value in data.items():
            if isinstance(value, int):
                setattr(quality, name, value)
        return quality

    def summary_lines(self) -> list[str]:
        """The end-of-run summary: every count that is not zero, in words."""
        unidentified = sum(self.unidentified_medications.values())
        parts = [
            (self.malformed_lines, "malformed lines skipped"),
            (
                sum(self.unexpected_resource_types.values()),
                "resources of types the review does not read, ignored ("
                + ", ".join(f"{kind} {count}" for kind, count in self.unexpected_resource_types.most_common(5))
                + ")",
            ),
            (self.resources_without_patient, "patient resources without a patient reference"),
            (self.unreadable_resources, "resources that could not be read"),
            (self.fills_without_days_supply, "opioid fills without days' supply (left out of MME)"),
            (self.fills_without_prescriber, "opioid fills naming no prescriber (OMP may be undercounted)"),
            (self.fills_without_pharmacy, "opioid fills naming no pharmacy (OMP may be undercounted)"),
            (self.fills_without_date, "fills without a date"),
            (
                sum(self.fills_not_counted_by_status.values()),
                "fills not counted for their status (" + _by_count(self.fills_not_counted_by_status) + ")",
            ),
            (self.orders_without_date, "orders without a start date (left out)"),
            (
                sum(self.orders_not_counted_by_status.values()),
                "orders not counted for their status (" + _by_count(self.orders_not_counted_by_status) + ")",
            ),
            (
                sum(self.orders_not_counted_by_intent.values()),
                "orders not counted for their intent (" + _by_count(self.orders_not_counted_by_intent) + ")",
            ),
            (self.claims_read, "claims read as the fills, diagnoses and procedures they stand for"),
            (self.claims_not_read, "claims with no drug line, diagnosis or procedure to read, or cancelled (left out)"),
            (unidentified, f"medications not identified ({len(self.unidentified_medications)} distinct)"),
            (self.unattributed_patients, "patients attributed to no clinician"),
            (self.attributed_to_prescriber, "patients without a PCP attributed to their main prescriber"),
            (self.attributed_to_practice, "patients assigned to a practice with no clinician named (the practice's)"),
            (self.patients_from_orders, "patients whose numbers come from orders, not fills"),
            (
                self.patients_not_evaluated,
                "patients the engine could not evaluate, left out of every measure ("
                + ", ".join(f"{name} {count}" for name, count in self.evaluation_errors.most_common(3))
                + ")",
            ),
            (
                self.directory_conflicts,
                "practitioners, roles or organisations sent in differing versions under one id (the newest was read)",
            ),
        ]
        return [f"{count} {words}" for count, words in parts if count]


def _by_count(counts: Counter[str]) -> str:
    """ "in-progress 3, on-hold 1": the most frequent first, ties by name."""
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items(), key=lambda i: (-i[1], i[0])))
