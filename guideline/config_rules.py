"""Type, range and consistency rules for the clinical configuration; every error names the key and the reason."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from guideline.config_codes import read_site_codes, rxnorm_list_errors
from guideline.ndc import ndc11
from guideline.searches import uds_query_error

# A window (…_days, …_months) must be a positive whole number: a zero or negative window silently empties a check.
_WINDOW = re.compile(r"(_days|_months)$")
# Days named so that are an allowance, not a window: 0 is a setting (no enrolment gap allowed at all).
ALLOWANCES = frozenset({"population.enrolment_gap_days"})
# Durations a snooze may last, the same words the feedback endpoint reads ("3 months", "90 days", "1 year").
SNOOZE_DURATION = re.compile(r"^\s*(\d+)\s*(day|days|week|weeks|month|months|year|years)\s*$", re.IGNORECASE)
POSITIVE_COUNTS = frozenset({"prefetch.page_cap", "checks.unexpected-uds-result.max_dates"})
# Upper bounds where a larger value is no site's choice but a mistake. A schedule II series written on one day may
# cover at most 90 days (21 CFR 1306.12(b)): a prescription starting further ahead is no co-prescription of today's.
MAXIMUMS = {"checks.opioid-benzodiazepine.later_start_co_prescribing_days": 90}


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a table"


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, list):
        return isinstance(value, list)
    if isinstance(default, Mapping):
        return isinstance(value, Mapping)
    return True


def _leaves(defaults: Mapping[str, Any], merged: Mapping[str, Any], path: str) -> Iterator[tuple[str, Any, Any]]:
    """(key, default, value) for every key the defaults define, walking nested tables."""
    for key, default in defaults.items():
        where = f"{path}.{key}" if path else key
        value = merged.get(key, default)
        if isinstance(default, Mapping) and default and isinstance(value, Mapping):
            yield from _leaves(default, value, where)
        else:
            yield where, default, value


def type_and_range_errors(defaults: Mapping[str, Any], merged: Mapping[str, Any], whole: frozenset[str]) -> list[str]:
    """Each value has its default's type; numbers are finite and not negative; windows are positive; `MAXIMUMS`
    hold."""
    errors = []
    for where, default, value in _leaves(defaults, merged, ""):
        if where in whole:
            continue
        if not _same_kind(default, value):
            errors.append(f"{where} must be {_type_name(default)}, not {_describe(value)}")
            continue
        if isinstance(default, list) and default and all(isinstance(item, str) for item in default):
            if not all(isinstance(item, str) for item in value):
                errors.append(f"{where} must be a list of text")
            continue
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        if not math.isfinite(value):
            errors.append(f"{where} must be a finite number, not {_describe(value)}")
        elif value < 0:
            errors.append(f"{where} must not be negative, not {_describe(value)}")
        elif ((_WINDOW.search(where) and where not in ALLOWANCES) or where in POSITIVE_COUNTS) and (
            value <= 0 or value != int(value)
        ):
            errors.append(f"{where} must be a positive whole number, not {_describe(value)}")
        elif where in MAXIMUMS and value > MAXIMUMS[where]:
            errors.append(f"{where} must be at most {MAXIMUMS[where]}, not {_describe(value)}")
    return errors


def consistency_errors(merged: Mapping[str, Any], hooks: tuple[str, ...]) -> list[str]:
    """Settings that are each valid but contradict one another, and open tables with values we must read."""
    errors = []
    checks = merged["checks"]
    high = checks["high-mme"]
    if _numbers(high["warning_mme"], high["critical_mme"]) and high["warning_mme"] >= high["critical_mme"]:
        errors.append(
            f"checks.high-mme.warning_mme ({high['warning_mme']}) must be below "
            f"checks.high-mme.critical_mme ({high['critical_mme']})"
        )
    acute = checks["acute-duration"]
    if _numbers(acute["info_days"], acute["warning_days"]) and acute["info_days"] > acute["warning_days"]:
        errors.append(
            f"checks.acute-duration.info_days ({acute['info_days']}) must not be above "
            f"checks.acute-duration.warning_days ({acute['warning_days']})"
        )
    for reason, duration in merged["snooze"]["durations"].items():
        if not isinstance(duration, str) or not SNOOZE_DURATION.match(duration):
            errors.append(
                f"snooze.durations.{reason} must read like '3 months' or '90 days', not {_describe(duration)}"
            )
    for code, alias in merged["mme"]["ingredient_code_aliases"].items():
        if not isinstance(alias, str) or not alias.strip():
            errors.append(f"mme.ingredient_code_aliases.{code} must be an RxNorm code as text")
    errors.extend(ndc_crosswalk_errors(merged["ndc"]["rxnorm"]))
    errors.extend(read_site_codes(merged)[1])
    errors.extend(rxnorm_list_errors(merged))
    uds_query = uds_query_error(merged["prefetch"]["uds_query"])
    if uds_query:
        errors.append(uds_query)
    both = _lowered(merged["ambulatory_categories"]) & _lowered(merged["inpatient_categories"])
    if both:
        errors.append(
            f"ambulatory_categories and inpatient_categories both list {', '.join(sorted(both))}: an order of that "
            "category cannot be both"
        )
    for check_id, table in checks.items():
        errors.extend(_hook_errors(check_id, table.get("hooks"), hooks))
    return errors


def _lowered(categories: Any) -> set[str]:
    return {str(c).strip().lower() for c in categories} if isinstance(categories, list) else set()


def ndc_crosswalk_errors(table: Any, where: str = "ndc.rxnorm") -> list[str]:
    """What is wrong with an NDC → RxNorm table: each key an NDC in a layout that is not ambiguous, each value an
    RxNorm code as text, each NDC (in whatever layouts) one code. The first few are named, then counted."""
    if not isinstance(table, dict):
        return [f"{where} must be a table of NDC = RxNorm code"]
    errors = [
        f"{where}.{ndc}: {problem}"
        for ndc, rxcui in table.items()
        for problem in (_ndc_problem(ndc, rxcui),)
        if problem
    ]
    if not errors:
        entries = list(table.items())
        errors = [
            f"{where}.{entries[later][0]}: maps the NDC of {where}.{entries[first][0]} "
            f"(to {entries[first][1].strip()}) to another RxNorm code, {entries[later][1].strip()}"
            for first, later in ndc_clashes(entries)
        ]
    if len(errors) > 5:
        errors = [*errors[:5], f"{where}: and {len(errors) - 5} more entries like these"]
    return errors


def ndc_clashes(entries: Sequence[tuple[str, str]]) -> list[tuple[int, int]]:
    """Each entry mapping the NDC of an earlier one (in any layout) to another RxNorm code, as (earlier, later)
    positions. One product per NDC: keeping either without a word would misread every fill of the other."""
    first: dict[str, int] = {}
    clashes = []
    for at, (ndc, rxcui) in enumerate(entries):
        seen = first.setdefault(ndc11(ndc) or ndc, at)
        if entries[seen][1].strip() != rxcui.strip():
            clashes.append((seen, at))
    return clashes


def _ndc_problem(ndc: Any, rxcui: Any) -> str | None:
    if ndc11(ndc if isinstance(ndc, str) else None) is None:
        return "is not an NDC of 11 digits or 10 with hyphens (4-4-2, 5-3-2 or 5-4-1)"
    if not isinstance(rxcui, str) or not rxcui.strip().isdigit():
        return f"must map to an RxNorm code as text (digits), not {_describe(rxcui)}"
    return None


def _hook_errors(check_id: str, configured: Any, hooks: tuple[str, ...]) -> list[str]:
    where = f"checks.{check_id}.hooks"
    if not isinstance(configured, list) or not all(isinstance(hook, str) for hook in configured):
        return [f"{where} must be a list of hook names"]
    unknown = sorted(set(configured) - set(hooks))
    if unknown:
        return [f"{where} has unknown hooks: {', '.join(unknown)} (known: {', '.join(hooks)})"]
    # Whether the check can evaluate each known hook is checked beside the checks' own HOOKS (guideline.config).
    return []


def _numbers(*values: Any) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
