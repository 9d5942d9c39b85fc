"""The values the app is set with, and the prefix of their variables: loaded by smart_app.config and checked by
smart_app.settings_rules, so the rules need not import the module that calls them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from cds_hooks.settings import CdsSettings
from guideline.config import GuidelineConfig
from launch.settings import LaunchSettings
from smart_app.date_limits import FOLLOW_UP_YEARS, GOAL_DUE_YEARS

ENV_PREFIX = "PAINPLAN_"


@dataclass(frozen=True)
class SettingsFields:
    """Every setting's value and default; smart_app.config.Settings adds what each face reads from them."""

    # A face's own settings take their defaults from the face, so the two can never disagree.
    public_url: str = CdsSettings.public_url
    auth: str = CdsSettings.auth
    trusted_clients: str = CdsSettings.trusted_clients
    cors_origins: tuple[str, ...] = CdsSettings.cors_origins
    database_url: str = ""
    fhir_timeout: float = CdsSettings.fhir_timeout
    fhir_budget_bytes: int = CdsSettings.fhir_budget_bytes
    location_cache_seconds: float = CdsSettings.location_cache_seconds
    today: date | None = CdsSettings.today
    allow_http: bool = CdsSettings.allow_http
    secret_key: str = ""
    smart_clients: str = LaunchSettings.smart_clients
    smart_default_iss: str = LaunchSettings.smart_default_iss
    frame_ancestors: tuple[str, ...] = LaunchSettings.frame_ancestors
    write_back: bool = LaunchSettings.write_back
    goal_due_years: int = GOAL_DUE_YEARS  # how far ahead a goal written back may be due
    follow_up_years: int = FOLLOW_UP_YEARS  # how far ahead a follow-up written back may be
    max_body_bytes: int = CdsSettings.max_body_bytes
    ehr_fhir_version: str = CdsSettings.ehr_fhir_version
    host: str = "127.0.0.1"
    port: int = 8765
    workers: int = 4
    threads: int = 4
    read_timeout: float = 10.0
    queue_patience: float = 1.0
    metrics_token: str = ""
    population_root: str = ""
    population_token: str = ""
    population_export_clients: str = ""
    demo: bool = False
    instance_path: str = ""
    log_level: str = "INFO"
    guideline: GuidelineConfig = field(default_factory=GuidelineConfig.from_mapping)
