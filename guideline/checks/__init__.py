"""The CDC opioid checks, one module per check; `CHECKS` maps each check id to its module."""

from __future__ import annotations

from types import ModuleType

from guideline.checks import (
    acute_duration,
    er_la_opioid_naive,
    high_mme,
    nonopioid_first,
    pdmp_review,
    reassessment_due,
    treatment_plan,
)

CHECKS: dict[str, ModuleType] = {
    module.CHECK_ID: module
    for module in (
        high_mme,
        er_la_opioid_naive,
        acute_duration,
        reassessment_due,
        pdmp_review,
        nonopioid_first,
        treatment_plan,
    )
}
