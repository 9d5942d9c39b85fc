"""The scopes we request: SMART v2 (`.rs`) when the server advertises permission-v2, else v1 (`.read`)."""

from __future__ import annotations

from guideline.record import READ_RESOURCE_TYPES
from launch.discovery import SmartConfiguration

# Everything the plan view reads (read + search only; we never write to the EHR).
PLAN_RESOURCES: tuple[str, ...] = READ_RESOURCE_TYPES
# online_access: a refresh token for the length of the user's session; we never ask for offline_access.
IDENTITY_SCOPES: tuple[str, ...] = ("openid", "fhirUser", "online_access")


def resource_scopes(v2: bool) -> tuple[str, ...]:
    suffix = "rs" if v2 else "read"
    return tuple(f"patient/{resource}.{suffix}" for resource in PLAN_RESOURCES)


def requested_scope(config: SmartConfiguration, *, ehr_launch: bool, override: str | None = None) -> str:
    """One dialect per request (never v1 and v2 mixed); `override` replaces the resource scopes only."""
    context = "launch" if ehr_launch else "launch/patient"
    resources = override.split() if override else list(resource_scopes(config.permission_v2))
    parts = [context, *IDENTITY_SCOPES, *resources]
    return " ".join(dict.fromkeys(p for p in parts if p))
