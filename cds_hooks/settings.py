"""The settings the CDS Hooks face reads; the app's loader builds them from PAINPLAN_* variables and TOML."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from cds_hooks.ehr_release import AUTO, setting_value
from cds_hooks.location_cache import DEFAULT_LOCATION_CACHE_SECONDS
from guideline.config import GuidelineConfig

DEFAULT_FHIR_BUDGET_BYTES = 16 * 1024 * 1024  # all FHIR answers of one hook call together


@dataclass(frozen=True)
class CdsSettings:
    """Authentication, limits and the clinical configuration of the hook services."""

    public_url: str = "http://127.0.0.1:8765"
    auth: str = "required"
    trusted_clients: str = ""
    cors_origins: tuple[str, ...] = ()
    fhir_timeout: float = 2.5
    fhir_budget_bytes: int = DEFAULT_FHIR_BUDGET_BYTES
    location_cache_seconds: float = DEFAULT_LOCATION_CACHE_SECONDS  # how long a Location read is remembered
    today: date | None = None
    allow_http: bool = False
    max_body_bytes: int = 5 * 1024 * 1024
    # The FHIR release suggested resources are written in: auto (worked out per call), R4, STU3 or DSTU2.
    ehr_fhir_version: str = AUTO
    guideline: GuidelineConfig = field(default_factory=GuidelineConfig.from_mapping)

    def __post_init__(self) -> None:
        # As PainPlan spells it ("stu3" -> "STU3"); the loader has refused a value it does not take.
        object.__setattr__(self, "ehr_fhir_version", setting_value(self.ehr_fhir_version) or self.ehr_fhir_version)

    @property
    def auth_required(self) -> bool:
        return self.auth != "off"

    def evaluation_now(self) -> datetime:
        """The moment checks are evaluated at: noon local time on the pinned date (tests, demos), else now."""
        tz = ZoneInfo(self.guideline["timezone"])
        if self.today is not None:
            return datetime.combine(self.today, time(12, 0), tzinfo=tz)
        return datetime.now(tz)
