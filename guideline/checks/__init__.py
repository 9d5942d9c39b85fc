"""The CDC opioid checks, one module per check; `CHECKS` maps each check id to its module."""

from __future__ import annotations

from types import ModuleType

from guideline.checks import high_mme

CHECKS: dict[str, ModuleType] = {module.CHECK_ID: module for module in (high_mme,)}
