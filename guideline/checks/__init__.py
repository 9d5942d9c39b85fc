"""The CDC opioid checks, one module per check; `CHECKS` maps each check id to its module."""

from __future__ import annotations

from types import ModuleType

from guideline.checks import (
    acute_duration,
    er_la_opioid_naive,
    high_mme,
    naloxone,
    nonopioid_first,
    opioid_benzodiazepine,
    oud_treatment,
    pdmp_review,
    reassessment_due,
    treatment_plan,
    unexpected_uds_result,
    unidentified_medication,
    urine_drug_test,
)

# A check module holds `CHECK_ID`, `TITLE`, `HOOKS` (the hooks it can judge) and `evaluate(facts, settings)`, its card
# or None. It may also hold `data_incomplete_line(facts, failed)`: a line (what, why) for the data-incomplete card on
# what the data that card names means for the check's answer where its card is silent, or None; the engine asks it
# once every check has run (`failed`: the ids of the checks that failed on the call).
CHECKS: dict[str, ModuleType] = {
    module.CHECK_ID: module
    for module in (
        high_mme,
        opioid_benzodiazepine,
        urine_drug_test,
        unexpected_uds_result,
        naloxone,
        er_la_opioid_naive,
        acute_duration,
        reassessment_due,
        pdmp_review,
        oud_treatment,
        nonopioid_first,
        treatment_plan,
        unidentified_medication,
    )
}


def capable_hooks(check_id: str) -> frozenset[str]:
    """The hooks a check can evaluate (its module's HOOKS)."""
    return CHECKS[check_id].HOOKS
